// Scheduler on its own (no model, no threads): ordering, token budget, max_num_seqs, chunked prefill,
// preemption of the newest request, requests that can never fit, and block accounting.
#include "engine/scheduler.h"

#include <gtest/gtest.h>

#include <memory>
#include <numeric>

namespace r1 {
namespace {

struct Harness {
  Harness(size_t n_blocks, size_t block_size, SchedulerConfig cfg, bool caching = true)
      : kv(n_blocks, block_size, caching), sched(cfg, kv) {}

  Request* add(const std::string& id, size_t prompt_len, size_t max_tokens, int32_t first_token = 1) {
    EngineRequest p;
    p.id = id;
    p.prompt.resize(prompt_len);
    std::iota(p.prompt.begin(), p.prompt.end(), first_token);
    p.max_tokens = max_tokens;
    p.sampling.temperature = 0;
    reqs.push_back(std::make_unique<Request>(
        next_seq++, p, std::vector<int32_t>{}, [](const RequestOutput&) {}, Clock::now()));
    sched.add(reqs.back().get());
    return reqs.back().get();
  }

  // Runs one step, sampling token 7 for every sampling chunk.
  StepPlan step() {
    StepPlan plan = sched.schedule();
    size_t n_sample = 0;
    for (auto& c : plan.chunks) n_sample += c.samples;
    std::vector<int32_t> sampled(n_sample, 7);
    for (Request* r : sched.on_step_done(plan, sampled)) finished.push_back(r);
    return plan;
  }

  void run_to_completion(size_t max_steps = 10000) {
    for (size_t i = 0; i < max_steps && sched.has_work(); ++i) step();
    ASSERT_FALSE(sched.has_work()) << "scheduler did not finish";
  }

  KvCacheManager kv;
  Scheduler sched;
  std::vector<std::unique_ptr<Request>> reqs;
  std::vector<Request*> finished;
  uint64_t next_seq = 1;
};

TEST(Scheduler, DecodesFirstThenPrefillsWaitingInOrder) {
  Harness h(64, 4, {8, 100});
  Request* a = h.add("a", 5, 10);
  StepPlan p1 = h.step();
  ASSERT_EQ(p1.chunks.size(), 1u);
  EXPECT_EQ(p1.chunks[0].n_tokens, 5u);
  EXPECT_TRUE(p1.chunks[0].samples);
  Request* b = h.add("b", 6, 10, 100);  // distinct tokens: no prefix-cache hit on a's blocks
  Request* c = h.add("c", 3, 10, 200);
  StepPlan p2 = h.step();
  ASSERT_EQ(p2.chunks.size(), 3u);
  EXPECT_EQ(p2.chunks[0].req, a);  // the decode comes first
  EXPECT_EQ(p2.chunks[0].n_tokens, 1u);
  EXPECT_EQ(p2.chunks[0].start, 5u);
  EXPECT_EQ(p2.chunks[1].req, b);
  EXPECT_EQ(p2.chunks[1].n_tokens, 6u);
  EXPECT_EQ(p2.chunks[2].req, c);
  EXPECT_EQ(p2.n_tokens, 10u);
  EXPECT_EQ(a->num_output(), 2u);
  EXPECT_EQ(b->num_output(), 1u);
}

TEST(Scheduler, ChunksPrefillUnderTheTokenBudget) {
  Harness h(64, 4, {8, 8});
  Request* a = h.add("a", 20, 3);
  StepPlan p1 = h.step();
  ASSERT_EQ(p1.chunks.size(), 1u);
  EXPECT_EQ(p1.chunks[0].n_tokens, 8u);
  EXPECT_FALSE(p1.chunks[0].samples);
  EXPECT_EQ(a->num_computed, 8u);
  Request* b = h.add("b", 3, 3);
  StepPlan p2 = h.step();  // a's next chunk takes the whole budget; b waits
  ASSERT_EQ(p2.chunks.size(), 1u);
  EXPECT_EQ(p2.chunks[0].start, 8u);
  EXPECT_EQ(p2.chunks[0].n_tokens, 8u);
  EXPECT_EQ(b->status, RequestStatus::waiting);
  StepPlan p3 = h.step();  // a's last 4 tokens sample; b's prefill fits beside them
  ASSERT_EQ(p3.chunks.size(), 2u);
  EXPECT_EQ(p3.chunks[0].n_tokens, 4u);
  EXPECT_TRUE(p3.chunks[0].samples);
  EXPECT_EQ(p3.chunks[1].req, b);
  EXPECT_EQ(p3.chunks[1].n_tokens, 3u);
  for (auto& s : {p1, p2, p3}) EXPECT_LE(s.n_tokens, 8u);
  h.run_to_completion();
  EXPECT_EQ(a->num_output(), 3u);
  EXPECT_EQ(b->num_output(), 3u);
}

TEST(Scheduler, RespectsMaxNumSeqs) {
  Harness h(64, 4, {2, 100});
  for (int i = 0; i < 5; ++i) h.add("r" + std::to_string(i), 3, 4);
  StepPlan p = h.step();
  EXPECT_EQ(p.chunks.size(), 2u);
  EXPECT_EQ(h.sched.num_running(), 2u);
  EXPECT_EQ(h.sched.num_waiting(), 3u);
  for (size_t i = 0; i < 200 && h.sched.has_work(); ++i) {
    h.step();
    EXPECT_LE(h.sched.num_running(), 2u);
  }
  EXPECT_EQ(h.finished.size(), 5u);
  for (Request* r : h.finished) EXPECT_EQ(r->finish_reason, FinishReason::length);
}

TEST(Scheduler, PreemptsTheNewestWhenBlocksRunOut) {
  // 4 blocks of 4: two requests of 6 prompt tokens take 2 blocks each; the first decode past 8 tokens needs
  // a third block, which only preempting the newest (b) can give.
  Harness h(4, 4, {8, 100});
  Request* a = h.add("a", 6, 6);
  Request* b = h.add("b", 6, 6, 50);
  h.step();
  EXPECT_EQ(h.kv.num_free_blocks(), 0u);
  h.step();  // decodes of positions 6 and 7 still fit in 2 blocks each
  h.step();
  EXPECT_EQ(h.sched.counters().preemptions, 0u);
  StepPlan p = h.step();  // a needs its 3rd block for position 8
  ASSERT_EQ(p.preempted.size(), 1u);
  EXPECT_EQ(p.preempted[0], b);
  EXPECT_EQ(b->status, RequestStatus::preempted);
  EXPECT_EQ(b->num_computed, 0u);
  EXPECT_EQ(h.sched.waiting().front(), b);
  EXPECT_EQ(h.sched.counters().preemptions, 1u);
  ASSERT_EQ(p.chunks.size(), 1u);
  EXPECT_EQ(p.chunks[0].req, a);
  h.run_to_completion();
  EXPECT_EQ(a->num_output(), 6u);
  EXPECT_EQ(b->num_output(), 6u);
  EXPECT_EQ(b->finish_reason, FinishReason::length);
  EXPECT_EQ(h.kv.num_used_blocks(), 0u);
}

TEST(Scheduler, ManyRequestsInATinyPoolAllFinishWithoutLeaks) {
  Harness h(6, 2, {8, 16});
  for (int i = 0; i < 12; ++i) h.add("r" + std::to_string(i), size_t(1 + i % 5), size_t(2 + i % 4), 10 * i);
  h.run_to_completion();
  EXPECT_EQ(h.finished.size(), 12u);
  for (auto& r : h.reqs) {
    EXPECT_TRUE(r->finished());
    EXPECT_EQ(r->num_output(), r->params.max_tokens);
  }
  EXPECT_GT(h.sched.counters().preemptions, 0u);
  EXPECT_EQ(h.kv.num_used_blocks(), 0u);
  EXPECT_EQ(h.kv.num_free_blocks(), 6u);
}

TEST(Scheduler, RequestThatCanNeverFitFinishesWithAnError) {
  Harness h(2, 4, {8, 100});
  Request* big = h.add("big", 6, 5);  // 11 tokens > 8 slots
  Request* ok = h.add("ok", 2, 2);
  StepPlan p = h.step();
  ASSERT_EQ(p.failed.size(), 1u);
  EXPECT_EQ(p.failed[0], big);
  EXPECT_EQ(big->finish_reason, FinishReason::error);
  EXPECT_NE(big->error.find("holds 8 tokens"), std::string::npos) << big->error;
  ASSERT_EQ(p.chunks.size(), 1u);
  EXPECT_EQ(p.chunks[0].req, ok);
  h.run_to_completion();
  EXPECT_EQ(ok->num_output(), 2u);
}

TEST(Scheduler, FinishFreesBlocksWhereverTheRequestIs) {
  Harness h(8, 4, {1, 100});
  Request* a = h.add("a", 9, 10);
  Request* b = h.add("b", 3, 10);
  h.step();
  EXPECT_EQ(h.kv.num_used_blocks(), 3u);
  h.sched.finish(b, FinishReason::abort);  // waiting
  EXPECT_EQ(h.sched.num_waiting(), 0u);
  h.sched.finish(a, FinishReason::abort);  // running
  EXPECT_EQ(h.sched.num_running(), 0u);
  EXPECT_EQ(h.kv.num_used_blocks(), 0u);
  EXPECT_FALSE(h.sched.has_work());
}

TEST(Scheduler, StopsOnStopIdsAndEos) {
  Harness h(8, 4, {4, 100});
  Request* a = h.add("a", 3, 10);
  a->params.stop_token_ids = {7};  // the harness samples 7
  Request* b = h.add("b", 3, 10);
  b->eos_ids = {7};
  Request* c = h.add("c", 3, 2);
  c->eos_ids = {7};
  c->params.ignore_eos = true;
  h.run_to_completion();
  EXPECT_EQ(a->finish_reason, FinishReason::stop);
  EXPECT_EQ(a->stop_token_id, 7);
  EXPECT_EQ(a->num_output(), 1u);
  EXPECT_EQ(b->finish_reason, FinishReason::stop);
  EXPECT_EQ(c->finish_reason, FinishReason::length);
  EXPECT_EQ(c->num_output(), 2u);
}

TEST(Scheduler, ReusesCachedPrefixAndCountsHits) {
  Harness h(32, 4, {4, 100});
  Request* a = h.add("a", 10, 1);
  h.run_to_completion();
  Request* b = h.add("b", 10, 1);
  StepPlan p = h.step();
  ASSERT_EQ(p.chunks.size(), 1u);
  EXPECT_EQ(p.chunks[0].start, 8u);
  EXPECT_EQ(p.chunks[0].n_tokens, 2u);
  EXPECT_EQ(b->cached_prompt_tokens, 8u);
  EXPECT_EQ(a->cached_prompt_tokens, 0u);
  EXPECT_EQ(h.sched.counters().prefix_queries, 20u);
  EXPECT_EQ(h.sched.counters().prefix_hits, 8u);
}

}  // namespace
}  // namespace r1
