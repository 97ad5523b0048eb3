#pragma once
// Entry points defined in the per-ISA translation units, gathered into the tables by cpu/*_table.cpp.
#include "kernels/isa.h"
#include "kernels/quant.h"
#include "kernels/ref/ref_ops.h"
#include "kernels/ref/ref_quant.h"

namespace r1::kernels::cpu {

// In the ISA translation units instead of std::min/max, whose instances the linker may share with plain code.
static inline size_t min_size(size_t a, size_t b) {
  return a < b ? a : b;
}
static inline size_t max1(size_t a) {
  return a < 1 ? 1 : a;
}

// The 32-column tiles (quant.h): cpu/*_quant.cpp.
void scalar_qmatmul_q8_0(const QActsView& x, const void* w, size_t rows, size_t g0, size_t g1, float* y, size_t ldy);
void scalar_qmatmul_q4_0(const QActsView& x, const void* w, size_t rows, size_t g0, size_t g1, float* y, size_t ldy);
void scalar_qmatmul_q4_1(const QActsView& x, const void* w, size_t rows, size_t g0, size_t g1, float* y, size_t ldy);
void scalar_qmatmul_q5_0(const QActsView& x, const void* w, size_t rows, size_t g0, size_t g1, float* y, size_t ldy);
void scalar_qmatmul_q5_1(const QActsView& x, const void* w, size_t rows, size_t g0, size_t g1, float* y, size_t ldy);
void avx2_qmatmul_q8_0(const QActsView& x, const void* w, size_t rows, size_t g0, size_t g1, float* y, size_t ldy);
void avx2_qmatmul_q4_0(const QActsView& x, const void* w, size_t rows, size_t g0, size_t g1, float* y, size_t ldy);
void avx2_qmatmul_q4_1(const QActsView& x, const void* w, size_t rows, size_t g0, size_t g1, float* y, size_t ldy);
void avx2_qmatmul_q5_0(const QActsView& x, const void* w, size_t rows, size_t g0, size_t g1, float* y, size_t ldy);
void avx2_qmatmul_q5_1(const QActsView& x, const void* w, size_t rows, size_t g0, size_t g1, float* y, size_t ldy);
void avx512_qmatmul_q8_0(const QActsView& x, const void* w, size_t rows, size_t g0, size_t g1, float* y, size_t ldy);
void avx512_qmatmul_q4_0(const QActsView& x, const void* w, size_t rows, size_t g0, size_t g1, float* y, size_t ldy);
void avx512_qmatmul_q4_1(const QActsView& x, const void* w, size_t rows, size_t g0, size_t g1, float* y, size_t ldy);
void avx512_qmatmul_q5_0(const QActsView& x, const void* w, size_t rows, size_t g0, size_t g1, float* y, size_t ldy);
void avx512_qmatmul_q5_1(const QActsView& x, const void* w, size_t rows, size_t g0, size_t g1, float* y, size_t ldy);


// The k-quant tiles (kquant_tiles.h): cpu/*_kquant.cpp.
void scalar_qmatmul_q4_k(const QActsView& x, const void* w, size_t rows, size_t g0, size_t g1, float* y, size_t ldy);
void scalar_qmatmul_q5_k(const QActsView& x, const void* w, size_t rows, size_t g0, size_t g1, float* y, size_t ldy);
void scalar_qmatmul_q6_k(const QActsView& x, const void* w, size_t rows, size_t g0, size_t g1, float* y, size_t ldy);
void avx2_qmatmul_q4_k(const QActsView& x, const void* w, size_t rows, size_t g0, size_t g1, float* y, size_t ldy);
void avx2_qmatmul_q5_k(const QActsView& x, const void* w, size_t rows, size_t g0, size_t g1, float* y, size_t ldy);
void avx2_qmatmul_q6_k(const QActsView& x, const void* w, size_t rows, size_t g0, size_t g1, float* y, size_t ldy);
void avx512_qmatmul_q4_k(const QActsView& x, const void* w, size_t rows, size_t g0, size_t g1, float* y, size_t ldy);
void avx512_qmatmul_q5_k(const QActsView& x, const void* w, size_t rows, size_t g0, size_t g1, float* y, size_t ldy);
void avx512_qmatmul_q6_k(const QActsView& x, const void* w, size_t rows, size_t g0, size_t g1, float* y, size_t ldy);

// AVX-512 BF16 weights × activations rounded to bf16 (vdpbf16ps; cpu/avx512_dense.cpp): the MatmulRowsFn
// contract (isa.h).
void avx512_matmul_rows_bf16(const float* x, size_t n, size_t k, const void* w, size_t row_begin, size_t row_end,
                             float* y, size_t ldy);

void scalar_attention(const float* q, size_t n_q, size_t q_stride, const KvView& kv, size_t kv_head,
                      size_t n_ctx, size_t head_dim, float scale, float* scratch, float* out, size_t out_stride);
void avx2_attention(const float* q, size_t n_q, size_t q_stride, const KvView& kv, size_t kv_head, size_t n_ctx,
                    size_t head_dim, float scale, float* scratch, float* out, size_t out_stride);
void avx512_attention(const float* q, size_t n_q, size_t q_stride, const KvView& kv, size_t kv_head,
                      size_t n_ctx, size_t head_dim, float scale, float* scratch, float* out, size_t out_stride);

void avx2_quantize_act_rows(const float* x, size_t n, size_t k, size_t kb, int8_t* qs, float* d,
                            int32_t* sum);
void avx2_silu_mul(const float* gate, const float* up, float* out, size_t n);
void avx2_quantize_q8_0(const float* x, size_t n_blocks, void* out);
void avx2_quantize_q4_0(const float* x, size_t n_blocks, void* out);

// softmax(x[0..n)) in place, shared shape of every ISA's attention (exp through the compiler builtin, not the
// std:: inline overloads; see min_size).
static inline void softmax_inplace(float* x, size_t n) {
  float mx = x[0];
  for (size_t i = 1; i < n; ++i) mx = x[i] > mx ? x[i] : mx;
  float sum = 0;
  for (size_t i = 0; i < n; ++i) {
    x[i] = __builtin_expf(x[i] - mx);
    sum += x[i];
  }
  const float inv = 1.0f / sum;
  for (size_t i = 0; i < n; ++i) x[i] *= inv;
}

// Calls run.template operator()<N>() with N = n (1..8) as a template argument, so a kernel keeps N
// accumulators in registers: the token-count and head-count dispatch of every ISA's kernels.
template <class Run>
static inline void with_count_up_to_8(size_t n, Run&& run) {
  switch (n) {
    case 8:
      run.template operator()<8>();
      break;
    case 7:
      run.template operator()<7>();
      break;
    case 6:
      run.template operator()<6>();
      break;
    case 5:
      run.template operator()<5>();
      break;
    case 4:
      run.template operator()<4>();
      break;
    case 3:
      run.template operator()<3>();
      break;
    case 2:
      run.template operator()<2>();
      break;
    default:
      run.template operator()<1>();
      break;
  }
}

// The grouped-attention kernels' head loop: n_q query heads in passes of at most 8, each handed to
// run.template operator()<N>(h0) with its size N and its first head h0.
template <class Run>
static inline void for_each_head_pass(size_t n_q, Run&& run) {
  for (size_t h0 = 0; h0 < n_q; h0 += 8)
    with_count_up_to_8(min_size(8, n_q - h0), [&]<int N>() { run.template operator()<N>(h0); });
}

// Calls run.template operator()<D>() with the KV cache's element type D (F16, BF16, or F32 for anything else).
template <class Run>
static inline void with_kv_dtype(DType dtype, Run&& run) {
  switch (dtype) {
    case DType::F16:
      run.template operator()<DType::F16>();
      break;
    case DType::BF16:
      run.template operator()<DType::BF16>();
      break;
    default:
      run.template operator()<DType::F32>();
      break;
  }
}

// Slot of position j in a paged view.
static inline size_t kv_slot(const KvView& kv, size_t j) {
  return size_t(kv.block_table[j / kv.block_size]) * kv.block_size + j % kv.block_size;
}

}  // namespace r1::kernels::cpu
