// r1serve tokenize, and run's text path: --prompt encoded with the folder's tokenizer, output streamed as
// text.
#include <gtest/gtest.h>

#include "support/test_support.h"

namespace r1::test {
namespace {

std::string stories() {
  return shared_path("models/stories260K-hf");
}

TEST(TokenizeCli, EncodesAndDecodes) {
  R1_REQUIRE_SHARED();
  auto check = read_json(shared_path("golden/stories260K-hf/tokenizer_check.json"));
  const auto& c = check["cases"][0];
  std::string want;
  for (int id : c["hf_tokenizer_json"]) want += (want.empty() ? "" : " ") + std::to_string(id);
  auto r = run_r1serve({"tokenize", "--model", stories(), "--text", c["text"].get<std::string>()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, want + "\n");

  auto no_bos =
      run_r1serve({"tokenize", "--model", stories(), "--text", c["text"].get<std::string>(), "--no-special"});
  EXPECT_EQ(no_bos.out, want.substr(2) + "\n");  // without the leading "1 "

  std::string ids;
  for (int id : c["hf_tokenizer_json"]) ids += (ids.empty() ? "" : ",") + std::to_string(id);
  auto d = run_r1serve({"tokenize", "--model", stories(), "--ids", ids, "--skip-special"});
  ASSERT_EQ(d.exit_code, 0) << d.err;
  EXPECT_EQ(d.out, c["text"].get<std::string>() + "\n");
}

TEST(TokenizeCli, FolderWithoutTokenizerIsAClearError) {
  R1_REQUIRE_SHARED();
  auto r = run_r1serve({"tokenize", "--model", shared_path("models/tiny-qwen2"), "--text", "hi"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("tokenizer.json not found"), std::string::npos) << r.err;
  auto run = run_r1serve({"run", "--model", shared_path("models/tiny-qwen2"), "--prompt", "hi"});
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_NE(run.err.find("--prompt"), std::string::npos) << run.err;
}

// llama2.c's run.c printed this text for 200 greedy steps from BOS (then a newline); so must we.
TEST(RunCli, GreedyTextFromBosMatchesLlama2c) {
  R1_REQUIRE_SHARED();
  std::string want = read_file(shared_path("golden/stories260K-hf/greedy200_from_bos_text.txt"));
  auto r = run_r1serve({"run", "--model", stories(), "--prompt-ids", "1", "--temperature", "0",
                        "--max-tokens", "200", "--ignore-eos"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, want + "\n");
}

TEST(RunCli, TextPromptContinuesAsTheSameIdsWould) {
  R1_REQUIRE_SHARED();
  // "Once upon a time" encoded (BOS added) must generate exactly what its ids generate.
  auto enc = run_r1serve({"tokenize", "--model", stories(), "--text", "Once upon a time"});
  ASSERT_EQ(enc.exit_code, 0) << enc.err;
  std::string ids = enc.out.substr(0, enc.out.size() - 1);
  for (char& ch : ids)
    if (ch == ' ') ch = ',';
  std::vector<std::string> common{"--temperature", "0",       "--max-tokens", "24",
                                  "--ignore-eos",  "--model", stories()};
  auto args = [&](std::vector<std::string> a) {
    a.insert(a.begin(), "run");
    a.insert(a.end(), common.begin(), common.end());
    return a;
  };
  auto by_text = run_r1serve(args({"--prompt", "Once upon a time"}));
  auto by_ids = run_r1serve(args({"--prompt-ids", ids}));
  auto as_ids = run_r1serve(args({"--prompt-ids", ids, "--output", "ids"}));
  ASSERT_EQ(by_text.exit_code, 0) << by_text.err;
  EXPECT_EQ(by_text.out, by_ids.out);
  EXPECT_FALSE(by_text.out.empty());
  // The text is the decode of the generated ids.
  std::string gen;
  for (char ch : as_ids.out) gen += ch == '\n' ? ',' : ch;
  auto dec =
      run_r1serve({"tokenize", "--model", stories(), "--ids", ids + "," + gen.substr(0, gen.size() - 1)});
  EXPECT_EQ("<s> Once upon a time" + by_text.out, dec.out);
}

}  // namespace
}  // namespace r1::test
