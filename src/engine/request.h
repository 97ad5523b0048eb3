#pragma once
// One request inside the engine: its tokens (prompt then output), how many have KV computed, its state, its
// sampler (seeded per request, so batching never changes what it draws) and what it has not yet reported.
//
// States: waiting → running → (preempted → running)* → finished(reason). A preempted request lost its blocks
// and waits at the front of the queue to recompute prompt + output so far.
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "engine/engine.h"
#include "engine/sampler.h"

namespace r1 {

enum class RequestStatus { waiting, running, preempted, finished };

struct Request {
  Request(uint64_t seq_id, EngineRequest p, std::vector<int32_t> eos, OutputCallback cb,
          Clock::time_point arrival)
      : seq(seq_id),
        params(std::move(p)),
        eos_ids(std::move(eos)),
        sampler(params.sampling),
        on_output(std::move(cb)),
        arrival_time(arrival) {
    tokens = params.prompt;
    num_prompt = tokens.size();
  }

  uint64_t seq;  // the engine's handle for block tables
  EngineRequest params;
  std::vector<int32_t> eos_ids;  // the model's EOS ids (empty with ignore_eos)
  std::vector<int32_t> tokens;   // [num_prompt + outputs]
  size_t num_prompt = 0;
  size_t num_computed = 0;  // tokens whose KV is in the cache
  RequestStatus status = RequestStatus::waiting;
  std::optional<FinishReason> finish_reason;
  std::optional<int32_t> stop_token_id;
  std::string error;
  Sampler sampler;
  OutputCallback on_output;

  bool scheduled_once = false;
  size_t cached_prompt_tokens = 0;
  size_t num_preemptions = 0;
  Clock::time_point arrival_time, scheduled_time, first_token_time;

  // Produced since the last report.
  std::vector<int32_t> unreported;
  std::vector<TokenLogprob> unreported_logprobs;
  // With params.prompt_logprobs: the scores of prompt tokens 1.. so far (position p's logits score token p +
  // 1), and whether they went out (on the first output).
  std::vector<TokenLogprob> prompt_logprobs;
  bool prompt_logprobs_reported = false;

  // The constraint's view of the last step (set by the model runner, read by the scheduler).
  std::vector<uint32_t> allowed;  // [ceil(vocab / 32)] mask filled per step
  bool constraint_complete = false;
  std::string constraint_error;  // not empty: the constraint failed; the request ends with this error

  std::span<const int32_t> prompt() const { return {tokens.data(), num_prompt}; }
  std::span<const int32_t> output() const { return {tokens.data() + num_prompt, tokens.size() - num_prompt}; }
  size_t num_output() const { return tokens.size() - num_prompt; }
  const std::string& id() const { return params.id; }
  // Whether prompt positions are still to be scored (prompt_logprobs asked for and not complete).
  bool scores_prompt() const {
    return params.prompt_logprobs >= 0 && !prompt_logprobs_reported &&
           prompt_logprobs.size() + 1 < num_prompt;
  }
  bool finished() const { return status == RequestStatus::finished; }
};

}  // namespace r1
