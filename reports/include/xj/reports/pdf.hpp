// PDF of a rendered HTML report through headless Chromium (Debian package `chromium`), run as
// a child process with the flags that keep it off the network. Optional at run time: without
// Chromium the error names the package to install.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "xj/common/expected.hpp"

namespace xj::reports {

struct PdfOptions {
  std::string chromium;  // the browser's path; "" = chromium or chromium-browser from PATH
  std::chrono::milliseconds timeout{600'000};  // 500 hosts x 30 checks: ~2 min on a loaded 2-core box
};

// The Chromium to use, if one is installed.
std::optional<std::string> find_chromium(const PdfOptions& options = {});

// Prints the HTML file to the PDF file (A4, no header or footer, backgrounds kept).
Expected<bool> html_to_pdf(const std::string& html_path, const std::string& pdf_path,
                           const PdfOptions& options = {});

}  // namespace xj::reports
