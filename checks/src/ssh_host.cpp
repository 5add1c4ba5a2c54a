#include "xj/checks/ssh_host.hpp"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <cstdio>
#include <sstream>

#include "ssh_session.hpp"
#include "tcp_connect.hpp"
#include "xj/common/duration.hpp"

namespace xj {

namespace {

std::string first_line(const std::string& text) {
  auto start = text.find_first_not_of(" \t\r\n");
  if (start == std::string::npos) return "";
  auto end = text.find_first_of("\r\n", start);
  return text.substr(start, end == std::string::npos ? std::string::npos : end - start);
}

// A glob pattern for the remote shell: glob characters stay active, everything else is
// quoted by a backslash, so nothing in a path can start a command. Braces stay too ({a,b}
// works where the login shell is bash). Control characters are refused.
Expected<std::string> shell_glob(const std::string& pattern) {
  std::string out;
  for (unsigned char c : pattern) {
    if (c < 0x20 || c == 0x7f) return make_error("the pattern contains a control character");
    if (std::isalnum(c) || c >= 0x80 || std::string_view("*?[]!^-/._,{}").find(static_cast<char>(c)) !=
                                            std::string_view::npos) {
      out += static_cast<char>(c);
    } else {
      out += '\\';
      out += static_cast<char>(c);
    }
  }
  return out;
}

// The directory part of a pattern before its first glob character ("/backup" of
// "/backup/db-*.dump"), to tell "no match" from "cannot read the directory".
std::string literal_dir(const std::string& pattern) {
  auto glob = pattern.find_first_of("*?[{");
  std::string head = pattern.substr(0, glob);
  auto slash = head.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : head.substr(0, slash);
}

}  // namespace

std::string shell_quote(const std::string& word) {
  std::string out = "'";
  for (char c : word) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

std::vector<Expected<FsStats>> parse_statvfs_lines(const std::string& text, std::size_t expected) {
  std::vector<Expected<FsStats>> out;
  std::istringstream in(text);
  std::string line;
  while (out.size() < expected && std::getline(in, line)) {
    if (line.rfind("ok ", 0) == 0) {
      std::istringstream f(line.substr(3));
      FsStats st;
      if (f >> st.block_size >> st.blocks >> st.bfree >> st.bavail >> st.files >> st.ffree) {
        out.emplace_back(st);
      } else {
        out.emplace_back(make_error("unexpected stat -f output '" + line.substr(3) + "'"));
      }
    } else if (line.rfind("err ", 0) == 0) {
      std::string msg = line.substr(4);
      // "stat: cannot read file system information for '/x': Permission denied"
      out.emplace_back(make_error("statvfs failed: " + msg.substr(msg.rfind(": ") == std::string::npos ? 0 : msg.rfind(": ") + 2)));
    } else {
      out.emplace_back(make_error("unexpected output line '" + line + "'"));
    }
  }
  while (out.size() < expected) out.emplace_back(make_error("no answer from stat -f"));
  return out;
}

GlobScan parse_glob_lines(const std::string& text) {
  GlobScan scan;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.size() < 2 || line[1] != '\t') continue;
    const std::string rest = line.substr(2);
    if (line[0] == 'f') {
      auto tab = rest.find('\t');
      if (tab == std::string::npos) continue;
      std::istringstream nums(rest.substr(0, tab));
      std::int64_t mtime = 0;
      std::uint64_t size = 0;
      if (!(nums >> mtime >> size)) continue;
      scan.files.push_back({rest.substr(tab + 1),
                            std::chrono::system_clock::time_point(std::chrono::seconds(mtime)), size});
    } else if (line[0] == 'e' || line[0] == 'u') {
      scan.errors.push_back(rest);
      if (line[0] == 'u') scan.unreadable = true;
    }
  }
  return scan;
}

ProcessSnapshot parse_process_dump(const std::string& text, const std::string& user) {
  ProcessSnapshot snap;
  std::vector<int> own;
  std::string* into = nullptr;  // the section being collected
  std::string passwd;
  ProcessEntry* current = nullptr;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    const std::string_view line(text.data() + pos, end - pos);
    pos = end + 1;
    if (line.empty() || line[0] != '\036') {
      if (into != nullptr) {
        into->append(line);
        into->push_back('\n');
      }
      continue;
    }
    const char tag = line.size() > 1 ? line[1] : '?';
    const std::string arg(line.size() > 3 ? line.substr(3) : std::string_view());
    into = nullptr;
    switch (tag) {
      case 'T':
        snap.clock_ticks = std::max(1.0, std::atof(arg.c_str()));
        break;
      case 'O': {
        std::istringstream in(arg);
        for (int p = 0; in >> p;) own.push_back(p);
        break;
      }
      case 'B':
        into = &snap.proc_stat;
        break;
      case 'W':
        into = &passwd;
        break;
      case 'P':
        snap.processes.push_back({});
        current = &snap.processes.back();
        current->pid = std::atoi(arg.c_str());
        into = &current->stat;
        break;
      case 'S':
        if (current != nullptr) into = &current->status;
        break;
      case 'C':
        if (current != nullptr) into = &current->cmdline;
        break;
      case 'E':
        if (current != nullptr) current->exe = arg;
        break;
      case 'F':
        if (current != nullptr && !arg.empty() && arg != "-") current->open_fds = std::stoul(arg);
        break;
      default:
        break;
    }
  }
  for (auto& p : snap.processes) {
    // cat left a newline after stat; the cmdline travelled with NUL and newline swapped out.
    if (!p.stat.empty() && p.stat.back() == '\n') p.stat.pop_back();
    if (!p.cmdline.empty() && p.cmdline.back() == '\n') p.cmdline.pop_back();
    for (char& c : p.cmdline) {
      if (c == '\001') c = '\0';
      else if (c == '\002') c = '\n';
    }
  }
  std::istringstream pw(passwd);
  for (std::string line; std::getline(pw, line);) {
    auto c1 = line.find(':');
    auto c2 = c1 == std::string::npos ? c1 : line.find(':', c1 + 1);
    auto c3 = c2 == std::string::npos ? c2 : line.find(':', c2 + 1);
    if (c3 == std::string::npos) continue;
    snap.users.emplace(static_cast<std::uint32_t>(std::strtoul(line.c_str() + c2 + 1, nullptr, 10)),
                       line.substr(0, c1));
  }
  // The dump's own shell and the timeout above it, then our SSH session's sshd processes
  // ("sshd: USER@notty", "sshd: USER [priv]"): the target's sshd daemon itself stays.
  snap.own_pids = own;
  auto ppid_of = [&](int pid) -> int {
    for (const auto& p : snap.processes) {
      if (p.pid != pid) continue;
      auto close = p.stat.rfind(')');
      if (close == std::string::npos) return 0;
      std::istringstream in(p.stat.substr(close + 1));
      char state = 0;
      int ppid = 0;
      in >> state >> ppid;
      return ppid;
    }
    return 0;
  };
  auto cmdline_of = [&](int pid) -> std::string {
    for (const auto& p : snap.processes) {
      if (p.pid == pid) return p.cmdline;
    }
    return "";
  };
  int up = own.empty() ? 0 : ppid_of(own.back());
  while (up > 1) {
    const std::string c = cmdline_of(up);
    if (c.rfind("sshd: " + user + "@", 0) != 0 && c.rfind("sshd: " + user + " ", 0) != 0) break;
    snap.own_pids.push_back(up);
    up = ppid_of(up);
  }
  return snap;
}

SshHost::SshHost(SshOptions options) : options_(std::move(options)) {}
SshHost::~SshHost() = default;

Expected<SshSessionInfo, SshError> SshHost::open_session() {
  close_session();
  SshSessionInfo info;
  auto s = SshSession::open(options_, info);
  if (!s) return s.failure();
  session_ = std::move(s).value();
  return info;
}

void SshHost::close_session() { session_.reset(); }

std::string SshHost::describe() const {
  return "ssh " + options_.name + " (" + host_port(options_.host, options_.port) + ")";
}

Expected<HostCommandOutcome> SshHost::exec(const std::string& command_line, const RunContext& ctx,
                                           std::size_t max_output) {
  using Clock = std::chrono::steady_clock;
  if (!session_) return make_error(describe() + ": no SSH session is open");
  if (session_->broken()) {
    // A channel that would not close (or a lost connection) spoils the session for the rest
    // of the round: one new session, verified like the first.
    SshSessionInfo info;
    auto again = SshSession::open(options_, info);
    if (!again) return make_error(again.error());
    session_ = std::move(again).value();
  }
  const auto started = Clock::now();
  const auto deadline = std::min(ctx.deadline, started + options_.command_timeout);
  // The target kills the command itself at the deadline (coreutils timeout, the whole process
  // group), so nothing is left running there and the channel closes; where timeout is missing
  // the command runs bare and is abandoned at the deadline.
  const auto limit = std::max<Clock::duration>(deadline - started - std::chrono::milliseconds(300),
                                               std::chrono::milliseconds(100));
  char secs[32];
  std::snprintf(secs, sizeof secs, "%.1f",
                std::chrono::duration<double>(limit).count());
  const std::string wrapped = "if command -v timeout >/dev/null 2>&1; then exec timeout -k 0.5 " +
                              std::string(secs) + " sh -c " + shell_quote(command_line) +
                              "; else exec sh -c " + shell_quote(command_line) + "; fi";
  auto out = session_->exec(wrapped, deadline + std::chrono::milliseconds(1000), max_output);
  if (!out) return make_error(describe() + ": " + out.error());
  if (out->exited && (out->exit_code == 124 || out->exit_code == 137) &&
      Clock::now() - started >= limit) {
    out.value().timed_out = true;
  }
  return out;
}

Expected<std::string> SshHost::read_file(const std::string& path, const RunContext& ctx) {
  auto r = exec("LC_ALL=C cat -- " + shell_quote(path), ctx);
  if (!r) return make_error(r.error());
  if (r->timed_out) return make_error(describe() + ": cat " + path + " timed out");
  if (!r->exited || r->exit_code != 0) {
    std::string why = first_line(r->err);
    return make_error(describe() + ": cannot read " + path + ": " +
                      (why.empty() ? "cat exited with code " + std::to_string(r->exit_code) : why));
  }
  if (r->out_truncated) return make_error(describe() + ": " + path + " is larger than 16 MiB");
  return std::move(r->out);
}

Expected<int> SshHost::cpu_count(const RunContext& ctx) {
  auto r = exec("getconf _NPROCESSORS_ONLN", ctx);
  if (!r) return make_error(r.error());
  int n = 0;
  std::istringstream in(r->out);
  if (r->timed_out || !r->exited || r->exit_code != 0 || !(in >> n) || n < 1) {
    return make_error(describe() + ": getconf _NPROCESSORS_ONLN gave no CPU count" +
                      (r->err.empty() ? "" : ": " + first_line(r->err)));
  }
  return n;
}

Expected<std::vector<Expected<FsStats>>> SshHost::statvfs(const std::vector<std::string>& paths,
                                                          const RunContext& ctx) {
  std::string cmd = "for p in";
  for (const auto& p : paths) cmd += " " + shell_quote(p);
  cmd +=
      "; do if r=$(LC_ALL=C stat -f -c '%S %b %f %a %c %d' -- \"$p\" 2>&1); then printf 'ok "
      "%s\\n' \"$r\"; else printf 'err %s\\n' \"$r\"; fi; done";
  auto r = exec(cmd, ctx);
  if (!r) return make_error(r.error());
  if (r->timed_out) {
    return make_error(describe() + ": stat -f of " + std::to_string(paths.size()) +
                      " mounts timed out (a hung network mount on the target?)");
  }
  return parse_statvfs_lines(r->out, paths.size());
}

Expected<GlobScan> SshHost::scan_glob(const std::string& pattern, const RunContext& ctx) {
  auto glob = shell_glob(pattern);
  if (!glob) return make_error(describe() + ": " + glob.error());
  const std::string dir = shell_quote(literal_dir(pattern));
  const std::string cmd =
      "for f in " + *glob +
      "; do [ -f \"$f\" ] || continue; if s=$(LC_ALL=C stat -L -c '%Y %s' -- \"$f\" 2>&1); then "
      "printf 'f\\t%s\\t%s\\n' \"$s\" \"$f\"; else printf 'e\\t%s\\n' \"$s\"; fi; done; d=" + dir +
      "; if [ -d \"$d\" ] && ! [ -r \"$d\" ]; then printf 'u\\t%s: Permission denied\\n' \"$d\"; "
      "fi; true";
  auto r = exec(cmd, ctx);
  if (!r) return make_error(r.error());
  if (r->timed_out) return make_error(describe() + ": looking for " + pattern + " timed out");
  return parse_glob_lines(r->out);
}

Expected<ProcessSnapshot> SshHost::processes(const RunContext& ctx) {
  static const std::string kDump =
      "printf '\\036T %s\\n' \"$(getconf CLK_TCK)\"; printf '\\036O %s %s\\n' \"$$\" \"$PPID\"; "
      "printf '\\036B\\n'; cat /proc/stat; printf '\\036W\\n'; cat /etc/passwd; "
      "for d in /proc/[0-9]*; do p=${d#/proc/}; [ -r \"$d/stat\" ] || continue; "
      "printf '\\036P %s\\n' \"$p\"; cat \"$d/stat\" 2>/dev/null; "
      "printf '\\036S\\n'; cat \"$d/status\" 2>/dev/null; "
      "printf '\\036C\\n'; tr '\\000\\n' '\\001\\002' < \"$d/cmdline\" 2>/dev/null; "
      "printf '\\n\\036E %s\\n' \"$(readlink \"$d/exe\" 2>/dev/null)\"; "
      "if [ -r \"$d/fd\" ] && [ -x \"$d/fd\" ]; then set -- \"$d\"/fd/*; "
      "if [ -e \"$1\" ] || [ -L \"$1\" ]; then printf '\\036F %s\\n' \"$#\"; else printf '\\036F 0\\n'; fi; "
      "else printf '\\036F -\\n'; fi; done";
  auto r = exec(kDump, ctx);
  if (!r) return make_error(r.error());
  if (r->timed_out) return make_error(describe() + ": reading the process table timed out");
  if (r->out_truncated) return make_error(describe() + ": the process table is larger than 16 MiB");
  ProcessSnapshot snap = parse_process_dump(r->out, options_.user);
  if (snap.processes.empty()) {
    return make_error(describe() + ": no processes in the dump of /proc" +
                      (r->err.empty() ? "" : ": " + first_line(r->err)));
  }
  return snap;
}

Expected<HostCommandOutcome> SshHost::run_command(const std::vector<std::string>& argv,
                                                  const std::map<std::string, std::string>& env,
                                                  const std::string& cwd, const RunContext& ctx) {
  std::string cmd;
  if (!cwd.empty()) cmd = "cd " + shell_quote(cwd) + " && ";
  cmd += "exec env";
  for (const auto& [k, v] : env) cmd += " " + shell_quote(k + "=" + v);
  for (const auto& a : argv) cmd += " " + shell_quote(a);
  return exec(cmd, ctx, 64 * 1024);
}

Expected<LogFileNow> parse_log_stat(const std::string& text) {
  const auto nl = text.find('\n');
  std::istringstream in(text.substr(0, nl));
  LogFileNow now;
  if (nl == std::string::npos || !(in >> now.dev >> now.inode >> now.size)) {
    return make_error("unexpected stat output '" + first_line(text) + "'");
  }
  now.head = text.substr(nl + 1, kLogHeadBytes);
  return now;
}

// The log_scan reads. Each command opens the file once on descriptor 3 and works on that
// descriptor (stat of /dev/fd/3, reads from it), so identity and bytes come from one file even
// while it is being rotated.
Expected<LogFileNow> SshHost::stat_log(const std::string& path, const RunContext& ctx) {
  const std::string cmd =
      "set -- " + shell_quote(path) +
      "; if [ ! -e \"$1\" ]; then echo 'cannot open: No such file or directory' >&2; exit 2; fi"
      "; if [ ! -f \"$1\" ]; then echo 'cannot read: not a regular file' >&2; exit 2; fi"
      "; if [ ! -r \"$1\" ]; then echo 'cannot open: Permission denied' >&2; exit 2; fi"
      "; exec 3<\"$1\"; s=$(LC_ALL=C stat -L -c '%d %i %s' /dev/fd/3) || exit 3"
      "; printf '%s\\n' \"$s\"; exec head -c " + std::to_string(kLogHeadBytes) + " <&3";
  auto r = exec(cmd, ctx, kLogHeadBytes + 256);
  if (!r) return make_error(r.error());
  if (r->timed_out) return make_error(describe() + ": stat of " + path + " timed out");
  if (!r->exited || r->exit_code != 0) {
    // "cannot open: why" -> "cannot open PATH: why", as the local check says it.
    std::string why = first_line(r->err);
    const auto colon = why.find(": ");
    if (why.rfind("cannot ", 0) == 0 && colon != std::string::npos) {
      why = why.substr(0, colon) + " " + path + why.substr(colon);
    } else {
      why = "cannot open " + path + ": " +
            (why.empty() ? "exited with code " + std::to_string(r->exit_code) : why);
    }
    return make_error(describe() + ": " + why);
  }
  auto now = parse_log_stat(r->out);
  if (!now) return make_error(describe() + ": cannot read " + path + ": " + now.error());
  return now;
}

Expected<std::string> SshHost::read_log(const std::string& path, std::uint64_t inode,
                                        std::uint64_t offset, std::size_t n,
                                        const RunContext& ctx) {
  const std::string cmd =
      "set -- " + shell_quote(path) + " " + std::to_string(inode) + " " +
      std::to_string(offset) + " " + std::to_string(n) +
      "; exec 3<\"$1\"; [ \"$(LC_ALL=C stat -L -c %i /dev/fd/3)\" = \"$2\" ] || { echo 'it was "
      "replaced by another file while being read' >&2; exit 5; }"
      "; exec dd bs=65536 iflag=skip_bytes,count_bytes skip=\"$3\" count=\"$4\" status=none <&3";
  auto r = exec(cmd, ctx, n + 1024);
  if (!r) return make_error(r.error());
  if (r->timed_out) return make_error(describe() + ": reading " + path + " timed out");
  if (!r->exited || r->exit_code != 0 || r->out.size() > n) {
    const std::string why = first_line(r->err);
    return make_error(describe() + ": cannot read " + path + ": " +
                      (why.empty() ? "dd exited with code " + std::to_string(r->exit_code) : why));
  }
  return std::move(r->out);
}

Expected<std::optional<std::string>> SshHost::find_log_inode(const std::string& path,
                                                             std::uint64_t dev,
                                                             std::uint64_t inode,
                                                             const RunContext& ctx) {
  const std::string cmd =
      "set -- " + shell_quote(path) + " " + std::to_string(dev) + " " + std::to_string(inode) +
      "; same() { [ -f \"$1\" ] && [ \"$(LC_ALL=C stat -L -c '%d %i' -- \"$1\" 2>/dev/null)\" = "
      "\"$2 $3\" ]; }"
      "; if same \"$1.1\" \"$2\" \"$3\"; then printf '%s\\n' \"$1.1\"; exit 0; fi"
      "; find \"$(dirname -- \"$1\")\" -maxdepth 1 -xdev -type f -inum \"$3\" 2>/dev/null | "
      "while IFS= read -r f; do if [ \"$f\" != \"$1\" ] && same \"$f\" \"$2\" \"$3\"; then "
      "printf '%s\\n' \"$f\"; break; fi; done; true";
  auto r = exec(cmd, ctx, 64 * 1024);
  if (!r) return make_error(r.error());
  if (r->timed_out) {
    return make_error(describe() + ": looking for the rotated " + path + " timed out");
  }
  std::string found = r->out.substr(0, r->out.find('\n'));
  if (found.empty()) return std::optional<std::string>();
  return std::optional<std::string>(std::move(found));
}

}  // namespace xj
