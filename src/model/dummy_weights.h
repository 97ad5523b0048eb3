#pragma once
// Random weights of the shapes a config.json implies, as vLLM's --load-format dummy: benchmark any distill
// shape without its gigabytes of weights.
#include <cstdint>
#include <string>
#include <vector>

#include "model/model_config.h"
#include "model/weights.h"

namespace r1 {

// Matrices uniform in ±sqrt(3 / cols) (unit-variance outputs for unit-variance inputs, so activations neither
// vanish nor overflow through the layers), stored as config.torch_dtype (bfloat16 → BF16, else F32) before
// conversion to `precision`; norms 1, biases uniform in ±0.02. Deterministic in `seed`.
Weights dummy_weights(const ModelConfig& c, WeightPrecision precision, uint64_t seed = 1);

// The values dummy_weights gives the Hugging Face tensor `name` of shape `shape` (outermost first): a
// TensorSource whose row(r, out) fills row r. Other writers of the same random model (bench/llamacpp's GGUF
// writer) use it so that both engines run identical numbers.
TensorSource dummy_tensor_source(const ModelConfig& c, const std::string& name, const std::vector<size_t>& shape,
                                 uint64_t seed = 1);

// The config.json of a model folder (or a config.json path) for --load-format dummy.
ModelConfig dummy_config(const std::string& model_dir_or_config);

}  // namespace r1
