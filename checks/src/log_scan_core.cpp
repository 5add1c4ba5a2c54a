// The pure half of the log_scan check: matching, chunk scanning, the saved position and the
// decision where to start reading. The file and state I/O is in log_scan_check.cpp.
#include <cstdio>

#include "xj/checks/log_scan_check.hpp"
#include "xj/checks/utf8.hpp"

namespace xj {

Expected<LogMatcher> LogMatcher::compile(const std::string& pattern, const std::string& exclude,
                                         bool ignore_case) {
  auto flags = std::regex::ECMAScript | std::regex::optimize;
  if (ignore_case) flags |= std::regex::icase;
  LogMatcher m;
  try {
    m.pattern_ = std::regex(pattern, flags);
  } catch (const std::regex_error& e) {
    return make_error("invalid regular expression '" + pattern + "': " + e.what());
  }
  if (!exclude.empty()) {
    try {
      m.exclude_ = std::regex(exclude, flags);
    } catch (const std::regex_error& e) {
      return make_error("invalid regular expression '" + exclude + "': " + e.what());
    }
  }
  return m;
}

bool LogMatcher::matches(std::string_view line) const {
  if (line.size() > kLogMatchBytes) line = line.substr(0, kLogMatchBytes);
  const char* b = line.data();
  const char* e = b + line.size();
  if (!std::regex_search(b, e, pattern_)) return false;
  return !(exclude_ && std::regex_search(b, e, *exclude_));
}

LogChunkScan scan_log_chunk(std::string_view chunk, const LogMatcher& matcher,
                            std::size_t max_samples, bool final) {
  LogChunkScan out;
  std::size_t pos = 0;
  while (pos < chunk.size()) {
    std::size_t nl = chunk.find('\n', pos);
    std::size_t end = nl;
    std::size_t next = nl + 1;
    if (nl == std::string_view::npos) {
      if (!final) break;
      end = next = chunk.size();
    }
    std::string_view line = chunk.substr(pos, end - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    ++out.lines;
    if (matcher.matches(line)) {
      ++out.matches;
      if (out.samples.size() < max_samples) out.samples.push_back(utf8_clip(line, kLogSampleBytes));
    }
    pos = next;
  }
  out.consumed = pos;
  return out;
}

nlohmann::json to_json(const LogPosition& p) {
  return {{"dev", p.dev},
          {"inode", p.inode},
          {"offset", p.offset},
          {"head_len", p.head_len},
          {"head_hash", p.head_hash}};
}

Expected<LogPosition> log_position_from_json(const nlohmann::json& j) {
  if (!j.is_object()) return make_error("not a JSON object");
  LogPosition p;
  const std::pair<const char*, std::uint64_t*> fields[] = {{"dev", &p.dev},
                                                           {"inode", &p.inode},
                                                           {"offset", &p.offset},
                                                           {"head_len", &p.head_len},
                                                           {"head_hash", &p.head_hash}};
  for (auto [name, out] : fields) {
    auto it = j.find(name);
    if (it == j.end()) return make_error(std::string("field '") + name + "' is missing");
    if (!it->is_number_unsigned()) {
      return make_error(std::string("field '") + name + "' must be a non-negative integer");
    }
    *out = it->get<std::uint64_t>();
  }
  if (p.head_len > kLogHeadBytes) return make_error("field 'head_len' is larger than the head");
  return p;
}

std::uint64_t fnv1a64(std::string_view bytes) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return h;
}

LogReadPlan plan_log_read(const std::optional<LogPosition>& prev, const LogFileNow& now,
                          bool from_start) {
  using R = LogReadPlan::Reason;
  if (!prev) return {R::kFirstRun, from_start ? 0 : now.size};
  if (prev->dev != now.dev || prev->inode != now.inode) return {R::kRotated, 0};
  if (now.size < prev->offset) return {R::kTruncated, 0};
  // Size alone misses a copytruncate followed by enough new writes to pass the old offset;
  // the start of the file then no longer is what it was.
  if (now.head.size() < prev->head_len ||
      fnv1a64(std::string_view(now.head).substr(0, prev->head_len)) != prev->head_hash) {
    return {R::kReplaced, 0};
  }
  return {R::kContinue, prev->offset};
}

std::string_view to_string(LogReadPlan::Reason r) {
  switch (r) {
    case LogReadPlan::Reason::kFirstRun:
      return "first_run";
    case LogReadPlan::Reason::kContinue:
      return "continued";
    case LogReadPlan::Reason::kTruncated:
      return "truncated";
    case LogReadPlan::Reason::kReplaced:
      return "replaced";
    case LogReadPlan::Reason::kRotated:
      return "rotated";
  }
  return "unknown";
}

std::string log_state_file_name(std::string_view check_id) {
  // A leading '_' is written up front rather than inserted afterwards: GCC 12 at -O2 reports
  // a false -Wrestrict on std::string::insert(0, ...).
  std::string name;
  if (check_id.empty() || check_id.front() == '.') name = "_";
  for (char c : check_id) {
    const bool safe = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '.' || c == '-' || c == '_';
    name += safe ? c : '_';
  }
  if (name.size() > 180) {
    char hash[20];
    std::snprintf(hash, sizeof hash, "%016llx", static_cast<unsigned long long>(fnv1a64(check_id)));
    name = name.substr(0, 160) + "-" + hash;
  }
  return name + ".json";
}

}  // namespace xj
