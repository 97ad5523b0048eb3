// Plain C++ over the packed 32-column tiles (quant.h: Q8_0, Q4_0, Q4_1, Q5_0, Q5_1), in the same order as the
// SIMD kernels: the kernel for CPUs without AVX2, and a readable statement of what the SIMD kernels compute.
// Per activation block b (x ≈ d_x · qx) and row:
//   y += d_x · (d · (Σ q·qx − offset · Σ qx))      Q8_0, Q4_0, Q5_0
//   y += d_x · (d · Σ q·qx + m · Σ qx)             Q4_1, Q5_1
#include <algorithm>
#include <cstring>

#include "kernels/cpu/cpu_kernels.h"
#include "kernels/ref/ref_gguf_blocks.h"

namespace r1::kernels::cpu {

namespace {

// Unsigned quant of row r, column c (0..31) of a tile's quants.
template <DType F>
inline int32_t stored_quant(const uint8_t* q, size_t r, size_t c) {
  if constexpr (F == DType::Q8_0)
    return q[(c / 4) * 64 + r * 4 + c % 4];
  else
    return nibble_quant(F, q, r, c);
}

template <DType F>
void qmatmul(const QActsView& x, const void* w, size_t rows, size_t g0, size_t g1, float* y, size_t ldy) {
  constexpr size_t tb = qtile::tile_bytes(F);
  const size_t kb = x.kb;
  for (size_t g = g0; g < g1; ++g) {
    const uint8_t* tiles = static_cast<const uint8_t*>(w) + g * kb * tb;
    for (size_t t = 0; t < x.n; ++t) {
      for (size_t r = 0; r < kQRowTile && g * kQRowTile + r < rows; ++r) {
        float acc = 0;
        for (size_t b = 0; b < kb; ++b) {
          const uint8_t* tile = tiles + b * tb;
          const int8_t* xq = (x.qs + t * kb * kQBlock) + b * kQBlock;
          const int32_t sum = x.sum[t * kb + b];
          const float dx = x.d[t * kb + b];
          int32_t s = -qtile::offset(F) * sum;
          for (size_t c = 0; c < kQBlock; ++c) s += stored_quant<F>(tile + qtile::quants(F), r, c) * xq[c];
          acc += float(s) * (ref::f16_load(tile + qtile::kScales + 2 * r) * dx);
          if constexpr (qtile::has_min(F))
            acc += ref::f16_load(tile + qtile::kMins + 2 * r) * (dx * float(sum));
        }
        y[t * ldy + g * kQRowTile + r] = acc;
      }
    }
  }
}

}  // namespace

void scalar_qmatmul_q8_0(const QActsView& x, const void* w, size_t rows, size_t g0, size_t g1, float* y,
                         size_t ldy) {
  qmatmul<DType::Q8_0>(x, w, rows, g0, g1, y, ldy);
}
void scalar_qmatmul_q4_0(const QActsView& x, const void* w, size_t rows, size_t g0, size_t g1, float* y,
                         size_t ldy) {
  qmatmul<DType::Q4_0>(x, w, rows, g0, g1, y, ldy);
}
void scalar_qmatmul_q4_1(const QActsView& x, const void* w, size_t rows, size_t g0, size_t g1, float* y,
                         size_t ldy) {
  qmatmul<DType::Q4_1>(x, w, rows, g0, g1, y, ldy);
}
void scalar_qmatmul_q5_0(const QActsView& x, const void* w, size_t rows, size_t g0, size_t g1, float* y,
                         size_t ldy) {
  qmatmul<DType::Q5_0>(x, w, rows, g0, g1, y, ldy);
}
void scalar_qmatmul_q5_1(const QActsView& x, const void* w, size_t rows, size_t g0, size_t g1, float* y,
                         size_t ldy) {
  qmatmul<DType::Q5_1>(x, w, rows, g0, g1, y, ldy);
}

}  // namespace r1::kernels::cpu
