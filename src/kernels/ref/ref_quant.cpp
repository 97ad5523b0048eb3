#include "kernels/ref/ref_quant.h"

#include <algorithm>
#include <cmath>

namespace r1::kernels::ref {

void quantize_q8_0(const float* x, size_t n_blocks, BlockQ8_0* out) {
  for (size_t b = 0; b < n_blocks; ++b) {
    const float* v = x + b * 32;
    float amax = 0;
    for (int j = 0; j < 32; ++j) amax = std::max(amax, std::fabs(v[j]));
    float d = amax / 127.0f;
    float id = d != 0 ? 1.0f / d : 0.0f;
    out[b].d = f32_to_f16(d);
    for (int j = 0; j < 32; ++j) out[b].qs[j] = int8_t(std::lround(v[j] * id));
  }
}

void quantize_q4_0(const float* x, size_t n_blocks, BlockQ4_0* out) {
  for (size_t b = 0; b < n_blocks; ++b) {
    const float* v = x + b * 32;
    // The value of largest magnitude maps to -8 exactly, so the full range [-8, 7] is used on one side.
    float m = 0;
    for (int j = 0; j < 32; ++j)
      if (std::fabs(v[j]) > std::fabs(m)) m = v[j];
    float d = m / -8.0f;
    float id = d != 0 ? 1.0f / d : 0.0f;
    out[b].d = f32_to_f16(d);
    auto q = [&](int j) { return uint8_t(std::min(15, std::max(0, int(std::floor(v[j] * id + 8.5f))))); };
    for (int j = 0; j < 16; ++j) out[b].qs[j] = uint8_t(q(j) | (q(j + 16) << 4));
  }
}

void dequantize_q8_0(const BlockQ8_0* b, size_t n_blocks, float* out) {
  for (size_t i = 0; i < n_blocks; ++i)
    for (int j = 0; j < 32; ++j) out[i * 32 + j] = f16_to_f32(b[i].d) * float(b[i].qs[j]);
}

void dequantize_q4_0(const BlockQ4_0* b, size_t n_blocks, float* out) {
  for (size_t i = 0; i < n_blocks; ++i) {
    float d = f16_to_f32(b[i].d);
    for (int j = 0; j < 16; ++j) {
      out[i * 32 + j] = float(int(b[i].qs[j] & 15) - 8) * d;
      out[i * 32 + j + 16] = float(int(b[i].qs[j] >> 4) - 8) * d;
    }
  }
}

void matmul_q8_0(const QuantizedActs& x, const BlockQ8_0* w, size_t rows, float* y, size_t ldy) {
  for (size_t t = 0; t < x.n; ++t) {
    for (size_t r = 0; r < rows; ++r) {
      double acc = 0;
      for (size_t b = 0; b < x.kb; ++b) {
        const BlockQ8_0& wb = w[r * x.kb + b];
        const int8_t* xq = x.row(t) + b * 32;
        int32_t dot = 0;
        for (int j = 0; j < 32; ++j) dot += int32_t(wb.qs[j]) * xq[j];
        acc += double(f16_to_f32(wb.d)) * x.d[t * x.kb + b] * dot;
      }
      y[t * ldy + r] = float(acc);
    }
  }
}

void matmul_q4_0(const QuantizedActs& x, const BlockQ4_0* w, size_t rows, float* y, size_t ldy) {
  for (size_t t = 0; t < x.n; ++t) {
    for (size_t r = 0; r < rows; ++r) {
      double acc = 0;
      for (size_t b = 0; b < x.kb; ++b) {
        const BlockQ4_0& wb = w[r * x.kb + b];
        const int8_t* xq = x.row(t) + b * 32;
        int32_t dot = 0;
        for (int j = 0; j < 16; ++j) {
          dot += (int32_t(wb.qs[j] & 15) - 8) * xq[j];
          dot += (int32_t(wb.qs[j] >> 4) - 8) * xq[j + 16];
        }
        acc += double(f16_to_f32(wb.d)) * x.d[t * x.kb + b] * dot;
      }
      y[t * ldy + r] = float(acc);
    }
  }
}

void quantize_act_rows(const float* x, size_t n, size_t k, size_t kb, int8_t* qs, float* d, int32_t* sum) {
  const size_t kp = kb * kQBlock;
  for (size_t t = 0; t < n; ++t) {
    const float* v = x + t * k;
    for (size_t b = 0; b < kb; ++b) {
      const size_t j0 = b * kQBlock, j1 = std::min(k, j0 + kQBlock);
      float amax = 0;
      for (size_t j = j0; j < j1; ++j) amax = std::max(amax, std::fabs(v[j]));
      const float id = amax != 0 ? 127.0f / amax : 0.0f;
      int8_t* q = qs + t * kp + j0;
      int32_t s = 0;
      for (size_t j = j0; j < j0 + kQBlock; ++j) {
        const int8_t qj = j < j1 ? int8_t(std::nearbyint(v[j] * id)) : 0;
        q[j - j0] = qj;
        s += qj;
      }
      d[t * kb + b] = amax / 127.0f;
      sum[t * kb + b] = s;
    }
  }
}

}  // namespace r1::kernels::ref
