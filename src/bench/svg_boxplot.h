#pragma once
// Horizontal box plots as inline SVG, one box per series (endpoint × load level), the figure used to compare
// deployments. Tukey's convention: the box spans p25–p75 (same linear percentiles as the tables), the line is
// the median, whiskers reach the furthest values within 1.5 × IQR of the box, points beyond are outliers; the
// diamond is the mean.
#include <string>
#include <vector>

namespace r1::bench {

struct BoxSeries {
  std::string label;
  std::vector<double> values;
};

struct BoxSummary {
  double q1 = 0, median = 0, q3 = 0, whisker_lo = 0, whisker_hi = 0, mean = 0;
  std::vector<double> outliers;
  size_t count = 0;
};

// `values` non-empty.
BoxSummary box_summary(std::vector<double> values);

// A complete <svg> element; series without values are drawn as "no data".
std::string svg_boxplot(const std::string& title, const std::string& unit,
                        const std::vector<BoxSeries>& series);

// Escapes &, <, >, " and ' for HTML text and attributes.
std::string html_escape(const std::string& s);

}  // namespace r1::bench
