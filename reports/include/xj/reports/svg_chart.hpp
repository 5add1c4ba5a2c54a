// Small inline-SVG charts for the reports (line, bar, stacked bar), so the HTML stands alone and prints
// the same in Chromium's PDF. Label widths are measured per character — a CJK character is a
// full em, Latin about half — so Chinese axis labels and legends never overlap.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace xj::reports {

// Width of `text` in px at `font_px`: East Asian wide characters 1 em, others 0.6 em.
double text_width(std::string_view utf8, double font_px);

struct ChartSeries {
  std::string name;
  std::vector<std::optional<double>> values;  // nullopt: no data (a break in the line, no bar)
};

struct Chart {
  std::string title;
  std::vector<std::string> x_labels;  // one per value
  std::vector<ChartSeries> series;
  std::optional<double> y_min, y_max;  // default: from the data
  std::string y_unit;                  // "%", "d", ...
  std::optional<double> reference;     // a dashed line (a target or a standard)
  int width = 720, height = 240;
};

std::string line_chart(const Chart& chart);
std::string bar_chart(const Chart& chart);  // series side by side per x label
// Series stacked per x label, the first at the bottom; the y axis runs to the largest total
// unless y_max is given. Each bar is a <rect> of class "seg" with data-series and data-value.
std::string stacked_bar_chart(const Chart& chart);

}  // namespace xj::reports
