#pragma once
// A GGUF file's tensors as the decoder's weights: llama.cpp's names (token_embd, blk.N.attn_q, ...) mapped to
// the Hugging Face names the decoder loads, shapes checked against the config, and every stored type decoded
// row by row to floats (exactly, by the scalar block decoders).
#include <string>
#include <vector>

#include "model/gguf_file.h"
#include "model/model_config.h"
#include "model/weights.h"

namespace r1 {

// The Hugging Face name for a GGUF tensor name ("blk.3.attn_q.weight" -> "model.layers.3.self_attn.q_proj.
// weight"), or "" for one the decoder has no use for.
std::string hf_name_of_gguf_tensor(const std::string& gguf_name);

// Checks that the file holds exactly the tensors `c` implies (rope_freqs.weight aside), each with the shape
// the metadata implies. Throws r1::Error naming the file and the tensor otherwise.
void check_gguf_tensors(const GgufFile& f, const ModelConfig& c);

// The tensors as sources for Weights::build, by Hugging Face name. Float tensors are read in place; block
// formats are decoded a row at a time, and also give their blocks as stored, which --dtype auto moves into
// the int8 kernels' tiles unchanged (every block format GGUF files of these models hold: Q8_0, Q4_0, Q4_1,
// Q5_0, Q5_1, Q4_K, Q5_K, Q6_K). A llama-architecture file's q/k rows are put back in Hugging Face's
// rotate-half order: llama.cpp's converter interleaves each head's halves for its own RoPE. `f` must outlive
// the sources.
TensorSourceFn gguf_tensor_source(const GgufFile& f, const ModelConfig& c);

// Decodes n values of type t (n a multiple of its block) from `src` into out [n].
void dequantize_gguf(GgmlType t, const void* src, float* out, size_t n);

}  // namespace r1
