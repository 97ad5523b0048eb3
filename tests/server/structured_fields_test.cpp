// The structured-output wire fields of OpenAI and vLLM → serving::OutputFormat, and the 400s that name the
// field at fault.
#include "server/api/openai/structured_fields.h"

#include <gtest/gtest.h>

#include "server/api_error.h"

namespace r1::server {
namespace {

using nlohmann::json;
using structured::GrammarKind;

std::string refused_param(const json& body) {
  try {
    parse_output_format(body);
  } catch (const ApiError& e) {
    EXPECT_EQ(e.status(), 400);
    return e.param().value_or("?");
  }
  return "none";
}

TEST(StructuredFields, ResponseFormatTextJsonObjectAndJsonSchema) {
  EXPECT_FALSE(parse_output_format({{"response_format", {{"type", "text"}}}}));
  auto o = parse_output_format({{"response_format", {{"type", "json_object"}}}});
  ASSERT_TRUE(o);
  EXPECT_EQ(o->kind, GrammarKind::json_object);
  json schema = {{"type", "object"}, {"properties", {{"a", {{"type", "integer"}}}}}};
  auto s = parse_output_format(
      {{"response_format",
        {{"type", "json_schema"}, {"json_schema", {{"name", "x"}, {"strict", true}, {"schema", schema}}}}}});
  ASSERT_TRUE(s);
  EXPECT_EQ(s->kind, GrammarKind::json_schema);
  EXPECT_EQ(json::parse(s->text), schema);
  EXPECT_EQ(s->field, "response_format.json_schema.schema");
  EXPECT_EQ(refused_param({{"response_format", {{"type", "grammar"}}}}), "response_format.type");
  EXPECT_EQ(refused_param({{"response_format", {{"type", "json_schema"}}}}), "response_format.json_schema");
  EXPECT_EQ(refused_param({{"response_format", "json"}}), "response_format");
}

TEST(StructuredFields, ResponsesTextFormatIsFlattened) {
  json f = {{"type", "json_schema"}, {"name", "x"}, {"schema", {{"type", "boolean"}}}};
  auto s = parse_response_format(f, "text.format", true);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->field, "text.format.schema");
  EXPECT_EQ(s->text, R"({"type":"boolean"})");
}

TEST(StructuredFields, VllmStructuredOutputsAndGuidedFields) {
  auto j = parse_output_format({{"structured_outputs", {{"json", {{"type", "integer"}}}}}});
  ASSERT_TRUE(j);
  EXPECT_EQ(j->kind, GrammarKind::json_schema);
  EXPECT_EQ(j->field, "structured_outputs.json");
  auto r = parse_output_format({{"guided_regex", "[a-z]+"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->kind, GrammarKind::regex);
  auto c = parse_output_format({{"guided_choice", {"yes", "no"}}});
  ASSERT_TRUE(c);
  EXPECT_EQ(c->kind, GrammarKind::choice);
  auto g = parse_output_format({{"structured_outputs", {{"grammar", "root ::= \"a\""}}}});
  ASSERT_TRUE(g);
  EXPECT_EQ(g->kind, GrammarKind::gbnf);
  // guided_json as JSON text, as vLLM accepts it.
  auto t = parse_output_format({{"guided_json", R"({"type": "string"})"}});
  ASSERT_TRUE(t);
  EXPECT_EQ(t->text, R"({"type":"string"})");

  EXPECT_EQ(refused_param({{"guided_choice", json::array()}}), "guided_choice");
  EXPECT_EQ(refused_param({{"guided_choice", {1, 2}}}), "guided_choice");
  EXPECT_EQ(refused_param({{"guided_json", "not json"}}), "guided_json");
  EXPECT_EQ(refused_param({{"structured_outputs", {{"structural_tag", "x"}}}}),
            "structured_outputs.structural_tag");
  const json two = json::parse(R"({"structured_outputs": {"json": {"type": "integer"}, "regex": "a"}})");
  EXPECT_EQ(refused_param(two), "structured_outputs.regex");
  EXPECT_EQ(refused_param({{"guided_regex", "a"}, {"response_format", {{"type", "json_object"}}}}),
            "guided_regex");
}

TEST(StructuredFields, SchemaKeysKeepTheBodysOrder) {
  const std::string raw =
      R"({"response_format": {"type": "json_schema", "json_schema": {"name": "x", "schema":
      {"type": "object", "properties": {"zeta": {"type": "integer"}, "alpha": {"type": "string"}}}}}})";
  auto f = parse_output_format(json::parse(raw));  // nlohmann::json sorts keys: alpha before zeta
  keep_schema_order(f, raw);
  ASSERT_TRUE(f);
  EXPECT_LT(f->text.find("zeta"), f->text.find("alpha")) << f->text;
  const std::string guided = R"({"guided_json": "{\"properties\": {\"b\": {}, \"a\": {}}}"})";
  auto g = parse_output_format(json::parse(guided));
  keep_schema_order(g, guided);
  EXPECT_LT(g->text.find("\"b\""), g->text.find("\"a\"")) << g->text;
}

TEST(StructuredFields, MaxReasoningTokens) {
  EXPECT_FALSE(parse_max_reasoning_tokens(json::object()));
  EXPECT_EQ(parse_max_reasoning_tokens({{"max_reasoning_tokens", 0}}), 0);
  EXPECT_EQ(parse_max_reasoning_tokens({{"max_reasoning_tokens", 64}}), 64);
  EXPECT_THROW(parse_max_reasoning_tokens({{"max_reasoning_tokens", -1}}), ApiError);
  EXPECT_THROW(parse_max_reasoning_tokens({{"max_reasoning_tokens", "8"}}), ApiError);
}

}  // namespace
}  // namespace r1::server
