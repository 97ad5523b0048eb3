#include "core/dtype.h"

#include "core/error.h"

namespace r1 {

size_t dtype_size(DType t) {
  switch (t) {
    case DType::F32: return 4;
    case DType::F16: return 2;
    case DType::BF16: return 2;
    case DType::I32: return 4;
    case DType::I64: return 8;
    case DType::U8: return 1;
    case DType::I8: return 1;
    case DType::Q8_0: return 2 + 32;      // f16 scale + 32 int8
    case DType::Q4_0: return 2 + 16;      // f16 scale + 32 nibbles
    case DType::Q4_1: return 4 + 16;      // f16 scale and min + 32 nibbles
    case DType::Q5_0: return 2 + 4 + 16;  // f16 scale + 32 fifth bits + 32 nibbles
    case DType::Q5_1: return 4 + 4 + 16;  // f16 scale and min + 32 fifth bits + 32 nibbles
    case DType::Q4_K: return 144;         // f16 d, dmin, 12 bytes of 6-bit scales/mins, 256 nibbles
    case DType::Q5_K: return 176;         // Q4_K + 32 bytes of fifth bits
    case DType::Q6_K: return 210;         // 128 low nibbles, 64 of 2-bit highs, 16 int8 scales, f16 d
  }
  R1_CHECK(false, "unknown dtype {}", int(t));
}

size_t dtype_block_elems(DType t) {
  if (t == DType::Q8_0 || t == DType::Q4_0 || t == DType::Q4_1 || t == DType::Q5_0 || t == DType::Q5_1)
    return 32;
  if (t == DType::Q4_K || t == DType::Q5_K || t == DType::Q6_K) return 256;
  return 1;
}

size_t dtype_bytes(DType t, size_t n) {
  size_t be = dtype_block_elems(t);
  R1_CHECK(n % be == 0, "{} elements is not a multiple of the {} block size", n, dtype_name(t));
  return n / be * dtype_size(t);
}

std::string_view dtype_name(DType t) {
  switch (t) {
    case DType::F32: return "f32";
    case DType::F16: return "f16";
    case DType::BF16: return "bf16";
    case DType::I32: return "i32";
    case DType::I64: return "i64";
    case DType::U8: return "u8";
    case DType::I8: return "i8";
    case DType::Q8_0: return "q8_0";
    case DType::Q4_0: return "q4_0";
    case DType::Q4_1: return "q4_1";
    case DType::Q5_0: return "q5_0";
    case DType::Q5_1: return "q5_1";
    case DType::Q4_K: return "q4_k";
    case DType::Q5_K: return "q5_k";
    case DType::Q6_K: return "q6_k";
  }
  return "?";
}

std::optional<DType> dtype_from_safetensors(std::string_view n) {
  if (n == "F32") return DType::F32;
  if (n == "F16") return DType::F16;
  if (n == "BF16") return DType::BF16;
  if (n == "I32") return DType::I32;
  if (n == "I64") return DType::I64;
  if (n == "U8") return DType::U8;
  if (n == "I8") return DType::I8;
  return std::nullopt;
}

float f16_to_f32(uint16_t h) {
  uint32_t sign = uint32_t(h & 0x8000) << 16;
  uint32_t exp = (h >> 10) & 0x1f;
  uint32_t mant = h & 0x3ff;
  uint32_t bits;
  if (exp == 0) {
    if (mant == 0) {
      bits = sign;
    } else {  // subnormal: normalise
      int e = -1;
      do {
        mant <<= 1;
        ++e;
      } while ((mant & 0x400) == 0);
      bits = sign | uint32_t(127 - 15 - e) << 23 | (mant & 0x3ff) << 13;
    }
  } else if (exp == 31) {
    bits = sign | 0x7f800000u | (mant << 13);
  } else {
    bits = sign | (exp + 127 - 15) << 23 | mant << 13;
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

uint16_t f32_to_f16(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  uint32_t sign = (x >> 16) & 0x8000;
  uint32_t absx = x & 0x7fffffffu;
  if (absx > 0x7f800000u) return uint16_t(sign | 0x7e00);  // NaN
  if (absx >= 0x477ff000u) return uint16_t(sign | 0x7c00);  // overflow (rounds to inf) or inf
  if (absx < 0x38800000u) {                                // subnormal or zero in f16
    if (absx < 0x33000000u) return uint16_t(sign);         // below half the smallest subnormal
    uint32_t e = absx >> 23;
    uint32_t m = (absx & 0x7fffff) | 0x800000;
    uint32_t shift = 126 - e;  // 113 + 13 .. : places the value in 10 mantissa bits
    uint32_t r = m >> shift;
    uint32_t rem = m & ((1u << shift) - 1);
    uint32_t half = 1u << (shift - 1);
    if (rem > half || (rem == half && (r & 1))) ++r;
    return uint16_t(sign | r);
  }
  uint32_t r = absx - 0x38000000u;  // rebias exponent 127 -> 15
  uint32_t rem = r & 0x1fff;
  r >>= 13;
  if (rem > 0x1000 || (rem == 0x1000 && (r & 1))) ++r;
  return uint16_t(sign | r);
}

}  // namespace r1
