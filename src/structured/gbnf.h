#pragma once
// GBNF, llama.cpp's grammar format (docs/GRAMMARS.md): `name ::= alternatives` rules, "literals", [classes],
// ( groups ), ., and * + ? {m} {m,} {m,n}; # comments; the start rule is `root`.
#include <string_view>

#include "structured/grammar.h"

namespace r1::structured {

// Throws r1::Error "GBNF line L column C: problem" for malformed text, and naming the rule for a rule used
// but never defined or a missing root.
Grammar parse_gbnf(std::string_view text);

}  // namespace r1::structured
