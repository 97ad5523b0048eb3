#pragma once
// Continuous batching: decides, each step, which tokens of which requests go into one forward pass.
//
// Policy (vLLM v1's, simplified): running requests first, in arrival order, each getting its next token (a
// decode) or its next prefill chunk; then, if nobody was preempted this step, waiting requests in order, each
// with as much of its prompt as the token budget left allows (chunked prefill), up to max_num_seqs running.
// When the KV pool cannot hold a running request's next tokens, the NEWEST running request is preempted: its
// blocks are freed and it goes back to the front of the queue to be recomputed later.
// The scheduler touches no model: the engine runs the plan and reports sampled tokens to on_step_done().
#include <cstddef>
#include <cstdint>
#include <deque>
#include <span>
#include <vector>

#include "engine/kv_cache_manager.h"
#include "engine/request.h"

namespace r1 {

struct SchedulerConfig {
  size_t max_num_seqs = 64;
  size_t max_batch_tokens = 2048;
};

// One request's share of a step: tokens[start, start + n_tokens) get their KV computed.
struct ScheduledChunk {
  Request* req = nullptr;
  size_t start = 0;
  size_t n_tokens = 0;
  bool samples = false;  // the chunk reaches the request's last known token: its logits give the next token
};

struct StepPlan {
  std::vector<ScheduledChunk> chunks;
  size_t n_tokens = 0;
  std::vector<Request*> preempted;  // this step
  std::vector<Request*> failed;     // finished with reason error: they can never fit
  bool empty() const { return chunks.empty(); }
};

struct SchedulerCounters {
  uint64_t preemptions = 0;
  uint64_t prefix_queries = 0, prefix_hits = 0;  // tokens
  uint64_t prompt_tokens = 0, generation_tokens = 0;
};

class Scheduler {
 public:
  Scheduler(SchedulerConfig cfg, KvCacheManager& kv);

  void add(Request* r);  // joins the waiting queue's tail
  StepPlan schedule();
  // After the forward pass of `plan`: advances computed counts, registers full blocks in the prefix cache,
  // appends `sampled` (one id per chunk with samples, in plan order) and finishes requests that hit a stop id
  // or max_tokens. Returns the requests finished by this step (their blocks are already freed).
  std::vector<Request*> on_step_done(const StepPlan& plan, std::span<const int32_t> sampled);
  // Finishes a request wherever it is (waiting or running) and frees its blocks.
  void finish(Request* r, FinishReason reason);

  size_t num_running() const { return running_.size(); }
  size_t num_waiting() const { return waiting_.size(); }
  bool has_work() const { return !running_.empty() || !waiting_.empty(); }
  const std::vector<Request*>& running() const { return running_; }
  const std::deque<Request*>& waiting() const { return waiting_; }
  const SchedulerCounters& counters() const { return counters_; }

 private:
  void preempt(Request* r);
  bool can_never_fit(const Request* r) const;
  void fail(Request* r, StepPlan& plan, std::string why);
  bool is_stop(const Request* r, int32_t id) const;

  SchedulerConfig cfg_;
  KvCacheManager& kv_;
  std::vector<Request*> running_;  // arrival order: back() is the newest
  std::deque<Request*> waiting_;
  SchedulerCounters counters_;
};

}  // namespace r1
