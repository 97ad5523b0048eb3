// The Engine with its loop thread over the fake executor: outputs equal the directly computed reference under
// batching, chunking, preemption and prefix reuse; validation; abort; logprobs; seeded sampling; failures;
// shutdown; stats and block leaks.
#include "engine/engine.h"

#include <gtest/gtest.h>

#include <cmath>
#include <condition_variable>
#include <map>
#include <mutex>
#include <numeric>
#include <thread>

#include "core/error.h"
#include "engine/model_runner.h"
#include "fake_executor.h"

namespace r1 {
namespace {

using test::FakeExecutor;
using namespace std::chrono_literals;

// Gathers every output, per request, from the engine thread.
class Collector {
 public:
  OutputCallback callback() {
    return [this](const RequestOutput& o) {
      std::lock_guard lock(mu_);
      outputs_[o.id].push_back(o);
      if (o.finished) {
        ++finished_;
        cv_.notify_all();
      }
    };
  }
  bool wait_finished(size_t n, std::chrono::seconds timeout = 60s) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return finished_ >= n; });
  }
  std::vector<int32_t> tokens(const std::string& id) const {
    std::lock_guard lock(mu_);
    std::vector<int32_t> all;
    for (const auto& o : outputs_.at(id))
      all.insert(all.end(), o.new_token_ids.begin(), o.new_token_ids.end());
    return all;
  }
  RequestOutput last(const std::string& id) const {
    std::lock_guard lock(mu_);
    return outputs_.at(id).back();
  }
  std::vector<RequestOutput> all(const std::string& id) const {
    std::lock_guard lock(mu_);
    return outputs_.at(id);
  }
  size_t finished_count(const std::string& id) const {
    std::lock_guard lock(mu_);
    size_t n = 0;
    for (const auto& o : outputs_.at(id)) n += o.finished;
    return n;
  }

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, std::vector<RequestOutput>> outputs_;
  size_t finished_ = 0;
};

EngineRequest greedy(const std::string& id, std::vector<int32_t> prompt, size_t max_tokens) {
  EngineRequest r;
  r.id = id;
  r.prompt = std::move(prompt);
  r.max_tokens = max_tokens;
  r.sampling.temperature = 0;
  r.ignore_eos = true;
  return r;
}

std::vector<int32_t> prompt_of(size_t n, int32_t seed, size_t vocab = 97) {
  std::vector<int32_t> p(n);
  for (size_t i = 0; i < n; ++i) p[i] = int32_t((seed * 131 + int32_t(i) * 17 + 3) % int32_t(vocab));
  return p;
}

struct FakeEngine {
  explicit FakeEngine(EngineConfig cfg, std::vector<int32_t> eos = {}) {
    auto f = std::make_unique<FakeExecutor>(97, 4096, std::move(eos));
    fake = f.get();
    engine = std::make_unique<Engine>(std::move(f), cfg);
  }
  FakeExecutor* fake;
  std::unique_ptr<Engine> engine;
};

EngineConfig small_config(size_t n_blocks, size_t block_size = 4) {
  EngineConfig c;
  c.block_size = block_size;
  c.kv_cache_bytes = n_blocks * block_size * 100;  // the fake's block_bytes is 100 per position
  c.max_num_seqs = 16;
  c.max_batch_tokens = 64;
  return c;
}

TEST(Engine, SizesThePoolAndDerivesMaxModelLen) {
  FakeEngine s(small_config(10));
  EXPECT_EQ(s.engine->num_kv_blocks(), 10u);
  EXPECT_EQ(s.engine->kv_capacity_tokens(), 40u);
  EXPECT_EQ(s.engine->max_model_len(), 40u);  // below max_position_embeddings 4096
  EXPECT_EQ(s.engine->stats().kv_blocks_total, 10u);

  EngineConfig c = small_config(10);
  c.max_model_len = 41;
  EXPECT_THROW(Engine(std::make_unique<FakeExecutor>(), c), Error);
  c.max_model_len = 32;
  Engine e(std::make_unique<FakeExecutor>(), c);
  EXPECT_EQ(e.max_model_len(), 32u);
  c.kv_cache_bytes = 10;  // less than one block
  c.max_model_len = 0;
  EXPECT_THROW(Engine(std::make_unique<FakeExecutor>(), c), Error);
}

TEST(Engine, RejectsBadRequestsWithTheNumbers) {
  FakeEngine s(small_config(10));
  Collector col;
  auto expect_error = [&](EngineRequest r, const std::string& needle) {
    try {
      s.engine->add(std::move(r), col.callback());
      ADD_FAILURE() << "accepted; expected an error containing " << needle;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  expect_error(greedy("a", {}, 4), "empty");
  expect_error(greedy("b", {1, 97}, 4), "token 97 at index 1");
  expect_error(greedy("c", {1, -1}, 4), "token -1");
  expect_error(greedy("d", prompt_of(30, 1), 11), "30 prompt tokens + 11 max_tokens = 41 exceeds");
  expect_error(greedy("e", {1}, 0), "max_tokens");
  auto bad = greedy("f", {1}, 2);
  bad.sampling.top_p = 0;
  expect_error(bad, "top_p");
  expect_error(greedy("", {1}, 2), "id is empty");
  // The first "dup" holds the engine thread in its first callback until the duplicate has been refused.
  std::mutex mu;
  std::condition_variable cv;
  bool refused = false;
  auto inner = col.callback();
  s.engine->add(greedy("dup", {1, 2}, 30), [&](const RequestOutput& o) {
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return refused; });
    inner(o);
  });
  expect_error(greedy("dup", {1, 2}, 2), "already in flight");
  {
    std::lock_guard lock(mu);
    refused = true;
    cv.notify_all();
  }
  ASSERT_TRUE(col.wait_finished(1));
  // Once finished, the id may be reused.
  s.engine->add(greedy("dup", {1, 2}, 2), col.callback());
  ASSERT_TRUE(col.wait_finished(2));
}

TEST(Engine, ConcurrentRequestsMatchTheReferenceAndLeakNothing) {
  FakeEngine s(small_config(200));
  Collector col;
  std::map<std::string, std::vector<int32_t>> want;
  {
    // Steps wait until all 24 are queued: the fake model is so fast that the loop could otherwise finish
    // each request before the next arrives, and the batching checked below would depend on timing.
    auto held = s.fake->hold_steps();
    for (int i = 0; i < 24; ++i) {
      std::string id = "r" + std::to_string(i);
      auto p = prompt_of(size_t(1 + (i * 7) % 40), i);
      size_t n = size_t(1 + i % 13);
      want[id] = s.fake->reference_greedy(p, n);
      s.engine->add(greedy(id, p, n), col.callback());
    }
  }
  ASSERT_TRUE(col.wait_finished(24));
  ASSERT_TRUE(s.engine->wait_idle(10s));
  for (auto& [id, tokens] : want) {
    EXPECT_EQ(col.tokens(id), tokens) << id;
    RequestOutput last = col.last(id);
    EXPECT_EQ(last.finish_reason, FinishReason::length);
    EXPECT_EQ(last.completion_tokens, tokens.size());
    EXPECT_EQ(col.finished_count(id), 1u);
  }
  EngineStats st = s.engine->stats();
  EXPECT_EQ(st.kv_blocks_used, 0u);
  EXPECT_EQ(st.running + st.waiting, 0u);
  EXPECT_EQ(st.requests_finished, 24u);
  size_t gen = 0;
  for (auto& [id, t] : want) gen += t.size();
  EXPECT_EQ(st.generation_tokens_total, gen);
  // More than one request per forward pass: batching happened.
  size_t max_seqs = 0;
  for (auto& step : s.fake->steps()) max_seqs = std::max(max_seqs, step.seqs.size());
  EXPECT_GT(max_seqs, 1u);
  EXPECT_LE(max_seqs, 16u);  // max_num_seqs
}

// log-softmax of the fake model's row after `history`, at `id`.
double fake_logprob(const FakeExecutor& f, std::span<const int32_t> history, int32_t id) {
  std::vector<float> row(f.vocab_size());
  f.fill_logits(history, row.data());
  double lse = 0, mx = *std::max_element(row.begin(), row.end());
  for (float l : row) lse += std::exp(double(l) - mx);
  return row[size_t(id)] - (mx + std::log(lse));
}

// Every prompt token after the first is scored given the tokens before it; the scores arrive once, with the
// first token, whatever the chunking; a prompt whose prefix is cached is computed in full all the same.
TEST(Engine, PromptLogprobsScoreEveryPromptTokenOnceWhateverTheChunksAndTheCache) {
  EngineConfig cfg = small_config(256);
  cfg.max_batch_tokens = 512;  // the budget would take the whole prompt: kPromptLogprobsChunk cuts it
  FakeEngine s(cfg);
  Collector col;
  auto p = prompt_of(300, 9);
  s.engine->add(greedy("warm", p, 2), col.callback());  // leaves the prompt's blocks in the prefix cache
  ASSERT_TRUE(col.wait_finished(1));
  const size_t warm_steps = s.fake->steps().size();
  auto r = greedy("scored", p, 3);
  r.prompt_logprobs = 2;
  s.engine->add(r, col.callback());
  ASSERT_TRUE(col.wait_finished(2));
  std::vector<TokenLogprob> got;
  size_t outputs_with_scores = 0;
  for (auto& o : col.all("scored")) {
    if (o.prompt_logprobs.empty()) continue;
    ++outputs_with_scores;
    EXPECT_FALSE(o.new_token_ids.empty());  // they come with the first token
    got = o.prompt_logprobs;
  }
  EXPECT_EQ(outputs_with_scores, 1u);
  ASSERT_EQ(got.size(), p.size() - 1);
  for (size_t k = 0; k < got.size(); ++k) {
    std::span<const int32_t> history(p.data(), k + 1);
    EXPECT_EQ(got[k].id, p[k + 1]);
    EXPECT_NEAR(got[k].logprob, fake_logprob(*s.fake, history, p[k + 1]), 1e-5) << k;
    ASSERT_EQ(got[k].top.size(), 2u);
    EXPECT_GE(got[k].top[0].second, got[k].top[1].second);
  }
  EXPECT_EQ(col.last("scored").cached_prompt_tokens, 0u);
  EXPECT_EQ(col.tokens("scored"), s.fake->reference_greedy(p, 3));
  // The unscored prompt went in one step; the scored one in chunks of at most kPromptLogprobsChunk tokens.
  auto steps = s.fake->steps();
  ASSERT_GT(steps.size(), warm_steps);
  EXPECT_EQ(steps.front().n_tokens, p.size());
  size_t computed = 0;
  for (size_t i = warm_steps; i < steps.size(); ++i)
    for (auto& seq : steps[i].seqs) {
      EXPECT_LE(seq.n_tokens, kPromptLogprobsChunk);
      computed += seq.n_tokens;
    }
  EXPECT_EQ(computed, p.size() + 2);  // the whole prompt, then one step per later token
  EXPECT_EQ(s.engine->stats().kv_blocks_used, 0u);
  for (auto& o : col.all("warm")) EXPECT_TRUE(o.prompt_logprobs.empty());
}

// Preempted while its prompt is being scored, a request computes it again and scores each position once.
TEST(Engine, PromptLogprobsSurvivePreemption) {
  EngineConfig cfg = small_config(12);
  cfg.max_batch_tokens = 16;
  FakeEngine s(cfg);
  Collector col;
  std::map<std::string, std::vector<int32_t>> prompts;
  {
    auto held = s.fake->hold_steps();
    for (int i = 0; i < 10; ++i) {
      std::string id = "p" + std::to_string(i);
      prompts[id] = prompt_of(size_t(5 + (i * 5) % 17), 200 + i);
      auto r = greedy(id, prompts[id], 10);
      r.prompt_logprobs = 0;
      s.engine->add(r, col.callback());
    }
  }
  ASSERT_TRUE(col.wait_finished(10));
  EXPECT_GT(s.engine->stats().preemptions, 0u);
  for (auto& [id, p] : prompts) {
    std::vector<TokenLogprob> got;
    for (auto& o : col.all(id))
      if (!o.prompt_logprobs.empty()) got = o.prompt_logprobs;
    ASSERT_EQ(got.size(), p.size() - 1) << id;
    for (size_t k = 0; k < got.size(); ++k) {
      EXPECT_NEAR(got[k].logprob, fake_logprob(*s.fake, std::span<const int32_t>(p.data(), k + 1), p[k + 1]),
                  1e-5)
          << id << " " << k;
      EXPECT_TRUE(got[k].top.empty());
    }
    EXPECT_EQ(col.tokens(id), s.fake->reference_greedy(p, 10)) << id;
  }
}

TEST(Engine, AFullyCachedPromptRecomputesItsLastBlock) {
  FakeEngine s(small_config(64));
  Collector col;
  auto p = prompt_of(8, 6);  // exactly 2 blocks of 4
  s.engine->add(greedy("first", p, 3), col.callback());
  ASSERT_TRUE(col.wait_finished(1));
  s.engine->add(greedy("again", p, 3), col.callback());
  ASSERT_TRUE(col.wait_finished(2));
  EXPECT_EQ(col.last("again").cached_prompt_tokens, 4u);  // the block with the last token is computed again
  EXPECT_EQ(col.tokens("again"), col.tokens("first"));
  EXPECT_EQ(col.tokens("first"), s.fake->reference_greedy(p, 3));
  auto steps = s.fake->steps();
  bool recomputed = false;
  for (auto& st : steps)
    for (auto& seq : st.seqs) recomputed |= seq.start_pos == 4 && seq.n_tokens == 4;
  EXPECT_TRUE(recomputed);
}

TEST(Engine, TinyPoolPreemptsYetEveryOutputIsUnchanged) {
  // 12 blocks of 4 = 48 slots for 10 requests of up to 30 tokens: preemption and recompute are unavoidable.
  EngineConfig cfg = small_config(12);
  cfg.max_batch_tokens = 16;  // also forces chunked prefill
  FakeEngine s(cfg);
  Collector col;
  std::map<std::string, std::vector<int32_t>> want;
  {
    // All 10 must be in the engine together for the pool to run short (see the test above).
    auto held = s.fake->hold_steps();
    for (int i = 0; i < 10; ++i) {
      std::string id = "p" + std::to_string(i);
      auto p = prompt_of(size_t(5 + (i * 5) % 17), 100 + i);
      want[id] = s.fake->reference_greedy(p, 10);
      s.engine->add(greedy(id, p, 10), col.callback());
    }
  }
  ASSERT_TRUE(col.wait_finished(10));
  ASSERT_TRUE(s.engine->wait_idle(10s));
  for (auto& [id, tokens] : want) EXPECT_EQ(col.tokens(id), tokens) << id;
  EngineStats st = s.engine->stats();
  EXPECT_GT(st.preemptions, 0u);
  EXPECT_EQ(st.kv_blocks_used, 0u);
  for (auto& step : s.fake->steps()) EXPECT_LE(step.n_tokens, 16u);
}

TEST(Engine, SecondRoundHitsThePrefixCacheWithTheSameOutputs) {
  FakeEngine s(small_config(256));
  Collector col;
  auto shared = prompt_of(21, 5);
  for (int round = 0; round < 2; ++round) {
    for (int i = 0; i < 4; ++i) {
      auto p = shared;
      p.push_back(int32_t(i));  // same 21-token prefix, different last token
      s.engine->add(greedy("q" + std::to_string(round) + std::to_string(i), p, 6), col.callback());
    }
    ASSERT_TRUE(col.wait_finished(size_t(4 * (round + 1))));
  }
  for (int i = 0; i < 4; ++i) {
    auto p = shared;
    p.push_back(int32_t(i));
    auto want = s.fake->reference_greedy(p, 6);
    EXPECT_EQ(col.tokens("q0" + std::to_string(i)), want);
    EXPECT_EQ(col.tokens("q1" + std::to_string(i)), want);
    // 22 tokens: the 5 full blocks of 4 cover 20 tokens, all cached on the second round.
    EXPECT_EQ(col.last("q1" + std::to_string(i)).cached_prompt_tokens, 20u);
  }
  EngineStats st = s.engine->stats();
  EXPECT_GT(st.prefix_cache_hits, 0u);
  EXPECT_GT(st.prefix_cache_queries, st.prefix_cache_hits);
  EXPECT_EQ(st.kv_blocks_used, 0u);
}

TEST(Engine, LeastRecentlyUsedPrefixesAreEvictedFirst) {
  // 6 blocks of 4; each 9-token prompt takes 3 blocks (2 full and cached, 1 partial).
  FakeEngine s(small_config(6));
  Collector col;
  auto a = prompt_of(9, 1), b = prompt_of(9, 2), c = prompt_of(9, 3);
  size_t n = 0;
  auto run = [&](const std::string& id, const std::vector<int32_t>& p) {
    s.engine->add(greedy(id, p, 1), col.callback());
    EXPECT_TRUE(col.wait_finished(++n));
    return col.last(id).cached_prompt_tokens;
  };
  EXPECT_EQ(run("a1", a), 0u);
  EXPECT_EQ(run("b1", b), 0u);
  EXPECT_EQ(run("a2", a), 8u);  // a is cached, and now the most recently used
  // c needs 3 blocks: the free list holds b's (freed longest ago) before a's, so b's prefix is evicted.
  EXPECT_EQ(run("c1", c), 0u);
  EXPECT_EQ(run("a3", a), 8u);
  EXPECT_EQ(run("b2", b), 0u);
}

TEST(Engine, AbortFinishesTheRequestAndFreesItsBlocks) {
  FakeEngine s(small_config(64));
  Collector col;
  std::mutex mu;
  std::condition_variable cv;
  bool got_token = false, aborted = false;
  auto inner = col.callback();
  // The first output holds the engine thread until abort() has been queued, so the abort lands mid-request.
  s.engine->add(greedy("long", prompt_of(10, 9), 200), [&](const RequestOutput& o) {
    inner(o);
    std::unique_lock lock(mu);
    if (got_token) return;
    got_token = true;
    cv.notify_all();
    cv.wait(lock, [&] { return aborted; });
  });
  {
    std::unique_lock lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, 10s, [&] { return got_token; }));
  }
  s.engine->abort("long");
  s.engine->abort("no-such-request");  // no-op
  {
    std::lock_guard lock(mu);
    aborted = true;
    cv.notify_all();
  }
  ASSERT_TRUE(col.wait_finished(1));
  RequestOutput last = col.last("long");
  EXPECT_EQ(last.finish_reason, FinishReason::abort);
  EXPECT_EQ(last.completion_tokens, 1u);  // aborted at the very next step
  ASSERT_TRUE(s.engine->wait_idle(10s));
  EXPECT_EQ(s.engine->stats().kv_blocks_used, 0u);
  EXPECT_EQ(col.finished_count("long"), 1u);
}

TEST(Engine, StopsAtEosUnlessIgnoredAndAtStopIds) {
  FakeExecutor probe;
  auto p = prompt_of(6, 4);
  auto free_run = probe.reference_greedy(p, 8);
  const int32_t eos = free_run[2];  // make the third generated token the model's EOS
  FakeEngine s(small_config(64), {eos});
  Collector col;
  auto with_eos = greedy("eos", p, 8);
  with_eos.ignore_eos = false;
  s.engine->add(with_eos, col.callback());
  s.engine->add(greedy("ignore", p, 8), col.callback());
  auto stop = greedy("stop", p, 8);
  stop.stop_token_ids = {free_run[1]};
  s.engine->add(stop, col.callback());
  ASSERT_TRUE(col.wait_finished(3));
  size_t eos_at = size_t(std::find(free_run.begin(), free_run.end(), eos) - free_run.begin());
  EXPECT_EQ(col.tokens("eos"), std::vector<int32_t>(free_run.begin(), free_run.begin() + long(eos_at) + 1));
  EXPECT_EQ(col.last("eos").finish_reason, FinishReason::stop);
  EXPECT_EQ(col.last("eos").stop_token_id, eos);
  EXPECT_EQ(col.tokens("ignore"), free_run);
  EXPECT_EQ(col.last("ignore").finish_reason, FinishReason::length);
  size_t stop_at = size_t(std::find(free_run.begin(), free_run.end(), free_run[1]) - free_run.begin());
  EXPECT_EQ(col.tokens("stop").size(), stop_at + 1);
  EXPECT_EQ(col.last("stop").finish_reason, FinishReason::stop);
}

TEST(Engine, LogprobsAreTheLogSoftmaxOfTheRawLogits) {
  FakeEngine s(small_config(64));
  Collector col;
  auto p = prompt_of(7, 8);
  auto r = greedy("lp", p, 3);
  r.logprobs = 4;
  s.engine->add(r, col.callback());
  auto r0 = greedy("lp0", p, 2);
  r0.logprobs = 0;
  s.engine->add(r0, col.callback());
  s.engine->add(greedy("none", p, 2), col.callback());
  ASSERT_TRUE(col.wait_finished(3));
  std::vector<int32_t> history = p;
  std::vector<TokenLogprob> got;
  for (auto& o : col.all("lp")) got.insert(got.end(), o.logprobs.begin(), o.logprobs.end());
  ASSERT_EQ(got.size(), 3u);
  for (const TokenLogprob& lp : got) {
    std::vector<float> row(97);
    s.fake->fill_logits(history, row.data());
    double lse = 0, mx = *std::max_element(row.begin(), row.end());
    for (float l : row) lse += std::exp(double(l) - mx);
    lse = mx + std::log(lse);
    EXPECT_NEAR(lp.logprob, row[size_t(lp.id)] - lse, 1e-5);
    ASSERT_EQ(lp.top.size(), 4u);
    EXPECT_EQ(lp.top[0].first, lp.id);  // greedy: the sampled token is the most likely
    for (size_t k = 1; k < lp.top.size(); ++k) EXPECT_GE(lp.top[k - 1].second, lp.top[k].second);
    for (auto [id, l] : lp.top) EXPECT_NEAR(l, row[size_t(id)] - lse, 1e-5);
    history.push_back(lp.id);
  }
  for (auto& o : col.all("lp0"))
    for (auto& lp : o.logprobs) EXPECT_TRUE(lp.top.empty());
  size_t n0 = 0;
  for (auto& o : col.all("lp0")) n0 += o.logprobs.size();
  EXPECT_EQ(n0, 2u);
  for (auto& o : col.all("none")) EXPECT_TRUE(o.logprobs.empty());
}

TEST(Engine, SeededSamplingIsTheSameAloneAndInABatch) {
  auto sampled = [](bool crowded) {
    FakeEngine s(small_config(256));
    Collector col;
    size_t n = 0;
    if (crowded)
      for (int i = 0; i < 6; ++i, ++n) {
        auto r = greedy("other" + std::to_string(i), prompt_of(size_t(3 + i), 40 + i), 12);
        r.sampling.temperature = 1.0;  // unseeded neighbours draw from their own generators
        s.engine->add(r, col.callback());
      }
    auto r = greedy("seeded", prompt_of(9, 77), 12);
    r.sampling.temperature = 1.5;
    r.sampling.top_p = 0.9;
    r.sampling.seed = 1234;
    s.engine->add(r, col.callback());
    EXPECT_TRUE(col.wait_finished(n + 1));
    return col.tokens("seeded");
  };
  auto alone = sampled(false);
  EXPECT_EQ(alone.size(), 12u);
  EXPECT_EQ(sampled(true), alone);
}

TEST(Engine, AFailedForwardFinishesItsRequestsWithAnErrorAndServingGoesOn) {
  FakeEngine s(small_config(64));
  Collector col;
  s.fake->fail_next_forward();
  s.engine->add(greedy("victim", prompt_of(5, 1), 4), col.callback());
  ASSERT_TRUE(col.wait_finished(1));
  EXPECT_EQ(col.last("victim").finish_reason, FinishReason::error);
  EXPECT_NE(col.last("victim").error.find("injected"), std::string::npos);
  auto p = prompt_of(5, 2);
  s.engine->add(greedy("after", p, 4), col.callback());
  ASSERT_TRUE(col.wait_finished(2));
  EXPECT_EQ(col.tokens("after"), s.fake->reference_greedy(p, 4));
  EXPECT_EQ(s.engine->stats().kv_blocks_used, 0u);
}

TEST(Engine, ACallbackThatThrowsAbortsOnlyItsRequest) {
  FakeEngine s(small_config(64));
  Collector col;
  auto inner = col.callback();
  s.engine->add(greedy("thrower", prompt_of(4, 1), 50), [&](const RequestOutput& o) {
    inner(o);
    if (!o.finished) throw std::runtime_error("client went away");
  });
  auto p = prompt_of(4, 2);
  s.engine->add(greedy("fine", p, 5), col.callback());
  ASSERT_TRUE(col.wait_finished(2));
  EXPECT_EQ(col.last("thrower").finish_reason, FinishReason::abort);
  EXPECT_EQ(col.tokens("fine"), s.fake->reference_greedy(p, 5));
}

TEST(Engine, ShutdownAbortsWhatIsLeftAndDrainFinishesIt) {
  {
    FakeEngine s(small_config(64));
    Collector col;
    for (int i = 0; i < 5; ++i)
      s.engine->add(greedy("s" + std::to_string(i), prompt_of(4, i), 40), col.callback());
    s.engine->shutdown(false);
    ASSERT_TRUE(col.wait_finished(5, 1s));  // every request got its final output before shutdown returned
    EXPECT_THROW(s.engine->add(greedy("late", {1}, 1), col.callback()), Error);
    s.engine->shutdown(false);  // idempotent
  }
  {
    FakeEngine s(small_config(64));
    Collector col;
    for (int i = 0; i < 5; ++i)
      s.engine->add(greedy("d" + std::to_string(i), prompt_of(4, i), 8), col.callback());
    s.engine->shutdown(true);
    ASSERT_TRUE(col.wait_finished(5, 1s));
    for (int i = 0; i < 5; ++i)
      EXPECT_EQ(col.last("d" + std::to_string(i)).finish_reason, FinishReason::length);
  }
}

TEST(Engine, ReportsTimingAndCounts) {
  FakeEngine s(small_config(64));
  Collector col;
  s.engine->add(greedy("t", prompt_of(6, 3), 3), col.callback());
  ASSERT_TRUE(col.wait_finished(1));
  auto outs = col.all("t");
  RequestOutput last = outs.back();
  EXPECT_EQ(last.prompt_tokens, 6u);
  EXPECT_EQ(last.completion_tokens, 3u);
  EXPECT_LE(last.arrival_time, last.scheduled_time);
  EXPECT_LE(last.scheduled_time, last.first_token_time);
  EXPECT_LE(last.first_token_time, last.now);
  for (size_t i = 1; i < outs.size(); ++i) EXPECT_LE(outs[i - 1].now, outs[i].now);
  EngineStats st = s.engine->stats();
  EXPECT_EQ(st.prompt_tokens_total, 6u);
  EXPECT_EQ(st.generation_tokens_total, 3u);
}

TEST(EngineConfig, ParsesByteSizes) {
  EXPECT_EQ(parse_byte_size("2GiB", "--kv-cache-memory"), size_t(2) << 30);
  EXPECT_EQ(parse_byte_size("512MiB", "x"), size_t(512) << 20);
  EXPECT_EQ(parse_byte_size("1.5GB", "x"), size_t(1500000000));
  EXPECT_EQ(parse_byte_size("4096", "x"), 4096u);
  EXPECT_EQ(parse_byte_size("64 kib", "x"), 65536u);
  for (const char* bad : {"", "GiB", "-1GiB", "2XB", "1.2.3", "abc"}) {
    try {
      parse_byte_size(bad, "--kv-cache-memory");
      ADD_FAILURE() << "accepted '" << bad << "'";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("--kv-cache-memory"), std::string::npos);
    }
  }
  EXPECT_GT(available_memory_fraction(0.1), 0u);
}

TEST(ModelRunner, TokenLogprobOrdersTiesByLowerId) {
  std::vector<float> row = {1, 3, 3, 0};
  TokenLogprob lp = token_logprob(row, 2, 3);
  ASSERT_EQ(lp.top.size(), 3u);
  EXPECT_EQ(lp.top[0].first, 1);
  EXPECT_EQ(lp.top[1].first, 2);
  EXPECT_EQ(lp.top[2].first, 0);
  double total = 0;
  for (float l : row) total += std::exp(double(l) - (3 + std::log(2 * 1 + std::exp(-2.0) + std::exp(-3.0))));
  EXPECT_NEAR(total, 1.0, 1e-9);
  EXPECT_NEAR(std::exp(lp.logprob) * 2 + std::exp(lp.top[2].second) +
                  std::exp(double(row[3]) - 3 - std::log(2 + std::exp(-2.0) + std::exp(-3.0))),
              1.0, 1e-5);
}

// Allows only multiples of `step`; complete after `length` accepted tokens; throws at fill_mask call
// `fail_at` (0: never).
class EveryNth final : public TokenConstraint {
 public:
  EveryNth(int32_t step, size_t length, size_t fail_at = 0)
      : step_(step), length_(length), fail_at_(fail_at) {}
  bool fill_mask(std::span<uint32_t> mask) override {
    if (++calls_ == fail_at_) fail("the grammar is too ambiguous to follow");
    for (uint32_t& w : mask) w = 0;
    for (size_t id = 0; id < mask.size() * 32; id += size_t(step_)) mask[id / 32] |= 1u << (id % 32);
    return true;
  }
  bool accept(int32_t token) override {
    if (token % step_ != 0) return false;
    ++accepted_;
    return true;
  }
  bool finished() const override { return accepted_ >= length_; }

 private:
  int32_t step_;
  size_t length_, fail_at_, calls_ = 0, accepted_ = 0;
};

TEST(Engine, AnOutputConstraintRestrictsTokensAndFinishesTheRequest) {
  FakeEngine s(small_config(64));
  Collector col;
  auto constrained = greedy("c", prompt_of(5, 3), 20);
  constrained.sampling.temperature = 0.8;
  constrained.sampling.seed = 9;
  constrained.constraint = std::make_shared<EveryNth>(5, 4);
  s.engine->add(std::move(constrained), col.callback());
  auto failing = greedy("f", prompt_of(5, 4), 20);
  failing.constraint = std::make_shared<EveryNth>(7, 100, 3);
  s.engine->add(std::move(failing), col.callback());
  s.engine->add(greedy("free", prompt_of(5, 5), 6), col.callback());
  ASSERT_TRUE(col.wait_finished(3));
  const auto c = col.tokens("c");
  ASSERT_EQ(c.size(), 4u);  // complete after 4 tokens: finished with reason stop, not length
  for (int32_t t : c) EXPECT_EQ(t % 5, 0) << t;
  EXPECT_EQ(col.last("c").finish_reason, FinishReason::stop);
  // The failing constraint ends its request with the error after two good tokens; the others go on.
  EXPECT_EQ(col.last("f").finish_reason, FinishReason::error);
  EXPECT_NE(col.last("f").error.find("too ambiguous"), std::string::npos) << col.last("f").error;
  EXPECT_EQ(col.tokens("f").size(), 2u);
  EXPECT_EQ(col.last("free").finish_reason, FinishReason::length);
  EXPECT_EQ(col.tokens("free"), s.fake->reference_greedy(prompt_of(5, 5), 6));
}

}  // namespace
}  // namespace r1
