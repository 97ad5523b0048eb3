#include "bench/report_table.h"

#include <fmt/format.h>

#include <cmath>

namespace r1::bench {

namespace {

bool numeric(const std::string& s) {
  return !s.empty() && (std::isdigit(static_cast<unsigned char>(s[0])) || s[0] == '-' || s[0] == '$');
}

std::string stat_cell(const Stats& s, double v) {
  return s.count ? fmt_num(v, 1) : "-";
}

std::string errors_cell(const PhaseSummary& s) {
  if (s.errors.empty()) return s.not_sent ? fmt::format("0 ({} not sent)", s.not_sent) : "0";
  std::string out;
  for (const auto& [kind, n] : s.errors) out += fmt::format("{}{} {}", out.empty() ? "" : ", ", n, kind);
  if (s.not_sent) out += fmt::format(" ({} not sent)", s.not_sent);
  return out;
}

std::string gsm8k_cell(const PhaseSummary& s) {
  if (!s.gsm8k_graded) return "-";
  return fmt::format("{}/{} ({:.0f}%)", s.gsm8k_correct, s.gsm8k_graded,
                     100.0 * double(s.gsm8k_correct) / double(s.gsm8k_graded));
}

std::vector<std::string> overview_row(const PhaseSummary& s) {
  return {s.endpoint,
          s.phase,
          fmt::format("{}/{}", s.ok, s.measured),
          errors_cell(s),
          fmt_num(s.throughput.requests_per_s, 3),
          fmt_num(s.throughput.output_tokens_per_s, 1),
          stat_cell(s.output_tps_per_request, s.output_tps_per_request.p50),
          stat_cell(s.input_tokens, s.input_tokens.mean),
          stat_cell(s.output_tokens, s.output_tokens.mean),
          fmt::format("{:.0f}/{:.0f}", s.reasoning_tokens, s.answer_tokens),
          gsm8k_cell(s)};
}

const std::vector<std::string> kOverviewHeader{
    "endpoint",  "load",          "ok/sent",    "errors",      "req/s",
    "out tok/s", "tok/s/req p50", "in len avg", "out len avg", "reasoning/answer tok",
    "GSM8K"};

}  // namespace

std::string fmt_num(double v, int decimals) {
  if (!std::isfinite(v)) return "-";
  return fmt::format("{:.{}f}", v, decimals);
}

std::string fmt_usd(const std::optional<double>& v) {
  if (!v) return "-";
  return *v >= 0.01 ? fmt::format("${:.4f}", *v) : fmt::format("${:.3g}", *v);
}

std::string format_table(const std::vector<std::string>& header,
                         const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> w(header.size());
  auto width = [](const std::string& s) {  // display columns: count UTF-8 lead bytes only
    size_t n = 0;
    for (unsigned char c : s) n += (c & 0xC0) != 0x80;
    return n;
  };
  for (size_t i = 0; i < header.size(); ++i) w[i] = width(header[i]);
  for (const auto& r : rows)
    for (size_t i = 0; i < r.size() && i < w.size(); ++i) w[i] = std::max(w[i], width(r[i]));
  auto line = [&](const std::vector<std::string>& cells, bool is_header) {
    std::string out;
    for (size_t i = 0; i < w.size(); ++i) {
      const std::string& c = i < cells.size() ? cells[i] : "";
      std::string pad(w[i] - width(c), ' ');
      out += (i ? "  " : "") + (!is_header && numeric(c) && i > 1 ? pad + c : c + pad);
    }
    while (!out.empty() && out.back() == ' ') out.pop_back();
    return out + "\n";
  };
  std::string out = line(header, true);
  size_t total = 0;
  for (size_t x : w) total += x + 2;
  out += std::string(total - 2, '-') + "\n";
  for (const auto& r : rows) out += line(r, false);
  return out;
}

std::string format_phase_line(const PhaseSummary& s) {
  return fmt::format(
      "{} {}: {}/{} ok, latency p50 {} ms, TTFT p50 {} ms, ITL p50 {} ms, {} out tok/s, errors {}",
      s.endpoint, s.phase, s.ok, s.measured, stat_cell(s.latency_ms, s.latency_ms.p50),
      stat_cell(s.ttft_ms, s.ttft_ms.p50), stat_cell(s.itl_ms, s.itl_ms.p50),
      fmt_num(s.throughput.output_tokens_per_s, 1), errors_cell(s));
}

std::string format_report(const std::vector<PhaseSummary>& summaries, bool with_cost) {
  std::vector<std::vector<std::string>> overview, latency, cost;
  for (const PhaseSummary& s : summaries) {
    overview.push_back(overview_row(s));
    for (auto [name, st] : {std::pair<const char*, const Stats*>{"latency", &s.latency_ms},
                            {"TTFT", &s.ttft_ms},
                            {"ITL", &s.itl_ms},
                            {"TPOT", &s.tpot_ms}}) {
      latency.push_back({s.endpoint, s.phase, name, stat_cell(*st, st->mean), stat_cell(*st, st->p50),
                         stat_cell(*st, st->p90), stat_cell(*st, st->p95), stat_cell(*st, st->p99),
                         stat_cell(*st, st->min), stat_cell(*st, st->max), stat_cell(*st, st->stddev),
                         std::to_string(st->count)});
    }
    const Cost& c = s.cost;
    cost.push_back({s.endpoint, s.phase, fmt_usd(c.instance_usd_per_1m_output),
                    fmt_usd(c.instance_usd_per_request), fmt_usd(c.token_usd_per_1m_output),
                    fmt_usd(c.token_usd_per_1m_tokens), fmt_usd(c.token_usd_per_request)});
  }
  std::string out = "\nSummary (measured requests only; warm-ups excluded)\n";
  out += format_table(kOverviewHeader, overview);
  out += "\nLatency (ms; p = linear-interpolated percentiles, std = population)\n";
  out += format_table(
      {"endpoint", "load", "metric", "avg", "p50", "p90", "p95", "p99", "min", "max", "std", "n"}, latency);
  if (with_cost) {
    out += "\nCost (USD; instance = --price-per-hour at the measured throughput, token = per-1k prices)\n";
    out += format_table({"endpoint", "load", "instance /1M out", "instance /req", "token /1M out",
                         "token /1M all", "token /req"},
                        cost);
  }
  bool any_errors = false;
  for (const PhaseSummary& s : summaries)
    for (const auto& [kind, msg] : s.error_examples) {
      if (!any_errors) out += "\nErrors (first message of each kind)\n";
      any_errors = true;
      out += fmt::format("  {} {} {}: {}\n", s.endpoint, s.phase, kind, msg);
    }
  return out;
}

}  // namespace r1::bench
