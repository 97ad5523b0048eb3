// JSON Schema -> grammar: each supported keyword accepts what the schema allows and refuses what it does not,
// on whole texts; unsupported keywords and malformed schemas fail naming the keyword and where it is.
#include "structured/json_schema.h"

#include <gtest/gtest.h>

#include "core/error.h"
#include "structured_fixtures.h"

namespace r1::structured {
namespace {

using json = nlohmann::ordered_json;
using test::matches;

std::shared_ptr<const CompiledGrammar> schema(const std::string& text, uint32_t ws = 16) {
  return test::compile(json_schema_grammar(json::parse(text), {ws}), test::small_vocab());
}

struct Case {
  const char* schema;
  std::vector<const char*> good, bad;
};

void check(const Case& c) {
  auto g = schema(c.schema);
  for (const char* t : c.good) EXPECT_TRUE(matches(g, t)) << c.schema << " should accept " << t;
  for (const char* t : c.bad) EXPECT_FALSE(matches(g, t)) << c.schema << " should refuse " << t;
}

TEST(JsonSchema, Types) {
  check({R"({"type": "string"})",
         {R"("")", R"("a b\"\\\n\u00e9")", "\"é中😀\""},
         {R"(")", R"("a)", "\"\x01\"", R"("\q")", "1"}});
  check({R"({"type": "integer"})", {"0", "-7", "1234567890"}, {"01", "1.5", "-", "+1", "1e3", "\"1\""}});
  check({R"({"type": "number"})", {"0", "-0.5", "3.25e-7", "1E+3"}, {".5", "1.", "01", "1e", "--1"}});
  check({R"({"type": "boolean"})", {"true", "false"}, {"True", "1", "null"}});
  check({R"({"type": "null"})", {"null"}, {"nul", "None"}});
  check({R"({"type": ["integer", "null"]})", {"3", "null"}, {"\"3\"", "true"}});
  check({R"({})", {"1", R"({"a": [1, {"b": null}]})", "\"x\""}, {"{", "[1,]", "tru"}});
}

TEST(JsonSchema, EnumAndConst) {
  check({R"({"enum": ["red", "green", 3, null]})",
         {R"("red")", R"("green")", "3", "null"},
         {R"("blue")", "4", R"("Red")"}});
  check({R"({"const": {"a": [1, "x"]}})", {R"({"a":[1,"x"]})"}, {R"({"a":[1,"y"]})"}});
}

TEST(JsonSchema, ObjectsRequiredOptionalAndOrder) {
  const char* s = R"({"type": "object", "properties": {"name": {"type": "string"}, "age": {"type": "integer"},
                      "email": {"type": "string"}}, "required": ["name"]})";
  check({s,
         {R"({"name": "a"})", R"({"name": "a", "age": 3})", R"({"name":"a","email":"e"})",
          R"({ "name" : "a" , "age" : 3 , "email" : "e" })", "{\n  \"name\": \"a\",\n  \"age\": 3\n}"},
         {R"({})", R"({"age": 3})", R"({"name": "a",})", R"({"name": "a", "age": "3"})",
          R"({"name": "a", "x": 1})", R"({"age": 3, "name": "a"})", R"({"name": "a", "name": "b"})"}});
  check({R"({"type": "object", "properties": {"a": {"type": "integer"}}})",
         {"{}", R"({"a": 1})"},
         {R"({"b": 1})"}});
}

TEST(JsonSchema, AdditionalProperties) {
  check({R"({"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a"],
             "additionalProperties": {"type": "boolean"}})",
         {R"({"a": 1})", R"({"a": 1, "b": true, "cc": false})", R"({"a": 1, "ab": true})",
          R"({"a": 1, "": true})"},
         {R"({"a": 1, "b": 2})", R"({"a": 1, "a": true})", R"({"b": true})"}});
  check({R"({"type": "object", "additionalProperties": true})",
         {"{}", R"({"x": [1], "y": {"z": null}})"},
         {"[]"}});
  check({R"({"type": "object", "additionalProperties": false})", {"{}"}, {R"({"x": 1})"}});
}

TEST(JsonSchema, NestedObjectsAndArrays) {
  check(
      {R"({"type": "object", "properties": {"tags": {"type": "array", "items": {"type": "string"}, "minItems": 1,
             "maxItems": 3}, "pos": {"type": "object", "properties": {"x": {"type": "number"}}, "required": ["x"]}},
             "required": ["tags", "pos"]})",
       {R"({"tags": ["a"], "pos": {"x": 1.5}})", R"({"tags": ["a", "b", "c"], "pos": {"x": -2}})"},
       {R"({"tags": [], "pos": {"x": 1}})", R"({"tags": ["a","b","c","d"], "pos": {"x": 1}})",
        R"({"tags": ["a"], "pos": {}})"}});
  check({R"({"type": "array"})", {"[]", R"([1, "a", null, [], {}])"}, {"[", "[1 2]"}});
  check({R"({"type": "array", "items": {"type": "integer"}, "minItems": 2})",
         {"[1, 2]", "[1,2,3,4]"},
         {"[]", "[1]"}});
  check(
      {R"({"type": "array", "prefixItems": [{"type": "string"}, {"type": "integer"}], "items": false, "minItems": 1})",
       {R"(["a"])", R"(["a", 1])"},
       {"[]", R"([1])", R"(["a", 1, 2])"}});
  check(
      {R"({"type": "array", "prefixItems": [{"type": "string"}], "items": {"type": "integer"}, "minItems": 1})",
       {R"(["a"])", R"(["a", 1, 2])"},
       {R"(["a", "b"])"}});
}

TEST(JsonSchema, StringLengthPatternFormat) {
  check({R"({"type": "string", "minLength": 2, "maxLength": 3})",
         {R"("ab")", R"("a\nb")", R"("中文字")"},
         {R"("a")", R"("abcd")"}});
  check({R"({"type": "string", "pattern": "^[a-z]+-\\d{2}$"})",
         {R"("ab-12")"},
         {R"("ab-1")", R"("Ab-12")", R"("xab-12 ")"}});
  check({R"({"type": "string", "pattern": "ab"})", {R"("ab")", R"("xxabyy")"}, {R"("a b")"}});
  check({R"({"type": "string", "pattern": "^a\"b\\\\$"})", {R"("a\"b\\")"}, {R"("a"b\")"}});
  check({R"({"type": "string", "format": "date"})",
         {R"("2024-02-29")", R"("2000-02-29")", R"("2023-01-31")", R"("2023-04-30")"},
         {R"("2024-13-01")", R"("24-01-01")", R"("2023-02-29")", R"("1900-02-29")", R"("2023-04-31")",
          R"("2023-02-30")"}});
  check({R"({"type": "string", "format": "date-time"})",
         {R"("2024-02-29T12:30:00Z")", R"("2024-02-29T12:30:00.5+01:00")"},
         {R"("2024-02-29 12:30:00")"}});
  check({R"({"type": "string", "format": "uuid"})",
         {R"("123e4567-e89b-12d3-a456-426614174000")"},
         {R"("123e4567")"}});
  check({R"({"type": "string", "format": "email"})", {R"("a.b@c.io")"}, {R"("a@")", R"("@c.io")"}});
  check({R"({"type": "string", "format": "uri"})",
         {R"("https://example.com/a/b.c")", R"("http://x")"},
         {R"("ftp://x")", R"("https://")"}});
  check({R"({"type": "string", "format": "ipv4"})", {R"("192.168.0.255")"}, {R"("256.1.1.1")"}});
}

TEST(JsonSchema, NumberRanges) {
  check({R"({"type": "integer", "minimum": -12, "maximum": 305})",
         {"-12", "-1", "0", "9", "99", "100", "305"},
         {"-13", "306", "999", "-100", "1000"}});
  check({R"({"type": "integer", "exclusiveMinimum": 0})", {"1", "42", "1234567"}, {"0", "-1"}});
  check({R"({"type": "integer", "maximum": -5})", {"-5", "-100"}, {"-4", "0", "5"}});
  check({R"({"type": "integer", "minimum": 100, "exclusiveMaximum": 1000})",
         {"100", "999", "555"},
         {"99", "1000", "0"}});
  // Bounded numbers are written without exponent (a subset of what the schema allows).
  check({R"({"type": "number", "minimum": 0})", {"0", "0.5", "300"}, {"-1", "-0.5", "3e2"}});
  check(
      {R"({"type": "number", "exclusiveMinimum": 0})", {"0.001", "2", "75.0"}, {"0", "0.0", "-3", "7.5e1"}});
  // Draft 4's boolean form, and both forms together (the tighter wins).
  check(
      {R"({"type": "integer", "minimum": 3, "exclusiveMinimum": true, "maximum": 5, "exclusiveMaximum": false})",
       {"4", "5"},
       {"3", "6"}});
  check({R"({"type": "integer", "minimum": 3, "exclusiveMinimum": 3, "maximum": 9, "exclusiveMaximum": 7})",
         {"4", "6"},
         {"3", "7"}});
  check({R"({"type": "number", "minimum": 0, "exclusiveMinimum": true})", {"0.5"}, {"0"}});
  check({R"({"type": "number", "minimum": -90, "maximum": 90})",
         {"-90", "-89.5", "-0.25", "0", "12.75", "90", "90.00"},
         {"-90.5", "90.01", "91", "-100", "1e2"}});
  check({R"({"type": "number", "exclusiveMinimum": -2, "exclusiveMaximum": 1})",
         {"-1.99", "-1", "0", "0.999"},
         {"-2", "-2.0", "1", "1.0", "1.5"}});
  check({R"({"type": "number", "maximum": -3})", {"-3", "-3.0", "-4.5", "-1000"}, {"-2.9", "0", "3"}});
  check({R"({"type": "number", "exclusiveMaximum": 0})", {"-0.001", "-7"}, {"0", "-0", "0.5"}});
}

TEST(JsonSchema, AnyOfOneOfRefsAndDefs) {
  check(
      {R"({"anyOf": [{"type": "integer"}, {"type": "object", "properties": {"k": {"const": 1}}, "required": ["k"]}]})",
       {"5", R"({"k": 1})"},
       {R"({"k": 2})", "\"5\""}});
  check({R"({"oneOf": [{"type": "string"}, {"type": "boolean"}]})", {R"("x")", "true"}, {"1"}});
  check({R"({"$defs": {"node": {"type": "object", "properties": {"v": {"type": "integer"},
             "kids": {"type": "array", "items": {"$ref": "#/$defs/node"}}}, "required": ["v"]}},
             "$ref": "#/$defs/node"})",
         {R"({"v": 1})", R"({"v": 1, "kids": [{"v": 2, "kids": [{"v": 3}]}]})"},
         {R"({"v": 1, "kids": [{}]})"}});
  check(
      {R"({"definitions": {"n": {"type": "integer"}}, "type": "array", "items": {"$ref": "#/definitions/n"}})",
       {"[1, 2]"},
       {"[\"a\"]"}});
  check({R"({"type": "object", "properties": {"next": {"$ref": "#"}}})",
         {"{}", R"({"next": {"next": {}}})"},
         {R"({"next": 1})"}});
  check({R"({"allOf": [{"type": "integer"}], "title": "x"})", {"1"}, {"\"1\""}});
}

TEST(JsonSchema, CompactWhitespaceOption) {
  auto g = schema(R"({"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a"]})", 0);
  EXPECT_TRUE(matches(g, R"({"a":1})"));
  EXPECT_FALSE(matches(g, R"({"a": 1})"));
}

std::string error_of(const std::string& text) {
  try {
    json_schema_grammar(json::parse(text));
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(JsonSchema, UnsupportedKeywordsAreNamed) {
  EXPECT_EQ(error_of(R"({"type": "object", "minProperties": 1})"),
            "JSON schema at /: keyword 'minProperties' is not supported");
  EXPECT_EQ(error_of(R"({"type": "object", "properties": {"a": {"not": {"type": "string"}}}})"),
            "JSON schema at /properties/a: keyword 'not' is not supported");
  EXPECT_EQ(error_of(R"({"type": "array", "uniqueItems": true})"),
            "JSON schema at /: keyword 'uniqueItems' is not supported");
  EXPECT_EQ(error_of(R"({"type": "number", "minimum": 2, "exclusiveMaximum": 2.0})"),
            "JSON schema at /: no number lies between the minimum and the maximum");
  EXPECT_EQ(error_of(R"({"type": "number", "maximum": 5.5})"),
            "JSON schema at /maximum: a non-integer bound on a number is not supported (5.5)");
  EXPECT_EQ(error_of(R"({"type": "number", "multipleOf": 2})"),
            "JSON schema at /: keyword 'multipleOf' is not supported");
  EXPECT_EQ(error_of(R"({"allOf": [{"type": "integer"}, {"minimum": 1}]})"),
            "JSON schema at /allOf: keyword 'allOf' is supported with exactly one schema");
  EXPECT_EQ(error_of(R"({"type": "string", "format": "ipv6"})"),
            "JSON schema at /format: format 'ipv6' is not supported");
  EXPECT_EQ(error_of(R"({"type": "integer", "exclusiveMinimum": true})"),
            "JSON schema at /exclusiveMinimum: true needs 'minimum'");
  EXPECT_EQ(error_of(R"({"type": "strin"})"), "JSON schema at /type: unknown type 'strin'");
  EXPECT_EQ(error_of(R"({"$ref": "#/$defs/missing"})"),
            "JSON schema at /$ref: '#/$defs/missing' does not resolve in the schema");
  EXPECT_EQ(error_of(R"({"$ref": "http://x/y.json"})"),
            "JSON schema at /$ref: only local references (#/...) are supported, not 'http://x/y.json'");
  EXPECT_EQ(error_of(R"({"type": "object", "properties": {"a": {}}, "required": ["b"]})"),
            "JSON schema at /required: 'b' is required but not in 'properties'");
  EXPECT_EQ(error_of(R"J({"type": "string", "pattern": "(?=a)"})J"),
            "regex /(?=a)/ at offset 1: lookaround and other (?...) groups are not supported");
  EXPECT_EQ(error_of(R"({"type": "integer", "minimum": 5, "maximum": 4})"),
            "JSON schema at /: no integer lies between the minimum and the maximum");
  EXPECT_EQ(error_of("false"), "JSON schema at /: schema false allows no value");
  EXPECT_EQ(error_of("3"), "JSON schema at /: a schema must be an object or a boolean");
}

TEST(JsonSchema, ChoiceGrammar) {
  auto g = test::compile(choice_grammar({"yes", "no", "yes please"}), test::small_vocab());
  EXPECT_TRUE(matches(g, "yes"));
  EXPECT_TRUE(matches(g, "yes please"));
  EXPECT_FALSE(matches(g, "ye"));
  EXPECT_THROW(choice_grammar({}), Error);
}

}  // namespace
}  // namespace r1::structured
