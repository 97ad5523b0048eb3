#include "model/dummy_weights.h"

#include <cmath>
#include <filesystem>
#include <functional>

namespace r1 {

namespace {

// splitmix64: a row's numbers depend only on (seed, tensor, row), so rows can be made in any order on any
// thread.
inline uint64_t mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

}  // namespace

TensorSource dummy_tensor_source(const ModelConfig& c, const std::string& name, const std::vector<size_t>& shape,
                                 uint64_t seed) {
  const DType stored = c.torch_dtype == "bfloat16" ? DType::BF16 : DType::F32;
  const uint64_t tensor_seed = mix(seed ^ std::hash<std::string>{}(name));
  const size_t cols = shape.back();
  const bool is_norm = name.find("norm") != std::string::npos;
  const bool is_bias = name.find(".bias") != std::string::npos;
  const float amp = is_bias ? 0.02f : float(std::sqrt(3.0 / double(cols)));
  TensorSource s;
  s.dtype = shape.size() == 2 ? stored : DType::F32;
  const bool round_bf16 = s.dtype == DType::BF16;  // values a BF16 file could hold
  s.row = [=](size_t row, float* out) {
    if (is_norm) {
      for (size_t i = 0; i < cols; ++i) out[i] = 1.0f;
      return;
    }
    // splitmix64's own stream seeded per row: element i is mix(row_seed + i * golden), so the elements do not
    // wait on each other (iterating mix() on its own output made one serial chain per row and dominated the
    // dummy load).
    const uint64_t row_seed = mix(tensor_seed + row);
    for (size_t i = 0; i < cols; ++i) {
      const uint64_t bits = mix(row_seed + i * 0x9e3779b97f4a7c15ull);
      // 24 random bits -> uniform in [-amp, amp)
      float u = float(bits >> 40) * (1.0f / 16777216.0f) * 2.0f - 1.0f;
      float v = u * amp;
      out[i] = round_bf16 ? bf16_to_f32(f32_to_bf16(v)) : v;
    }
  };
  return s;
}

Weights dummy_weights(const ModelConfig& c, WeightPrecision precision, uint64_t seed) {
  return Weights::build(c, precision, [&](const std::string& name, const std::vector<size_t>& shape) {
    return dummy_tensor_source(c, name, shape, seed);
  });
}

ModelConfig dummy_config(const std::string& model_dir_or_config) {
  std::filesystem::path p(model_dir_or_config);
  if (std::filesystem::is_directory(p)) p /= "config.json";
  return ModelConfig::from_file(p.string());
}

}  // namespace r1
