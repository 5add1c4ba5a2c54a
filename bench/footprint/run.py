#!/usr/bin/env python3
"""Runs xunjian-agent, prometheus-node-exporter and zabbix_agentd side by side over the same
targets and the same wall-clock window, and measures each one's memory and CPU from /proc.

Called by bench/agent_footprint.sh (which installs packages and builds the agent); run
directly only with an already built agent:

  run.py --agent build-bench-rel/agent/xunjian-agent [--duration 120] [--write docs/benchmarks.md]
"""

import argparse
import ctypes
import datetime
import os
import random
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

import peers
import procstat
import report
import smaps_breakdown

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
NODE_EXPORTER = "/usr/bin/prometheus-node-exporter"
ZABBIX_AGENTD = "/usr/sbin/zabbix_agentd"
SCRAPE_HEADERS = {"Accept": "text/plain;version=0.0.4", "Accept-Encoding": "gzip"}


def free_port(low=None, high=None):
    """A port nobody listens on. The kernel picks, unless a range is given (zabbix_agentd
    accepts ListenPort 1024-32767 only); the short window before the program binds it is
    acceptable here."""
    candidates = [0] if low is None else random.sample(range(low, high + 1), 200)
    for port in candidates:
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return s.getsockname()[1]
    sys.exit(f"footprint: no free port in {low}-{high}")


def wait_listening(port, what, proc, timeout=15.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc.poll() is not None:
            sys.exit(f"footprint: {what} exited with code {proc.returncode} before listening "
                     f"on 127.0.0.1:{port}; see its log in the work dir")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.2)
    sys.exit(f"footprint: {what} did not listen on 127.0.0.1:{port} within {timeout:.0f} s")


def version_of(cmd, pattern):
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=10)
    except OSError as e:
        return f"? ({e.strerror})"
    m = re.search(pattern, out.stdout + out.stderr)
    return m.group(1) if m else "?"


def _die_with_parent():
    # PR_SET_PDEATHSIG: if the harness is killed outright, what it started goes too.
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)


class Harness:
    """Owns the work dir, the targets and the three programs; stops them all on exit."""

    def __init__(self, args):
        self.args = args
        self.dir = tempfile.mkdtemp(prefix="xj-footprint-")
        self.procs = []  # (name, Popen) of everything we started, stopped in reverse order

    def spawn(self, name, argv, stdin=subprocess.DEVNULL, stdout=None, **kw):
        log = open(os.path.join(self.dir, f"{name}.log"), "wb")
        p = subprocess.Popen(argv, stdin=stdin, stdout=stdout or log, stderr=log,
                             preexec_fn=_die_with_parent, **kw)
        self.procs.append((name, p))
        return p

    def stop_all(self):
        for _, p in reversed(self.procs):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for _, p in reversed(self.procs):
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
            if p.stdin:
                p.stdin.close()

    def start_targets(self):
        t = {"dir": self.dir, "interval": self.args.interval}
        t["markers"] = [f"xjbench-{os.getpid()}-p{i:02d}" for i in range(10)]
        for m in t["markers"]:
            lifetime = 3 * (self.args.interval + self.args.duration) + 60
            self.spawn("sleepers", ["bash", "-c", f"exec -a {m} sleep {lifetime}"])
        ports = self.spawn("ports", [sys.executable, os.path.join(HERE, "port_listener.py"), "10"],
                           stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        t["ports"] = [int(p) for p in ports.stdout.readline().split()]
        http = self.spawn("http", [sys.executable, os.path.join(REPO, "tests/fixtures/http/server.py")],
                          stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        t["http_port"] = int(http.stdout.readline())
        if len(t["ports"]) != 10 or not t["http_port"]:
            sys.exit("footprint: the port listener or the HTTP server did not print its ports")
        os.makedirs(os.path.join(self.dir, "backup"))
        t["backup"] = os.path.join(self.dir, "backup", f"db-{datetime.date.today():%Y%m%d}.dump")
        with open(t["backup"], "wb") as f:
            f.write(os.urandom(1 << 20))
        t["backup_glob"] = os.path.join(self.dir, "backup", "*.dump")
        t["log"] = os.path.join(self.dir, "app.log")
        open(t["log"], "w").close()
        t["state_dir"] = os.path.join(self.dir, "state")
        t["zabbix_port"] = free_port(20000, 32767)
        t["node_port"] = free_port()
        t["metrics_port"] = free_port() if self.args.agent_metrics else None
        t["metrics_listen"] = f"127.0.0.1:{t['metrics_port']}" if t["metrics_port"] else "off"
        self.targets = t
        self.target_pids = [p.pid for name, p in self.procs]
        return t

    def start_programs(self):
        t, a = self.targets, self.args
        cfg = os.path.join(self.dir, "agent.yaml")
        with open(cfg, "w") as f:
            f.write(peers.agent_yaml(t))
        v = subprocess.run([a.agent, "validate", "-c", cfg], capture_output=True, text=True)
        if v.returncode != 0:
            sys.exit(f"footprint: the generated {cfg} does not validate:\n{v.stdout}{v.stderr}")
        zconf = os.path.join(self.dir, "zabbix_agentd.conf")
        with open(zconf, "w") as f:
            f.write(peers.zabbix_conf(t, os.geteuid() == 0))
        self.agent = self.spawn("xunjian-agent", [a.agent, "run", "-c", cfg])
        self.node = self.spawn("node-exporter", [
            NODE_EXPORTER, f"--web.listen-address=127.0.0.1:{t['node_port']}"])
        self.zabbix = self.spawn("zabbix_agentd", [ZABBIX_AGENTD, "-f", "-c", zconf])
        wait_listening(t["node_port"], "prometheus-node-exporter", self.node)
        wait_listening(t["zabbix_port"], "zabbix_agentd", self.zabbix)
        if t["metrics_port"]:
            wait_listening(t["metrics_port"], "xunjian-agent /metrics", self.agent)
        self.roots = {"xunjian-agent": self.agent.pid, "prometheus-node-exporter": self.node.pid,
                      "zabbix_agentd": self.zabbix.pid}
        # --compare: more agent builds over the same targets in the same window (A/B figures
        # that share the machine's load); their rows are printed apart, not in the report.
        self.compare = []
        for i, binary in enumerate(a.compare or []):
            ct = dict(t, state_dir=os.path.join(self.dir, f"state-compare{i}"))
            ct["metrics_port"] = free_port() if t["metrics_port"] else None
            ct["metrics_listen"] = f"127.0.0.1:{ct['metrics_port']}" if ct["metrics_port"] else "off"
            ccfg = os.path.join(self.dir, f"agent-compare{i}.yaml")
            with open(ccfg, "w") as f:
                f.write(peers.agent_yaml(ct).replace("id: footprint-bench", f"id: compare{i}"))
            name = f"compare {i}: {binary}"
            p = self.spawn(f"compare{i}", [binary, "run", "-c", ccfg])
            if ct["metrics_port"]:
                wait_listening(ct["metrics_port"], name, p)
            self.compare.append((name, p, ct["metrics_port"]))
            self.roots[name] = p.pid

    def poll_round(self, state):
        """One interval's work for the scrapers/poller; remembers the last answers."""
        t = self.targets
        started = time.monotonic()
        wire, body = peers.http_get(f"http://127.0.0.1:{t['node_port']}/metrics", SCRAPE_HEADERS)
        state["node_scrape"] = (wire, len(body), sum(
            1 for line in body.splitlines() if line and not line.startswith("#")))
        if t["metrics_port"]:
            _, state["agent_metrics"] = peers.http_get(
                f"http://127.0.0.1:{t['metrics_port']}/metrics", SCRAPE_HEADERS)
        for _, _, port in self.compare:
            if port:
                peers.http_get(f"http://127.0.0.1:{port}/metrics", SCRAPE_HEADERS)
        answers = {}
        for group, key in self.items:
            try:
                answers[key] = (group, peers.zbx_get(t["zabbix_port"], key))
            except (OSError, ValueError) as e:
                answers[key] = (group, f"ZBX_NOTSUPPORTED\0harness: {e}")
        state["zabbix"] = answers
        state["round_s"].append(time.monotonic() - started)

    def group_cpu_s(self, roots):
        stats = procstat.all_stats()
        return {name: procstat.group_cpu_ticks(pid, stats) / procstat.CLK_TCK
                for name, pid in roots.items()}

    def group_cpu_exact_s(self, roots):
        stats = procstat.all_stats()
        return {name: procstat.group_cpu_exact_s(pid, stats) for name, pid in roots.items()}

    def run(self):
        a = self.args
        self.start_targets()
        self.start_programs()
        self.items = peers.zabbix_items(self.targets)
        state = {"round_s": [], "node_scrape": (0, 0, 0), "agent_metrics": "", "zabbix": {}}
        peak_rss = {name: 0 for name in self.roots}
        targets = {f"target pid {pid}": pid for pid in self.target_pids}
        log = open(self.targets["log"], "a")

        launched = time.monotonic()
        window_start = launched + a.interval  # warm-up: one interval
        window_end = window_start + a.duration
        next_poll, next_sample, next_line, line_no = launched, launched, launched, 0
        cpu0 = targets_cpu0 = rusage0 = load0 = None
        while True:
            now = time.monotonic()
            if cpu0 is None and now >= window_start:
                cpu0, targets_cpu0 = self.group_cpu_s(self.roots), self.group_cpu_s(targets)
                exact0 = self.group_cpu_exact_s(self.roots)
                rusage0, wall0, load0 = resource.getrusage(resource.RUSAGE_SELF), now, os.getloadavg()
            if now >= window_end:
                break
            if now >= next_line:
                line_no += 1
                level = "ERROR" if line_no % 10 == 0 else "INFO"
                log.write(f"{datetime.datetime.now().isoformat()} {level} request {line_no} done\n")
                log.flush()
                next_line += 1
            if now >= next_sample:
                stats = procstat.all_stats()
                for name, pid in self.roots.items():
                    peak_rss[name] = max(peak_rss[name], procstat.group_sum(pid, stats, "VmRSS"))
                next_sample += a.sample
            if now >= next_poll and now < window_end:
                self.poll_round(state)
                next_poll += a.interval
            for name, p in (("xunjian-agent", self.agent), ("prometheus-node-exporter", self.node),
                            ("zabbix_agentd", self.zabbix)):
                if p.poll() is not None:
                    sys.exit(f"footprint: {name} exited with code {p.returncode} during the run; "
                             f"see {self.dir}/{name}.log")
            time.sleep(max(0.0, min(next_line, next_sample, next_poll, window_end,
                                    window_start if cpu0 is None else window_end)
                           - time.monotonic()))

        wall = time.monotonic() - wall0
        cpu1, targets_cpu1 = self.group_cpu_s(self.roots), self.group_cpu_s(targets)
        exact1 = self.group_cpu_exact_s(self.roots)
        rusage1 = resource.getrusage(resource.RUSAGE_SELF)
        stats = procstat.all_stats()
        rows = {}
        for name, pid in self.roots.items():
            pids = procstat.group_pids(pid, stats)
            rows[name] = {
                "pids": len(pids),
                "hwm_kib": procstat.group_sum(pid, stats, "VmHWM"),
                "sampled_kib": peak_rss[name],
                "pss_kib": procstat.group_sum(pid, stats, "Pss", procstat.rollup_kib),
                "cpu_s": exact1[name] - exact0[name],
                "cpu_ticks_s": cpu1[name] - cpu0[name],
                "roles": [procstat.role(p) for p in pids],
            }
        agent_status = procstat.status_kib(self.agent.pid)
        return {
            "wall_s": wall, "rows": rows, "state": state, "targets": self.targets,
            "load": (load0, os.getloadavg()),
            "agent_status": agent_status,
            "agent_files": smaps_breakdown.breakdown(self.agent.pid),
            "harness_cpu_s": (rusage1.ru_utime + rusage1.ru_stime)
                             - (rusage0.ru_utime + rusage0.ru_stime),
            "targets_cpu_s": sum(targets_cpu1.values()) - sum(targets_cpu0.values()),
            "versions": {
                "xunjian-agent": version_of([a.agent, "--version"], r"(\d+\.\d+\.\d+\S*)")
                                 + f", {a.commit}",
                "prometheus-node-exporter": version_of([NODE_EXPORTER, "--version"],
                                                       r"version (\S+)"),
                "zabbix_agentd": version_of([ZABBIX_AGENTD, "-V"], r"\(Zabbix\) (\S+)"),
            },
            "agent_log_tail": tail(os.path.join(self.dir, "xunjian-agent.log")),
        }


def tail(path, n=5):
    try:
        with open(path, errors="replace") as f:
            return f.readlines()[-n:]
    except OSError:
        return []


def main():
    ap = argparse.ArgumentParser(description=" ".join(__doc__.split("\n\n")[0].split()))
    ap.add_argument("--agent", required=True, help="xunjian-agent binary")
    ap.add_argument("--duration", type=int, default=120, help="measured seconds (default 120)")
    ap.add_argument("--interval", type=int, default=10, help="check/poll interval, s (default 10)")
    ap.add_argument("--sample", type=int, default=5, help="RSS sampling period, s (default 5)")
    ap.add_argument("--no-agent-metrics", dest="agent_metrics", action="store_false",
                    help="run the agent with metrics_listen: off (default: on and scraped)")
    ap.add_argument("--commit", default="unknown", help="git commit of the agent build")
    ap.add_argument("--build", default="not given (--build)",
                    help="how the agent was built, for the report")
    ap.add_argument("--write", metavar="DOC", help="also update this markdown file")
    ap.add_argument("--keep", action="store_true", help="keep the work dir (configs, logs)")
    ap.add_argument("--compare", action="append", metavar="AGENT",
                    help="another xunjian-agent binary run beside the first over the same targets "
                         "(repeatable); its peak RSS and CPU are printed to stderr, not reported")
    args = ap.parse_args()

    # SIGTERM/SIGHUP end the run like Ctrl-C does, so the finally below stops what we started.
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, lambda signum, frame: sys.exit(f"footprint: stopped by signal {signum}"))
    h = Harness(args)
    started = datetime.datetime.now().astimezone()
    print(f"footprint: work dir {h.dir}; warm-up {args.interval} s, then {args.duration} s "
          f"measured", file=sys.stderr)
    try:
        result = h.run()
    finally:
        h.stop_all()
        if not args.keep:
            shutil.rmtree(h.dir, ignore_errors=True)
    result["args"] = args
    result["started"] = started
    text = report.render(result)
    print(text)
    if args.compare:
        wall = result["wall_s"]
        print("footprint: side by side (same targets, same window):", file=sys.stderr)
        for name in ["xunjian-agent"] + [n for n in result["rows"] if n.startswith("compare ")]:
            row = result["rows"][name]
            label = f"{name}: {args.agent}" if name == "xunjian-agent" else name
            print(f"  {label}: peak RSS {row['hwm_kib'] / 1024:.1f} MiB, CPU {row['cpu_s']:.2f} s "
                  f"= {row['cpu_s'] / wall * 100:.3f} %", file=sys.stderr)
    if args.write:
        report.write_doc(args.write, text)
        print(f"footprint: updated {args.write}", file=sys.stderr)


if __name__ == "__main__":
    main()
