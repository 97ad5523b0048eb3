#include "server/metrics.h"

#include <fmt/format.h>

namespace r1::server {

namespace {
// vLLM's bucket bounds, so dashboards' quantile queries read the same.
const std::vector<double> kTtftBuckets = {0.001, 0.005, 0.01, 0.02,  0.04,  0.06,  0.08, 0.1,
                                          0.25,  0.5,   0.75, 1.0,   2.5,   5.0,   7.5,  10.0,
                                          20.0,  40.0,  80.0, 160.0, 640.0, 2560.0};
const std::vector<double> kItlBuckets = {0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2,  0.3,  0.4, 0.5,
                                         0.75, 1.0,   2.5,  5.0,   7.5, 10.0, 20.0, 40.0, 80.0};
const std::vector<double> kLatencyBuckets = {0.3,  0.5,   0.8,   1.0,   1.5,   2.0,    2.5,
                                             5.0,  10.0,  15.0,  20.0,  30.0,  40.0,   50.0,
                                             60.0, 120.0, 240.0, 480.0, 960.0, 1920.0, 7680.0};

// Model loads take from a fraction of a second (a tiny model) to minutes (70B from a cold disk).
const std::vector<double> kLoadBuckets = {0.05, 0.1,  0.25, 0.5,  1.0,   2.5,   5.0,
                                          10.0, 20.0, 40.0, 80.0, 160.0, 320.0, 640.0};

// The per-request token-count histograms before max_model_len is known.
constexpr size_t kDefaultMaxModelLen = 2048;

std::string num(double v) {
  return fmt::format("{}", v);
}

void header(std::string& out, const char* name, const char* type, const char* help) {
  out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
}
}  // namespace

std::string prom_label_value(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '"')
      out += "\\\"";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

std::vector<double> buckets_1_2_5(size_t max) {
  std::vector<double> b;
  for (double scale = 1;; scale *= 10)
    for (double m : {1.0, 2.0, 5.0}) {
      if (m * scale > double(max)) return b;
      b.push_back(m * scale);
    }
}

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)), counts_(bounds_.size() + 1, 0) {}

void Histogram::reset(std::vector<double> bounds) {
  std::lock_guard lock(mu_);
  bounds_ = std::move(bounds);
  counts_.assign(bounds_.size() + 1, 0);
  sum_ = 0;
  count_ = 0;
}

void Histogram::observe(double v) {
  std::lock_guard lock(mu_);
  size_t i = 0;
  while (i < bounds_.size() && v > bounds_[i]) ++i;
  ++counts_[i];
  sum_ += v;
  ++count_;
}

uint64_t Histogram::count() const {
  std::lock_guard lock(mu_);
  return count_;
}

void Histogram::render(std::string& out, const std::string& name, const std::string& labels) const {
  std::lock_guard lock(mu_);
  uint64_t cum = 0;
  for (size_t i = 0; i < bounds_.size(); ++i) {
    cum += counts_[i];
    out += fmt::format("{}_bucket{{{},le=\"{}\"}} {}\n", name, labels, num(bounds_[i]), cum);
  }
  cum += counts_.back();
  out += fmt::format("{}_bucket{{{},le=\"+Inf\"}} {}\n", name, labels, cum);
  out += fmt::format("{}_sum{{{}}} {}\n", name, labels, num(sum_));
  out += fmt::format("{}_count{{{}}} {}\n", name, labels, count_);
}

RequestMetrics::RequestMetrics(std::string model_name, size_t max_model_len)
    : labels_(fmt::format("model_name=\"{}\"", prom_label_value(model_name))),
      ttft_(kTtftBuckets),
      itl_(kItlBuckets),
      e2e_(kLatencyBuckets),
      queue_(kLatencyBuckets),
      prefill_(kLatencyBuckets),
      decode_(kLatencyBuckets),
      tpot_(kItlBuckets),
      prompt_len_(buckets_1_2_5(max_model_len)),
      generation_len_(buckets_1_2_5(max_model_len)),
      max_generation_(buckets_1_2_5(max_model_len)) {
  for (const char* r : {"stop", "length", "abort", "error"}) success_[r] = 0;
}

void RequestMetrics::set_max_model_len(size_t max_model_len) {
  for (Histogram* h : {&prompt_len_, &generation_len_, &max_generation_})
    h->reset(buckets_1_2_5(max_model_len));
}

void RequestMetrics::request_finished(const Finished& f) {
  {
    std::lock_guard lock(mu_);
    ++success_[to_string(f.reason)];
  }
  if (f.queue_s >= 0) queue_.observe(f.queue_s);
  if (f.ttft_s >= 0) ttft_.observe(f.ttft_s);
  e2e_.observe(f.e2e_s);
  // As vLLM: the per-request histograms count every finished request, aborted ones included.
  prompt_len_.observe(double(f.prompt_tokens));
  generation_len_.observe(double(f.completion_tokens));
  max_generation_.observe(double(f.max_tokens));
  if (f.prefill_s >= 0) prefill_.observe(f.prefill_s);
  if (f.decode_s >= 0) decode_.observe(f.decode_s);
  // vLLM's per-request TPOT: decode time over the tokens after the first; 0 for one token or none.
  if (f.ttft_s >= 0)
    tpot_.observe(f.completion_tokens > 1 && f.decode_s >= 0 ? f.decode_s / double(f.completion_tokens - 1)
                                                             : 0.0);
}

void RequestMetrics::tokens(size_t prompt, size_t generated) {
  std::lock_guard lock(mu_);
  prompt_tokens_ += prompt;
  generation_tokens_ += generated;
}

uint64_t RequestMetrics::finished_count(FinishReason r) const {
  std::lock_guard lock(mu_);
  auto it = success_.find(to_string(r));
  return it == success_.end() ? 0 : it->second;
}

ServerMetrics::ServerMetrics(std::string model_name) : default_model_(std::move(model_name)) {
  auto m = std::make_unique<RequestMetrics>(default_model_, kDefaultMaxModelLen);
  default_ = m.get();
  requests_[default_model_] = std::move(m);
}

void ServerMetrics::set_max_model_len(size_t max_model_len) {
  default_->set_max_model_len(max_model_len);
}

serving::StatsSink* ServerMetrics::for_model(const std::string& model, size_t max_model_len) {
  std::lock_guard lock(mu_);
  auto& m = requests_[model];
  if (!m) {
    m = std::make_unique<RequestMetrics>(model, max_model_len);
  } else if (m.get() == default_ && default_->generation_len_.count() == 0) {
    default_->set_max_model_len(max_model_len);  // its buckets were a guess until now
  }
  return m.get();
}

void ServerMetrics::model_loaded(const std::string& model, double seconds, bool ok) {
  std::lock_guard lock(mu_);
  ++loads_[model][ok ? "ok" : "error"];
  auto& h = load_seconds_[model];
  if (!h) h = std::make_unique<Histogram>(kLoadBuckets);
  h->observe(seconds);
}

void ServerMetrics::model_unloaded(const std::string& model, const char* reason) {
  std::lock_guard lock(mu_);
  ++unloads_[model][reason];
}

void ServerMetrics::load_waited(const std::string& model, double seconds, bool served) {
  std::lock_guard lock(mu_);
  ++waits_[model][served ? "served" : "not_ready"];
  auto& h = wait_seconds_[model];
  if (!h) h = std::make_unique<Histogram>(kLoadBuckets);
  h->observe(seconds);
}

std::string ServerMetrics::render(const std::vector<ModelEngineStats>& engines_in,
                                  const std::vector<serving::ModelStatus>& models) const {
  std::string out;
  std::vector<ModelEngineStats> engines = engines_in;
  if (engines.empty()) engines.push_back({default_model_, EngineStats{}});
  auto gauge = [&](const char* name, const char* type, const char* help, auto value) {
    header(out, name, type, help);
    for (const auto& e : engines)
      out += fmt::format("{}{{model_name=\"{}\"}} {}\n", name, prom_label_value(e.model), value(e.stats));
  };
  gauge("vllm:num_requests_running", "gauge", "Number of requests in model execution batches.",
        [](const EngineStats& s) { return num(double(s.running)); });
  gauge("vllm:num_requests_waiting", "gauge", "Number of requests waiting to be processed.",
        [](const EngineStats& s) { return num(double(s.waiting)); });
  gauge("vllm:kv_cache_usage_perc", "gauge", "KV-cache usage. 1 means 100 percent usage.",
        [](const EngineStats& s) { return num(s.kv_usage); });
  gauge("vllm:prefix_cache_queries_total", "counter",
        "Prefix cache queries, in terms of number of queried tokens.",
        [](const EngineStats& s) { return num(double(s.prefix_cache_queries)); });
  gauge("vllm:prefix_cache_hits_total", "counter", "Prefix cache hits, in terms of number of cached tokens.",
        [](const EngineStats& s) { return num(double(s.prefix_cache_hits)); });
  gauge("vllm:num_preemptions_total", "counter", "Cumulative number of preemption from the engine.",
        [](const EngineStats& s) { return num(double(s.preemptions)); });

  // Model lifecycle (r1serve's own series).
  size_t n_loaded = 0;
  for (const auto& m : models) n_loaded += m.state == serving::ModelState::loaded;
  header(out, "r1serve_models_loaded", "gauge", "Models loaded now.");
  out += fmt::format("r1serve_models_loaded {}\n", n_loaded);
  header(out, "r1serve_model_loaded", "gauge", "1 while the model is loaded, else 0.");
  for (const auto& m : models)
    out += fmt::format("r1serve_model_loaded{{model_name=\"{}\"}} {}\n", prom_label_value(m.name),
                       m.state == serving::ModelState::loaded ? 1 : 0);
  header(out, "r1serve_model_memory_bytes", "gauge",
         "Bytes of weights and KV cache of a loaded model (0 when not).");
  for (const auto& m : models)
    out += fmt::format("r1serve_model_memory_bytes{{model_name=\"{}\"}} {}\n", prom_label_value(m.name),
                       m.state == serving::ModelState::loaded ? m.bytes : 0);

  // r1serve's own: the engine loop's time split (no vLLM equivalent), for the per-token path's cost. `step`
  // separates pure decode steps (comparable with `r1serve perf`'s decode step) from steps with a prompt chunk.
  auto split = [&](const char* name, const char* help, auto decode_only, auto total) {
    header(out, name, "counter", help);
    for (const auto& e : engines) {
      const std::string model = prom_label_value(e.model);
      const double d = double(decode_only(e.stats)), all = double(total(e.stats));
      out += fmt::format("{}{{model_name=\"{}\",step=\"decode_only\"}} {}\n", name, model, num(d));
      out += fmt::format("{}{{model_name=\"{}\",step=\"with_prefill\"}} {}\n", name, model, num(all - d));
    }
  };
  split("r1serve_engine_steps_total", "Engine steps that ran a batch.",
        [](const EngineStats& s) { return s.decode_steps; }, [](const EngineStats& s) { return s.steps; });
  split("r1serve_engine_step_seconds_total",
        "Seconds the engine loop spent in steps (schedule, forward pass, sampling, bookkeeping).",
        [](const EngineStats& s) { return s.decode_step_seconds_total; },
        [](const EngineStats& s) { return s.step_seconds_total; });
  split("r1serve_engine_output_seconds_total",
        "Seconds the engine loop spent delivering step outputs (detokenize, stop strings, reasoning split, "
        "writes).",
        [](const EngineStats& s) { return s.decode_output_seconds_total; },
        [](const EngineStats& s) { return s.output_seconds_total; });

  {
    std::lock_guard lock(mu_);
    auto counters = [&](const char* name, const char* help, const char* label,
                        const std::map<std::string, std::map<std::string, uint64_t>>& by_model) {
      header(out, name, "counter", help);
      for (const auto& [model, by] : by_model)
        for (const auto& [k, n] : by)
          out += fmt::format("{}{{model_name=\"{}\",{}=\"{}\"}} {}\n", name, prom_label_value(model), label,
                             k, n);
    };
    counters("r1serve_model_loads_total", "Model loads, by outcome (ok, error).", "outcome", loads_);
    counters("r1serve_model_unloads_total", "Model unloads, by reason (idle, evicted).", "reason", unloads_);
    counters("r1serve_load_wait_requests_total",
             "Requests that found their model not loaded, by outcome (served after the load, not_ready).",
             "outcome", waits_);
    header(out, "r1serve_model_load_seconds", "histogram", "Seconds a model load took.");
    for (const auto& [model, h] : load_seconds_)
      h->render(out, "r1serve_model_load_seconds", fmt::format("model_name=\"{}\"", prom_label_value(model)));
    header(out, "r1serve_load_wait_seconds", "histogram", "Seconds a request waited for its model to load.");
    for (const auto& [model, h] : wait_seconds_)
      h->render(out, "r1serve_load_wait_seconds", fmt::format("model_name=\"{}\"", prom_label_value(model)));
  }
  // Request-level series, one per model that has a RequestMetrics.
  std::lock_guard lock(mu_);
  std::vector<const RequestMetrics*> reqs;
  for (const auto& [name, m] : requests_) reqs.push_back(m.get());
  header(out, "vllm:prompt_tokens_total", "counter", "Number of prefill tokens processed.");
  for (const RequestMetrics* m : reqs) {
    std::lock_guard ml(m->mu_);
    out += fmt::format("vllm:prompt_tokens_total{{{}}} {}\n", m->labels_, m->prompt_tokens_);
  }
  header(out, "vllm:generation_tokens_total", "counter", "Number of generation tokens processed.");
  for (const RequestMetrics* m : reqs) {
    std::lock_guard ml(m->mu_);
    out += fmt::format("vllm:generation_tokens_total{{{}}} {}\n", m->labels_, m->generation_tokens_);
  }
  header(out, "vllm:request_success_total", "counter", "Count of successfully processed requests.");
  for (const RequestMetrics* m : reqs) {
    std::lock_guard ml(m->mu_);
    for (const auto& [reason, n] : m->success_)
      out +=
          fmt::format("vllm:request_success_total{{{},finished_reason=\"{}\"}} {}\n", m->labels_, reason, n);
  }
  // The histograms, in vLLM's order.
  struct Series {
    Histogram RequestMetrics::*h;
    const char* name;
    const char* help;
  };
  const Series histograms[] = {
      {&RequestMetrics::ttft_, "vllm:time_to_first_token_seconds",
       "Histogram of time to first token in seconds."},
      {&RequestMetrics::itl_, "vllm:inter_token_latency_seconds",
       "Histogram of inter-token latency in seconds."},
      {&RequestMetrics::e2e_, "vllm:e2e_request_latency_seconds",
       "Histogram of e2e request latency in seconds."},
      {&RequestMetrics::queue_, "vllm:request_queue_time_seconds",
       "Histogram of time spent in WAITING phase for request."},
      {&RequestMetrics::prefill_, "vllm:request_prefill_time_seconds",
       "Histogram of time spent in PREFILL phase for request."},
      {&RequestMetrics::decode_, "vllm:request_decode_time_seconds",
       "Histogram of time spent in DECODE phase for request."},
      {&RequestMetrics::tpot_, "vllm:request_time_per_output_token_seconds",
       "Histogram of time_per_output_token_seconds per request."},
      {&RequestMetrics::prompt_len_, "vllm:request_prompt_tokens", "Number of prefill tokens processed."},
      {&RequestMetrics::generation_len_, "vllm:request_generation_tokens",
       "Number of generation tokens processed."},
      {&RequestMetrics::max_generation_, "vllm:request_max_num_generation_tokens",
       "Histogram of maximum number of requested generation tokens."},
  };
  for (const Series& x : histograms) {
    header(out, x.name, "histogram", x.help);
    for (const RequestMetrics* m : reqs) (m->*x.h).render(out, x.name, m->labels_);
  }
  return out;
}

}  // namespace r1::server
