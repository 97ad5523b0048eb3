#pragma once
// The structured-output fields of OpenAI's and vLLM's wire formats → one serving::OutputFormat:
//   chat (and completions, as vLLM): response_format {type: text | json_object | json_schema}
//   responses: text.format {type: text | json_object | json_schema (flattened: name, schema, strict)}
//   vLLM, chat and completions: structured_outputs {json | regex | choice | grammar | json_object} and the
//   older guided_json, guided_regex, guided_choice, guided_grammar
// and the reasoning budget, max_reasoning_tokens. At most one format per request; errors name the field.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>

#include "serving/structured_output.h"

namespace r1::server {

// response_format (`field` names it: "response_format" on chat, "text.format" on responses, whose json_schema
// form is flattened). Unset for {type: text}.
std::optional<serving::OutputFormat> parse_response_format(const nlohmann::json& value,
                                                           const std::string& field, bool flattened);

// Every format field of a chat / completions body (response_format, structured_outputs, guided_*); 400 when
// more than one is set.
std::optional<serving::OutputFormat> parse_output_format(const nlohmann::json& body);

// max_reasoning_tokens: an integer >= 0, or unset.
std::optional<int64_t> parse_max_reasoning_tokens(const nlohmann::json& body);

// The body is parsed into nlohmann::json, whose objects sort their keys; a schema's `properties` order is the
// order the answer's keys must come in. Re-reads a json_schema format's schema from the raw body in its
// original order (the field name, dotted, is its path).
void keep_schema_order(std::optional<serving::OutputFormat>& format, const std::string& raw_body);

// The fields parse_output_format and parse_max_reasoning_tokens read.
extern const std::initializer_list<const char*> kStructuredFields;

}  // namespace r1::server
