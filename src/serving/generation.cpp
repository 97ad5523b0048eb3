#include "serving/generation.h"

#include <fmt/format.h>

#include "serving/reasoning_parser.h"
#include "serving/serving_error.h"
#include "serving/stop_matcher.h"
#include "tokenizer/detokenizer.h"

namespace r1::serving {

namespace {
double seconds(Clock::duration d) {
  return std::chrono::duration<double>(d).count();
}
// Takes the events of a generation whose start failed: its caller answers with the error instead.
struct Silent final : GenerationObserver {
  void on_complete(const GenerateResult&) override {}
};
}  // namespace

struct Generation::Choice {
  size_t index = 0;
  std::string engine_id;
  std::vector<int32_t> prompt_ids;
  std::unique_ptr<IncrementalDetokenizer> detok;
  std::unique_ptr<StopMatcher> stop;
  std::optional<ReasoningParser> reasoning;
  std::optional<ToolCallParser> tools;
  ChoiceResult result;  // everything released so far
  ChoiceDelta first;    // echo: the prompt, sent right after on_started
  bool done = false, engine_done = false, got_first = false;
  Clock::time_point last_token;
  double ttft_s = -1;
};

Generation::Generation(std::shared_ptr<ServedModel> model, StatsSink* stats, std::string id,
                       GenerateParams params, std::shared_ptr<GenerationObserver> observer,
                       std::shared_ptr<void> slot)
    : m_(std::move(model)),
      stats_(stats),
      id_(std::move(id)),
      p_(std::move(params)),
      obs_(std::move(observer)),
      slot_(std::move(slot)),
      t0_(Clock::now()) {
  cut_at_ = p_.deadline;
  if (p_.timeout && (!cut_at_ || t0_ + *p_.timeout <= *cut_at_)) {
    cut_at_ = t0_ + *p_.timeout;
    cut_by_timeout_ = true;
  }
}

Generation::~Generation() = default;

std::string Generation::token_text(int32_t id) const {
  // A model's vocabulary may be padded past the tokenizer's: such ids have no text.
  if (id < 0 || size_t(id) >= m_->tokenizer->vocab_size()) return "";
  return m_->tokenizer->token_bytes(id, true);
}

LogprobEntry Generation::logprob_entry(const TokenLogprob& lp) const {
  LogprobEntry e;
  e.token = token_text(lp.id);
  e.logprob = lp.logprob;
  e.id = lp.id;
  e.special = lp.id >= 0 && size_t(lp.id) < m_->tokenizer->vocab_size() && m_->tokenizer->is_special(lp.id);
  for (const auto& [id, v] : lp.top) {
    e.top.emplace_back(token_text(id), v);
    e.top_ids.push_back(id);
  }
  return e;
}

void Generation::start(std::vector<Prompt> prompts) {
  std::unique_lock lock(mu_);
  for (size_t p = 0; p < prompts.size(); ++p) {
    prompt_tokens_ += prompts[p].ids.size();
    for (int i = 0; i < p_.n; ++i) {
      auto c = std::make_unique<Choice>();
      c->index = p * size_t(p_.n) + size_t(i);
      c->result.index = c->first.index = c->index;
      c->engine_id = fmt::format("{}-{}", id_, c->index);
      c->prompt_ids = prompts[p].ids;
      c->detok = std::make_unique<IncrementalDetokenizer>(*m_->tokenizer, p_.skip_special_tokens);
      // The output continues the prompt: prime the detokenizer with the prompt's last text token so the first
      // generated token is not decoded as the start of a text (SentencePiece would drop its leading space).
      for (auto it = c->prompt_ids.rbegin(); it != c->prompt_ids.rend(); ++it) {
        if (*it < 0 || size_t(*it) >= m_->tokenizer->vocab_size() || m_->tokenizer->is_special(*it)) continue;
        c->detok->push(*it);
        c->detok->flush();
        break;
      }
      c->stop = std::make_unique<StopMatcher>(p_.stop);
      if (p_.reasoning) c->reasoning.emplace(true);
      if (p_.tool_calls) c->tools.emplace(p_.tool_format);
      if (p_.echo) {
        c->first.content = prompts[p].text;
        // Prompt tokens are listed without log-probabilities (the engine computes none for the prompt).
        if (p_.logprobs >= 0)
          for (int32_t id : prompts[p].ids) c->first.logprobs.push_back({token_text(id), std::nullopt, {}});
        c->result.content = c->first.content;
        c->result.logprobs = c->first.logprobs;
      }
      choices_.push_back(std::move(c));
    }
  }
  summary_.prompt_tokens = prompt_tokens_;

  auto echo_first = [this] {
    if (!p_.echo) return;
    for (auto& c : choices_) obs_->on_delta(c->first);
  };
  if (p_.max_tokens == 0) {
    // Echo with max_tokens 0: the prompt is the whole answer, no engine work.
    obs_->on_started();
    echo_first();
    for (auto& c : choices_) {
      c->engine_done = true;
      ChoiceDelta d;
      d.index = c->index;
      d.finish_reason = "length";
      obs_->on_delta(d);
      finish_choice(*c, "length");
    }
    engine_finished_ = choices_.size();
    lock.unlock();
    summary_.total_s = seconds(Clock::now() - t0_);
    obs_->on_finished(summary_);
    slot_.reset();
    return;
  }

  auto self = shared_from_this();
  size_t added = 0;
  try {
    for (auto& c : choices_) {
      EngineRequest er;
      er.id = c->engine_id;
      er.prompt = c->prompt_ids;
      er.sampling = p_.sampling;
      if (er.sampling.seed && p_.n > 1) er.sampling.seed = *er.sampling.seed + uint64_t(c->index);
      er.max_tokens = p_.max_tokens;
      er.stop_token_ids = p_.stop_token_ids;
      er.ignore_eos = p_.ignore_eos;
      er.logprobs = p_.logprobs;
      er.prompt_logprobs = p_.prompt_logprobs;
      if (p_.constraint) er.constraint = p_.constraint->make();
      size_t idx = c->index;
      m_->engine->add(std::move(er), [self, idx](const RequestOutput& o) { self->on_output(idx, o); });
      ++added;
    }
  } catch (const r1::Error& e) {
    for (size_t i = 0; i < added; ++i) m_->engine->abort(choices_[i]->engine_id);
    // Choices never added will get no callback: count them as finished now.
    engine_finished_ += choices_.size() - added;
    for (size_t i = added; i < choices_.size(); ++i) choices_[i]->engine_done = true;
    completed_ = true;  // the adapter answers with this error
    obs_ = std::make_shared<Silent>();
    std::string what = e.what();
    std::optional<std::string> param;
    if (what.find("logit_bias") != std::string::npos) param = "logit_bias";
    throw ServingError(ErrorKind::invalid_request, what, param);
  }
  obs_->on_started();
  echo_first();
}

void Generation::expire() {
  std::lock_guard lock(mu_);
  if (completed_ || cancelled_) return;
  expired_ = true;
  // The engine answers each abort with a last output (finish_reason abort), which on_output turns into the
  // choice's "length" end; its KV blocks are freed on the engine's next step.
  for (auto& c : choices_)
    if (!c->engine_done && !c->done) m_->engine->abort(c->engine_id);
}

void Generation::cancel() {
  std::lock_guard lock(mu_);
  if (completed_) return;
  cancelled_ = true;
  summary_.cancelled = true;
  for (auto& c : choices_)
    if (!c->engine_done) m_->engine->abort(c->engine_id);
}

bool Generation::take_text(Choice& c, const std::string& piece, ChoiceDelta& d) {
  StopMatcher::Result r = c.stop->push(piece);
  if (c.reasoning) {
    ReasoningParser::Delta rd = c.reasoning->push(r.text);
    d.reasoning += rd.reasoning;
    take_content(c, rd.content, d);
  } else {
    take_content(c, r.text, d);
  }
  return r.stopped;
}

void Generation::take_content(Choice& c, const std::string& text, ChoiceDelta& d) {
  if (!c.tools) {
    d.content += text;
    return;
  }
  ToolCallParser::Delta td = c.tools->push(text);
  d.content += td.content;
  for (auto& call : td.calls) d.tool_calls.push_back(std::move(call));
}

void Generation::on_output(size_t idx, const RequestOutput& o) {
  std::unique_lock lock(mu_);
  Choice& c = *choices_.at(idx);
  const auto now = o.now;
  if (!c.got_first && !o.new_token_ids.empty()) {
    c.got_first = true;
    c.ttft_s = seconds(o.first_token_time - o.arrival_time);
    c.last_token = now;
    cached_tokens_ += o.cached_prompt_tokens;
    if (stats_) stats_->tokens(o.prompt_tokens, 0);
    if (p_.prompt_logprobs >= 0 && !c.prompt_ids.empty()) {
      LogprobEntry first = logprob_entry({c.prompt_ids.front(), 0, {}});
      first.logprob.reset();
      c.result.prompt_logprobs.push_back(std::move(first));
      for (const TokenLogprob& lp : o.prompt_logprobs) c.result.prompt_logprobs.push_back(logprob_entry(lp));
    }
  } else if (!o.new_token_ids.empty()) {
    double itl = seconds(now - c.last_token) / double(o.new_token_ids.size());
    if (stats_)
      for (size_t i = 0; i < o.new_token_ids.size(); ++i) stats_->inter_token(itl);
    c.last_token = now;
  }
  if (stats_) stats_->tokens(0, o.new_token_ids.size());

  if (!c.done) {
    ChoiceDelta d;
    d.index = c.index;
    bool stopped = false;
    for (size_t k = 0; k < o.new_token_ids.size() && !stopped; ++k) {
      int32_t id = o.new_token_ids[k];
      ++c.result.completion_tokens;
      if (c.reasoning && c.reasoning->in_reasoning()) ++c.result.reasoning_tokens;
      if (k < o.logprobs.size()) d.logprobs.push_back(logprob_entry(o.logprobs[k]));
      std::string piece = size_t(id) < m_->tokenizer->vocab_size() ? c.detok->push(id) : std::string();
      stopped = take_text(c, piece, d);
    }
    // A natural end (EOS, max tokens) at the deadline stands; an abort after expire() is the deadline's.
    const bool natural_end = o.finished && o.finish_reason != FinishReason::abort;
    const bool past_deadline =
        !stopped && !natural_end && (expired_ || (cut_at_ && std::chrono::steady_clock::now() >= *cut_at_));
    if (past_deadline && cut_by_timeout_) timed_out_ = true;
    if (stopped) {
      d.finish_reason = "stop";
      if (!o.finished) m_->engine->abort(c.engine_id);  // the engine does not know stop strings
    } else if (o.finished || past_deadline) {
      if (past_deadline && !o.finished) m_->engine->abort(c.engine_id);  // nor deadlines
      // End of output: release everything held back (an incomplete character, a possible stop string).
      stopped = take_text(c, c.detok->flush(), d);
      if (!stopped) {
        std::string rest = c.stop->flush();
        if (c.reasoning) {
          ReasoningParser::Delta rd = c.reasoning->push(rest);
          d.reasoning += rd.reasoning;
          take_content(c, rd.content, d);
        } else {
          take_content(c, rest, d);
        }
      }
      FinishReason fr = past_deadline ? FinishReason::length : o.finish_reason.value_or(FinishReason::stop);
      d.finish_reason = stopped ? std::string("stop") : std::string(to_string(fr));
      if (fr == FinishReason::error && !stopped) error_ = o.error.empty() ? "the engine failed" : o.error;
    }
    if (stopped) c.result.stop_string = true;
    if (d.finish_reason && c.reasoning) {
      // Output cut before </think> is all reasoning.
      ReasoningParser::Delta f = c.reasoning->flush();
      d.reasoning += f.reasoning;
      take_content(c, f.content, d);
    }
    if (d.finish_reason && c.tools) {
      d.content += c.tools->flush().content;
      // An answer that called tools ends with "tool_calls", as OpenAI's do.
      if (c.tools->any() && *d.finish_reason == "stop") d.finish_reason = "tool_calls";
    }
    c.result.reasoning += d.reasoning;
    c.result.content += d.content;
    for (const auto& call : d.tool_calls) c.result.tool_calls.push_back(call);
    for (const auto& e : d.logprobs) c.result.logprobs.push_back(e);
    const bool empty = d.reasoning.empty() && d.content.empty() && d.tool_calls.empty() &&
                       d.logprobs.empty() && !d.finish_reason;
    if (!cancelled_ && !empty) obs_->on_delta(d);
    if (d.finish_reason) finish_choice(c, *d.finish_reason);
  }

  bool all_finished = false;
  if (o.finished && !c.engine_done) {
    c.engine_done = true;
    ++engine_finished_;
    StatsSink::Finished f;
    const std::string& r = c.result.finish_reason;
    f.reason = r == "stop" || r == "tool_calls" ? FinishReason::stop
               : r == "length"                  ? FinishReason::length
               : r == "error"                   ? FinishReason::error
                                                : FinishReason::abort;
    f.prompt_tokens = o.prompt_tokens;
    f.completion_tokens = c.result.completion_tokens;
    f.max_tokens = p_.max_tokens;
    const bool scheduled = o.scheduled_time != Clock::time_point{};
    if (scheduled) f.queue_s = seconds(o.scheduled_time - o.arrival_time);
    f.ttft_s = c.ttft_s;
    f.e2e_s = seconds(now - o.arrival_time);
    // vLLM's split of a request's time: prefill from first scheduled to first token, decode from the first
    // token to the last.
    if (c.got_first) {
      if (scheduled) f.prefill_s = seconds(o.first_token_time - o.scheduled_time);
      f.decode_s = seconds(c.last_token - o.first_token_time);
    }
    if (stats_) stats_->request_finished(f);
    all_finished = engine_finished_ == choices_.size();
  }
  if (!all_finished) return;
  summary_.total_s = seconds(Clock::now() - t0_);
  GenerationSummary s = summary_;
  auto obs = obs_;
  lock.unlock();
  obs->on_finished(s);
  slot_.reset();
}

void Generation::finish_choice(Choice& c, const std::string& reason) {
  c.done = true;
  c.result.finish_reason = reason;
  if (c.ttft_s >= 0 && summary_.ttft_s < 0) summary_.ttft_s = c.ttft_s;
  summary_.completion_tokens += c.result.completion_tokens;
  summary_.finish_reason = reason;
  if (++choices_done_ == choices_.size()) complete();
}

void Generation::complete() {
  if (completed_) return;
  completed_ = true;
  if (cancelled_) return;
  GenerateResult r;
  r.prompt_tokens = prompt_tokens_;
  r.cached_tokens = cached_tokens_;
  r.error = error_;
  if (timed_out_)
    r.timed_out = fmt::format(
        "The request took longer than the server's --request-timeout of {:.3g} s (queue wait + generation); "
        "{} tokens were generated.",
        double(p_.timeout->count()) / 1000, summary_.completion_tokens);
  for (const auto& c : choices_) {
    r.completion_tokens += c->result.completion_tokens;
    r.reasoning_tokens += c->result.reasoning_tokens;
    r.choices.push_back(c->result);
  }
  obs_->on_complete(r);
}

}  // namespace r1::serving
