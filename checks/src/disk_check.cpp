#include "xj/checks/disk_check.hpp"

#include <sys/statvfs.h>

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <mutex>
#include <thread>

#include "xj/checks/host_access.hpp"
#include "xj/checks/io_util.hpp"
#include "xj/checks/kinds.hpp"
#include "xj/common/duration.hpp"

namespace xj {

DiskUsage compute_disk_usage(const FsStats& st) {
  DiskUsage u;
  const std::uint64_t used = st.blocks > st.bfree ? st.blocks - st.bfree : 0;
  const std::uint64_t denominator = used + st.bavail;
  u.used_pct =
      denominator == 0 ? 0.0 : 100.0 * static_cast<double>(used) / static_cast<double>(denominator);
  u.used_bytes = used * st.block_size;
  u.free_bytes = st.bavail * st.block_size;
  u.total_bytes = st.blocks * st.block_size;
  if (st.files > 0) {
    const std::uint64_t iused = st.files > st.ffree ? st.files - st.ffree : 0;
    u.inodes_used_pct = 100.0 * static_cast<double>(iused) / static_cast<double>(st.files);
  }
  return u;
}

namespace {

using Clock = std::chrono::steady_clock;

// statvfs() of a hung NFS or FUSE mount blocks in the kernel, possibly for ever. Each probe
// runs on its own detached thread, so one dead mount costs one parked thread and a critical
// line, not the whole check; the other mounts are still measured.
struct StatProbe {
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  int error = 0;
  FsStats stats;
  Clock::time_point started = Clock::now();
};

void run_statvfs(StatProbe& p, const std::string& path) {
  struct statvfs sv {};
  int rc = ::statvfs(path.c_str(), &sv);
  int err = rc == 0 ? 0 : errno;
  std::lock_guard lock(p.mu);
  p.error = err;
  p.stats = {sv.f_frsize != 0 ? sv.f_frsize : sv.f_bsize,
             sv.f_blocks,
             sv.f_bfree,
             sv.f_bavail,
             sv.f_files,
             sv.f_ffree};
  p.done = true;
  p.cv.notify_all();
}

std::shared_ptr<StatProbe> start_probe(const std::string& path) {
  auto p = std::make_shared<StatProbe>();
  try {
    std::thread([p, path] { run_statvfs(*p, path); }).detach();
  } catch (const std::system_error&) {
    run_statvfs(*p, path);  // no thread to spare: measure inline rather than not at all
  }
  return p;
}

std::string seconds_text(Clock::duration d) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1fs", std::chrono::duration<double>(d).count());
  return buf;
}

std::string pct_text(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f%%", v);
  return buf;
}

std::string normalise_mount_path(std::string p) {
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  return p;
}

// One filesystem's outcome: its usage, or the problem that kept us from measuring it.
struct MountOutcome {
  explicit MountOutcome(MountEntry e, Status s = Status::kOk) : entry(std::move(e)), status(s) {}
  MountEntry entry;
  Status status = Status::kOk;
  std::optional<DiskUsage> usage;
  std::string problem;  // "is not mounted", "not responding: ..."
  int error = 0;        // errno of a failed statvfs
  bool inode_alert = false;
};

class DiskCheck : public Check {
 public:
  DiskCheck(std::string id, const CheckOptions& o)
      : Check(std::move(id), "disk"),
        mounts_(o.list("mounts")),
        exclude_types_(o.list("exclude_types")),
        mount_table_(o.str("mount_table")),
        warn_(o.threshold("warn")),
        crit_(o.threshold("crit")),
        inode_warn_(o.threshold("inode_warn")),
        inode_crit_(o.threshold("inode_crit")),
        host_(o.env().host) {
    for (auto& m : mounts_) {
      if (m.empty() || m.front() != '/') o.fail("mounts", "'" + m + "' is not an absolute path");
      m = normalise_mount_path(m);
    }
    for (const auto& m : mounts_) {
      if (std::count(mounts_.begin(), mounts_.end(), m) > 1) {
        o.fail("mounts", "'" + m + "' is listed twice");
      }
    }
  }

  Result run(const RunContext& ctx) override {
    auto text = read_host_file(host_.get(), mount_table_, ctx);
    if (!text) return unknown(text.error());
    const std::vector<MountEntry> table = parse_mounts(*text);

    std::vector<MountOutcome> outcomes;
    if (mounts_.empty()) {
      for (auto& e : select_real_filesystems(table, exclude_types_)) outcomes.emplace_back(e);
      if (outcomes.empty()) {
        return unknown("no real filesystems in " + mount_table_ + " (all " +
                       std::to_string(table.size()) + " mounts are pseudo or excluded types)");
      }
    } else {
      for (const auto& m : mounts_) outcomes.push_back(resolve_configured(table, m));
    }
    if (host_) {
      if (auto measured = measure_remote(outcomes, ctx); !measured) return unknown(measured.error());
    } else {
      measure(outcomes, ctx);
    }
    if (mounts_.empty()) {
      // Dummy filesystems report zero blocks (df hides them too), and a FUSE mount without
      // allow_other refuses even root: neither is storage this host's operators look after.
      std::erase_if(outcomes, [](const MountOutcome& o) {
        return (o.usage && o.usage->total_bytes == 0) || o.error == EACCES;
      });
      if (outcomes.empty()) return unknown("no filesystem with any blocks in " + mount_table_);
    }

    Result r = make_result();
    r.details["filesystems"] = nlohmann::json::array();
    for (auto& o : outcomes) {
      nlohmann::json fs{
          {"mount", o.entry.mount_point}, {"device", o.entry.device}, {"type", o.entry.fs_type}};
      if (!o.problem.empty()) fs["problem"] = o.problem;
      r.details["filesystems"].push_back(std::move(fs));
      if (o.usage) add_metrics(r, o);
      r.status = worst(r.status, o.status);
    }
    r.summary = summarise(outcomes);
    return r;
  }

 private:
  MountOutcome resolve_configured(const std::vector<MountEntry>& table,
                                  const std::string& m) const {
    // Exact match first, without touching the path: stat() on a hung mount would block.
    auto find = [&](const std::string& p) -> const MountEntry* {
      for (auto it = table.rbegin(); it != table.rend(); ++it) {
        if (it->mount_point == p) return &*it;
      }
      for (auto it = table.rbegin(); it != table.rend(); ++it) {
        if (it->device == p) return &*it;
      }
      return nullptr;
    };
    if (const MountEntry* e = find(m)) return MountOutcome(*e);
    MountOutcome o(MountEntry{"", m, "", ""}, Status::kCritical);
    if (host_) {  // the remote path cannot be looked at from here
      o.problem = "is not mounted: no mount point or device of that name in " + mount_table_;
      return o;
    }
    std::error_code ec;
    if (!std::filesystem::exists(m, ec)) {
      o.problem = "is not mounted: the path does not exist";
      return o;
    }
    std::string canonical = std::filesystem::canonical(m, ec).string();
    if (!ec && canonical != m) {
      if (const MountEntry* e = find(canonical)) return MountOutcome(*e);
    }
    o.problem = std::filesystem::is_directory(m, ec)
                    ? "is not mounted: it is a plain directory on the filesystem above it"
                    : "is not mounted: no mount point or device of that name in " + mount_table_;
    return o;
  }

  void measure(std::vector<MountOutcome>& outcomes, const RunContext& ctx) {
    std::vector<std::shared_ptr<StatProbe>> probes;
    for (auto& o : outcomes) {
      if (!o.problem.empty()) {
        probes.push_back(nullptr);
        continue;
      }
      auto stuck = stuck_.find(o.entry.mount_point);
      if (stuck != stuck_.end()) {
        std::lock_guard lock(stuck->second->mu);
        if (!stuck->second->done) {
          probes.push_back(stuck->second);  // still blocked: do not park another thread on it
          continue;
        }
      }
      stuck_.erase(o.entry.mount_point);
      probes.push_back(start_probe(o.entry.mount_point));
    }
    // Leave the scheduler time to take our result before its own timeout fires.
    const auto margin = std::min<Clock::duration>(ctx.timeout / 10, std::chrono::milliseconds(250));
    const auto until =
        std::max(ctx.deadline - margin, Clock::now() + std::chrono::milliseconds(20));
    for (std::size_t i = 0; i < outcomes.size(); ++i) {
      if (!probes[i]) continue;
      MountOutcome& o = outcomes[i];
      StatProbe& p = *probes[i];
      std::unique_lock lock(p.mu);
      if (!p.cv.wait_until(lock, until, [&] { return p.done; })) {
        stuck_[o.entry.mount_point] = probes[i];
        o.status = Status::kCritical;
        o.problem = "not responding: statvfs blocked for " +
                    seconds_text(Clock::now() - p.started) + " (hung network or FUSE mount?)";
      } else if (p.error != 0) {
        o.status = Status::kCritical;
        o.error = p.error;
        o.problem = std::string("cannot be measured: statvfs failed: ") + std::strerror(p.error);
      } else {
        o.usage = compute_disk_usage(p.stats);
      }
    }
  }

  // Over the host's transport: one statvfs answer per mount. A hung mount there makes the
  // whole command time out, which is reported as the check's unknown.
  Expected<bool> measure_remote(std::vector<MountOutcome>& outcomes, const RunContext& ctx) {
    std::vector<std::string> paths;
    for (const auto& o : outcomes) {
      if (o.problem.empty()) paths.push_back(o.entry.mount_point);
    }
    if (paths.empty()) return true;
    auto answers = host_->statvfs(paths, ctx);
    if (!answers) return make_error(answers.error());
    std::size_t next = 0;
    for (auto& o : outcomes) {
      if (!o.problem.empty()) continue;
      const auto& a = answers->at(next++);
      if (a) {
        o.usage = compute_disk_usage(*a);
      } else {
        o.status = Status::kCritical;
        o.problem = "cannot be measured: " + a.error();
        if (a.error().find("Permission denied") != std::string::npos) o.error = EACCES;
      }
    }
    return true;
  }

  void add_metrics(Result& r, MountOutcome& o) const {
    const DiskUsage& u = *o.usage;
    const Labels labels{{"mount", o.entry.mount_point}};
    Metric used{"used_pct", u.used_pct, "%", labels, warn_, crit_};
    o.status = used.evaluate();
    r.metrics.push_back(used);
    auto bytes = [&](const char* name, std::uint64_t v) {
      r.metrics.push_back({name, static_cast<double>(v), "B", labels, std::nullopt, std::nullopt});
    };
    bytes("used_bytes", u.used_bytes);
    bytes("free_bytes", u.free_bytes);
    bytes("total_bytes", u.total_bytes);
    if (u.inodes_used_pct) {
      Metric inodes{"inodes_used_pct", *u.inodes_used_pct, "%", labels, inode_warn_, inode_crit_};
      Status s = inodes.evaluate();
      o.inode_alert = s != Status::kOk;
      o.status = worst(o.status, s);
      r.metrics.push_back(inodes);
    }
  }

  static std::string describe(const MountOutcome& o) {
    if (!o.usage) return o.entry.mount_point + " " + o.problem;
    const DiskUsage& u = *o.usage;
    std::string s = o.entry.mount_point + " " + pct_text(u.used_pct) + " used (" +
                    format_size(u.free_bytes) + " free of " + format_size(u.total_bytes) + ")";
    if (o.inode_alert) s += ", inodes " + pct_text(*u.inodes_used_pct) + " used";
    return s;
  }

  static std::string summarise(const std::vector<MountOutcome>& outcomes) {
    if (outcomes.empty()) return "no filesystems to check";
    auto fuller = [](const MountOutcome& a, const MountOutcome& b) {
      if (severity_rank(a.status) != severity_rank(b.status)) {
        return severity_rank(a.status) < severity_rank(b.status);
      }
      auto pct = [](const MountOutcome& o) {
        return o.usage
                   ? std::max(o.usage->used_pct, o.inode_alert ? *o.usage->inodes_used_pct : 0.0)
                   : 0.0;
      };
      return pct(a) < pct(b);
    };
    const MountOutcome& worst_one = *std::max_element(outcomes.begin(), outcomes.end(), fuller);
    std::string s = describe(worst_one);
    if (outcomes.size() > 1) {
      auto bad = std::count_if(outcomes.begin(), outcomes.end(),
                               [](const MountOutcome& o) { return o.status != Status::kOk; });
      s += bad > 1 ? "; " + std::to_string(bad) + " of " + std::to_string(outcomes.size()) +
                         " filesystems not ok"
           : bad == 1 ? "; the other " + std::to_string(outcomes.size() - 1) + " ok"
                      : "; fullest of " + std::to_string(outcomes.size()) + " filesystems";
    }
    return s;
  }

  std::vector<std::string> mounts_;
  std::vector<std::string> exclude_types_;
  std::string mount_table_;
  std::optional<Range> warn_, crit_, inode_warn_, inode_crit_;
  // Probes of mounts that did not answer in an earlier run, kept until they return.
  std::map<std::string, std::shared_ptr<StatProbe>> stuck_;
  std::shared_ptr<HostAccess> host_;  // null: this machine
};

}  // namespace

CheckSpec disk_check_spec() {
  CheckSpec s;
  s.kind = "disk";
  s.description =
      "Space and inode usage of mounted filesystems, computed as df and check_disk do: used % = "
      "used / (used + available), so blocks reserved for root count as unavailable. With no "
      "`mounts`, every real filesystem in the mount table is checked (tmpfs, overlay, proc, "
      "cgroup, squashfs, ISO images and other pseudo filesystems are skipped, a device mounted "
      "twice is checked once). A listed mount that is not mounted is critical, and so is a mount "
      "whose statvfs does not answer before the timeout (a hung NFS or FUSE mount).";
  s.keys = {
      {"mounts", KeyType::kStringList, "",
       "mount points (or devices) to check; empty: all real filesystems"},
      {"warn", KeyType::kThreshold, "80%", "space used that is a warning", false,
       Direction::kHigherIsWorse, ValueUnit::kPercent},
      {"crit", KeyType::kThreshold, "90%", "space used that is critical", false,
       Direction::kHigherIsWorse, ValueUnit::kPercent},
      {"inode_warn", KeyType::kThreshold, "80%", "inodes used that is a warning", false,
       Direction::kHigherIsWorse, ValueUnit::kPercent},
      {"inode_crit", KeyType::kThreshold, "90%", "inodes used that is critical", false,
       Direction::kHigherIsWorse, ValueUnit::kPercent},
      {"exclude_types", KeyType::kStringList, "",
       "more filesystem types to skip when `mounts` is empty; `fuse.*` matches a prefix"},
      {"mount_table", KeyType::kString, "/proc/self/mounts",
       "mount table to read (tests point it at a fixture)"},
  };
  s.metrics = {
      {"used_pct", "%", "space used, per mount (label `mount`; thresholds apply)"},
      {"used_bytes", "B", "space used, per mount"},
      {"free_bytes", "B", "space available to unprivileged users, per mount"},
      {"total_bytes", "B", "size of the filesystem, per mount"},
      {"inodes_used_pct", "%",
       "inodes used, per mount (inode thresholds apply); absent when the filesystem has no "
       "fixed inode count"},
  };
  s.make = [](std::string id, const CheckOptions& o) -> std::unique_ptr<Check> {
    return std::make_unique<DiskCheck>(std::move(id), o);
  };
  s.remote = true;
  s.default_id = [](const CheckOptions& o) {
    std::string id = "disk";
    auto mounts = o.list("mounts");
    for (std::size_t i = 0; i < mounts.size(); ++i) {
      id += (i == 0 ? ":" : ",") + normalise_mount_path(mounts[i]);
    }
    return id;
  };
  return s;
}

}  // namespace xj
