// The whole loop with the engine the lead wired: a real model (stories260K, with its SentencePiece-style
// tokenizer), the engine's sampler applying StructuredConstraint's mask at temperature 1 and greedily, eight
// requests batched. Every output must end with EOS (reason stop, well inside max_tokens) and validate against
// the schema by Ajv — whatever the model "wants", the grammar decides the shape.
#include <gtest/gtest.h>

#include <condition_variable>
#include <fstream>
#include <map>
#include <mutex>

#include "core/thread_pool.h"
#include "engine/engine.h"
#include "engine/generator.h"
#include "structured/json_schema.h"
#include "structured/structured_constraint.h"
#include "structured_fixtures.h"
#include "support/test_support.h"
#include "tokenizer/tokenizer.h"

namespace r1::structured {
namespace {

using namespace std::chrono_literals;
using json = nlohmann::ordered_json;

const char* kSchema = R"({"type": "object", "properties": {
    "name": {"enum": ["Lily", "Tim", "Sue"]}, "age": {"type": "integer", "minimum": 1, "maximum": 12},
    "toys": {"type": "array", "items": {"type": "string", "maxLength": 6}, "maxItems": 2},
    "happy": {"type": "boolean"}},
  "required": ["name", "age"]})";

TEST(EngineConstrained, SampledOutputsValidateAgainstTheSchema) {
  R1_REQUIRE_SHARED();
  R1_REQUIRE_JS();
  if (test::run_command({"/usr/bin/env", "node", "--version"}).exit_code != 0)
    GTEST_SKIP() << "node is not installed";
  const std::string dir = test::shared_path("models/stories260K-hf");
  auto model = load_model(dir, WeightPrecision::F32);
  auto tok = Tokenizer::from_dir(dir);
  ASSERT_TRUE(tok && tok->eos_id());
  const size_t vocab_size = 512;  // the model's vocab_size (config.json)
  auto vocab = Vocabulary::from_tokenizer(*tok, {*tok->eos_id()}, vocab_size);
  auto grammar = test::compile(json_schema_grammar(json::parse(kSchema), {.max_whitespace = 2}), vocab);

  ThreadPool pool(1);
  EngineConfig cfg;
  cfg.max_num_seqs = 16;
  cfg.max_batch_tokens = 64;
  cfg.max_model_len = 256;
  Engine engine(*model, pool, cfg);

  std::mutex mu;
  std::condition_variable cv;
  std::map<std::string, std::vector<int32_t>> ids;
  std::map<std::string, RequestOutput> last;
  const std::vector<int32_t> prompt = tok->encode("Once upon a time", true);
  constexpr int kRequests = 8;
  for (int i = 0; i < kRequests; ++i) {
    EngineRequest r;
    r.id = "r" + std::to_string(i);
    r.prompt = prompt;
    r.max_tokens = 200;
    r.sampling.temperature = i == 0 ? 0.0 : 1.0;  // one greedy, the rest sampled
    r.sampling.seed = uint64_t(i);
    r.constraint = std::make_shared<StructuredConstraint>(grammar);
    engine.add(std::move(r), [&](const RequestOutput& o) {
      std::lock_guard lock(mu);
      auto& v = ids[o.id];
      v.insert(v.end(), o.new_token_ids.begin(), o.new_token_ids.end());
      if (o.finished) {
        last[o.id] = o;
        cv.notify_all();
      }
    });
  }
  {
    std::unique_lock lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, 120s, [&] { return last.size() == size_t(kRequests); }))
        << "engine did not finish";
  }
  json texts = json::array();
  for (int i = 0; i < kRequests; ++i) {
    const std::string id = "r" + std::to_string(i);
    const RequestOutput& o = last.at(id);
    ASSERT_EQ(o.finish_reason, FinishReason::stop) << id << " " << o.error;
    ASSERT_EQ(o.stop_token_id, tok->eos_id()) << id;
    std::vector<int32_t> out = ids.at(id);
    out.pop_back();  // the EOS
    std::string text;
    for (int32_t t : out) text += vocab->bytes(t);
    texts.push_back(text);
  }
  test::TempDir tmp;
  const std::string in = tmp.file("in.json"), out = tmp.file("out.json");
  std::ofstream(in) << json::array({{{"schema", json::parse(kSchema)}, {"texts", texts}}}).dump();
  auto r = test::run_command({"/usr/bin/env", "R1_JS_DIR=" + test::js_dir(), "node",
                              std::string(R1_SOURCE_DIR) + "/tests/structured/validate_json.mjs", in, out});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json results = test::read_json(out);
  for (size_t i = 0; i < texts.size(); ++i)
    EXPECT_TRUE(results[0][i].is_null()) << texts[i].get<std::string>() << "\n  " << results[0][i].dump();
}

}  // namespace
}  // namespace r1::structured
