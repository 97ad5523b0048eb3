#include "model/gguf_config.h"

#include <cstring>

#include "core/error.h"
#include "core/tensor.h"

namespace r1 {

namespace {

using nlohmann::ordered_json;

class Meta {
 public:
  Meta(const GgufFile& f, std::string arch) : md_(f.metadata()), file_(f.path()), arch_(std::move(arch)) {}
  const ordered_json* find(const std::string& key) const {
    auto it = md_.find(key);
    return it == md_.end() ? nullptr : &*it;
  }
  // `<arch>.<key>`, a positive integer.
  size_t count(const std::string& key) const {
    const std::string k = arch_ + "." + key;
    const ordered_json* v = find(k);
    if (!v) fail("{}: missing metadata \"{}\"", file_, k);
    if (!v->is_number_integer() || v->get<int64_t>() <= 0)
      fail("{}: metadata \"{}\" must be a positive integer, got {}", file_, k, v->dump());
    return size_t(v->get<int64_t>());
  }
  std::optional<size_t> count_if_present(const std::string& key) const {
    if (!find(arch_ + "." + key)) return std::nullopt;
    return count(key);
  }
  double number_or(const std::string& key, double dflt) const {
    const ordered_json* v = find(key);
    if (!v) return dflt;
    if (!v->is_number()) fail("{}: metadata \"{}\" must be a number, got {}", file_, key, v->dump());
    return v->get<double>();
  }
  std::optional<int> token_id(const std::string& key) const {
    const ordered_json* v = find(key);
    if (!v) return std::nullopt;
    if (!v->is_number_integer() || v->get<int64_t>() < 0 || v->get<int64_t>() > INT32_MAX)
      fail("{}: metadata \"{}\" must be a token id, got {}", file_, key, v->dump());
    return int(v->get<int64_t>());
  }
  const std::string& arch() const { return arch_; }

 private:
  const ordered_json& md_;
  const std::string& file_;
  std::string arch_;
};

// Llama 3.1's rope scaling as llama.cpp stores it: one divisor per rotary frequency.
std::vector<float> rope_freq_factors(const GgufFile& f, const GgufTensor& t, size_t head_dim) {
  if (t.type != GgmlType::F32 || t.ne.size() != 1 || t.ne[0] != head_dim / 2)
    fail("{}: tensor \"rope_freqs.weight\" must be F32 of shape [{}] (head_dim / 2), got {} {}", f.path(),
         head_dim / 2, ggml_type_name(t.type), shape_str(t.shape()));
  std::vector<float> out(head_dim / 2);
  std::memcpy(out.data(), f.data(t), out.size() * sizeof(float));
  for (float x : out)
    if (!(x > 0))
      fail("{}: tensor \"rope_freqs.weight\" holds {}; every factor must be positive", f.path(), x);
  return out;
}

}  // namespace

ModelConfig gguf_model_config(const GgufFile& f) {
  const auto& md = f.metadata();
  auto arch_it = md.find("general.architecture");
  if (arch_it == md.end() || !arch_it->is_string())
    fail("{}: missing metadata \"general.architecture\" (a string)", f.path());
  const std::string arch = arch_it->get<std::string>();
  ModelConfig c;
  if (arch == "qwen2") {
    c.architecture = "Qwen2ForCausalLM";
  } else if (arch == "llama") {
    c.architecture = "LlamaForCausalLM";
  } else {
    fail("{}: unsupported general.architecture \"{}\" (supported: qwen2, llama)", f.path(), arch);
  }
  Meta m(f, arch);
  c.n_layers = m.count("block_count");
  c.hidden_size = m.count("embedding_length");
  c.intermediate_size = m.count("feed_forward_length");
  c.n_heads = m.count("attention.head_count");
  c.n_kv_heads = m.count_if_present("attention.head_count_kv").value_or(c.n_heads);
  c.max_position_embeddings = m.count("context_length");
  if (auto k = m.count_if_present("attention.key_length")) {
    c.head_dim = *k;
    if (auto v = m.count_if_present("attention.value_length"); v && *v != *k)
      fail("{}: metadata \"{}.attention.value_length\" {} differs from key_length {} (unsupported)", f.path(),
           arch, *v, *k);
  } else {
    if (c.hidden_size % c.n_heads != 0)
      fail("{}: metadata \"{}.embedding_length\" {} is not divisible by head_count {}", f.path(), arch,
           c.hidden_size, c.n_heads);
    c.head_dim = c.hidden_size / c.n_heads;
  }
  if (c.head_dim % 2 != 0)
    fail("{}: head dimension {} must be even for rotary embeddings", f.path(), c.head_dim);
  if (auto rd = m.count_if_present("rope.dimension_count"); rd && *rd != c.head_dim)
    fail(
        "{}: metadata \"{}.rope.dimension_count\" {} differs from the head dimension {} (partial rotary "
        "embeddings are not supported)",
        f.path(), arch, *rd, c.head_dim);
  if (c.n_heads % c.n_kv_heads != 0)
    fail("{}: metadata \"{}.attention.head_count\" {} is not a multiple of head_count_kv {}", f.path(), arch,
         c.n_heads, c.n_kv_heads);
  c.rms_norm_eps = m.number_or(arch + ".attention.layer_norm_rms_epsilon", 1e-5);
  c.rope_theta = m.number_or(arch + ".rope.freq_base", 10000.0);
  if (c.rope_theta <= 0) fail("{}: metadata \"{}.rope.freq_base\" must be positive", f.path(), arch);

  // Rope scaling: `rope.scaling.type` (linear; yarn and others are refused), the older `rope.scale_linear`.
  std::string scaling = "none";
  if (const auto* t = m.find(arch + ".rope.scaling.type")) {
    if (!t->is_string()) fail("{}: metadata \"{}.rope.scaling.type\" must be a string", f.path(), arch);
    scaling = t->get<std::string>();
  }
  double factor = m.number_or(arch + ".rope.scaling.factor", 1.0);
  if (const auto* lin = m.find(arch + ".rope.scale_linear")) {
    scaling = "linear";
    factor = m.number_or(arch + ".rope.scale_linear", 1.0);
    (void)lin;
  }
  if (scaling == "linear" && factor != 1.0) {
    if (factor <= 0) fail("{}: metadata \"{}.rope.scaling.factor\" must be positive", f.path(), arch);
    c.rope_scaling.kind = RopeScaling::Kind::Linear;
    c.rope_scaling.factor = factor;
  } else if (scaling != "none" && scaling != "linear") {
    fail("{}: unsupported metadata \"{}.rope.scaling.type\" \"{}\" (supported: none, linear)", f.path(), arch,
         scaling);
  }
  if (const GgufTensor* rf = f.find("rope_freqs.weight"))
    c.rope_freq_factors = rope_freq_factors(f, *rf, c.head_dim);

  // The vocabulary: the model's own key, else the tokenizer's size, else the embedding's rows.
  if (auto v = m.count_if_present("vocab_size")) {
    c.vocab_size = *v;
  } else if (auto it = md.find("tokenizer.ggml.tokens"); it != md.end() && it->is_array() && !it->empty()) {
    c.vocab_size = it->size();
  } else if (const GgufTensor* e = f.find("token_embd.weight"); e && e->ne.size() == 2) {
    c.vocab_size = e->ne[1];
  } else {
    fail("{}: cannot tell the vocabulary size (no {}.vocab_size, tokenizer.ggml.tokens or token_embd.weight)",
         f.path(), arch);
  }
  c.tie_word_embeddings = f.find("output.weight") == nullptr;
  c.qkv_bias = arch == "qwen2" || f.find("blk.0.attn_q.bias") != nullptr;
  c.bos_token_id = m.token_id("tokenizer.ggml.bos_token_id");
  if (auto eos = m.token_id("tokenizer.ggml.eos_token_id")) c.eos_token_ids.push_back(*eos);
  if (auto eot = m.token_id("tokenizer.ggml.eot_token_id");
      eot && (c.eos_token_ids.empty() || c.eos_token_ids[0] != *eot))
    c.eos_token_ids.push_back(*eot);
  return c;
}

}  // namespace r1
