// Plain C++ over the k-quant tiles (kquant_tiles.h), in the order the SIMD kernels use: the kernel for CPUs
// without AVX2, and a readable statement of what the SIMD kernels compute. Per activation block b (one
// sub-block of 32 columns, x ≈ d_x · qx):
//   Q4_K / Q5_K: y += d_x · (d · sc_b · Σ q·qx − dmin · m_b · Σ qx)
//   Q6_K:        y += d_x · d · (sc_lo · (Σ_lo q·qx − 32 Σ_lo qx) + sc_hi · (Σ_hi q·qx − 32 Σ_hi qx))
// where lo and hi are the block's two 16-column halves, each with its own scale.
#include <cstring>

#include "kernels/cpu/cpu_kernels.h"
#include "kernels/kquant_tiles.h"
#include "kernels/ref/ref_gguf_blocks.h"

namespace r1::kernels::cpu {

namespace {

template <DType F>
void qmatmul(const QActsView& x, const void* w, size_t rows, size_t g0, size_t g1, float* y, size_t ldy) {
  constexpr size_t tb = ktile::tile_bytes(F);
  const size_t kb = x.kb, ks = kb / 8;
  for (size_t g = g0; g < g1; ++g) {
    const uint8_t* tiles = static_cast<const uint8_t*>(w) + g * ks * tb;
    for (size_t t = 0; t < x.n; ++t) {
      for (size_t r = 0; r < kQRowTile && g * kQRowTile + r < rows; ++r) {
        float acc = 0;
        for (size_t s = 0; s < ks; ++s) {
          const uint8_t* tile = tiles + s * tb;
          const float d = ref::f16_load(tile + ktile::kD + 2 * r);
          for (size_t j = 0; j < 8; ++j) {
            const size_t b = s * 8 + j;
            const int8_t* xq = x.qs + (t * kb + b) * kQBlock;
            const uint8_t* sub = tile + ktile::sub_offset(F, j);
            int32_t lo = 0, hi = 0;
            for (size_t c = 0; c < 16; ++c) lo += int32_t(nibble_quant(F, sub, r, c)) * xq[c];
            for (size_t c = 16; c < 32; ++c) hi += int32_t(nibble_quant(F, sub, r, c)) * xq[c];
            const float dx = x.d[t * kb + b];
            if constexpr (F == DType::Q6_K) {
              const int32_t hs = x.hsum[t * kb + b], sum = x.sum[t * kb + b];
              const auto sc_lo = float(int8_t(tile[ktile::kScale6 + 16 * (2 * j) + r]));
              const auto sc_hi = float(int8_t(tile[ktile::kScale6 + 16 * (2 * j + 1) + r]));
              acc += dx * d * (sc_lo * float(lo - 32 * hs) + sc_hi * float(hi - 32 * (sum - hs)));
            } else {
              const float sc = d * float(tile[ktile::kScale + 16 * j + r]);
              const float m =
                  ref::f16_load(tile + ktile::kDmin + 2 * r) * float(tile[ktile::kMin + 16 * j + r]);
              acc += dx * (sc * float(lo + hi) - m * float(x.sum[t * kb + b]));
            }
          }
        }
        y[t * ldy + g * kQRowTile + r] = acc;
      }
    }
  }
}

}  // namespace

void scalar_qmatmul_q4_k(const QActsView& x, const void* w, size_t rows, size_t g0, size_t g1, float* y,
                         size_t ldy) {
  qmatmul<DType::Q4_K>(x, w, rows, g0, g1, y, ldy);
}
void scalar_qmatmul_q5_k(const QActsView& x, const void* w, size_t rows, size_t g0, size_t g1, float* y,
                         size_t ldy) {
  qmatmul<DType::Q5_K>(x, w, rows, g0, g1, y, ldy);
}
void scalar_qmatmul_q6_k(const QActsView& x, const void* w, size_t rows, size_t g0, size_t g1, float* y,
                         size_t ldy) {
  qmatmul<DType::Q6_K>(x, w, rows, g0, g1, y, ldy);
}

}  // namespace r1::kernels::cpu
