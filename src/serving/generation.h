#pragma once
// One generate call in flight, protocol-neutral: its choices (n per prompt) run as separate engine requests,
// and their token streams become text events here — detokenized incrementally, passed through the stop-string
// matcher and (R1 templates) the reasoning split. A protocol adapter observes the events and writes its own
// wire format; nothing here knows HTTP or any API's JSON.
//
// Engine callbacks arrive on the engine thread; the client may vanish on an I/O thread (→ cancel(), an
// engine.abort of every choice). The generation lives until the engine has finished all its requests, so the
// admission slot it holds is released only when no engine work is left for it.
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "engine/engine.h"
#include "serving/served_model.h"
#include "serving/structured_output.h"
#include "serving/tool_calls.h"

namespace r1::serving {

// One token's log-probabilities, with token text as raw bytes (may be part of a UTF-8 character).
struct LogprobEntry {
  std::string token;
  std::optional<float> logprob;  // unset: a prompt token (the engine computes none for the prompt)
  std::vector<std::pair<std::string, float>> top;
  // The ids behind `token` and `top` (TGI's details name tokens by id), and whether the token is special.
  int32_t id = -1;
  bool special = false;
  std::vector<int32_t> top_ids;  // same order as `top`
};

// One prompt: token ids, and its text (returned first with echo).
struct Prompt {
  std::vector<int32_t> ids;
  std::string text;
};

// What a protocol asks of a generation once its fields are validated and its limits resolved.
struct GenerateParams {
  SamplingParams sampling;
  size_t max_tokens = 16;  // per choice; 0 only with echo (the prompt is the answer)
  int n = 1;               // choices per prompt; choice i of a seeded request uses seed + i
  std::vector<std::string> stop;
  std::vector<int32_t> stop_token_ids;
  bool ignore_eos = false;
  bool skip_special_tokens = true;
  int logprobs = -1;  // -1: none; 0: the sampled token's; N: also the top N
  bool echo = false;  // the prompt text (and its tokens, without logprobs) come first
  // -1: none; N >= 0: score the prompt's tokens (and their top N) into ChoiceResult::prompt_logprobs.
  int prompt_logprobs = -1;
  bool reasoning = false;                    // split R1's <think> … </think> (output starts inside it)
  std::optional<ConstraintSpec> constraint;  // structured output / reasoning budget, one state per choice
  bool tool_calls = false;                   // parse tool calls out of the content
  ToolFormat tool_format = ToolFormat::deepseek_r1;
  // Past this instant every unfinished choice ends at its next token with finish_reason "length" (what it has
  // is the answer; the Lambda runtime's invocation deadline).
  std::optional<std::chrono::steady_clock::time_point> deadline;
  // The server's --request-timeout, counted from the generation's start (queue wait + generation): past it
  // choices end as at the deadline, and the result says it timed out so that a protocol that reports
  // timeouts (Bedrock's ModelTimeoutException) can.
  std::optional<std::chrono::milliseconds> timeout;
};

// Text released for one choice. The deltas of a choice concatenate to its result.
struct ChoiceDelta {
  size_t index = 0;
  std::string reasoning, content;
  std::vector<ToolCall> tool_calls;  // whole calls, each once, in order
  std::vector<LogprobEntry> logprobs;
  // "stop" | "length" | "tool_calls" | "abort" | "error", on the last delta
  std::optional<std::string> finish_reason;
};

struct ChoiceResult {
  size_t index = 0;
  std::string reasoning, content;
  std::vector<ToolCall> tool_calls;
  std::vector<LogprobEntry> logprobs;
  // With GenerateParams::prompt_logprobs: one per prompt token, the first without a logprob (nothing precedes
  // it); empty when the choice ended before its first token.
  std::vector<LogprobEntry> prompt_logprobs;
  std::string finish_reason;
  bool stop_string = false;  // finish_reason "stop" came from one of the request's stop strings
  size_t completion_tokens = 0;
  // Tokens generated while the output was inside <think> (the token that closes it included).
  size_t reasoning_tokens = 0;
};

struct GenerateResult {
  std::vector<ChoiceResult> choices;
  size_t prompt_tokens = 0, completion_tokens = 0, reasoning_tokens = 0, cached_tokens = 0;
  std::optional<std::string> error;  // the engine failed: the message
  // The request timeout ended at least one choice: the message (naming --request-timeout).
  std::optional<std::string> timed_out;
};

// What the access log says about a finished generation.
struct GenerationSummary {
  size_t prompt_tokens = 0, completion_tokens = 0;
  double ttft_s = -1, total_s = 0;
  std::string finish_reason;
  bool cancelled = false;
};

// The events of one generation. on_started, on_delta and on_complete are called in that order with the
// generation's lock held (often on the engine thread): be quick, and never call back into the Generation.
class GenerationObserver {
 public:
  virtual ~GenerationObserver() = default;
  // Every choice is queued in the engine; no delta has been sent yet.
  virtual void on_started() {}
  virtual void on_delta(const ChoiceDelta&) {}
  // Every choice has finished from the client's view; not called after cancel().
  virtual void on_complete(const GenerateResult& result) = 0;
  // The engine has finished every choice (the admission slot goes back now). Called without the lock.
  virtual void on_finished(const GenerationSummary&) {}
};

// Per-request measurements, for metrics (the server's Prometheus exposition implements it).
class StatsSink {
 public:
  virtual ~StatsSink() = default;
  struct Finished {
    FinishReason reason = FinishReason::stop;
    size_t prompt_tokens = 0, completion_tokens = 0, max_tokens = 0;
    // Seconds; negative: not known (never scheduled / no token).
    double queue_s = -1, ttft_s = -1, e2e_s = 0, prefill_s = -1, decode_s = -1;
  };
  virtual void request_finished(const Finished& f) = 0;
  virtual void inter_token(double seconds) = 0;
  virtual void tokens(size_t prompt, size_t generated) = 0;
  // The sink for one model's generations (a server with several models labels their series apart).
  virtual StatsSink* for_model(const std::string& /*model*/, size_t /*max_model_len*/) { return this; }
};

class Generation : public std::enable_shared_from_this<Generation> {
 public:
  // `slot` is held until the engine has finished every choice (admission); `stats` may be null.
  Generation(std::shared_ptr<ServedModel> model, StatsSink* stats, std::string id, GenerateParams params,
             std::shared_ptr<GenerationObserver> observer, std::shared_ptr<void> slot);
  ~Generation();

  // Queues every choice in the engine; then on_started. Throws ServingError (before any event) when the
  // engine refuses a request.
  void start(std::vector<Prompt> prompts);
  // The client is gone: abort every choice; no more events but on_finished.
  void cancel();
  // The instant its deadline or timeout ends it (whichever is first), if it has one.
  std::optional<std::chrono::steady_clock::time_point> cut_at() const { return cut_at_; }
  // Its deadline or timeout has passed (serving/deadline_watch.h): every unfinished choice ends now with
  // finish_reason "length", as at a token past the deadline, even if none is generated any more.
  void expire();
  const std::string& id() const { return id_; }

 private:
  struct Choice;
  void on_output(size_t idx, const RequestOutput& o);
  // Text released by the detokenizer → stop matcher → reasoning split / content; true when a stop string hit.
  bool take_text(Choice& c, const std::string& piece, ChoiceDelta& d);
  // Answer text (after the reasoning split) → content and tool calls.
  void take_content(Choice& c, const std::string& text, ChoiceDelta& d);
  LogprobEntry logprob_entry(const TokenLogprob& lp) const;
  std::string token_text(int32_t id) const;
  void finish_choice(Choice& c, const std::string& reason);
  void complete();

  std::shared_ptr<ServedModel> m_;
  StatsSink* stats_;
  std::string id_;
  GenerateParams p_;
  std::shared_ptr<GenerationObserver> obs_;
  std::shared_ptr<void> slot_;
  std::chrono::steady_clock::time_point t0_;

  std::mutex mu_;
  std::vector<std::unique_ptr<Choice>> choices_;
  size_t prompt_tokens_ = 0, cached_tokens_ = 0;
  size_t choices_done_ = 0;     // finished from the client's view (stop string, length, EOS)
  size_t engine_finished_ = 0;  // finished in the engine
  bool completed_ = false, cancelled_ = false;
  std::optional<std::chrono::steady_clock::time_point> cut_at_;
  bool cut_by_timeout_ = false;  // cut_at_ is the request timeout's (not an earlier deadline)
  bool expired_ = false, timed_out_ = false;
  std::optional<std::string> error_;
  GenerationSummary summary_;
};

}  // namespace r1::serving
