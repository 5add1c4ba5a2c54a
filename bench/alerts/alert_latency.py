#!/usr/bin/env python3
"""Alert latency and storm benchmark driver (bench/alert_latency_bench.sh runs it).

Starts a real xunjian-collector (the binary given) with one WeCom channel pointing at
tests/fixtures/robot_receiver.py, posts failing results through the agent wire API
(POST /api/v1/results, one agent token per host) and reads, per outbox row, the collector's
commit time (outbox.created, written in the transaction of the alert state change) against
the receiver's receipt time (its log's "at"). Same machine, same clock.

  latency  N alerts with for: 0, spaced so each opens its own quiet group (grouping on,
           window 10s: hosts round-robin, a host's alerts more than a window apart), or with
           grouping off; rate limits and the storm digest off, so nothing is held on purpose.
           Prints p50/p99/max of commit -> receipt.
  storm    N alerts as fast as they can be posted, the defaults (grouping 10s, storm
           threshold 20/min, digest every 10s) and 20/min on both the channel and the
           receiver: time from the first commit to the last receipt, messages sent, and
           whether the receiver ever rejected one (rate or size).
"""
import argparse
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def post(url, token, body):
    req = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                 headers={"Authorization": "Bearer " + token,
                                          "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        return r.status


def wait_for(pred, timeout, what):
    end = time.time() + timeout
    while time.time() < end:
        if pred():
            return
        time.sleep(0.05)
    sys.exit("alert_latency: timed out waiting for " + what)


class Rig:
    def __init__(self, collector, work, grouping, storm, rate, hosts):
        self.collector, self.work = collector, work
        os.makedirs(work, exist_ok=True)
        self.rx_log = os.path.join(work, "rx.jsonl")
        port_file = os.path.join(work, "rx.port")
        self.rx = subprocess.Popen([sys.executable, os.path.join(ROOT, "tests/fixtures/robot_receiver.py"),
                                    "--port-file", port_file, "--log", self.rx_log,
                                    "--rate", str(rate if rate > 0 else 10**9)])
        wait_for(lambda: os.path.exists(port_file), 15, "the receiver")
        rx_port = int(open(port_file).read())
        import socket
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        self.port = s.getsockname()[1]
        s.close()
        self.url = "http://127.0.0.1:%d" % self.port
        self.db = os.path.join(work, "collector.db")
        self.cfg = os.path.join(work, "collector.yaml")
        with open(self.cfg, "w") as f:
            f.write("collector:\n  listen: 127.0.0.1:%d\n  store: %s\n  log_level: warn\n"
                    "contract:\n  customer: bench\n"
                    "alerts:\n  for_critical: 0s\n  incidents: {enabled: false}\n"
                    "  grouping: %s\n  storm: %s\n"
                    "  channels:\n    - name: ops\n      type: wecom\n"
                    "      url: http://127.0.0.1:%d/cgi-bin/webhook/send\n"
                    "      key_env: XJ_BENCH_WECOM_KEY\n      rate_per_minute: %d\n"
                    % (self.port, self.db, grouping, storm, rx_port, rate))
        env = dict(os.environ, XJ_BENCH_WECOM_KEY="wecom-key")
        self.tokens = {}
        for h in range(hosts):
            agent = "bench-%03d" % h
            out = subprocess.run([collector, "token", "create", "--agent", agent, "-c", self.cfg],
                                 check=True, capture_output=True, text=True, env=env).stdout
            self.tokens[agent] = [l for l in out.splitlines() if l.strip()][-1].split()[-1]
        self.proc = subprocess.Popen([collector, "serve", "-c", self.cfg], env=env,
                                     stdout=open(os.path.join(work, "collector.log"), "w"),
                                     stderr=subprocess.STDOUT)

        def up():
            try:
                return urllib.request.urlopen(self.url + "/healthz", timeout=1).status == 200
            except OSError:
                return False
        wait_for(up, 20, "the collector")
        self.seq = {}

    def fail(self, agent, check):
        seq = self.seq.get(agent, 0) + 1
        self.seq[agent] = seq
        body = {"agent": {"id": agent, "hostname": agent, "version": "bench", "labels": {"system": "bench"}},
                "results": [{"seq": seq, "check": check, "kind": "bench", "status": "critical",
                             "summary": "bench failure", "metrics": [], "ts": int(time.time() * 1000)}]}
        post(self.url + "/api/v1/results", self.tokens[agent], body)

    def delivered(self):
        with sqlite3.connect(self.db) as c:
            return c.execute("SELECT count(*) FROM outbox WHERE status = 1").fetchone()[0]

    def rows(self):
        with sqlite3.connect(self.db) as c:
            return c.execute("SELECT idem_key, created, delivered FROM outbox WHERE status = 1").fetchall()

    def received(self):
        out = []
        for line in open(self.rx_log, encoding="utf-8"):
            out.append(json.loads(line))
        return out

    def close(self):
        self.proc.terminate()
        self.proc.wait(10)
        self.rx.kill()
        self.rx.wait()


def pct(values, p):
    v = sorted(values)
    return v[min(len(v) - 1, int(round(p / 100.0 * (len(v) - 1))))]


def latency(args, grouping_on):
    hosts = args.hosts if grouping_on else 1
    # A host's alerts more than a window apart: each is the first of a quiet group.
    gap = 11.0 / hosts if grouping_on else args.gap
    rig = Rig(args.collector, os.path.join(args.work, "latency-" + ("grouped" if grouping_on else "single")),
              "{by: [host], window: 10s}" if grouping_on else "{window: 0s}", "{threshold: 0}", 0, hosts)
    try:
        names = sorted(rig.tokens)
        for i in range(args.n):
            t = time.time()
            rig.fail(names[i % hosts], "bench:c%d" % i)
            time.sleep(max(0.0, gap - (time.time() - t)))
        wait_for(lambda: rig.delivered() >= args.n, 120, "every message")
        time.sleep(0.5)
        got = {}
        for e in rig.received():
            if e.get("service") == "wecom":
                got[e["key"]] = e["at"] * 1000.0
        lat = []
        combined = 0
        for key, created, _ in rig.rows():
            if key in got:
                lat.append(got[key] - created)
            else:
                combined += 1
        rejected = sum(1 for e in rig.received() if "rejected" in e)
        label = "grouping on (10s window, each alert its own group)" if grouping_on else "grouping off"
        print("latency, %s: n=%d p50=%.1f ms p99=%.1f ms max=%.1f ms combined=%d rejected=%d"
              % (label, len(lat), pct(lat, 50), pct(lat, 99), max(lat), combined, rejected))
    finally:
        rig.close()


def storm(args):
    hosts = min(args.hosts, args.n)
    rig = Rig(args.collector, os.path.join(args.work, "storm"), "{by: [host], window: 10s}",
              "{threshold: 20, interval: 10s}", 20, hosts)
    try:
        names = sorted(rig.tokens)
        for i in range(args.n):
            rig.fail(names[i % hosts], "bench:s%d" % i)
        wait_for(lambda: rig.delivered() >= args.n, 600, "every alert of the storm")
        time.sleep(0.5)
        with sqlite3.connect(rig.db) as c:
            first = c.execute("SELECT min(created) FROM outbox").fetchone()[0]
        got = [e for e in rig.received() if e.get("service") == "wecom"]
        rejected = sum(1 for e in rig.received() if "rejected" in e)
        members = sum(e.get("members", 1) for e in got)
        last = max(e["at"] for e in got) * 1000.0
        print("storm: %d alerts, %d messages (%d digests) carrying %d alerts, first commit -> last receipt %.1f s, rejected=%d"
              % (args.n, len(got), sum(1 for e in got if "告警风暴" in e["content"]), members,
                 (last - first) / 1000.0, rejected))
    finally:
        rig.close()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--collector", required=True)
    p.add_argument("--n", type=int, default=1000)
    p.add_argument("--hosts", type=int, default=100)
    p.add_argument("--gap", type=float, default=0.02, help="seconds between alerts with grouping off")
    p.add_argument("--only", choices=["grouped", "single", "storm"])
    args = p.parse_args()
    args.work = tempfile.mkdtemp(prefix="xunjian-alert-bench-")
    try:
        if args.only in (None, "grouped"):
            latency(args, True)
        if args.only in (None, "single"):
            latency(args, False)
        if args.only in (None, "storm"):
            storm(args)
    finally:
        shutil.rmtree(args.work, ignore_errors=True)


if __name__ == "__main__":
    main()
