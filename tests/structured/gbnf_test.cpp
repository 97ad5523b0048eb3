// GBNF: parsing (llama.cpp's syntax), the languages it defines, and errors naming line/column or rule.
#include "structured/gbnf.h"

#include <gtest/gtest.h>

#include "core/error.h"
#include "structured_fixtures.h"

namespace r1::structured {
namespace {

using test::matches;

std::shared_ptr<const CompiledGrammar> gbnf(const std::string& text) {
  return test::compile(parse_gbnf(text), test::small_vocab());
}

TEST(Gbnf, LiteralsClassesAndRepetition) {
  auto g = gbnf(R"(
# a comment
root ::= "a" [b-d]+ x? (y | "z"){2}   # trailing comment
x ::= "x"
y ::= [0-9] | "\n"
)");
  EXPECT_TRUE(matches(g, "abx0z"));
  EXPECT_TRUE(matches(g, "acdd\n\n"));
  EXPECT_FALSE(matches(g, "a0z"));     // needs one of [b-d]
  EXPECT_FALSE(matches(g, "abx0"));    // {2}
  EXPECT_FALSE(matches(g, "abx0zz"));  // exactly 2
}

TEST(Gbnf, BoundedRepetitionAndNegatedClass) {
  auto g = gbnf("root ::= [^\"\\\\]{2,3} \"!\"{0,} [a]{1,}\n");
  EXPECT_TRUE(matches(g, "xya"));
  EXPECT_TRUE(matches(g, "é€z!!aa"));
  EXPECT_FALSE(matches(g, "xa"));
  EXPECT_FALSE(matches(g, "x\"a"));
  EXPECT_FALSE(matches(g, "wxyza"));
}

TEST(Gbnf, UnicodeEscapesAndAnyChar) {
  auto g = gbnf(R"(root ::= "\u00e9" [\u4e00-\u9fff] . "\U0001F600" "\x41")");
  EXPECT_TRUE(matches(g,
                      "é中\nüA"
                      "😀A") == false);
  EXPECT_TRUE(matches(g, "é中ü😀A"));
  EXPECT_TRUE(matches(g, "é中\n😀A"));
  EXPECT_FALSE(matches(g, "e中ü😀A"));
}

TEST(Gbnf, RecursionAndAlternativesAcrossLines) {
  auto g = gbnf(R"(root ::= list
list ::= "[" (
    item ("," item)*
  )? "]"
item ::= list |
  [0-9]+
)");
  EXPECT_TRUE(matches(g, "[]"));
  EXPECT_TRUE(matches(g, "[1,[2,[]],34]"));
  EXPECT_FALSE(matches(g, "[1,]"));
  EXPECT_FALSE(matches(g, "[[1]"));
}

TEST(Gbnf, NullableLoopsTerminate) {
  auto g = gbnf("root ::= (a | b)* \"x\"\na ::= \"a\"?\nb ::= \"\"\n");
  EXPECT_TRUE(matches(g, "x"));
  EXPECT_TRUE(matches(g, "aaax"));
}

std::string error_of(const std::string& text) {
  try {
    gbnf(text);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(Gbnf, ErrorsNameThePlace) {
  EXPECT_EQ(error_of("root ::= \"a"), "GBNF line 1 column 12: unterminated literal");
  EXPECT_EQ(error_of("root ::= [a-"), "GBNF line 1 column 13: unterminated character class");
  EXPECT_EQ(error_of("root ::= x\n"), "GBNF: rule 'x' is used but not defined");
  EXPECT_EQ(error_of("a ::= \"x\"\n"), "GBNF: the grammar has no 'root' rule (the start rule)");
  EXPECT_EQ(error_of("root ::= (\"a\"\n"), "GBNF line 2 column 1: expected ')'");
  EXPECT_EQ(error_of("root ::= \"\\q\""), "GBNF line 1 column 12: unknown escape '\\q'");
  EXPECT_EQ(error_of("root ::= \"a\"{3,1}"), "GBNF line 1 column 18: repetition {m,n} with n < m");
  EXPECT_EQ(error_of("root ::= \"a\"\nroot ::= \"b\""),
            "GBNF line 2 column 10: rule 'root' is defined twice");
  EXPECT_EQ(error_of("root ::= <[12]>"),
            "GBNF line 1 column 10: token references (<[id]>, <name>) are not supported");
  EXPECT_NE(error_of("root ::= root \"a\" | \"b\"").find("left-recursive (root -> root)"), std::string::npos);
  EXPECT_NE(error_of("root ::= x | \"b\"\nx ::= y? root \"a\"\ny ::= \"y\"").find("left-recursive"),
            std::string::npos);
  EXPECT_EQ(error_of("root ::= \"a\" root"),
            "grammar rule 'root' can never complete (every path recurses forever)");
  EXPECT_NE(error_of("root ::= [a]{99999}{99999}").find("too large"), std::string::npos);
}

TEST(Gbnf, ExponentiallyAmbiguousGrammarIsRefused) {
  // b and c match the same text, nested: the parses double with each "x".
  auto g = gbnf("root ::= a\na ::= b \"y\" | c \"y\" | \"\"\nb ::= \"x\" a\nc ::= \"x\" a\n");
  GrammarMatcher m(g);
  EXPECT_TRUE(m.accept_text("xxxx"));
  try {
    m.accept_text(std::string(20, 'x'));
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("too ambiguous"), std::string::npos) << e.what();
  }
}

TEST(Gbnf, DeepNestingAndCompaction) {
  auto g = gbnf("root ::= \"[\" root? \"]\"\n");
  GrammarMatcher m(g);
  const std::string open(40000, '['), close(40000, ']');
  for (size_t i = 0; i < open.size(); i += 100) ASSERT_TRUE(m.accept_text(open.substr(i, 100)));
  for (size_t i = 0; i < close.size(); i += 100) ASSERT_TRUE(m.accept_text(close.substr(i, 100)));
  EXPECT_TRUE(m.must_end());
}

TEST(Gbnf, TheExampleInDocsGrammars) {
  auto g = gbnf(R"(root   ::= object
object ::= "{" ws (pair ("," ws pair)*)? "}"
pair   ::= string ws ":" ws value
string ::= "\"" [^"\\]* "\""          # comments run to the end of the line
value  ::= string | [0-9]+ | "true" | "false"
ws     ::= [ \t\n]{0,4}
)");
  EXPECT_TRUE(matches(g, R"({"a": 1, "b":"x",  "c" :true})"));
  EXPECT_FALSE(matches(g, R"({"a": 1,})"));
}

TEST(Gbnf, RoundTripsThroughToGbnf) {
  const std::string text = "root ::= \"a\\\"\" [^\\]x-z] (b | \"c\")* b{2,5}\nb ::= \"\\n\" | [\\u00e9]\n";
  Grammar g = parse_gbnf(text);
  Grammar again = parse_gbnf(g.to_gbnf());
  EXPECT_EQ(g.to_gbnf(), again.to_gbnf());
}

}  // namespace
}  // namespace r1::structured
