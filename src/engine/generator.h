#pragma once
// One sequence at a time through the decoder: the `run` command's engine. The serving engine (continuous
// batching over a shared block pool) lives beside it and uses the same Decoder and Sampler.
#include <functional>
#include <memory>
#include <vector>

#include "core/thread_pool.h"
#include "engine/sampler.h"
#include "model/decoder.h"
#include "model/kv_cache.h"
#include "model/model_package.h"
#include "model/weights.h"

namespace r1 {

struct LoadedModel {
  ModelPackage package;
  Weights weights;
};
// Opens the folder and loads its weights at the given precision. Throws r1::Error on any bad file.
std::unique_ptr<LoadedModel> load_model(const std::string& dir, WeightPrecision precision);

struct GenerateOptions {
  SamplingParams sampling;
  size_t max_tokens = 256;
  bool ignore_eos = false;
  std::vector<int32_t> eos_ids;
};

class Generator {
 public:
  // max_context: the longest prompt + output this generator will hold (sizes its KV cache).
  Generator(const LoadedModel& m, ThreadPool& pool, size_t max_context);

  // Logits of every prompt position: [prompt.size(), vocab], row-major.
  std::vector<float> prompt_logits(const std::vector<int32_t>& prompt);

  // Generates up to max_tokens after the prompt. on_token is called for each new id and may return false to
  // stop. If step_logits is not null, it receives the logits each token was sampled from, before sampling.
  std::vector<int32_t> generate(const std::vector<int32_t>& prompt, const GenerateOptions& opt,
                                const std::function<bool(int32_t)>& on_token,
                                std::vector<std::vector<float>>* step_logits = nullptr);

  size_t max_context() const { return max_context_; }

 private:
  const LoadedModel& m_;
  Decoder decoder_;
  size_t max_context_;
  KvCache kv_;
  std::vector<int32_t> block_table_;
};

}  // namespace r1
