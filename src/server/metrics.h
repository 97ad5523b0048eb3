#pragma once
// Prometheus metrics under vLLM's names (so existing vLLM dashboards and autoscalers work unchanged), each
// with a model_name label as vLLM adds. Gauges and the prefix-cache counters are read from the engine at
// scrape time; token counters, request counters and latency histograms are recorded by the server per
// request.
#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "engine/engine.h"
#include "serving/generation.h"
#include "serving/model_registry.h"

namespace r1::server {

// A cumulative histogram (Prometheus semantics: bucket counts are "<= le").
class Histogram {
 public:
  explicit Histogram(std::vector<double> bounds);
  // New bounds, all counts cleared.
  void reset(std::vector<double> bounds);
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

// vLLM's 1-2-5 series up to `max`: 1, 2, 5, 10, 20, 50, ... (its token-count histograms' buckets).
std::vector<double> buckets_1_2_5(size_t max);

// The engine gauges of one loaded model.
struct ModelEngineStats {
  std::string model;
  EngineStats stats;
};

// The request-level series of one model (vLLM's counters and histograms), fed by its generations.
class RequestMetrics final : public serving::StatsSink {
 public:
  // The token-count histograms' buckets follow max_model_len, as vLLM's do.
  RequestMetrics(std::string model_name, size_t max_model_len);
  void set_max_model_len(size_t max_model_len);

  using Finished = serving::StatsSink::Finished;
  void request_finished(const Finished& f) override;
  void inter_token(double seconds) override { itl_.observe(seconds); }
  void tokens(size_t prompt, size_t generated) override;

  uint64_t finished_count(FinishReason r) const;

 private:
  friend class ServerMetrics;
  std::string labels_;  // model_name="..."
  Histogram ttft_, itl_, e2e_, queue_, prefill_, decode_, tpot_;
  Histogram prompt_len_, generation_len_, max_generation_;  // token counts per request
  mutable std::mutex mu_;
  std::map<std::string, uint64_t> success_;  // by finished_reason
  uint64_t prompt_tokens_ = 0, generation_tokens_ = 0;
};

// Every series of the server: per model, vLLM's (so existing dashboards work) and r1serve's model lifecycle.
// As a StatsSink it hands each generation its model's RequestMetrics (for_model); its own StatsSink calls go
// to the first model's.
class ServerMetrics final : public serving::StatsSink, public serving::LifecycleSink {
 public:
  explicit ServerMetrics(std::string model_name);
  // The first model's token-count buckets (the others' are set when their first request arrives).
  void set_max_model_len(size_t max_model_len);

  using Finished = serving::StatsSink::Finished;
  void request_finished(const Finished& f) override { default_->request_finished(f); }
  void inter_token(double seconds) override { default_->inter_token(seconds); }
  void tokens(size_t prompt, size_t generated) override { default_->tokens(prompt, generated); }
  serving::StatsSink* for_model(const std::string& model, size_t max_model_len) override;

  // Model lifecycle (serving/model_registry.h): loads, unloads, requests that waited for a load.
  void model_loaded(const std::string& model, double seconds, bool ok) override;
  void model_unloaded(const std::string& model, const char* reason) override;
  void load_waited(const std::string& model, double seconds, bool served) override;

  // The whole exposition (text format 0.0.4): vLLM's series (engine gauges per loaded model, none loaded:
  // zeros under the first model's name; request series per model that has served one, and the first model
  // always) and r1serve's model-lifecycle series for `models`.
  std::string render(const std::vector<ModelEngineStats>& engines,
                     const std::vector<serving::ModelStatus>& models) const;

  uint64_t finished_count(FinishReason r) const { return default_->finished_count(r); }

 private:
  std::string default_model_;
  mutable std::mutex mu_;
  std::map<std::string, std::unique_ptr<RequestMetrics>> requests_;  // by model; never removed
  RequestMetrics* default_ = nullptr;
  // Lifecycle, by model name.
  std::map<std::string, std::map<std::string, uint64_t>> loads_, unloads_, waits_;  // by outcome / reason
  std::map<std::string, std::unique_ptr<Histogram>> load_seconds_, wait_seconds_;
};

// Escapes a label value (backslash, quote, newline).
std::string prom_label_value(const std::string& v);

}  // namespace r1::server
