#include "xj/reports/svg_chart.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace xj::reports {
namespace {

constexpr double kFont = 11;
const char* const kColors[] = {"#1f6fb2", "#d9534f", "#3c9d5d", "#e69500", "#7a4fb5", "#4a4a4a"};

std::string esc(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '&': out += "&amp;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

std::string tick(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, std::fabs(v - std::round(v)) < 1e-9 ? "%.0f" : "%.2g", v);
  return buf;
}

// Decodes one UTF-8 code point at s[i], advancing i (invalid bytes count as one character).
char32_t next_cp(std::string_view s, std::size_t& i) {
  const auto c = static_cast<unsigned char>(s[i]);
  int n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 1;
  if (i + static_cast<std::size_t>(n) > s.size()) n = 1;
  char32_t cp = n == 1 ? c : c & (0x7F >> n);
  for (int k = 1; k < n; ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + static_cast<std::size_t>(k)]) & 0x3F);
  i += static_cast<std::size_t>(n);
  return cp;
}

bool wide(char32_t cp) {
  return (cp >= 0x1100 && cp <= 0x115F) || (cp >= 0x2E80 && cp <= 0xA4CF) ||
         (cp >= 0xAC00 && cp <= 0xD7A3) || (cp >= 0xF900 && cp <= 0xFAFF) ||
         (cp >= 0xFE30 && cp <= 0xFE4F) || (cp >= 0xFF00 && cp <= 0xFF60) ||
         (cp >= 0xFFE0 && cp <= 0xFFE6) || (cp >= 0x20000 && cp <= 0x3FFFD);
}

struct Frame {
  double left = 0, top = 28, right = 0, bottom = 0, lo = 0, hi = 1;
  double w() const { return right - left; }
  double h() const { return bottom - top; }
  double y(double v) const { return bottom - (v - lo) / (hi - lo) * h(); }
};

// Axes, ticks, title and legend; returns the plot frame.
Frame frame(const Chart& c, std::string& svg) {
  double lo = c.y_min.value_or(1e300), hi = c.y_max.value_or(-1e300);
  for (const auto& s : c.series) {
    for (const auto& v : s.values) {
      if (!v) continue;
      if (!c.y_min) lo = std::min(lo, *v);
      if (!c.y_max) hi = std::max(hi, *v);
    }
  }
  if (c.reference) {
    if (!c.y_min) lo = std::min(lo, *c.reference);
    if (!c.y_max) hi = std::max(hi, *c.reference);
  }
  if (lo > hi) lo = 0, hi = 1;
  if (hi - lo < 1e-9) hi = lo + 1;
  Frame f;
  f.lo = lo;
  f.hi = hi;
  double label_w = 0;
  for (int i = 0; i <= 4; ++i) label_w = std::max(label_w, text_width(tick(lo + (hi - lo) * i / 4) + c.y_unit, kFont));
  f.left = label_w + 10;
  f.right = c.width - 10;
  // Legend under the plot, wrapped by measured width.
  double x = f.left, rows = 1;
  for (const auto& s : c.series) {
    const double w = 16 + text_width(s.name, kFont) + 14;
    if (x + w > f.right && x > f.left) x = f.left, ++rows;
    x += w;
  }
  f.bottom = c.height - 22 - rows * 16;
  svg += "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" width=\"" + std::to_string(c.width) +
         "\" height=\"" + std::to_string(c.height) + "\" viewBox=\"0 0 " + std::to_string(c.width) + " " +
         std::to_string(c.height) + "\" font-size=\"" + num(kFont) + "\">";
  svg += "<text x=\"" + num(f.left) + "\" y=\"16\" font-weight=\"bold\">" + esc(c.title) + "</text>";
  for (int i = 0; i <= 4; ++i) {
    const double v = lo + (hi - lo) * i / 4, y = f.y(v);
    svg += "<line x1=\"" + num(f.left) + "\" x2=\"" + num(f.right) + "\" y1=\"" + num(y) + "\" y2=\"" + num(y) +
           "\" stroke=\"#ddd\"/>";
    svg += "<text x=\"" + num(f.left - 4) + "\" y=\"" + num(y + 4) + "\" text-anchor=\"end\">" +
           esc(tick(v) + c.y_unit) + "</text>";
  }
  // X labels: as many as fit by their measured width.
  const std::size_t n = c.x_labels.size();
  double widest = 0;
  for (const auto& l : c.x_labels) widest = std::max(widest, text_width(l, kFont));
  const std::size_t every = n == 0 ? 1 : std::max<std::size_t>(1, static_cast<std::size_t>(std::ceil((widest + 6) * static_cast<double>(n) / f.w())));
  for (std::size_t i = 0; i < n; i += every) {
    const double xc = f.left + (static_cast<double>(i) + 0.5) * f.w() / static_cast<double>(n);
    svg += "<text x=\"" + num(xc) + "\" y=\"" + num(f.bottom + 14) + "\" text-anchor=\"middle\">" +
           esc(c.x_labels[i]) + "</text>";
  }
  if (c.reference) {
    const double y = f.y(*c.reference);
    svg += "<line x1=\"" + num(f.left) + "\" x2=\"" + num(f.right) + "\" y1=\"" + num(y) + "\" y2=\"" + num(y) +
           "\" stroke=\"#d9534f\" stroke-dasharray=\"4 3\"/>";
  }
  x = f.left;
  double y = f.bottom + 32;
  for (std::size_t i = 0; i < c.series.size(); ++i) {
    const double w = 16 + text_width(c.series[i].name, kFont) + 14;
    if (x + w > f.right && x > f.left) x = f.left, y += 16;
    svg += "<rect x=\"" + num(x) + "\" y=\"" + num(y - 9) + "\" width=\"12\" height=\"10\" fill=\"" +
           kColors[i % 6] + "\"/><text x=\"" + num(x + 16) + "\" y=\"" + num(y) + "\">" + esc(c.series[i].name) +
           "</text>";
    x += w;
  }
  return f;
}

}  // namespace

double text_width(std::string_view s, double font_px) {
  double em = 0;
  for (std::size_t i = 0; i < s.size();) em += wide(next_cp(s, i)) ? 1.0 : 0.6;
  return em * font_px;
}

std::string line_chart(const Chart& c) {
  std::string svg;
  const Frame f = frame(c, svg);
  const double n = static_cast<double>(std::max<std::size_t>(1, c.x_labels.size()));
  for (std::size_t s = 0; s < c.series.size(); ++s) {
    std::string path, dots;
    bool pen = false;
    const auto& values = c.series[s].values;
    for (std::size_t i = 0; i < values.size(); ++i) {
      const auto& v = values[i];
      if (!v) {
        pen = false;
        continue;
      }
      const double x = f.left + (static_cast<double>(i) + 0.5) * f.w() / n;
      const double y = f.y(std::clamp(*v, f.lo, f.hi));
      path += (pen ? "L" : "M") + num(x) + " " + num(y) + " ";
      // A value with no neighbour draws no line (a new check's first hour): mark it with a dot.
      if (!pen && (i + 1 >= values.size() || !values[i + 1])) {
        dots += "<circle cx=\"" + num(x) + "\" cy=\"" + num(y) + "\" r=\"2.5\" fill=\"" + kColors[s % 6] + "\"/>";
      }
      pen = true;
    }
    svg += "<path d=\"" + path + "\" fill=\"none\" stroke=\"" + kColors[s % 6] + "\" stroke-width=\"1.5\"/>" + dots;
  }
  return svg + "</svg>";
}

std::string bar_chart(const Chart& c) {
  std::string svg;
  const Frame f = frame(c, svg);
  const double n = static_cast<double>(std::max<std::size_t>(1, c.x_labels.size()));
  const double slot = f.w() / n, ns = static_cast<double>(std::max<std::size_t>(1, c.series.size()));
  const double bar = slot * 0.8 / ns;
  const double base = f.y(std::clamp(0.0, f.lo, f.hi));
  for (std::size_t s = 0; s < c.series.size(); ++s) {
    for (std::size_t i = 0; i < c.series[s].values.size(); ++i) {
      const auto& v = c.series[s].values[i];
      if (!v) continue;
      const double x = f.left + static_cast<double>(i) * slot + slot * 0.1 + static_cast<double>(s) * bar;
      const double y = f.y(std::clamp(*v, f.lo, f.hi));
      svg += "<rect x=\"" + num(x) + "\" y=\"" + num(std::min(y, base)) + "\" width=\"" + num(bar) +
             "\" height=\"" + num(std::fabs(base - y)) + "\" fill=\"" + kColors[s % 6] + "\"/>";
    }
  }
  return svg + "</svg>";
}

std::string stacked_bar_chart(const Chart& chart) {
  const std::size_t n = chart.x_labels.size();
  Chart c = chart;
  if (!c.y_max) {
    double top = 0;
    for (std::size_t i = 0; i < n; ++i) {
      double sum = 0;
      for (const auto& se : c.series) sum += i < se.values.size() && se.values[i] ? std::max(0.0, *se.values[i]) : 0;
      top = std::max(top, sum);
    }
    c.y_max = top > 0 ? top : 1;
  }
  if (!c.y_min) c.y_min = 0;
  std::string svg;
  const Frame f = frame(c, svg);
  const double slot = f.w() / static_cast<double>(std::max<std::size_t>(1, n));
  for (std::size_t i = 0; i < n; ++i) {
    double base = 0;
    for (std::size_t s = 0; s < c.series.size(); ++s) {
      const auto& values = c.series[s].values;
      if (i >= values.size() || !values[i] || *values[i] <= 0) continue;
      const double y0 = f.y(std::clamp(base, f.lo, f.hi)), y1 = f.y(std::clamp(base + *values[i], f.lo, f.hi));
      base += *values[i];
      svg += "<rect class=\"seg\" data-series=\"" + std::to_string(s) + "\" data-value=\"" + tick(*values[i]) +
             "\" x=\"" + num(f.left + static_cast<double>(i) * slot + slot * 0.1) + "\" y=\"" + num(y1) +
             "\" width=\"" + num(slot * 0.8) + "\" height=\"" + num(y0 - y1) + "\" fill=\"" + kColors[s % 6] +
             "\"/>";
    }
  }
  return svg + "</svg>";
}

}  // namespace xj::reports
