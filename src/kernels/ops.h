#pragma once
// The ops the decoder calls, with their contracts. Heavy ops split work across the thread pool and go
// through the kernel table picked for this CPU (isa.h); each has a scalar reference in ref/.
#include <cstddef>
#include <cstdint>

#include "core/dtype.h"
#include "core/thread_pool.h"
#include "kernels/quant.h"
#include "kernels/ref/ref_ops.h"

namespace r1::kernels {

// A row-major weight matrix [rows, cols] stored as F32, BF16 or F16, or packed Q8_0 / Q4_0 tiles (quant.h).
struct WeightMatrix {
  DType dtype = DType::F32;
  size_t rows = 0, cols = 0;
  const void* data = nullptr;
};

// y[n, w.rows] = x[n, w.cols] · wᵀ (+ bias[w.rows] when bias is not null). Output rows are split across
// the pool's threads, so every thread streams its own slice of the weights. For block formats, x is first
// quantized per block of 32 (into `scratch` when given, so repeated calls reuse its memory).
void matmul(ThreadPool& pool, const float* x, size_t n, const WeightMatrix& w, const float* bias, float* y,
            QuantizedActs* scratch = nullptr);
// The same with activations already quantized (xq.k == w.cols); w must be a block format. Lets several
// matrices that read the same input (q/k/v, gate/up) share one quantization.
void matmul(ThreadPool& pool, const QuantizedActs& xq, const WeightMatrix& w, const float* bias, float* y);

// out[i] = silu(gate[i]) * up[i] for i < n, split across the pool (out may alias gate).
void silu_mul(ThreadPool& pool, const float* gate, const float* up, float* out, size_t n);

// Row `row` of any weight matrix as floats: out [w.cols] (embedding lookups).
void weight_row(const WeightMatrix& w, size_t row, float* out);

using ref::PagedKv;
using ref::rmsnorm;
using ref::rope_rotate_half;
using ref::softmax;

}  // namespace r1::kernels
