#pragma once
// The decoder's weights in ordinary memory, in the precision the kernels read: matrices as F32/BF16/F16
// (widened to F32 under WeightPrecision::F32) or packed Q8_0/Q4_0 tiles (kernels/quant.h); norms and biases
// always F32.
#include <functional>
#include <string>
#include <vector>

#include "core/aligned_buffer.h"
#include "core/mapped_file.h"
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
// A GGUF file's Q8_0/Q4_0 tensor also gives its rows' blocks, which become the kernels' tiles unchanged when
// the target format is the stored one (--dtype auto): a Q4_0 file stays 4-bit and bit-identical in memory.
struct TensorSource {
  DType dtype = DType::F32;                          // as stored; F32, BF16, F16, or a block format with `blocks`
  const void* data = nullptr;                        // [rows, cols] when in memory
  std::function<void(size_t row, float* out)> row;   // out: [cols]; used when data is null
  std::function<const uint8_t*(size_t row)> blocks;  // row's ggml blocks in `dtype`, for block formats
};
// name and shape (outermost first) of a tensor Hugging Face's modeling code has -> its source.
using TensorSourceFn = std::function<TensorSource(const std::string& name, const std::vector<size_t>& shape)>;

// One tensor of the decoder as the kernels hold it: its Hugging Face name, [rows, cols] (rows = 1 for a
// vector), and the format it has at a given precision.
struct WeightSpec {
  std::string name;
  size_t rows = 0, cols = 0;
  DType dtype = DType::F32;
};
// Every tensor config `c` implies, in load order, in the format `p` gives it (p must not be Auto: under Auto
// the format depends on the files).
std::vector<WeightSpec> weight_specs(const ModelConfig& c, WeightPrecision p);

class Weights {
 public:
  // Checks that the package holds exactly the tensors the config implies, each with the right shape and a
  // float dtype, then copies them into owned memory at the requested precision.
  // Throws r1::Error naming the file and tensor on a missing, extra, misshapen or mistyped tensor.
  // A package whose weights are a packed weight file (pkg.packed_path()) is read from it instead, with no
  // conversion (model/packed_weights.h); `precision` must then be Auto or the file's.
  static Weights load(const ModelPackage& pkg, WeightPrecision precision);
  // The checks load() makes on the package's tensors (names, shapes, dtypes), without converting anything.
  static void check(const ModelPackage& pkg);
  // Builds weights for config `c` from any source of the tensors (no checks beyond the shapes asked for).
  static Weights build(const ModelConfig& c, WeightPrecision precision, const TensorSourceFn& source);

  kernels::WeightMatrix embed;    // [vocab, hidden]
  const float* final_norm;        // [hidden]
  kernels::WeightMatrix lm_head;  // [vocab, hidden]; the embedding when tied
  std::vector<LayerWeights> layers;
  // Every tensor in load order (weight_specs' order) with where it lives: what a packed weight file holds.
  struct Placed {
    WeightSpec spec;
    const void* data;  // [rows, cols] in spec.dtype
    size_t bytes;
  };
  const std::vector<Placed>& placed() const { return placed_; }
  // Weights over tensors already in their final format, all inside `storage` (the packed file's loader).
  static Weights assemble(const ModelConfig& c, AlignedBuffer storage, std::vector<Placed> placed);
  // The same over a locked mapping of the packed file (MappedFile::lock_on_fault), used in place: the
  // mapping lives, and its pages stay pinned, exactly as long as these weights.
  static Weights assemble(const ModelConfig& c, MappedFile storage, std::vector<Placed> placed);
  // Whether the weights are used in place from a file mapping (else they were copied or converted).
  bool mapped() const { return !mappings_.empty(); }
  size_t bytes() const;
  // Bytes of weights one decode step streams from memory: every layer matrix and the LM head (the embedding
  // is only looked up).
  size_t streamed_bytes_per_token() const;

 private:
  // Points embed, lm_head and layers at placed_.
  void link(const ModelConfig& c);
  std::vector<AlignedBuffer> buffers_;
  std::vector<MappedFile> mappings_;
  std::vector<Placed> placed_;
};

// Bytes a matrix occupies in its format.
size_t matrix_bytes(const kernels::WeightMatrix& m);

}  // namespace r1
