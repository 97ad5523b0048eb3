#include "server/api/openai/structured_fields.h"

#include <fmt/format.h>

#include <algorithm>

#include "server/api_error.h"

namespace r1::server {

using nlohmann::json;
using serving::OutputFormat;
using structured::GrammarKind;

const std::initializer_list<const char*> kStructuredFields = {
    "response_format", "structured_outputs", "guided_json",         "guided_regex",
    "guided_choice",   "guided_grammar",     "max_reasoning_tokens"};

namespace {

const json* field(const json& body, const char* name) {
  auto it = body.find(name);
  return it == body.end() || it->is_null() ? nullptr : &*it;
}

// A JSON schema given as an object (or a boolean schema), or as JSON text (vLLM's guided_json takes both).
OutputFormat schema_format(const json& v, const std::string& name) {
  if (v.is_string()) {
    json parsed = json::parse(v.get<std::string>(), nullptr, false);
    if (parsed.is_discarded())
      bad_request(fmt::format("'{}' must be a JSON schema (an object, or its JSON text)", name), name);
    return schema_format(parsed, name);
  }
  if (!v.is_object() && !v.is_boolean())
    bad_request(fmt::format("'{}' must be a JSON schema (an object)", name), name);
  return {GrammarKind::json_schema, v.dump(), name};
}

OutputFormat string_format(GrammarKind kind, const json& v, const std::string& name) {
  if (!v.is_string() || v.get<std::string>().empty())
    bad_request(fmt::format("'{}' must be a non-empty string", name), name);
  return {kind, v.get<std::string>(), name};
}

OutputFormat choice_format(const json& v, const std::string& name) {
  if (!v.is_array() || v.empty())
    bad_request(fmt::format("'{}' must be a non-empty array of strings", name), name);
  for (const json& c : v)
    if (!c.is_string()) bad_request(fmt::format("'{}' must be a non-empty array of strings", name), name);
  return {GrammarKind::choice, v.dump(), name};
}

// vLLM's structured_outputs object: exactly one of its constraint keys.
OutputFormat structured_outputs(const json& v) {
  const std::string name = "structured_outputs";
  if (!v.is_object()) bad_request("'structured_outputs' must be an object", name);
  std::optional<OutputFormat> out;
  for (const auto& [key, value] : v.items()) {
    if (value.is_null() || (key == "json_object" && value == false)) continue;
    const std::string sub = name + "." + key;
    OutputFormat f;
    if (key == "json")
      f = schema_format(value, sub);
    else if (key == "regex")
      f = string_format(GrammarKind::regex, value, sub);
    else if (key == "choice")
      f = choice_format(value, sub);
    else if (key == "grammar")
      f = string_format(GrammarKind::gbnf, value, sub);
    else if (key == "json_object" && value == true)
      f = {GrammarKind::json_object, "", sub};
    else
      bad_request(fmt::format("'{}' is not supported by this server (json, regex, choice, grammar and "
                              "json_object are)",
                              sub),
                  sub);
    if (out)
      bad_request(fmt::format("'{}': set one of json, regex, choice, grammar, json_object", name), sub);
    out = f;
  }
  if (!out) bad_request("'structured_outputs' sets no constraint (json, regex, choice, grammar)", name);
  return *out;
}

}  // namespace

std::optional<OutputFormat> parse_response_format(const json& v, const std::string& name, bool flattened) {
  if (!v.is_object()) bad_request(fmt::format("'{}' must be an object with a 'type'", name), name);
  const json* type = field(v, "type");
  if (!type || !type->is_string())
    bad_request(fmt::format("'{}.type' is required: text, json_object or json_schema", name), name + ".type");
  if (*type == "text") return std::nullopt;
  if (*type == "json_object") return OutputFormat{GrammarKind::json_object, "", name};
  if (*type != "json_schema")
    bad_request(
        fmt::format("'{}.type' {} is not supported (text, json_object or json_schema)", name, type->dump()),
        name + ".type");
  // {type, json_schema: {name, schema, strict}} on chat; {type, name, schema, strict} on responses.
  const std::string base = flattened ? name : name + ".json_schema";
  const json* js = flattened ? &v : field(v, "json_schema");
  if (!js || !js->is_object())
    bad_request(fmt::format("'{}' is required (an object with 'name' and 'schema')", base), base);
  if (const json* s = field(*js, "strict"); s && !s->is_boolean())
    bad_request(fmt::format("'{}.strict' must be a boolean", base), base + ".strict");
  const json* schema = field(*js, "schema");
  // Without a schema OpenAI's json_schema means any JSON object.
  if (!schema) return OutputFormat{GrammarKind::json_object, "", base};
  return schema_format(*schema, base + ".schema");
}

std::optional<OutputFormat> parse_output_format(const json& body) {
  std::optional<OutputFormat> out;
  auto set = [&](std::optional<OutputFormat> f, const char* name) {
    if (!f) return;
    if (out)
      bad_request(fmt::format("'{}' and '{}' both constrain the output; set one", out->field, name), name);
    out = std::move(f);
  };
  if (const json* v = field(body, "response_format"))
    set(parse_response_format(*v, "response_format", false), "response_format");
  if (const json* v = field(body, "structured_outputs")) set(structured_outputs(*v), "structured_outputs");
  if (const json* v = field(body, "guided_json")) set(schema_format(*v, "guided_json"), "guided_json");
  if (const json* v = field(body, "guided_regex"))
    set(string_format(GrammarKind::regex, *v, "guided_regex"), "guided_regex");
  if (const json* v = field(body, "guided_choice")) set(choice_format(*v, "guided_choice"), "guided_choice");
  if (const json* v = field(body, "guided_grammar"))
    set(string_format(GrammarKind::gbnf, *v, "guided_grammar"), "guided_grammar");
  return out;
}

void keep_schema_order(std::optional<OutputFormat>& format, const std::string& raw_body) {
  if (!format || format->kind != GrammarKind::json_schema) return;
  const auto body = nlohmann::ordered_json::parse(raw_body, nullptr, false);
  if (body.is_discarded()) return;
  std::string pointer = "/" + format->field;
  std::replace(pointer.begin(), pointer.end(), '.', '/');
  const nlohmann::ordered_json::json_pointer ptr(pointer);
  if (!body.contains(ptr)) return;
  const auto& v = body.at(ptr);
  if (v.is_string()) {
    const auto parsed = nlohmann::ordered_json::parse(v.get<std::string>(), nullptr, false);
    if (!parsed.is_discarded()) format->text = parsed.dump();
  } else {
    format->text = v.dump();
  }
}

std::optional<int64_t> parse_max_reasoning_tokens(const json& body) {
  const json* v = field(body, "max_reasoning_tokens");
  if (!v) return std::nullopt;
  if (!v->is_number_integer() || v->get<int64_t>() < 0 || v->get<int64_t>() > INT32_MAX)
    bad_request("'max_reasoning_tokens' must be an integer >= 0 (0: answer without thinking)",
                "max_reasoning_tokens");
  return v->get<int64_t>();
}

}  // namespace r1::server
