#include "xj/checks/mount_table.hpp"

#include <algorithm>
#include <set>
#include <sstream>

namespace xj {

std::string unescape_mount_field(std::string_view field) {
  std::string out;
  out.reserve(field.size());
  auto octal = [](char c) { return c >= '0' && c <= '7'; };
  for (std::size_t i = 0; i < field.size(); ++i) {
    if (field[i] == '\\' && i + 3 < field.size() && octal(field[i + 1]) && octal(field[i + 2]) &&
        octal(field[i + 3])) {
      out += static_cast<char>(((field[i + 1] - '0') << 6) | ((field[i + 2] - '0') << 3) |
                               (field[i + 3] - '0'));
      i += 3;
    } else {
      out += field[i];
    }
  }
  return out;
}

std::vector<MountEntry> parse_mounts(std::string_view text) {
  std::vector<MountEntry> out;
  std::istringstream in{std::string(text)};
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string device, mount_point, fs_type, options;
    if (!(fields >> device >> mount_point >> fs_type)) continue;
    fields >> options;
    out.push_back({unescape_mount_field(device), unescape_mount_field(mount_point),
                   unescape_mount_field(fs_type), options});
  }
  return out;
}

bool is_pseudo_filesystem(std::string_view t) {
  static const std::set<std::string_view> kPseudo = {
      "autofs", "binfmt_misc", "bpf", "cgroup", "cgroup2", "configfs", "debugfs", "devpts",
      "devtmpfs", "efivarfs", "fusectl", "hugetlbfs", "mqueue", "nsfs", "overlay", "aufs", "proc",
      "pstore", "ramfs", "rootfs", "rpc_pipefs", "securityfs", "selinuxfs", "sysfs", "tmpfs",
      "tracefs", "nfsd", "devfs", "usbfs", "none",
      // Read-only images are 100% full by design; a mounted install ISO (a local yum repo)
      // would otherwise be critical forever.
      "squashfs", "iso9660", "udf",
      // FUSE filesystems that expose kernel or desktop state, not storage.
      "fuse.lxcfs", "fuse.gvfsd-fuse", "fuse.portal", "fuse.snapfuse", "fuse.xdg-document-portal",
      "fuse.vmware-vmblock"};
  return kPseudo.count(t) > 0;
}

namespace {

bool type_excluded(const std::string& type, const std::vector<std::string>& exclude) {
  for (const auto& pattern : exclude) {
    if (!pattern.empty() && pattern.back() == '*') {
      if (type.compare(0, pattern.size() - 1, pattern, 0, pattern.size() - 1) == 0) return true;
    } else if (type == pattern) {
      return true;
    }
  }
  return false;
}

}  // namespace

std::vector<MountEntry> select_real_filesystems(const std::vector<MountEntry>& mounts,
                                                const std::vector<std::string>& exclude_types) {
  // A later mount on the same point hides the earlier one: only the last is visible.
  std::vector<MountEntry> visible;
  for (std::size_t i = 0; i < mounts.size(); ++i) {
    bool hidden = std::any_of(
        mounts.begin() + static_cast<std::ptrdiff_t>(i) + 1, mounts.end(),
        [&](const MountEntry& later) { return later.mount_point == mounts[i].mount_point; });
    if (hidden) continue;
    if (is_pseudo_filesystem(mounts[i].fs_type)) continue;
    if (type_excluded(mounts[i].fs_type, exclude_types)) continue;
    visible.push_back(mounts[i]);
  }
  // One device mounted twice (bind mounts, btrfs subvolumes) reports the same numbers twice;
  // keep it once, at its shortest mount point, where df shows it.
  std::vector<MountEntry> out;
  for (const auto& e : visible) {
    auto same = std::find_if(out.begin(), out.end(),
                             [&](const MountEntry& o) { return o.device == e.device; });
    if (same == out.end() || e.device.empty()) {
      out.push_back(e);
    } else if (e.mount_point.size() < same->mount_point.size()) {
      *same = e;
    }
  }
  return out;
}

}  // namespace xj
