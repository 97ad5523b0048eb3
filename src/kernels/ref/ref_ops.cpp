#include "kernels/ref/ref_ops.h"

#include <cmath>

#include "core/error.h"

namespace r1::kernels::ref {

float load_weight(const void* w, DType dtype, size_t i) {
  switch (dtype) {
    case DType::F32: return static_cast<const float*>(w)[i];
    case DType::BF16: return bf16_to_f32(static_cast<const uint16_t*>(w)[i]);
    case DType::F16: return f16_to_f32(static_cast<const uint16_t*>(w)[i]);
    default: R1_CHECK(false, "ref::load_weight: unsupported dtype {}", dtype_name(dtype));
  }
}

void matmul_rows(const float* x, size_t n, size_t k, const void* w, DType w_dtype, size_t row_begin,
                 size_t row_end, float* y, size_t ldy) {
  for (size_t t = 0; t < n; ++t) {
    for (size_t r = row_begin; r < row_end; ++r) {
      double acc = 0;
      for (size_t j = 0; j < k; ++j) acc += double(x[t * k + j]) * load_weight(w, w_dtype, r * k + j);
      y[t * ldy + r] = float(acc);
    }
  }
}

void rmsnorm(const float* x, const float* weight, size_t n, size_t dim, float eps, float* y) {
  for (size_t t = 0; t < n; ++t) {
    double ss = 0;
    for (size_t i = 0; i < dim; ++i) ss += double(x[t * dim + i]) * x[t * dim + i];
    float inv = float(1.0 / std::sqrt(ss / double(dim) + eps));
    for (size_t i = 0; i < dim; ++i) y[t * dim + i] = x[t * dim + i] * inv * weight[i];
  }
}

void rope_rotate_half(float* x, size_t n_tokens, size_t n_heads, size_t head_dim, const int32_t* positions,
                      const float* inv_freq) {
  size_t half = head_dim / 2;
  for (size_t t = 0; t < n_tokens; ++t) {
    for (size_t i = 0; i < half; ++i) {
      // Angle in float, as Hugging Face computes it (inv_freq.float() @ position_ids.float()).
      float angle = float(positions[t]) * inv_freq[i];
      float c = std::cos(angle), s = std::sin(angle);
      for (size_t h = 0; h < n_heads; ++h) {
        float* v = x + (t * n_heads + h) * head_dim;
        float x0 = v[i], x1 = v[i + half];
        v[i] = x0 * c - x1 * s;
        v[i + half] = x1 * c + x0 * s;
      }
    }
  }
}

void silu_mul(const float* gate, const float* up, float* out, size_t n) {
  for (size_t i = 0; i < n; ++i) out[i] = gate[i] / (1.0f + std::exp(-gate[i])) * up[i];
}

void softmax(float* x, size_t n) {
  float mx = -INFINITY;
  for (size_t i = 0; i < n; ++i) mx = std::max(mx, x[i]);
  double sum = 0;
  for (size_t i = 0; i < n; ++i) {
    x[i] = std::exp(x[i] - mx);
    sum += x[i];
  }
  float inv = float(1.0 / sum);
  for (size_t i = 0; i < n; ++i) x[i] *= inv;
}

void attention_one(const float* q, const PagedKv& kv, size_t kv_head, size_t n_ctx, size_t head_dim,
                   float scale, float* scratch, float* out) {
  auto slot = [&](size_t j) {
    return size_t(kv.block_table[j / kv.block_size]) * kv.block_size + j % kv.block_size;
  };
  for (size_t j = 0; j < n_ctx; ++j) {
    const float* kj = kv.k + slot(j) * kv.slot_stride + kv_head * head_dim;
    double dot = 0;
    for (size_t d = 0; d < head_dim; ++d) dot += double(q[d]) * kj[d];
    scratch[j] = float(dot) * scale;
  }
  softmax(scratch, n_ctx);
  for (size_t d = 0; d < head_dim; ++d) out[d] = 0;
  for (size_t j = 0; j < n_ctx; ++j) {
    const float* vj = kv.v + slot(j) * kv.slot_stride + kv_head * head_dim;
    for (size_t d = 0; d < head_dim; ++d) out[d] += scratch[j] * vj[d];
  }
}

}  // namespace r1::kernels::ref
