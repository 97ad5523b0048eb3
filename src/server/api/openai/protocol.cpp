#include "server/api/openai/protocol.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>

#include "server/api/openai/structured_fields.h"
#include "server/api_error.h"

namespace r1::server {

using nlohmann::json;

namespace {

const char* type_name(const json& v) {
  switch (v.type()) {
    case json::value_t::null:
      return "null";
    case json::value_t::boolean:
      return "boolean";
    case json::value_t::string:
      return "string";
    case json::value_t::array:
      return "array";
    case json::value_t::object:
      return "object";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
      return "integer";
    case json::value_t::number_float:
      return "number";
    default:
      return "value";
  }
}

[[noreturn]] void wrong_type(const std::string& field, const char* want, const json& got) {
  bad_request(fmt::format("'{}' must be {}, got {}", field, want, type_name(got)), field);
}

// A field that is absent or null counts as unset (OpenAI's SDKs send null for "not given").
const json* field(const json& body, const char* name) {
  auto it = body.find(name);
  if (it == body.end() || it->is_null()) return nullptr;
  return &*it;
}

std::optional<bool> get_bool(const json& body, const char* name) {
  const json* v = field(body, name);
  if (!v) return std::nullopt;
  if (!v->is_boolean()) wrong_type(name, "a boolean", *v);
  return v->get<bool>();
}

std::optional<double> get_number(const json& body, const char* name, double lo, double hi,
                                 bool lo_open = false) {
  const json* v = field(body, name);
  if (!v) return std::nullopt;
  if (!v->is_number()) wrong_type(name, "a number", *v);
  double x = v->get<double>();
  if (!std::isfinite(x) || x < lo || x > hi || (lo_open && x == lo))
    bad_request(fmt::format("'{}' must be in {}{}, {}], got {}", name, lo_open ? "(" : "[", lo, hi, x), name);
  return x;
}

std::optional<int64_t> get_int(const json& body, const char* name, int64_t lo, int64_t hi) {
  const json* v = field(body, name);
  if (!v) return std::nullopt;
  int64_t x = 0;
  if (v->is_number_integer()) {
    if (v->is_number_unsigned() && v->get<uint64_t>() > uint64_t(INT64_MAX))
      bad_request(fmt::format("'{}' is too large", name), name);
    x = v->get<int64_t>();
  } else if (v->is_number_float() && std::isfinite(v->get<double>()) &&
             std::floor(v->get<double>()) == v->get<double>() && std::fabs(v->get<double>()) < 9e18) {
    x = static_cast<int64_t>(v->get<double>());
  } else {
    wrong_type(name, "an integer", *v);
  }
  if (x < lo || x > hi) bad_request(fmt::format("'{}' must be in [{}, {}], got {}", name, lo, hi, x), name);
  return x;
}

std::optional<std::string> get_string(const json& body, const char* name) {
  const json* v = field(body, name);
  if (!v) return std::nullopt;
  if (!v->is_string()) wrong_type(name, "a string", *v);
  return v->get<std::string>();
}

std::vector<int32_t> get_id_list(const json& arr, const std::string& name) {
  std::vector<int32_t> ids;
  for (const json& x : arr) {
    if (!x.is_number_integer()) wrong_type(name, "an array of token ids (integers)", x);
    int64_t id = x.get<int64_t>();
    if (id < 0 || id > INT32_MAX)
      bad_request(fmt::format("'{}' holds a token id out of range: {}", name, id), name);
    ids.push_back(static_cast<int32_t>(id));
  }
  return ids;
}

// OpenAI's logit_bias: {"token id as a string": bias in [-100, 100]}. Ids are checked against the model's
// vocabulary later (serving), where the vocabulary is known.
std::vector<std::pair<int32_t, float>> parse_logit_bias(const json& body) {
  std::vector<std::pair<int32_t, float>> out;
  const json* v = field(body, "logit_bias");
  if (!v) return out;
  if (!v->is_object()) wrong_type("logit_bias", "an object mapping token ids to biases", *v);
  for (const auto& [key, bias] : v->items()) {
    char* end = nullptr;
    errno = 0;
    long long id = key.empty() ? -1 : std::strtoll(key.c_str(), &end, 10);
    if (key.empty() || *end != '\0' || errno || id < 0 || id > INT32_MAX)
      bad_request(
          fmt::format("'logit_bias' keys must be token ids (non-negative integers as strings), got '{}'",
                      key),
          "logit_bias");
    if (!bias.is_number() || !std::isfinite(bias.get<double>()) || bias.get<double>() < -100 ||
        bias.get<double>() > 100)
      bad_request(
          fmt::format("'logit_bias' of token {} must be a number in [-100, 100], got {}", key, bias.dump()),
          "logit_bias");
    out.emplace_back(static_cast<int32_t>(id), bias.get<float>());
  }
  return out;
}

// Fields both endpoints share.
void parse_common(const json& body, const SamplingDefaults& d, ApiRequest& r) {
  r.model = get_string(body, "model");
  SamplingParams& s = r.sampling;
  s.temperature = get_number(body, "temperature", 0, 2).value_or(d.temperature.value_or(1.0));
  s.top_p = get_number(body, "top_p", 0, 1, true).value_or(d.top_p.value_or(1.0));
  s.top_k = static_cast<int>(get_int(body, "top_k", -1, INT32_MAX).value_or(d.top_k.value_or(0)));
  s.min_p = get_number(body, "min_p", 0, 1).value_or(d.min_p.value_or(0.0));
  s.presence_penalty = get_number(body, "presence_penalty", -2, 2).value_or(0.0);
  s.frequency_penalty = get_number(body, "frequency_penalty", -2, 2).value_or(0.0);
  s.repetition_penalty =
      get_number(body, "repetition_penalty", 0, 2, true).value_or(d.repetition_penalty.value_or(1.0));
  if (auto seed = get_int(body, "seed", INT64_MIN, INT64_MAX)) s.seed = static_cast<uint64_t>(*seed);

  if (const json* v = field(body, "stop")) {
    if (v->is_string()) {
      r.stop.push_back(v->get<std::string>());
    } else if (v->is_array()) {
      for (const json& x : *v) {
        if (!x.is_string()) wrong_type("stop", "a string or an array of strings", x);
        r.stop.push_back(x.get<std::string>());
      }
    } else {
      wrong_type("stop", "a string or an array of strings", *v);
    }
    std::erase_if(r.stop, [](const std::string& x) { return x.empty(); });
  }
  if (const json* v = field(body, "stop_token_ids")) {
    if (!v->is_array()) wrong_type("stop_token_ids", "an array of integers", *v);
    r.stop_token_ids = get_id_list(*v, "stop_token_ids");
  }
  r.ignore_eos = get_bool(body, "ignore_eos").value_or(false);
  r.skip_special_tokens = get_bool(body, "skip_special_tokens").value_or(true);

  r.stream = get_bool(body, "stream").value_or(false);
  if (const json* v = field(body, "stream_options")) {
    if (!v->is_object()) wrong_type("stream_options", "an object", *v);
    if (!r.stream) bad_request("'stream_options' is only allowed when 'stream' is true", "stream_options");
    if (auto iu = get_bool(*v, "include_usage")) r.include_usage = *iu;
  }
  r.n = static_cast<int>(get_int(body, "n", 1, kMaxN).value_or(1));
  r.user = get_string(body, "user").value_or("");
  s.logit_bias = parse_logit_bias(body);
  try {
    s.validate();
  } catch (const r1::Error& e) {
    bad_request(e.what());
  }
}

// Message content: a string, or an array of parts of which the text parts are joined (images are refused).
std::string message_text(const json& content, size_t i) {
  std::string name = fmt::format("messages[{}].content", i);
  if (content.is_string()) return content.get<std::string>();
  if (!content.is_array()) wrong_type(name, "a string or an array of content parts", content);
  std::string text;
  for (const json& part : content) {
    if (!part.is_object()) wrong_type(name, "an array of content parts (objects)", part);
    auto t = part.find("type");
    if (t == part.end() || !t->is_string())
      bad_request(fmt::format("{}: each part needs a 'type'", name), name);
    if (*t != "text")
      bad_request(
          fmt::format("{}: content part type '{}' is not supported (text only)", name, t->get<std::string>()),
          name);
    auto tx = part.find("text");
    if (tx == part.end() || !tx->is_string())
      bad_request(fmt::format("{}: a text part needs 'text'", name), name);
    text += tx->get<std::string>();
  }
  return text;
}

}  // namespace

void refuse_unsupported(const json& body, const char* field_name, const std::string& why) {
  if (field(body, field_name))
    bad_request(fmt::format("'{}' is not supported by this server: {}", field_name, why), field_name);
}

void refuse_structured_output(const json& body) {
  // The deprecated function-calling fields: clients that send them expect calls back in a form not built.
  for (const char* f : {"functions", "function_call"})
    refuse_unsupported(body, f, "use 'tools' and 'tool_choice'");
}

const std::initializer_list<const char*> kSharedFields = {"model",
                                                          "temperature",
                                                          "top_p",
                                                          "top_k",
                                                          "min_p",
                                                          "presence_penalty",
                                                          "frequency_penalty",
                                                          "repetition_penalty",
                                                          "seed",
                                                          "stop",
                                                          "stop_token_ids",
                                                          "ignore_eos",
                                                          "skip_special_tokens",
                                                          "stream",
                                                          "stream_options",
                                                          "n",
                                                          "user",
                                                          "logit_bias"};

void refuse_unknown_fields(const json& body, std::initializer_list<const char*> known, bool shared) {
  auto in = [](std::initializer_list<const char*> list, const std::string& key) {
    return std::find_if(list.begin(), list.end(), [&](const char* k) { return key == k; }) != list.end();
  };
  for (const auto& [key, value] : body.items()) {
    if (value.is_null() || in(known, key) || (shared && in(kSharedFields, key))) continue;
    bad_request(
        fmt::format("'{}' is not a field this server supports; it is refused rather than ignored", key), key);
  }
}

ApiRequest parse_shared_fields(const json& body, const SamplingDefaults& defaults) {
  ApiRequest r;
  parse_common(body, defaults, r);
  return r;
}

json parse_json_body(const std::string& body) {
  json j = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded())
    throw ApiError(400, "the request body is not valid JSON", "invalid_request_error", std::nullopt,
                   "invalid_json");
  if (!j.is_object()) throw ApiError(400, "the request body must be a JSON object", "invalid_request_error");
  return j;
}

ApiRequest parse_chat_request(const json& body, const SamplingDefaults& defaults) {
  ApiRequest r;
  r.endpoint = Endpoint::chat;
  parse_common(body, defaults, r);

  const json* msgs = field(body, "messages");
  if (!msgs) bad_request("'messages' is required", "messages");
  if (!msgs->is_array()) wrong_type("messages", "an array", *msgs);
  if (msgs->empty()) bad_request("'messages' must hold at least one message", "messages");
  r.messages = json::array();
  for (size_t i = 0; i < msgs->size(); ++i) {
    const json& m = (*msgs)[i];
    std::string name = fmt::format("messages[{}]", i);
    if (!m.is_object()) wrong_type(name, "an object", m);
    auto role = m.find("role");
    if (role == m.end() || !role->is_string())
      bad_request(name + ".role is required (a string)", name + ".role");
    static const char* kRoles[] = {"system", "developer", "user", "assistant", "tool"};
    if (std::find(std::begin(kRoles), std::end(kRoles), role->get<std::string>()) == std::end(kRoles))
      bad_request(fmt::format("{}.role '{}' is not one of system, developer, user, assistant, tool", name,
                              role->get<std::string>()),
                  name + ".role");
    json out = m;  // keeps tool_calls, name, tool_call_id for the template
    if (*role == "developer") out["role"] = "system";
    auto content = m.find("content");
    const bool calls = *role == "assistant" && m.contains("tool_calls") && m["tool_calls"].is_array() &&
                       !m["tool_calls"].empty();
    if (content == m.end() || content->is_null()) {
      if (*role != "assistant") bad_request(name + ".content is required", name + ".content");
      out["content"] = "";
    } else {
      out["content"] = message_text(*content, i);
    }
    if (calls) {
      // R1's template renders an assistant turn's tool calls only when its content is null.
      if (out["content"] == "") out["content"] = nullptr;
      for (size_t k = 0; k < m["tool_calls"].size(); ++k) {
        json& tc = out["tool_calls"][k];
        const std::string tc_name = fmt::format("{}.tool_calls[{}]", name, k);
        if (!tc.is_object() || !tc.contains("function") || !tc["function"].is_object() ||
            !tc["function"].contains("name") || !tc["function"]["name"].is_string())
          bad_request(tc_name + ".function.name is required", tc_name);
        if (!tc.contains("type")) tc["type"] = "function";
        json& args = tc["function"]["arguments"];
        if (args.is_null()) args = "{}";
        if (!args.is_string()) args = args.dump();  // some clients send the object itself
      }
    }
    r.messages.push_back(std::move(out));
  }
  refuse_structured_output(body);
  r.format = parse_output_format(body);
  r.max_reasoning_tokens = parse_max_reasoning_tokens(body);
  r.add_generation_prompt = get_bool(body, "add_generation_prompt").value_or(true);

  auto mt = get_int(body, "max_completion_tokens", 1, INT32_MAX);
  auto m = get_int(body, "max_tokens", 1, INT32_MAX);
  r.max_tokens = mt ? mt : m;

  r.logprobs = get_bool(body, "logprobs").value_or(false);
  if (auto tl = get_int(body, "top_logprobs", 0, kMaxTopLogprobs)) {
    if (!r.logprobs && *tl > 0) bad_request("'top_logprobs' needs 'logprobs': true", "top_logprobs");
    r.top_logprobs = static_cast<int>(*tl);
  }
  return r;
}

ApiRequest parse_completion_request(const json& body, const SamplingDefaults& defaults) {
  ApiRequest r;
  r.endpoint = Endpoint::completion;
  parse_common(body, defaults, r);

  const json* p = field(body, "prompt");
  if (!p) bad_request("'prompt' is required", "prompt");
  const char* want =
      "a string, an array of strings, an array of token ids or an array of arrays of token ids";
  if (p->is_string()) {
    r.prompts.push_back({p->get<std::string>(), {}});
  } else if (p->is_array()) {
    if (p->empty()) bad_request("'prompt' must not be empty", "prompt");
    if ((*p)[0].is_number()) {
      r.prompts.push_back({std::nullopt, get_id_list(*p, "prompt")});
    } else {
      for (const json& x : *p) {
        if (x.is_string())
          r.prompts.push_back({x.get<std::string>(), {}});
        else if (x.is_array())
          r.prompts.push_back({std::nullopt, get_id_list(x, "prompt")});
        else
          wrong_type("prompt", want, x);
      }
    }
  } else {
    wrong_type("prompt", want, *p);
  }
  if (r.prompts.size() * size_t(r.n) > 64)
    bad_request(fmt::format("{} prompts × n={} is more than the 64 completions one request may ask for",
                            r.prompts.size(), r.n),
                "prompt");
  if (const json* s = field(body, "suffix")) {
    if (!s->is_string() || !s->get<std::string>().empty())
      bad_request("'suffix' is not supported by this model", "suffix");
  }
  r.format = parse_output_format(body);
  r.echo = get_bool(body, "echo").value_or(false);
  r.max_tokens = get_int(body, "max_tokens", 0, INT32_MAX).value_or(16);  // OpenAI's completions default
  if (auto lp = get_int(body, "logprobs", 0, kMaxTopLogprobs)) {
    r.logprobs = true;
    r.top_logprobs = static_cast<int>(*lp);
  }
  if (*r.max_tokens == 0 && !r.echo)
    bad_request("'max_tokens' must be at least 1 (0 only with echo)", "max_tokens");
  return r;
}

}  // namespace r1::server
