#pragma once
// Software prefetch of packed weight tiles for the one-token (decode) kernels of every ISA (_mm_prefetch is
// SSE, so any translation unit may include this).
//
// Into L2 (_MM_HINT_T1), not L1: with L1 prefetches, or none, the decode kernels' compute and their memory
// stalls added up instead of overlapping, and the kernels that do more work per byte fell furthest behind the
// memory (kernels_bench *_Streamed_2Threads/1, 2 threads on Zen 4, in docs/PERFORMANCE.md: Q6_K 21 GB/s from
// memory against 76 GB/s from L3, 33 GB/s once prefetched into L2).
#include <xmmintrin.h>

#include <cstddef>

namespace r1::kernels::cpu {

// Share `part` of `parts` of the cache lines of [p, p + bytes) into L2: lines [part · n / parts, (part + 1) ·
// n / parts) of n = ceil(bytes / 64), so that a tile's prefetches spread over the work on it.
static inline void prefetch_l2_part(const void* p, size_t bytes, size_t part, size_t parts) {
  const char* c = static_cast<const char*>(p);
  const size_t lines = (bytes + 63) / 64;
  for (size_t line = part * lines / parts; line < (part + 1) * lines / parts; ++line)
    _mm_prefetch(c + 64 * line, _MM_HINT_T1);
}

// All of [p, p + bytes) into L2.
static inline void prefetch_l2(const void* p, size_t bytes) {
  prefetch_l2_part(p, bytes, 0, 1);
}

}  // namespace r1::kernels::cpu
