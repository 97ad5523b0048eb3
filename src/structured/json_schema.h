#pragma once
// JSON Schema -> grammar (docs/GRAMMARS.md lists every keyword and how it is enforced). Output is compact
// JSON with bounded optional whitespace between tokens, properties in the schema's `properties` order.
// Keywords that cannot be enforced are refused with an error naming the keyword and where it is, never
// ignored; annotations (title, description, examples, default, ...) are ignored as JSON Schema says.
#include <nlohmann/json.hpp>

#include "structured/grammar.h"

namespace r1::structured {

struct JsonGrammarOptions {
  // Whitespace allowed between JSON tokens (and before the value): 0 = compact JSON only.
  uint32_t max_whitespace = 16;
};

// Throws r1::Error "JSON schema at /path: ..." for an unsupported keyword or a malformed schema.
Grammar json_schema_grammar(const nlohmann::ordered_json& schema, const JsonGrammarOptions& opts = {});
// Any JSON value / any JSON object (response_format json_object).
Grammar json_value_grammar(const JsonGrammarOptions& opts = {});
Grammar json_object_grammar(const JsonGrammarOptions& opts = {});
// One of the given strings, exactly (guided_choice). Throws r1::Error for an empty list.
Grammar choice_grammar(const std::vector<std::string>& choices);

}  // namespace r1::structured
