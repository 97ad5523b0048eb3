#include "engine/model_runner.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "core/thread_pool.h"
#include "engine/request.h"
#include "engine/token_select.h"
#include "kernels/sampling.h"

namespace r1 {

ModelRunner::ModelRunner(ModelExecutor& exec, const KvCacheManager& kv) : exec_(exec), kv_(kv) {}

std::vector<int32_t> ModelRunner::execute(const StepPlan& plan) {
  const size_t vocab = exec_.vocab_size();
  batch_.tokens.clear();
  batch_.seqs.clear();
  batch_.logit_rows.clear();
  sampling_.clear();
  sampling_rows_.clear();
  scored_.clear();
  for (const ScheduledChunk& c : plan.chunks) {
    Request& r = *c.req;
    R1_CHECK(c.start + c.n_tokens <= r.tokens.size(), "chunk past the end of request {}", r.id());
    SequenceSlice s;
    s.first_token = batch_.tokens.size();
    s.n_tokens = c.n_tokens;
    s.start_pos = c.start;
    s.block_table = kv_.block_table(r.seq).data();
    batch_.tokens.insert(batch_.tokens.end(), r.tokens.begin() + long(c.start),
                         r.tokens.begin() + long(c.start + c.n_tokens));
    // Prompt positions to score come before the chunk's sampled row (always its last token, past the prompt's
    // scored positions), so rows stay in token order. A position already scored (a preempted request
    // computing its prompt again) is not scored twice.
    if (r.scores_prompt())
      for (size_t p = std::max(c.start, r.prompt_logprobs.size());
           p < c.start + c.n_tokens && p + 1 < r.num_prompt; ++p) {
        scored_.push_back({&r, p, batch_.logit_rows.size()});
        batch_.logit_rows.push_back(int32_t(s.first_token + (p - c.start)));
      }
    if (c.samples) {
      sampling_rows_.push_back(batch_.logit_rows.size());
      batch_.logit_rows.push_back(int32_t(s.first_token + c.n_tokens - 1));
      sampling_.push_back(&r);
    }
    batch_.seqs.push_back(s);
  }
  logits_.resize(batch_.logit_rows.size() * vocab);
  if (!batch_.tokens.empty()) exec_.forward(batch_, logits_.data());
  for (const Scored& s : scored_) {
    Request& r = *s.req;
    R1_CHECK(s.position == r.prompt_logprobs.size(), "prompt position {} of request {} scored out of order",
             s.position, r.id());
    r.prompt_logprobs.push_back(token_logprob(std::span<const float>(logits_.data() + s.row * vocab, vocab),
                                              r.tokens[s.position + 1], r.params.prompt_logprobs));
  }

  // Each row touches only its own request (sampler, logprobs), so rows are independent.
  std::vector<int32_t> sampled(sampling_.size());
  ThreadPool* pool = exec_.thread_pool();
  const size_t n_threads = pool ? size_t(pool->size()) : 1;
  if (raw_rows_.size() < n_threads) raw_rows_.resize(n_threads);
  auto sample_rows = [&](size_t begin, size_t end, size_t thread) {
    for (size_t row = begin; row < end; ++row) {
      Request& r = *sampling_[row];
      std::span<float> logits(logits_.data() + sampling_rows_[row] * vocab, vocab);
      const bool want_logprobs = r.params.logprobs >= 0;
      std::vector<float>& raw = raw_rows_[thread];
      if (want_logprobs) raw.assign(logits.begin(), logits.end());
      sampled[row] = sample_constrained(r, logits);
      if (want_logprobs) r.unreported_logprobs.push_back(token_logprob(raw, sampled[row], r.params.logprobs));
    }
  };
  if (pool && sampling_.size() > 1) {
    pool->run([&](int t, int nt) {
      const size_t n = sampling_.size();
      sample_rows(n * size_t(t) / size_t(nt), n * size_t(t + 1) / size_t(nt), size_t(t));
    });
  } else {
    sample_rows(0, sampling_.size(), 0);
  }
  return sampled;
}

int32_t sample_constrained(Request& r, std::span<float> logits) {
  TokenConstraint* c = r.params.constraint.get();
  if (!c) return r.sampler.sample(logits, r.prompt(), r.output());
  try {
    r.allowed.resize((logits.size() + 31) / 32);
    const bool restricted = c->fill_mask(r.allowed);
    const int32_t id = restricted ? r.sampler.sample(logits, r.prompt(), r.output(), r.allowed)
                                  : r.sampler.sample(logits, r.prompt(), r.output());
    if (!c->accept(id)) {
      r.constraint_error =
          fmt::format("internal error: token {} was sampled outside the output constraint", id);
    } else {
      r.constraint_complete = c->finished();
    }
    return id;
  } catch (const std::exception& e) {
    r.constraint_error = fmt::format("the output constraint failed: {}", e.what());
    return 0;
  }
}

TokenLogprob token_logprob(std::span<const float> logits, int32_t id, int top_n) {
  R1_CHECK(id >= 0 && size_t(id) < logits.size(), "sampled id {} outside the vocab", id);
  const auto& kern = kernels::active_sampling_kernels();
  const float mx = logits[kern.argmax(logits.data(), logits.size())];
  thread_local std::vector<float> e;
  e.resize(logits.size());
  const double lse =
      double(mx) + std::log(kern.exp_shifted(logits.data(), logits.size(), mx, 1.0f, e.data(), nullptr));
  TokenLogprob out;
  out.id = id;
  out.logprob = float(double(logits[size_t(id)]) - lse);
  const size_t n = std::min(size_t(std::max(top_n, 0)), logits.size());
  if (n > 0) {
    thread_local std::vector<int32_t> top, scratch;
    top_k_by_rank(kern, logits, n, top, scratch);
    for (int32_t t : top) out.top.emplace_back(t, float(double(logits[size_t(t)]) - lse));
  }
  return out;
}

}  // namespace r1
