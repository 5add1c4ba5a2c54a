#include "xj/checks/exec_check.hpp"

#include <cstring>
#include <filesystem>

#include "child_process.hpp"
#include "xj/checks/host_access.hpp"
#include "xj/checks/kinds.hpp"
#include "xj/checks/utf8.hpp"
#include "xj/common/duration.hpp"

namespace xj {

namespace {

// Plugins print numbers for the C locale and find their helpers on a standard PATH; the
// agent's own environment (tokens, proxies) is not passed on. `env` adds to or overrides it.
const std::map<std::string, std::string>& base_environment() {
  static const std::map<std::string, std::string> env = {
      {"PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"},
      {"LC_ALL", "C"},
  };
  return env;
}

std::string command_line(const std::vector<std::string>& argv) {
  std::string out;
  for (const auto& a : argv) {
    out += out.empty() ? "" : " ";
    out += a.find_first_of(" \t'\"") == std::string::npos ? a : "'" + a + "'";
  }
  return out;
}

std::string first_line(const std::string& text) {
  auto start = text.find_first_not_of(" \t\r\n");
  if (start == std::string::npos) return "";
  auto end = text.find_first_of("\r\n", start);
  return text.substr(start, end == std::string::npos ? std::string::npos : end - start);
}

class ExecCheck : public Check {
 public:
  ExecCheck(std::string id, const CheckOptions& o)
      : Check(std::move(id), "exec"),
        argv_(o.list("command")),
        cwd_(o.str("cwd")),
        host_(o.env().host) {
    env_ = base_environment();
    for (const auto& [k, v] : o.map("env")) env_[k] = v;
  }

  Result run(const RunContext& ctx) override {
    const std::string cmd = command_line(argv_);
    if (ctx.expired()) return unknown("no time left to run " + cmd);
    ChildSpec spec;
    spec.argv = argv_;
    spec.env = env_;
    spec.cwd = cwd_;
    spec.cancelled = ctx.cancelled;
    // A plugin that handles SIGTERM gets a moment to clean up before SIGKILL, and the group is
    // dead a little before the deadline, so that this result naming the command is the one
    // reported rather than the scheduler's generic "timed out".
    spec.kill_grace = std::clamp(ctx.timeout / 10, std::chrono::milliseconds(10),
                                 std::chrono::milliseconds(1000));
    const auto reserve =
        std::clamp(ctx.timeout / 20, std::chrono::milliseconds(5), std::chrono::milliseconds(200));
    spec.deadline = ctx.deadline - reserve - spec.kill_grace;
    auto child = host_ ? run_on_host(spec, ctx) : run_child(spec);
    if (!child) return unknown(child.error());
    const ChildOutcome& oc = *child;
    // Plugin output can be any bytes; what goes into a Result must be UTF-8.
    const std::string out = utf8_clip(oc.out), err = utf8_clip(oc.err);

    Result r = make_result();
    const NagiosOutput parsed = parse_nagios_output(out);
    r.details = {{"command", argv_}};
    if (!host_) r.details["pid"] = oc.pid;
    if (!parsed.long_text.empty()) r.details["long_text"] = parsed.long_text;
    if (!err.empty()) r.details["stderr"] = err;
    if (oc.out_truncated) r.details["stdout_truncated"] = true;
    if (!parsed.perfdata.skipped.empty()) r.details["perfdata_skipped"] = parsed.perfdata.skipped;

    // One line a human reads; a plugin that prints a novel on it is cut.
    const std::string said =
        utf8_clip(parsed.summary.empty() ? first_line(err) : parsed.summary, 1024);
    // Nothing Nagios-shaped to read: keep the raw output for whoever investigates.
    if (oc.timed_out || oc.cancelled || !oc.exited || oc.exit_code > 3) r.details["stdout"] = out;
    if (oc.timed_out || oc.cancelled) {
      r.status = Status::kUnknown;
      r.summary = (oc.timed_out ? "timed out after " + format_duration(ctx.timeout)
                                : std::string("cancelled")) +
                  ": " + cmd + (host_ ? " was abandoned (its channel closed)" : " was killed");
      if (!said.empty()) r.summary += "; last output: " + said;
      return r;
    }
    if (!oc.exited) {
      r.status = Status::kUnknown;
      r.summary = cmd + " was killed by signal " + std::to_string(oc.signal) + " (" +
                  (sigdescr_np(oc.signal) ? sigdescr_np(oc.signal) : "unknown signal") + ")";
      if (!said.empty()) r.summary += ": " + said;
      return r;
    }
    r.details["exit_code"] = oc.exit_code;
    if (oc.exit_code < 0 || oc.exit_code > 3) {
      r.status = Status::kUnknown;
      r.summary =
          cmd + " exited with code " + std::to_string(oc.exit_code) + " (not a Nagios status 0-3)";
      if (!said.empty()) r.summary += ": " + said;
      return r;
    }
    // The plugin's exit code is its verdict; perfdata thresholds are only carried along.
    r.status = status_from_code(oc.exit_code);
    for (const auto& p : parsed.perfdata.items) r.metrics.push_back(to_metric(p));
    r.summary = !said.empty()
                    ? said
                    : std::filesystem::path(argv_[0]).filename().string() + " exited with code " +
                          std::to_string(oc.exit_code) + " and printed nothing";
    return r;
  }

 private:
  // The same command on the inspected host; its outcome in the local child's terms, so the
  // Nagios interpretation below is one and the same.
  Expected<ChildOutcome> run_on_host(const ChildSpec& spec, const RunContext& ctx) const {
    RunContext bounded = ctx;
    bounded.deadline = spec.deadline + spec.kill_grace;
    auto remote = host_->run_command(spec.argv, spec.env, spec.cwd, bounded);
    if (!remote) return make_error(remote.error());
    ChildOutcome oc;
    oc.timed_out = remote->timed_out;
    oc.exited = remote->exited;
    oc.exit_code = remote->exit_code;
    oc.signal = remote->signal;
    oc.out = std::move(remote->out);
    oc.err = std::move(remote->err);
    oc.out_truncated = remote->out_truncated;
    return oc;
  }

  std::vector<std::string> argv_;
  std::map<std::string, std::string> env_;
  std::string cwd_;
  std::shared_ptr<HostAccess> host_;  // null: this machine
};

void validate(const CheckOptions& o) {
  const auto argv = o.list("command");
  if (argv.empty() || argv[0].empty()) o.fail("command", "must name the program to run");
  const std::string& prog = argv[0];
  if (prog.find_first_of(" \t") != std::string::npos) {
    o.fail("command", "'" + prog +
                          "' contains spaces; there is no shell: write the program and "
                          "each argument as list items, e.g. [" +
                          prog.substr(0, prog.find_first_of(" \t")) + ", ...]");
  }
  const std::filesystem::path path(prog);
  if (!path.is_absolute()) {
    o.fail("command",
           "'" + prog + "' must be an absolute path (commands run without a shell or PATH)");
  }
  if (path.lexically_normal() != path) {
    o.fail("command", "'" + prog + "' must be a plain absolute path without '.', '..' or '//'");
  }
  const auto& allow = o.env().exec_allow;
  if (!command_allowed(prog, allow)) {
    std::string allowed;
    for (const auto& a : allow) allowed += (allowed.empty() ? "" : ", ") + a;
    const std::string& key = o.env().exec_allow_key;
    o.fail("command", "'" + prog + "' is not in " + key + "; allowed: " +
                          (allowed.empty() ? "nothing (" + key + " is empty)" : allowed));
  }
  if (o.has("cwd") && !std::filesystem::path(o.str("cwd")).is_absolute()) {
    o.fail("cwd", "'" + o.str("cwd") + "' must be an absolute path");
  }
  for (const auto& [name, value] : o.map("env")) {
    if (name.empty() || name.find('=') != std::string::npos) {
      o.fail("env", "'" + name + "' is not an environment variable name");
    }
  }
}

}  // namespace

CheckSpec exec_check_spec() {
  CheckSpec s;
  s.kind = "exec";
  s.description =
      "Runs a command (an argv list, no shell) such as a monitoring-plugins program, only if "
      "`agent.exec_allow` allows it. Exit code 0/1/2/3 is ok/warning/critical/unknown; other "
      "codes, signals and timeouts are unknown. The first output line before `|` is the "
      "summary; Nagios perfdata become metrics with their unit and warn/crit ranges. The "
      "command runs in its own process group, with stdin from /dev/null and the environment "
      "`PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LC_ALL=C` plus `env`; "
      "at the timeout the group gets SIGTERM, then SIGKILL.";
  s.keys = {
      {"command", KeyType::kStringList, "",
       "program (absolute path) and arguments, e.g. `[/usr/lib/nagios/plugins/check_disk, -w, "
       "10%, -c, 5%, -p, /]`",
       true},
      {"env", KeyType::kMap, "", "environment variables added for the command"},
      {"cwd", KeyType::kString, "", "working directory (absolute)"},
  };
  s.metrics = {
      {"<perfdata label>", "<UOM>", "one metric per perfdata item, with its warn/crit ranges"},
  };
  s.make = [](std::string id, const CheckOptions& o) -> std::unique_ptr<Check> {
    validate(o);
    return std::make_unique<ExecCheck>(std::move(id), o);
  };
  s.remote = true;
  s.default_id = [](const CheckOptions& o) {
    const auto argv = o.list("command");
    if (argv.empty()) return std::string("exec");
    return "exec:" + std::filesystem::path(argv[0]).filename().string();
  };
  return s;
}

}  // namespace xj
