// Attention over the paged KV cache in plain C++ (float accumulation, F32/F16/BF16 elements): the kernel for
// CPUs without AVX2. The oracle is ref::attention_one (double accumulation, F32 cache).
#include "kernels/cpu/cpu_kernels.h"

namespace r1::kernels::cpu {

namespace {
inline float load_kv(const void* base, DType dt, size_t i) {
  switch (dt) {
    case DType::F16:
      return f16_to_f32(static_cast<const uint16_t*>(base)[i]);
    case DType::BF16:
      return bf16_to_f32(static_cast<const uint16_t*>(base)[i]);
    default:
      return static_cast<const float*>(base)[i];
  }
}
}  // namespace

namespace {
void attention_one(const float* q, const KvView& kv, size_t kv_head, size_t n_ctx, size_t head_dim, float scale,
                   float* scratch, float* out) {
  for (size_t j = 0; j < n_ctx; ++j) {
    const size_t base = kv_slot(kv, j) * kv.slot_stride + kv_head * head_dim;
    float dot = 0;
    for (size_t d = 0; d < head_dim; ++d) dot += q[d] * load_kv(kv.k, kv.dtype, base + d);
    scratch[j] = dot * scale;
  }
  softmax_inplace(scratch, n_ctx);
  for (size_t d = 0; d < head_dim; ++d) out[d] = 0;
  for (size_t j = 0; j < n_ctx; ++j) {
    const size_t base = kv_slot(kv, j) * kv.slot_stride + kv_head * head_dim;
    for (size_t d = 0; d < head_dim; ++d) out[d] += scratch[j] * load_kv(kv.v, kv.dtype, base + d);
  }
}

}  // namespace

void scalar_attention(const float* q, size_t n_q, size_t q_stride, const KvView& kv, size_t kv_head,
                      size_t n_ctx, size_t head_dim, float scale, float* scratch, float* out, size_t out_stride) {
  for (size_t h = 0; h < n_q; ++h)
    attention_one(q + h * q_stride, kv, kv_head, n_ctx, head_dim, scale, scratch, out + h * out_stride);
}

}  // namespace r1::kernels::cpu
