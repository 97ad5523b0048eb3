// Chat templates against the shared R1-Distill render vectors (rendered by @huggingface/jinja), loading
// templates from tokenizer_config.json in its three layouts, and the `r1serve template` command.
#include "tokenizer/chat_template.h"

#include <fstream>

#include "core/error.h"
#include "support/test_support.h"

namespace r1 {
namespace {

using test::read_json;
using test::shared_path;
using ojson = nlohmann::ordered_json;

const char* kR1Templates[] = {"deepseek-ai-DeepSeek-R1-Distill-Qwen-32B.jinja",
                              "deepseek-ai-DeepSeek-R1-Distill-Llama-8B.jinja"};

void write_text(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

TEST(ChatTemplateR1, EverySharedVectorRendersByteIdentical) {
  R1_REQUIRE_SHARED();
  ojson vectors =
      ojson::parse(test::read_file(shared_path("chat-templates/r1-distill-template-render-vectors.json")));
  ASSERT_FALSE(vectors.empty());
  for (const char* file : kR1Templates) {
    std::string path = shared_path(std::string("chat-templates/") + file);
    ChatTemplate t = ChatTemplate::from_string(test::read_file(path), file);
    for (const ojson& v : vectors) {
      SCOPED_TRACE(std::string(file) + " / " + v["name"].get<std::string>());
      ojson ctx = {{"messages", v["messages"]},
                   {"add_generation_prompt", v["add_generation_prompt"]},
                   {"bos_token", v["bos_token"]},
                   {"eos_token", v["eos_token"]}};
      EXPECT_EQ(t.render(ctx), v["rendered"].get<std::string>());
    }
  }
}

TEST(ChatTemplateR1, PlainJsonContextRendersTheSame) {
  R1_REQUIRE_SHARED();
  ChatTemplate t =
      ChatTemplate::from_string(test::read_file(shared_path("chat-templates/") + kR1Templates[0]), "r1");
  nlohmann::json ctx = {{"messages", {{{"role", "user"}, {"content", "Hi"}}}},
                        {"add_generation_prompt", true},
                        {"bos_token", "<s>"}};
  EXPECT_EQ(t.render(ctx), "<s><｜User｜>Hi<｜Assistant｜><think>\n");
}

TEST(ChatTemplateConfig, StringFormListFormSiblingFileAndAbsent) {
  test::TempDir dir;
  std::string cfg = dir.file("tokenizer_config.json");
  write_text(cfg, R"({"bos_token": {"content": "<B>", "special": true}, "eos_token": "<E>",
                      "chat_template": "{{ bos_token }}{{ messages[0].content }}{{ eos_token }}"})");
  ojson ctx = special_tokens_from_tokenizer_config(cfg);
  EXPECT_EQ(ctx, ojson({{"bos_token", "<B>"}, {"eos_token", "<E>"}}));
  ctx["messages"] = ojson::array({{{"role", "user"}, {"content", "x"}}});
  auto t = ChatTemplate::from_tokenizer_config(cfg);
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->render(ctx), "<B>x<E>");

  write_text(
      cfg,
      R"({"chat_template": [{"name": "tool_use", "template": "T"}, {"name": "default", "template": "D"}]})");
  EXPECT_EQ(ChatTemplate::from_tokenizer_config(cfg)->render(ojson::object()), "D");

  write_text(cfg, R"({"chat_template": [{"name": "tool_use", "template": "T"}]})");
  try {
    ChatTemplate::from_tokenizer_config(cfg);
    ADD_FAILURE() << "a list without a default template was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(cfg), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("default"), std::string::npos) << e.what();
  }

  write_text(cfg, R"({"bos_token": "<s>"})");
  EXPECT_FALSE(ChatTemplate::from_tokenizer_config(cfg).has_value());
  write_text(dir.file("chat_template.jinja"), "from sibling {{ bos_token }}\n");
  auto sibling = ChatTemplate::from_tokenizer_config(cfg);
  ASSERT_TRUE(sibling.has_value());
  EXPECT_EQ(sibling->render(ojson{{"bos_token", "<s>"}}), "from sibling <s>");
  EXPECT_NE(sibling->origin().find("chat_template.jinja"), std::string::npos);
}

TEST(ChatTemplateConfig, MalformedConfigNamesTheFile) {
  test::TempDir dir;
  std::string cfg = dir.file("tokenizer_config.json");
  for (const char* text :
       {"{not json", R"({"chat_template": 42})", R"({"chat_template": "{% for %}"})", "[]"}) {
    write_text(cfg, text);
    SCOPED_TRACE(text);
    try {
      ChatTemplate::from_tokenizer_config(cfg);
      ADD_FAILURE() << "accepted";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(cfg), std::string::npos) << e.what();
    }
  }
  EXPECT_THROW(ChatTemplate::from_tokenizer_config(dir.file("missing.json")), Error);
}

// `r1serve template` on a model folder whose tokenizer_config.json carries the R1 template.
class TemplateCommand : public ::testing::Test {
 protected:
  void SetUp() override {
    R1_REQUIRE_SHARED();
    ojson cfg = {{"bos_token", "<｜begin▁of▁sentence｜>"},
                 {"eos_token", {{"content", "<｜end▁of▁sentence｜>"}}},
                 {"chat_template", test::read_file(shared_path("chat-templates/") + kR1Templates[0])}};
    write_text(dir_.file("tokenizer_config.json"), cfg.dump());
  }
  test::TempDir dir_;
};

TEST_F(TemplateCommand, PrintsTheRenderedPrompt) {
  write_text(dir_.file("m.json"),
             R"([{"role": "system", "content": "Be brief."}, {"role": "user", "content": "2+2?"}])");
  auto r =
      test::run_r1serve({"template", "--model", dir_.path().string(), "--messages", dir_.file("m.json")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "<｜begin▁of▁sentence｜>Be brief.<｜User｜>2+2?<｜Assistant｜><think>\n");

  r = test::run_r1serve({"template", "--model", dir_.path().string(), "--messages", dir_.file("m.json"),
                         "--no-generation-prompt"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "<｜begin▁of▁sentence｜>Be brief.<｜User｜>2+2?");
}

TEST_F(TemplateCommand, ObjectFormAndTemplateOverride) {
  write_text(dir_.file("m.json"),
             R"({"messages": [{"role": "user", "content": "hi"}], "tools": [{"type": "function"}]})");
  write_text(dir_.file("t.jinja"), "{{ messages | length }} {{ tools | length }} {{ eos_token }}");
  auto r = test::run_r1serve({"template", "--model", dir_.path().string(), "--messages", dir_.file("m.json"),
                              "--chat-template", dir_.file("t.jinja")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "1 1 <｜end▁of▁sentence｜>");
}

TEST_F(TemplateCommand, BadInputGivesOneLineNamingTheFile) {
  write_text(dir_.file("m.json"), R"({"messages": "not a list"})");
  auto r =
      test::run_r1serve({"template", "--model", dir_.path().string(), "--messages", dir_.file("m.json")});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("m.json"), std::string::npos) << r.err;

  write_text(dir_.file("m.json"), R"([{"role": "user", "content": "x"}])");
  write_text(dir_.file("t.jinja"), "{{ raise_exception('no tools here') }}");
  r = test::run_r1serve({"template", "--model", dir_.path().string(), "--messages", dir_.file("m.json"),
                         "--chat-template", dir_.file("t.jinja")});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("no tools here"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("t.jinja:1:"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace r1
