// R1's tool-call format: the parser (streamed at every split point, content around the block, a block cut
// short) and the grammar tool_choice required / named compile to (it accepts well-formed calls whose
// arguments match the schema, and nothing else).
#include "serving/tool_calls.h"

#include <gtest/gtest.h>

#include "serving/serving_error.h"
#include "structured/compiled_grammar.h"
#include "structured/gbnf.h"
#include "structured/matcher.h"

namespace r1::serving {
namespace {

using nlohmann::ordered_json;

const std::string kCall1 =
    "<｜tool▁call▁begin｜>function<｜tool▁sep｜>get_weather\n```json\n{\"city\": \"Paris\", \"days\": 3}\n```"
    "<｜tool▁call▁end｜>";
const std::string kCall2 =
    "<｜tool▁call▁begin｜>function<｜tool▁sep｜>get_time\n```json\n{}\n```<｜tool▁call▁end｜>";
const std::string kAnswer =
    "Let me check. <｜tool▁calls▁begin｜>" + kCall1 + "\n" + kCall2 + "<｜tool▁calls▁end｜>";

ToolCallParser::Delta run(const std::string& text, size_t split) {
  ToolCallParser p;
  ToolCallParser::Delta all;
  for (size_t i = 0; i < text.size(); i += split) {
    auto d = p.push(text.substr(i, split));
    all.content += d.content;
    for (auto& c : d.calls) all.calls.push_back(c);
  }
  all.content += p.flush().content;
  return all;
}

TEST(ToolCallParser, CallsAndContentAtEverySplit) {
  for (size_t split : {1, 2, 3, 7, 1000}) {
    auto d = run(kAnswer, split);
    EXPECT_EQ(d.content, "Let me check. ") << split;
    ASSERT_EQ(d.calls.size(), 2u) << split;
    EXPECT_EQ(d.calls[0].name, "get_weather");
    EXPECT_EQ(d.calls[0].arguments, R"({"city": "Paris", "days": 3})");
    EXPECT_EQ(d.calls[1].name, "get_time");
    EXPECT_EQ(d.calls[1].arguments, "{}");
    EXPECT_NE(d.calls[0].id, d.calls[1].id);
    EXPECT_EQ(d.calls[0].id.rfind("call_", 0), 0u);
  }
}

TEST(ToolCallParser, TextWithoutCallsPassesThroughAndACutBlockIsKeptAsText) {
  auto plain = run("a < b, <｜tool not a marker", 1);
  EXPECT_EQ(plain.content, "a < b, <｜tool not a marker");
  EXPECT_TRUE(plain.calls.empty());
  const std::string cut =
      "<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>f\n```json\n{\"a\"";
  auto d = run(cut, 5);
  EXPECT_TRUE(d.calls.empty());
  EXPECT_EQ(d.content, cut);
}

structured::GrammarMatcher matcher_for(const std::string& gbnf) {
  std::vector<std::string> bytes;
  for (int b = 0; b < 256; ++b) bytes.push_back(std::string(1, char(b)));
  bytes.push_back("");  // EOS
  auto vocab = std::make_shared<const structured::Vocabulary>(bytes.size(), bytes, std::vector<int32_t>{256});
  return structured::GrammarMatcher(
      std::make_shared<const structured::CompiledGrammar>(structured::parse_gbnf(gbnf), vocab));
}

ToolsRequest weather_and_time() {
  ToolsRequest r;
  r.tools.push_back({"get_weather", "", ordered_json::parse(R"({"type": "object", "properties": {
      "city": {"type": "string"}, "days": {"type": "integer"}}, "required": ["city", "days"],
      "additionalProperties": false})")});
  r.tools.push_back({"get_time", "", ordered_json::parse(R"({"type": "object", "properties": {},
      "additionalProperties": false})")});
  r.choice = ToolChoice::required;
  return r;
}

TEST(ToolCallGrammar, RequiredAcceptsWellFormedCallsOnly) {
  ToolsRequest r = weather_and_time();
  const std::string gbnf = tool_call_grammar(r, 2);
  {
    auto m = matcher_for(gbnf);
    ASSERT_TRUE(m.accept_text(kAnswer.substr(kAnswer.find("<｜tool▁calls▁begin｜>")))) << gbnf;
    EXPECT_TRUE(m.can_end());
  }
  {
    auto m = matcher_for(gbnf);  // arguments that do not match the schema
    EXPECT_FALSE(m.accept_text(
        "<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>get_weather\n```json\n"
        "{\"city\": 3"));
  }
  {
    auto m = matcher_for(gbnf);  // an unknown function
    EXPECT_FALSE(
        m.accept_text("<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>get_wind\n"));
  }
  // Named, one call: only that function, and the block closes after one call.
  r.choice = ToolChoice::named;
  r.named = "get_time";
  r.parallel = false;
  auto m = matcher_for(tool_call_grammar(r, 2));
  EXPECT_FALSE(m.can_accept_text("<｜tool▁calls▁begin｜>" + kCall1));
  ASSERT_TRUE(m.accept_text("<｜tool▁calls▁begin｜>" + kCall2));
  EXPECT_FALSE(m.can_accept_text("\n"));
  EXPECT_TRUE(m.accept_text("<｜tool▁calls▁end｜>"));
  EXPECT_TRUE(m.can_end());
}

TEST(ToolCallParser, HermesCallsAsQwenTemplatesWriteThem) {
  const std::string text =
      "Sure.\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\", \"days\": 3}}\n"
      "</tool_call>\n<tool_call>\n{\"name\": \"get_time\", \"arguments\": {}}\n</tool_call>";
  for (size_t split : {1, 3, 1000}) {
    ToolCallParser p(ToolFormat::hermes);
    ToolCallParser::Delta all;
    for (size_t i = 0; i < text.size(); i += split) {
      auto d = p.push(text.substr(i, split));
      all.content += d.content;
      for (auto& c : d.calls) all.calls.push_back(c);
    }
    all.content += p.flush().content;
    EXPECT_EQ(all.content, "Sure.\n") << split;
    ASSERT_EQ(all.calls.size(), 2u) << split;
    EXPECT_EQ(all.calls[0].name, "get_weather");
    EXPECT_EQ(all.calls[0].arguments, R"({"city":"Paris","days":3})");
    EXPECT_EQ(all.calls[1].name, "get_time");
  }
}

TEST(ToolCallGrammar, HermesFormat) {
  ToolsRequest r = weather_and_time();
  r.format = ToolFormat::hermes;
  auto m = matcher_for(tool_call_grammar(r, 2));
  EXPECT_FALSE(m.can_accept_text("<tool_call>\n{\"name\": \"get_wind\""));
  ASSERT_TRUE(m.accept_text("<tool_call>\n{\"name\": \"get_time\", \"arguments\": {}}\n</tool_call>"));
  EXPECT_TRUE(m.can_end());
}

TEST(ToolCallGrammar, AnUnenforceableSchemaNamesTheTool) {
  ToolsRequest r = weather_and_time();
  r.tools[1].parameters = ordered_json::parse(R"({"type": "object", "patternProperties": {"a": {}}})");
  try {
    tool_call_grammar(r, 2);
    FAIL() << "accepted";
  } catch (const ServingError& e) {
    EXPECT_EQ(e.param(), "tools[1].parameters");
    EXPECT_NE(std::string(e.what()).find("patternProperties"), std::string::npos) << e.what();
  }
}

TEST(ToolsPrompt, GoesIntoTheSystemMessage) {
  std::vector<ToolDef> tools = {{"f", "does f", ordered_json::parse(R"({"type": "object"})")}};
  auto with = add_tools_prompt(nlohmann::json::parse(R"([{"role": "system", "content": "Be brief."},
      {"role": "user", "content": "Hi"}])"),
                               tools);
  ASSERT_EQ(with.size(), 2u);
  const std::string sys = with[0]["content"];
  EXPECT_NE(sys.find("\"name\": \"f\""), std::string::npos) << sys;
  EXPECT_NE(sys.find("<｜tool▁calls▁begin｜>"), std::string::npos);
  EXPECT_NE(sys.find("Be brief."), std::string::npos);
  auto without = add_tools_prompt(nlohmann::json::parse(R"([{"role": "user", "content": "Hi"}])"), tools);
  ASSERT_EQ(without.size(), 2u);
  EXPECT_EQ(without[0]["role"], "system");
}

}  // namespace
}  // namespace r1::serving
