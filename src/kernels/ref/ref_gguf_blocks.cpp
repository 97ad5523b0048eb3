#include "kernels/ref/ref_gguf_blocks.h"

#include <cstdint>
#include <cstring>

#include "core/dtype.h"

namespace r1::kernels::ref {

// The 6-bit scale and min of sub-block j of a Q4_K/Q5_K super-block, packed in 12 bytes: sub-blocks 0-3 keep
// theirs in the low 6 bits of bytes j and j+4; 4-7 split theirs between a nibble of byte j+4 and the top two
// bits of bytes j-4 and j.
void kquant_scale_min(int j, const uint8_t* q, uint8_t* sc, uint8_t* m) {
  if (j < 4) {
    *sc = q[j] & 63;
    *m = q[j + 4] & 63;
  } else {
    *sc = uint8_t((q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4));
    *m = uint8_t((q[j + 4] >> 4) | ((q[j] >> 6) << 4));
  }
}

void dequantize_q4_0(const void* blocks, float* y, size_t n) {
  const auto* b = static_cast<const uint8_t*>(blocks);
  for (size_t i = 0; i < n / 32; ++i, b += 18, y += 32) {
    const float d = f16_load(b);
    const uint8_t* qs = b + 2;
    for (int j = 0; j < 16; ++j) {
      y[j] = float((qs[j] & 0xF) - 8) * d;
      y[j + 16] = float((qs[j] >> 4) - 8) * d;
    }
  }
}

void dequantize_q4_1(const void* blocks, float* y, size_t n) {
  const auto* b = static_cast<const uint8_t*>(blocks);
  for (size_t i = 0; i < n / 32; ++i, b += 20, y += 32) {
    const float d = f16_load(b), m = f16_load(b + 2);
    const uint8_t* qs = b + 4;
    for (int j = 0; j < 16; ++j) {
      y[j] = float(qs[j] & 0xF) * d + m;
      y[j + 16] = float(qs[j] >> 4) * d + m;
    }
  }
}

void dequantize_q5_0(const void* blocks, float* y, size_t n) {
  const auto* b = static_cast<const uint8_t*>(blocks);
  for (size_t i = 0; i < n / 32; ++i, b += 22, y += 32) {
    const float d = f16_load(b);
    uint32_t qh;
    std::memcpy(&qh, b + 2, 4);  // bit j: the fifth bit of value j
    const uint8_t* qs = b + 6;
    for (int j = 0; j < 16; ++j) {
      const int h0 = ((qh >> j) << 4) & 0x10, h1 = (qh >> (j + 12)) & 0x10;
      y[j] = float(((qs[j] & 0xF) | h0) - 16) * d;
      y[j + 16] = float(((qs[j] >> 4) | h1) - 16) * d;
    }
  }
}

void dequantize_q5_1(const void* blocks, float* y, size_t n) {
  const auto* b = static_cast<const uint8_t*>(blocks);
  for (size_t i = 0; i < n / 32; ++i, b += 24, y += 32) {
    const float d = f16_load(b), m = f16_load(b + 2);
    uint32_t qh;
    std::memcpy(&qh, b + 4, 4);
    const uint8_t* qs = b + 8;
    for (int j = 0; j < 16; ++j) {
      const int h0 = ((qh >> j) << 4) & 0x10, h1 = (qh >> (j + 12)) & 0x10;
      y[j] = float((qs[j] & 0xF) | h0) * d + m;
      y[j + 16] = float((qs[j] >> 4) | h1) * d + m;
    }
  }
}

void dequantize_q8_0(const void* blocks, float* y, size_t n) {
  const auto* b = static_cast<const uint8_t*>(blocks);
  for (size_t i = 0; i < n / 32; ++i, b += 34, y += 32) {
    const float d = f16_load(b);
    for (int j = 0; j < 32; ++j) y[j] = float(int8_t(b[2 + j])) * d;
  }
}

void dequantize_q4_k(const void* blocks, float* y, size_t n) {
  const auto* b = static_cast<const uint8_t*>(blocks);
  for (size_t i = 0; i < n / 256; ++i, b += 144) {
    const float d = f16_load(b), dmin = f16_load(b + 2);
    const uint8_t* scales = b + 4;
    const uint8_t* q = b + 16;
    // Each 64 values: 32 bytes, low nibbles one sub-block, high nibbles the next.
    for (int j = 0, is = 0; j < 256; j += 64, is += 2, q += 32) {
      uint8_t sc, m;
      kquant_scale_min(is, scales, &sc, &m);
      const float d1 = d * sc, m1 = dmin * m;
      kquant_scale_min(is + 1, scales, &sc, &m);
      const float d2 = d * sc, m2 = dmin * m;
      for (int l = 0; l < 32; ++l) *y++ = d1 * float(q[l] & 0xF) - m1;
      for (int l = 0; l < 32; ++l) *y++ = d2 * float(q[l] >> 4) - m2;
    }
  }
}

void dequantize_q5_k(const void* blocks, float* y, size_t n) {
  const auto* b = static_cast<const uint8_t*>(blocks);
  for (size_t i = 0; i < n / 256; ++i, b += 176) {
    const float d = f16_load(b), dmin = f16_load(b + 2);
    const uint8_t* scales = b + 4;
    const uint8_t* qh = b + 16;  // [32]: bit 2k and 2k+1 of byte l are the fifth bits of value l of
                                 // sub-blocks 2k and 2k+1
    const uint8_t* ql = b + 48;
    uint8_t u1 = 1, u2 = 2;
    for (int j = 0, is = 0; j < 256; j += 64, is += 2, ql += 32, u1 <<= 2, u2 <<= 2) {
      uint8_t sc, m;
      kquant_scale_min(is, scales, &sc, &m);
      const float d1 = d * sc, m1 = dmin * m;
      kquant_scale_min(is + 1, scales, &sc, &m);
      const float d2 = d * sc, m2 = dmin * m;
      for (int l = 0; l < 32; ++l) *y++ = d1 * float((ql[l] & 0xF) + (qh[l] & u1 ? 16 : 0)) - m1;
      for (int l = 0; l < 32; ++l) *y++ = d2 * float((ql[l] >> 4) + (qh[l] & u2 ? 16 : 0)) - m2;
    }
  }
}

void dequantize_q6_k(const void* blocks, float* y, size_t n) {
  const auto* b = static_cast<const uint8_t*>(blocks);
  for (size_t i = 0; i < n / 256; ++i, b += 210) {
    const uint8_t* ql = b;                                      // [128] low 4 bits
    const uint8_t* qh = b + 128;                                // [64] high 2 bits, four values a byte
    const auto* sc = reinterpret_cast<const int8_t*>(b + 192);  // [16]
    const float d = f16_load(b + 208);
    // Each half of 128 values: 64 bytes of ql, 32 of qh, 8 scales (one per 16 values).
    for (int half = 0; half < 2; ++half, y += 128, ql += 64, qh += 32, sc += 8) {
      for (int l = 0; l < 32; ++l) {
        const int is = l / 16;
        const int q1 = int((ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32;
        const int q2 = int((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32;
        const int q3 = int((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
        const int q4 = int((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
        y[l] = d * float(sc[is]) * float(q1);
        y[l + 32] = d * float(sc[is + 2]) * float(q2);
        y[l + 64] = d * float(sc[is + 4]) * float(q3);
        y[l + 96] = d * float(sc[is + 6]) * float(q4);
      }
    }
  }
}

}  // namespace r1::kernels::ref
