// The engine on the real golden models (F32): greedy ids equal ../shared/golden's, and a request's greedy
// output is the same alone, beside 15 others (chunked prefill, mixed with decodes), and again when its prompt
// is served from the prefix cache, and when a tiny KV pool forces preemption and recompute.
#include <gtest/gtest.h>

#include <condition_variable>
#include <map>
#include <mutex>

#include "core/thread_pool.h"
#include "engine/engine.h"
#include "engine/generator.h"
#include "model/kv_cache.h"
#include "support/test_support.h"

namespace r1 {
namespace {

using namespace std::chrono_literals;
using test::read_json;
using test::shared_path;

struct Result {
  std::vector<int32_t> tokens;
  size_t cached_prompt_tokens = 0;
  FinishReason reason = FinishReason::error;
};

// Runs every request through `engine` at once and waits for all of them.
std::map<std::string, Result> run_all(Engine& engine, const std::vector<EngineRequest>& reqs) {
  std::mutex mu;
  std::condition_variable cv;
  std::map<std::string, Result> results;
  size_t done = 0;
  for (const EngineRequest& r : reqs)
    engine.add(r, [&](const RequestOutput& o) {
      std::lock_guard lock(mu);
      Result& res = results[o.id];
      res.tokens.insert(res.tokens.end(), o.new_token_ids.begin(), o.new_token_ids.end());
      if (o.finished) {
        res.cached_prompt_tokens = o.cached_prompt_tokens;
        res.reason = *o.finish_reason;
        ++done;
        cv.notify_all();
      }
    });
  std::unique_lock lock(mu);
  EXPECT_TRUE(cv.wait_for(lock, 300s, [&] { return done == reqs.size(); })) << "engine did not finish";
  return results;
}

EngineRequest greedy(std::string id, std::vector<int32_t> prompt, size_t max_tokens) {
  EngineRequest r;
  r.id = std::move(id);
  r.prompt = std::move(prompt);
  r.max_tokens = max_tokens;
  r.sampling.temperature = 0;
  r.ignore_eos = true;
  return r;
}

class EngineOnGoldenModel : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    R1_REQUIRE_SHARED();
    golden_dir_ = shared_path("golden/" + GetParam());
    manifest_ = read_json(golden_dir_ + "/manifest.json");
    model_ = load_model(shared_path("models/" + GetParam()), WeightPrecision::F32);
  }
  EngineConfig config(bool prefix_caching, size_t max_batch_tokens) const {
    EngineConfig c;
    c.kv_cache_bytes = 0;  // auto: capped at max_num_seqs full contexts, small for these models
    c.max_num_seqs = 16;
    c.max_batch_tokens = max_batch_tokens;
    c.enable_prefix_caching = prefix_caching;
    c.max_model_len = 64;
    return c;
  }
  std::vector<int32_t> case_ids(const nlohmann::json& c) const {
    return read_json(golden_dir_ + "/" + c["ids_file"].get<std::string>()).get<std::vector<int32_t>>();
  }
  std::string golden_dir_;
  nlohmann::json manifest_;
  std::unique_ptr<LoadedModel> model_;
  ThreadPool pool_{1};  // one thread: fast on a loaded CI host, and the outputs must not depend on it anyway
};

TEST_P(EngineOnGoldenModel, GreedyIdsMatchTheGoldenContinuations) {
  Engine engine(*model_, pool_, config(true, 256));
  std::vector<EngineRequest> reqs;
  std::map<std::string, std::vector<int32_t>> want;
  for (const auto& c : manifest_["cases"]) {
    std::string name = c["name"];
    auto ids = case_ids(c);
    if (ids.size() + 32 > engine.max_model_len()) continue;
    want[name] =
        read_json(golden_dir_ + "/" + c["greedy32_file"].get<std::string>()).get<std::vector<int32_t>>();
    reqs.push_back(greedy(name, ids, 32));
  }
  ASSERT_FALSE(reqs.empty());
  auto got = run_all(engine, reqs);  // the cases run together, in one batch
  for (auto& [name, ids] : want) EXPECT_EQ(got[name].tokens, ids) << GetParam() << " " << name;
}

TEST_P(EngineOnGoldenModel, GreedyOutputIsTheSameAloneBatchedCachedAndPreempted) {
  // 16 prompts of 3..48 tokens, all cut from one id sequence (the golden cases, repeated), so they share
  // prefixes of many lengths; 16 new tokens each keeps every request within 64 positions.
  std::vector<int32_t> base;
  while (base.size() < 64)
    for (const auto& c : manifest_["cases"]) {
      auto ids = case_ids(c);
      base.insert(base.end(), ids.begin(), ids.end());
    }
  std::vector<EngineRequest> reqs;
  for (size_t i = 0; i < 16; ++i) {
    size_t len = 3 + 3 * i, offset = (i % 2) * 5;  // odd ones start further in: a second family of prefixes
    std::vector<int32_t> prompt(base.begin() + long(offset), base.begin() + long(offset + len));
    reqs.push_back(greedy("r" + std::to_string(i), prompt, 16));
  }

  std::map<std::string, Result> alone;
  {
    Engine solo(*model_, pool_, config(false, 256));
    for (const EngineRequest& r : reqs) alone[r.id] = run_all(solo, {r})[r.id];
  }
  // A small token budget splits the prefills into chunks that share steps with other requests' decodes.
  Engine batched(*model_, pool_, config(true, 48));
  auto round1 = run_all(batched, reqs);
  // Alone, 16 requests of 16 tokens need at least 256 steps; batched, they share steps.
  EXPECT_LT(batched.stats().steps, 16u * 16u);
  auto round2 = run_all(batched, reqs);
  size_t cached = 0;
  for (const EngineRequest& r : reqs) {
    ASSERT_EQ(alone[r.id].tokens.size(), 16u) << r.id;
    EXPECT_EQ(round1[r.id].tokens, alone[r.id].tokens) << GetParam() << " " << r.id << " in a batch of 16";
    EXPECT_EQ(round2[r.id].tokens, alone[r.id].tokens)
        << GetParam() << " " << r.id << " from the prefix cache";
    if (r.prompt.size() > batched.block_size()) {
      EXPECT_GT(round2[r.id].cached_prompt_tokens, 0u) << r.id;
    }
    cached += round2[r.id].cached_prompt_tokens;
  }
  EXPECT_GT(cached, 0u);
  ASSERT_TRUE(batched.wait_idle(10s));
  EngineStats st = batched.stats();
  EXPECT_EQ(st.kv_blocks_used, 0u);
  EXPECT_GT(st.prefix_cache_hits, 0u);

  // A KV pool of 6 blocks (96 positions) for 16 requests of up to 64: requests are preempted and recomputed.
  EngineConfig tiny = config(true, 48);
  tiny.kv_cache_bytes = 6 * KvCache::block_bytes(model_->package.config(), tiny.block_size);
  Engine cramped(*model_, pool_, tiny);
  auto squeezed = run_all(cramped, reqs);
  for (const EngineRequest& r : reqs)
    EXPECT_EQ(squeezed[r.id].tokens, alone[r.id].tokens) << GetParam() << " " << r.id << " with preemption";
  ASSERT_TRUE(cramped.wait_idle(10s));
  EXPECT_GT(cramped.stats().preemptions, 0u);
  EXPECT_EQ(cramped.stats().kv_blocks_used, 0u);
}

// --kv-cache-dtype reaches the KV memory: at a fixed byte budget a 16-bit cache holds twice the blocks, and
// requests still run to their length.
TEST_P(EngineOnGoldenModel, HalfPrecisionKvCacheHoldsTwiceTheBlocks) {
  for (DType kv : {DType::F16, DType::BF16}) {
    EngineConfig f32 = config(true, 256), half = config(true, 256);
    // A whole number of F32 blocks, so neither budget rounds down.
    f32.kv_cache_bytes = half.kv_cache_bytes =
        40 * KvCache::block_bytes(model_->package.config(), f32.block_size);
    half.kv_cache_dtype = kv;
    Engine e32(*model_, pool_, f32), e16(*model_, pool_, half);
    EXPECT_EQ(e16.num_kv_blocks(), 2 * e32.num_kv_blocks()) << dtype_name(kv);
    auto got = run_all(e16, {greedy("a", case_ids(manifest_["cases"][0]), 8)});
    EXPECT_EQ(got["a"].tokens.size(), 8u);
    EXPECT_EQ(got["a"].reason, FinishReason::length);
  }
}

INSTANTIATE_TEST_SUITE_P(Models, EngineOnGoldenModel,
                         ::testing::Values("tiny-qwen2", "tiny-llama3", "tiny-llama-tied", "stories260K-hf"), ::r1::test::ParamName());

}  // namespace
}  // namespace r1
