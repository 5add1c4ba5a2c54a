// Terminal tables for xunjianctl. Host labels and summaries are often Chinese (区块链知识产权
// 保护平台): a CJK character takes two terminal columns, so columns are padded by display
// width, not by bytes or code points.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace xj {

// Terminal columns that UTF-8 `text` occupies: East Asian Wide and Fullwidth characters
// (CJK, Hangul, fullwidth forms, most emoji) count 2, combining marks and zero-width
// characters 0, everything else 1. A byte that is not valid UTF-8 counts 1.
std::size_t display_width(std::string_view text);

// `text` made safe for one table cell: tabs and line breaks become spaces, other control
// characters (ESC and friends, which an agent could send to rewrite the operator's
// terminal) and invalid UTF-8 bytes become '?'.
std::string terminal_safe(std::string_view text);

// Rows under a header, columns separated by two spaces and padded to the widest cell by
// display width; the last column is not padded (no trailing blanks). Cells pass through
// terminal_safe. Every line ends with '\n'. An empty header prints no header line (for
// "key  value" blocks).
class Table {
 public:
  explicit Table(std::vector<std::string> header);
  void add(std::vector<std::string> row);  // missing cells are empty, extra ones kept
  std::string render() const;
  bool empty() const { return rows_.empty(); }

 private:
  std::vector<std::string> header_;
  std::vector<std::vector<std::string>> rows_;
};

}  // namespace xj
