// Parsers of Nagios plugin output for the exec check (declared in exec_check.hpp).
#include <fnmatch.h>

#include <charconv>
#include <filesystem>

#include "xj/checks/exec_check.hpp"

namespace xj {

namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

std::string trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return std::string(s);
}

// Length of the decimal number at the start of s ("-1.5e3ms" -> 6), 0 if there is none.
std::size_t number_length(std::string_view s) {
  std::size_t i = 0;
  if (i < s.size() && (s[i] == '-' || s[i] == '+')) ++i;
  std::size_t digits = 0;
  while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i, ++digits;
  if (i < s.size() && s[i] == '.') {
    ++i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i, ++digits;
  }
  if (digits == 0) return 0;
  // An exponent only when digits follow, so a unit starting with 'e' is not eaten.
  if (i + 1 < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    std::size_t j = i + 1;
    if (j < s.size() && (s[j] == '-' || s[j] == '+')) ++j;
    if (j < s.size() && s[j] >= '0' && s[j] <= '9') {
      while (j < s.size() && s[j] >= '0' && s[j] <= '9') ++j;
      i = j;
    }
  }
  return i;
}

std::optional<double> to_double(std::string_view s) {
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  double v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

std::optional<double> whole_number(std::string_view s) {
  if (number_length(s) != s.size()) return std::nullopt;
  return to_double(s);
}

std::vector<std::string_view> split_fields(std::string_view s) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  for (;;) {
    auto semi = s.find(';', start);
    out.push_back(
        s.substr(start, semi == std::string_view::npos ? std::string_view::npos : semi - start));
    if (semi == std::string_view::npos) break;
    start = semi + 1;
  }
  return out;
}

// Parses "value[UOM];warn;crit;min;max" of one item into p; problems go to notes.
bool parse_item_data(std::string_view data, PerfDatum& p, std::vector<std::string>& notes) {
  const std::string item = "'" + p.label + "'";
  auto fields = split_fields(data);
  std::string_view value = fields[0];
  if (value == "U") return false;  // the plugin could not measure this one
  const std::size_t n = number_length(value);
  if (n == 0) {
    notes.push_back(item + ": value '" + std::string(value) + "' is not a number");
    return false;
  }
  auto v = to_double(value.substr(0, n));
  if (!v) {
    notes.push_back(item + ": value '" + std::string(value) + "' is out of range");
    return false;
  }
  p.value = *v;
  p.uom = std::string(value.substr(n));
  // Beyond the standard s ms us % B KB MB TB c, plugins write GB, MiB, ...: keep any word.
  const bool letters =
      p.uom.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") ==
      std::string::npos;
  if (p.uom != "%" && !letters) {
    notes.push_back(item + ": unit '" + p.uom + "' is not a unit");
    return false;
  }
  auto range = [&](std::size_t i, const char* what) -> std::optional<Range> {
    if (fields.size() <= i || fields[i].empty()) return std::nullopt;
    auto r = Range::parse_nagios(fields[i]);
    if (!r) {
      notes.push_back(item + ": " + what + " ignored: " + r.error());
      return std::nullopt;
    }
    return *r;
  };
  p.warn = range(1, "warn");
  p.crit = range(2, "crit");
  auto bound = [&](std::size_t i, const char* what) -> std::optional<double> {
    if (fields.size() <= i || fields[i].empty()) return std::nullopt;
    // Some plugins repeat the unit on min/max ("0KB"); accept it when it is the value's unit.
    std::string_view f = fields[i];
    const std::size_t len = number_length(f);
    if (len > 0 && f.substr(len) == p.uom) f = f.substr(0, len);
    auto b = whole_number(f);
    if (!b)
      notes.push_back(item + ": " + what + " '" + std::string(fields[i]) +
                      "' ignored, not a number");
    return b;
  };
  p.min = bound(3, "min");
  p.max = bound(4, "max");
  return true;
}

}  // namespace

PerfData parse_perfdata(std::string_view text) {
  PerfData out;
  std::size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && is_space(text[i])) ++i;
    if (i >= text.size()) break;
    const std::size_t token_start = i;
    auto skip_token = [&](const std::string& why) {
      while (i < text.size() && !is_space(text[i])) ++i;
      out.skipped.push_back("'" + std::string(text.substr(token_start, i - token_start)) +
                            "': " + why);
    };
    PerfDatum p;
    if (text[i] == '\'') {
      ++i;
      bool closed = false;
      while (i < text.size()) {
        if (text[i] == '\'') {
          if (i + 1 < text.size() && text[i + 1] == '\'') {  // '' is a literal quote
            p.label += '\'';
            i += 2;
            continue;
          }
          ++i;
          closed = true;
          break;
        }
        p.label += text[i++];
      }
      if (!closed) {
        out.skipped.push_back("'" + std::string(text.substr(token_start)) +
                              "': unterminated quote");
        break;
      }
    } else {
      while (i < text.size() && text[i] != '=' && !is_space(text[i])) p.label += text[i++];
    }
    if (i >= text.size() || text[i] != '=') {
      skip_token("expected label=value");
      continue;
    }
    if (p.label.empty()) {
      skip_token("empty label");
      continue;
    }
    ++i;  // '='
    const std::size_t data_start = i;
    while (i < text.size() && !is_space(text[i])) ++i;
    if (parse_item_data(text.substr(data_start, i - data_start), p, out.skipped)) {
      out.items.push_back(std::move(p));
    }
  }
  return out;
}

NagiosOutput parse_nagios_output(std::string_view text) {
  NagiosOutput out;
  std::string perf;
  std::vector<std::string> long_lines;
  bool first = true, in_perf = false;
  std::size_t pos = 0;
  while (pos <= text.size()) {
    auto nl = text.find('\n', pos);
    std::string_view line =
        text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
    pos = nl == std::string_view::npos ? text.size() + 1 : nl + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    auto bar = line.find('|');
    if (first) {
      first = false;
      out.summary = trim(line.substr(0, bar));
      if (bar != std::string_view::npos) perf += std::string(line.substr(bar + 1)) + " ";
    } else if (in_perf) {
      perf += std::string(line) + " ";
    } else if (bar != std::string_view::npos) {
      in_perf = true;
      std::string_view text_part = line.substr(0, bar);
      while (!text_part.empty() && is_space(text_part.back())) text_part.remove_suffix(1);
      long_lines.emplace_back(text_part);
      perf += std::string(line.substr(bar + 1)) + " ";
    } else {
      long_lines.emplace_back(line);
    }
  }
  while (!long_lines.empty() && trim(long_lines.back()).empty()) long_lines.pop_back();
  for (const auto& l : long_lines) out.long_text += (out.long_text.empty() ? "" : "\n") + l;
  out.perfdata = parse_perfdata(perf);
  return out;
}

Metric to_metric(const PerfDatum& p) {
  Metric m;
  m.name = p.label;
  m.value = p.value;
  m.unit = p.uom;
  m.warn = p.warn;
  m.crit = p.crit;
  return m;
}

bool command_allowed(const std::string& argv0, const std::vector<std::string>& allow) {
  const std::filesystem::path path(argv0);
  // "/usr/lib/nagios/plugins/../../../bin/rm" must not pass as a plugin.
  if (!path.is_absolute() || path.lexically_normal() != path) return false;
  for (const auto& pattern : allow) {
    if (::fnmatch(pattern.c_str(), argv0.c_str(), FNM_PATHNAME) == 0) return true;
  }
  return false;
}

}  // namespace xj
