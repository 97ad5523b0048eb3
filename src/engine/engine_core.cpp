#include "engine/engine_core.h"

#include <spdlog/spdlog.h>

#include <exception>

#include "core/error.h"

namespace r1 {

EngineCore::EngineCore(ModelExecutor& exec, size_t n_blocks, const EngineConfig& cfg)
    : kv_(n_blocks, cfg.block_size, cfg.enable_prefix_caching),
      scheduler_(SchedulerConfig{cfg.max_num_seqs, cfg.max_batch_tokens}, kv_),
      runner_(exec, kv_) {}

void EngineCore::add(std::unique_ptr<Request> r) {
  Request* p = r.get();
  R1_CHECK(!requests_.count(p->id()), "request id {} added twice", p->id());
  requests_.emplace(p->id(), std::move(r));
  scheduler_.add(p);
}

void EngineCore::finish_now(Request* r, FinishReason reason, std::string error) {
  if (r->finished()) return;
  scheduler_.finish(r, reason);
  r->error = std::move(error);
  finished_.push_back(r);
}

void EngineCore::abort(const std::string& id) {
  auto it = requests_.find(id);
  if (it != requests_.end()) finish_now(it->second.get(), FinishReason::abort);
}

void EngineCore::abort_all() {
  for (auto& [id, r] : requests_) finish_now(r.get(), FinishReason::abort);
}

RequestOutput EngineCore::make_output(Request& r, Clock::time_point now) {
  RequestOutput o;
  o.id = r.id();
  o.new_token_ids = std::move(r.unreported);
  o.logprobs = std::move(r.unreported_logprobs);
  r.unreported.clear();
  r.unreported_logprobs.clear();
  // The prompt's scores go out once, complete, with the first output after they are (before the first
  // token's).
  if (r.params.prompt_logprobs >= 0 && !r.prompt_logprobs_reported && !r.scores_prompt() &&
      !o.new_token_ids.empty()) {
    o.prompt_logprobs = std::move(r.prompt_logprobs);
    r.prompt_logprobs.clear();
    r.prompt_logprobs_reported = true;
  }
  if (!o.new_token_ids.empty() && r.first_token_time == Clock::time_point{}) r.first_token_time = now;
  o.finished = r.finished();
  if (o.finished) o.finish_reason = r.finish_reason;
  o.stop_token_id = r.stop_token_id;
  o.error = r.error;
  o.prompt_tokens = r.num_prompt;
  o.completion_tokens = r.num_output();
  o.cached_prompt_tokens = r.cached_prompt_tokens;
  o.arrival_time = r.arrival_time;
  o.scheduled_time = r.scheduled_time;
  o.first_token_time = r.first_token_time;
  o.now = now;
  return o;
}

std::vector<EngineCore::Delivery> EngineCore::step() {
  StepPlan plan = scheduler_.schedule();
  for (Request* r : plan.failed) {
    spdlog::warn("engine: {}", r->error);
    finished_.push_back(r);
  }
  std::vector<Request*> touched;
  if (!plan.empty()) {
    ++steps_;
    last_step_decode_only_ = plan.n_tokens == plan.chunks.size();
    try {
      std::vector<int32_t> sampled = runner_.execute(plan);
      for (Request* r : scheduler_.on_step_done(plan, sampled)) finished_.push_back(r);
      for (const ScheduledChunk& c : plan.chunks)
        if (c.samples && !c.req->finished()) touched.push_back(c.req);
    } catch (const std::exception& e) {
      // The forward pass failed (e.g. out of memory): these requests cannot continue; the engine can.
      spdlog::error("engine: forward pass of {} tokens failed: {}", plan.n_tokens, e.what());
      for (const ScheduledChunk& c : plan.chunks)
        finish_now(c.req, FinishReason::error, fmt::format("the forward pass failed: {}", e.what()));
    }
  }
  const Clock::time_point now = Clock::now();
  std::vector<Delivery> out;
  out.reserve(touched.size() + finished_.size());
  for (Request* r : touched) out.push_back({r, make_output(*r, now)});
  for (Request* r : finished_) {
    out.push_back({r, make_output(*r, now)});
    reported_.push_back(r);
    ++finished_total_;
  }
  finished_.clear();
  return out;
}

void EngineCore::release_finished() {
  for (Request* r : reported_) requests_.erase(r->id());
  reported_.clear();
}

void EngineCore::fill_stats(EngineStats& s) const {
  s.running = scheduler_.num_running();
  s.waiting = scheduler_.num_waiting();
  s.kv_blocks_total = kv_.n_blocks();
  s.kv_blocks_used = kv_.num_used_blocks();
  s.kv_usage = kv_.usage();
  const SchedulerCounters& c = scheduler_.counters();
  s.prefix_cache_queries = c.prefix_queries;
  s.prefix_cache_hits = c.prefix_hits;
  s.preemptions = c.preemptions;
  s.prompt_tokens_total = c.prompt_tokens;
  s.generation_tokens_total = c.generation_tokens;
  s.steps = steps_;
  s.requests_finished = finished_total_;
}

}  // namespace r1
