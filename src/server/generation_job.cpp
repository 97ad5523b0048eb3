#include "server/generation_job.h"

#include <spdlog/spdlog.h>

#include "server/api_error.h"

namespace r1::server {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {
double seconds(Clock::duration d) {
  return std::chrono::duration<double>(d).count();
}
}  // namespace

struct GenerationJob::Choice {
  int index = 0;
  size_t prompt_index = 0;
  std::string engine_id;
  std::vector<int32_t> prompt_ids;
  std::unique_ptr<IncrementalDetokenizer> detok;
  std::unique_ptr<StopMatcher> stop;
  std::optional<ReasoningParser> reasoning;
  std::string content, reasoning_text;  // everything released (non-streamed responses)
  std::vector<LogprobEntry> logprobs;   // non-streamed responses
  size_t logprob_offset = 0;            // completions text_offset of the next token
  size_t completion_tokens = 0;
  bool done = false, engine_done = false, got_first = false;
  std::string finish_reason;
  Clock::time_point last_token;
  double ttft_s = -1;
};

GenerationJob::GenerationJob(ServedModel& model, ServerMetrics& metrics, ApiRequest req,
                             std::shared_ptr<HttpResponder> res,
                             std::function<void(const JobSummary&)> on_done)
    : m_(model),
      metrics_(metrics),
      req_(std::move(req)),
      res_(std::move(res)),
      on_done_(std::move(on_done)),
      head_(make_head(req_.endpoint, model.name)),
      t0_(Clock::now()) {}

GenerationJob::~GenerationJob() = default;

std::string GenerationJob::token_text(int32_t id) const {
  // A model's vocabulary may be padded past the tokenizer's: such ids have no text.
  if (id < 0 || size_t(id) >= m_.tokenizer->vocab_size()) return "";
  return m_.tokenizer->token_bytes(id, true);
}

LogprobEntry GenerationJob::logprob_entry(const TokenLogprob& lp) const {
  LogprobEntry e;
  e.token = token_text(lp.id);
  e.logprob = lp.logprob;
  for (const auto& [id, v] : lp.top) e.top.emplace_back(token_text(id), v);
  return e;
}

void GenerationJob::start(std::vector<Prompt> prompts, size_t max_tokens) {
  std::unique_lock lock(mu_);
  summary_.id = head_.id;
  const bool chat = req_.endpoint == Endpoint::chat;
  for (size_t p = 0; p < prompts.size(); ++p) {
    prompt_tokens_ += prompts[p].ids.size();
    for (int i = 0; i < req_.n; ++i) {
      auto c = std::make_unique<Choice>();
      c->index = int(p) * req_.n + i;
      c->prompt_index = p;
      c->engine_id = fmt::format("{}-{}", head_.id, c->index);
      c->prompt_ids = prompts[p].ids;
      c->detok = std::make_unique<IncrementalDetokenizer>(*m_.tokenizer, req_.skip_special_tokens);
      // The output continues the prompt: prime the detokenizer with the prompt's last text token so the first
      // generated token is not decoded as the start of a text (SentencePiece would drop its leading space).
      for (auto it = c->prompt_ids.rbegin(); it != c->prompt_ids.rend(); ++it) {
        if (*it < 0 || size_t(*it) >= m_.tokenizer->vocab_size() || m_.tokenizer->is_special(*it)) continue;
        c->detok->push(*it);
        c->detok->flush();
        break;
      }
      c->stop = std::make_unique<StopMatcher>(req_.stop);
      if (chat && m_.reasoning) c->reasoning.emplace(true);
      if (req_.echo) {
        c->content = prompts[p].text;
        c->logprob_offset = prompts[p].text.size();
        if (req_.logprobs) {
          // Prompt tokens are listed without log-probabilities (the engine computes none for the prompt).
          for (int32_t id : prompts[p].ids) c->logprobs.push_back({token_text(id), std::nullopt, {}});
          c->logprob_offset = 0;
          for (const auto& e : c->logprobs) c->logprob_offset += e.token.size();
        }
      }
      choices_.push_back(std::move(c));
    }
  }
  summary_.prompt_tokens = prompt_tokens_;

  if (max_tokens == 0) {
    // Completions with echo and max_tokens 0: the prompt is the whole answer, no engine work.
    for (auto& c : choices_) {
      c->done = c->engine_done = true;
      c->finish_reason = "length";
    }
    choices_done_ = engine_finished_ = choices_.size();
    respond();
    lock.unlock();
    summary_.total_s = seconds(Clock::now() - t0_);
    if (on_done_) on_done_(summary_);
    return;
  }

  auto self = shared_from_this();
  size_t added = 0;
  try {
    for (auto& c : choices_) {
      EngineRequest er;
      er.id = c->engine_id;
      er.prompt = c->prompt_ids;
      er.sampling = req_.sampling;
      if (er.sampling.seed && req_.n > 1) er.sampling.seed = *er.sampling.seed + uint64_t(c->index);
      er.max_tokens = max_tokens;
      er.stop_token_ids = req_.stop_token_ids;
      er.ignore_eos = req_.ignore_eos;
      er.logprobs = req_.logprobs ? req_.top_logprobs : -1;
      size_t idx = size_t(c->index);
      m_.engine->add(std::move(er), [self, idx](const RequestOutput& o) { self->on_output(idx, o); });
      ++added;
    }
  } catch (const r1::Error& e) {
    for (size_t i = 0; i < added; ++i) m_.engine->abort(choices_[i]->engine_id);
    // Choices never added will get no callback: count them as finished now.
    engine_finished_ += choices_.size() - added;
    for (size_t i = added; i < choices_.size(); ++i) choices_[i]->engine_done = true;
    responded_ = true;  // the router answers with this error, and logs it
    on_done_ = nullptr;
    throw ApiError(400, e.what(), "invalid_request_error");
  }

  if (req_.stream) {
    res_->begin_stream(200, "text/event-stream", {{"Cache-Control", "no-cache"}});
    for (auto& c : choices_) {
      if (chat) {
        json delta = {{"role", "assistant"}, {"content", ""}};
        res_->write(sse_event(chat_chunk(head_, c->index, delta, nullptr, std::nullopt, req_.include_usage)));
      } else if (req_.echo) {
        json lp = nullptr;
        if (req_.logprobs) lp = completion_logprobs(c->logprobs, 0, req_.top_logprobs > 0);
        res_->write(
            sse_event(completion_chunk(head_, c->index, c->content, lp, std::nullopt, req_.include_usage)));
        c->content.clear();
        c->logprobs.clear();
      }
    }
  }
  lock.unlock();
  std::weak_ptr<GenerationJob> weak = self;
  res_->on_disconnect([weak] {
    if (auto j = weak.lock()) j->client_gone();
  });
}

void GenerationJob::client_gone() {
  std::lock_guard lock(mu_);
  if (responded_) return;
  gone_ = true;
  summary_.client_gone = true;
  for (auto& c : choices_)
    if (!c->engine_done) m_.engine->abort(c->engine_id);
}

bool GenerationJob::take_text(Choice& c, const std::string& piece, std::string& reasoning,
                              std::string& content) {
  StopMatcher::Result r = c.stop->push(piece);
  if (c.reasoning) {
    ReasoningParser::Delta d = c.reasoning->push(r.text);
    reasoning += d.reasoning;
    content += d.content;
  } else {
    content += r.text;
  }
  return r.stopped;
}

void GenerationJob::on_output(size_t idx, const RequestOutput& o) {
  std::unique_lock lock(mu_);
  Choice& c = *choices_.at(idx);
  const auto now = o.now;
  if (!c.got_first && !o.new_token_ids.empty()) {
    c.got_first = true;
    c.ttft_s = seconds(o.first_token_time - o.arrival_time);
    c.last_token = now;
    metrics_.tokens(o.prompt_tokens, 0);
  } else if (!o.new_token_ids.empty()) {
    double itl = seconds(now - c.last_token) / double(o.new_token_ids.size());
    for (size_t i = 0; i < o.new_token_ids.size(); ++i) metrics_.inter_token(itl);
    c.last_token = now;
  }
  metrics_.tokens(0, o.new_token_ids.size());

  std::string reasoning, content;
  std::vector<LogprobEntry> lps;
  bool stopped = false;
  if (!c.done) {
    for (size_t k = 0; k < o.new_token_ids.size() && !stopped; ++k) {
      int32_t id = o.new_token_ids[k];
      ++c.completion_tokens;
      if (k < o.logprobs.size()) lps.push_back(logprob_entry(o.logprobs[k]));
      std::string piece = size_t(id) < m_.tokenizer->vocab_size() ? c.detok->push(id) : std::string();
      stopped = take_text(c, piece, reasoning, content);
    }
    std::optional<std::string> finish;
    if (stopped) {
      finish = "stop";
      if (!o.finished) m_.engine->abort(c.engine_id);  // the engine does not know stop strings
    } else if (o.finished) {
      // End of output: release everything held back (an incomplete character, a possible stop string).
      stopped = take_text(c, c.detok->flush(), reasoning, content);
      if (!stopped) {
        std::string rest = c.stop->flush();
        if (c.reasoning) {
          ReasoningParser::Delta d = c.reasoning->push(rest);
          reasoning += d.reasoning;
          content += d.content;
        } else {
          content += rest;
        }
      }
      FinishReason fr = o.finish_reason.value_or(FinishReason::stop);
      finish = stopped ? std::string("stop") : std::string(to_string(fr));
      if (fr == FinishReason::error && !stopped) error_ = o.error.empty() ? "the engine failed" : o.error;
    }
    if (finish && c.reasoning) {
      // Output cut before </think> is all reasoning.
      ReasoningParser::Delta f = c.reasoning->flush();
      reasoning += f.reasoning;
      content += f.content;
    }
    if (req_.stream && !gone_)
      emit_chunk(c, reasoning, content, std::move(lps), finish);
    else {
      c.reasoning_text += reasoning;
      c.content += content;
      for (auto& e : lps) c.logprobs.push_back(std::move(e));
    }
    if (finish) finish_choice(c, *finish);
  }

  bool all_finished = false;
  if (o.finished && !c.engine_done) {
    c.engine_done = true;
    ++engine_finished_;
    ServerMetrics::Finished f;
    f.reason = c.finish_reason == "stop"     ? FinishReason::stop
               : c.finish_reason == "length" ? FinishReason::length
               : c.finish_reason == "error"  ? FinishReason::error
                                             : FinishReason::abort;
    f.prompt_tokens = o.prompt_tokens;
    f.completion_tokens = c.completion_tokens;
    if (o.scheduled_time != Clock::time_point{}) f.queue_s = seconds(o.scheduled_time - o.arrival_time);
    f.ttft_s = c.ttft_s;
    f.e2e_s = seconds(now - o.arrival_time);
    metrics_.request_finished(f);
    all_finished = engine_finished_ == choices_.size();
  }
  if (!all_finished) return;
  summary_.total_s = seconds(Clock::now() - t0_);
  JobSummary s = summary_;
  lock.unlock();
  if (on_done_) on_done_(s);
}

void GenerationJob::emit_chunk(Choice& c, const std::string& reasoning, const std::string& content,
                               std::vector<LogprobEntry> lps, const std::optional<std::string>& finish) {
  const bool chat = req_.endpoint == Endpoint::chat;
  if (reasoning.empty() && content.empty() && lps.empty() && !finish) return;
  json lp = nullptr;
  if (req_.logprobs && !lps.empty()) {
    lp = chat ? chat_logprobs(lps) : completion_logprobs(lps, c.logprob_offset, req_.top_logprobs > 0);
    for (const auto& e : lps) c.logprob_offset += e.token.size();
  }
  if (chat) {
    json delta = json::object();
    if (!reasoning.empty()) delta["reasoning_content"] = delta["reasoning"] = reasoning;
    if (!content.empty()) delta["content"] = content;
    res_->write(sse_event(chat_chunk(head_, c.index, std::move(delta), lp, finish, req_.include_usage)));
  } else {
    res_->write(sse_event(completion_chunk(head_, c.index, content, lp, finish, req_.include_usage)));
  }
}

void GenerationJob::finish_choice(Choice& c, const std::string& reason) {
  c.done = true;
  c.finish_reason = reason;
  if (c.ttft_s >= 0 && summary_.ttft_s < 0) summary_.ttft_s = c.ttft_s;
  summary_.completion_tokens += c.completion_tokens;
  summary_.finish_reason = reason;
  if (++choices_done_ == choices_.size()) respond();
}

void GenerationJob::respond() {
  if (responded_) return;
  responded_ = true;
  size_t completion = 0;
  for (const auto& c : choices_) completion += c->completion_tokens;
  json usage = usage_json(prompt_tokens_, completion);
  if (gone_) return;
  if (req_.stream) {
    if (error_) {
      ApiError e(500, *error_, "internal_server_error");
      res_->write(sse_event(e.to_json()));
    }
    if (req_.include_usage) res_->write(sse_event(usage_chunk(head_, usage)));
    res_->write(kSseDone);
    res_->end_stream();
    return;
  }
  if (error_) {
    summary_.status = 500;
    ApiError e(500, *error_, "internal_server_error");
    res_->send(500, "application/json", dump_json(e.to_json()));
    return;
  }
  json choices = json::array();
  for (const auto& c : choices_) {
    if (req_.endpoint == Endpoint::chat) {
      json lp = req_.logprobs ? chat_logprobs(c->logprobs) : json(nullptr);
      std::optional<std::string> reasoning;
      if (c->reasoning) reasoning = c->reasoning_text;
      choices.push_back(chat_choice(c->index, c->content, reasoning, m_.reasoning, lp, c->finish_reason));
    } else {
      json lp = req_.logprobs ? completion_logprobs(c->logprobs, 0, req_.top_logprobs > 0) : json(nullptr);
      choices.push_back(completion_choice(c->index, c->content, lp, c->finish_reason));
    }
  }
  res_->send(200, "application/json", dump_json(full_response(head_, std::move(choices), usage)));
}

}  // namespace r1::server
