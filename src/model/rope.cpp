#include "model/rope.h"

#include <cmath>

#include "core/error.h"

namespace r1 {

std::vector<float> rope_inv_freq(const ModelConfig& c) {
  const size_t half = c.head_dim / 2;
  std::vector<float> inv(half);
  for (size_t i = 0; i < half; ++i)
    inv[i] = float(1.0 / std::pow(c.rope_theta, double(2 * i) / double(c.head_dim)));
  const RopeScaling& rs = c.rope_scaling;
  if (rs.kind == RopeScaling::Kind::Linear) {
    for (float& f : inv) f = float(f / rs.factor);
  } else if (rs.kind == RopeScaling::Kind::Llama3) {
    // Llama 3.1: long wavelengths are slowed by `factor`, short ones kept, and the band between blended.
    const double low_wavelen = rs.original_max_position_embeddings / rs.low_freq_factor;
    const double high_wavelen = rs.original_max_position_embeddings / rs.high_freq_factor;
    for (float& f : inv) {
      double wavelen = 2 * M_PI / f;
      if (wavelen < high_wavelen) continue;
      if (wavelen > low_wavelen) {
        f = float(f / rs.factor);
      } else {
        double smooth = (rs.original_max_position_embeddings / wavelen - rs.low_freq_factor) /
                        (rs.high_freq_factor - rs.low_freq_factor);
        f = float((1 - smooth) * f / rs.factor + smooth * f);
      }
    }
  }
  if (!c.rope_freq_factors.empty()) {
    R1_CHECK(c.rope_freq_factors.size() == half, "rope_freq_factors [{}] for head_dim {}",
             c.rope_freq_factors.size(), c.head_dim);
    for (size_t i = 0; i < half; ++i) inv[i] /= c.rope_freq_factors[i];
  }
  return inv;
}

}  // namespace r1
