"""Reading a process group's memory and CPU from /proc (Linux only, python3 stdlib).

A "group" is a root pid plus every live descendant, found by walking ppid links, so a
daemon that forks workers (zabbix_agentd) is measured whole.
"""

import os
import time

CLK_TCK = os.sysconf("SC_CLK_TCK")


def parse_stat(text):
    """Fields of /proc/PID/stat we use: ppid, utime+stime and cutime+cstime in ticks.

    comm (field 2) may hold spaces and parentheses, so split after the last ')'.
    """
    rest = text[text.rindex(")") + 2:].split()
    # rest[0] is field 3 (state); utime is field 14, so rest index = field - 3.
    return {
        "ppid": int(rest[1]),
        "self_ticks": int(rest[11]) + int(rest[12]),
        "child_ticks": int(rest[13]) + int(rest[14]),
    }


def parse_status_kib(text):
    """The 'Key:  N kB' lines of /proc/PID/status (or smaps_rollup) as {key: KiB}."""
    out = {}
    for line in text.splitlines():
        key, _, value = line.partition(":")
        parts = value.split()
        if len(parts) == 2 and parts[1] == "kB":
            out[key.strip()] = int(parts[0])
        elif key == "Threads":
            out[key] = int(parts[0])
    return out


def _read(path):
    with open(path, encoding="utf-8", errors="replace") as f:
        return f.read()


def all_stats():
    """{pid: parsed stat} for every process we can read right now."""
    stats = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stats[int(entry)] = parse_stat(_read(f"/proc/{entry}/stat"))
            except (OSError, ValueError, IndexError):
                pass  # exited between listdir and open
    return stats


def group_pids(root, stats):
    """root and its live descendants, root first."""
    children = {}
    for pid, st in stats.items():
        children.setdefault(st["ppid"], []).append(pid)
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        if pid in stats:
            out.append(pid)
            todo.extend(children.get(pid, []))
    return out


def group_cpu_ticks(root, stats):
    """CPU ticks of the group: own + reaped children's time of every live member.

    A reaped process's time lands in its parent's cutime, so this total only grows while
    the root lives, even when workers come and go.
    """
    return sum(stats[p]["self_ticks"] + stats[p]["child_ticks"] for p in group_pids(root, stats))


def process_cpu_ns(pid):
    """The process's CPU time in ns, exact: the kernel's per-process scheduler clock
    (clock_gettime on the clock id clock_getcpuclockid(pid) gives, CPUCLOCK_SCHED: the summed
    sum_exec_runtime of all its threads, exited ones included). 0 when it is gone."""
    try:
        return time.clock_gettime_ns(((~pid) << 3) | 2)
    except OSError:
        return 0


def group_cpu_exact_s(root, stats):
    """CPU seconds of the group from the scheduler clocks of its live members, plus reaped
    children's time, which only /proc/PID/stat keeps (in ticks).

    utime+stime in /proc/PID/stat are sampled at the timer tick (4 ms at HZ=250): exact
    enough over 120 s here, but a program running in sub-millisecond bursts is charged in
    whole ticks, so the scheduler clock is the better count.
    """
    pids = group_pids(root, stats)
    return (sum(process_cpu_ns(p) for p in pids) / 1e9
            + sum(stats[p]["child_ticks"] for p in pids) / CLK_TCK)


def role(pid):
    """What the process says it is: zabbix_agentd rewrites its argv to "zabbix_agentd:
    collector [idle 1 sec]", so the part after ': ' up to ' [' names the worker."""
    try:
        argv = _read(f"/proc/{pid}/cmdline").split("\0")[0]
    except OSError:
        return "?"
    name, sep, what = argv.partition(": ")
    return what.split(" [")[0].rstrip("#0123456789 ") if sep else "main"


def status_kib(pid):
    try:
        return parse_status_kib(_read(f"/proc/{pid}/status"))
    except OSError:
        return {}


def rollup_kib(pid):
    try:
        return parse_status_kib(_read(f"/proc/{pid}/smaps_rollup"))
    except OSError:
        return {}


def group_sum(root, stats, key, reader=status_kib):
    """Sum of one /proc/PID/status (or rollup) field over the group, KiB."""
    return sum(reader(p).get(key, 0) for p in group_pids(root, stats))
