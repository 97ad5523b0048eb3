#pragma once
// The k-quant formats (GGUF's Q4_K, Q5_K, Q6_K: what Q4_K_M, Q5_K_M and Q6_K files hold) in the layout their
// kernels stream: tiles of 16 rows × one 256-column super-block, holding the stored values bit for bit
// (nothing is decoded to floats or quantized again), rearranged so that one 64-byte load feeds 16 rows × 4
// columns of a vpdpbusd, as quant.h's Q4_0 tiles do.
//
// Tiles of a 16-row group follow each other along the columns, groups follow each other down the rows:
//   tile(g, s) at ((g * ks) + s) * tile_bytes, ks = cols / 256 (GGUF stores these formats only for rows that
//   are a multiple of 256)
// Inside a tile, sub-block j (columns 32j..32j+31, one activation block) keeps its 4-bit quants as a Q4_0
// tile does (quant.h): 4 chunks of 64 bytes; chunk p, row r, byte i: low nibble = column 4p + i, high nibble
// = column 16 + 4p + i. The extra high bits sit beside them in the same (row r, byte i) order, so that a load
// of 64 bytes lines up with the nibbles' chunks:
//
// Q4_K and Q5_K (value = d · sc_j · q − dmin · m_j, q 0..15 or 0..31):
//   [0, 32)     d: 16 f16, one per row          [32, 64)    dmin: 16 f16
//   [64, 192)   sc: byte 64 + 16j + r           [192, 320)  m: byte 192 + 16j + r     (6-bit, unpacked)
//   [320 + j * stride, ...)  sub-block j: 256 bytes of nibbles; Q5_K then 64 bytes of fifth bits: byte
//             r * 4 + i, bit 2p = column 4p + i's, bit 2p + 1 = column 16 + 4p + i's      (stride 256 / 320)
// Q6_K (value = d · sc · (q − 32), q 0..63, one int8 scale per 16 columns):
//   [0, 32)     d: 16 f16                       [32, 288)   sc: int8, byte 32 + 16k + r, k = 16-column group
//   [288 + 384j, ...)  sub-block j: 256 bytes of nibbles, then two 64-byte vectors of the top two bits:
//             vector p / 2, byte r * 4 + i, bits 4(p % 2) + 0..1 = column 4p + i's, + 2..3 = column 16 + 4p +
//             i's
// so a tile is 2368 (Q4_K), 2880 (Q5_K) or 3360 (Q6_K) bytes: 148, 180 and 210 bytes per row and 256 columns
// against GGUF's 144, 176 and 210 (the scales and mins are kept unpacked, one byte each, so that the kernels
// widen them with one instruction). Rows past the matrix are zero.
#include <cstddef>
#include <cstdint>

#include "core/dtype.h"
#include "kernels/quant.h"

namespace r1::kernels {

constexpr size_t kKBlock = 256;  // columns per k-quant super-block, and per tile

namespace ktile {
constexpr size_t kD = 0, kDmin = 32, kScale = 64, kMin = 192, kQ45 = 320;  // Q4_K / Q5_K
constexpr size_t kScale6 = 32, kQ6 = 288;                                  // Q6_K
// Bytes from one sub-block to the next: its nibbles and high bits (256, 320, 384).
constexpr size_t sub_stride(DType fmt) {
  return nibble_block_bytes(fmt);
}
// Offset of sub-block j's nibbles in a tile.
constexpr size_t sub_offset(DType fmt, size_t j) {
  return (fmt == DType::Q6_K ? kQ6 : kQ45) + j * sub_stride(fmt);
}
constexpr size_t tile_bytes(DType fmt) {
  return sub_offset(fmt, 8);
}
}  // namespace ktile

bool is_kquant(DType fmt);
// Moves rows [16 * group, 16 * group + n_rows) given as GGUF blocks of format `fmt` (rows[i] points at row
// i's super-blocks) into their tiles of the packed matrix `dst`. cols must be a multiple of 256.
void pack_kquant_row_group(DType fmt, size_t cols, size_t group, const uint8_t* const* rows, size_t n_rows,
                           void* dst);
// Row `row` of a packed k-quant matrix, dequantized exactly as ref::dequantize_q4_k / q5_k / q6_k would: out
// [cols].
void unpack_kquant_row(DType fmt, const void* packed, size_t cols, size_t row, float* out);

}  // namespace r1::kernels
