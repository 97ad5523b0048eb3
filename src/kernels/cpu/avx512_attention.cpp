// Attention over the paged KV cache with AVX-512: 16 elements of a K or V row per instruction (masked tail),
// widened from F16 (vcvtph2ps) or BF16 (shift) on load; the scores' softmax is scalar.
#include <immintrin.h>

#include "kernels/cpu/cpu_kernels.h"

namespace r1::kernels::cpu {

namespace {

template <DType D>
inline __m512 load16(const void* base, size_t i, __mmask16 m) {
  if constexpr (D == DType::F32) {
    return _mm512_maskz_loadu_ps(m, static_cast<const float*>(base) + i);
  } else {
    __m256i h = _mm256_maskz_loadu_epi16(m, static_cast<const uint16_t*>(base) + i);
    if constexpr (D == DType::F16)
      return _mm512_cvtph_ps(h);
    else
      return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
  }
}

inline __mmask16 tail_mask(size_t left) {
  return left >= 16 ? __mmask16(0xffff) : __mmask16((1u << left) - 1);
}

template <DType D>
void attention(const float* q, const KvView& kv, size_t kv_head, size_t n_ctx, size_t hd, float scale,
               float* scores, float* out) {
  for (size_t j = 0; j < n_ctx; ++j) {
    const size_t base = kv_slot(kv, j) * kv.slot_stride + kv_head * hd;
    __m512 acc = _mm512_setzero_ps();
    for (size_t d = 0; d < hd; d += 16) {
      __mmask16 m = tail_mask(hd - d);
      acc = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, q + d), load16<D>(kv.k, base + d, m), acc);
    }
    scores[j] = _mm512_reduce_add_ps(acc) * scale;
  }
  softmax_inplace(scores, n_ctx);
  for (size_t d = 0; d < hd; ++d) out[d] = 0;
  for (size_t j = 0; j < n_ctx; ++j) {
    const size_t base = kv_slot(kv, j) * kv.slot_stride + kv_head * hd;
    const __m512 p = _mm512_set1_ps(scores[j]);
    for (size_t d = 0; d < hd; d += 16) {
      __mmask16 m = tail_mask(hd - d);
      _mm512_mask_storeu_ps(
          out + d, m, _mm512_fmadd_ps(p, load16<D>(kv.v, base + d, m), _mm512_maskz_loadu_ps(m, out + d)));
    }
  }
}

}  // namespace

void avx512_attention(const float* q, size_t n_q, size_t q_stride, const KvView& kv, size_t kv_head,
                      size_t n_ctx, size_t head_dim, float scale, float* scratch, float* out, size_t out_stride) {
  // One head at a time (K/V rows are re-read per head; the AVX2 kernel shares them across the group).
  for (size_t h = 0; h < n_q; ++h) {
    const float* qh = q + h * q_stride;
    float* oh = out + h * out_stride;
    switch (kv.dtype) {
      case DType::F16:
        attention<DType::F16>(qh, kv, kv_head, n_ctx, head_dim, scale, scratch, oh);
        break;
      case DType::BF16:
        attention<DType::BF16>(qh, kv, kv_head, n_ctx, head_dim, scale, scratch, oh);
        break;
      default:
        attention<DType::F32>(qh, kv, kv_head, n_ctx, head_dim, scale, scratch, oh);
        break;
    }
  }
}

}  // namespace r1::kernels::cpu
