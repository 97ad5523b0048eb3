#pragma once
// Scalar reference implementations of every op: the oracle that optimised kernels are tested against.
// Written for clarity; never optimise these.
#include <cstddef>
#include <cstdint>

#include "core/dtype.h"

namespace r1::kernels::ref {

// Element i of a weight row stored as dtype (F32, BF16 or F16), widened to float.
float load_weight(const void* w, DType dtype, size_t i);

// y[t * ldy + r] = sum_j x[t, j] * w[r, j] for t < n, row_begin <= r < row_end. Accumulates in double.
void matmul_rows(const float* x, size_t n, size_t k, const void* w, DType w_dtype, size_t row_begin,
                 size_t row_end, float* y, size_t ldy);

// y[t, :] = x[t, :] / sqrt(mean(x[t, :]^2) + eps) * weight   — x, y: [n, dim]
void rmsnorm(const float* x, const float* weight, size_t n, size_t dim, float eps, float* y);

// Rotary embedding in Hugging Face's "rotate half" layout, in place. x: [n_tokens, n_heads, head_dim];
// positions: [n_tokens]; inv_freq: [head_dim / 2] (already scaled, e.g. by llama3 rope scaling).
void rope_rotate_half(float* x, size_t n_tokens, size_t n_heads, size_t head_dim, const int32_t* positions,
                      const float* inv_freq);

// out[i] = silu(gate[i]) * up[i]
void silu_mul(const float* gate, const float* up, float* out, size_t n);

// In-place softmax of x[0..n).
void softmax(float* x, size_t n);

// K/V of one layer, read through a block table. Position j of a sequence lives in slot
// block_table[j / block_size] * block_size + j % block_size; each slot holds [n_kv_heads, head_dim] floats.
struct PagedKv {
  const float* k;  // [n_slots, n_kv_heads, head_dim]
  const float* v;  // [n_slots, n_kv_heads, head_dim]
  size_t slot_stride;  // floats per slot = n_kv_heads * head_dim
  const int32_t* block_table;
  size_t block_size;
};

// Causal attention of one query head over positions [0, n_ctx) of one KV head.
// q, out: [head_dim]; scratch: [n_ctx] floats.
void attention_one(const float* q, const PagedKv& kv, size_t kv_head, size_t n_ctx, size_t head_dim,
                   float scale, float* scratch, float* out);

}  // namespace r1::kernels::ref
