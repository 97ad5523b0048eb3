// Plain C++ over the packed Q8_0 / Q4_0 tiles (quant.h), in the same order as the SIMD kernels: the kernel
// for CPUs without AVX2, and a readable statement of what the SIMD kernels compute.
#include <algorithm>
#include <cstring>

#include "kernels/cpu/cpu_kernels.h"
#include "kernels/ref/ref_gguf_blocks.h"

namespace r1::kernels::cpu {

namespace {

// Unsigned quant of row r, column c (0..31) of a tile's quants.
template <DType F>
inline int32_t stored_quant(const uint8_t* q, size_t r, size_t c) {
  if constexpr (F == DType::Q8_0) {
    return q[(c / 4) * 64 + r * 4 + c % 4];
  } else {
    uint8_t byte = q[((c % 16) / 4) * 64 + r * 4 + c % 4];
    return c < 16 ? (byte & 15) : (byte >> 4);
  }
}

template <DType F>
void qmatmul(const QActsView& x, const void* w, size_t rows, size_t g0, size_t g1, float* y, size_t ldy) {
  const size_t tb = quant_tile_bytes(F), kb = x.kb;
  const int32_t off = quant_offset(F);
  for (size_t g = g0; g < g1; ++g) {
    const uint8_t* tiles = static_cast<const uint8_t*>(w) + g * kb * tb;
    for (size_t t = 0; t < x.n; ++t) {
      for (size_t r = 0; r < kQRowTile && g * kQRowTile + r < rows; ++r) {
        float acc = 0;
        for (size_t b = 0; b < kb; ++b) {
          const uint8_t* tile = tiles + b * tb;
          const int8_t* xq = (x.qs + t * kb * kQBlock) + b * kQBlock;
          int32_t s = -off * x.sum[t * kb + b];
          for (size_t c = 0; c < kQBlock; ++c) s += stored_quant<F>(tile + 32, r, c) * xq[c];
          acc += float(s) * (ref::f16_load(tile + 2 * r) * x.d[t * kb + b]);
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

}  // namespace r1::kernels::cpu
