#pragma once
// Helpers shared by the AVX-512 VNNI kernels of the packed weight tiles (included only by translation units
// built with the AVX-512 flags).
#include <immintrin.h>

#include <cstdint>

namespace r1::kernels::cpu {

// s += w · (the 4 activation bytes at x, broadcast), with the broadcast folded into vpdpbusd's memory
// operand. GCC 12 emits a separate vpbroadcastd for the intrinsic, and on Zen 4 that extra µop per
// vpdpbusd costs ~30% of the GEMM's throughput.
static inline void dpbusd_bcast(__m512i& s, __m512i w, const int32_t* x) {
  asm("vpdpbusd %2%{1to16%}, %1, %0" : "+v"(s) : "v"(w), "m"(*x));
}

}  // namespace r1::kernels::cpu
