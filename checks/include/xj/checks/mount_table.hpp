// The mount table (/proc/self/mounts) and which of its entries are real filesystems: the
// pure part of the disk check, also usable by anything that needs to know what is mounted.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace xj {

// One line of /proc/self/mounts, with the kernel's octal escapes (\040 for a space) undone.
struct MountEntry {
  std::string device;       // "/dev/vda1", "server:/export", "tmpfs"
  std::string mount_point;  // "/data", "/mnt/backup disk"
  std::string fs_type;      // "ext4", "xfs", "nfs4", "fuse.sshfs"
  std::string options;      // "rw,relatime"
};

// Undoes the escapes the kernel writes in mount tables: a backslash followed by three octal
// digits is one byte (\040 space, \011 tab, \012 newline, \134 backslash). Anything else is
// kept as written.
std::string unescape_mount_field(std::string_view field);

// Parses /proc/self/mounts (or /etc/mtab) text. Malformed lines (fewer than three fields) are
// skipped rather than failing the whole check: the kernel never writes one, and one odd line
// must not hide every other filesystem.
std::vector<MountEntry> parse_mounts(std::string_view text);

// True for filesystem types that hold no user data (proc, sysfs, cgroup, tmpfs, overlay, ...)
// or are always full by design (squashfs, iso9660): watching them only produces noise.
bool is_pseudo_filesystem(std::string_view fs_type);

// The filesystems "all real filesystems" means, in mount table order: for each mount point
// only the last (visible) mount; pseudo types and `exclude_types` skipped (an entry ending in
// '*' matches a prefix, e.g. "fuse.*"); a device mounted more than once (bind mounts) kept
// once, at its shortest mount point, as df does.
std::vector<MountEntry> select_real_filesystems(const std::vector<MountEntry>& mounts,
                                                const std::vector<std::string>& exclude_types);

}  // namespace xj
