#pragma once
// Runs one StepPlan: gathers the scheduled tokens and block tables into a ForwardBatch, runs the executor,
// and samples one token for every chunk that reaches its request's end, with that request's own sampler
// (so a seeded request draws the same tokens alone or in any batch). The rows of a batch are sampled in
// parallel on the executor's threads. Logprobs come from the raw logits, prompt logprobs too (a row for each
// prompt position of a request that asked for them).
#include <cstdint>
#include <vector>

#include "engine/kv_cache_manager.h"
#include "engine/model_executor.h"
#include "engine/request.h"
#include "engine/scheduler.h"

namespace r1 {

class ModelRunner {
 public:
  ModelRunner(ModelExecutor& exec, const KvCacheManager& kv);

  // Returns one sampled id per sampling chunk, in plan order; logprobs (when asked) go to the request's
  // unreported_logprobs.
  std::vector<int32_t> execute(const StepPlan& plan);

 private:
  ModelExecutor& exec_;
  const KvCacheManager& kv_;
  ForwardBatch batch_;
  std::vector<float> logits_;          // [rows, vocab]
  std::vector<Request*> sampling_;     // the request of each sampled row
  std::vector<size_t> sampling_rows_;  // [sampling_.size()]: its row of logits_
  struct Scored {
    Request* req;
    size_t position;  // the prompt position whose logits score token position + 1
    size_t row;       // its row of logits_
  };
  std::vector<Scored> scored_;  // prompt positions scored this step (prompt_logprobs), in row order
  std::vector<std::vector<float>> raw_rows_;  // per thread [vocab]: a row before the sampler changes it
};

// The request's sampler under its output constraint (when it has one): the constraint's mask restricts the
// row, the sampled token advances the constraint, and a constraint that completes or fails marks the request
// for the scheduler (constraint_complete / constraint_error).
int32_t sample_constrained(Request& r, std::span<float> logits);

// log-softmax of `logits` at `id`, plus the `top_n` most likely ids (ties: lower id first).
TokenLogprob token_logprob(std::span<const float> logits, int32_t id, int top_n);

}  // namespace r1
