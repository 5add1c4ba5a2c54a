// Small I/O helpers the check kinds share: whole-file reads of /proc and friends.
#pragma once

#include <filesystem>
#include <string>

#include "xj/common/expected.hpp"

namespace xj {

// Reads a whole file (works for /proc files whose size reads as 0). Error names the path.
Expected<std::string> read_text_file(const std::filesystem::path& path);

// Number of online CPUs (at least 1).
int cpu_count();

}  // namespace xj
