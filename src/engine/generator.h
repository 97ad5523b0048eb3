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

// Where the weights come from, as vLLM's --load-format: `automatic` reads the folder's safetensors; `dummy`
// makes random ones of the shapes config.json implies (model/dummy_weights.h), so the folder needs only
// config.json (+ optional generation_config.json) — for benchmarks and tests, never for real output.
enum class LoadFormat { automatic, dummy };
// "auto" | "dummy"; throws r1::Error naming --load-format otherwise.
LoadFormat parse_load_format(const std::string& s);
const char* load_format_name(LoadFormat f);  // "auto" | "dummy"

struct LoadedModel {
  ModelPackage package;  // with LoadFormat::dummy: config and generation config only (no tensors)
  Weights weights;
  LoadFormat format = LoadFormat::automatic;
  bool random_weights() const { return format == LoadFormat::dummy; }
};
// Opens the folder and loads its weights at the given precision (or, with LoadFormat::dummy, makes random
// ones and logs a warning saying so). Throws r1::Error on any bad file.
std::unique_ptr<LoadedModel> load_model(const std::string& dir, WeightPrecision precision,
                                        LoadFormat format = LoadFormat::automatic);

struct GenerateOptions {
  SamplingParams sampling;
  size_t max_tokens = 256;
  bool ignore_eos = false;
  std::vector<int32_t> eos_ids;
};

class Generator {
 public:
  // max_context: the longest prompt + output this generator will hold (sizes its KV cache); kv_dtype: the
  // cache's element type (F32 exact; F16/BF16 half the memory; the CLI picks it with resolve_kv_cache_dtype).
  Generator(const LoadedModel& m, ThreadPool& pool, size_t max_context, DType kv_dtype = DType::F32);

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
