#pragma once
// Prometheus metrics under vLLM's names (so existing vLLM dashboards and autoscalers work unchanged), each
// with a model_name label as vLLM adds. Gauges and the prefix-cache counters are read from the engine at
// scrape time; token counters, request counters and latency histograms are recorded by the server per
// request.
#include <array>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "engine/engine.h"

namespace r1::server {

// A cumulative histogram (Prometheus semantics: bucket counts are "<= le").
class Histogram {
 public:
  explicit Histogram(std::vector<double> bounds);
  void observe(double v);
  // The _bucket, _sum and _count lines for `name` with `labels` (e.g. model_name="x").
  void render(std::string& out, const std::string& name, const std::string& labels) const;
  uint64_t count() const;

 private:
  std::vector<double> bounds_;
  mutable std::mutex mu_;
  std::vector<uint64_t> counts_;  // per bucket (not cumulative), last = +Inf
  double sum_ = 0;
  uint64_t count_ = 0;
};

class ServerMetrics {
 public:
  explicit ServerMetrics(std::string model_name);

  // Per request, once, when it finishes (seconds).
  struct Finished {
    FinishReason reason = FinishReason::stop;
    size_t prompt_tokens = 0, completion_tokens = 0;
    double queue_s = -1, ttft_s = -1, e2e_s = 0;  // negative: not known (never scheduled / no token)
  };
  void request_finished(const Finished& f);
  void inter_token(double seconds) { itl_.observe(seconds); }
  void tokens(size_t prompt, size_t generated);

  // The whole exposition (text format 0.0.4).
  std::string render(const EngineStats& engine) const;

  uint64_t finished_count(FinishReason r) const;

 private:
  std::string labels_;  // model_name="..."
  Histogram ttft_, itl_, e2e_, queue_;
  mutable std::mutex mu_;
  std::map<std::string, uint64_t> success_;  // by finished_reason
  uint64_t prompt_tokens_ = 0, generation_tokens_ = 0;
};

// Escapes a label value (backslash, quote, newline).
std::string prom_label_value(const std::string& v);

}  // namespace r1::server
