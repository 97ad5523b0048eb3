#include "kernels/ops.h"

#include "core/error.h"
#include "kernels/isa.h"

namespace r1::kernels {

void matmul(ThreadPool& pool, const float* x, size_t n, const WeightMatrix& w, const float* bias, float* y) {
  const KernelTable& kt = active_kernels();
  MatmulRowsFn fn = nullptr;
  switch (w.dtype) {
    case DType::F32: fn = kt.matmul_rows_f32; break;
    case DType::BF16: fn = kt.matmul_rows_bf16; break;
    case DType::F16: fn = kt.matmul_rows_f16; break;
    default: R1_CHECK(false, "matmul: unsupported weight dtype {}", dtype_name(w.dtype));
  }
  // Chunks of 16 rows keep each thread's slice aligned to cache lines of the output.
  size_t n_chunks = (w.rows + 15) / 16;
  pool.parallel_for(n_chunks, [&](size_t cb, size_t ce) {
    size_t rb = cb * 16, re = std::min(w.rows, ce * 16);
    fn(x, n, w.cols, w.data, rb, re, y, w.rows);
    if (bias)
      for (size_t t = 0; t < n; ++t)
        for (size_t r = rb; r < re; ++r) y[t * w.rows + r] += bias[r];
  });
}

}  // namespace r1::kernels
