// r1serve bench: measure one or more OpenAI-compatible endpoints with the same prompts and load, side by
// side.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>

#include "bench/bench_run.h"
#include "bench/cold_start.h"
#include "bench/report_html.h"
#include "bench/report_json.h"
#include "bench/report_table.h"
#include "commands.h"
#include "core/error.h"

namespace r1::app {

namespace {

using namespace r1::bench;

struct BenchOptions {
  std::vector<std::string> endpoints, api_keys, models;
  std::string dataset, dataset_format = "auto", api = "chat", prompt_suffix, extra_body;
  size_t num_prompts = 20, warmup = 3, runs = 5;
  int64_t max_tokens = 256;
  std::optional<double> temperature;
  std::optional<int64_t> seed;
  size_t concurrency = 0;
  std::string rates;
  double duration_limit = 0, timeout = 600;
  size_t max_in_flight = 256;
  std::vector<double> price_per_hour, price_in, price_out;
  std::string json_path, html_path;
  bool interleave = false, cold_start = false;
};

// Per-endpoint values: none, one for every endpoint, or one per endpoint in --endpoint order.
template <typename T>
std::optional<T> per_endpoint(const std::vector<T>& v, size_t i, size_t n, const char* flag) {
  if (v.empty()) return std::nullopt;
  if (v.size() == 1) return v[0];
  if (v.size() != n)
    fail("{} given {} times for {} endpoints: give it once, or once per endpoint", flag, v.size(), n);
  return v[i];
}

std::vector<double> parse_rates(const std::string& text) {
  std::vector<double> rates;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = std::min(text.find(',', start), text.size());
    std::string item = text.substr(start, end - start);
    char* stop = nullptr;
    double r = item == "inf" ? INFINITY : std::strtod(item.c_str(), &stop);
    if (item.empty() || (item != "inf" && (*stop != '\0' || !(r > 0))))
      fail("--rate {}: \"{}\" is not a positive number of requests per second (or inf)", text, item);
    rates.push_back(r);
    start = end + 1;
  }
  return rates;
}

std::string utc_now() {
  std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

// The sequential protocol with endpoints taking turns prompt by prompt (each prompt's warm-ups and measured
// runs on endpoint 1, then on endpoint 2, ...), so that a shared machine's load drifts over all endpoints
// alike instead of penalising whichever runs first. One PhaseResult per endpoint, as without interleaving.
std::vector<PhaseResult> run_interleaved(const std::vector<Endpoint>& endpoints,
                                         const std::vector<Prompt>& prompts, const LoadConfig& load,
                                         const RequestSpec& spec,
                                         std::chrono::steady_clock::time_point bench_start,
                                         Progress& progress) {
  std::vector<PhaseResult> out;
  std::vector<std::unique_ptr<HttpClient>>
      clients;  // one keep-alive connection per endpoint for the whole run
  for (size_t i = 0; i < endpoints.size(); ++i) {
    out.push_back({"sequential", LoadMode::kSequential, {}, 0});
    clients.push_back(std::make_unique<HttpClient>());
  }
  for (size_t p = 0; p < prompts.size(); ++p) {
    for (size_t i = 0; i < endpoints.size(); ++i) {
      for (PhaseResult& r : run_endpoint(endpoints[i], {prompts[p]}, load, spec, bench_start, progress,
                                         clients[i].get(), /*check_first=*/p == 0)) {
        for (Sample& s : r.samples) {
          s.prompt_index = p;
          out[i].samples.push_back(std::move(s));
        }
        out[i].not_sent += r.not_sent;
      }
    }
  }
  return out;
}

int bench(const BenchOptions& o) {
  auto bench_start = std::chrono::steady_clock::now();
  BenchRun run;
  run.started_at = utc_now();
  size_t n = o.endpoints.size();
  std::vector<Pricing> pricing(n);
  const char* env_key = std::getenv("OPENAI_API_KEY");
  for (size_t i = 0; i < n; ++i) {
    Endpoint e = parse_endpoint(o.endpoints[i]);
    e.model = per_endpoint(o.models, i, n, "--model").value_or("");
    e.api_key = per_endpoint(o.api_keys, i, n, "--api-key").value_or(env_key ? env_key : "");
    run.endpoints.push_back(e);
    pricing[i] = {per_endpoint(o.price_per_hour, i, n, "--price-per-hour"),
                  per_endpoint(o.price_in, i, n, "--price-per-1k-input"),
                  per_endpoint(o.price_out, i, n, "--price-per-1k-output")};
    run.has_pricing = run.has_pricing || pricing[i].any();
  }
  check_unique_names(run.endpoints);

  LoadConfig load;
  load.warmup = o.warmup;
  load.runs = o.runs;
  load.duration_limit_s = o.duration_limit;
  load.max_in_flight = o.max_in_flight;
  load.seed = uint64_t(o.seed.value_or(0));
  if (!o.rates.empty()) {
    load.mode = LoadMode::kRate;
    load.rates = parse_rates(o.rates);
  } else if (o.concurrency > 0) {
    load.mode = LoadMode::kConcurrency;
    load.concurrency = o.concurrency;
  }
  RequestSpec spec;
  spec.chat = o.api == "chat";
  spec.max_tokens = o.max_tokens;
  spec.temperature = o.temperature;
  spec.seed = o.seed;
  spec.timeout_s = o.timeout;
  if (!o.extra_body.empty()) {
    spec.extra_body = nlohmann::json::parse(o.extra_body, nullptr, false);
    if (!spec.extra_body.is_object()) fail("--extra-body: expected a JSON object, got {}", o.extra_body);
  }

  // The dataset first: a bad file should fail before any server is contacted.
  std::vector<Prompt> prompts =
      load_dataset(o.dataset, parse_dataset_format(o.dataset_format), o.num_prompts);
  if (prompts.size() < o.num_prompts)
    std::fprintf(stderr, "bench: %s holds only %zu prompts (asked for %zu)\n", o.dataset.c_str(),
                 prompts.size(), o.num_prompts);
  for (Prompt& p : prompts) p.text += o.prompt_suffix;
  for (Endpoint& e : run.endpoints) {
    resolve_model(e, std::min(o.timeout, 30.0));
    std::fprintf(stderr, "bench: endpoint %s = %s, model %s\n", e.name.c_str(), e.base_url.c_str(),
                 e.model.c_str());
  }

  run.config = {{"dataset", o.dataset},
                {"dataset_format", o.dataset_format},
                {"num_prompts", prompts.size()},
                {"warmup", o.warmup},
                {"runs", o.runs},
                {"api", o.api},
                {"max_tokens", o.max_tokens},
                {"temperature", o.temperature ? nlohmann::json(*o.temperature) : nlohmann::json(nullptr)},
                {"seed", o.seed ? nlohmann::json(*o.seed) : nlohmann::json(nullptr)},
                {"prompt_suffix", o.prompt_suffix},
                {"extra_body", spec.extra_body},
                {"load", phase_names(load)},
                {"interleave", o.interleave},
                {"cold_start", o.cold_start},
                {"duration_limit_s", o.duration_limit},
                {"timeout_s", o.timeout},
                {"max_in_flight", o.max_in_flight}};

  Progress progress(o.cold_start ? n * prompts.size() * o.runs * 2
                                 : n * requests_per_endpoint(load, prompts.size()));
  if (o.cold_start) {
    for (size_t i = 0; i < n; ++i) {
      const Endpoint& e = run.endpoints[i];
      for (PhaseResult& p : run_cold_start(e, prompts, load, spec, bench_start, progress, o.timeout)) {
        run.summaries.push_back(summarize(p, e.name, e.model, pricing[i]));
        progress.print(format_phase_line(run.summaries.back()));
        run.phases.push_back(std::move(p));
      }
    }
  } else if (o.interleave) {
    run.phases = run_interleaved(run.endpoints, prompts, load, spec, bench_start, progress);
    for (size_t i = 0; i < n; ++i) {
      run.summaries.push_back(
          summarize(run.phases[i], run.endpoints[i].name, run.endpoints[i].model, pricing[i]));
      progress.print(format_phase_line(run.summaries.back()));
    }
  } else {
    for (size_t i = 0; i < n; ++i) {
      const Endpoint& e = run.endpoints[i];
      for (PhaseResult& p : run_endpoint(e, prompts, load, spec, bench_start, progress)) {
        run.summaries.push_back(summarize(p, e.name, e.model, pricing[i]));
        progress.print(format_phase_line(run.summaries.back()));
        run.phases.push_back(std::move(p));
      }
    }
  }
  progress.finish();
  run.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - bench_start).count();

  std::fputs(format_report(run.summaries, run.has_pricing).c_str(), stdout);
  std::fflush(stdout);
  if (!o.json_path.empty()) write_json_report(o.json_path, run);
  if (!o.html_path.empty()) write_html_report(o.html_path, run);
  return 0;
}

void register_bench(CLI::App& app, Action& action) {
  auto o = std::make_shared<BenchOptions>();
  CLI::App* cmd = app.add_subcommand(
      "bench", "Benchmark OpenAI-compatible endpoints: latency, TTFT, ITL, throughput, cost, GSM8K sanity");
  cmd->add_option("--endpoint", o->endpoints, "NAME=URL of an OpenAI-compatible server (repeat to compare)")
      ->required();
  cmd->add_option("--api-key", o->api_keys,
                  "Bearer token: once for all endpoints or once per endpoint "
                  "(default: $OPENAI_API_KEY)");
  cmd->add_option("--model", o->models,
                  "Model name: once or once per endpoint (default: first of GET /v1/models)");
  cmd->add_option("--dataset", o->dataset, "Prompts: GSM8K/MT-Bench .jsonl, ShareGPT .json, or text lines")
      ->required();
  cmd->add_option("--dataset-format", o->dataset_format, "auto, gsm8k, sharegpt, mt-bench, text")
      ->check(CLI::IsMember({"auto", "gsm8k", "sharegpt", "mt-bench", "mtbench", "text"}));
  cmd->add_option("--num-prompts", o->num_prompts, "Use the first N prompts")->check(CLI::PositiveNumber);
  cmd->add_option("--warmup", o->warmup, "Warm-up runs per prompt (not in the statistics)");
  cmd->add_option("--runs", o->runs, "Measured runs per prompt")->check(CLI::PositiveNumber);
  cmd->add_option("--api", o->api, "chat (/v1/chat/completions) or completion (/v1/completions)")
      ->check(CLI::IsMember({"chat", "completion"}));
  cmd->add_option("--max-tokens", o->max_tokens, "max_tokens of every request")->check(CLI::PositiveNumber);
  cmd->add_option("--temperature", o->temperature, "Sampling temperature (default: the server's)");
  cmd->add_option("--seed", o->seed, "Sent as the request seed; also seeds the Poisson arrivals");
  cmd->add_option(
      "--prompt-suffix", o->prompt_suffix,
      "Appended to every prompt (e.g. R1's \"\\nPlease reason step by step, and put your final answer "
      "within \\boxed{}.\")");
  cmd->add_option("--extra-body", o->extra_body, "JSON object merged into every request body");
  auto* conc = cmd->add_option("--concurrency", o->concurrency, "Closed loop with C requests in flight")
                   ->check(CLI::PositiveNumber);
  auto* rate = cmd->add_option("--rate", o->rates,
                               "Open loop: Poisson arrivals at each rate r1,r2,... req/s (inf = all at once)")
                   ->excludes(conc);
  cmd->add_option("--duration-limit", o->duration_limit,
                  "Seconds per load level after which no request is sent");
  cmd->add_option("--timeout", o->timeout, "Seconds before one request is abandoned")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--max-in-flight", o->max_in_flight, "Open loop: most requests in flight at once")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--price-per-hour", o->price_per_hour,
                  "Instance price, USD/hour: once or once per endpoint");
  cmd->add_option("--price-per-1k-input", o->price_in,
                  "Token price, USD per 1k input tokens: once or per endpoint");
  cmd->add_option("--price-per-1k-output", o->price_out,
                  "Token price, USD per 1k output tokens: once or per endpoint");
  cmd->add_flag(
         "--interleave", o->interleave,
         "Sequential protocol with endpoints taking turns prompt by prompt (fairer on a shared machine)")
      ->excludes(conc)
      ->excludes(rate);
  cmd->add_flag("--cold-start", o->cold_start,
                "Per prompt and run: unload the model (keep_alive 0), then time the first request (TTFT "
                "includes the load) beside a warm one; phases cold and warm (needs r1serve serve)")
      ->excludes(conc)
      ->excludes(rate);
  cmd->add_option("--json", o->json_path, "Write every raw sample and the summary as JSON");
  cmd->add_option("--html", o->html_path, "Write a self-contained HTML report with box plots");
  cmd->callback([&action, o] { action = [o] { return bench(*o); }; });
}

const CommandRegistrar kRegisterBench(register_bench);

}  // namespace
}  // namespace r1::app
