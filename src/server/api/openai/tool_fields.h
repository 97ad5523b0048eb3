#pragma once
// OpenAI's tool fields → serving::ToolsRequest: `tools` (chat: {type: function, function: {name, description,
// parameters, strict}}; responses: flattened {type: function, name, description, parameters, strict}),
// `tool_choice` (none | auto | required | a named function) and `parallel_tool_calls`. Errors name the field,
// e.g. tools[2].function.name.
#include <optional>
#include <string>

#include "serving/tool_calls.h"

namespace r1::server {

// Reads the raw body again so each function's parameters keep their order (the answer's keys follow it).
// Unset when the body asks for no tools.
std::optional<serving::ToolsRequest> parse_tool_fields(const std::string& raw_body, bool responses);

}  // namespace r1::server
