// The real ModelExecutor: the Decoder over a KvCache holding the engine's block pool.
#include <optional>

#include "engine/generator.h"
#include "engine/model_executor.h"

namespace r1 {

namespace {

class DecoderExecutor final : public ModelExecutor {
 public:
  DecoderExecutor(const LoadedModel& m, ThreadPool& pool, DType kv_dtype)
      : m_(m), decoder_(m.package.config(), m.weights, pool), kv_dtype_(kv_dtype) {}

  size_t vocab_size() const override { return config().vocab_size; }
  size_t max_position_embeddings() const override { return config().max_position_embeddings; }
  std::vector<int32_t> eos_token_ids() const override {
    const auto& g = m_.package.generation_config().eos_token_ids;
    const auto& ids = g.empty() ? config().eos_token_ids : g;
    return {ids.begin(), ids.end()};
  }
  size_t block_bytes(size_t block_size) const override {
    return KvCache::block_bytes(config(), block_size, kv_dtype_);
  }
  void allocate_kv(size_t n_blocks, size_t block_size) override {
    kv_.emplace(config(), n_blocks, block_size, kv_dtype_);
  }
  void forward(const ForwardBatch& batch, float* logits) override { decoder_.forward(batch, *kv_, logits); }
  ThreadPool* thread_pool() override { return &decoder_.pool(); }

 private:
  const ModelConfig& config() const { return m_.package.config(); }
  const LoadedModel& m_;
  Decoder decoder_;
  DType kv_dtype_;
  std::optional<KvCache> kv_;
};

}  // namespace

std::unique_ptr<ModelExecutor> make_decoder_executor(const LoadedModel& model, ThreadPool& pool,
                                                     DType kv_dtype) {
  return std::make_unique<DecoderExecutor>(model, pool, kv_dtype);
}

}  // namespace r1
