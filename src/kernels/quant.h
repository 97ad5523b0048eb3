#pragma once
// Block-quantized weights in the layout the kernels stream, and activations quantized per block to int8.
//
// Weights are quantized exactly as GGUF's Q8_0 / Q4_0 (ref/ref_quant.h has the canonical blocks), or come as
// a GGUF file's blocks of those formats or of Q4_1, Q5_0, Q5_1, and are repacked bit for bit into tiles of 16
// rows × one block of 32 columns, so one 64-byte load feeds 16 rows × 4 columns of a vpdpbusd. Tiles of a
// 16-row group follow each other along the columns, groups follow each other down the rows:
//   tile(g, b) at ((g * kb) + b) * tile_bytes, kb = ceil(cols / 32), g = row / 16
// A tile holds 16 f16 scales d (one per row, 32 bytes), for Q4_1 and Q5_1 then 16 f16 mins m, then the
// quants q (unsigned, so vpdpbusd can take them):
//   Q8_0: 8 chunks of 64 bytes; chunk i, row r, byte j = q[r][4i + j] (the stored int8 + 128)
//   Q4_0, Q4_1: 4 chunks of 64 bytes; chunk p, row r, byte j: low nibble = q[r][4p + j], high = q[r][16 + 4p
//         + j]
//   Q5_0, Q5_1: the same 4 chunks of low nibbles, then 64 bytes of fifth bits: byte 4r + j, bit 2p =
//         q[r][4p + j]'s, bit 2p + 1 = q[r][16 + 4p + j]'s
// and the value is d · (q − offset) (offset 128, 8, 16 for Q8_0, Q4_0, Q5_0, as in GGUF) or d · q + m (Q4_1,
// Q5_1), so a tile is 16 × 34, 18, 20, 22 or 24 bytes: the GGUF sizes exactly. Rows past the matrix and
// columns past cols are zero (or the zero point).
// The k-quants (Q4_K, Q5_K, Q6_K) have tiles of 16 rows × 256 columns instead, laid out in kquant_tiles.h
// (each 32-column sub-block's nibbles and high bits as above); the functions below take every block format.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/dtype.h"
#include "core/thread_pool.h"

namespace r1::kernels {

constexpr size_t kQBlock = 32;    // columns per quant block
constexpr size_t kQRowTile = 16;  // rows per tile

// Q8_0, Q4_0, Q4_1, Q5_0, Q5_1 and the k-quants: the formats the int8 kernels compute in.
bool is_quantized(DType fmt);
// Bytes of one tile, and columns it covers (32, or 256 for the k-quants). Throw for non-block formats.
size_t quant_tile_bytes(DType fmt);
size_t quant_tile_cols(DType fmt);

// Bits above the nibble a quant of a nibble format has: 0 (Q4_0, Q4_1, Q4_K), 1 (Q5_0, Q5_1, Q5_K: the fifth
// bits after the nibbles, as above) or 2 (Q6_K, kquant_tiles.h).
constexpr int high_bits(DType fmt) {
  return fmt == DType::Q5_0 || fmt == DType::Q5_1 || fmt == DType::Q5_K ? 1 : fmt == DType::Q6_K ? 2 : 0;
}
// Bytes of a 32-column block's nibbles (16 rows × 32 columns × 4 bits); its high bits follow, 64 bytes a bit.
constexpr size_t kNibbleBytes = 256;
// Bytes of a 32-column block's quants in a nibble format: the nibbles and the high bits after them.
constexpr size_t nibble_block_bytes(DType fmt) {
  return kNibbleBytes + 64 * size_t(high_bits(fmt));
}

// Where the parts of a 32-column tile sit, and what its quants mean (the layout above).
namespace qtile {
constexpr size_t kScales = 0, kMins = 32;
constexpr bool has_min(DType fmt) {
  return fmt == DType::Q4_1 || fmt == DType::Q5_1;
}
// Offset of the quants in a tile.
constexpr size_t quants(DType fmt) {
  return has_min(fmt) ? 64 : 32;
}
// Q8_0's quants are 8 chunks of 64 bytes; the other formats' a nibble block. That makes 16 × GGUF's block
// size (dtype_size), as the layout above promises: gguf_block_kernels_test holds the two together.
constexpr size_t tile_bytes(DType fmt) {
  return quants(fmt) + (fmt == DType::Q8_0 ? 8 * 64 : nibble_block_bytes(fmt));
}
// The stored quant minus this is the multiple of d (0 for the formats with a min).
constexpr int32_t offset(DType fmt) {
  return fmt == DType::Q8_0 ? 128 : fmt == DType::Q4_0 ? 8 : fmt == DType::Q5_0 ? 16 : 0;
}
}  // namespace qtile
// Where column c (0..31) of row r sits in a block's nibbles and high bits: byte r * 4 + c % 4 of chunk p =
// (c % 16) / 4 (the high nibble for c >= 16); the fifth bit at bit 2p (+1 for a high nibble) of the same byte
// of the vector after the nibbles; Q6_K's two bits in vector p / 2 at bit 4 (p % 2) (+2 for a high nibble).
struct NibblePlace {
  size_t byte, p;
  bool high;
  NibblePlace(size_t r, size_t c) : byte(r * 4 + c % 4), p((c % 16) / 4), high(c >= 16) {}
  size_t nibbles() const { return p * 64 + byte; }
  size_t high_byte(int bits) const { return kNibbleBytes + (bits == 2 ? 64 * (p / 2) : 0) + byte; }
  int high_shift(int bits) const { return bits == 2 ? int(4 * (p % 2) + 2 * high) : int(2 * p + high); }
};
// The unsigned quant of row r, column c (0..31) of the 32-column block of a nibble format whose nibbles start
// at q, and the other way round (put ORs the high bits in: they must start at zero). Inline, so that packing
// a model's blocks at load costs a few instructions a weight when fmt is a constant.
inline uint8_t nibble_quant(DType fmt, const uint8_t* q, size_t r, size_t c) {
  const NibblePlace at(r, c);
  const uint8_t nib = q[at.nibbles()];
  const uint8_t v = at.high ? nib >> 4 : nib & 15;
  const int hb = high_bits(fmt);
  if (hb == 0) return v;
  return uint8_t(v | ((q[at.high_byte(hb)] >> at.high_shift(hb)) & ((1 << hb) - 1)) << 4);
}
inline void put_nibble_quant(DType fmt, uint8_t* q, size_t r, size_t c, uint8_t v) {
  const NibblePlace at(r, c);
  uint8_t& nib = q[at.nibbles()];
  nib = uint8_t(at.high ? (nib & 0x0F) | ((v & 15) << 4) : (nib & 0xF0) | (v & 15));
  const int hb = high_bits(fmt);
  if (hb > 0) q[at.high_byte(hb)] |= uint8_t(((v >> 4) & ((1 << hb) - 1)) << at.high_shift(hb));
}

size_t quant_blocks(size_t cols);  // kb = ceil(cols / 32)
// Bytes of a packed [rows, cols] matrix.
size_t packed_bytes(DType fmt, size_t rows, size_t cols);

// Quantizes rows [16 * group, 16 * group + n_rows) given as floats (rows16: [n_rows, cols], n_rows <= 16) and
// writes their tiles into the packed matrix `dst`. The k-quants go through GGUF's super-blocks (scalar
// quantizers, ref/ref_kquant_quantize.h; cols a multiple of 256). Q4_1, Q5_0 and Q5_1 tiles come only from
// GGUF blocks (pack_gguf_row_group; r1serve does not quantize to them): asking for them here throws.
void pack_row_group(DType fmt, size_t cols, size_t group, const float* rows16, size_t n_rows, void* dst);
// The same rows given as ggml blocks already in format `fmt` (a GGUF file's tensor: per block an f16 scale,
// Q4_1/Q5_1 an f16 min, Q5_0/Q5_1 32 fifth bits, then 32 int8 or 16 bytes of nibble pairs; rows[i] points at
// row i's blocks), moved into their tiles bit for bit: the format is the tiles', so nothing is decoded or
// quantized again. cols must be a multiple of 32 (GGUF requires it of these formats). The k-quants'
// super-blocks likewise (cols a multiple of 256), through pack_kquant_row_group.
void pack_gguf_row_group(DType fmt, size_t cols, size_t group, const uint8_t* const* rows, size_t n_rows,
                         void* dst);
// Row `row` of a packed matrix, dequantized: out [cols].
void unpack_row(DType fmt, const void* packed, size_t cols, size_t row, float* out);

// Tokens are also regrouped in passes for GEMM kernels that run several tokens against each weight tile: the
// n tokens split into ceil(n / kActPass) passes of near-equal size (act_pass), and within the pass of tokens
// [t0, t0 + nt) everything is interleaved by token, so one pointer per block reaches all nt tokens at
// constant offsets:
//   pq[t0 * kb * 8 + (b * 8 + i) * nt + t] = token t0 + t's quants 4i..4i+3 of block b, as one int32
//   pd[t0 * kb + b * nt + t], psum[t0 * kb + b * nt + t] = its block scale and quant sum (phsum: of the
//   block's first 16 quants, for Q6_K's scales per 16 columns)
// Built once per activation set by quantize_acts, instead of by every kernel call and group batch.
constexpr size_t kActPass = 8;
// How many passes n tokens take.
inline size_t act_passes(size_t n) {
  return (n + kActPass - 1) / kActPass;
}
// Pass p of n tokens (near-equal split: 9 tokens are 5 + 4, not 8 + 1): writes its first token and size.
inline void act_pass(size_t n, size_t p, size_t* t0, size_t* nt) {
  const size_t passes = act_passes(n);
  *t0 = n * p / passes;
  *nt = n * (p + 1) / passes - *t0;
}

// A view of quantized activations that the per-ISA kernels take: plain pointers, so those translation units
// (built with AVX flags) instantiate no std:: templates that the linker could pick for the whole binary.
struct QActsView {
  const int8_t* qs;    // [n, kb * 32]
  const float* d;      // [n, kb]
  const int32_t* sum;  // [n, kb]
  size_t n, kb;
  const int32_t* pq;  // the same, regrouped by pass (above)
  const float* pd;
  const int32_t* psum;
  const int32_t* hsum;  // [n, kb] sum of each block's first 16 quants
  const int32_t* phsum;
};

// Activations quantized per block of 32 to int8 with a float scale: x ≈ qs * d. Rows are padded with zeros to
// kb * 32 columns.
struct QuantizedActs {
  size_t n = 0, k = 0, kb = 0;
  std::vector<int8_t> qs;     // [n, kb * 32]
  std::vector<float> d;       // [n, kb]
  std::vector<int32_t> sum;   // [n, kb]  sum of the block's qs (for the unsigned-weight offset)
  std::vector<int32_t> hsum;  // [n, kb]  sum of its first 16 qs
  std::vector<int32_t> pq;    // regrouped by pass (act_pass)
  std::vector<float> pd;
  std::vector<int32_t> psum;
  std::vector<int32_t> phsum;
  const int8_t* row(size_t t) const { return qs.data() + t * kb * kQBlock; }
  QActsView view() const {
    return {qs.data(), d.data(),  sum.data(),  n,           kb,
            pq.data(), pd.data(), psum.data(), hsum.data(), phsum.data()};
  }
};
// d = max|x| / 127 per block, qs = round(x / d). x: [n, k]. Rows are split across the pool when given.
void quantize_acts(const float* x, size_t n, size_t k, QuantizedActs& out, ThreadPool* pool = nullptr);
// Rows [t_begin, t_end) of an `out` already sized by quantize_acts (qs, d, sum and hsum; not the passes).
void quantize_act_rows(const float* x, size_t t_begin, size_t t_end, size_t k, QuantizedActs& out);

}  // namespace r1::kernels
