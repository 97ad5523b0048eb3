#pragma once
// Rotary embedding frequencies for a config, with its rope scaling applied (linear or Llama 3.1's).
#include <vector>

#include "model/model_config.h"

namespace r1 {

// inv_freq[i] for i < head_dim / 2, as Hugging Face's rope init functions compute them.
std::vector<float> rope_inv_freq(const ModelConfig& c);

}  // namespace r1
