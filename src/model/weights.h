#pragma once
// The decoder's weights in ordinary memory, in the precision the kernels read: matrices as F32/BF16/F16
// (widened to F32 under WeightPrecision::F32) or packed Q8_0/Q4_0 tiles (kernels/quant.h); norms and biases
// always F32.
#include <functional>
#include <string>
#include <vector>

#include "core/aligned_buffer.h"
#include "kernels/ops.h"
#include "model/model_package.h"

namespace r1 {

enum class WeightPrecision {
  Auto,  // keep each matrix as stored (BF16, F16 or F32)
  F32,   // widen every weight to F32 (the golden-test path)
  BF16,  // convert matrices to BF16
  Q8,    // every matrix Q8_0 (GGUF layout, repacked)
  Q4,    // layer matrices Q4_0; embedding and LM head Q8_0 (they decide the token, and cost 1/8 of the bytes)
};
// Parses "auto", "f32", "bf16", "q8", "q4"; throws r1::Error otherwise.
WeightPrecision parse_weight_precision(const std::string& s);
std::string weight_precision_name(WeightPrecision p);

struct LayerWeights {
  const float* attn_norm;                      // [hidden]
  kernels::WeightMatrix wq, wk, wv, wo;        // [q_dim, hidden], [kv_dim, hidden] x2, [hidden, q_dim]
  const float* bq = nullptr;                   // [q_dim] (Qwen2)
  const float* bk = nullptr;                   // [kv_dim]
  const float* bv = nullptr;                   // [kv_dim]
  const float* ffn_norm;                       // [hidden]
  kernels::WeightMatrix w_gate, w_up, w_down;  // [ffn, hidden] x2, [hidden, ffn]
};

// Where a tensor's values come from while building Weights: a whole tensor in memory (a file mapping), or a
// function that produces one row at a time as floats (random weights), so no full F32 copy is ever made.
struct TensorSource {
  DType dtype = DType::F32;                         // as stored; F32, BF16 or F16
  const void* data = nullptr;                       // [rows, cols] when in memory
  std::function<void(size_t row, float* out)> row;  // out: [cols]; used when data is null
};
// name and shape (outermost first) of a tensor Hugging Face's modeling code has -> its source.
using TensorSourceFn = std::function<TensorSource(const std::string& name, const std::vector<size_t>& shape)>;

class Weights {
 public:
  // Checks that the package holds exactly the tensors the config implies, each with the right shape and a
  // float dtype, then copies them into owned memory at the requested precision.
  // Throws r1::Error naming the file and tensor on a missing, extra, misshapen or mistyped tensor.
  static Weights load(const ModelPackage& pkg, WeightPrecision precision);
  // Builds weights for config `c` from any source of the tensors (no checks beyond the shapes asked for).
  static Weights build(const ModelConfig& c, WeightPrecision precision, const TensorSourceFn& source);

  kernels::WeightMatrix embed;    // [vocab, hidden]
  const float* final_norm;        // [hidden]
  kernels::WeightMatrix lm_head;  // [vocab, hidden]; the embedding when tied
  std::vector<LayerWeights> layers;
  size_t bytes() const;
  // Bytes of weights one decode step streams from memory: every layer matrix and the LM head (the embedding
  // is only looked up).
  size_t streamed_bytes_per_token() const;

 private:
  std::vector<AlignedBuffer> buffers_;
};

// Bytes a matrix occupies in its format.
size_t matrix_bytes(const kernels::WeightMatrix& m);

}  // namespace r1
