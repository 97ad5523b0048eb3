// Sampler microbenchmarks at the distills' vocabularies (151,936 Qwen, 128,256 Llama): one draw per
// iteration on one core — greedy, R1's defaults (temperature 0.6, top_p 0.95), plain temperature 1, top-k 40,
// min-p 0.05, and R1's defaults with logprobs (5 alternatives) — over rows shaped like a trained model's
// logits ("peaked": a broad body and a few tokens far above it) and like random weights' ("flat": normal with
// sigma 1, as the 1.5B --load-format dummy model's logits measure; R1's nucleus is then ~75k tokens). Batch8 samples 8 rows over a 2-thread pool, as one engine step does.
// Only the public Sampler API and token_logprob are used, so the same file measures older samplers too.
//   build/release/bench/sampler_bench --benchmark_min_time=0.2s
#include <benchmark/benchmark.h>

#include <random>
#include <vector>

#include "core/thread_pool.h"
#include "engine/model_runner.h"
#include "engine/sampler.h"

namespace r1 {
namespace {

enum Shape { peaked, flat };

std::vector<float> make_row(size_t vocab, Shape shape, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> body(0, shape == peaked ? 2.5f : 1.0f);
  std::vector<float> l(vocab);
  for (float& v : l) v = body(rng);
  if (shape == peaked) {
    std::uniform_int_distribution<size_t> pick(0, vocab - 1);
    for (int i = 0; i < 5; ++i) l[pick(rng)] = 12.0f + float(i);
  }
  return l;
}

SamplingParams setting(const std::string& name) {
  SamplingParams p;
  p.seed = 7;
  if (name == "greedy") p.temperature = 0;
  if (name == "r1" || name == "r1_logprobs") {
    p.temperature = 0.6;
    p.top_p = 0.95;
  }
  if (name == "top_k_40") p.top_k = 40;
  if (name == "min_p_0.05") p.min_p = 0.05;
  return p;
}

void sample_one(benchmark::State& st, std::string name, size_t vocab, Shape shape) {
  const auto base = make_row(vocab, shape, 1);
  std::vector<float> row(vocab);
  Sampler s(setting(name));
  const bool logprobs = name == "r1_logprobs";
  const std::vector<int32_t> prompt{1, 2, 3};
  for (auto _ : st) {
    st.PauseTiming();
    row = base;  // the sampler may change the row; restoring it is not part of the cost
    st.ResumeTiming();
    int32_t id = s.sample(row, prompt, {});
    if (logprobs) benchmark::DoNotOptimize(token_logprob(base, id, 5));
    benchmark::DoNotOptimize(id);
  }
}

void sample_batch8(benchmark::State& st, std::string name, Shape shape) {
  const size_t vocab = 151936, rows = 8;
  ThreadPool pool(2);
  std::vector<std::vector<float>> base, work(rows);
  std::vector<Sampler> samplers;
  for (size_t r = 0; r < rows; ++r) {
    base.push_back(make_row(vocab, shape, uint32_t(r + 1)));
    samplers.emplace_back(setting(name));
  }
  for (auto _ : st) {
    st.PauseTiming();
    work = base;
    st.ResumeTiming();
    pool.parallel_for(rows, [&](size_t b, size_t e) {
      for (size_t r = b; r < e; ++r) benchmark::DoNotOptimize(samplers[r].sample(work[r], {}, {}));
    });
  }
}

void register_all() {
  for (size_t vocab : {151936ul, 128256ul})
    for (Shape shape : {peaked, flat})
      for (const char* name : {"greedy", "r1", "plain", "top_k_40", "min_p_0.05", "r1_logprobs"}) {
        std::string label = std::string("Sample/") + name + "/vocab:" + std::to_string(vocab) +
                            (shape == peaked ? "/peaked" : "/flat");
        benchmark::RegisterBenchmark(label.c_str(), sample_one, name, vocab, shape)->Unit(benchmark::kMicrosecond);
      }
  for (Shape shape : {peaked, flat})
    for (const char* name : {"greedy", "r1"})
      benchmark::RegisterBenchmark((std::string("Batch8/") + name + (shape == peaked ? "/peaked" : "/flat")).c_str(),
                                   sample_batch8, name, shape)
          ->Unit(benchmark::kMicrosecond)
          ->UseRealTime();
}

}  // namespace
}  // namespace r1

int main(int argc, char** argv) {
  r1::register_all();
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
