#pragma once
// The serving engine: many requests share one model through continuous batching over a paged KV cache with
// automatic prefix caching. The server talks only to this header.
//
// Threading contract:
// - Engine owns one loop thread. Every step it schedules, runs one forward pass, samples and then calls each
//   affected request's OutputCallback ON THE LOOP THREAD, with no engine lock held.
// - add(), abort(), abort_all(), stats() are thread-safe and may be called from any thread, including from
//   inside an OutputCallback (add/abort only queue work; it takes effect at the next step). shutdown() and
//   wait_idle() block, so they must not be called from a callback.
// - The destructor calls shutdown(false): remaining requests get their final (abort) callback during it, so
//   whatever the callbacks touch must outlive the Engine.
// - A callback must be quick (post to an Asio strand/queue and return): the whole batch waits for it. It must
//   not throw; an exception escaping a callback aborts that request.
// - For each accepted request the callback is called one or more times; the last call has finished == true,
//   and nothing is called for that id afterwards. Every accepted request gets exactly one finished call, also
//   on abort and on shutdown.
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

#include "core/dtype.h"
#include "engine/model_executor.h"
#include "engine/sampler.h"
#include "engine/token_constraint.h"

namespace r1 {

struct LoadedModel;
class ThreadPool;
class EngineCore;

struct EngineConfig {
  size_t kv_cache_bytes =
      0;                   // 0 = auto: a fraction of free RAM, capped at what max_num_seqs full contexts need
  size_t block_size = 16;  // positions per KV block
  size_t max_num_seqs = 64;  // requests running (holding KV) at once
  size_t max_batch_tokens =
      2048;  // tokens per forward pass (decodes + prefill chunks); TGI MAX_BATCH_PREFILL_TOKENS
  size_t max_model_len = 0;  // 0 = derive: min(max_position_embeddings, tokens the KV budget holds)
  bool enable_prefix_caching = true;
  DType kv_cache_dtype =
      DType::F32;  // element type of cached K/V: f32 (exact), f16 or bf16 (half the memory)

  // Throws r1::Error naming the field when a value is out of range.
  void validate() const;
};

// "2GiB", "512MiB", "1.5GB", "4096", "64KiB" → bytes (binary and decimal suffixes, case-insensitive).
// Throws r1::Error naming `what` (e.g. "--kv-cache-memory") on anything else.
size_t parse_byte_size(const std::string& text, const std::string& what);
// `fraction` of the memory the OS reports available right now (/proc/meminfo MemAvailable).
size_t available_memory_fraction(double fraction);

// The most prompt tokens of a prompt_logprobs request computed in one step: each needs a row of logits
// (vocab floats: 128 rows of a 152K vocabulary are 78 MB).
inline constexpr size_t kPromptLogprobsChunk = 128;

struct EngineRequest {
  std::string id;  // unique among requests in flight
  std::vector<int32_t> prompt;
  SamplingParams sampling;
  size_t max_tokens = 16;
  std::vector<int32_t>
      stop_token_ids;       // finish (reason stop) after emitting one of these, in addition to EOS
  bool ignore_eos = false;  // do not stop at the model's EOS ids (stop_token_ids still apply)
  int logprobs = -1;        // -1: none; 0: the sampled token's logprob; N: also the top N
  // -1: none; N >= 0: each prompt token's logprob given the tokens before it (and the top N), as vLLM's
  // prompt_logprobs and TGI's decoder_input_details. Such a prompt is computed in full (no prefix-cache hit)
  // and in chunks of at most kPromptLogprobsChunk tokens, each of its positions costing a row of logits.
  int prompt_logprobs = -1;
  // Restricts what may be sampled (structured output; token_constraint.h); it finishes the request (reason
  // stop) once complete. Used only on the engine's threads while the request runs.
  std::shared_ptr<TokenConstraint> constraint;
};

enum class FinishReason { stop, length, abort, error };
const char* to_string(FinishReason r);  // "stop", "length", "abort", "error"

struct TokenLogprob {
  int32_t id = 0;
  float logprob = 0;  // log-softmax of the model's raw logits (before penalties and temperature), as vLLM
  std::vector<std::pair<int32_t, float>> top;  // the `logprobs` most likely ids, most likely first
};

using Clock = std::chrono::steady_clock;

struct RequestOutput {
  std::string id;
  // Ids produced since the previous call (usually one). Includes the EOS/stop id that finished the request;
  // the server decides whether it shows as text.
  std::vector<int32_t> new_token_ids;
  std::vector<TokenLogprob> logprobs;  // one per new token when the request asked for logprobs
  // With prompt_logprobs, once, on the first output: one per prompt token after the first (the first token
  // has no context to be scored in).
  std::vector<TokenLogprob> prompt_logprobs;
  bool finished = false;
  std::optional<FinishReason> finish_reason;  // set when finished
  std::optional<int32_t> stop_token_id;       // the EOS/stop id that finished it (reason stop)
  std::string error;                          // reason error: why the engine could not run it
  size_t prompt_tokens = 0;
  size_t completion_tokens = 0;     // total so far
  size_t cached_prompt_tokens = 0;  // prompt tokens served from the prefix cache at first schedule
  // Timing: arrival (add), first scheduled, first token, and when this output was produced.
  Clock::time_point arrival_time, scheduled_time, first_token_time, now;
};

// Called on the engine thread; see the threading contract above.
using OutputCallback = std::function<void(const RequestOutput&)>;

struct EngineStats {
  size_t running = 0, waiting = 0;
  size_t kv_blocks_total = 0,
         kv_blocks_used = 0;  // used: held by a request (cached-but-free blocks count as free)
  double kv_usage = 0;        // kv_blocks_used / kv_blocks_total
  uint64_t prefix_cache_queries = 0, prefix_cache_hits = 0;  // in tokens, as vLLM
  uint64_t preemptions = 0;
  uint64_t prompt_tokens_total = 0, generation_tokens_total = 0;  // tokens computed / sampled
  uint64_t steps = 0;
  uint64_t requests_finished = 0;
  // Where the loop thread's time goes (issue 11's per-token path): inside steps (schedule, forward, sample,
  // update) and in the output callbacks after each step (detokenize, stop strings, reasoning split, SSE
  // writes), for the steps that ran a batch. Their sum over `steps` against a client's inter-token latency
  // says whether serving adds anything beyond the engine's own step.
  double step_seconds_total = 0, output_seconds_total = 0;
  // The same for the steps that were pure decode (no prompt chunk), comparable with `r1serve perf`'s step.
  uint64_t decode_steps = 0;
  double decode_step_seconds_total = 0, decode_output_seconds_total = 0;
};

class Engine {
 public:
  // Builds the KV pool for the model (sized by cfg, see EngineConfig) and starts the loop thread.
  // Throws r1::Error when the configuration does not fit the model (e.g. max_model_len above what the KV
  // budget holds or above max_position_embeddings).
  Engine(const LoadedModel& model, ThreadPool& pool, EngineConfig cfg);
  // Same, over any executor (tests use a fake one).
  Engine(std::unique_ptr<ModelExecutor> executor, EngineConfig cfg);
  ~Engine();  // shutdown(): aborts whatever is left
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Queues a request. Throws r1::Error (with the numbers) when: the id is empty or already in flight, the
  // prompt is empty, an id is >= vocab, max_tokens is 0, prompt + max_tokens > max_model_len, sampling params
  // are invalid, or the engine is shutting down.
  void add(EngineRequest req, OutputCallback on_output);
  // Finishes the request with reason abort and frees its blocks at the next step. Unknown/finished ids:
  // no-op.
  void abort(const std::string& id);
  void abort_all();

  // A consistent snapshot taken at the end of the last step (and after add/abort).
  EngineStats stats() const;

  // Stops accepting requests (add throws). drain: waits until every request has finished; otherwise aborts
  // them. Then stops the loop thread. Idempotent.
  void shutdown(bool drain = false);
  // Blocks until nothing is running or waiting, or until `timeout` passes; true when idle.
  bool wait_idle(std::chrono::milliseconds timeout);

  size_t max_model_len() const { return max_model_len_; }
  size_t block_size() const { return cfg_.block_size; }
  size_t num_kv_blocks() const { return n_blocks_; }
  size_t kv_capacity_tokens() const { return n_blocks_ * cfg_.block_size; }
  size_t kv_cache_bytes() const { return kv_bytes_; }
  size_t vocab_size() const { return vocab_; }
  // The model's EOS ids (generation_config.json, else config.json), which end a request.
  const std::vector<int32_t>& eos_ids() const { return eos_ids_; }
  const EngineConfig& config() const { return cfg_; }

 private:
  void loop();

  EngineConfig cfg_;
  size_t max_model_len_ = 0, n_blocks_ = 0, kv_bytes_ = 0, vocab_ = 0;
  std::vector<int32_t> eos_ids_;
  std::unique_ptr<ModelExecutor> executor_;
  std::unique_ptr<EngineCore> core_;  // scheduler + runner; touched only by the loop thread

  // Inbox shared with callers; guarded by mu_.
  mutable std::mutex mu_;
  std::condition_variable wake_, idle_cv_;
  struct Pending {
    EngineRequest req;
    OutputCallback cb;
    Clock::time_point arrival;
  };
  std::vector<Pending> new_requests_;
  std::vector<std::string> aborts_;
  bool abort_all_ = false, stopping_ = false, accepting_ = true, draining_ = false, delivering_ = false;
  std::unordered_set<std::string> in_flight_ids_;  // accepted and not yet finished
  EngineStats stats_;
  // The loop thread's time totals, copied into stats_ under mu_.
  double step_seconds_ = 0, output_seconds_ = 0, decode_step_seconds_ = 0, decode_output_seconds_ = 0;
  uint64_t decode_steps_ = 0;
  std::thread thread_;
};

}  // namespace r1
