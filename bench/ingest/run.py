#!/usr/bin/env python3
"""Ingest benchmark (issue 3): a fresh collector on 127.0.0.1, N simulated agents x M checks
posting over keep-alive HTTP for a fixed time (ingest_load), then -- in the same run, on the
same machine -- the same rows inserted straight into SQLite (ingest_raw_sqlite).

Called by bench/ingest_bench.sh after the Release build; directly only with built binaries:

  run.py --bin-dir build-ingest-rel [--duration 60] [--write docs/benchmarks.md]
"""

import argparse
import datetime
import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time

import report


def sizes(db):
    """Bytes of the store file and its WAL and shared-memory files (0 when absent)."""
    return {ext or "db": os.path.getsize(db + ext) if os.path.exists(db + ext) else 0
            for ext in ("", "-wal", "-shm")}


def count_results(db):
    """Stored results, counted in the store itself (read-only; WAL lets it read while the
    collector writes). seq > 0 are the agents'; seq 0 are collector-made (host:alive)."""
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        agent, made = con.execute(
            "SELECT count(*) FILTER (WHERE seq > 0), count(*) FILTER (WHERE seq = 0)"
            " FROM results").fetchone()
        # Exactly once: no (agent, seq) twice.
        distinct = con.execute(
            "SELECT count(*) FROM (SELECT DISTINCT hid, seq FROM results WHERE seq > 0)").fetchone()[0]
        samples = con.execute("SELECT count(*) FROM samples").fetchone()[0]
        hosts = con.execute("SELECT count(*) FROM hosts").fetchone()[0]
        return {"agent_results": agent, "collector_made": made, "distinct_agent_seq": distinct,
                "samples": samples, "hosts": hosts}
    finally:
        con.close()


def compilers():
    """How many compiler processes run right now: the machine is shared with other builds."""
    n = 0
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/comm") as f:
                n += f.read().strip() in ("cc1plus", "cc1", "ld", "ld.gold", "collect2")
        except OSError:
            pass
    return n


def proc_memory(pid):
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("VmRSS", "VmHWM", "Threads"):
                out[k] = int(v.split()[0])
    return out


def wait_port(log_path, proc, timeout=30.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc.poll() is not None:
            sys.exit(f"ingest bench: the collector exited with code {proc.returncode}; see {log_path}")
        with open(log_path, encoding="utf-8", errors="replace") as f:
            m = re.search(r"event=collector_started .*?port=(\d+)", f.read())
        if m:
            return int(m.group(1))
        time.sleep(0.1)
    sys.exit(f"ingest bench: the collector did not start listening within {timeout:.0f} s; see {log_path}")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--bin-dir", required=True, help="CMake build dir with XJ_BENCH=ON")
    p.add_argument("--agents", type=int, default=10_000)
    p.add_argument("--checks", type=int, default=20, help="checks per agent = results per batch")
    p.add_argument("--concurrency", type=int, default=64, help="keep-alive connections")
    p.add_argument("--collector-threads", type=int, default=0,
                   help="collector.threads (default: not set, the collector's own default)")
    p.add_argument("--warmup", type=float, default=10.0,
                   help="seconds of warm-up, and until every agent posted once")
    p.add_argument("--duration", type=float, default=60.0, help="seconds measured, each phase")
    p.add_argument("--raw-txn", type=int, default=5000, help="results per raw SQLite transaction")
    p.add_argument("--nice", type=int, default=0,
                   help="run collector, load generator and raw program at this nice value "
                        "(e.g. -10 as root, to measure past other jobs on a shared machine)")
    p.add_argument("--heartbeat", default="10m",
                   help="collector.heartbeat; the closed loop reaches each agent only every "
                        "agents / requests-per-second seconds, and with the 30 s default a slow "
                        "run would have the collector declare thousands of hosts silent -- "
                        "liveness work, not ingest")
    p.add_argument("--variant", default="",
                   help="with --write: a separate block of its own (e.g. threads16), so "
                        "several configurations can be kept side by side")
    p.add_argument("--commit", default="?", help="what was built, for the report")
    p.add_argument("--write", metavar="DOC", help="update this markdown file between the markers")
    p.add_argument("--keep", action="store_true", help="keep the work dir (stores, logs)")
    a = p.parse_args()

    binary = {n: os.path.join(a.bin_dir, *n.split("/")) for n in
              ("collector/xunjian-collector", "bench/ingest_load", "bench/ingest_tokens",
               "bench/ingest_raw_sqlite")}
    nice = ["nice", "-n", str(a.nice)] if a.nice else []
    work = tempfile.mkdtemp(prefix="xj-ingest-")
    db = os.path.join(work, "collector.db")
    r = {"args": vars(a), "started": datetime.datetime.now(datetime.timezone.utc),
         "machine": report.machine(), "work": work}
    collector = None
    try:
        t0 = time.monotonic()
        subprocess.run([binary["bench/ingest_tokens"], db, str(a.agents),
                        os.path.join(work, "tokens.txt")], check=True)
        r["tokens_s"] = time.monotonic() - t0
        threads = f"  threads: {a.collector_threads}\n" if a.collector_threads else ""
        with open(os.path.join(work, "collector.yaml"), "w") as f:
            # Port 0: the kernel picks a free port at run time; the collector logs it.
            f.write(f"collector:\n  listen: 127.0.0.1:0\n  store: {db}\n{threads}"
                    f"  heartbeat: {a.heartbeat}\n  log_level: info\ncontract:\n  customer: ingest benchmark\n")
        log_path = os.path.join(work, "collector.log")
        log = open(log_path, "w")
        collector = subprocess.Popen(nice + [binary["collector/xunjian-collector"], "serve", "-c",
                                      os.path.join(work, "collector.yaml")],
                                     stdout=log, stderr=subprocess.STDOUT)
        port = wait_port(log_path, collector)
        r["http_load"] = (os.getloadavg(), None)
        r["compilers"] = [compilers(), None]
        load = subprocess.run(nice + [binary["bench/ingest_load"], "--port", str(port), "--tokens",
                               os.path.join(work, "tokens.txt"), "--checks", str(a.checks),
                               "--concurrency", str(a.concurrency), "--warmup", str(a.warmup),
                               "--duration", str(a.duration), "--collector-pid", str(collector.pid),
                               "--json", os.path.join(work, "load.json")])
        r["http_load"] = (r["http_load"][0], os.getloadavg())
        r["compilers"][1] = compilers()
        r["load_rc"] = load.returncode
        with open(os.path.join(work, "load.json")) as f:
            r["load"] = json.load(f)
        r["collector_mem_end"] = proc_memory(collector.pid)
        r["store_running"] = sizes(db)
        r["stored_running"] = count_results(db)
        collector.send_signal(signal.SIGTERM)
        collector.wait(timeout=60)
        r["collector_rc"] = collector.returncode
        collector = None
        # At rest: the last connection to close checkpoints the WAL into the file.
        r["store_closed"] = sizes(db)
        r["stored"] = count_results(db)

        raw_db = os.path.join(work, "raw.db")
        r["raw_load"] = (os.getloadavg(), None)
        subprocess.run(nice + [binary["bench/ingest_raw_sqlite"], "--db", raw_db, "--agents",
                        str(a.agents), "--checks", str(a.checks), "--duration", str(a.duration),
                        "--txn-results", str(a.raw_txn), "--json", os.path.join(work, "raw.json")],
                       check=True)
        r["raw_load"] = (r["raw_load"][0], os.getloadavg())
        with open(os.path.join(work, "raw.json")) as f:
            r["raw"] = json.load(f)
        r["raw_store"] = sizes(raw_db)
    finally:
        if collector is not None:
            collector.kill()
            collector.wait()
        if not a.keep:
            shutil.rmtree(work, ignore_errors=True)

    text, ok = report.render(r)
    print()
    print(text, end="")
    if a.keep:
        print(f"\nwork dir kept: {work}")
    if a.write:
        report.write_doc(a.write, text, a.variant)
        print(f"ingest bench: updated {a.write}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
