#include "xj/checks/licence_check.hpp"

#include <cmath>
#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>

#include "child_process.hpp"
#include "xj/checks/exec_check.hpp"
#include "xj/checks/http_check.hpp"
#include "xj/checks/kinds.hpp"
#include "xj/checks/utf8.hpp"

namespace xj {

namespace {

constexpr std::size_t kMaxRead = 1024 * 1024;  // a licence file is small; refuse a huge log

// "+08:00", "-0500", "Z" -> seconds east of UTC.
std::optional<int> parse_offset(const std::string& s) {
  if (s == "Z" || s == "UTC" || s == "+00:00") return 0;
  if (s.size() != 6 && s.size() != 5) return std::nullopt;
  if (s[0] != '+' && s[0] != '-') return std::nullopt;
  const std::string digits = s.size() == 6 ? s.substr(1, 2) + s.substr(4, 2) : s.substr(1);
  if (digits.find_first_not_of("0123456789") != std::string::npos) return std::nullopt;
  const int v = std::stoi(digits.substr(0, 2)) * 3600 + std::stoi(digits.substr(2)) * 60;
  return s[0] == '-' ? -v : v;
}

std::string format_local_day(std::int64_t epoch_s, int offset_s) {
  using namespace std::chrono;
  // The last second of validity names the day a person reads ("valid until 2026-10-31").
  const year_month_day ymd{floor<days>(sys_seconds{seconds{epoch_s - 1 + offset_s}})};
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
  return buf;
}

class LicenceCheck : public Check {
 public:
  LicenceCheck(std::string id, const CheckOptions& o)
      : Check(std::move(id), "licence"),
        file_(o.str("file")),
        command_(o.list("command")),
        pointer_(o.str("json_pointer")),
        regex_text_(o.str("regex")),
        product_(o.str("product")),
        offset_s_(*parse_offset(o.str("utc_offset"))) {
    if (!regex_text_.empty()) regex_ = std::regex(regex_text_);
    auto days = [&](const char* key) -> std::optional<Range> {
      const double d = static_cast<double>(o.duration(key).count()) / 86'400'000.0;
      if (d <= 0) return std::nullopt;
      return Range::below(d);
    };
    warn_ = days("warn");
    crit_ = days("crit");
    what_ = product_.empty() ? (file_.empty() ? command_[0] : file_) : product_;
  }

  Result run(const RunContext& ctx) override;

 private:
  // The file's or the command's text, read afresh on every run (licences are renewed in place).
  Expected<std::string> content(const RunContext& ctx) const;
  Result failed(const std::string& why) const {
    Result r = make_result();
    r.status = Status::kCritical;  // a licence we cannot read is one nobody can vouch for
    r.summary = "licence " + what_ + ": " + why;
    r.details = {{"source", file_.empty() ? command_[0] : file_}, {"error", why}};
    return r;
  }

  std::string file_;
  std::vector<std::string> command_;
  std::string pointer_, regex_text_;
  std::optional<std::regex> regex_;
  std::string product_, what_;
  int offset_s_;
  std::optional<Range> warn_, crit_;
};

Expected<std::string> LicenceCheck::content(const RunContext& ctx) const {
  if (!file_.empty()) {
    std::ifstream in(file_, std::ios::binary);
    if (!in) return make_error("cannot open " + file_);
    std::string data(kMaxRead + 1, '\0');
    in.read(data.data(), static_cast<std::streamsize>(data.size()));
    data.resize(static_cast<std::size_t>(in.gcount()));
    if (data.size() > kMaxRead) return make_error(file_ + " is larger than 1 MiB");
    return data;
  }
  ChildSpec spec;
  spec.argv = command_;
  spec.env = {{"PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"},
              {"LC_ALL", "C"}};
  spec.deadline = ctx.deadline;
  spec.cancelled = ctx.cancelled;
  auto out = run_child(spec);
  if (!out) return make_error(out.error());
  if (out->timed_out) return make_error(command_[0] + " timed out");
  if (!out->exited || out->exit_code != 0) {
    return make_error(command_[0] + " failed (exit " + std::to_string(out->exit_code) +
                      "): " + utf8_clip(out->err.empty() ? out->out : out->err, 100));
  }
  return out->out;
}

Result LicenceCheck::run(const RunContext& ctx) {
  auto text = content(ctx);
  if (!text) return failed(text.error());
  auto date = extract_expiry_text(*text, pointer_, regex_, regex_text_);
  if (!date) return failed(date.error());
  auto expiry = parse_expiry(*date, offset_s_);
  if (!expiry) return failed(expiry.error());
  const double days = cert_days_left(std::chrono::sys_seconds{std::chrono::seconds{*expiry}},
                                     std::chrono::system_clock::now());
  Result r = make_result();
  r.metrics.push_back({"days_left", days, "d", {}, warn_, crit_});
  r.status = r.metrics_status();
  const std::string until = format_local_day(*expiry, offset_s_);
  char buf[160];
  if (days < 0) {
    std::snprintf(buf, sizeof buf, "expired %.0f days ago (valid until %s)", std::ceil(-days),
                  until.c_str());
  } else {
    std::snprintf(buf, sizeof buf, "expires in %.0f days (valid until %s)", std::floor(days),
                  until.c_str());
  }
  r.summary = "licence " + what_ + ": " + buf;
  r.details = {{"source", file_.empty() ? command_[0] : file_},
               {"expiry_text", utf8_clip(*date, 80)},
               {"expires", until},
               {"expires_epoch_s", *expiry}};
  if (!product_.empty()) r.details["product"] = product_;
  return r;
}

}  // namespace

CheckSpec licence_check_spec() {
  CheckSpec s;
  s.kind = "licence";
  s.description =
      "Days until a software licence expires. The expiry comes from a `file` (re-read on every "
      "run, so a renewed licence is seen at once) or from a `command`'s output (an argv list "
      "run without a shell, only if `agent.exec_allow` allows it, exit 0 required): the value "
      "at `json_pointer`, the first capture group of `regex`, or the whole text. Dates: "
      "`2026-10-31`, `2026/10/31`, `20261031`, `2026年10月31日` (valid through that day in "
      "`utc_offset`), ISO 8601 with a time (`2026-10-31T12:00:00+08:00`), epoch seconds or "
      "milliseconds. A licence that cannot be read is critical.";
  s.keys = {
      {"file", KeyType::kString, "", "licence file to read"},
      {"command", KeyType::kStringList, "",
       "instead of `file`: program (absolute path) and arguments printing the licence"},
      {"json_pointer", KeyType::kString, "",
       "RFC 6901 pointer to the expiry in JSON, e.g. `/license/expire`"},
      {"regex", KeyType::kRegex, "",
       "ECMAScript regex; its first group (or whole match) is the expiry"},
      {"product", KeyType::kString, "", "product name for the summary and the licence registry"},
      {"utc_offset", KeyType::kString, "+08:00", "time zone of dates without one"},
      {"warn", KeyType::kDuration, "30d", "expiring within this is a warning"},
      {"crit", KeyType::kDuration, "7d", "expiring within this is critical"},
  };
  s.metrics = {{"days_left", "d", "days until the licence expires; negative once expired"}};
  s.make = [](std::string id, const CheckOptions& o) -> std::unique_ptr<Check> {
    if (o.has("file") == o.has("command")) o.fail("file", "give exactly one of file and command");
    if (o.has("json_pointer") && o.has("regex"))
      o.fail("regex", "give json_pointer or regex, not both");
    if (o.has("command")) {
      const auto argv = o.list("command");
      if (argv.empty() || !std::filesystem::path(argv[0]).is_absolute()) {
        o.fail("command", "must start with the program's absolute path (no shell, no PATH)");
      }
      if (!command_allowed(argv[0], o.env().exec_allow)) {
        o.fail("command", "'" + argv[0] + "' is not in agent.exec_allow");
      }
    }
    if (o.has("json_pointer")) {
      try {
        nlohmann::json::json_pointer p(o.str("json_pointer"));
      } catch (const nlohmann::json::exception& e) {
        o.fail("json_pointer", "'" + o.str("json_pointer") + "' is not a JSON pointer");
      }
    }
    if (!parse_offset(o.str("utc_offset"))) o.fail("utc_offset", "is not of the form +08:00");
    return std::make_unique<LicenceCheck>(std::move(id), o);
  };
  s.default_id = [](const CheckOptions& o) {
    if (o.has("product")) return "licence:" + o.str("product");
    if (o.has("file")) return "licence:" + o.str("file");
    const auto argv = o.list("command");
    return "licence:" + (argv.empty() ? std::string() : argv[0]);
  };
  return s;
}

}  // namespace xj
