#pragma once
// ONE decoder forward pass for Qwen2 and Llama 3.x: pre-norm blocks of GQA attention with rotary embeddings
// and a SiLU-gated MLP. What differs between the architectures is data in ModelConfig and Weights.
#include <cstdint>
#include <initializer_list>
#include <vector>

#include "core/thread_pool.h"
#include "model/kv_cache.h"
#include "model/model_config.h"
#include "model/weights.h"

namespace r1 {

// The tokens of one sequence inside a batch: they are the next n_tokens of the sequence, at positions
// [start_pos, start_pos + n_tokens); earlier positions are already in the KV cache.
struct SequenceSlice {
  size_t first_token = 0;  // index of its first token in ForwardBatch::tokens
  size_t n_tokens = 0;
  size_t start_pos = 0;
  const int32_t* block_table = nullptr;  // KV blocks for positions [0, start_pos + n_tokens)
};

struct ForwardBatch {
  std::vector<int32_t> tokens;      // [n_tokens]
  std::vector<SequenceSlice> seqs;  // cover tokens in order, without gaps
  std::vector<int32_t> logit_rows;  // token indices whose logits are wanted, in output order
};

class Decoder {
 public:
  Decoder(const ModelConfig& c, const Weights& w, ThreadPool& pool);

  // Appends each sequence's tokens to its KV blocks and writes logits [logit_rows.size(), vocab].
  // Token ids must be < vocab_size (checked).
  void forward(const ForwardBatch& batch, KvCache& kv, float* logits);

  const ModelConfig& config() const { return c_; }
  ThreadPool& pool() { return pool_; }

 private:
  void embed(const ForwardBatch& b);
  void attention_layer(size_t layer, const ForwardBatch& b, KvCache& kv);
  void mlp_layer(size_t layer, size_t n);
  // out_i[n, m_i.rows] = x[n, cols] · m_iᵀ (+ bias_i) for matrices that read the same input, which is
  // quantized once when they are in a block format.
  struct Projection {
    const kernels::WeightMatrix& w;
    const float* bias;
    float* out;
  };
  void project(const float* x, size_t n, std::initializer_list<Projection> ps);

  const ModelConfig& c_;
  const Weights& w_;
  ThreadPool& pool_;
  std::vector<float> inv_freq_;  // [head_dim / 2]
  // Activations, resized per batch.
  std::vector<float> x_, xn_, q_, k_, v_, attn_, gate_, up_;  // [n, ...]
  std::vector<int32_t> positions_, seq_of_token_;             // [n]
  std::vector<std::vector<float>> scores_;                    // per thread: [query heads per KV head × context]
  kernels::QuantizedActs xq_;  // the current matmul input quantized per block (block-format weights only)
};

}  // namespace r1
