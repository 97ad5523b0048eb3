#include "bench/report_html.h"

#include <fmt/format.h>

#include <fstream>

#include "bench/report_table.h"
#include "bench/svg_boxplot.h"
#include "core/error.h"

namespace r1::bench {

namespace {

const char* const kStyle = R"(
body { font-family: system-ui, sans-serif; margin: 24px auto; max-width: 1100px; color: #222; }
h1 { font-size: 22px; } h2 { font-size: 17px; margin-top: 28px; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; font-size: 13px; margin: 8px 0; }
th, td { border: 1px solid #ddd; padding: 3px 8px; } th { background: #f4f4f4; text-align: left; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
.note { color: #555; font-size: 13px; } code { background: #f4f4f4; padding: 0 3px; }
figure { margin: 12px 0; }
)";

std::string cell(const std::string& s) {
  bool numeric = !s.empty() && (std::isdigit(static_cast<unsigned char>(s[0])) || s[0] == '$' || s[0] == '-');
  return fmt::format("<td{}>{}</td>", numeric ? " class=\"n\"" : "", html_escape(s));
}

std::string table(const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows) {
  std::string out = "<table><tr>";
  for (const auto& h : header) out += "<th>" + html_escape(h) + "</th>";
  out += "</tr>\n";
  for (const auto& r : rows) {
    out += "<tr>";
    for (const auto& c : r) out += cell(c);
    out += "</tr>\n";
  }
  return out + "</table>\n";
}

std::string stat(const Stats& s, double v) {
  return s.count ? fmt_num(v, 1) : "-";
}

std::string errors_text(const PhaseSummary& s) {
  std::string out;
  for (const auto& [kind, n] : s.errors) out += fmt::format("{}{} {}", out.empty() ? "" : ", ", n, kind);
  if (s.not_sent) out += fmt::format("{}{} not sent", out.empty() ? "" : ", ", s.not_sent);
  return out.empty() ? "0" : out;
}

// Values of one metric from the measured, successful samples of a phase (ITL pools all gaps).
std::vector<double> metric_values(const PhaseResult& p, int metric) {
  std::vector<double> v;
  for (const Sample& s : p.samples) {
    if (s.warmup || !s.ok()) continue;
    if (metric == 0) v.push_back(s.latency_ms);
    if (metric == 1 && s.ttft_ms) v.push_back(*s.ttft_ms);
    if (metric == 2) v.insert(v.end(), s.itl_ms.begin(), s.itl_ms.end());
  }
  return v;
}

std::string load_text(const nlohmann::json& config) {
  std::string out;
  if (config.contains("load") && config["load"].is_array())
    for (const auto& l : config["load"]) out += (out.empty() ? "" : ", ") + l.get<std::string>();
  return out;
}

}  // namespace

std::string html_report(const BenchRun& run) {
  std::string h = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n";
  h += "<title>r1serve bench report</title>\n<style>" + std::string(kStyle) + "</style></head><body>\n";
  h += "<h1>r1serve bench report</h1>\n";
  const auto& c = run.config;
  h += fmt::format(
      "<p class=\"note\">Started {} UTC, {:.1f} s. Dataset <code>{}</code> ({} prompts, {} API), {} warm-up "
      "+ {} "
      "measured runs per prompt, max_tokens {}, load {}.</p>\n",
      html_escape(run.started_at), run.wall_s, html_escape(c.value("dataset", "")), c.value("num_prompts", 0),
      html_escape(c.value("api", "")), c.value("warmup", 0), c.value("runs", 0), c.value("max_tokens", 0),
      html_escape(load_text(c)));

  std::vector<std::vector<std::string>> endpoints;
  for (const auto& e : run.endpoints) endpoints.push_back({e.name, e.base_url, e.model});
  h += "<h2>Endpoints</h2>\n" + table({"name", "URL", "model"}, endpoints);

  std::vector<std::vector<std::string>> overview, latency, cost;
  for (const PhaseSummary& s : run.summaries) {
    std::string gsm = s.gsm8k_graded ? fmt::format("{}/{} ({:.0f}%)", s.gsm8k_correct, s.gsm8k_graded,
                                                   100.0 * double(s.gsm8k_correct) / double(s.gsm8k_graded))
                                     : "-";
    overview.push_back({s.endpoint, s.phase, fmt::format("{}/{}", s.ok, s.measured), errors_text(s),
                        fmt_num(s.throughput.requests_per_s, 3), fmt_num(s.throughput.output_tokens_per_s, 1),
                        stat(s.output_tps_per_request, s.output_tps_per_request.p50),
                        stat(s.input_tokens, s.input_tokens.mean),
                        stat(s.output_tokens, s.output_tokens.mean),
                        fmt::format("{:.0f} / {:.0f}", s.reasoning_tokens, s.answer_tokens), gsm});
    for (auto [name, st] : {std::pair<const char*, const Stats*>{"latency", &s.latency_ms},
                            {"TTFT", &s.ttft_ms},
                            {"ITL", &s.itl_ms},
                            {"TPOT", &s.tpot_ms}})
      latency.push_back({s.endpoint, s.phase, name, stat(*st, st->mean), stat(*st, st->p50),
                         stat(*st, st->p90), stat(*st, st->p95), stat(*st, st->p99), stat(*st, st->min),
                         stat(*st, st->max), stat(*st, st->stddev), std::to_string(st->count)});
    cost.push_back({s.endpoint, s.phase, fmt_usd(s.cost.instance_usd_per_1m_output),
                    fmt_usd(s.cost.instance_usd_per_request), fmt_usd(s.cost.token_usd_per_1m_output),
                    fmt_usd(s.cost.token_usd_per_1m_tokens), fmt_usd(s.cost.token_usd_per_request)});
  }
  h += "<h2>Summary</h2>\n<p class=\"note\">Measured requests only; warm-ups excluded.</p>\n";
  h += table({"endpoint", "load", "ok/sent", "errors", "req/s", "out tok/s", "tok/s/req p50", "in len avg",
              "out len avg", "reasoning / answer tok", "GSM8K"},
             overview);

  h += "<h2>Distributions</h2>\n<p class=\"note\">Box p25–p75, line = median, diamond = mean, whiskers = "
       "furthest "
       "values within 1.5 × IQR, circles = outliers. ITL pools the gaps between streamed tokens of all "
       "requests."
       "</p>\n";
  const char* titles[] = {"End-to-end latency", "Time to first token", "Inter-token latency"};
  for (int m = 0; m < 3; ++m) {
    std::vector<BoxSeries> series;
    for (const PhaseResult& p : run.phases) {
      std::string endpoint = p.samples.empty() ? "?" : p.samples.front().endpoint;
      series.push_back({endpoint + " · " + p.phase, metric_values(p, m)});
    }
    h += "<figure>" + svg_boxplot(titles[m], "ms", series) + "</figure>\n";
  }

  h +=
      "<h2>Latency statistics (ms)</h2>\n<p class=\"note\">Percentiles: linear interpolation between closest "
      "ranks (numpy's default); std: population.</p>\n";
  h += table({"endpoint", "load", "metric", "avg", "p50", "p90", "p95", "p99", "min", "max", "std", "n"},
             latency);
  if (run.has_pricing) {
    h += "<h2>Cost (USD)</h2>\n<p class=\"note\">Instance: --price-per-hour at the measured throughput. "
         "Token: "
         "--price-per-1k-input/-output with the measured token counts.</p>\n";
    h += table({"endpoint", "load", "instance /1M out", "instance /req", "token /1M out", "token /1M all",
                "token /req"},
               cost);
  }
  std::vector<std::vector<std::string>> errors;
  for (const PhaseSummary& s : run.summaries)
    for (const auto& [kind, msg] : s.error_examples) errors.push_back({s.endpoint, s.phase, kind, msg});
  if (!errors.empty())
    h += "<h2>Errors</h2>\n" + table({"endpoint", "load", "kind", "first message"}, errors);
  h += "</body></html>\n";
  return h;
}

void write_html_report(const std::string& path, const BenchRun& run) {
  std::ofstream f(path);
  if (!f) fail("--html {}: cannot open for writing", path);
  f << html_report(run);
  if (!f) fail("--html {}: write failed", path);
}

}  // namespace r1::bench
