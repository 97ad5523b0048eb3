#include "engine/scheduler.h"

#include <algorithm>

#include "core/error.h"

namespace r1 {

Scheduler::Scheduler(SchedulerConfig cfg, KvCacheManager& kv) : cfg_(cfg), kv_(kv) {
  R1_CHECK(cfg_.max_num_seqs > 0 && cfg_.max_batch_tokens > 0, "empty scheduler budget");
}

void Scheduler::add(Request* r) {
  r->status = RequestStatus::waiting;
  waiting_.push_back(r);
}

void Scheduler::preempt(Request* r) {
  kv_.free(r->seq);
  r->num_computed = 0;
  r->status = RequestStatus::preempted;
  ++r->num_preemptions;
  ++counters_.preemptions;
  waiting_.push_front(r);
}

// Running alone with the whole pool, the request would still run out of blocks before max_tokens: admitting
// it would only preempt it forever.
bool Scheduler::can_never_fit(const Request* r) const {
  size_t most_tokens = r->num_prompt + r->params.max_tokens;
  return kv_.blocks_for(most_tokens) > kv_.n_blocks();
}

void Scheduler::fail(Request* r, StepPlan& plan, std::string why) {
  finish(r, FinishReason::error);
  r->error = std::move(why);
  plan.failed.push_back(r);
}

StepPlan Scheduler::schedule() {
  StepPlan plan;
  size_t budget = cfg_.max_batch_tokens;

  // 1. Running requests: one decode token each, or the next chunk of an unfinished prefill.
  for (size_t i = 0; i < running_.size() && budget > 0;) {
    Request* r = running_[i];
    size_t n = std::min(r->tokens.size() - r->num_computed, budget);
    if (r->scores_prompt()) n = std::min(n, kPromptLogprobsChunk);
    R1_CHECK(n > 0, "running request {} has nothing to compute", r->id());
    bool self_preempted = false;
    while (!kv_.allocate(r->seq, r->num_computed, n, nullptr)) {
      Request* victim = running_.back();
      running_.pop_back();
      preempt(victim);
      plan.preempted.push_back(victim);
      if (victim == r) {
        self_preempted = true;
        break;
      }
    }
    if (self_preempted) break;  // r was the newest: nothing after it is left to schedule
    bool samples = r->num_computed + n == r->tokens.size();
    plan.chunks.push_back({r, r->num_computed, n, samples});
    plan.n_tokens += n;
    budget -= n;
    ++i;
  }

  // 2. Waiting requests, oldest (and preempted) first, while budget, sequence slots and blocks allow.
  if (plan.preempted.empty()) {
    while (!waiting_.empty() && budget > 0 && running_.size() < cfg_.max_num_seqs) {
      Request* r = waiting_.front();
      if (can_never_fit(r)) {
        fail(
            r, plan,
            fmt::format("request {} needs up to {} tokens of KV ({} prompt + {} max_tokens) but the KV cache "
                        "holds {} tokens",
                        r->id(), r->num_prompt + r->params.max_tokens, r->num_prompt, r->params.max_tokens,
                        kv_.n_blocks() * kv_.block_size()));
        continue;
      }
      // A prompt to be scored is computed from its first token: cached blocks have no logits to score with.
      PrefixHit hit = r->scores_prompt() ? PrefixHit{} : kv_.find_prefix(r->tokens);
      size_t start = hit.num_tokens();
      size_t n = std::min(r->tokens.size() - start, budget);
      if (r->scores_prompt()) n = std::min(n, kPromptLogprobsChunk);
      if (!kv_.allocate(r->seq, start, n, &hit)) break;  // wait for blocks; order is kept (no overtaking)
      counters_.prefix_queries += r->tokens.size();
      counters_.prefix_hits += start;
      if (!r->scheduled_once) {
        r->scheduled_once = true;
        r->cached_prompt_tokens = std::min(start, r->num_prompt);
        r->scheduled_time = Clock::now();
      }
      r->num_computed = start;
      r->status = RequestStatus::running;
      waiting_.pop_front();
      running_.push_back(r);
      bool samples = start + n == r->tokens.size();
      plan.chunks.push_back({r, start, n, samples});
      plan.n_tokens += n;
      budget -= n;
    }
  }
  return plan;
}

bool Scheduler::is_stop(const Request* r, int32_t id) const {
  auto has = [id](const std::vector<int32_t>& v) { return std::find(v.begin(), v.end(), id) != v.end(); };
  return has(r->params.stop_token_ids) || (!r->params.ignore_eos && has(r->eos_ids));
}

std::vector<Request*> Scheduler::on_step_done(const StepPlan& plan, std::span<const int32_t> sampled) {
  std::vector<Request*> done;
  size_t k = 0;
  for (const ScheduledChunk& c : plan.chunks) {
    Request* r = c.req;
    if (r->finished()) continue;  // aborted while the step ran (never: aborts apply between steps)
    R1_CHECK(r->num_computed == c.start, "request {} moved during its step", r->id());
    r->num_computed += c.n_tokens;
    kv_.cache_computed(r->seq, r->tokens, r->num_computed);
    if (!c.samples) continue;
    R1_CHECK(k < sampled.size(), "{} sampled ids for more sampling chunks", sampled.size());
    int32_t id = sampled[k++];
    if (!r->constraint_error.empty()) {
      r->error = r->constraint_error;
      finish(r, FinishReason::error);
      done.push_back(r);
      continue;
    }
    if (r->num_output() == 0) counters_.prompt_tokens += r->num_prompt;  // once per request, as vLLM counts
    r->tokens.push_back(id);
    r->unreported.push_back(id);
    ++counters_.generation_tokens;
    if (is_stop(r, id)) {
      r->stop_token_id = id;
      finish(r, FinishReason::stop);
    } else if (r->constraint_complete) {
      finish(r, FinishReason::stop);
    } else if (r->num_output() >= r->params.max_tokens) {
      finish(r, FinishReason::length);
    }
    if (r->finished()) done.push_back(r);
  }
  R1_CHECK(k == sampled.size(), "{} sampled ids for {} sampling chunks", sampled.size(), k);
  return done;
}

void Scheduler::finish(Request* r, FinishReason reason) {
  if (r->finished()) return;
  if (auto it = std::find(running_.begin(), running_.end(), r); it != running_.end()) running_.erase(it);
  if (auto it = std::find(waiting_.begin(), waiting_.end(), r); it != waiting_.end()) waiting_.erase(it);
  kv_.free(r->seq);
  r->status = RequestStatus::finished;
  r->finish_reason = reason;
}

}  // namespace r1
