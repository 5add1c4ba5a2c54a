#!/usr/bin/env python3
"""Where a process's resident pages come from, from /proc/PID/smaps (Linux, python3 stdlib).

  smaps_breakdown.py PID            table of resident KiB per mapped file and per kind of
                                    anonymous memory, split into code (r-x), read-only data
                                    (r--, incl. RELRO) and writable data (rw-)
  smaps_breakdown.py --markdown PID the same as a markdown table (for docs/benchmarks.md)

Anonymous mappings are told apart by shape: [heap] is the main arena (brk), an rw-p mapping
right after a ---p guard mapping of the same size class is a thread stack or a malloc arena
(glibc reserves arenas as 64 MiB with the tail PROT_NONE, stacks have the guard *before*),
the rest is "other anon" (mmap'd allocations, ld.so, libraries' bss).
"""

import argparse
import os
import sys

KIB_KEYS = ("Rss", "Pss", "Private_Clean", "Private_Dirty", "Shared_Clean", "Shared_Dirty",
            "Anonymous")


def parse(text):
    """List of mappings: dict(start, end, perms, name, Rss, Pss, ...) in address order."""
    maps = []
    for line in text.splitlines():
        first = line.split(None, 1)[0] if line.strip() else ""
        if "-" in first and not first.endswith(":"):
            fields = line.split(None, 5)
            lo, hi = (int(x, 16) for x in fields[0].split("-"))
            maps.append({"start": lo, "end": hi, "perms": fields[1],
                         "name": fields[5].strip() if len(fields) == 6 else ""})
        elif first.rstrip(":") in KIB_KEYS and maps:
            maps[-1][first.rstrip(":")] = int(line.split()[1])
    return maps


def classify(maps, thread_stacks):
    """(group, part) for each mapping: group is a file path or an anon kind."""
    out = []
    for i, m in enumerate(maps):
        name, perms = m["name"], m["perms"]
        part = {"r-x": "code", "r--": "rodata", "rw-": "data"}.get(perms[:3], perms[:3])
        if name and not name.startswith("["):
            group = name
        elif name in ("[heap]", "[stack]", "[vdso]", "[vvar]"):
            group = name
        elif (m["start"], m["end"]) in thread_stacks:
            group = "[thread stacks]"
        elif perms.startswith("rw") and i + 1 < len(maps) and maps[i + 1]["perms"] == "---p" \
                and maps[i + 1]["start"] == m["end"]:
            group = "[malloc arenas]"  # glibc arena: used head rw-p, reserved tail ---p
        elif perms.startswith("---"):
            group = "[guard / reserved]"
        elif i > 0 and maps[i - 1]["name"] and not maps[i - 1]["name"].startswith("[") \
                and perms.startswith("rw"):
            group = maps[i - 1]["name"] + " (bss)"
        else:
            group = "[other anon]"
        out.append((group, part))
    return out


def breakdown(pid):
    with open(f"/proc/{pid}/smaps") as f:
        maps = parse(f.read())
    # Thread stacks: glibc allocates them as one mmap with the guard page at its low end,
    # so a ---p page directly followed by an rw-p mapping is a stack (kstkesp is 0 here).
    stacks = set()
    for a, b in zip(maps, maps[1:]):
        if a["perms"] == "---p" and b["perms"] == "rw-p" and a["end"] == b["start"] \
                and not a["name"] and not b["name"] and (a["end"] - a["start"]) <= 1 << 16:
            stacks.add((b["start"], b["end"]))
    rows = {}
    for m, (group, part) in zip(maps, classify(maps, stacks)):
        r = rows.setdefault(group, {"code": 0, "rodata": 0, "data": 0, "other": 0, "rss": 0,
                                    "pss": 0, "private": 0, "vsz": 0})
        r[part if part in ("code", "rodata", "data") else "other"] += m.get("Rss", 0)
        r["rss"] += m.get("Rss", 0)
        r["pss"] += m.get("Pss", 0)
        r["private"] += m.get("Private_Clean", 0) + m.get("Private_Dirty", 0)
        r["vsz"] += (m["end"] - m["start"]) // 1024
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("pid", type=int)
    ap.add_argument("--markdown", action="store_true")
    ap.add_argument("--top", type=int, default=40)
    a = ap.parse_args()
    rows = breakdown(a.pid)
    order = sorted(rows.items(), key=lambda kv: -kv[1]["rss"])
    total = {k: sum(r[k] for r in rows.values()) for k in ("rss", "pss", "private", "code",
                                                              "rodata", "data")}
    cols = ("rss", "code", "rodata", "data", "private", "pss")
    if a.markdown:
        print("| mapping | RSS KiB | code | read-only data | writable data | private | PSS |")
        print("|---|---|---|---|---|---|---|")
        for name, r in order[:a.top]:
            if r["rss"]:
                print(f"| `{name}` | " + " | ".join(str(r[c]) for c in cols) + " |")
        print("| **total** | " + " | ".join(str(total[c]) for c in cols) + " |")
    else:
        print(f"{'mapping':60} {'rss':>6} {'code':>6} {'ro':>6} {'rw':>6} {'priv':>6} {'pss':>6}")
        for name, r in order[:a.top]:
            if r["rss"]:
                print(f"{name[-60:]:60} " + " ".join(f"{r[c]:6}" for c in cols))
        print(f"{'total':60} " + " ".join(f"{total[c]:6}" for c in cols))


if __name__ == "__main__":
    sys.exit(main())
