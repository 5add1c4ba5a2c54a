#include "xj/checks/file_age_check.hpp"

#include <glob.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>

#include "xj/checks/host_access.hpp"
#include "xj/checks/kinds.hpp"
#include "xj/checks/utf8.hpp"
#include "xj/common/duration.hpp"

namespace xj {

std::string iso8601_utc(std::chrono::system_clock::time_point t) {
  const std::time_t secs = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  ::gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string format_age(std::chrono::seconds age) {
  const std::int64_t s = std::max<std::int64_t>(age.count(), 0);
  // Backups are spoken of in hours ("26h"), so days only start at two; seconds matter only
  // for a file minutes old.
  auto two = [](std::int64_t big, const char* a, std::int64_t small, const char* b) {
    return std::to_string(big) + a + (small != 0 ? std::to_string(small) + b : "");
  };
  if (s < 60) return std::to_string(s) + "s";
  if (s < 3600) return two(s / 60, "m", s % 60, "s");
  if (s < 48 * 3600) return two(s / 3600, "h", s % 3600 / 60, "m");
  return two(s / 86'400, "d", s % 86'400 / 3600, "h");
}

namespace {

// glob(3) reports unreadable directories only through this callback, which has no user
// pointer; the scan runs on one thread at a time per call, so a thread_local collects them.
thread_local std::vector<std::pair<std::string, int>>* glob_errors = nullptr;

int on_glob_error(const char* path, int err) {
  if (glob_errors != nullptr) glob_errors->emplace_back(path, err);
  return 0;  // keep going: other directories may still hold matches
}

nlohmann::json file_json(const FileInfo& f) {
  return {{"path", utf8_clip(f.path)}, {"mtime", iso8601_utc(f.mtime)}, {"size_bytes", f.size}};
}

// "older than max_age 26h" for the friendly forms, the Nagios range otherwise.
std::string age_problem(const char* key, const Range& r) {
  if (std::isinf(r.start()) && !r.inverted()) {
    return std::string("older than ") + key + " " +
           format_age(std::chrono::seconds(static_cast<std::int64_t>(r.end())));
  }
  return std::string("age outside ") + key + " range " + r.str();
}

std::string format_number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

}  // namespace

GlobScan scan_glob(const std::string& pattern) {
  GlobScan out;
  std::vector<std::pair<std::string, int>> errors;
  glob_errors = &errors;
  glob_t g{};
  const int rc = ::glob(pattern.c_str(), GLOB_BRACE, on_glob_error, &g);
  glob_errors = nullptr;
  if (rc == 0) {
    for (std::size_t i = 0; i < g.gl_pathc; ++i) {
      struct stat st {};
      // A file removed between glob and stat simply is not there any more.
      if (::stat(g.gl_pathv[i], &st) != 0 || !S_ISREG(st.st_mode)) continue;
      FileInfo f;
      f.path = g.gl_pathv[i];
      f.mtime = std::chrono::system_clock::time_point(
          std::chrono::duration_cast<std::chrono::system_clock::duration>(
              std::chrono::seconds(st.st_mtim.tv_sec) +
              std::chrono::nanoseconds(st.st_mtim.tv_nsec)));
      f.size = static_cast<std::uint64_t>(st.st_size);
      out.files.push_back(std::move(f));
    }
  } else if (rc == GLOB_NOSPACE) {
    out.errors.push_back(pattern + ": out of memory expanding the pattern");
    out.unreadable = true;
  }
  ::globfree(&g);
  for (const auto& [path, err] : errors) {
    out.errors.push_back(path + ": " + std::strerror(err));
    if (err != ENOENT && err != ENOTDIR) out.unreadable = true;
  }
  return out;
}

Result evaluate_file_age(const std::string& pattern, std::vector<FileInfo> files,
                         std::chrono::system_clock::time_point now, const FileAgeRules& rules) {
  Result r;
  const Labels labels{{"path", pattern}};
  Metric count{"count", static_cast<double>(files.size()), "", labels, {}, rules.min_count};
  r.details["pattern"] = utf8_clip(pattern);
  r.details["count"] = files.size();
  if (files.empty()) {
    r.metrics.push_back(std::move(count));
    r.status = Status::kCritical;
    r.summary = "no file matches " + pattern;
    r.details["newest_files"] = nlohmann::json::array();
    return r;
  }
  // Newest first; equal mtimes fall back to the name, where dated backups sort by date.
  std::sort(files.begin(), files.end(), [](const FileInfo& a, const FileInfo& b) {
    return a.mtime != b.mtime ? a.mtime > b.mtime : a.path > b.path;
  });
  const FileInfo& newest = files.front();
  auto age = std::chrono::duration_cast<std::chrono::seconds>(now - newest.mtime);
  const bool future = age.count() < 0;
  if (future) age = std::chrono::seconds(0);  // clock skew: a file from the future is fresh

  const auto age_s = static_cast<double>(age.count());
  Metric age_m{"age_s", age_s, "s", labels, rules.warn_age, rules.crit_age};
  Metric size_m{"size_bytes", static_cast<double>(newest.size), "B", labels, {}, rules.min_size};
  r.metrics = {age_m, size_m, count};
  r.status = r.metrics_status();

  r.summary = "newest " + utf8_clip(newest.path) + " is " + format_age(age) + " old, " +
              format_size(newest.size);
  if (age_m.evaluate() == Status::kCritical) {
    r.summary += "; " + age_problem("max_age", *rules.crit_age);
  } else if (age_m.evaluate() == Status::kWarning) {
    r.summary += "; " + age_problem("warn_age", *rules.warn_age);
  }
  if (size_m.evaluate() != Status::kOk) {
    const Range& lim = *rules.min_size;
    r.summary +=
        std::isinf(lim.end()) && !lim.inverted()
            ? "; smaller than min_size " + format_size(static_cast<std::uint64_t>(lim.start()))
            : "; size outside min_size range " + lim.str();
  }
  if (count.evaluate() != Status::kOk) {
    const Range& lim = *rules.min_count;
    r.summary += "; " + std::to_string(files.size()) + " matching files, " +
                 (std::isinf(lim.end()) && !lim.inverted()
                      ? "fewer than min_count " + format_number(lim.start())
                      : "outside min_count range " + lim.str());
  }

  nlohmann::json n = file_json(newest);
  n["age_s"] = age.count();
  if (future) n["mtime_in_future"] = true;
  r.details["newest"] = std::move(n);
  nlohmann::json list = nlohmann::json::array();
  for (std::size_t i = 0; i < files.size() && i < 5; ++i) list.push_back(file_json(files[i]));
  r.details["newest_files"] = std::move(list);
  return r;
}

namespace {

class FileAgeCheck : public Check {
 public:
  FileAgeCheck(std::string id, const CheckOptions& o)
      : Check(std::move(id), "file_age"),
        pattern_(o.str("path")),
        rules_{o.threshold("warn_age"), o.threshold("max_age"), o.threshold("min_size"),
               o.threshold("min_count")},
        host_(o.env().host) {}

  Result run(const RunContext& ctx) override {
    GlobScan scan;
    if (host_) {
      auto remote = host_->scan_glob(pattern_, ctx);
      if (!remote) return unknown(remote.error());
      scan = std::move(remote).value();
    } else {
      scan = scan_glob(pattern_);
    }
    if (scan.files.empty() && scan.unreadable) {
      return unknown("cannot look for " + pattern_ + ": " + scan.errors.front());
    }
    Result r = evaluate_file_age(pattern_, std::move(scan.files), std::chrono::system_clock::now(),
                                 rules_);
    if (!scan.errors.empty()) {
      nlohmann::json errors = nlohmann::json::array();
      for (const auto& e : scan.errors) errors.push_back(utf8_clip(e));
      r.details["errors"] = std::move(errors);
      if (r.details["count"] == 0) r.summary += " (" + scan.errors.front() + ")";
    }
    Result out = make_result();
    out.status = r.status;
    out.summary = utf8_clip(r.summary);
    out.metrics = std::move(r.metrics);
    out.details = std::move(r.details);
    return out;
  }

 private:
  std::string pattern_;
  FileAgeRules rules_;
  std::shared_ptr<HostAccess> host_;  // null: this machine
};

}  // namespace

CheckSpec file_age_check_spec() {
  CheckSpec s;
  s.kind = "file_age";
  s.description =
      "Backup freshness: the newest regular file matching `path` (by modification time) must be "
      "younger than `max_age` and, when `min_size` is set, at least that big. No matching file "
      "is critical. `path` is a glob(3) pattern: `*`, `?`, `[...]` and `{a,b}`; `**` is not "
      "recursive and `*` does not match a leading dot. Symlinks are followed; directories are "
      "ignored. A directory the agent may not read is unknown, not critical. Details list the "
      "newest file (path, mtime in UTC, size) and the five newest matches.";
  s.keys = {
      {"path", KeyType::kString, "", "glob of the files to watch, e.g. `/backup/*.dump`", true},
      {"max_age", KeyType::kThreshold, "26h", "age of the newest file that is critical", false,
       Direction::kHigherIsWorse, ValueUnit::kSeconds},
      {"warn_age", KeyType::kThreshold, "", "age of the newest file that is a warning", false,
       Direction::kHigherIsWorse, ValueUnit::kSeconds},
      {"min_size", KeyType::kThreshold, "",
       "the newest file smaller than this is critical (a truncated backup)", false,
       Direction::kLowerIsWorse, ValueUnit::kBytes},
      {"min_count", KeyType::kThreshold, "", "fewer matching files than this is critical", false,
       Direction::kLowerIsWorse, ValueUnit::kNumber},
  };
  s.metrics = {
      {"age_s", "s", "age of the newest matching file (`warn_age`, `max_age` apply)"},
      {"size_bytes", "B", "size of the newest matching file (`min_size` applies)"},
      {"count", "", "number of matching regular files (`min_count` applies)"},
  };
  s.make = [](std::string id, const CheckOptions& o) -> std::unique_ptr<Check> {
    return std::make_unique<FileAgeCheck>(std::move(id), o);
  };
  s.remote = true;
  s.default_id = [](const CheckOptions& o) { return "file_age:" + o.str("path"); };
  return s;
}

}  // namespace xj
