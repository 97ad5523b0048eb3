#pragma once
// The architecture of a decoder model as data: everything that differs between Qwen2 and Llama 3.x (q/k/v
// bias, tied embeddings, rope scaling, head_dim) is a field here, read from Hugging Face's config.json.
#include <nlohmann/json_fwd.hpp>

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

namespace r1 {

struct RopeScaling {
  enum class Kind { None, Linear, Llama3 } kind = Kind::None;
  double factor = 1.0;
  double low_freq_factor = 1.0;   // llama3
  double high_freq_factor = 4.0;  // llama3
  double original_max_position_embeddings = 8192;  // llama3
};

struct ModelConfig {
  std::string architecture;  // "Qwen2ForCausalLM" or "LlamaForCausalLM"
  size_t hidden_size = 0;
  size_t intermediate_size = 0;
  size_t n_layers = 0;
  size_t n_heads = 0;
  size_t n_kv_heads = 0;
  size_t head_dim = 0;
  size_t vocab_size = 0;
  size_t max_position_embeddings = 0;
  double rms_norm_eps = 1e-6;
  double rope_theta = 10000.0;
  RopeScaling rope_scaling;
  // Llama 3.1 from GGUF (rope_freqs.weight): rotary frequency i is divided by rope_freq_factors[i] — how
  // llama.cpp stores the llama3 scaling. Empty otherwise; [head_dim / 2] when set.
  std::vector<float> rope_freq_factors;
  bool tie_word_embeddings = false;
  bool qkv_bias = false;  // Qwen2 always; Llama when attention_bias is true
  std::optional<int> bos_token_id;
  std::vector<int> eos_token_ids;
  std::string torch_dtype;

  size_t q_dim() const { return n_heads * head_dim; }
  size_t kv_dim() const { return n_kv_heads * head_dim; }
  // Parameter count (embedding and LM head counted once each, twice if untied).
  size_t n_params() const;

  // Throws r1::Error naming `file` and the field on a missing, mistyped or unsupported value.
  static ModelConfig from_json(const nlohmann::json& j, const std::string& file);
  static ModelConfig from_file(const std::string& path);
};

// Reads a JSON file; throws r1::Error naming the file on I/O or syntax errors.
nlohmann::json read_json_file(const std::string& path);

}  // namespace r1
