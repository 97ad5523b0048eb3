#pragma once
// Test-only: writes GGUF files field by field, so tests can make valid tiny models and break any field.
#include <cstdint>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

namespace r1::test {

class GgufBuilder {
 public:
  struct Tensor {
    std::string name;
    std::vector<uint64_t> ne;
    uint32_t type = 0;  // ggml_type
    uint64_t offset = 0;
    std::vector<uint8_t> bytes;
  };
  uint32_t version = 3;
  std::string magic = "GGUF";
  uint64_t alignment = 32;
  std::vector<Tensor> tensors;

  void kv_u32(const std::string& k, uint32_t v) { kv(k, 4, &v, 4); }
  void kv_f32(const std::string& k, float v) { kv(k, 6, &v, 4); }
  void kv_str(const std::string& k, const std::string& v) {
    key(k, 8);
    str(meta_, v);
    ++n_kv_;
  }
  void kv_str_array(const std::string& k, const std::vector<std::string>& v) {
    key(k, 9);
    pod(meta_, uint32_t(8));
    pod(meta_, uint64_t(v.size()));
    for (const auto& s : v) str(meta_, s);
    ++n_kv_;
  }
  void kv_raw(const std::string& k, uint32_t type, const std::string& payload) {
    key(k, type);
    meta_ += payload;
    ++n_kv_;
  }
  // An F32 tensor of `ne` (innermost first) holding `fill` everywhere, placed after the previous one.
  void f32(const std::string& name, std::vector<uint64_t> ne, float fill = 0.01f) {
    uint64_t n = 1;
    for (auto d : ne) n *= d;
    std::vector<uint8_t> b(n * 4);
    for (uint64_t i = 0; i < n; ++i) std::memcpy(b.data() + 4 * i, &fill, 4);
    add(name, std::move(ne), 0, std::move(b));
  }
  void add(const std::string& name, std::vector<uint64_t> ne, uint32_t type, std::vector<uint8_t> bytes) {
    uint64_t off = 0;
    if (!tensors.empty())
      off = (tensors.back().offset + tensors.back().bytes.size() + alignment - 1) / alignment * alignment;
    tensors.push_back({name, std::move(ne), type, off, std::move(bytes)});
  }
  std::string bytes() const {
    std::string b = magic;
    pod(b, version);
    pod(b, uint64_t(tensors.size()));
    pod(b, uint64_t(n_kv_));
    b += meta_;
    for (const auto& t : tensors) {
      str(b, t.name);
      pod(b, uint32_t(t.ne.size()));
      for (auto d : t.ne) pod(b, d);
      pod(b, t.type);
      pod(b, t.offset);
    }
    b.resize((b.size() + alignment - 1) / alignment * alignment, '\0');
    const size_t data = b.size();
    for (const auto& t : tensors) {
      if (t.offset > (1ull << 30)) continue;  // a test's claim past any real data: nothing to place
      if (b.size() < data + t.offset) b.resize(data + t.offset, '\0');
      b.replace(data + t.offset, std::min(t.bytes.size(), b.size() - data - t.offset),
                reinterpret_cast<const char*>(t.bytes.data()), t.bytes.size());
    }
    return b;
  }
  void write(const std::string& path) const {
    std::ofstream f(path, std::ios::binary);
    const std::string b = bytes();
    f.write(b.data(), std::streamsize(b.size()));
  }

 private:
  template <typename T>
  static void pod(std::string& b, T v) {
    b.append(reinterpret_cast<const char*>(&v), sizeof v);
  }
  static void str(std::string& b, const std::string& s) {
    pod(b, uint64_t(s.size()));
    b += s;
  }
  void key(const std::string& k, uint32_t type) {
    str(meta_, k);
    pod(meta_, type);
  }
  void kv(const std::string& k, uint32_t type, const void* v, size_t n) {
    key(k, type);
    meta_.append(static_cast<const char*>(v), n);
    ++n_kv_;
  }
  std::string meta_;
  size_t n_kv_ = 0;
};

// A complete qwen2 GGUF model of F32 tensors: 1 layer, hidden 32, ffn 64, 2 heads / 1 KV head (head_dim 16),
// vocab 8, tied output; `skip` leaves one tensor out, `tweak` may change the builder before the tensors.
inline GgufBuilder tiny_gguf_model(const std::string& skip = "") {
  GgufBuilder g;
  g.kv_str("general.architecture", "qwen2");
  g.kv_u32("qwen2.block_count", 1);
  g.kv_u32("qwen2.context_length", 64);
  g.kv_u32("qwen2.embedding_length", 32);
  g.kv_u32("qwen2.feed_forward_length", 64);
  g.kv_u32("qwen2.attention.head_count", 2);
  g.kv_u32("qwen2.attention.head_count_kv", 1);
  g.kv_f32("qwen2.attention.layer_norm_rms_epsilon", 1e-6f);
  g.kv_f32("qwen2.rope.freq_base", 10000.f);
  g.kv_u32("qwen2.vocab_size", 8);
  auto t = [&](const std::string& name, std::vector<uint64_t> ne) {
    if (name != skip) g.f32(name, std::move(ne));
  };
  t("token_embd.weight", {32, 8});
  t("output_norm.weight", {32});
  t("blk.0.attn_norm.weight", {32});
  t("blk.0.attn_q.weight", {32, 32});
  t("blk.0.attn_q.bias", {32});
  t("blk.0.attn_k.weight", {32, 16});
  t("blk.0.attn_k.bias", {16});
  t("blk.0.attn_v.weight", {32, 16});
  t("blk.0.attn_v.bias", {16});
  t("blk.0.attn_output.weight", {32, 32});
  t("blk.0.ffn_norm.weight", {32});
  t("blk.0.ffn_gate.weight", {32, 64});
  t("blk.0.ffn_up.weight", {32, 64});
  t("blk.0.ffn_down.weight", {64, 32});
  return g;
}

}  // namespace r1::test
