#include "model/model_config.h"

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/error.h"

namespace r1 {

using nlohmann::json;

json read_json_file(const std::string& path) {
  std::ifstream f(path);
  if (!f) fail("{}: cannot open", path);
  std::stringstream ss;
  ss << f.rdbuf();
  try {
    return json::parse(ss.str());
  } catch (const json::parse_error& e) {
    fail("{}: invalid JSON: {}", path, e.what());
  }
}

namespace {

size_t positive_int(const json& j, const char* key, const std::string& file) {
  if (!j.contains(key)) fail("{}: missing field \"{}\"", file, key);
  const json& v = j[key];
  if (!v.is_number_integer() || v.get<long long>() <= 0)
    fail("{}: field \"{}\" must be a positive integer, got {}", file, key, v.dump());
  return size_t(v.get<long long>());
}

double number_or(const json& j, const char* key, double dflt, const std::string& file) {
  if (!j.contains(key) || j[key].is_null()) return dflt;
  if (!j[key].is_number()) fail("{}: field \"{}\" must be a number, got {}", file, key, j[key].dump());
  return j[key].get<double>();
}

std::vector<int> int_or_list(const json& v, const char* key, const std::string& file) {
  std::vector<int> out;
  if (v.is_null()) return out;
  if (v.is_number_integer()) return {v.get<int>()};
  if (v.is_array()) {
    for (const json& e : v) {
      if (!e.is_number_integer()) fail("{}: field \"{}\" must hold integers, got {}", file, key, v.dump());
      out.push_back(e.get<int>());
    }
    return out;
  }
  fail("{}: field \"{}\" must be an integer or a list of integers, got {}", file, key, v.dump());
}

RopeScaling parse_rope_scaling(const json& j, const std::string& file) {
  RopeScaling rs;
  if (!j.contains("rope_scaling") || j["rope_scaling"].is_null()) return rs;
  const json& r = j["rope_scaling"];
  if (!r.is_object()) fail("{}: field \"rope_scaling\" must be an object or null", file);
  std::string type = r.value("rope_type", r.value("type", std::string()));
  if (type == "default") return rs;
  if (type == "linear") {
    rs.kind = RopeScaling::Kind::Linear;
  } else if (type == "llama3") {
    rs.kind = RopeScaling::Kind::Llama3;
    rs.low_freq_factor = number_or(r, "low_freq_factor", 1.0, file);
    rs.high_freq_factor = number_or(r, "high_freq_factor", 4.0, file);
    if (!r.contains("original_max_position_embeddings"))
      fail("{}: rope_scaling llama3 needs \"original_max_position_embeddings\"", file);
    rs.original_max_position_embeddings = number_or(r, "original_max_position_embeddings", 8192, file);
    if (rs.high_freq_factor <= rs.low_freq_factor)
      fail("{}: rope_scaling: high_freq_factor must exceed low_freq_factor", file);
  } else {
    fail("{}: unsupported rope_scaling type \"{}\" (supported: default, linear, llama3)", file, type);
  }
  rs.factor = number_or(r, "factor", 1.0, file);
  if (rs.factor <= 0) fail("{}: rope_scaling.factor must be positive", file);
  return rs;
}

ModelConfig parse_config(const json& j, const std::string& file);

}  // namespace

ModelConfig ModelConfig::from_json(const json& j, const std::string& file) {
  try {
    return parse_config(j, file);
  } catch (const json::exception& e) {  // a field of the wrong JSON type
    fail("{}: {}", file, e.what());
  }
}

namespace {
ModelConfig parse_config(const json& j, const std::string& file) {
  if (!j.is_object()) fail("{}: expected a JSON object", file);
  ModelConfig c;
  if (!j.contains("architectures") || !j["architectures"].is_array() || j["architectures"].empty() ||
      !j["architectures"][0].is_string())
    fail("{}: missing field \"architectures\" (a list of names)", file);
  c.architecture = j["architectures"][0].get<std::string>();
  if (c.architecture == "Qwen2ForCausalLM") {
    c.qkv_bias = true;
  } else if (c.architecture == "LlamaForCausalLM") {
    c.qkv_bias = j.value("attention_bias", false);
    if (j.value("mlp_bias", false)) fail("{}: mlp_bias=true is not supported", file);
  } else {
    fail("{}: unsupported architecture \"{}\" (supported: Qwen2ForCausalLM, LlamaForCausalLM)", file,
         c.architecture);
  }
  std::string act = j.value("hidden_act", std::string("silu"));
  if (act != "silu") fail("{}: unsupported hidden_act \"{}\" (supported: silu)", file, act);

  c.hidden_size = positive_int(j, "hidden_size", file);
  c.intermediate_size = positive_int(j, "intermediate_size", file);
  c.n_layers = positive_int(j, "num_hidden_layers", file);
  c.n_heads = positive_int(j, "num_attention_heads", file);
  c.n_kv_heads = j.contains("num_key_value_heads") ? positive_int(j, "num_key_value_heads", file) : c.n_heads;
  c.vocab_size = positive_int(j, "vocab_size", file);
  c.max_position_embeddings = positive_int(j, "max_position_embeddings", file);
  if (j.contains("head_dim") && !j["head_dim"].is_null()) {
    c.head_dim = positive_int(j, "head_dim", file);
  } else {
    if (c.hidden_size % c.n_heads != 0)
      fail("{}: hidden_size {} is not divisible by num_attention_heads {}", file, c.hidden_size, c.n_heads);
    c.head_dim = c.hidden_size / c.n_heads;
  }
  if (c.head_dim % 2 != 0) fail("{}: head_dim {} must be even for rotary embeddings", file, c.head_dim);
  if (c.n_heads % c.n_kv_heads != 0)
    fail("{}: num_attention_heads {} is not a multiple of num_key_value_heads {}", file, c.n_heads,
         c.n_kv_heads);
  c.rms_norm_eps = number_or(j, "rms_norm_eps", 1e-6, file);
  c.rope_theta = number_or(j, "rope_theta", 10000.0, file);
  if (c.rope_theta <= 0) fail("{}: rope_theta must be positive", file);
  c.rope_scaling = parse_rope_scaling(j, file);
  c.tie_word_embeddings = j.value("tie_word_embeddings", false);
  if (j.contains("bos_token_id") && j["bos_token_id"].is_number_integer())
    c.bos_token_id = j["bos_token_id"].get<int>();
  if (j.contains("eos_token_id")) c.eos_token_ids = int_or_list(j["eos_token_id"], "eos_token_id", file);
  c.torch_dtype = j.value("torch_dtype", std::string());
  return c;
}
}  // namespace

ModelConfig ModelConfig::from_file(const std::string& path) { return from_json(read_json_file(path), path); }

size_t ModelConfig::n_params() const {
  size_t per_layer = 2 * hidden_size + hidden_size * q_dim() + 2 * hidden_size * kv_dim() + q_dim() * hidden_size +
                     3 * hidden_size * intermediate_size + (qkv_bias ? q_dim() + 2 * kv_dim() : 0);
  size_t emb = vocab_size * hidden_size;
  return n_layers * per_layer + hidden_size + emb * (tie_word_embeddings ? 1 : 2);
}

}  // namespace r1
