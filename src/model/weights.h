#pragma once
// The decoder's weights in ordinary memory, in the precision the kernels read: matrices as F32/BF16/F16
// (widened to F32 under WeightPrecision::F32), norms and biases always F32.
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
};
// Parses "auto", "f32", "bf16"; throws r1::Error otherwise.
WeightPrecision parse_weight_precision(const std::string& s);
// The flag spelling of a precision ("auto", "f32", "bf16").
std::string weight_precision_name(WeightPrecision p);

struct LayerWeights {
  const float* attn_norm;  // [hidden]
  kernels::WeightMatrix wq, wk, wv, wo;  // [q_dim, hidden], [kv_dim, hidden] x2, [hidden, q_dim]
  const float* bq = nullptr;  // [q_dim] (Qwen2)
  const float* bk = nullptr;  // [kv_dim]
  const float* bv = nullptr;  // [kv_dim]
  const float* ffn_norm;  // [hidden]
  kernels::WeightMatrix w_gate, w_up, w_down;  // [ffn, hidden] x2, [hidden, ffn]
};

class Weights {
 public:
  // Checks that the package holds exactly the tensors the config implies, each with the right shape and a
  // float dtype, then copies them into owned memory at the requested precision.
  // Throws r1::Error naming the file and tensor on a missing, extra, misshapen or mistyped tensor.
  static Weights load(const ModelPackage& pkg, WeightPrecision precision);

  kernels::WeightMatrix embed;    // [vocab, hidden]
  const float* final_norm;        // [hidden]
  kernels::WeightMatrix lm_head;  // [vocab, hidden]; the embedding when tied
  std::vector<LayerWeights> layers;
  size_t bytes() const;

 private:
  std::vector<AlignedBuffer> buffers_;
};

}  // namespace r1
