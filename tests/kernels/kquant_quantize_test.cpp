// The reference k-quantizers (ref_kquant_quantize.h) against the exact decoders (ref_gguf_blocks.h): random
// rows round-trip within stated bounds, zero and constant rows come back (almost) exactly, mixed magnitudes
// stay bounded by their super-block, and a hand-made super-block of each type is checked byte by byte against
// GGUF's layout, written here from the format's description rather than from the quantizer.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <functional>
#include <random>
#include <vector>

#include "core/dtype.h"
#include "kernels/ref/ref_gguf_blocks.h"
#include "kernels/ref/ref_kquant_quantize.h"

namespace r1::kernels::ref {
namespace {

struct Format {
  const char* name;
  size_t block_bytes;
  std::function<void(const float*, void*, size_t)> quantize;
  std::function<void(const void*, float*, size_t)> dequantize;
  double max_rel_rms;  // bound on RMS(error) / RMS(x) for random rows
  int levels;          // distinct q values in a sub-block
  size_t sub;          // values per sub-block
};

std::vector<Format> formats() {
  // Bounds: rounding to a grid of L levels over a uniform row's range costs RMS error ≈ range / ((L−1)·√12),
  // 0.067, 0.032 and 0.016 of the row's RMS for 16, 32 and 64 levels; a few outliers widen their sub-blocks'
  // grids. Measured on the rows of RandomRowsRoundTripWithinBound (uniform / normal with outliers / one
  // sign): Q4_K 0.060 / 0.081 / 0.025, Q5_K 0.027 / 0.041 / 0.012, Q6_K 0.013 / 0.019 / 0.011; bounds ~10%
  // above the worst.
  return {{"Q4_K", kQ4KBlockBytes, quantize_q4_k, dequantize_q4_k, 0.09, 16, 32},
          {"Q5_K", kQ5KBlockBytes, quantize_q5_k, dequantize_q5_k, 0.045, 32, 32},
          {"Q6_K", kQ6KBlockBytes, quantize_q6_k, dequantize_q6_k, 0.022, 64, 16}};
}

// Quantizes x into a buffer with guard bytes after the blocks (which must stay untouched) and decodes it.
std::vector<float> round_trip(const Format& f, const std::vector<float>& x,
                              std::vector<uint8_t>* bytes = nullptr) {
  const size_t nb = x.size() / 256, size = nb * f.block_bytes;
  std::vector<uint8_t> buf(size + 64, 0xA5);
  f.quantize(x.data(), buf.data(), x.size());
  for (size_t i = size; i < buf.size(); ++i) EXPECT_EQ(buf[i], 0xA5) << f.name << " wrote past its blocks";
  std::vector<float> y(x.size());
  f.dequantize(buf.data(), y.data(), x.size());
  if (bytes) *bytes = std::vector<uint8_t>(buf.begin(), buf.begin() + long(size));
  return y;
}

double rms(const std::vector<float>& v) {
  double s = 0;
  for (float x : v) s += double(x) * x;
  return std::sqrt(s / double(v.size()));
}

TEST(KQuantQuantize, RandomRowsRoundTripWithinBound) {
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> uni(-1, 1);
  std::normal_distribution<float> normal(0, 1);
  for (const Format& f : formats()) {
    for (int kind = 0; kind < 3; ++kind) {
      // 1, 3 and 8 super-blocks: uniform weights (r1serve's dummy weights), normal ones with a few outliers
      // (real checkpoints), and uniform ones shifted off zero (a row all of one sign).
      std::vector<float> x(256 * size_t(kind == 0 ? 1 : kind == 1 ? 3 : 8));
      for (size_t i = 0; i < x.size(); ++i) {
        if (kind == 0) x[i] = 0.05f * uni(rng);
        if (kind == 1) x[i] = i % 97 == 0 ? 6.0f * normal(rng) : normal(rng);
        if (kind == 2) x[i] = 2.0f + uni(rng);
      }
      const std::vector<float> y = round_trip(f, x);
      std::vector<float> err(x.size());
      double worst_step =
          0;  // largest error in grid steps of the value's own sub-block (its range / levels-1)
      for (size_t s = 0; s < x.size(); s += f.sub) {
        float lo = x[s], hi = x[s];
        for (size_t i = s; i < s + f.sub; ++i) lo = std::min(lo, x[i]), hi = std::max(hi, x[i]);
        if (f.levels == 64) lo = std::min(lo, -hi), hi = std::max(hi, -lo);  // symmetric grid
        const double step = double(hi - std::min(lo, 0.0f)) / (f.levels - 1);
        for (size_t i = s; i < s + f.sub; ++i) {
          err[i] = y[i] - x[i];
          worst_step = std::max(worst_step, std::fabs(err[i]) / step);
        }
      }
      const double rel = rms(err) / rms(x);
      std::printf("%s kind %d: RMS error / RMS %.4f, worst error %.3f steps\n", f.name, kind, rel,
                  worst_step);
      EXPECT_LT(rel, f.max_rel_rms) << f.name << " rows of kind " << kind;
      // Rounding alone costs half a step; clipping the extremes (a least-squares fit may pick a finer grid)
      // and the scale's own rounding may add to it, but never a whole step: measured at most 0.76.
      EXPECT_LT(worst_step, 0.9) << f.name << " rows of kind " << kind;
    }
  }
}

TEST(KQuantQuantize, ZeroRowEncodesAsZeroBytes) {
  for (const Format& f : formats()) {
    std::vector<float> x(512, 0.0f);
    std::vector<uint8_t> bytes;
    const std::vector<float> y = round_trip(f, x, &bytes);
    for (size_t i = 0; i < bytes.size(); ++i) {
      // Q6_K stores q + 32: its zero is the byte pattern of q = 0, not 0x00.
      if (std::string(f.name) == "Q6_K" && i % kQ6KBlockBytes < 192) continue;
      ASSERT_EQ(bytes[i], 0) << f.name << " byte " << i;
    }
    for (float v : y) ASSERT_EQ(v, 0.0f) << f.name;
  }
}

TEST(KQuantQuantize, ConstantRowsComeBackWithinHalfPrecision) {
  // A constant is one grid point (the scale, or for a negative constant the min, takes it whole), so only the
  // f16 rounding of d / dmin remains: relative error ≤ 2^-11 per factor, < 1e-3 in all. (Smaller constants
  // put d in f16's subnormal range — below |c| ≈ 0.06 for Q4_K's d = c / (63·15), 0.25 for Q6_K's c / 4096 —
  // where this relative bound no longer holds, as in llama.cpp's files.)
  for (const Format& f : formats())
    for (float c : {0.37f, -1.25f, 0.3f, -0.5f, 40.0f}) {
      std::vector<float> x(256, c);
      const std::vector<float> y = round_trip(f, x);
      for (size_t i = 0; i < x.size(); ++i) ASSERT_NEAR(y[i], c, std::fabs(c) * 1e-3) << f.name << " c " << c;
    }
}

TEST(KQuantQuantize, MixedMagnitudesStayBoundedByTheirSuperBlock) {
  // Sub-blocks from 1e-4 to 10 in one super-block, an all-zero sub-block, one-sign sub-blocks and an outlier:
  // the 6/8-bit sub-block scales are relative to the super-block's largest, so small sub-blocks lose detail
  // (as in llama.cpp) but every error stays within a step of the super-block's coarsest grid, and zero
  // sub-blocks decode to exact zeros where the format has no min to add (Q6_K; Q4_K/Q5_K when min is 0).
  std::mt19937 rng(11);
  std::uniform_real_distribution<float> uni(-1, 1);
  for (const Format& f : formats()) {
    std::vector<float> x(1024);
    for (size_t i = 0; i < x.size(); ++i) {
      const size_t s = i / 32 % 8;
      const float mag = std::pow(10.0f, float(s) - 4.0f);  // 1e-4 ... 1e3
      x[i] = s == 3   ? 0.0f
             : s == 5 ? mag * (1.0f + uni(rng))
             : s == 6 ? -mag * (1.0f + uni(rng))
                      : mag * uni(rng);
    }
    x[777] = 5000.0f;
    const std::vector<float> y = round_trip(f, x);
    for (size_t b = 0; b < x.size(); b += 256) {
      float amax = 0;
      for (size_t i = b; i < b + 256; ++i) amax = std::max(amax, std::fabs(x[i]));
      const float step = 2 * amax / float(f.levels - 1);
      for (size_t i = b; i < b + 256; ++i) {
        ASSERT_LE(std::fabs(y[i] - x[i]), step) << f.name << " value " << i;
        if (x[i] == 0.0f && std::string(f.name) == "Q6_K") {
          ASSERT_EQ(y[i], 0.0f) << i;
        }
      }
    }
  }
}

// Hand-made super-blocks whose values lie exactly on a grid of f16-exact scales, so the best fit is exact and
// the bytes are determined: the expected bytes below follow GGUF's block layout as documented by ggml
// (block_q4_K / block_q5_K / block_q6_K), the scale bytes worked out by hand.
constexpr uint8_t kSc[8] = {63, 1, 17, 32, 40, 5, 63, 12};
constexpr uint8_t kMin[8] = {0, 63, 2, 5, 33, 48, 7, 20};
constexpr float kD = 1.0f / 64, kDmin = 1.0f / 32;  // f16 0x2400 and 0x2800
// The 12 scale/min bytes for kSc/kMin: bytes 0-3 sc[j] | (sc[j+4] >> 4) << 6, bytes 4-7 m[j] | (m[j+4] >> 4)
// << 6, bytes 8-11 (sc[j+4] & 15) | (m[j+4] & 15) << 4.
constexpr uint8_t kScaleBytes[12] = {0xBF, 0x01, 0xD1, 0x20, 0x80, 0xFF, 0x02, 0x45, 0x18, 0x05, 0x7F, 0x4C};

void expect_head(const std::vector<uint8_t>& b) {
  EXPECT_EQ(b[0], 0x00);
  EXPECT_EQ(b[1], 0x24);  // d = 1/64
  EXPECT_EQ(b[2], 0x00);
  EXPECT_EQ(b[3], 0x28);  // dmin = 1/32
  for (int i = 0; i < 12; ++i) EXPECT_EQ(b[4 + size_t(i)], kScaleBytes[i]) << "scale byte " << i;
}

TEST(KQuantQuantize, Q4KHandMadeBlockLayout) {
  // Sub-block j, value l: q = (7l + j) mod 16 (every level 0-15 appears), x = d·sc[j]·q − dmin·m[j].
  auto q = [](int j, int l) { return (7 * l + j) % 16; };
  std::vector<float> x(256);
  for (int j = 0; j < 8; ++j)
    for (int l = 0; l < 32; ++l) x[size_t(32 * j + l)] = kD * kSc[j] * float(q(j, l)) - kDmin * kMin[j];
  std::vector<uint8_t> b;
  const std::vector<float> y = round_trip(formats()[0], x, &b);
  ASSERT_EQ(b.size(), 144u);
  expect_head(b);
  // qs[32c + l]: value l of sub-block 2c in the low nibble, of sub-block 2c+1 in the high one.
  EXPECT_EQ(b[16], 0x10);
  EXPECT_EQ(b[16 + 127], 0x0F);
  for (int c = 0; c < 4; ++c)
    for (int l = 0; l < 32; ++l)
      ASSERT_EQ(b[size_t(16 + 32 * c + l)], q(2 * c, l) | q(2 * c + 1, l) << 4) << c << " " << l;
  for (size_t i = 0; i < 256; ++i) ASSERT_EQ(y[i], x[i]) << i;
}

TEST(KQuantQuantize, Q5KHandMadeBlockLayout) {
  auto q = [](int j, int l) { return (7 * l + 3 * j) % 32; };  // every level 0-31 in each sub-block
  std::vector<float> x(256);
  for (int j = 0; j < 8; ++j)
    for (int l = 0; l < 32; ++l) x[size_t(32 * j + l)] = kD * kSc[j] * float(q(j, l)) - kDmin * kMin[j];
  std::vector<uint8_t> b;
  const std::vector<float> y = round_trip(formats()[1], x, &b);
  ASSERT_EQ(b.size(), 176u);
  expect_head(b);
  // qh[l] (bytes 16-47): bit j is the fifth bit of value l of sub-block j. Value 0 of sub-block j is 3j: only
  // sub-blocks 6 and 7 (18, 21) have it set.
  EXPECT_EQ(b[16], 0xC0);
  for (int l = 0; l < 32; ++l) {
    int bits = 0;
    for (int j = 0; j < 8; ++j) bits |= (q(j, l) >> 4) << j;
    ASSERT_EQ(b[size_t(16 + l)], bits) << l;
  }
  // ql[32c + l] (bytes 48-175): low four bits, as Q4_K's nibbles.
  for (int c = 0; c < 4; ++c)
    for (int l = 0; l < 32; ++l)
      ASSERT_EQ(b[size_t(48 + 32 * c + l)], (q(2 * c, l) & 15) | (q(2 * c + 1, l) & 15) << 4)
          << c << " " << l;
  for (size_t i = 0; i < 256; ++i) ASSERT_EQ(y[i], x[i]) << i;
}

TEST(KQuantQuantize, Q6KHandMadeBlockLayout) {
  // d = −1/256 (f16 0x9C00): the scale of greatest magnitude (−128 → 0.5) maps to −128, as the format's
  // quantizer chooses; each sub-block holds q = −32 (value 0), so its own scale is fixed by it. Sub-block 4
  // is all zeros (scale 0, every q stored as 32).
  constexpr int8_t sc[16] = {-128, -64, -1, -100, 0, 7, 127, -3, 50, -77, 1, -128, 64, 99, -20, 13};
  auto q = [](int s, int i) { return i == 0 ? -32 : (5 * i + 3 * s) % 64 - 32; };
  const float d = -1.0f / 256;
  std::vector<float> x(256);
  for (int s = 0; s < 16; ++s)
    for (int i = 0; i < 16; ++i) x[size_t(16 * s + i)] = s == 4 ? 0.0f : d * float(sc[s]) * float(q(s, i));
  std::vector<uint8_t> b;
  const std::vector<float> y = round_trip(formats()[2], x, &b);
  ASSERT_EQ(b.size(), 210u);
  EXPECT_EQ(b[208], 0x00);
  EXPECT_EQ(b[209], 0x9C);
  for (int s = 0; s < 16; ++s) EXPECT_EQ(int8_t(b[size_t(192 + s)]), sc[s]) << "scale " << s;
  // Stored u = q + 32 for value v = 128h + 32k + l (k = 0..3, l = 0..31): low nibble in ql[64h + l + 32(k&1)]
  // (k < 2: low half of the byte, k ≥ 2: high half), high two bits in bits 2k-2k+1 of qh[32h + l].
  auto u = [&](int v) { return v / 16 == 4 ? 32 : q(v / 16, v % 16) + 32; };
  for (int h = 0; h < 2; ++h)
    for (int l = 0; l < 32; ++l) {
      const int v = 128 * h + l;
      ASSERT_EQ(b[size_t(64 * h + l)], (u(v) & 15) | (u(v + 64) & 15) << 4) << h << " " << l;
      ASSERT_EQ(b[size_t(64 * h + l + 32)], (u(v + 32) & 15) | (u(v + 96) & 15) << 4) << h << " " << l;
      ASSERT_EQ(b[size_t(128 + 32 * h + l)],
                (u(v) >> 4) | (u(v + 32) >> 4) << 2 | (u(v + 64) >> 4) << 4 | (u(v + 96) >> 4) << 6)
          << h << " " << l;
    }
  for (size_t i = 0; i < 256; ++i) ASSERT_EQ(y[i], x[i]) << i;
}

}  // namespace
}  // namespace r1::kernels::ref
