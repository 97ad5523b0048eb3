#include "kernels/ops.h"

#include "core/error.h"
#include "kernels/isa.h"

namespace r1::kernels {

namespace {

void add_bias(const float* bias, size_t n, size_t rows, size_t rb, size_t re, float* y) {
  if (!bias) return;
  for (size_t t = 0; t < n; ++t)
    for (size_t r = rb; r < re; ++r) y[t * rows + r] += bias[r];
}

}  // namespace

void matmul(ThreadPool& pool, const float* x, size_t n, const WeightMatrix& w, const float* bias, float* y,
            QuantizedActs* scratch) {
  if (is_quantized(w.dtype)) {
    QuantizedActs local;
    QuantizedActs& xq = scratch ? *scratch : local;
    quantize_acts(x, n, w.cols, xq, &pool);
    matmul(pool, xq, w, bias, y);
    return;
  }
  const KernelTable& kt = active_kernels();
  MatmulRowsFn fn = nullptr;
  switch (w.dtype) {
    case DType::F32:
      fn = kt.matmul_rows_f32;
      break;
    case DType::BF16:
      fn = kt.matmul_rows_bf16;
      break;
    case DType::F16:
      fn = kt.matmul_rows_f16;
      break;
    default:
      R1_CHECK(false, "matmul: unsupported weight dtype {}", dtype_name(w.dtype));
  }
  // Chunks of 16 rows keep each thread's slice aligned to cache lines of the output.
  size_t n_chunks = (w.rows + 15) / 16;
  pool.parallel_for(n_chunks, [&](size_t cb, size_t ce) {
    size_t rb = cb * 16, re = std::min(w.rows, ce * 16);
    fn(x, n, w.cols, w.data, rb, re, y, w.rows);
    add_bias(bias, n, w.rows, rb, re, y);
  });
}

void matmul(ThreadPool& pool, const QuantizedActs& xq, const WeightMatrix& w, const float* bias, float* y) {
  R1_CHECK(xq.k == w.cols, "matmul: activations have {} columns, weights {}", xq.k, w.cols);
  const KernelTable& kt = active_kernels();
  const QMatmulFn fn = qmatmul_for(kt, w.dtype);
  R1_CHECK(fn, "matmul: {} is not a block format", dtype_name(w.dtype));
  const QActsView xv = xq.view();
  const size_t n_groups = (w.rows + kQRowTile - 1) / kQRowTile;
  pool.parallel_for(n_groups, [&](size_t gb, size_t ge) {
    fn(xv, w.data, w.rows, gb, ge, y, w.rows);
    add_bias(bias, xq.n, w.rows, gb * kQRowTile, std::min(w.rows, ge * kQRowTile), y);
  });
}

void silu_mul(ThreadPool& pool, const float* gate, const float* up, float* out, size_t n) {
  const SiluMulFn fn = active_kernels().silu_mul;
  constexpr size_t kChunk = 4096;  // floats per task: large enough to hide the fork/join
  const size_t n_chunks = (n + kChunk - 1) / kChunk;
  if (n_chunks <= 1) {
    fn(gate, up, out, n);
    return;
  }
  pool.parallel_for(n_chunks, [&](size_t cb, size_t ce) {
    const size_t b = cb * kChunk, e = std::min(n, ce * kChunk);
    fn(gate + b, up + b, out + b, e - b);
  });
}

void weight_row(const WeightMatrix& w, size_t row, float* out) {
  R1_CHECK(row < w.rows, "weight_row: row {} of {}", row, w.rows);
  if (is_quantized(w.dtype)) {
    unpack_row(w.dtype, w.data, w.cols, row, out);
    return;
  }
  for (size_t i = 0; i < w.cols; ++i) out[i] = ref::load_weight(w.data, w.dtype, row * w.cols + i);
}

}  // namespace r1::kernels
