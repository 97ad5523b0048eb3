// `r1serve run --chat`: the prompt is rendered as a one-user-message chat by the model's template and then
// tokenized without adding special tokens again (the template writes BOS). Checked on the real stories260K
// model with a chat template added to a copy of its tokenizer_config.json: the run must see exactly the ids
// that `r1serve tokenize --no-special` gives for the rendered text, one BOS included.
#include <filesystem>
#include <fstream>
#include <sstream>

#include "support/test_support.h"

namespace r1 {
namespace {

namespace fs = std::filesystem;
using ojson = nlohmann::ordered_json;

class RunChat : public ::testing::Test {
 protected:
  void SetUp() override {
    R1_REQUIRE_SHARED();
    fs::path src = test::shared_path("models/stories260K-hf");
    for (const char* f : {"config.json", "generation_config.json", "model.safetensors", "tokenizer.json"})
      fs::copy_file(src / f, dir_.path() / f);
    ojson cfg = ojson::parse(test::read_file((src / "tokenizer_config.json").string()));
    cfg["chat_template"] =
        "{{ bos_token }}{% for m in messages %}{{ m.role }}: {{ m.content }}\n{% endfor %}"
        "{% if add_generation_prompt %}assistant:{% endif %}";
    std::ofstream(dir_.file("tokenizer_config.json")) << cfg.dump();
  }
  test::TempDir dir_;
};

TEST_F(RunChat, TokenizesTheRenderedChatWithoutAddingBosTwice) {
  std::string model = dir_.path().string();
  auto tok = test::run_r1serve(
      {"tokenize", "--model", model, "--no-special", "--text", "<s>user: Once upon a time\nassistant:"});
  ASSERT_EQ(tok.exit_code, 0) << tok.err;
  std::string ids = tok.out.substr(0, tok.out.find_last_not_of(" \n") + 1);
  ASSERT_EQ(ids.rfind("1 ", 0), 0u) << "rendered text should start with exactly one BOS (id 1): " << ids;
  EXPECT_EQ(ids.find(" 1 "), std::string::npos) << ids;
  std::string csv = ids;
  for (char& c : csv)
    if (c == ' ') c = ',';

  auto common = std::vector<std::string>{"--max-tokens", "8", "--temperature", "0", "--output", "ids"};
  auto args_chat =
      std::vector<std::string>{"run", "--model", model, "--chat", "--prompt", "Once upon a time"};
  auto args_ids = std::vector<std::string>{"run", "--model", model, "--prompt-ids", csv};
  args_chat.insert(args_chat.end(), common.begin(), common.end());
  args_ids.insert(args_ids.end(), common.begin(), common.end());
  auto chat = test::run_r1serve(args_chat);
  auto by_ids = test::run_r1serve(args_ids);
  ASSERT_EQ(chat.exit_code, 0) << chat.err;
  ASSERT_EQ(by_ids.exit_code, 0) << by_ids.err;
  EXPECT_FALSE(chat.out.empty());
  EXPECT_EQ(chat.out, by_ids.out);
  size_t n_prompt = size_t(std::count(ids.begin(), ids.end(), ' ') + 1);
  EXPECT_NE(chat.err.find("prompt " + std::to_string(n_prompt) + " tokens"), std::string::npos) << chat.err;
}

TEST_F(RunChat, NeedsATemplateAndAPrompt) {
  std::ofstream(dir_.file("tokenizer_config.json")) << R"({"bos_token": "<s>"})";
  auto r = test::run_r1serve({"run", "--model", dir_.path().string(), "--chat", "--prompt", "hi"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("no chat_template"), std::string::npos) << r.err;
  r = test::run_r1serve({"run", "--model", dir_.path().string(), "--chat", "--prompt-ids", "1"});
  EXPECT_NE(r.exit_code, 0);
}

}  // namespace
}  // namespace r1
