// Pure parsers of the /proc text the process check reads; see process_check.hpp.
#include <charconv>
#include <set>

#include "xj/checks/process_check.hpp"

namespace xj {
namespace {

template <typename T>
bool to_number(std::string_view s, T& out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size();
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

std::vector<std::string_view> split_ws(std::string_view s) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
    std::size_t start = i;
    while (i < s.size() && !std::isspace(static_cast<unsigned char>(s[i]))) ++i;
    if (i > start) out.push_back(s.substr(start, i - start));
  }
  return out;
}

std::string excerpt(std::string_view text) {
  return "'" + std::string(text.substr(0, 60)) + (text.size() > 60 ? "...'" : "'");
}

}  // namespace

Expected<ProcStat> parse_proc_stat(std::string_view text) {
  auto open = text.find('(');
  auto close = text.rfind(')');
  if (open == std::string_view::npos || close == std::string_view::npos || close < open) {
    return make_error("unexpected /proc/PID/stat format (no '(comm)'): " + excerpt(text));
  }
  ProcStat st;
  if (!to_number(trim(text.substr(0, open)), st.pid)) {
    return make_error("unexpected /proc/PID/stat format (bad pid): " + excerpt(text));
  }
  st.comm = std::string(text.substr(open + 1, close - open - 1));
  // Fields after the comm, counted from "state" (field 3 in proc(5)).
  auto f = split_ws(text.substr(close + 1));
  if (f.size() < 20 || f[0].size() != 1) {
    return make_error("unexpected /proc/PID/stat format (too few fields): " + excerpt(text));
  }
  st.state = f[0][0];
  if (!to_number(f[1], st.ppid) || !to_number(f[11], st.utime_ticks) ||
      !to_number(f[12], st.stime_ticks) || !to_number(f[19], st.start_ticks)) {
    return make_error("unexpected /proc/PID/stat format (bad number): " + excerpt(text));
  }
  return st;
}

Expected<ProcStatus> parse_proc_status(std::string_view text) {
  ProcStatus ps;
  bool have_uid = false;
  while (!text.empty()) {
    auto nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    auto colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    std::string_view key = line.substr(0, colon);
    auto values = split_ws(line.substr(colon + 1));
    if (key == "Uid") {
      if (values.size() < 2 || !to_number(values[0], ps.real_uid) ||
          !to_number(values[1], ps.effective_uid)) {
        return make_error("unexpected /proc/PID/status Uid line: " + excerpt(line));
      }
      have_uid = true;
    } else if (key == "VmRSS") {
      std::uint64_t kib = 0;
      if (values.size() != 2 || values[1] != "kB" || !to_number(values[0], kib)) {
        return make_error("unexpected /proc/PID/status VmRSS line: " + excerpt(line));
      }
      ps.rss_bytes = kib * 1024;
    }
  }
  if (!have_uid) return make_error("/proc/PID/status has no Uid line");
  return ps;
}

Expected<std::int64_t> parse_boot_time(std::string_view text) {
  std::size_t pos = 0;
  while (pos < text.size()) {
    auto nl = text.find('\n', pos);
    std::string_view line = text.substr(pos, nl == std::string_view::npos ? nl : nl - pos);
    if (line.starts_with("btime ")) {
      std::int64_t v = 0;
      if (!to_number(trim(line.substr(6)), v) || v <= 0) {
        return make_error("unexpected /proc/stat btime line: " + excerpt(line));
      }
      return v;
    }
    if (nl == std::string_view::npos) break;
    pos = nl + 1;
  }
  return make_error("/proc/stat has no btime line");
}

std::string join_cmdline(std::string_view raw) {
  while (!raw.empty() && raw.back() == '\0') raw.remove_suffix(1);
  std::string out(raw);
  for (char& c : out) {
    if (c == '\0') c = ' ';
  }
  return out;
}

Expected<int> parse_pidfile(std::string_view text) {
  std::string_view t = trim(text);
  int pid = 0;
  if (t.empty()) return make_error("is empty");
  if (!to_number(t, pid) || pid <= 0) return make_error("does not hold a pid: " + excerpt(t));
  return pid;
}

std::optional<RestartChange> detect_restart(const std::vector<ProcessIdentity>& previous,
                                            const std::vector<ProcessIdentity>& current) {
  if (previous.empty()) return std::nullopt;
  std::set<ProcessIdentity> prev(previous.begin(), previous.end());
  std::set<ProcessIdentity> cur(current.begin(), current.end());
  RestartChange change;
  for (const auto& p : prev) {
    if (!cur.count(p)) change.gone.push_back(p.pid);
  }
  for (const auto& c : cur) {
    if (!prev.count(c)) change.started.push_back(c.pid);
  }
  if (change.restarts() == 0) return std::nullopt;
  return change;
}

std::string anchored_literal_prefix(std::string_view pattern) {
  if (!pattern.starts_with('^') || pattern.find('|') != std::string_view::npos) return "";
  static constexpr std::string_view kSpecial = "\\.[](){}*+?^$|";
  static constexpr std::string_view kQuantifier = "*+?{";
  std::string prefix;
  for (std::size_t i = 1; i < pattern.size(); ++i) {
    const char c = pattern[i];
    if (kSpecial.find(c) != std::string_view::npos) break;
    // A quantified character is optional or repeated: it is not part of every match.
    if (i + 1 < pattern.size() && kQuantifier.find(pattern[i + 1]) != std::string_view::npos) break;
    prefix += c;
  }
  return prefix;
}

}  // namespace xj
