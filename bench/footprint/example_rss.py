#!/usr/bin/env python3
"""Resident memory of xunjian-agent builds with the shipped example config, side by side.

  example_rss.py --agent A [--agent B ...] [--duration 75] [--config FILE] [--breakdown]
                 [--spool-rows N]

Every agent given runs `run -c` at the same time over the same config: by default
packaging/examples/agent.yaml (what the .deb installs as /etc/xunjian/agent.yaml) with only
state_dir (a temp dir per agent) and metrics_listen (a free 127.0.0.1 port) replaced. Each
agent's /metrics is scraped every 10 s, as a Prometheus server would. After --duration
seconds (default 75: the 10 s start splay, every check's first run and the second round of
the 60 s interval) it prints, per agent, VmHWM (peak RSS), VmRSS = RssAnon + RssFile, PSS
from smaps_rollup and the thread count, then (--breakdown) the resident pages per mapping
from smaps_breakdown.py. --spool-rows N starts each agent on a spool already holding N
unshipped results (about 400 bytes of JSON each), as after a collector outage: the agent
reads the whole spool at start-up to count it. Running the builds at the same moment keeps the comparison fair
(same files in the page cache, same machine state); RSS does not depend on the load.
"""

import argparse
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time

import procstat
import smaps_breakdown

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def site_config(src, state_dir, port):
    """The example config with this run's state_dir and metrics_listen; the rest verbatim."""
    text = open(src, encoding="utf-8").read()
    for key, value in (("state_dir", state_dir), ("metrics_listen", f"127.0.0.1:{port}")):
        text, n = re.subn(rf"^(\s*){key}:\s*\S+", rf"\g<1>{key}: {value}", text, count=1,
                          flags=re.M)
        if n != 1:
            sys.exit(f"example_rss: {src}: no '{key}:' line under agent: to replace")
    return text


def fill_spool(path, rows):
    """A spool (the agent's schema, version 2) with rows unshipped results."""
    db = sqlite3.connect(path)
    db.execute("PRAGMA journal_mode=WAL")
    db.executescript(
        "CREATE TABLE results(seq INTEGER PRIMARY KEY AUTOINCREMENT, ts INTEGER NOT NULL,"
        " check_id TEXT NOT NULL, body TEXT NOT NULL);"
        "CREATE TABLE gaps(from_seq INTEGER PRIMARY KEY, to_seq INTEGER NOT NULL,"
        " count INTEGER NOT NULL, from_ts INTEGER NOT NULL, to_ts INTEGER NOT NULL);"
        "CREATE TABLE rejected(seq INTEGER PRIMARY KEY, ts INTEGER NOT NULL,"
        " check_id TEXT NOT NULL, body TEXT NOT NULL, reason TEXT NOT NULL,"
        " rejected_ts INTEGER NOT NULL);"
        "PRAGMA user_version=2;")
    now = int(time.time() * 1000)
    body = ('{"check":"disk","kind":"disk","status":"ok","summary":"/ 61% used",'
            '"metrics":[' + ",".join(f'{{"name":"used_pct","value":61.{i},"unit":"%"}}'
                                     for i in range(7)) + ']}')
    db.executemany("INSERT INTO results(ts, check_id, body) VALUES(?, 'disk', ?)",
                   ((now - (rows - i) * 1000, body) for i in range(rows)))
    db.commit()
    db.close()


def scrape(port):
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(b"GET /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
        while s.recv(65536):
            pass


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--agent", action="append", required=True, help="xunjian-agent binary")
    ap.add_argument("--config", default=os.path.join(REPO, "packaging/examples/agent.yaml"))
    ap.add_argument("--duration", type=int, default=75, help="seconds before reading (75)")
    ap.add_argument("--breakdown", action="store_true", help="resident pages per mapping")
    ap.add_argument("--top", type=int, default=18)
    ap.add_argument("--spool-rows", type=int, default=0, help="start on a spool this full")
    a = ap.parse_args()

    work = tempfile.mkdtemp(prefix="xj-example-rss-")
    runs = []
    try:
        for i, binary in enumerate(a.agent):
            d = os.path.join(work, str(i))
            os.makedirs(os.path.join(d, "state"))
            if a.spool_rows:
                fill_spool(os.path.join(d, "state", "spool.db"), a.spool_rows)
            port = free_port()
            cfg = os.path.join(d, "agent.yaml")
            with open(cfg, "w", encoding="utf-8") as f:
                f.write(site_config(a.config, os.path.join(d, "state"), port))
            log = open(os.path.join(d, "agent.log"), "wb")
            p = subprocess.Popen([binary, "run", "-c", cfg], stdout=log, stderr=log,
                                 stdin=subprocess.DEVNULL)
            runs.append({"binary": binary, "proc": p, "port": port, "dir": d})
        end = time.monotonic() + a.duration
        next_scrape = time.monotonic() + 1
        while time.monotonic() < end:
            for r in runs:
                if r["proc"].poll() is not None:
                    sys.exit(f"example_rss: {r['binary']} exited with {r['proc'].returncode}; "
                             f"log: {open(os.path.join(r['dir'], 'agent.log')).read()[-2000:]}")
            if time.monotonic() >= next_scrape:
                for r in runs:
                    try:
                        scrape(r["port"])
                    except OSError as e:
                        print(f"example_rss: scrape of {r['binary']} failed: {e}", file=sys.stderr)
                next_scrape += 10
            time.sleep(0.5)
        for r in runs:
            pid = r["proc"].pid
            st = procstat.status_kib(pid)
            pss = procstat.rollup_kib(pid).get("Pss", 0)
            mib = lambda k: st.get(k, 0) / 1024  # noqa: E731
            print(f"{r['binary']}: VmHWM {mib('VmHWM'):.2f} MiB, VmRSS {mib('VmRSS'):.2f} MiB = "
                  f"RssAnon {mib('RssAnon'):.2f} + RssFile {mib('RssFile'):.2f} + RssShmem "
                  f"{mib('RssShmem'):.2f}; PSS {pss / 1024:.2f} MiB; {st.get('Threads', '?')} "
                  f"threads")
            if a.breakdown:
                rows = smaps_breakdown.breakdown(pid)
                print(f"  {'mapping':58} {'rss':>6} {'code':>6} {'ro':>6} {'rw':>6}")
                for name, row in sorted(rows.items(), key=lambda kv: -kv[1]["rss"])[:a.top]:
                    if row["rss"]:
                        print(f"  {name[-58:]:58} {row['rss']:6} {row['code']:6} "
                              f"{row['rodata']:6} {row['data']:6}")
    finally:
        for r in runs:
            if r["proc"].poll() is None:
                r["proc"].send_signal(signal.SIGTERM)
        for r in runs:
            try:
                r["proc"].wait(timeout=15)
            except subprocess.TimeoutExpired:
                r["proc"].kill()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
