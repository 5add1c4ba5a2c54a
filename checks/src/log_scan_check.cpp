// The log_scan check: its keys, and a run that ties the pure core (log_scan_core.cpp) to the
// file I/O (log_file_io.cpp).
#include <filesystem>

#include "log_file_io.hpp"
#include "xj/checks/io_util.hpp"
#include "xj/checks/kinds.hpp"
#include "xj/checks/utf8.hpp"
#include "xj/common/duration.hpp"

namespace xj {
namespace {

namespace fs = std::filesystem;
using namespace log_io;  // NOLINT(google-build-using-namespace): this kind's own helpers

class LogScanCheck : public Check {
 public:
  LogScanCheck(std::string id, const CheckOptions& o, LogMatcher matcher)
      : Check(std::move(id), "log_scan"),
        path_(o.str("path")),
        pattern_(o.str("pattern")),
        matcher_(std::move(matcher)),
        from_start_(o.boolean("from_start")),
        samples_(static_cast<std::size_t>(o.integer("samples"))),
        max_read_(o.size("max_read")),
        env_state_dir_(o.env().state_dir),
        host_(o.env().host) {
    if (auto w = o.integer("warn"); w > 0) warn_ = Range::above(static_cast<double>(w - 1));
    if (o.has("crit")) crit_ = Range::above(static_cast<double>(o.integer("crit") - 1));
  }

  Result run(const RunContext& ctx) override {
    const fs::path dir = !ctx.state_dir.empty() ? ctx.state_dir : env_state_dir_;
    const fs::path state_file =
        dir.empty() ? fs::path() : dir / "log_scan" / log_state_file_name(id());
    nlohmann::json details{{"path", utf8_clip(path_)}, {"pattern", utf8_clip(pattern_)}};
    std::optional<LogPosition> prev = saved_;
    if (!prev && !state_file.empty()) prev = load(state_file, details);

    auto file = open_log_file(host_.get(), path_, ctx);
    if (!file) return unknown(file.error());
    const LogFileNow* now = &(*file)->now();
    const LogReadPlan plan = plan_log_read(prev, *now, from_start_);
    details["reason"] = std::string(to_string(plan.reason));

    LogReader reader(matcher_, samples_, max_read_, ctx);
    std::optional<LogPosition> next;
    std::string note;
    if (plan.reason == LogReadPlan::Reason::kRotated) {
      RotatedRead rotated = finish_rotated(*prev, reader, details, note, ctx);
      if (!rotated.error.empty()) return unknown(rotated.error);
      next = rotated.stopped_at;
      if (next) {
        details["unread_bytes"] =
            details["rotated"]["unread_bytes"].get<std::uint64_t>() + now->size;
      }
    }
    if (!next) {
      std::uint64_t start = plan.offset, end = plan.offset;
      if (plan.reason == LogReadPlan::Reason::kFirstRun && !from_start_) {
        start = end = last_line_start(**file, now->size);
      } else {
        auto o = reader.read(**file, start, now->size, false);
        if (!o.error.empty()) return unknown(o.error);
        end = o.end;
      }
      details["from_offset"] = start;
      details["to_offset"] = end;
      details["unread_bytes"] = now->size - end;
      next = LogPosition{now->dev, now->inode, end, now->head.size(), fnv1a64(now->head)};
    }
    details["inode"] = next->inode;
    if (reader.capped) details["capped"] = "max_read " + format_size(max_read_) + " reached";
    if (reader.out_of_time) details["capped"] = "run timeout reached";

    saved_ = next;
    if (!state_file.empty()) {
      details["state_file"] = state_file.string();
      // A quiet log leaves the position where it was: the file already says so, and an agent
      // need not fsync and rename it every interval to say it again.
      if (written_ != next || written_file_ != state_file) {
        nlohmann::json j = to_json(*next);
        j["path"] = utf8_clip(path_);
        j["check"] = utf8_clip(id());
        if (auto err = write_atomically(state_file, j.dump())) {
          details["state_error"] = utf8_clip(*err);
          note += "; position not saved: " + *err;
          written_.reset();
        } else {
          written_ = next;
          written_file_ = state_file;
        }
      }
    }
    return finish(plan, reader, std::move(details), note);
  }

 private:
  std::optional<LogPosition> load(const fs::path& file, nlohmann::json& details) const {
    std::error_code ec;
    if (!fs::exists(file, ec)) return std::nullopt;
    auto text = read_text_file(file);
    nlohmann::json j = text ? nlohmann::json::parse(*text, nullptr, false) : nlohmann::json();
    auto pos = log_position_from_json(j);
    if (!text || !pos || j.value("path", "") != path_) {
      // Starting over at the end is the safe side: no storm of alerts about old lines.
      details["state_ignored"] = utf8_clip(file.string() + ": " +
                                           (!text  ? text.error()
                                            : !pos ? pos.error()
                                                   : "for another path"));
      return std::nullopt;
    }
    return *pos;
  }

  struct RotatedRead {
    std::optional<LogPosition> stopped_at;  // budget or deadline ran out inside the old file
    std::string error;                      // it could not be read: the run is unknown
  };

  // Reads what was left unread in the rotated file; the new file waits for the next run when
  // the budget runs out in here.
  RotatedRead finish_rotated(const LogPosition& prev, LogReader& reader, nlohmann::json& details,
                             std::string& note, const RunContext& ctx) const {
    auto found = find_rotated(host_.get(), path_, prev, ctx);
    if (!found) return {std::nullopt, found.error()};
    const std::optional<std::string>& rotated = *found;
    if (!rotated) {
      details["rotated_lost"] = "rotated file not found; its unread end was skipped";
      note += "; rotated file not found, its unread end was skipped";
      return {};
    }
    auto file = open_log_file(host_.get(), *rotated, ctx);
    if (!file) return {std::nullopt, file.error()};
    const LogFileNow* old = &(*file)->now();
    if (old->inode != prev.inode || old->size < prev.offset || old->head.size() < prev.head_len ||
        fnv1a64(std::string_view(old->head).substr(0, prev.head_len)) != prev.head_hash) {
      details["rotated_lost"] = utf8_clip(*rotated + " is not the file read last time; skipped");
      note += "; rotated file changed, its unread end was skipped";
      return {};
    }
    auto o = reader.read(**file, prev.offset, old->size, true);
    if (!o.error.empty()) return {std::nullopt, o.error};
    details["rotated"] = {{"path", utf8_clip(*rotated)},
                          {"from_offset", prev.offset},
                          {"to_offset", o.end},
                          {"unread_bytes", old->size - o.end}};
    if (!o.stopped) return {};
    LogPosition p = prev;
    p.offset = o.end;
    return {p, {}};
  }

  Result finish(const LogReadPlan& plan, LogReader& reader, nlohmann::json details,
                const std::string& note) const {
    Result r = make_result();
    const Labels labels{{"path", path_}};
    r.metrics = {{"matches", static_cast<double>(reader.matches), "", labels, warn_, crit_},
                 {"lines_read", static_cast<double>(reader.lines), "", labels, {}, {}},
                 {"bytes_read", static_cast<double>(reader.bytes), "B", labels, {}, {}}};
    r.status = r.metrics_status();
    if (plan.reason == LogReadPlan::Reason::kFirstRun && !from_start_) {
      r.summary = "watching " + path_ + " from offset " +
                  std::to_string(details["to_offset"].get<std::uint64_t>()) +
                  "; earlier lines are not scanned";
    } else if (reader.matches == 0) {
      r.summary = "no new line in " + path_ + " matches '" + pattern_ + "' (" +
                  std::to_string(reader.lines) + " lines read)";
    } else {
      const bool one = reader.matches == 1;
      r.summary = std::to_string(reader.matches) + (one ? " new line in " : " new lines in ") +
                  path_ + (one ? " matches '" : " match '") + pattern_ + "' (" +
                  std::to_string(reader.lines) + " lines read)";
      if (!reader.samples.empty())
        r.summary += "; first: " + utf8_clip(reader.samples.front(), 120);
    }
    using R = LogReadPlan::Reason;
    if (plan.reason == R::kRotated || plan.reason == R::kTruncated || plan.reason == R::kReplaced) {
      r.summary += plan.reason == R::kRotated     ? "; the log was rotated"
                   : plan.reason == R::kTruncated ? "; the log was truncated"
                                                  : "; the log was truncated and rewritten";
    }
    if (details.contains("capped")) {
      r.summary += "; " + details["capped"].get<std::string>() + ", " +
                   format_size(details.value("unread_bytes", std::uint64_t{0})) +
                   " left for the next run";
    }
    r.summary = utf8_clip(r.summary + note);
    details["samples"] = reader.samples;
    r.details = std::move(details);
    return r;
  }

  std::string path_;
  std::string pattern_;
  LogMatcher matcher_;
  bool from_start_;
  std::size_t samples_;
  std::uint64_t max_read_;
  fs::path env_state_dir_;
  std::optional<Range> warn_, crit_;
  std::shared_ptr<HostAccess> host_;  // null: this machine; else an agentless target
  std::optional<LogPosition> saved_;  // this process's latest position; the file is for restarts
  std::optional<LogPosition> written_;  // what this process last wrote to written_file_
  fs::path written_file_;
};

}  // namespace

CheckSpec log_scan_check_spec() {
  CheckSpec s;
  s.kind = "log_scan";
  s.description =
      "Counts lines matching `pattern` (and not `exclude`) among the lines appended to the file "
      "`path` since the last run. The position (device, inode, offset, a hash of the first 256 "
      "bytes) is kept in `<state_dir>/log_scan/<check id, unsafe characters as _>.json`, written "
      "atomically, so a restart neither loses nor double counts lines. The first run starts at "
      "the end of the file unless `from_start` is true. Rotation: a new inode at the path means "
      "the file was rotated; the rest of the old file is read first if it is found by inode "
      "(`path.1` or another name in the same directory; a compressed copy is not found), then "
      "the new file from its start. A file shorter than the saved offset, or whose first bytes "
      "changed (copytruncate), is read from its start. A line without its newline is read when "
      "it is complete. Only the first 4 KiB of a line are matched and lines over 64 KiB are "
      "scanned in pieces. A run reads at most `max_read` bytes and carries on next time. A "
      "missing file is unknown. On an agentless (ssh) target the same is done through commands "
      "over the round's session (GNU `stat`, `head`, `dd`, `find` on the target); the position "
      "is kept in the collector's memory, so after a collector restart the first round starts "
      "at the end again.";
  s.keys = {
      {"path", KeyType::kString, "", "the log file (one file, not a glob)", true},
      {"pattern", KeyType::kRegex, "", "ECMAScript regex a counted line matches", true},
      {"exclude", KeyType::kRegex, "", "lines matching this regex are not counted"},
      {"ignore_case", KeyType::kBool, "false", "match `pattern` and `exclude` ignoring case"},
      {"from_start", KeyType::kBool, "false",
       "first run reads the whole file instead of starting at its end"},
      {"warn", KeyType::kInt, "1", "at least this many new matching lines is a warning; 0: never"},
      {"crit", KeyType::kInt, "", "at least this many new matching lines is critical"},
      {"samples", KeyType::kInt, "5", "matching lines (first 300 bytes each) kept in the details"},
      {"max_read", KeyType::kSize, "16MB", "most bytes read in one run (at least 64KB)"},
  };
  s.metrics = {
      {"matches", "", "new lines that match (`warn`, `crit` apply)"},
      {"lines_read", "", "new complete lines scanned"},
      {"bytes_read", "B", "bytes scanned this run"},
  };
  s.make = [](std::string id, const CheckOptions& o) -> std::unique_ptr<Check> {
    if (o.integer("warn") < 0) o.fail("warn", "must be 0 (never) or a number of lines");
    if (o.has("crit") && o.integer("crit") < 1) o.fail("crit", "must be at least 1 line");
    if (o.integer("samples") < 0 || o.integer("samples") > 100)
      o.fail("samples", "must be 0 to 100");
    if (o.size("max_read") < 64 * 1024) o.fail("max_read", "must be at least 64KB");
    auto matcher =
        LogMatcher::compile(o.str("pattern"), o.str("exclude"), o.boolean("ignore_case"));
    if (!matcher) o.fail("pattern", matcher.error());
    return std::make_unique<LogScanCheck>(std::move(id), o, std::move(matcher).value());
  };
  s.default_id = [](const CheckOptions& o) { return "log_scan:" + o.str("path"); };
  s.remote = true;
  return s;
}

}  // namespace xj
