#include "kernels/ref/ref_kquant_quantize.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>

#include "core/dtype.h"

namespace r1::kernels::ref {

namespace {

int round_int(float v) {
  return int(std::lrintf(v));
}

// The value an f16 field will decode to, so that the integers chosen after it match what a reader computes.
float as_stored_f16(float v, uint16_t* bits) {
  *bits = f32_to_f16(v);
  return f16_to_f32(*bits);
}

void put_f16(uint8_t* p, uint16_t h) {
  std::memcpy(p, &h, 2);
}

// Per-value weights of the fits below: the sub-block's RMS plus the value's magnitude, so that large weights
// (the ones a matmul feels most) are fitted more closely without leaving the small ones to chance — the
// weighting ggml's reference k-quantizers use too.
void fit_weights(const float* x, int n, float* w) {
  float sum2 = 0;
  for (int i = 0; i < n; ++i) sum2 += x[i] * x[i];
  const float rms = std::sqrt(sum2 / float(n));
  for (int i = 0; i < n; ++i) w[i] = rms + std::fabs(x[i]);
}

// x ≈ scale·q − min with integer q in [0, nmax], scale ≥ 0, min ≥ 0 (the grid starts at or below 0, so zeros
// stay representable up to the min's rounding).
struct AffineFit {
  float scale = 0, min = 0;
};

float affine_error(const float* x, const float* w, int n, int nmax, AffineFit f) {
  float err = 0;
  for (int i = 0; i < n; ++i) {
    const int q = f.scale > 0 ? std::clamp(round_int((x[i] + f.min) / f.scale), 0, nmax) : 0;
    const float e = f.scale * float(q) - f.min - x[i];
    err += w[i] * e * e;
  }
  return err;
}

// Grid search over scales around (max − min) / nmax: each candidate rounds the values to a grid, then the
// weighted least-squares scale and min for those integers are solved in closed form and judged by the error
// of re-rounding x to them. The plain min-max grid is the first candidate, so the result is never worse than
// it.
AffineFit fit_affine(const float* x, int n, int nmax) {
  float lo = 0, hi = x[0];
  for (int i = 0; i < n; ++i) lo = std::min(lo, x[i]), hi = std::max(hi, x[i]);
  if (hi <= lo) return {0, -lo};  // constant (≤ 0) or zero: everything is −min
  float w[32];
  fit_weights(x, n, w);
  AffineFit best{(hi - lo) / float(nmax), -lo};
  float best_err = affine_error(x, w, n, nmax, best);
  for (int step = -10; step <= 10; ++step) {
    const float iscale = (float(nmax) + 0.1f * float(step)) / (hi - lo);
    double sw = 0, sl = 0, sll = 0, sx = 0, slx = 0;
    for (int i = 0; i < n; ++i) {
      const double q = std::clamp(round_int(iscale * (x[i] - lo)), 0, nmax);
      sw += w[i], sl += w[i] * q, sll += w[i] * q * q, sx += w[i] * x[i], slx += w[i] * q * x[i];
    }
    const double det = sw * sll - sl * sl;
    if (det <= 0) continue;
    double a = (sw * slx - sl * sx) / det, b = (sll * sx - sl * slx) / det;  // x ≈ a·q + b
    if (b > 0) b = 0, a = slx / sll;  // the offset must be −min with min ≥ 0
    if (a <= 0) continue;
    const AffineFit f{float(a), float(-b)};
    const float err = affine_error(x, w, n, nmax, f);
    if (err < best_err) best = f, best_err = err;
  }
  return best;
}

// x ≈ scale·q with integer q in [−32, 31]. The value of greatest magnitude maps to −32 (the scale takes its
// sign), so the asymmetric range is used in full; scales around that are tried, each refined by weighted
// least squares for its integers, the smallest weighted error kept.
float fit_symmetric(const float* x, int n) {
  float vmax = 0;
  for (int i = 0; i < n; ++i)
    if (std::fabs(x[i]) > std::fabs(vmax)) vmax = x[i];
  if (vmax == 0) return 0;
  float w[16];
  fit_weights(x, n, w);
  float best = 0, best_err = INFINITY;
  for (int step = -9; step <= 9; ++step) {
    const float iscale = -(32.0f + 0.1f * float(step)) / vmax;
    double sqq = 0, sqx = 0;
    for (int i = 0; i < n; ++i) {
      const double q = std::clamp(round_int(iscale * x[i]), -32, 31);
      sqq += w[i] * q * q, sqx += w[i] * q * x[i];
    }
    if (sqq == 0) continue;
    const float s = float(sqx / sqq);
    if (s == 0) continue;
    float err = 0;
    for (int i = 0; i < n; ++i) {
      const int q = std::clamp(round_int(x[i] / s), -32, 31);
      const float e = s * float(q) - x[i];
      err += w[i] * e * e;
    }
    if (err < best_err) best = s, best_err = err;
  }
  return best;
}

// The 12 bytes of eight 6-bit scales and mins, as ref_gguf_blocks.cpp's scale_min_k4 reads them: sub-blocks
// 0-3 in the low 6 bits of bytes j (scale) and j+4 (min); 4-7 in the nibbles of byte j+4 and the top two bits
// of bytes j-4 (scale) and j (min).
void pack_scales_mins(const uint8_t* sc, const uint8_t* m, uint8_t* out) {
  for (int j = 0; j < 4; ++j) {
    out[j] = uint8_t(sc[j] | ((sc[j + 4] >> 4) << 6));
    out[j + 4] = uint8_t(m[j] | ((m[j + 4] >> 4) << 6));
    out[j + 8] = uint8_t((sc[j + 4] & 0xF) | ((m[j + 4] & 0xF) << 4));
  }
}

// One Q4_K/Q5_K super-block: eight sub-block fits, their scales and mins quantized to 6 bits against the
// largest of each (d = max scale / 63, dmin = max min / 63, as stored in f16), then every value re-rounded to
// the stored scale and min. Writes d, dmin, the 12 scale bytes and q[256] in [0, nmax].
void quantize_affine_superblock(const float* x, int nmax, uint8_t* head, uint8_t* q) {
  AffineFit fits[8];
  float max_scale = 0, max_min = 0;
  for (int j = 0; j < 8; ++j) {
    fits[j] = fit_affine(x + 32 * j, 32, nmax);
    max_scale = std::max(max_scale, fits[j].scale);
    max_min = std::max(max_min, fits[j].min);
  }
  uint16_t d_bits, dmin_bits;
  const float d = as_stored_f16(max_scale / 63, &d_bits), dmin = as_stored_f16(max_min / 63, &dmin_bits);
  uint8_t sc[8], m[8];
  for (int j = 0; j < 8; ++j) {
    sc[j] = d > 0 ? uint8_t(std::clamp(round_int(fits[j].scale / d), 0, 63)) : 0;
    m[j] = dmin > 0 ? uint8_t(std::clamp(round_int(fits[j].min / dmin), 0, 63)) : 0;
    const float ds = d * float(sc[j]), dm = dmin * float(m[j]);
    for (int i = 0; i < 32; ++i)
      q[32 * j + i] = ds > 0 ? uint8_t(std::clamp(round_int((x[32 * j + i] + dm) / ds), 0, nmax)) : 0;
  }
  put_f16(head, d_bits);
  put_f16(head + 2, dmin_bits);
  pack_scales_mins(sc, m, head + 4);
}

}  // namespace

void quantize_q4_k(const float* x, void* out, size_t n) {
  auto* b = static_cast<uint8_t*>(out);
  uint8_t q[256];
  for (size_t blk = 0; blk < n / 256; ++blk, x += 256, b += kQ4KBlockBytes) {
    quantize_affine_superblock(x, 15, b, q);
    // Each 64 values: 32 bytes, the first sub-block in the low nibbles, the next in the high ones.
    uint8_t* qs = b + 16;
    for (int c = 0; c < 4; ++c)
      for (int l = 0; l < 32; ++l) qs[32 * c + l] = uint8_t(q[64 * c + l] | (q[64 * c + 32 + l] << 4));
  }
}

void quantize_q5_k(const float* x, void* out, size_t n) {
  auto* b = static_cast<uint8_t*>(out);
  uint8_t q[256];
  for (size_t blk = 0; blk < n / 256; ++blk, x += 256, b += kQ5KBlockBytes) {
    quantize_affine_superblock(x, 31, b, q);
    // Low four bits as Q4_K's nibbles; the fifth bit of value l of sub-block s is bit s of qh[l].
    uint8_t* qh = b + 16;
    uint8_t* ql = b + 48;
    std::memset(qh, 0, 32);
    for (int c = 0; c < 4; ++c)
      for (int l = 0; l < 32; ++l) {
        const uint8_t lo = q[64 * c + l], hi = q[64 * c + 32 + l];
        ql[32 * c + l] = uint8_t((lo & 0xF) | ((hi & 0xF) << 4));
        qh[l] = uint8_t(qh[l] | ((lo >> 4) << (2 * c)) | ((hi >> 4) << (2 * c + 1)));
      }
  }
}

void quantize_q6_k(const float* x, void* out, size_t n) {
  auto* b = static_cast<uint8_t*>(out);
  for (size_t blk = 0; blk < n / 256; ++blk, x += 256, b += kQ6KBlockBytes) {
    // Sixteen sub-block scales, then one f16 d that maps the scale of greatest magnitude to −128 (as the
    // values map to −32: the int8 range is used in full) and the rest to int8s against the stored d.
    float scales[16], vmax = 0;
    for (int s = 0; s < 16; ++s) {
      scales[s] = fit_symmetric(x + 16 * s, 16);
      if (std::fabs(scales[s]) > std::fabs(vmax)) vmax = scales[s];
    }
    uint16_t d_bits;
    const float d = as_stored_f16(vmax != 0 ? -vmax / 128 : 0.0f, &d_bits);
    int8_t sc[16];
    int q[256];  // in [−32, 31]
    for (int s = 0; s < 16; ++s) {
      sc[s] = d != 0 ? int8_t(std::clamp(round_int(scales[s] / d), -128, 127)) : 0;
      const float ds = d * float(sc[s]);
      for (int i = 0; i < 16; ++i)
        q[16 * s + i] = ds != 0 ? std::clamp(round_int(x[16 * s + i] / ds), -32, 31) : 0;
    }
    // Each half of 128 values: 64 bytes of low nibbles (values l and l+64 share byte l, l+32 and l+96 byte
    // l+32) and 32 bytes of high bit pairs (values l, l+32, l+64, l+96 in bits 0-1, 2-3, 4-5, 6-7 of byte l).
    uint8_t* ql = b;
    uint8_t* qh = b + 128;
    for (int h = 0; h < 2; ++h)
      for (int l = 0; l < 32; ++l) {
        const int* v = q + 128 * h + l;
        const int u0 = v[0] + 32, u1 = v[32] + 32, u2 = v[64] + 32, u3 = v[96] + 32;
        ql[64 * h + l] = uint8_t((u0 & 0xF) | ((u2 & 0xF) << 4));
        ql[64 * h + l + 32] = uint8_t((u1 & 0xF) | ((u3 & 0xF) << 4));
        qh[32 * h + l] = uint8_t((u0 >> 4) | ((u1 >> 4) << 2) | ((u2 >> 4) << 4) | ((u3 >> 4) << 6));
      }
    std::memcpy(b + 192, sc, 16);
    put_f16(b + 208, d_bits);
  }
}

}  // namespace r1::kernels::ref
