// Regex grammars (guided_regex, JSON Schema patterns): the ECMAScript subset, full-match semantics, the JSON
// string escaping of a pattern, errors naming the construct and offset; and the grammar cache.
#include "structured/regex.h"

#include <gtest/gtest.h>

#include "core/error.h"
#include "structured/grammar_cache.h"
#include "structured_fixtures.h"

namespace r1::structured {
namespace {

using test::matches;

std::shared_ptr<const CompiledGrammar> re(const std::string& p) {
  return test::compile(regex_grammar(p), test::small_vocab());
}

TEST(Regex, Language) {
  auto g = re(R"(^(?:\d{3}-)?[A-Z][a-z]+(,\s*[A-Z][a-z]+)*\.?$)");
  EXPECT_TRUE(matches(g, "Paris"));
  EXPECT_TRUE(matches(g, "123-Paris, Rome,\tOslo."));
  EXPECT_FALSE(matches(g, "paris"));
  EXPECT_FALSE(matches(g, "12-Paris"));
  auto h = re(R"([^\W_]+|x{2,}?|\u00e9\x41|[\d\-.]|(?<name>a|b)c)");
  EXPECT_TRUE(matches(h, "ab9"));
  EXPECT_FALSE(matches(h, "a_b"));
  EXPECT_TRUE(matches(h, "xxx"));
  EXPECT_TRUE(matches(h, "éA"));
  EXPECT_TRUE(matches(h, "-"));
  EXPECT_TRUE(matches(h, "bc"));
  auto dot = re("a.c");
  EXPECT_TRUE(matches(dot, "a中c"));
  EXPECT_FALSE(matches(dot, "a\nc"));
}

TEST(Regex, JsonStringEscaping) {
  // The pattern matches decoded text; inside a JSON string '"', '\' and control characters appear escaped.
  Grammar g;
  const uint32_t root = g.rule("root");
  g.define(root, seq({literal("\""), json_string_escaped(parse_regex(R"(a"[\\\n]b.)").expr), literal("\"")}));
  g.set_root(root);
  auto c = test::compile(g, test::small_vocab());
  EXPECT_TRUE(matches(c, R"("a\"\\bx")"));
  EXPECT_TRUE(matches(c, R"("a\"\nb\"")"));
  EXPECT_FALSE(matches(c, "\"a\"\\bx\""));
  EXPECT_FALSE(matches(c, "\"a\\\"\nbx\""));
}

std::string error_of(const std::string& p) {
  try {
    regex_grammar(p);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(Regex, UnsupportedConstructsAreNamed) {
  EXPECT_EQ(error_of("a(?!b)"),
            "regex /a(?!b)/ at offset 2: lookaround and other (?...) groups are not supported");
  EXPECT_EQ(error_of("(a)\\1"), "regex /(a)\\1/ at offset 3: backreferences are not supported");
  EXPECT_EQ(error_of("\\bword"), "regex /\\bword/ at offset 0: word boundary \\b is not supported");
  EXPECT_EQ(error_of("a$b"),
            "regex /a$b/ at offset 1: '$' anchor inside the pattern is not supported (only at its end)");
  EXPECT_EQ(error_of("(ab"), "regex /(ab/ at offset 3: expected ')'");
  EXPECT_EQ(error_of("ab)"), "regex /ab)/ at offset 2: unbalanced ')'");
  EXPECT_EQ(error_of("[a-"), "regex /[a-/ at offset 3: unterminated character class");
  EXPECT_EQ(error_of("*a"), "regex /*a/ at offset 0: quantifier without anything to repeat");
  EXPECT_EQ(error_of("a{3,1}"), "regex /a{3,1}/ at offset 6: repetition {m,n} with n < m");
  EXPECT_EQ(error_of("\\q"), "regex /\\q/ at offset 0: unknown escape \\q");
  EXPECT_EQ(error_of("a++"), "regex /a++/ at offset 2: possessive quantifiers are not supported");
}

TEST(GrammarCache, CompilesOnceAndEvictsLeastRecentlyUsed) {
  GrammarCache cache(test::small_vocab(), 2);
  auto a = cache.get({GrammarKind::json_schema, R"({"type": "integer"})"});
  auto a2 = cache.get({GrammarKind::json_schema, "{ \"type\" :\n \"integer\" }"});
  EXPECT_EQ(a, a2);
  EXPECT_EQ(cache.hits(), 1u);
  cache.get({GrammarKind::regex, "ab+"});
  cache.get({GrammarKind::json_schema, R"({"type": "integer"})"});  // a is now most recent
  cache.get({GrammarKind::choice, R"(["x", "y"])"});                // evicts the regex
  EXPECT_EQ(cache.size(), 2u);
  EXPECT_EQ(cache.get({GrammarKind::json_schema, R"({"type": "integer"})"}), a);
  const uint64_t misses = cache.misses();
  cache.get({GrammarKind::regex, "ab+"});
  EXPECT_EQ(cache.misses(), misses + 1);
  EXPECT_TRUE(matches(cache.get({GrammarKind::choice, R"(["x", "y"])"}), "y"));
  EXPECT_TRUE(matches(cache.get({GrammarKind::gbnf, "root ::= \"q\"+"}), "qq"));
  EXPECT_TRUE(matches(cache.get({GrammarKind::json_object, ""}), R"({"k": [1]})"));
  EXPECT_THROW(cache.get({GrammarKind::json_schema, "{"}), Error);
  EXPECT_THROW(cache.get({GrammarKind::choice, "[1]"}), Error);
}

}  // namespace
}  // namespace r1::structured
