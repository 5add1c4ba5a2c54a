#include "xj/checks/check.hpp"

#include <exception>

namespace xj {

std::chrono::milliseconds RunContext::remaining() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(deadline -
                                                               std::chrono::steady_clock::now());
}

Result Check::make_result() const {
  Result r;
  r.check = id_;
  r.kind = kind_;
  r.status = Status::kOk;
  r.ts_ms = now_epoch_ms();
  return r;
}

Result Check::unknown(std::string reason) const { return unknown_result(id_, kind_, std::move(reason)); }

Result run_guarded(Check& check, const RunContext& ctx) {
  auto started = std::chrono::steady_clock::now();
  std::int64_t ts = now_epoch_ms();
  Result r;
  try {
    r = check.run(ctx);
  } catch (const std::exception& e) {
    r = unknown_result(check.id(), check.kind(), std::string("internal error: ") + e.what());
  } catch (...) {
    r = unknown_result(check.id(), check.kind(), "internal error");
  }
  r.check = check.id();
  r.kind = check.kind();
  r.ts_ms = ts;
  r.duration_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::steady_clock::now() - started)
                      .count();
  return r;
}

}  // namespace xj
