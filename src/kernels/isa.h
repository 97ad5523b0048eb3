#pragma once
// Instruction-set levels the CPU kernels are built for, and the table of kernel entry points for each.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/dtype.h"

namespace r1::kernels {

enum class Isa { Scalar, Avx2, Avx512 };
std::string_view isa_name(Isa isa);

// Computes y[t * ldy + r] = dot(x[t, :k], w[r, :k]) for t in [0, n) and r in [row_begin, row_end).
// x: [n, k] f32, w: [rows, k] in the table's weight dtype, row-major.
using MatmulRowsFn = void (*)(const float* x, size_t n, size_t k, const void* w, size_t row_begin,
                              size_t row_end, float* y, size_t ldy);

struct QActsView;  // quant.h

// Computes y[t * ldy + r] = x[t] · w[r] for t < x.n and the rows r < rows of 16-row groups [group_begin,
// group_end) of a packed Q8_0 / Q4_0 / Q4_1 / Q5_0 / Q5_1 matrix w (layout in quant.h), or a k-quant one
// (kquant_tiles.h).
using QMatmulFn = void (*)(const QActsView& x, const void* w, size_t rows, size_t group_begin,
                           size_t group_end, float* y, size_t ldy);

// K and V of one layer of the paged KV cache, elements F32, F16 or BF16. Position j of a sequence lives in
// slot block_table[j / block_size] * block_size + j % block_size; a slot holds [n_kv_heads, head_dim]
// elements.
struct KvView {
  const void* k;  // [n_slots, n_kv_heads, head_dim]
  const void* v;  // [n_slots, n_kv_heads, head_dim]
  DType dtype;
  size_t slot_stride;  // elements per slot
  const int32_t* block_table;
  size_t block_size;
};

// Causal attention of n_q query heads that share KV head kv_head (grouped-query attention) over positions
// [0, n_ctx): out_h = softmax(q_h·Kᵀ·scale)·V for h < n_q. Query h is q + h * q_stride, its output out +
// h * out_stride (both [head_dim] f32); scratch: [n_q * n_ctx] floats. Kernels load each K and V row once
// for all n_q heads. Per head, the contract of ref::attention_one.
using AttentionFn = void (*)(const float* q, size_t n_q, size_t q_stride, const KvView& kv, size_t kv_head,
                             size_t n_ctx, size_t head_dim, float scale, float* scratch, float* out,
                             size_t out_stride);

// Quantizes rows of x [n, k] per block of 32 to int8 with a float scale (the contract of quantize_act_rows in
// quant.h): qs [n, kb * 32] (zero-padded), d [n, kb], sum [n, kb]. Every table gives the same bytes as
// ref::quantize_act_rows (round half to even, scale max|x| / 127).
using QuantizeActsFn = void (*)(const float* x, size_t n, size_t k, size_t kb, int8_t* qs, float* d,
                                int32_t* sum);
// out[i] = silu(gate[i]) * up[i] = gate[i] / (1 + exp(-gate[i])) * up[i]; out may alias gate.
using SiluMulFn = void (*)(const float* gate, const float* up, float* out, size_t n);

// Quantizes x [32 * n_blocks] into n_blocks of GGUF's Q8_0 (34 bytes each) or Q4_0 (18 bytes) at out, the
// same bytes as ref::quantize_q8_0 / ref::quantize_q4_0.
using QuantizeBlocksFn = void (*)(const float* x, size_t n_blocks, void* out);

struct KernelTable {
  Isa isa;
  MatmulRowsFn matmul_rows_f32;
  MatmulRowsFn matmul_rows_bf16;
  MatmulRowsFn matmul_rows_f16;
  QMatmulFn qmatmul_q8_0;
  QMatmulFn qmatmul_q4_0;
  QMatmulFn qmatmul_q4_1;
  QMatmulFn qmatmul_q5_0;
  QMatmulFn qmatmul_q5_1;
  QMatmulFn qmatmul_q4_k;
  QMatmulFn qmatmul_q5_k;
  QMatmulFn qmatmul_q6_k;
  AttentionFn attention;
  QuantizeActsFn quantize_acts;
  SiluMulFn silu_mul;
  QuantizeBlocksFn quantize_q8_0;
  QuantizeBlocksFn quantize_q4_0;
};

// The table's kernel for packed weights of format `fmt`, or nullptr for a format that is not packed.
QMatmulFn qmatmul_for(const KernelTable& t, DType fmt);

// The table for an ISA, or nullptr if this CPU cannot run it.
const KernelTable* kernel_table_for(Isa isa);
// The best table for this CPU, chosen once. R1_ISA=scalar|avx2|avx512 in the environment caps it (for tests
// and comparisons).
const KernelTable& active_kernels();

// Per-ISA tables, defined in cpu/*_table.cpp.
const KernelTable& scalar_kernel_table();
const KernelTable& avx2_kernel_table();
const KernelTable& avx512_kernel_table();

}  // namespace r1::kernels
