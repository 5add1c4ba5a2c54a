#include "xj/checks/process_check.hpp"

#include <dirent.h>
#include <pwd.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <regex>

#include "xj/checks/host_access.hpp"
#include "xj/checks/io_util.hpp"
#include "xj/checks/kinds.hpp"
#include "xj/checks/utf8.hpp"
#include "xj/common/duration.hpp"

namespace xj {
namespace {

// pgrep -f matches only this much of a command line too; it also keeps std::regex, which
// recurses per character, far from overflowing the stack on a Java-sized classpath.
constexpr std::size_t kCmdlineMatchBytes = 4096;
constexpr std::size_t kDetailMatches = 10;
constexpr std::size_t kDetailCmdlineBytes = 200;

std::string user_name(std::uint32_t uid) {
  struct passwd pw {};
  struct passwd* found = nullptr;
  char buf[1024];
  if (::getpwuid_r(uid, &pw, buf, sizeof buf, &found) == 0 && found != nullptr) return pw.pw_name;
  return std::to_string(uid);
}

Expected<std::uint32_t> resolve_user(const std::string& user) {
  if (!user.empty() && user.find_first_not_of("0123456789") == std::string::npos) {
    std::uint32_t uid = 0;
    auto [p, ec] = std::from_chars(user.data(), user.data() + user.size(), uid);
    if (ec != std::errc()) return make_error("uid " + user + " is out of range");
    return uid;
  }
  struct passwd pw {};
  struct passwd* found = nullptr;
  char buf[1024];
  int rc = ::getpwnam_r(user.c_str(), &pw, buf, sizeof buf, &found);
  if (rc != 0) return make_error("cannot look up user '" + user + "': " + std::strerror(rc));
  if (found == nullptr) return make_error("user '" + user + "' does not exist on this host");
  return static_cast<std::uint32_t>(pw.pw_uid);
}

// join_cmdline(raw).starts_with(prefix), without making the joined copy: most processes
// fail here, on the first bytes.
bool starts_with_joined(std::string_view raw, std::string_view prefix) {
  while (!raw.empty() && raw.back() == '\0') raw.remove_suffix(1);
  if (raw.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    if ((raw[i] == '\0' ? ' ' : raw[i]) != prefix[i]) return false;
  }
  return true;
}

std::string proc_path(int pid, const char* file) {
  return "/proc/" + std::to_string(pid) + "/" + file;
}

std::string pid_list(const std::vector<int>& pids) {
  std::string out;
  for (int p : pids) out += (out.empty() ? "" : ", ") + std::to_string(p);
  return out;
}

Metric metric(std::string name, double value, std::string unit,
              std::optional<Range> warn = std::nullopt, std::optional<Range> crit = std::nullopt) {
  return Metric{std::move(name), value, std::move(unit), {}, std::move(warn), std::move(crit)};
}

struct Match {
  ProcStat stat;
  ProcStatus status;
  std::string cmdline;
};

// Where one run reads processes from: this machine's /proc (the agent), or a snapshot of a
// remote host's taken through HostAccess. The matching and the arithmetic are the same.
class ProcSource {
 public:
  virtual ~ProcSource() = default;
  virtual Expected<std::string> proc_stat() = 0;
  virtual Expected<std::vector<int>> pids() = 0;
  virtual Expected<std::string> read(int pid, const char* file) = 0;  // "stat", "status", "cmdline"
  // The raw command line: in `scratch`, or in the source's own copy when it keeps one (the
  // round's process table), so ten process checks do not copy every command line ten times.
  virtual const std::string* cmdline(int pid, std::string& scratch) {
    auto raw = read(pid, "cmdline");
    if (!raw) return nullptr;
    scratch = std::move(*raw);
    return &scratch;
  }
  virtual std::optional<std::string> exe(int pid) = 0;  // nullopt: not readable
  virtual bool is_self(int pid) = 0;
  // Open descriptors; nullopt with denied = true when not ours to see.
  virtual std::optional<std::size_t> open_fds(int pid, bool& denied) = 0;
  virtual Expected<std::uint32_t> uid_of(const std::string& user) = 0;
  virtual std::string user_name(std::uint32_t uid) = 0;
  virtual double clock_ticks() = 0;
  // The pidfile's text, nullopt when it does not exist.
  virtual Expected<std::optional<std::string>> pidfile(const std::string& path) = 0;
};

// This machine's pids and their command lines as one process check of a round read them
// (RunContext::round); the other process checks of the round reuse it instead of listing
// /proc and reading every command line again. Ten process checks used to mean ten scans.
struct ProcTable {
  std::uint64_t round = 0;
  std::chrono::steady_clock::time_point taken;
  std::vector<int> pids;
  std::map<int, std::string> cmdlines;  // raw (NUL-separated); absent: not readable
};
// A round's runs start within milliseconds; one queued for long reads afresh.
constexpr std::chrono::seconds kTableReuse{2};

struct LocalShared {
  std::mutex mu;
  std::shared_ptr<const ProcTable> table;
  // getpwuid_r reads /etc/passwd (or asks NSS) on every call; names of uids change rarely,
  // so each is looked up again after a minute, not on every run of every process check.
  std::map<std::uint32_t, std::pair<std::string, std::chrono::steady_clock::time_point>> users;
  const int self = static_cast<int>(::getpid());
  const double clock_ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));
};

LocalShared& local_shared() {
  static LocalShared shared;
  return shared;
}

Expected<std::vector<int>> list_pids() {
  std::vector<int> pids;
  DIR* dir = ::opendir("/proc");
  if (dir == nullptr) return make_error(std::string("cannot list /proc: ") + std::strerror(errno));
  while (dirent* e = ::readdir(dir)) {
    int pid = std::atoi(e->d_name);
    if (pid > 0) pids.push_back(pid);
  }
  ::closedir(dir);
  return pids;
}

// One run's view of this machine's /proc.
class LocalProc : public ProcSource {
 public:
  explicit LocalProc(std::uint64_t round) : round_(round), shared_(local_shared()) {}
  Expected<std::string> proc_stat() override { return read_text_file("/proc/stat"); }
  Expected<std::vector<int>> pids() override {
    if (round_ == 0) return list_pids();
    std::lock_guard lock(shared_.mu);
    const auto now = std::chrono::steady_clock::now();
    if (!shared_.table || shared_.table->round != round_ ||
        now - shared_.table->taken > kTableReuse) {
      auto pids = list_pids();
      if (!pids) return pids;
      auto t = std::make_shared<ProcTable>();
      t->round = round_;
      t->taken = now;
      t->pids = std::move(*pids);
      for (int pid : t->pids) {
        if (auto text = read_text_file(proc_path(pid, "cmdline"))) t->cmdlines[pid] = *text;
      }
      shared_.table = std::move(t);
    }
    table_ = shared_.table;
    return table_->pids;
  }
  const std::string* cmdline(int pid, std::string& scratch) override {
    if (const std::string* kept = table_cmdline(pid)) return kept;
    return ProcSource::cmdline(pid, scratch);
  }
  Expected<std::string> read(int pid, const char* file) override {
    if (std::strcmp(file, "cmdline") == 0) {
      if (const std::string* kept = table_cmdline(pid)) return *kept;
    }
    return read_text_file(proc_path(pid, file));
  }
  std::optional<std::string> exe(int pid) override {
    char buf[4096];
    ssize_t n = ::readlink(proc_path(pid, "exe").c_str(), buf, sizeof buf - 1);
    if (n <= 0) return std::nullopt;
    return std::string(buf, static_cast<std::size_t>(n));
  }
  bool is_self(int pid) override { return pid == shared_.self; }
  std::optional<std::size_t> open_fds(int pid, bool& denied) override {
    DIR* dir = ::opendir(proc_path(pid, "fd").c_str());
    if (dir == nullptr) {
      denied = errno == EACCES || errno == EPERM;
      return std::nullopt;
    }
    std::size_t n = 0;
    while (dirent* e = ::readdir(dir)) {
      if (e->d_name[0] != '.') ++n;
    }
    ::closedir(dir);
    return n;
  }
  Expected<std::uint32_t> uid_of(const std::string& user) override { return resolve_user(user); }
  std::string user_name(std::uint32_t uid) override {
    const auto now = std::chrono::steady_clock::now();
    std::lock_guard lock(shared_.mu);
    auto& [name, at] = shared_.users[uid];
    if (name.empty() || now - at > std::chrono::minutes(1)) {
      name = xj::user_name(uid);
      at = now;
    }
    return name;
  }
  double clock_ticks() override { return shared_.clock_ticks; }
  Expected<std::optional<std::string>> pidfile(const std::string& path) override {
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) return std::optional<std::string>();
    auto text = read_text_file(path);
    if (!text) return make_error(text.error());
    return std::optional<std::string>(*text);
  }

 private:
  // The round's copy of the pid's command line; null outside a round or when it was not read.
  const std::string* table_cmdline(int pid) const {
    if (!table_) return nullptr;
    auto it = table_->cmdlines.find(pid);
    return it != table_->cmdlines.end() ? &it->second : nullptr;
  }

  const std::uint64_t round_;
  LocalShared& shared_;
  std::shared_ptr<const ProcTable> table_;  // this run's, once pids() took it
};

// A remote host's process table, read once per run.
class SnapshotProc : public ProcSource {
 public:
  SnapshotProc(ProcessSnapshot snap, HostAccess& host, const RunContext& ctx)
      : snap_(std::move(snap)), host_(host), ctx_(ctx) {
    for (std::size_t i = 0; i < snap_.processes.size(); ++i) index_[snap_.processes[i].pid] = i;
  }
  Expected<std::string> proc_stat() override { return snap_.proc_stat; }
  Expected<std::vector<int>> pids() override {
    std::vector<int> out;
    for (const auto& p : snap_.processes) out.push_back(p.pid);
    return out;
  }
  Expected<std::string> read(int pid, const char* file) override {
    const ProcessEntry* e = find(pid);
    if (e == nullptr) return make_error("pid " + std::to_string(pid) + " is not running");
    const std::string_view f(file);
    const std::string& text = f == "stat" ? e->stat : f == "status" ? e->status : e->cmdline;
    if (text.empty() && f != "cmdline")
      return make_error(proc_path(pid, file) + " was not readable");
    return text;
  }
  std::optional<std::string> exe(int pid) override {
    const ProcessEntry* e = find(pid);
    if (e == nullptr || e->exe.empty()) return std::nullopt;
    return e->exe;
  }
  bool is_self(int pid) override {
    return std::find(snap_.own_pids.begin(), snap_.own_pids.end(), pid) != snap_.own_pids.end();
  }
  std::optional<std::size_t> open_fds(int pid, bool& denied) override {
    const ProcessEntry* e = find(pid);
    denied = e != nullptr && !e->open_fds;
    return e != nullptr ? e->open_fds : std::nullopt;
  }
  Expected<std::uint32_t> uid_of(const std::string& user) override {
    if (!user.empty() && user.find_first_not_of("0123456789") == std::string::npos) {
      return resolve_user(user);  // numeric: no lookup
    }
    for (const auto& [uid, name] : snap_.users) {
      if (name == user) return uid;
    }
    return make_error("user '" + user + "' does not exist on " + host_.describe());
  }
  std::string user_name(std::uint32_t uid) override {
    auto it = snap_.users.find(uid);
    return it != snap_.users.end() ? it->second : std::to_string(uid);
  }
  double clock_ticks() override { return snap_.clock_ticks; }
  Expected<std::optional<std::string>> pidfile(const std::string& path) override {
    auto text = host_.read_file(path, ctx_);
    if (!text) {
      if (text.error().find("No such file") != std::string::npos)
        return std::optional<std::string>();
      return make_error(text.error());
    }
    return std::optional<std::string>(*text);
  }

 private:
  const ProcessEntry* find(int pid) const {
    auto it = index_.find(pid);
    return it == index_.end() ? nullptr : &snap_.processes[it->second];
  }
  ProcessSnapshot snap_;
  HostAccess& host_;
  const RunContext& ctx_;
  std::map<int, std::size_t> index_;
};

class ProcessCheck : public Check {
 public:
  ProcessCheck(std::string id, const CheckOptions& o)
      : Check(std::move(id), "process"),
        name_(o.str("name")),
        user_(o.str("user")),
        pidfile_(o.str("pidfile")),
        cmdline_text_(o.str("cmdline")),
        min_(o.integer("min")),
        restart_warn_(o.boolean("restart_warn")),
        rss_warn_(o.threshold("rss_warn")),
        rss_crit_(o.threshold("rss_crit")),
        cpu_warn_(o.threshold("cpu_warn")),
        cpu_crit_(o.threshold("cpu_crit")),
        host_(o.env().host) {
    if (name_.empty() && user_.empty() && pidfile_.empty() && cmdline_text_.empty()) {
      o.fail("name", "a process check needs at least one of name, cmdline, user, pidfile");
    }
    if (!cmdline_text_.empty()) {
      cmdline_.emplace(cmdline_text_, std::regex::ECMAScript);
      cmdline_prefix_ = anchored_literal_prefix(cmdline_text_);
    }
    if (min_ < 0) o.fail("min", "must not be negative");
    if (o.has("max")) {
      max_ = o.integer("max");
      if (*max_ < min_) o.fail("max", "must not be less than min (" + std::to_string(min_) + ")");
    }
  }

  Result run(const RunContext& ctx) override;

 private:
  // Sums over the matches of one run, and what the next run compares against.
  struct Totals {
    std::vector<ProcessIdentity> ids;
    std::map<ProcessIdentity, std::uint64_t> ticks;  // utime + stime per process
    std::uint64_t rss = 0, cpu_ticks = 0, fds = 0;
    bool fds_counted = false;
    std::vector<int> fds_denied;
    double oldest_start_s = 0;
  };

  // Pids to inspect: the pidfile's (none when it does not exist) or every process.
  Expected<std::vector<int>> candidates(ProcSource& src) const;
  // Why a pidfile check found nothing, for the summary.
  std::optional<std::string> pidfile_note(ProcSource& src, const std::vector<int>& pids,
                                          bool nothing_found) const;
  Totals add_up(ProcSource& src, const std::vector<Match>& matches, double now_s) const;
  static nlohmann::json describe(ProcSource& src, const std::vector<Match>& matches);
  std::string summarize(const Result& r, const std::vector<Match>& matches, const Totals& t,
                        double now_s) const;

  // "name=postgres, user=postgres" for summaries.
  std::string selectors(bool with_pidfile = true) const {
    std::string s;
    auto add = [&](const std::string& part) { s += (s.empty() ? "" : ", ") + part; };
    if (!name_.empty()) add("name=" + name_);
    if (cmdline_) add("cmdline~'" + cmdline_text_ + "'");
    if (!user_.empty()) add("user=" + user_);
    if (!pidfile_.empty() && with_pidfile) add("pidfile=" + pidfile_);
    return s;
  }

  bool name_matches(ProcSource& src, int pid, const std::string& comm) const {
    if (comm == name_) return true;
    const auto link = src.exe(pid);
    if (!link) {
      // No exe to look at (kernel thread, or not ours to read): the kernel cuts comm to 15
      // bytes, so a longer name can only be compared by its first 15.
      return name_.size() > 15 && comm == name_.substr(0, 15);
    }
    std::string_view exe(*link);
    if (exe.ends_with(" (deleted)")) exe.remove_suffix(10);  // upgraded binary, still running
    auto slash = exe.rfind('/');
    return exe.substr(slash == std::string_view::npos ? 0 : slash + 1) == name_;
  }

  // nullopt: not a match, or gone while we looked. The cheapest test that can reject a
  // process goes first: on a box with hundreds of processes, reading and parsing stat and
  // status of each one for every process check was most of the agent's CPU time.
  std::optional<Match> inspect(ProcSource& src, int pid, std::optional<std::uint32_t> uid) const {
    std::string cmdline;
    if (cmdline_) {
      std::string scratch;
      const std::string* raw = src.cmdline(pid, scratch);
      if (raw == nullptr || !starts_with_joined(*raw, cmdline_prefix_)) return std::nullopt;
      cmdline = join_cmdline(*raw);
      std::string_view head = std::string_view(cmdline).substr(0, kCmdlineMatchBytes);
      if (!std::regex_search(head.begin(), head.end(), *cmdline_)) return std::nullopt;
    }
    auto stat_text = src.read(pid, "stat");
    if (!stat_text) return std::nullopt;
    auto st = parse_proc_stat(*stat_text);
    if (!st || st->state == 'Z' || st->state == 'X') return std::nullopt;  // dead, not running
    if (!name_.empty() && !name_matches(src, pid, st->comm)) return std::nullopt;
    auto status_text = src.read(pid, "status");
    if (!status_text) return std::nullopt;
    auto status = parse_proc_status(*status_text);
    if (!status) return std::nullopt;
    if (uid && status->effective_uid != *uid) return std::nullopt;
    if (!cmdline_) {
      auto raw = src.read(pid, "cmdline");
      if (!raw) return std::nullopt;
      cmdline = join_cmdline(*raw);
    }
    return Match{*st, *status, std::move(cmdline)};
  }

  std::string name_, user_, pidfile_, cmdline_text_;
  std::optional<std::regex> cmdline_;
  std::string cmdline_prefix_;  // every match starts with it (see anchored_literal_prefix)
  std::int64_t min_;
  std::optional<std::int64_t> max_;
  bool restart_warn_;
  std::optional<Range> rss_warn_, rss_crit_, cpu_warn_, cpu_crit_;
  std::optional<std::int64_t> boot_time_;
  std::shared_ptr<HostAccess> host_;  // null: this machine

  // State carried between runs (runs of one check never overlap).
  std::vector<ProcessIdentity> last_seen_;  // the latest non-empty set: a restart may span a
                                            // run that found nothing
  std::map<ProcessIdentity, std::uint64_t> prev_ticks_;
  std::optional<std::chrono::steady_clock::time_point> prev_sample_;
  double prev_sample_epoch_s_ = 0;
};

Result ProcessCheck::run(const RunContext& ctx) {
  const auto sampled = std::chrono::steady_clock::now();
  const double now_s = static_cast<double>(now_epoch_ms()) / 1000.0;
  LocalProc local(ctx.round);
  std::optional<SnapshotProc> remote;
  if (host_) {
    auto snap = host_->processes(ctx);
    if (!snap) return unknown(snap.error());
    remote.emplace(std::move(snap).value(), *host_, ctx);
  }
  ProcSource& src = remote ? static_cast<ProcSource&>(*remote) : local;
  if (!boot_time_) {
    auto text = src.proc_stat();
    if (!text) return unknown(text.error());
    auto bt = parse_boot_time(*text);
    if (!bt) return unknown(bt.error());
    boot_time_ = *bt;
  }
  std::optional<std::uint32_t> uid;
  if (!user_.empty()) {
    auto u = src.uid_of(user_);
    if (!u) return unknown(u.error());
    uid = *u;
  }
  auto pids = candidates(src);
  if (!pids) return unknown(pids.error());

  std::vector<Match> matches;
  for (int pid : *pids) {
    if (ctx.expired()) return unknown("timed out while reading /proc");
    if (src.is_self(pid)) continue;  // the agent's own cmdline often contains the pattern
    if (auto m = inspect(src, pid, uid)) matches.push_back(std::move(*m));
  }
  nlohmann::json details = nlohmann::json::object();
  if (auto note = pidfile_note(src, *pids, matches.empty())) details["pidfile"] = *note;

  Result r = make_result();
  const auto count = static_cast<std::int64_t>(matches.size());
  r.metrics.push_back(metric(
      "count", static_cast<double>(count), "", std::nullopt,
      *Range::parse_nagios(std::to_string(min_) + ":" + (max_ ? std::to_string(*max_) : ""))));
  const Totals t = add_up(src, matches, now_s);
  if (!matches.empty()) {
    r.metrics.push_back(metric("rss_bytes", static_cast<double>(t.rss), "B", rss_warn_, rss_crit_));
    if (prev_sample_) {
      const double elapsed = std::chrono::duration<double>(sampled - *prev_sample_).count();
      const double hz = src.clock_ticks();
      if (elapsed > 0) {
        double pct = std::round(t.cpu_ticks / hz / elapsed * 1000.0) / 10.0;
        r.metrics.push_back(metric("cpu_pct", pct, "%", cpu_warn_, cpu_crit_));
      }
    } else {
      details["cpu_pct"] = "measured from the second run on (CPU time between two runs)";
    }
    r.metrics.push_back(
        metric("uptime_s", std::floor(std::max(0.0, now_s - t.oldest_start_s)), "s"));
    if (t.fds_counted) r.metrics.push_back(metric("open_fds", static_cast<double>(t.fds), ""));
    if (!t.fds_denied.empty()) {
      details["open_fds_skipped"] = {{"pids", t.fds_denied}, {"reason", "permission denied"}};
    }
  }
  prev_ticks_ = t.ticks;
  prev_sample_ = sampled;
  prev_sample_epoch_s_ = now_s;

  auto restart = detect_restart(last_seen_, t.ids);
  r.metrics.push_back(
      metric("restarts", restart ? static_cast<double>(restart->restarts()) : 0.0, ""));
  if (!t.ids.empty()) last_seen_ = t.ids;

  details["matches"] = describe(src, matches);
  details["matches_total"] = count;
  r.status = r.metrics_status();
  r.summary = summarize(r, matches, t, now_s);
  if (count == 0 && details.contains("pidfile")) {
    r.summary += ": " + details["pidfile"].get<std::string>();
  }
  if (restart) {
    r.summary = "restarted: pid" + std::string(restart->gone.size() > 1 ? "s " : " ") +
                pid_list(restart->gone) + " -> " + pid_list(restart->started) + "; " + r.summary;
    details["restart"] = {{"old_pids", restart->gone}, {"new_pids", restart->started}};
    if (restart_warn_) r.status = worst(r.status, Status::kWarning);
  }
  r.details = std::move(details);
  return r;
}

Expected<std::vector<int>> ProcessCheck::candidates(ProcSource& src) const {
  std::vector<int> pids;
  if (!pidfile_.empty()) {
    auto text = src.pidfile(pidfile_);
    if (!text) return make_error(text.error());
    if (!*text) return pids;
    auto pid = parse_pidfile(**text);
    if (!pid) return make_error("pidfile " + pidfile_ + " " + pid.error());
    pids.push_back(*pid);
    return pids;
  }
  return src.pids();
}

std::optional<std::string> ProcessCheck::pidfile_note(ProcSource& src, const std::vector<int>& pids,
                                                      bool nothing_found) const {
  if (pidfile_.empty() || !nothing_found) return std::nullopt;
  if (pids.empty()) return "the pidfile does not exist";
  const int pid = pids[0];
  // A zombie still answers kill(pid, 0), so ask /proc whether it runs.
  auto stat_text = src.read(pid, "stat");
  auto st = stat_text ? parse_proc_stat(*stat_text) : Expected<ProcStat>(make_error(""));
  const bool running = st && st->state != 'Z' && st->state != 'X';
  return "the pidfile names pid " + std::to_string(pid) +
         (src.is_self(pid) ? ", the agent itself"
          : running        ? ", which does not match " + selectors(false)
                           : ", which is not running (stale pidfile)");
}

ProcessCheck::Totals ProcessCheck::add_up(ProcSource& src, const std::vector<Match>& matches,
                                          double now_s) const {
  const double hz = src.clock_ticks();
  Totals t;
  t.oldest_start_s = now_s;
  for (const auto& m : matches) {
    ProcessIdentity id{m.stat.pid, m.stat.start_ticks};
    t.ids.push_back(id);
    const std::uint64_t used = m.stat.utime_ticks + m.stat.stime_ticks;
    t.ticks[id] = used;
    t.rss += m.status.rss_bytes.value_or(0);
    const double started_s = static_cast<double>(*boot_time_) + m.stat.start_ticks / hz;
    t.oldest_start_s = std::min(t.oldest_start_s, started_s);
    if (auto it = prev_ticks_.find(id); it != prev_ticks_.end()) {
      t.cpu_ticks += used >= it->second ? used - it->second : 0;
    } else if (started_s >= prev_sample_epoch_s_ - 1) {
      t.cpu_ticks += used;  // started since the last run: all its CPU time falls in the interval
    }
    bool denied = false;
    auto fds = src.open_fds(m.stat.pid, denied);
    if (!fds) {
      if (denied) t.fds_denied.push_back(m.stat.pid);
      continue;
    }
    t.fds += *fds;
    t.fds_counted = true;
  }
  return t;
}

nlohmann::json ProcessCheck::describe(ProcSource& src, const std::vector<Match>& matches) {
  std::map<std::uint32_t, std::string> users;
  nlohmann::json list = nlohmann::json::array();
  for (std::size_t i = 0; i < matches.size() && i < kDetailMatches; ++i) {
    const auto& m = matches[i];
    auto [it, fresh] = users.try_emplace(m.status.effective_uid);
    if (fresh) it->second = src.user_name(m.status.effective_uid);
    list.push_back({{"pid", m.stat.pid},
                    {"name", utf8_clip(m.stat.comm)},
                    {"user", it->second},
                    {"rss_bytes", m.status.rss_bytes.value_or(0)},
                    {"cmdline", utf8_clip(m.cmdline, kDetailCmdlineBytes)}});
  }
  return list;
}

std::string ProcessCheck::summarize(const Result& r, const std::vector<Match>& matches,
                                    const Totals& t, double now_s) const {
  const auto count = static_cast<std::int64_t>(matches.size());
  if (count == 0) return "no process matching " + selectors();
  std::string s =
      std::to_string(count) + (count == 1 ? " process" : " processes") + " matching " + selectors();
  if (count == 1) s += " (pid " + std::to_string(matches[0].stat.pid) + ")";
  if (count < min_) s += ", expected at least " + std::to_string(min_);
  if (max_ && count > *max_) s += ", expected at most " + std::to_string(*max_);
  s += ", rss " + format_size(t.rss);
  for (const auto& m : r.metrics) {
    if (m.name != "cpu_pct") continue;
    char buf[32];
    std::snprintf(buf, sizeof buf, ", cpu %.1f%%", m.value);
    s += buf;
  }
  const auto up = static_cast<std::int64_t>(std::max(0.0, now_s - t.oldest_start_s));
  return s + (count == 1 ? ", up " : ", oldest up ") + format_duration(std::chrono::seconds(up));
}

std::string default_id(const CheckOptions& o) {
  for (const char* key : {"name", "pidfile", "user", "cmdline"}) {
    if (o.has(key)) return "process:" + o.str(key);
  }
  return "process";
}

}  // namespace

CheckSpec process_check_spec() {
  CheckSpec s;
  s.kind = "process";
  s.description =
      "Processes matched by `name`, `cmdline`, `user` and/or `pidfile` (all given selectors must "
      "match; the agent never matches itself; zombies do not count). Reports how many run "
      "(critical outside `min`..`max`), their summed memory, CPU and open files, the uptime of the "
      "oldest, and restarts: when a process seen before is gone and a new one matches, that run "
      "is at least a warning saying which pid replaced which. CPU % is the CPU time used between "
      "two runs, so the first run after the agent starts has no `cpu_pct`. Open files of "
      "processes the agent may not inspect are left out and listed in the details.";
  s.keys = {
      {"name", KeyType::kString, "",
       "process name: the kernel's comm (first 15 bytes) or the executable's file name"},
      {"cmdline", KeyType::kRegex, "",
       "ECMAScript regex searched in the command line (arguments joined with spaces, first 4096 "
       "bytes as with `pgrep -f`)"},
      {"user", KeyType::kString, "", "effective user, by name or numeric uid"},
      {"pidfile", KeyType::kString, "",
       "file holding the pid; missing file or a pid that is not running means no process. "
       "Combine with `name` to guard against a reused pid"},
      {"min", KeyType::kInt, "1", "fewer matching processes is critical"},
      {"max", KeyType::kInt, "", "more matching processes is critical; default: no limit"},
      {"restart_warn", KeyType::kBool, "true",
       "a restart makes the run a warning; switch off for worker pools that recycle processes"},
      {"rss_warn", KeyType::kThreshold, "", "summed resident memory that is a warning", false,
       Direction::kHigherIsWorse, ValueUnit::kBytes},
      {"rss_crit", KeyType::kThreshold, "", "summed resident memory that is critical", false,
       Direction::kHigherIsWorse, ValueUnit::kBytes},
      {"cpu_warn", KeyType::kThreshold, "",
       "summed CPU % (of one core) that is a warning; above 100% use a Nagios range like ~:250",
       false, Direction::kHigherIsWorse, ValueUnit::kPercent},
      {"cpu_crit", KeyType::kThreshold, "", "summed CPU % (of one core) that is critical", false,
       Direction::kHigherIsWorse, ValueUnit::kPercent},
  };
  s.metrics = {
      {"count", "", "matching processes (critical range min:max)"},
      {"rss_bytes", "B", "summed resident memory (VmRSS)"},
      {"cpu_pct", "%", "summed CPU use since the previous run, 100% = one core"},
      {"uptime_s", "s", "age of the oldest matching process"},
      {"open_fds", "", "summed open file descriptors of the processes the agent may inspect"},
      {"restarts", "", "processes replaced by new ones since the previous run that found any"},
  };
  s.make = [](std::string id, const CheckOptions& o) -> std::unique_ptr<Check> {
    return std::make_unique<ProcessCheck>(std::move(id), o);
  };
  s.remote = true;
  s.default_id = default_id;
  return s;
}

}  // namespace xj
