#pragma once
// A GGUF v3 file of random weights in a distill's exact shape, for benchmarking llama.cpp on the same machine
// as r1serve (bench/llamacpp). The values are those of `r1serve perf --load-format dummy` (same generator,
// same seed), stored as llama.cpp names and lays them out; the vocabulary is a stand-in of the right size.
#include <cstdint>
#include <string>
#include <vector>

#include "model/gguf_file.h"
#include "model/model_config.h"

namespace r1::gguf {

// GGML tensor types: the reader's (ggml.h's enum ggml_type ids, with their block sizes and names).
using GgmlType = r1::GgmlType;

// What the file is. Q8_0, Q4_0, F16: every layer matrix in that type; Q8_0 and F16 keep the embedding and
// the output matrix in the same type; Q4_0 keeps them in Q8_0, as `r1serve --dtype q4` does (llama-quantize
// would choose Q6_K for the output matrix of a Q4_0 model). The k-quant mixes Q4_K_M, Q5_K_M and Q6_K give
// each matrix the type llama-quantize gives it for that file type (matrix_type in dummy_gguf.cpp).
enum class FileType { Q8_0, Q4_0, F16, Q4_K_M, Q5_K_M, Q6_K };
// "q8_0", "q4_0", "f16", "q4_k_m", "q5_k_m" or "q6_k"; throws r1::Error otherwise.
FileType parse_file_type(const std::string& s);
std::string file_type_name(FileType t);

struct TensorInfo {
  std::string name;          // llama.cpp's name: "blk.3.attn_q.weight"
  std::string source;        // the Hugging Face tensor whose random values it holds ("" for rope_freqs)
  std::vector<uint64_t> ne;  // GGUF order: ne[0] is the innermost (columns)
  GgmlType type = GgmlType::F32;
  uint64_t offset = 0;  // from the start of the data section; a multiple of kAlignment
  uint64_t bytes = 0;
};

inline constexpr uint64_t kAlignment = 32;

// The tensors of the file for config `c`, in file order, with their offsets. Throws r1::Error when a matrix's
// columns are not a multiple of its block (32; 256 for the k-quants).
std::vector<TensorInfo> plan_tensors(const ModelConfig& c, FileType t);

// "qwen2" for Qwen2ForCausalLM, "llama" for LlamaForCausalLM.
std::string gguf_architecture(const ModelConfig& c);

struct WriteOptions {
  FileType type = FileType::Q8_0;
  uint64_t seed = 1;  // r1serve's dummy weights use seed 1
  int threads = 0;    // 0: all cores
  std::string name;   // general.name; default "r1serve dummy <architecture>"
};

struct WriteSummary {
  size_t n_tensors = 0;
  size_t n_kv = 0;
  uint64_t data_offset = 0;  // where the data section starts in the file
  uint64_t file_bytes = 0;
};

// Writes the whole file tensor by tensor (never more than a few MB of weights in memory). Throws r1::Error
// naming the path on an I/O error.
WriteSummary write_dummy_gguf(const ModelConfig& c, const std::string& path, const WriteOptions& opt);

}  // namespace r1::gguf
