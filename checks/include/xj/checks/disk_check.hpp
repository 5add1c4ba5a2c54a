// `disk`: space and inode usage of mounted filesystems, computed the way df(1) and
// monitoring-plugins' check_disk compute them, so the numbers an engineer sees in `df -h`
// are the numbers in our alerts.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "xj/checks/mount_table.hpp"

namespace xj {

// The statvfs(3) fields the usage is computed from.
struct FsStats {
  std::uint64_t block_size = 0;  // f_frsize (f_bsize when f_frsize is 0)
  std::uint64_t blocks = 0;      // f_blocks
  std::uint64_t bfree = 0;       // f_bfree: free, including blocks reserved for root
  std::uint64_t bavail = 0;      // f_bavail: free for unprivileged users
  std::uint64_t files = 0;       // f_files: 0 on filesystems without fixed inodes (btrfs)
  std::uint64_t ffree = 0;       // f_ffree
};

struct DiskUsage {
  double used_pct = 0;  // used / (used + available): reserved blocks count as not available
  std::uint64_t used_bytes = 0;
  std::uint64_t free_bytes = 0;           // available to unprivileged users
  std::uint64_t total_bytes = 0;          // all blocks, as df's "Size"
  std::optional<double> inodes_used_pct;  // nullopt when the filesystem reports no inodes
};

// df's and check_disk's arithmetic: used = blocks - bfree, pct = used / (used + bavail).
DiskUsage compute_disk_usage(const FsStats& st);

}  // namespace xj
