#include "bench/load_runner.h"

#include <fmt/format.h>

#include <atomic>
#include <cmath>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <random>
#include <thread>

#include "core/error.h"

namespace r1::bench {

namespace {

using clock = std::chrono::steady_clock;

struct Job {
  size_t prompt_index, run;
  bool warmup;
};

std::string rate_name(double r) {
  return std::isinf(r) ? "rate=inf" : fmt::format("rate={:g}", r);
}

// Warm-ups (all prompts × K, run-major) then measured runs (run-major), so concurrent workers mix prompts.
std::vector<Job> run_major_jobs(size_t n_prompts, size_t warmup, size_t runs) {
  std::vector<Job> jobs;
  for (size_t r = 0; r < warmup; ++r)
    for (size_t p = 0; p < n_prompts; ++p) jobs.push_back({p, r, true});
  for (size_t r = 0; r < runs; ++r)
    for (size_t p = 0; p < n_prompts; ++p) jobs.push_back({p, r, false});
  return jobs;
}

// The seed protocol: per prompt, K warm-up runs then R measured runs.
std::vector<Job> prompt_major_jobs(size_t n_prompts, size_t warmup, size_t runs) {
  std::vector<Job> jobs;
  for (size_t p = 0; p < n_prompts; ++p) {
    for (size_t r = 0; r < warmup; ++r) jobs.push_back({p, r, true});
    for (size_t r = 0; r < runs; ++r) jobs.push_back({p, r, false});
  }
  return jobs;
}

// The first reply from an endpoint decides whether it is worth benchmarking: nothing listening, a reply that
// is not OpenAI's, a wrong path or a refused key would fail every request the same way, so the run stops with
// that first message instead of filling a report with identical errors.
struct FirstReply {
  std::atomic<bool> seen{false}, abort{false};
  std::string message;  // written once, by the thread that won `seen`, read after the workers joined
};

bool fatal_first_error(const Sample& s) {
  return s.error_kind == "connection" || s.error_kind == "bad_reply" || s.error_kind == "http_401" ||
         s.error_kind == "http_403" || s.error_kind == "http_404";
}

struct PhaseContext {
  const Endpoint& e;
  const std::vector<Prompt>& prompts;
  const RequestSpec& spec;
  clock::time_point bench_start;
  Progress& progress;
  std::string phase;
  FirstReply& first;
};

Sample do_job(HttpClient& client, const PhaseContext& ctx, const Job& j) {
  Sample s = send_request(client, ctx.e, ctx.spec, ctx.prompts[j.prompt_index], ctx.bench_start);
  s.endpoint = ctx.e.name;
  s.phase = ctx.phase;
  s.prompt_index = j.prompt_index;
  s.run = j.run;
  s.warmup = j.warmup;
  if (!ctx.first.seen.exchange(true) && fatal_first_error(s)) {
    ctx.first.message = fmt::format("endpoint {}: the first request failed ({}): {}", ctx.e.name,
                                    s.error_kind, s.error_message);
    ctx.first.abort = true;
  }
  ctx.progress.request_done(s.ok());
  return s;
}

bool past_limit(clock::time_point start, double limit_s) {
  return limit_s > 0 && std::chrono::duration<double>(clock::now() - start).count() >= limit_s;
}

// Closed loop: `workers` threads, each with its own connection, take the next job until none is left.
void run_closed(const PhaseContext& ctx, const std::vector<Job>& jobs, size_t workers, double limit_s,
                PhaseResult& out, HttpClient* reuse = nullptr) {
  std::vector<std::optional<Sample>> slots(jobs.size());
  std::atomic<size_t> next{0};
  clock::time_point start = clock::now();
  if (workers > 1) reuse = nullptr;
  auto worker = [&] {
    std::optional<HttpClient> own;
    HttpClient& client = reuse ? *reuse : own.emplace();
    for (size_t i; (i = next.fetch_add(1)) < jobs.size();) {
      if (past_limit(start, limit_s) || ctx.first.abort) break;
      slots[i] = do_job(client, ctx, jobs[i]);
    }
  };
  std::vector<std::thread> threads;
  for (size_t w = 0; w < std::max<size_t>(1, std::min(workers, jobs.size())); ++w)
    threads.emplace_back(worker);
  for (auto& t : threads) t.join();
  size_t skipped = 0;
  for (size_t i = 0; i < jobs.size(); ++i) {
    if (slots[i])
      out.samples.push_back(std::move(*slots[i]));
    else {
      ++skipped;
      if (!jobs[i].warmup) ++out.not_sent;
    }
  }
  ctx.progress.skipped(skipped);
}

// Open loop: arrivals at exponential gaps (a Poisson process of `rate` per second), each request on its own
// thread, at most `max_in_flight` at once; arrivals stop at the duration limit.
void run_open(const PhaseContext& ctx, const std::vector<Job>& jobs, double rate, const LoadConfig& load,
              PhaseResult& out) {
  std::mt19937_64 rng(load.seed);
  std::exponential_distribution<double> gap(std::isinf(rate) ? 1.0 : rate);
  std::vector<std::optional<Sample>> slots(jobs.size());
  std::mutex mu;
  std::condition_variable cv;
  size_t in_flight = 0;
  std::vector<std::thread> threads;
  clock::time_point start = clock::now();
  double arrival_s = 0;
  for (size_t i = 0; i < jobs.size(); ++i) {
    if (!std::isinf(rate) && i > 0) arrival_s += gap(rng);
    std::this_thread::sleep_until(
        start + std::chrono::duration_cast<clock::duration>(std::chrono::duration<double>(arrival_s)));
    if (past_limit(start, load.duration_limit_s) || ctx.first.abort) break;
    {
      std::unique_lock lock(mu);
      cv.wait(lock, [&] { return in_flight < load.max_in_flight; });
      ++in_flight;
    }
    threads.emplace_back([&, i] {
      HttpClient client;
      slots[i] = do_job(client, ctx, jobs[i]);
      std::lock_guard lock(mu);
      --in_flight;
      cv.notify_one();
    });
  }
  for (auto& t : threads) t.join();
  for (size_t i = 0; i < jobs.size(); ++i) {
    if (slots[i])
      out.samples.push_back(std::move(*slots[i]));
    else
      ++out.not_sent;
  }
  ctx.progress.skipped(jobs.size() - threads.size());
}

}  // namespace

std::vector<std::string> phase_names(const LoadConfig& c) {
  if (c.mode == LoadMode::kSequential) return {"sequential"};
  if (c.mode == LoadMode::kConcurrency) return {fmt::format("concurrency={}", c.concurrency)};
  std::vector<std::string> names;
  for (double r : c.rates) names.push_back(rate_name(r));
  return names;
}

size_t requests_per_endpoint(const LoadConfig& c, size_t n_prompts) {
  size_t phases = c.mode == LoadMode::kRate ? c.rates.size() : 1;
  return n_prompts * (c.warmup + phases * c.runs);
}

std::vector<PhaseResult> run_endpoint(const Endpoint& e, const std::vector<Prompt>& prompts,
                                      const LoadConfig& load, const RequestSpec& spec,
                                      clock::time_point bench_start, Progress& progress,
                                      HttpClient* sequential_client, bool check_first) {
  std::vector<PhaseResult> results;
  FirstReply first;
  first.seen = !check_first;
  std::vector<std::string> names = phase_names(load);
  for (size_t k = 0; k < names.size(); ++k) {
    PhaseResult out{names[k], load.mode, {}, 0};
    PhaseContext ctx{e, prompts, spec, bench_start, progress, names[k], first};
    progress.set_label(fmt::format("{} {}", e.name, names[k]));
    if (load.mode == LoadMode::kSequential) {
      run_closed(ctx, prompt_major_jobs(prompts.size(), load.warmup, load.runs), 1, load.duration_limit_s,
                 out, sequential_client);
    } else if (load.mode == LoadMode::kConcurrency) {
      run_closed(ctx, run_major_jobs(prompts.size(), load.warmup, load.runs), load.concurrency,
                 load.duration_limit_s, out);
    } else {
      if (k == 0 && load.warmup > 0)
        run_closed(ctx, run_major_jobs(prompts.size(), load.warmup, 0), 1, load.duration_limit_s, out);
      run_open(ctx, run_major_jobs(prompts.size(), 0, load.runs), load.rates[k], load, out);
    }
    if (first.abort) fail("{}", first.message);
    results.push_back(std::move(out));
  }
  return results;
}

}  // namespace r1::bench
