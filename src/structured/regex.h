#pragma once
// Regular expressions (the ECMAScript subset JSON Schema's `pattern` and vLLM's guided_regex use) as grammar
// expressions: | ( ) (?: ) (?<name> ) [classes] . \d \w \s and their negations, * + ? {m} {m,} {m,n} (lazy
// `?` accepted, the language is the same), escapes \n \t \xHH \uHHHH \u{H..}. Lookaround, backreferences and
// word boundaries are not regular and are refused with an error naming them and their position.
#include <string_view>

#include "structured/grammar.h"

namespace r1::structured {

struct ParsedRegex {
  ExprPtr expr;
  bool anchored_start = false;  // began with ^
  bool anchored_end = false;    // ended with $
};

// Throws r1::Error "regex /.../ at offset N: problem".
ParsedRegex parse_regex(std::string_view pattern);

// A grammar whose root matches exactly the strings the regex matches in full (guided_regex semantics; ^ and $
// are accepted and change nothing).
Grammar regex_grammar(std::string_view pattern);

// The same language as `e` (matched against decoded text) written as the inside of a JSON string: `"`, `\`
// and control characters become their escapes (\" \\ \n \t \r \b \f, \u00XX for the rest).
ExprPtr json_string_escaped(const ExprPtr& e);

}  // namespace r1::structured
