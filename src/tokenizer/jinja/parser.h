#pragma once
// Parses tokens into a syntax tree, rejecting at parse time everything the evaluator does not support
// (unknown filters and tests, template inheritance, call blocks...), so a template that parses can only fail
// at render time on its data.
#include <string>
#include <vector>

#include "tokenizer/jinja/ast.h"

namespace r1::jinja {

// Throws r1::Error "<origin>:<line>:<col>: ..." naming the construct or the syntax error.
Body parse(const std::vector<Token>& tokens, const std::string& origin);

}  // namespace r1::jinja
