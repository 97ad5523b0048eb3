#include "model/decoder.h"

#include <cmath>
#include <cstring>

#include "core/error.h"
#include "kernels/isa.h"
#include "kernels/ops.h"
#include "model/rope.h"

namespace r1 {

using kernels::matmul;

Decoder::Decoder(const ModelConfig& c, const Weights& w, ThreadPool& pool)
    : c_(c), w_(w), pool_(pool), inv_freq_(rope_inv_freq(c)), scores_(size_t(pool.size())) {}

void Decoder::embed(const ForwardBatch& b) {
  const size_t h = c_.hidden_size;
  for (size_t t = 0; t < b.tokens.size(); ++t) {
    int32_t id = b.tokens[t];
    if (id < 0 || size_t(id) >= c_.vocab_size)
      fail("token id {} is out of range (vocab size {})", id, c_.vocab_size);
    kernels::weight_row(w_.embed, size_t(id), x_.data() + t * h);
  }
}

namespace {
// One K or V row into the cache: src [n] f32 -> dst [n] of dtype.
void store_kv_row(const float* src, size_t n, DType dtype, void* dst) {
  if (dtype == DType::F32) {
    std::memcpy(dst, src, n * sizeof(float));
  } else if (dtype == DType::F16) {
    for (size_t i = 0; i < n; ++i) static_cast<uint16_t*>(dst)[i] = f32_to_f16(src[i]);
  } else {
    for (size_t i = 0; i < n; ++i) static_cast<uint16_t*>(dst)[i] = f32_to_bf16(src[i]);
  }
}
}  // namespace

void Decoder::project(const float* x, size_t n, std::initializer_list<Projection> ps) {
  bool shared = true;
  for (const Projection& p : ps) shared = shared && kernels::is_quantized(p.w.dtype);
  if (!shared) {
    for (const Projection& p : ps) matmul(pool_, x, n, p.w, p.bias, p.out, &xq_);
    return;
  }
  kernels::quantize_acts(x, n, ps.begin()->w.cols, xq_, &pool_);
  for (const Projection& p : ps) matmul(pool_, xq_, p.w, p.bias, p.out);
}

void Decoder::attention_layer(size_t layer, const ForwardBatch& b, KvCache& kv) {
  const LayerWeights& L = w_.layers[layer];
  const size_t n = b.tokens.size(), h = c_.hidden_size, hd = c_.head_dim, qd = c_.q_dim(), kvd = c_.kv_dim();
  kernels::rmsnorm(x_.data(), L.attn_norm, n, h, float(c_.rms_norm_eps), xn_.data());
  project(xn_.data(), n, {{L.wq, L.bq, q_.data()}, {L.wk, L.bk, k_.data()}, {L.wv, L.bv, v_.data()}});
  kernels::rope_rotate_half(q_.data(), n, c_.n_heads, hd, positions_.data(), inv_freq_.data());
  kernels::rope_rotate_half(k_.data(), n, c_.n_kv_heads, hd, positions_.data(), inv_freq_.data());

  // Append this batch's K/V to the cache, in the cache's element type.
  const DType kv_dt = kv.dtype();
  const size_t esz = dtype_size(kv_dt);
  auto* kc = static_cast<uint8_t*>(kv.k_data(layer));
  auto* vc = static_cast<uint8_t*>(kv.v_data(layer));
  const size_t bs = kv.block_size();
  for (size_t t = 0; t < n; ++t) {
    const SequenceSlice& s = b.seqs[size_t(seq_of_token_[t])];
    size_t pos = size_t(positions_[t]);
    size_t block = size_t(s.block_table[pos / bs]);
    R1_CHECK(block < kv.n_blocks(), "block {} outside the pool of {}", block, kv.n_blocks());
    size_t slot = block * bs + pos % bs;
    store_kv_row(k_.data() + t * kvd, kvd, kv_dt, kc + slot * kvd * esz);
    store_kv_row(v_.data() + t * kvd, kvd, kv_dt, vc + slot * kvd * esz);
  }

  // One task per (token, KV head): the kernel attends with all the query heads of the group at once, so each
  // K/V row is read once per group. Each thread keeps its own score buffer. Threads take every nt-th task, not
  // a contiguous range: a prefill token's cost grows with its position, so contiguous ranges gave the last
  // thread 3/4 of a prompt's attention work.
  const size_t group = c_.n_heads / c_.n_kv_heads;
  const float scale = float(1.0 / std::sqrt(double(hd)));
  const size_t n_tasks = n * c_.n_kv_heads;
  const kernels::AttentionFn attend = kernels::active_kernels().attention;
  pool_.run([&](int ti, int nt) {
    std::vector<float>& scores = scores_[size_t(ti)];
    for (size_t task = size_t(ti); task < n_tasks; task += size_t(nt)) {
      size_t t = task / c_.n_kv_heads, kv_head = task % c_.n_kv_heads;
      const SequenceSlice& s = b.seqs[size_t(seq_of_token_[t])];
      size_t n_ctx = size_t(positions_[t]) + 1;
      if (scores.size() < group * n_ctx) scores.resize(group * n_ctx);
      kernels::KvView view{kc, vc, kv_dt, kvd, s.block_table, bs};
      const size_t head0 = kv_head * group;
      attend(q_.data() + t * qd + head0 * hd, group, hd, view, kv_head, n_ctx, hd, scale, scores.data(),
             attn_.data() + t * qd + head0 * hd, hd);
    }
  });
  matmul(pool_, attn_.data(), n, L.wo, nullptr, xn_.data(), &xq_);  // [n, hidden]
  for (size_t i = 0; i < n * h; ++i) x_[i] += xn_[i];
}

void Decoder::mlp_layer(size_t layer, size_t n) {
  const LayerWeights& L = w_.layers[layer];
  const size_t h = c_.hidden_size, f = c_.intermediate_size;
  kernels::rmsnorm(x_.data(), L.ffn_norm, n, h, float(c_.rms_norm_eps), xn_.data());
  project(xn_.data(), n, {{L.w_gate, nullptr, gate_.data()}, {L.w_up, nullptr, up_.data()}});  // [n, ffn] x2
  kernels::silu_mul(pool_, gate_.data(), up_.data(), gate_.data(), n * f);
  matmul(pool_, gate_.data(), n, L.w_down, nullptr, xn_.data(), &xq_);  // [n, hidden]
  for (size_t i = 0; i < n * h; ++i) x_[i] += xn_[i];
}

void Decoder::forward(const ForwardBatch& b, KvCache& kv, float* logits) {
  const size_t n = b.tokens.size(), h = c_.hidden_size;
  if (n == 0) return;
  x_.resize(n * h);
  xn_.resize(n * h);
  q_.resize(n * c_.q_dim());
  attn_.resize(n * c_.q_dim());
  k_.resize(n * c_.kv_dim());
  v_.resize(n * c_.kv_dim());
  gate_.resize(n * c_.intermediate_size);
  up_.resize(n * c_.intermediate_size);
  positions_.assign(n, -1);
  seq_of_token_.assign(n, -1);
  for (size_t si = 0; si < b.seqs.size(); ++si) {
    const SequenceSlice& s = b.seqs[si];
    R1_CHECK(s.first_token + s.n_tokens <= n, "sequence slice past the batch");
    for (size_t i = 0; i < s.n_tokens; ++i) {
      R1_CHECK(seq_of_token_[s.first_token + i] < 0, "token {} in two sequences", s.first_token + i);
      positions_[s.first_token + i] = int32_t(s.start_pos + i);
      seq_of_token_[s.first_token + i] = int32_t(si);
    }
  }
  for (size_t t = 0; t < n; ++t) R1_CHECK(seq_of_token_[t] >= 0, "token {} belongs to no sequence", t);

  embed(b);
  for (size_t l = 0; l < c_.n_layers; ++l) {
    attention_layer(l, b, kv);
    mlp_layer(l, n);
  }
  // Final norm and LM head only for the rows that sample (or that the caller asked for).
  const size_t m = b.logit_rows.size();
  std::vector<float> rows(m * h);
  for (size_t i = 0; i < m; ++i) {
    size_t t = size_t(b.logit_rows[i]);
    R1_CHECK(t < n, "logit row {} outside the batch", t);
    kernels::rmsnorm(x_.data() + t * h, w_.final_norm, 1, h, float(c_.rms_norm_eps), rows.data() + i * h);
  }
  matmul(pool_, rows.data(), m, w_.lm_head, nullptr, logits, &xq_);  // [m, vocab]
}

}  // namespace r1
