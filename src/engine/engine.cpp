// Engine: sizing of the KV pool, request validation, and the loop thread around EngineCore.
#include "engine/engine.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "core/error.h"
#include "engine/engine_core.h"
#include "engine/generator.h"

namespace r1 {

namespace {
// With no --kv-cache-memory: this much of the memory available after loading the weights.
constexpr double kDefaultKvFraction = 0.4;
}  // namespace

Engine::Engine(const LoadedModel& model, ThreadPool& pool, EngineConfig cfg)
    : Engine(make_decoder_executor(model, pool, cfg.kv_cache_dtype), cfg) {}

Engine::Engine(std::unique_ptr<ModelExecutor> executor, EngineConfig cfg)
    : cfg_(cfg), executor_(std::move(executor)) {
  cfg_.validate();
  vocab_ = executor_->vocab_size();
  const size_t max_pos = executor_->max_position_embeddings();
  const size_t bs = cfg_.block_size;
  const size_t block_bytes = executor_->block_bytes(bs);
  R1_CHECK(block_bytes > 0, "KV blocks of 0 bytes");
  kv_bytes_ = cfg_.kv_cache_bytes;
  if (kv_bytes_ == 0) {
    // A fraction of free RAM, but never more than max_num_seqs full-length contexts can use.
    size_t useful_blocks = cfg_.max_num_seqs * ((max_pos + bs - 1) / bs);
    kv_bytes_ = std::min(available_memory_fraction(kDefaultKvFraction), useful_blocks * block_bytes);
  }
  n_blocks_ = kv_bytes_ / block_bytes;
  if (n_blocks_ == 0)
    fail("--kv-cache-memory of {} bytes holds no KV block ({} bytes for {} positions)", kv_bytes_,
         block_bytes, bs);
  kv_bytes_ = n_blocks_ * block_bytes;
  const size_t capacity = n_blocks_ * bs;
  if (cfg_.max_model_len == 0) {
    max_model_len_ = std::min(max_pos, capacity);
  } else {
    if (cfg_.max_model_len > max_pos)
      fail("--max-model-len {} is above the model's max_position_embeddings {}", cfg_.max_model_len, max_pos);
    if (cfg_.max_model_len > capacity)
      fail(
          "--max-model-len {} is above what the KV cache holds: {} tokens ({} blocks of {} in {} bytes); "
          "raise "
          "--kv-cache-memory or lower --max-model-len",
          cfg_.max_model_len, capacity, n_blocks_, bs, kv_bytes_);
    max_model_len_ = cfg_.max_model_len;
  }
  executor_->allocate_kv(n_blocks_, bs);
  eos_ids_ = executor_->eos_token_ids();
  core_ = std::make_unique<EngineCore>(*executor_, n_blocks_, cfg_);
  core_->fill_stats(stats_);
  thread_ = std::thread([this] { loop(); });
}

Engine::~Engine() {
  shutdown(false);
}

void Engine::add(EngineRequest req, OutputCallback on_output) {
  if (req.id.empty()) fail("request id is empty");
  if (req.prompt.empty()) fail("request {}: the prompt is empty", req.id);
  for (size_t i = 0; i < req.prompt.size(); ++i)
    if (req.prompt[i] < 0 || size_t(req.prompt[i]) >= vocab_)
      fail("request {}: prompt token {} at index {} is outside the vocabulary [0, {})", req.id, req.prompt[i],
           i, vocab_);
  if (req.max_tokens == 0) fail("request {}: max_tokens must be at least 1", req.id);
  if (req.prompt.size() > max_model_len_ || req.max_tokens > max_model_len_ - req.prompt.size())
    fail("request {}: {} prompt tokens + {} max_tokens = {} exceeds the maximum context length of {} tokens",
         req.id, req.prompt.size(), req.max_tokens, req.prompt.size() + req.max_tokens, max_model_len_);
  if (req.logprobs < -1) fail("request {}: logprobs must be -1 (none) or >= 0, got {}", req.id, req.logprobs);
  if (size_t(std::max(req.logprobs, 0)) > vocab_)
    fail("request {}: logprobs {} is above the vocabulary size {}", req.id, req.logprobs, vocab_);
  if (req.prompt_logprobs < -1)
    fail("request {}: prompt_logprobs must be -1 (none) or >= 0, got {}", req.id, req.prompt_logprobs);
  if (size_t(std::max(req.prompt_logprobs, 0)) > vocab_)
    fail("request {}: prompt_logprobs {} is above the vocabulary size {}", req.id, req.prompt_logprobs,
         vocab_);
  req.sampling.validate(vocab_);
  if (!on_output) fail("request {}: no output callback", req.id);
  std::lock_guard lock(mu_);
  if (!accepting_) fail("the engine is shutting down; request {} was not accepted", req.id);
  if (!in_flight_ids_.insert(req.id).second) fail("request id {} is already in flight", req.id);
  new_requests_.push_back({std::move(req), std::move(on_output), Clock::now()});
  wake_.notify_one();
}

void Engine::abort(const std::string& id) {
  std::lock_guard lock(mu_);
  if (!in_flight_ids_.count(id)) return;
  aborts_.push_back(id);
  wake_.notify_one();
}

void Engine::abort_all() {
  std::lock_guard lock(mu_);
  abort_all_ = true;
  wake_.notify_one();
}

EngineStats Engine::stats() const {
  std::lock_guard lock(mu_);
  EngineStats s = stats_;
  s.waiting += new_requests_.size();
  return s;
}

bool Engine::wait_idle(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  return idle_cv_.wait_for(lock, timeout, [&] { return in_flight_ids_.empty() && !delivering_; });
}

void Engine::shutdown(bool drain) {
  {
    std::lock_guard lock(mu_);
    accepting_ = false;
    stopping_ = true;
    draining_ = drain;
    wake_.notify_one();
  }
  if (thread_.joinable()) {
    R1_CHECK(std::this_thread::get_id() != thread_.get_id(),
             "Engine::shutdown called from an output callback");
    thread_.join();
  }
}

void Engine::loop() {
  uint64_t next_seq = 1;
  std::vector<Pending> incoming;
  std::vector<std::string> aborts;
  for (;;) {
    bool abort_everything = false;
    {
      std::unique_lock lock(mu_);
      wake_.wait(lock, [&] {
        return stopping_ || abort_all_ || !new_requests_.empty() || !aborts_.empty() || core_->has_work();
      });
      incoming.swap(new_requests_);
      aborts.swap(aborts_);
      abort_everything = abort_all_ || (stopping_ && !draining_);
      abort_all_ = false;
      if (stopping_ && incoming.empty() && aborts.empty() && !core_->has_work()) return;
    }
    for (Pending& p : incoming) {
      std::vector<int32_t> eos = p.req.ignore_eos ? std::vector<int32_t>{} : eos_ids_;
      core_->add(std::make_unique<Request>(next_seq++, std::move(p.req), std::move(eos), std::move(p.cb),
                                           p.arrival));
    }
    incoming.clear();
    for (const std::string& id : aborts) core_->abort(id);
    aborts.clear();
    if (abort_everything) core_->abort_all();

    const uint64_t steps_before = core_->steps();
    const Clock::time_point step_start = Clock::now();
    std::vector<EngineCore::Delivery> deliveries = core_->step();
    const Clock::time_point step_end = Clock::now();
    const bool ran_batch = core_->steps() != steps_before;
    const bool decode_only = ran_batch && core_->last_step_decode_only();
    {
      // Before the callbacks run, so a caller woken by a final output sees fresh stats and may reuse the id.
      std::lock_guard lock(mu_);
      for (const EngineCore::Delivery& d : deliveries)
        if (d.out.finished) in_flight_ids_.erase(d.out.id);
      const double step_s = std::chrono::duration<double>(step_end - step_start).count();
      core_->fill_stats(stats_);
      if (ran_batch) step_seconds_ += step_s;
      if (decode_only) {
        ++decode_steps_;
        decode_step_seconds_ += step_s;
      }
      stats_.step_seconds_total = step_seconds_;
      stats_.decode_steps = decode_steps_;
      stats_.decode_step_seconds_total = decode_step_seconds_;
      delivering_ = true;
    }
    std::vector<std::string> callback_failed;
    for (EngineCore::Delivery& d : deliveries) {
      try {
        d.req->on_output(d.out);
      } catch (const std::exception& e) {
        spdlog::error("engine: output callback of request {} threw: {}; aborting it", d.out.id, e.what());
        if (!d.out.finished) callback_failed.push_back(d.out.id);
      } catch (...) {
        spdlog::error("engine: output callback of request {} threw; aborting it", d.out.id);
        if (!d.out.finished) callback_failed.push_back(d.out.id);
      }
    }
    core_->release_finished();
    for (const std::string& id : callback_failed) core_->abort(id);

    const double output_s = std::chrono::duration<double>(Clock::now() - step_end).count();
    std::lock_guard lock(mu_);
    if (ran_batch) output_seconds_ += output_s;
    if (decode_only) decode_output_seconds_ += output_s;
    stats_.output_seconds_total = output_seconds_;
    stats_.decode_output_seconds_total = decode_output_seconds_;
    delivering_ = false;
    if (in_flight_ids_.empty()) idle_cv_.notify_all();
  }
}

}  // namespace r1
