// Attention over the paged KV cache with AVX2 + FMA + F16C: 8 elements of a K or V row per instruction,
// widened from F16 (vcvtph2ps) or BF16 (shift) on load; the scores' softmax is scalar (n_ctx values, not
// head_dim × n_ctx).
#include <immintrin.h>

#include "kernels/cpu/cpu_kernels.h"

namespace r1::kernels::cpu {

namespace {

template <DType D>
inline __m256 load8(const void* base, size_t i) {
  if constexpr (D == DType::F32) {
    return _mm256_loadu_ps(static_cast<const float*>(base) + i);
  } else {
    __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(static_cast<const uint16_t*>(base) + i));
    if constexpr (D == DType::F16)
      return _mm256_cvtph_ps(h);
    else
      return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
  }
}

template <DType D>
inline float load1(const void* base, size_t i) {
  if constexpr (D == DType::F32)
    return static_cast<const float*>(base)[i];
  else if constexpr (D == DType::F16)
    return _cvtsh_ss(static_cast<const uint16_t*>(base)[i]);
  else
    return bf16_to_f32(static_cast<const uint16_t*>(base)[i]);
}

inline float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

template <DType D>
void attention(const float* q, const KvView& kv, size_t kv_head, size_t n_ctx, size_t hd, float scale,
               float* scores, float* out) {
  const size_t hd8 = hd / 8 * 8;
  for (size_t j = 0; j < n_ctx; ++j) {
    const size_t base = kv_slot(kv, j) * kv.slot_stride + kv_head * hd;
    __m256 acc = _mm256_setzero_ps();
    for (size_t d = 0; d < hd8; d += 8)
      acc = _mm256_fmadd_ps(_mm256_loadu_ps(q + d), load8<D>(kv.k, base + d), acc);
    float dot = hsum(acc);
    for (size_t d = hd8; d < hd; ++d) dot += q[d] * load1<D>(kv.k, base + d);
    scores[j] = dot * scale;
  }
  softmax_inplace(scores, n_ctx);
  for (size_t d = 0; d < hd; ++d) out[d] = 0;
  for (size_t j = 0; j < n_ctx; ++j) {
    const size_t base = kv_slot(kv, j) * kv.slot_stride + kv_head * hd;
    const __m256 p = _mm256_set1_ps(scores[j]);
    for (size_t d = 0; d < hd8; d += 8)
      _mm256_storeu_ps(out + d, _mm256_fmadd_ps(p, load8<D>(kv.v, base + d), _mm256_loadu_ps(out + d)));
    for (size_t d = hd8; d < hd; ++d) out[d] += scores[j] * load1<D>(kv.v, base + d);
  }
}

}  // namespace

void avx2_attention(const float* q, const KvView& kv, size_t kv_head, size_t n_ctx, size_t head_dim,
                    float scale, float* scratch, float* out) {
  switch (kv.dtype) {
    case DType::F16:
      attention<DType::F16>(q, kv, kv_head, n_ctx, head_dim, scale, scratch, out);
      break;
    case DType::BF16:
      attention<DType::BF16>(q, kv, kv_head, n_ctx, head_dim, scale, scratch, out);
      break;
    default:
      attention<DType::F32>(q, kv, kv_head, n_ctx, head_dim, scale, scratch, out);
      break;
  }
}

}  // namespace r1::kernels::cpu
