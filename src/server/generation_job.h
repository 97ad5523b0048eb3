#pragma once
// One chat or completions request in flight: its choices (n per prompt) run as separate engine requests, and
// their token streams become OpenAI responses here — detokenized incrementally, passed through the
// stop-string matcher and (chat, R1 templates) the reasoning split, then sent as SSE chunks or one JSON body.
//
// Engine callbacks arrive on the engine thread; the client may vanish on an I/O thread (→ engine.abort of
// every choice). The job lives until the engine has finished all its requests, so the admission slot it holds
// is released only when no engine work is left for it.
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "engine/engine.h"
#include "server/http_server.h"
#include "server/metrics.h"
#include "server/openai_format.h"
#include "server/protocol.h"
#include "server/reasoning_parser.h"
#include "server/served_model.h"
#include "server/stop_matcher.h"
#include "tokenizer/detokenizer.h"

namespace r1::server {

// What the access log says about a finished request.
struct JobSummary {
  std::string id;
  int status = 200;
  size_t prompt_tokens = 0, completion_tokens = 0;
  double ttft_s = -1, total_s = 0;
  std::string finish_reason;
  bool client_gone = false;
};

class GenerationJob : public std::enable_shared_from_this<GenerationJob> {
 public:
  struct Prompt {
    std::vector<int32_t> ids;
    std::string text;  // for echo
  };
  // on_done runs once when every choice has finished in the engine (after the response was sent).
  GenerationJob(ServedModel& model, ServerMetrics& metrics, ApiRequest req,
                std::shared_ptr<HttpResponder> res, std::function<void(const JobSummary&)> on_done);
  ~GenerationJob();

  // Queues every choice in the engine and starts the response. Throws ApiError (before anything was sent)
  // when the engine refuses a request.
  void start(std::vector<Prompt> prompts, size_t max_tokens);

 private:
  struct Choice;
  void on_output(size_t idx, const RequestOutput& o);
  // Text released by the detokenizer → stop matcher → reasoning split / content; true when a stop string hit.
  bool take_text(Choice& c, const std::string& piece, std::string& reasoning, std::string& content);
  void emit_chunk(Choice& c, const std::string& reasoning, const std::string& content,
                  std::vector<LogprobEntry> logprobs, const std::optional<std::string>& finish);
  LogprobEntry logprob_entry(const TokenLogprob& lp) const;
  std::string token_text(int32_t id) const;
  void finish_choice(Choice& c, const std::string& reason);
  void respond();
  void client_gone();

  ServedModel& m_;
  ServerMetrics& metrics_;
  ApiRequest req_;
  std::shared_ptr<HttpResponder> res_;
  std::function<void(const JobSummary&)> on_done_;
  ResponseHead head_;
  std::chrono::steady_clock::time_point t0_;

  std::mutex mu_;
  std::vector<std::unique_ptr<Choice>> choices_;
  size_t prompt_tokens_ = 0;
  size_t choices_done_ = 0;     // finished from the client's view (stop string, length, EOS)
  size_t engine_finished_ = 0;  // finished in the engine
  bool responded_ = false, gone_ = false;
  std::optional<std::string> error_;
  JobSummary summary_;
};

}  // namespace r1::server
