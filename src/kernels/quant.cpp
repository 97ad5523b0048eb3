#include "kernels/quant.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/error.h"
#include "kernels/isa.h"
#include "kernels/kquant_tiles.h"
#include "kernels/ref/ref_gguf_blocks.h"
#include "kernels/ref/ref_kquant_quantize.h"
#include "kernels/ref/ref_quant.h"

namespace r1::kernels {

bool is_quantized(DType fmt) {
  return fmt == DType::Q8_0 || fmt == DType::Q4_0 || fmt == DType::Q4_1 || fmt == DType::Q5_0 ||
         fmt == DType::Q5_1 || is_kquant(fmt);
}

size_t quant_tile_bytes(DType fmt) {
  R1_CHECK(is_quantized(fmt), "{} is not a block format", dtype_name(fmt));
  return is_kquant(fmt) ? ktile::tile_bytes(fmt) : qtile::tile_bytes(fmt);
}

size_t quant_tile_cols(DType fmt) {
  R1_CHECK(is_quantized(fmt), "{} is not a block format", dtype_name(fmt));
  return is_kquant(fmt) ? kKBlock : kQBlock;
}

size_t quant_blocks(size_t cols) {
  return (cols + kQBlock - 1) / kQBlock;
}

size_t packed_bytes(DType fmt, size_t rows, size_t cols) {
  const size_t tc = quant_tile_cols(fmt);
  R1_CHECK(tc == kQBlock || cols % tc == 0, "{} needs rows of a multiple of {} columns, not {}",
           dtype_name(fmt), tc, cols);
  return (rows + kQRowTile - 1) / kQRowTile * ((cols + tc - 1) / tc) * quant_tile_bytes(fmt);
}

void pack_row_group(DType fmt, size_t cols, size_t group, const float* rows16, size_t n_rows, void* dst) {
  R1_CHECK(n_rows <= kQRowTile, "pack_row_group: {} rows", n_rows);
  R1_CHECK(fmt == DType::Q8_0 || fmt == DType::Q4_0 || is_kquant(fmt),
           "{} tiles are made only from a GGUF file's blocks, not quantized from floats", dtype_name(fmt));
  if (is_kquant(fmt)) {
    // Through GGUF's super-blocks (the scalar quantizers: this path serves tests and benchmarks; model files
    // bring their k-quant blocks ready-made).
    R1_CHECK(cols % kKBlock == 0, "{} needs rows of a multiple of {} columns, not {}", dtype_name(fmt),
             kKBlock, cols);
    const size_t row_bytes = cols / kKBlock * dtype_size(fmt);
    std::vector<uint8_t> blocks(n_rows * row_bytes);
    const uint8_t* ptrs[kQRowTile];
    for (size_t r = 0; r < n_rows; ++r) {
      uint8_t* out = blocks.data() + r * row_bytes;
      if (fmt == DType::Q4_K) ref::quantize_q4_k(rows16 + r * cols, out, cols);
      if (fmt == DType::Q5_K) ref::quantize_q5_k(rows16 + r * cols, out, cols);
      if (fmt == DType::Q6_K) ref::quantize_q6_k(rows16 + r * cols, out, cols);
      ptrs[r] = out;
    }
    return pack_kquant_row_group(fmt, cols, group, ptrs, n_rows, dst);
  }
  const size_t kb = quant_blocks(cols), tb = quant_tile_bytes(fmt);
  uint8_t* tiles = static_cast<uint8_t*>(dst) + group * kb * tb;
  std::memset(tiles, 0, kb * tb);
  std::vector<float> padded(kb * kQBlock, 0.0f);  // [kb * 32]
  std::vector<ref::BlockQ8_0> q8(fmt == DType::Q8_0 ? kb : 0);
  std::vector<ref::BlockQ4_0> q4(fmt == DType::Q4_0 ? kb : 0);
  for (size_t r = 0; r < kQRowTile; ++r) {
    // Padding rows quantize to zero scales and the zero point (q = 0 for Q8_0, nibble 8 for Q4_0).
    std::fill(padded.begin(), padded.end(), 0.0f);
    if (r < n_rows) std::memcpy(padded.data(), rows16 + r * cols, cols * sizeof(float));
    if (fmt == DType::Q8_0) {
      active_kernels().quantize_q8_0(padded.data(), kb, q8.data());
      for (size_t b = 0; b < kb; ++b) {
        uint8_t* tile = tiles + b * tb;
        std::memcpy(tile + 2 * r, &q8[b].d, 2);
        for (size_t i = 0; i < 8; ++i)
          for (size_t j = 0; j < 4; ++j) tile[32 + i * 64 + r * 4 + j] = uint8_t(q8[b].qs[4 * i + j] + 128);
      }
    } else {
      active_kernels().quantize_q4_0(padded.data(), kb, q4.data());
      for (size_t b = 0; b < kb; ++b) {
        uint8_t* tile = tiles + b * tb;
        std::memcpy(tile + 2 * r, &q4[b].d, 2);
        auto nib = [&](size_t e) { return e < 16 ? (q4[b].qs[e] & 15) : (q4[b].qs[e - 16] >> 4); };
        for (size_t p = 0; p < 4; ++p)
          for (size_t j = 0; j < 4; ++j)
            tile[32 + p * 64 + r * 4 + j] = uint8_t(nib(4 * p + j) | (nib(16 + 4 * p + j) << 4));
      }
    }
  }
}

namespace {
// Q4_1, Q5_0 and Q5_1 blocks (f16 d, Q4_1/Q5_1 f16 m, Q5_0/Q5_1 32 fifth bits, 16 bytes of nibble pairs) into
// the kb tiles of one group at `tiles`. Rows past the matrix stay zero: only GGUF blocks make these tiles.
void pack_gguf_nibble_blocks(DType fmt, size_t kb, uint8_t* tiles, const uint8_t* const* rows,
                             size_t n_rows) {
  const size_t tb = qtile::tile_bytes(fmt), bb = dtype_size(fmt), nq = qtile::quants(fmt);
  std::memset(tiles, 0, kb * tb);
  for (size_t b = 0; b < kb; ++b) {
    uint8_t* tile = tiles + b * tb;
    for (size_t r = 0; r < n_rows; ++r) {
      const uint8_t* blk = rows[r] + b * bb;
      std::memcpy(tile + qtile::kScales + 2 * r, blk, 2);
      if (qtile::has_min(fmt)) std::memcpy(tile + qtile::kMins + 2 * r, blk + 2, 2);
      const uint8_t* qs = blk + bb - 16;  // byte j: element j (low nibble), element j + 16 (high)
      uint32_t qh = 0;                    // bit j: element j's fifth bit
      if (high_bits(fmt) == 1) std::memcpy(&qh, blk + bb - 20, 4);
      for (size_t c = 0; c < kQBlock; ++c) {
        const uint8_t nib = c < 16 ? qs[c] & 15 : qs[c - 16] >> 4;
        put_nibble_quant(fmt, tile + nq, r, c, uint8_t(nib | ((qh >> c) & 1) << 4));
      }
    }
  }
}
}  // namespace

void pack_gguf_row_group(DType fmt, size_t cols, size_t group, const uint8_t* const* rows, size_t n_rows,
                         void* dst) {
  if (is_kquant(fmt)) return pack_kquant_row_group(fmt, cols, group, rows, n_rows, dst);
  R1_CHECK(n_rows <= kQRowTile, "pack_gguf_row_group: {} rows", n_rows);
  R1_CHECK(cols % kQBlock == 0, "pack_gguf_row_group: {} columns", cols);
  const size_t kb = cols / kQBlock, tb = quant_tile_bytes(fmt), bb = dtype_size(fmt);
  uint8_t* tiles = static_cast<uint8_t*>(dst) + group * kb * tb;
  if (fmt != DType::Q8_0 && fmt != DType::Q4_0) return pack_gguf_nibble_blocks(fmt, kb, tiles, rows, n_rows);
  // Rows past the matrix get what pack_row_group gives them: a zero scale (ggml's Q4_0 quantizer makes it
  // -0.0) and the zero point (q + 128 = 128 for Q8_0, nibbles 8 for Q4_0), so both packers write identical
  // tiles.
  const uint16_t pad_scale = fmt == DType::Q8_0 ? 0x0000 : 0x8000;
  for (size_t b = 0; b < kb; ++b) {
    uint8_t* tile = tiles + b * tb;
    for (size_t r = n_rows; r < kQRowTile; ++r) std::memcpy(tile + 2 * r, &pad_scale, 2);
    std::memset(tile + 2 * kQRowTile, fmt == DType::Q8_0 ? 0x80 : 0x88, tb - 2 * kQRowTile);
    for (size_t r = 0; r < n_rows; ++r) {
      const uint8_t* blk = rows[r] + b * bb;
      std::memcpy(tile + 2 * r, blk, 2);  // the f16 scale, as stored
      const uint8_t* qs = blk + 2;
      if (fmt == DType::Q8_0) {
        for (size_t i = 0; i < 8; ++i)
          for (size_t j = 0; j < 4; ++j) tile[32 + i * 64 + r * 4 + j] = uint8_t(int8_t(qs[4 * i + j]) + 128);
      } else {
        // A stored byte already pairs element e (low nibble) with element e + 16 (high), as the tile does.
        for (size_t p = 0; p < 4; ++p) std::memcpy(tile + 32 + p * 64 + r * 4, qs + 4 * p, 4);
      }
    }
  }
}

void unpack_row(DType fmt, const void* packed, size_t cols, size_t row, float* out) {
  if (is_kquant(fmt)) return unpack_kquant_row(fmt, packed, cols, row, out);
  const size_t kb = quant_blocks(cols), tb = quant_tile_bytes(fmt), r = row % kQRowTile;
  const uint8_t* tiles = static_cast<const uint8_t*>(packed) + row / kQRowTile * kb * tb;
  const size_t nq = qtile::quants(fmt);
  for (size_t b = 0; b < kb; ++b) {
    const uint8_t* tile = tiles + b * tb;
    const float d = ref::f16_load(tile + qtile::kScales + 2 * r);
    const float m = qtile::has_min(fmt) ? ref::f16_load(tile + qtile::kMins + 2 * r) : 0.0f;
    for (size_t e = 0; e < kQBlock && b * kQBlock + e < cols; ++e) {
      const int q =
          fmt == DType::Q8_0 ? tile[nq + (e / 4) * 64 + r * 4 + e % 4] : nibble_quant(fmt, tile + nq, r, e);
      // As GGUF's decoders: d · (q − offset), or d · q + m.
      out[b * kQBlock + e] = qtile::has_min(fmt) ? float(q) * d + m : float(q - qtile::offset(fmt)) * d;
    }
  }
}

namespace {
// Fills pass p of the regrouped copy (the layout in quant.h) from the row-major qs, d and sum.
void regroup_pass(QuantizedActs& a, size_t p) {
  size_t t0, nt;
  act_pass(a.n, p, &t0, &nt);
  const size_t kb = a.kb;
  int32_t* pq = a.pq.data() + t0 * kb * 8;
  float* pd = a.pd.data() + t0 * kb;
  int32_t* psum = a.psum.data() + t0 * kb;
  int32_t* phsum = a.phsum.data() + t0 * kb;
  for (size_t t = 0; t < nt; ++t) {
    const int8_t* q = a.row(t0 + t);
    for (size_t b = 0; b < kb; ++b) {
      for (size_t i = 0; i < 8; ++i) std::memcpy(&pq[(b * 8 + i) * nt + t], q + b * kQBlock + 4 * i, 4);
      pd[b * nt + t] = a.d[(t0 + t) * kb + b];
      psum[b * nt + t] = a.sum[(t0 + t) * kb + b];
      phsum[b * nt + t] = a.hsum[(t0 + t) * kb + b];
    }
  }
}
}  // namespace

void quantize_acts(const float* x, size_t n, size_t k, QuantizedActs& out, ThreadPool* pool) {
  out.n = n;
  out.k = k;
  out.kb = quant_blocks(k);
  out.qs.resize(n * out.kb * kQBlock);
  out.d.resize(n * out.kb);
  out.sum.resize(n * out.kb);
  out.hsum.resize(n * out.kb);
  out.pq.resize(n * out.kb * 8);
  out.pd.resize(n * out.kb);
  out.psum.resize(n * out.kb);
  out.phsum.resize(n * out.kb);
  const size_t passes = act_passes(n);
  if (pool && n > 1) {
    pool->parallel_for(n, [&](size_t t0, size_t t1) { quantize_act_rows(x, t0, t1, k, out); });
    pool->parallel_for(passes, [&](size_t p0, size_t p1) {
      for (size_t p = p0; p < p1; ++p) regroup_pass(out, p);
    });
  } else {
    quantize_act_rows(x, 0, n, k, out);
    for (size_t p = 0; p < passes; ++p) regroup_pass(out, p);
  }
}

void quantize_act_rows(const float* x, size_t t_begin, size_t t_end, size_t k, QuantizedActs& out) {
  const size_t kp = out.kb * kQBlock;
  active_kernels().quantize_acts(x + t_begin * k, t_end - t_begin, k, out.kb, out.qs.data() + t_begin * kp,
                                 out.d.data() + t_begin * out.kb, out.sum.data() + t_begin * out.kb);
  // Only Q6_K's kernels read these; summing 16 bytes a block costs little beside quantizing them.
  for (size_t t = t_begin; t < t_end; ++t) {
    const int8_t* q = out.row(t);
    for (size_t b = 0; b < out.kb; ++b) {
      int32_t s = 0;
      for (size_t i = 0; i < 16; ++i) s += q[b * kQBlock + i];
      out.hsum[t * out.kb + b] = s;
    }
  }
}

}  // namespace r1::kernels
