#include "bench/svg_boxplot.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <optional>

#include "bench/stats.h"

namespace r1::bench {

namespace {

const char* const kColors[] = {"#4e79a7", "#f28e2b", "#59a14f", "#e15759",
                               "#76b7b2", "#edc948", "#b07aa1", "#9c755f"};
constexpr size_t kMaxOutliersDrawn = 400;  // ITL pools thousands of values; keep the page light

// A "nice" tick step (1, 2 or 5 × 10^k) giving about `target` ticks over [0, hi].
double nice_step(double hi, int target) {
  double raw = hi / target, mag = std::pow(10.0, std::floor(std::log10(raw)));
  for (double m : {1.0, 2.0, 5.0, 10.0})
    if (raw <= m * mag) return m * mag;
  return 10 * mag;
}

std::string num(double v) {
  return fmt::format("{:.4g}", v);
}

}  // namespace

std::string html_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

BoxSummary box_summary(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  BoxSummary b;
  b.count = v.size();
  b.q1 = percentile_sorted(v, 0.25);
  b.median = percentile_sorted(v, 0.5);
  b.q3 = percentile_sorted(v, 0.75);
  double iqr = b.q3 - b.q1, lo = b.q1 - 1.5 * iqr, hi = b.q3 + 1.5 * iqr;
  b.whisker_lo = b.q1;
  b.whisker_hi = b.q3;
  double sum = 0;
  for (double x : v) {
    sum += x;
    if (x < lo || x > hi)
      b.outliers.push_back(x);
    else {
      b.whisker_lo = std::min(b.whisker_lo, x);
      b.whisker_hi = std::max(b.whisker_hi, x);
    }
  }
  b.mean = sum / double(v.size());
  return b;
}

std::string svg_boxplot(const std::string& title, const std::string& unit,
                        const std::vector<BoxSeries>& series) {
  const double left = 230, right = 30, top = 34, row = 38, bottom = 42, width = 920;
  double plot_w = width - left - right, height = top + row * double(series.size()) + bottom;
  std::vector<std::optional<BoxSummary>> boxes;
  double hi = 0;
  for (const auto& s : series) {
    if (s.values.empty()) {
      boxes.emplace_back();
      continue;
    }
    boxes.push_back(box_summary(s.values));
    hi = std::max(hi, *std::max_element(s.values.begin(), s.values.end()));
  }
  if (!(hi > 0)) hi = 1;
  double step = nice_step(hi, 6), axis_max = std::ceil(hi / step) * step;
  auto x = [&](double v) { return left + v / axis_max * plot_w; };

  std::string svg = fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{0}\" height=\"{1}\" viewBox=\"0 0 {0} {1}\" "
      "role=\"img\" font-family=\"sans-serif\" font-size=\"12\">\n<title>{2}</title>\n"
      "<text x=\"{3}\" y=\"20\" font-size=\"15\" font-weight=\"bold\">{2} ({4})</text>\n",
      width, height, html_escape(title), left, html_escape(unit));
  double axis_y = top + row * double(series.size());
  for (double t = 0; t <= axis_max + step / 2; t += step) {
    svg += fmt::format(
        "<line x1=\"{0:.1f}\" y1=\"{1}\" x2=\"{0:.1f}\" y2=\"{2}\" stroke=\"#ddd\"/>"
        "<text x=\"{0:.1f}\" y=\"{3}\" text-anchor=\"middle\" fill=\"#444\">{4}</text>\n",
        x(t), top - 4, axis_y, axis_y + 16, num(t));
  }
  svg += fmt::format("<line x1=\"{0}\" y1=\"{1}\" x2=\"{2}\" y2=\"{1}\" stroke=\"#333\"/>\n", left, axis_y,
                     left + plot_w);
  svg += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" fill=\"#444\">{}</text>\n",
                     left + plot_w / 2, axis_y + 34, html_escape(unit));
  for (size_t i = 0; i < series.size(); ++i) {
    double cy = top + row * (double(i) + 0.5), h = row * 0.55;
    const char* color = kColors[i % std::size(kColors)];
    svg += fmt::format(
        "<text x=\"{}\" y=\"{:.1f}\" text-anchor=\"end\" dominant-baseline=\"middle\">{}</text>\n", left - 10,
        cy, html_escape(series[i].label));
    if (!boxes[i]) {
      svg += fmt::format(
          "<text x=\"{}\" y=\"{:.1f}\" dominant-baseline=\"middle\" fill=\"#999\">no data</text>\n", left + 6,
          cy);
      continue;
    }
    const BoxSummary& b = *boxes[i];
    svg += fmt::format("<g><title>{}: n={} median={} p25={} p75={} mean={} whiskers {}–{}</title>\n",
                       html_escape(series[i].label), b.count, num(b.median), num(b.q1), num(b.q3),
                       num(b.mean), num(b.whisker_lo), num(b.whisker_hi));
    svg += fmt::format(
        "<line x1=\"{:.1f}\" y1=\"{:.1f}\" x2=\"{:.1f}\" y2=\"{:.1f}\" stroke=\"#333\"/>\n"
        "<line x1=\"{:.1f}\" y1=\"{:.1f}\" x2=\"{:.1f}\" y2=\"{:.1f}\" stroke=\"#333\"/>\n"
        "<line x1=\"{:.1f}\" y1=\"{:.1f}\" x2=\"{:.1f}\" y2=\"{:.1f}\" stroke=\"#333\"/>\n",
        x(b.whisker_lo), cy, x(b.whisker_hi), cy, x(b.whisker_lo), cy - h / 4, x(b.whisker_lo), cy + h / 4,
        x(b.whisker_hi), cy - h / 4, x(b.whisker_hi), cy + h / 4);
    svg += fmt::format(
        "<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.1f}\" fill=\"{}\" "
        "fill-opacity=\"0.55\" "
        "stroke=\"{}\"/>\n<line x1=\"{:.1f}\" y1=\"{:.1f}\" x2=\"{:.1f}\" y2=\"{:.1f}\" stroke=\"#111\" "
        "stroke-width=\"2\"/>\n",
        x(b.q1), cy - h / 2, std::max(1.0, x(b.q3) - x(b.q1)), h, color, color, x(b.median), cy - h / 2,
        x(b.median), cy + h / 2);
    double mx = x(b.mean);
    svg += fmt::format("<path d=\"M{:.1f} {:.1f}l4 4l-4 4l-4 -4z\" fill=\"#fff\" stroke=\"#111\"/>\n", mx,
                       cy - 4);
    size_t stride = std::max<size_t>(1, b.outliers.size() / kMaxOutliersDrawn);
    for (size_t k = 0; k < b.outliers.size(); k += stride)
      svg += fmt::format("<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"2.5\" fill=\"none\" stroke=\"{}\"/>",
                         x(b.outliers[k]), cy, color);
    svg += "</g>\n";
  }
  svg += "</svg>\n";
  return svg;
}

}  // namespace r1::bench
