#include "engine/model_runner.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"

namespace r1 {

ModelRunner::ModelRunner(ModelExecutor& exec, const KvCacheManager& kv) : exec_(exec), kv_(kv) {}

std::vector<int32_t> ModelRunner::execute(const StepPlan& plan) {
  const size_t vocab = exec_.vocab_size();
  batch_.tokens.clear();
  batch_.seqs.clear();
  batch_.logit_rows.clear();
  for (const ScheduledChunk& c : plan.chunks) {
    const Request& r = *c.req;
    R1_CHECK(c.start + c.n_tokens <= r.tokens.size(), "chunk past the end of request {}", r.id());
    SequenceSlice s;
    s.first_token = batch_.tokens.size();
    s.n_tokens = c.n_tokens;
    s.start_pos = c.start;
    s.block_table = kv_.block_table(r.seq).data();
    batch_.tokens.insert(batch_.tokens.end(), r.tokens.begin() + long(c.start),
                         r.tokens.begin() + long(c.start + c.n_tokens));
    if (c.samples) batch_.logit_rows.push_back(int32_t(s.first_token + c.n_tokens - 1));
    batch_.seqs.push_back(s);
  }
  logits_.resize(batch_.logit_rows.size() * vocab);
  if (!batch_.tokens.empty()) exec_.forward(batch_, logits_.data());

  std::vector<int32_t> sampled;
  sampled.reserve(batch_.logit_rows.size());
  size_t row = 0;
  for (const ScheduledChunk& c : plan.chunks) {
    if (!c.samples) continue;
    Request& r = *c.req;
    std::span<float> logits(logits_.data() + row * vocab, vocab);
    ++row;
    const bool want_logprobs = r.params.logprobs >= 0;
    if (want_logprobs) raw_row_.assign(logits.begin(), logits.end());
    int32_t id = r.sampler.sample(logits, r.prompt(), r.output());
    if (want_logprobs) r.unreported_logprobs.push_back(token_logprob(raw_row_, id, r.params.logprobs));
    sampled.push_back(id);
  }
  return sampled;
}

TokenLogprob token_logprob(std::span<const float> logits, int32_t id, int top_n) {
  R1_CHECK(id >= 0 && size_t(id) < logits.size(), "sampled id {} outside the vocab", id);
  float mx = -INFINITY;
  for (float l : logits) mx = std::max(mx, l);
  double sum = 0;
  for (float l : logits) sum += std::exp(double(l - mx));
  const double lse = double(mx) + std::log(sum);
  TokenLogprob out;
  out.id = id;
  out.logprob = float(double(logits[size_t(id)]) - lse);
  size_t n = std::min(size_t(std::max(top_n, 0)), logits.size());
  if (n > 0) {
    std::vector<int32_t> idx(logits.size());
    for (size_t i = 0; i < idx.size(); ++i) idx[i] = int32_t(i);
    std::partial_sort(idx.begin(), idx.begin() + long(n), idx.end(), [&](int32_t a, int32_t b) {
      return logits[size_t(a)] != logits[size_t(b)] ? logits[size_t(a)] > logits[size_t(b)] : a < b;
    });
    for (size_t i = 0; i < n; ++i) out.top.emplace_back(idx[i], float(double(logits[size_t(idx[i])]) - lse));
  }
  return out;
}

}  // namespace r1
