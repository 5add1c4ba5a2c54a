#include "xj/checks/prometheus_text.hpp"

#include <cmath>
#include <cstdlib>
#include <limits>

namespace xj {

namespace {

bool name_char(char c, bool first) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' ||
         (!first && c >= '0' && c <= '9');
}

std::optional<double> parse_value(std::string_view s) {
  if (s == "NaN") return std::numeric_limits<double>::quiet_NaN();
  if (s == "+Inf" || s == "Inf") return std::numeric_limits<double>::infinity();
  if (s == "-Inf") return -std::numeric_limits<double>::infinity();
  const std::string text(s);
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  if (text.empty() || end != text.c_str() + text.size()) return std::nullopt;
  return v;
}

// One sample line; error text without the line number.
Expected<PromSample> parse_line(std::string_view line) {
  PromSample s;
  std::size_t i = 0;
  while (i < line.size() && name_char(line[i], i == 0)) ++i;
  if (i == 0) return make_error("no metric name");
  s.name = std::string(line.substr(0, i));
  if (i < line.size() && line[i] == '{') {
    ++i;
    while (true) {
      while (i < line.size() && (line[i] == ' ' || line[i] == ',')) ++i;
      if (i < line.size() && line[i] == '}') {
        ++i;
        break;
      }
      const std::size_t start = i;
      while (i < line.size() && name_char(line[i], i == start)) ++i;
      if (i == start) return make_error("bad label name");
      const std::string label(line.substr(start, i - start));
      while (i < line.size() && line[i] == ' ') ++i;
      if (i + 1 >= line.size() || line[i] != '=' || line[i + 1] != '"') {
        return make_error("label " + label + " has no quoted value");
      }
      i += 2;
      std::string value;
      bool closed = false;
      for (; i < line.size(); ++i) {
        if (line[i] == '\\' && i + 1 < line.size()) {
          const char n = line[++i];
          value += n == 'n' ? '\n' : n;
        } else if (line[i] == '"') {
          closed = true;
          ++i;
          break;
        } else {
          value += line[i];
        }
      }
      if (!closed) return make_error("label " + label + " value is not closed");
      s.labels[label] = std::move(value);
    }
  }
  while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
  std::size_t end = i;
  while (end < line.size() && line[end] != ' ' && line[end] != '\t') ++end;
  auto v = parse_value(line.substr(i, end - i));
  if (!v) return make_error("'" + std::string(line.substr(i, end - i)) + "' is not a value");
  s.value = *v;
  return s;
}

}  // namespace

Expected<std::vector<PromSample>> parse_prometheus_text(std::string_view text) {
  std::vector<PromSample> out;
  std::size_t line_no = 0;
  while (!text.empty()) {
    ++line_no;
    const std::size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    const std::size_t b = line.find_first_not_of(" \t");
    if (b == std::string_view::npos || line[b] == '#') continue;
    auto s = parse_line(line.substr(b));
    if (!s) return make_error("metrics line " + std::to_string(line_no) + ": " + s.error());
    out.push_back(std::move(*s));
  }
  return out;
}

std::vector<const PromSample*> find_samples(const std::vector<PromSample>& samples,
                                            std::string_view name) {
  std::vector<const PromSample*> out;
  for (const auto& s : samples) {
    if (s.name == name) out.push_back(&s);
  }
  return out;
}

}  // namespace xj
