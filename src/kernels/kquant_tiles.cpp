#include "kernels/kquant_tiles.h"

#include <cstring>

#include "core/error.h"
#include "kernels/quant.h"
#include "kernels/ref/ref_gguf_blocks.h"

namespace r1::kernels {

namespace {

// One GGUF super-block taken apart: its 256 quants as unsigned integers (Q6_K's still offset by 32), and its
// scales as stored (f16 bits, 6-bit or int8 scales).
struct SuperBlock {
  uint8_t q[kKBlock];
  uint16_t d = 0, dmin = 0;
  uint8_t sc[16] = {}, m[8] = {};  // Q4_K/Q5_K: 8 scales and mins; Q6_K: 16 int8 scales (as bytes)
};

template <DType fmt>
SuperBlock read_block(const uint8_t* b) {
  SuperBlock s;
  if constexpr (fmt == DType::Q6_K) {
    const uint8_t* ql = b;        // [128] low 4 bits
    const uint8_t* qh = b + 128;  // [64] top 2 bits, four values a byte
    std::memcpy(s.sc, b + 192, 16);
    std::memcpy(&s.d, b + 208, 2);
    for (size_t v = 0; v < kKBlock; ++v) {
      const size_t h = v / 128, w = v % 128, k = w / 32, l = w % 32;
      const uint8_t lo = ql[64 * h + l + 32 * (k % 2)];
      s.q[v] = uint8_t(((k < 2 ? lo : lo >> 4) & 15) | (((qh[32 * h + l] >> (2 * k)) & 3) << 4));
    }
    return s;
  }
  std::memcpy(&s.d, b, 2);
  std::memcpy(&s.dmin, b + 2, 2);
  for (int j = 0; j < 8; ++j) ref::kquant_scale_min(j, b + 4, &s.sc[j], &s.m[j]);
  const uint8_t* qh = b + 16;                              // Q5_K: [32], bit j of byte l = value 32j + l's
  const uint8_t* qs = b + (fmt == DType::Q5_K ? 48 : 16);  // [128]: value 64g + l low, 64g + 32 + l high
  for (size_t v = 0; v < kKBlock; ++v) {
    const size_t g = v / 64, l = v % 64, j = v / 32;
    const uint8_t byte = qs[32 * g + l % 32];
    s.q[v] = uint8_t(l < 32 ? byte & 15 : byte >> 4);
    if (fmt == DType::Q5_K) s.q[v] |= uint8_t(((qh[l % 32] >> j) & 1) << 4);
  }
  return s;
}

}  // namespace

bool is_kquant(DType fmt) {
  return fmt == DType::Q4_K || fmt == DType::Q5_K || fmt == DType::Q6_K;
}

namespace {
// pack_kquant_row_group for one format: a constant, so that the per-weight work of moving a model's blocks at
// load folds to a few instructions.
template <DType fmt>
void pack_group(size_t cols, size_t group, const uint8_t* const* rows, size_t n_rows, void* dst) {
  constexpr size_t tb = ktile::tile_bytes(fmt);
  const size_t ks = cols / kKBlock, bb = dtype_size(fmt);
  uint8_t* tiles = static_cast<uint8_t*>(dst) + group * ks * tb;
  std::memset(tiles, 0, ks * tb);
  for (size_t s = 0; s < ks; ++s) {
    uint8_t* tile = tiles + s * tb;
    for (size_t r = 0; r < n_rows; ++r) {
      const SuperBlock b = read_block<fmt>(rows[r] + s * bb);
      std::memcpy(tile + ktile::kD + 2 * r, &b.d, 2);
      if constexpr (fmt == DType::Q6_K) {
        for (size_t k = 0; k < 16; ++k) tile[ktile::kScale6 + 16 * k + r] = b.sc[k];
      } else {
        std::memcpy(tile + ktile::kDmin + 2 * r, &b.dmin, 2);
        for (size_t j = 0; j < 8; ++j) {
          tile[ktile::kScale + 16 * j + r] = b.sc[j];
          tile[ktile::kMin + 16 * j + r] = b.m[j];
        }
      }
      for (size_t j = 0; j < 8; ++j)
        for (size_t c = 0; c < 32; ++c)
          put_nibble_quant(fmt, tile + ktile::sub_offset(fmt, j), r, c, b.q[32 * j + c]);
    }
  }
}
}  // namespace

void pack_kquant_row_group(DType fmt, size_t cols, size_t group, const uint8_t* const* rows, size_t n_rows,
                           void* dst) {
  R1_CHECK(is_kquant(fmt), "pack_kquant_row_group: {}", dtype_name(fmt));
  R1_CHECK(n_rows <= kQRowTile && cols % kKBlock == 0, "pack_kquant_row_group: {} rows, {} columns", n_rows,
           cols);
  if (fmt == DType::Q4_K) return pack_group<DType::Q4_K>(cols, group, rows, n_rows, dst);
  if (fmt == DType::Q5_K) return pack_group<DType::Q5_K>(cols, group, rows, n_rows, dst);
  pack_group<DType::Q6_K>(cols, group, rows, n_rows, dst);
}

void unpack_kquant_row(DType fmt, const void* packed, size_t cols, size_t row, float* out) {
  const size_t ks = cols / kKBlock, tb = ktile::tile_bytes(fmt), r = row % kQRowTile;
  const uint8_t* tiles = static_cast<const uint8_t*>(packed) + row / kQRowTile * ks * tb;
  for (size_t s = 0; s < ks; ++s) {
    const uint8_t* tile = tiles + s * tb;
    const float d = ref::f16_load(tile + ktile::kD + 2 * r);
    float* y = out + s * kKBlock;
    for (size_t j = 0; j < 8; ++j) {
      const uint8_t* sub = tile + ktile::sub_offset(fmt, j);
      if (fmt == DType::Q6_K) {
        // As ref::dequantize_q6_k: d · sc, then times (q − 32).
        for (size_t c = 0; c < 32; ++c) {
          const float sc = float(int8_t(tile[ktile::kScale6 + 16 * (2 * j + c / 16) + r]));
          y[32 * j + c] = d * sc * float(int(nibble_quant(fmt, sub, r, c)) - 32);
        }
      } else {
        // As ref::dequantize_q4_k: d · sc · q − dmin · m.
        const float d1 = d * float(tile[ktile::kScale + 16 * j + r]);
        const float m1 = ref::f16_load(tile + ktile::kDmin + 2 * r) * float(tile[ktile::kMin + 16 * j + r]);
        for (size_t c = 0; c < 32; ++c) y[32 * j + c] = d1 * float(nibble_quant(fmt, sub, r, c)) - m1;
      }
    }
  }
}

}  // namespace r1::kernels
