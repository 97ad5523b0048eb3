#include "bench/metrics.h"

#include <algorithm>

namespace r1::bench {

double busy_seconds(std::vector<std::pair<double, double>> iv) {
  std::sort(iv.begin(), iv.end());
  double total = 0, cur_start = 0, cur_end = 0;
  bool open = false;
  for (const auto& [s, e] : iv) {
    if (open && s <= cur_end) {
      cur_end = std::max(cur_end, e);
      continue;
    }
    if (open) total += cur_end - cur_start;
    cur_start = s;
    cur_end = e;
    open = true;
  }
  if (open) total += cur_end - cur_start;
  return total / 1000.0;
}

PhaseSummary summarize(const PhaseResult& phase, const std::string& endpoint, const std::string& model,
                       const Pricing& pricing) {
  PhaseSummary s;
  s.endpoint = endpoint;
  s.model = model;
  s.phase = phase.phase;
  s.not_sent = phase.not_sent;
  std::vector<double> latency, ttft, itl, tpot, tps, in_len, out_len;
  std::vector<std::pair<double, double>> intervals;
  double first = 0, last = 0;
  bool input_known = true;
  for (const Sample& x : phase.samples) {
    if (x.warmup) continue;
    ++s.measured;
    double end = x.start_ms + x.latency_ms;
    intervals.emplace_back(x.start_ms, end);
    first = s.measured == 1 ? x.start_ms : std::min(first, x.start_ms);
    last = s.measured == 1 ? end : std::max(last, end);
    if (!x.ok()) {
      ++s.errors[x.error_kind];
      s.error_examples.emplace(x.error_kind, x.error_message);
      continue;
    }
    ++s.ok;
    latency.push_back(x.latency_ms);
    if (x.ttft_ms) ttft.push_back(*x.ttft_ms);
    itl.insert(itl.end(), x.itl_ms.begin(), x.itl_ms.end());
    if (x.tpot_ms) tpot.push_back(*x.tpot_ms);
    if (x.latency_ms > 0) tps.push_back(double(x.output_tokens) / (x.latency_ms / 1000.0));
    out_len.push_back(double(x.output_tokens));
    s.throughput.total_output_tokens += double(x.output_tokens);
    if (x.input_tokens) {
      in_len.push_back(double(*x.input_tokens));
      s.throughput.total_input_tokens += double(*x.input_tokens);
    } else {
      input_known = false;
    }
    s.reasoning_tokens += double(x.reasoning_tokens);
    s.answer_tokens += double(x.answer_tokens);
    if (x.correct) {
      ++s.gsm8k_graded;
      if (*x.correct) ++s.gsm8k_correct;
    }
  }
  s.latency_ms = compute_stats(latency);
  s.ttft_ms = compute_stats(ttft);
  s.itl_ms = compute_stats(itl);
  s.tpot_ms = compute_stats(tpot);
  s.output_tps_per_request = compute_stats(tps);
  s.input_tokens = compute_stats(in_len);
  s.output_tokens = compute_stats(out_len);
  s.duration_s = phase.mode == LoadMode::kRate ? (last - first) / 1000.0 : busy_seconds(intervals);
  Throughput& t = s.throughput;
  t.n_requests = double(s.ok);
  t.input_known = s.ok > 0 && input_known;
  if (s.duration_s > 0) {
    t.requests_per_s = double(s.ok) / s.duration_s;
    t.output_tokens_per_s = t.total_output_tokens / s.duration_s;
  }
  s.cost = compute_cost(pricing, t);
  return s;
}

}  // namespace r1::bench
