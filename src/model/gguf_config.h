#pragma once
// ModelConfig from a GGUF file: the `<arch>.*` metadata llama.cpp writes for the qwen2 and llama
// architectures, plus what only the tensors say (tied output when output.weight is absent, q/k/v bias,
// Llama 3.1's rope_freqs.weight).
#include "model/gguf_file.h"
#include "model/model_config.h"

namespace r1 {

// Throws r1::Error naming the file and the metadata key on a missing, mistyped or unsupported value.
ModelConfig gguf_model_config(const GgufFile& f);

}  // namespace r1
