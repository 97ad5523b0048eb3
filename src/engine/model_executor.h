#pragma once
// What the engine needs from a model: the size of its KV blocks and one batched forward pass over paged KV.
// DecoderExecutor runs the real Decoder; tests use a fake executor that stands in for the compute, so the
// scheduler, KV manager and prefix cache can be tested with no model at all.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "model/decoder.h"

namespace r1 {

struct LoadedModel;
class ThreadPool;

class ModelExecutor {
 public:
  virtual ~ModelExecutor() = default;
  virtual size_t vocab_size() const = 0;
  virtual size_t max_position_embeddings() const = 0;
  // The model's EOS ids (generation_config.json, else config.json).
  virtual std::vector<int32_t> eos_token_ids() const = 0;
  // Bytes of KV one block of `block_size` positions takes (all layers, K and V).
  virtual size_t block_bytes(size_t block_size) const = 0;
  // Allocates the block pool's memory; called once before the first forward.
  virtual void allocate_kv(size_t n_blocks, size_t block_size) = 0;
  // Appends the batch's tokens to their sequences' KV blocks; writes logits [logit_rows.size(), vocab].
  virtual void forward(const ForwardBatch& batch, float* logits) = 0;
  // The threads the forward pass runs on, idle between passes, so the runner can sample a batch's rows on
  // them in parallel; nullptr: sample on the calling thread.
  virtual ThreadPool* thread_pool() { return nullptr; }
};

// The real model: Decoder + KvCache. `model` and `pool` must outlive it.
std::unique_ptr<ModelExecutor> make_decoder_executor(const LoadedModel& model, ThreadPool& pool,
                                                     DType kv_dtype = DType::F32);

}  // namespace r1
