#include "server/api/tgi/tgi_request.h"

#include <fmt/format.h>

#include <random>

#include "server/api/tgi/tgi_error.h"
#include "tokenizer/tokenizer.h"

namespace r1::server::tgi {

using nlohmann::json;

namespace {

// What TGI's serde deserializer answers for a field of the wrong type (before any validation runs).
[[noreturn]] void wrong_type(const std::string& field, const json& v, const char* expected) {
  throw ApiError(
      422,
      fmt::format("Failed to deserialize the JSON body into the target type: {}: invalid type: {}, "
                  "expected {}",
                  field, v.dump(), expected),
      "validation");
}

// The field's value when present and not null.
const json* field(const json& obj, const char* name) {
  auto it = obj.find(name);
  return it == obj.end() || it->is_null() ? nullptr : &*it;
}

std::optional<double> number(const json& p, const char* name) {
  const json* v = field(p, name);
  if (!v) return std::nullopt;
  if (!v->is_number()) wrong_type(fmt::format("parameters.{}", name), *v, "a number");
  return v->get<double>();
}

std::optional<int64_t> integer(const json& p, const char* name, bool non_negative) {
  const json* v = field(p, name);
  if (!v) return std::nullopt;
  if (!v->is_number_integer() || (non_negative && v->get<int64_t>() < 0 && !v->is_number_unsigned()))
    wrong_type(fmt::format("parameters.{}", name), *v, non_negative ? "an unsigned integer" : "an integer");
  return v->get<int64_t>();
}

bool boolean(const json& p, const char* name, bool fallback) {
  const json* v = field(p, name);
  if (!v) return fallback;
  if (!v->is_boolean()) wrong_type(fmt::format("parameters.{}", name), *v, "a boolean");
  return v->get<bool>();
}

// TGI's grammar: {"type": "json" | "json_object", "value": SCHEMA (or its text)}, {"type": "json_schema",
// "value": {"name"?, "schema"}}, {"type": "regex", "value": PATTERN}.
serving::OutputFormat parse_grammar(const json& g) {
  if (!g.is_object() || !g.contains("type") || !g["type"].is_string() || !g.contains("value"))
    wrong_type("parameters.grammar", g, "{\"type\": \"json\" | \"json_schema\" | \"regex\", \"value\": ...}");
  const std::string type = g["type"].get<std::string>();
  const json& value = g["value"];
  serving::OutputFormat f;
  f.field = "parameters.grammar";
  if (type == "regex") {
    if (!value.is_string()) wrong_type("parameters.grammar.value", value, "a string (the regex)");
    f.kind = structured::GrammarKind::regex;
    f.text = value.get<std::string>();
    return f;
  }
  json schema;
  if (type == "json" || type == "json_object") {
    schema = value;
    if (value.is_string()) {
      schema = json::parse(value.get<std::string>(), nullptr, false);
      if (schema.is_discarded()) validation_error("grammar is not valid: the JSON schema text is not JSON");
    }
  } else if (type == "json_schema") {
    if (!value.is_object() || !value.contains("schema"))
      wrong_type("parameters.grammar.value", value, "{\"name\"?, \"schema\"}");
    schema = value["schema"];
  } else {
    wrong_type("parameters.grammar.type", g["type"], "one of \"json\", \"json_schema\", \"regex\"");
  }
  if (!schema.is_object()) validation_error("grammar is not supported");
  // TGI needs the properties to build its grammar, and refuses a schema without them.
  if (!schema.contains("properties"))
    validation_error("grammar is not valid: Grammar must have a 'properties' field");
  f.kind = structured::GrammarKind::json_schema;
  f.text = schema.dump();
  return f;
}

}  // namespace

TgiRequest parse_request(const std::string& body_text, const TgiLimits& limits) {
  json body = json::parse(body_text, nullptr, false);
  if (body.is_discarded() || !body.is_object())
    throw ApiError(422,
                   "Failed to deserialize the JSON body into the target type: the body must be a JSON object "
                   "{\"inputs\": ..., \"parameters\": {...}}",
                   "validation");
  TgiRequest r;
  auto in = body.find("inputs");
  if (in == body.end())
    throw ApiError(422, "Failed to deserialize the JSON body into the target type: missing field `inputs`",
                   "validation");
  if (!in->is_string()) wrong_type("inputs", *in, "a string");
  r.inputs = in->get<std::string>();
  if (const json* s = field(body, "stream")) {
    if (!s->is_boolean()) wrong_type("stream", *s, "a boolean");
    r.stream = s->get<bool>();
  }
  const json* params = field(body, "parameters");
  if (params && !params->is_object()) wrong_type("parameters", *params, "an object");
  const json p = params ? *params : json::object();
  const bool do_sample = boolean(p, "do_sample", /*fallback=*/params == nullptr);

  // In the order TGI's validator checks them, so a request with several faults gets TGI's first message.
  const auto best_of = integer(p, "best_of", true);
  const auto temperature = number(p, "temperature");
  const auto repetition_penalty = number(p, "repetition_penalty");
  const auto frequency_penalty = number(p, "frequency_penalty");
  const auto top_p = number(p, "top_p");
  const auto typical_p = number(p, "typical_p");
  const auto top_k = integer(p, "top_k", false);
  const auto max_new_tokens = integer(p, "max_new_tokens", true);
  const auto seed = integer(p, "seed", true);
  const auto top_n_tokens = integer(p, "top_n_tokens", true);
  const auto truncate = integer(p, "truncate", true);
  if (best_of && (*best_of == 0 || size_t(*best_of) > limits.max_best_of))
    validation_error(fmt::format("`best_of` must be > 0 and <= {}. Given: {}", limits.max_best_of, *best_of));
  if (temperature && *temperature <= 0) validation_error("`temperature` must be strictly positive");
  if (repetition_penalty && *repetition_penalty <= 0)
    validation_error("`repetition_penalty` must be strictly positive");
  if (frequency_penalty && (*frequency_penalty < -2 || *frequency_penalty > 2))
    validation_error("`frequency_penalty` must be >= -2.0 and <= 2.0");
  if (top_p && (*top_p <= 0 || *top_p >= 1)) validation_error("`top_p` must be > 0.0 and < 1.0");
  if (typical_p && (*typical_p <= 0 || *typical_p >= 1))
    validation_error("`typical_p` must be > 0.0 and < 1.0");
  if (top_k && *top_k <= 0) validation_error("`top_k` must be strictly positive");
  if (max_new_tokens && *max_new_tokens == 0) validation_error("`max_new_tokens` must be strictly positive");
  if (const json* stop = field(p, "stop")) {
    if (!stop->is_array()) wrong_type("parameters.stop", *stop, "a sequence of strings");
    for (const json& s : *stop) {
      if (!s.is_string()) wrong_type("parameters.stop", s, "a string");
      r.stop.push_back(s.get<std::string>());
    }
  }
  if (r.stop.size() > limits.max_stop_sequences)
    validation_error(fmt::format("`stop` supports up to {} stop sequences. Given: {}",
                                 limits.max_stop_sequences, r.stop.size()));
  if (top_n_tokens && *top_n_tokens > limits.max_top_n_tokens)
    validation_error(fmt::format("`top_n_tokens` must be >= 0 and <= {}. Given: {}", limits.max_top_n_tokens,
                                 *top_n_tokens));
  if (r.inputs.empty()) validation_error("`inputs` cannot be empty");
  if (truncate && (*truncate == 0 || size_t(*truncate) > limits.max_input_tokens))
    validation_error(fmt::format("`truncate` must be strictly positive and less than {}. Given: {}",
                                 limits.max_input_tokens, *truncate));
  if (const json* g = field(p, "grammar")) r.grammar = parse_grammar(*g);

  // What TGI accepts and r1serve cannot do: refused in TGI's form, saying why, never silently ignored.
  if (typical_p)
    validation_error("`typical_p` is not supported by r1serve (its sampler has no typical decoding)");
  if (boolean(p, "watermark", false)) validation_error("`watermark` is not supported by r1serve");
  r.decoder_input_details = boolean(p, "decoder_input_details", false);
  if (field(p, "adapter_id")) validation_error("`adapter_id` is not supported by r1serve (no LoRA adapters)");

  // TGI's server samples when asked to or when any sampling parameter moves the distribution; otherwise it
  // takes the most likely token (temperature 0 here).
  r.sampling = do_sample || (temperature && *temperature != 1.0) || top_k || top_p;
  SamplingParams& s = r.sampling_params;
  s.temperature = r.sampling ? temperature.value_or(1.0) : 0.0;
  s.top_p = top_p.value_or(1.0);
  s.top_k = int(top_k.value_or(0));
  s.repetition_penalty = repetition_penalty.value_or(1.0);
  s.frequency_penalty = frequency_penalty.value_or(0.0);
  // TGI draws a seed when none is given and reports it, so a sampled answer can be reproduced.
  if (seed) {
    s.seed = uint64_t(*seed);
  } else {
    std::random_device rd;
    s.seed = (uint64_t(rd()) << 32) | rd();
  }
  r.max_new_tokens = max_new_tokens;
  if (truncate) r.truncate = size_t(*truncate);
  r.details = boolean(p, "details", false);
  r.return_full_text = boolean(p, "return_full_text", false);
  r.top_n_tokens = int(top_n_tokens.value_or(0));
  return r;
}

serving::GenerateRequest to_generate_request(const TgiRequest& r, const Tokenizer& tokenizer) {
  serving::GenerateRequest g;
  serving::TextInput prompt;
  if (r.truncate) {
    // TGI keeps the prompt's end: the text closest to what is generated.
    std::vector<int32_t> ids = tokenizer.encode(r.inputs, true);
    if (ids.size() > *r.truncate) ids.erase(ids.begin(), ids.end() - std::ptrdiff_t(*r.truncate));
    prompt.ids = std::move(ids);
  } else {
    prompt.text = r.inputs;
  }
  g.input = std::vector<serving::TextInput>{std::move(prompt)};
  g.max_tokens = r.max_new_tokens;
  g.params.sampling = r.sampling_params;
  g.params.stop = r.stop;
  // Every token's id, text and log-probability go into TGI's answers: ask for them always.
  g.params.logprobs = r.top_n_tokens;
  if (r.decoder_input_details) g.params.prompt_logprobs = 0;  // TGI's prefill tokens carry no alternatives
  g.format = r.grammar;
  g.input_field = "inputs";
  g.max_tokens_field = "max_new_tokens";
  return g;
}

}  // namespace r1::server::tgi
