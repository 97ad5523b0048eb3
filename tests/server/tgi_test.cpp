// TGI's API pieces that need no model: the request rules (TGI's defaults, its refusals and their messages,
// what r1serve refuses), the error forms, and the shapes of /generate's body and /generate_stream's events.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "server/api/tgi/tgi_error.h"
#include "server/api/tgi/tgi_request.h"
#include "server/api/tgi/tgi_response.h"

namespace r1::server::tgi {
namespace {

using nlohmann::json;

TgiLimits limits() {
  TgiLimits l;
  l.max_input_tokens = 100;
  return l;
}

TgiRequest parse(const json& body) {
  return parse_request(body.dump(), limits());
}

// The 422 a body gets: {status, message}; whether it is a value refusal (ValidationFailure) or a malformed
// body.
struct Refusal {
  int status = 0;
  std::string message;
  bool value = false;
};
Refusal refusal(const std::string& body) {
  try {
    parse_request(body, limits());
  } catch (const ValidationFailure& e) {
    return {e.status(), e.what(), true};
  } catch (const ApiError& e) {
    return {e.status(), e.what(), false};
  }
  return {};
}
Refusal refusal(const json& body) {
  return refusal(body.dump());
}

TEST(TgiRequest, WithoutParametersItSamplesAsTgisDefaultParametersDo) {
  TgiRequest r = parse({{"inputs", "Once"}});
  EXPECT_TRUE(r.sampling);
  EXPECT_EQ(r.sampling_params.temperature, 1.0);
  ASSERT_TRUE(r.sampling_params.seed);  // drawn, so that the answer can report it
  EXPECT_FALSE(r.details);
  EXPECT_FALSE(r.max_new_tokens);
}

TEST(TgiRequest, WithParametersItIsGreedyUnlessSamplingIsAskedFor) {
  TgiRequest g = parse({{"inputs", "Once"}, {"parameters", {{"max_new_tokens", 5}}}});
  EXPECT_FALSE(g.sampling);
  EXPECT_EQ(g.sampling_params.temperature, 0.0);
  EXPECT_EQ(g.max_new_tokens, 5);
  // temperature 1 alone leaves the distribution as it is: still greedy (TGI's has_warpers rule).
  EXPECT_FALSE(parse({{"inputs", "x"}, {"parameters", {{"temperature", 1.0}}}}).sampling);
  for (const json& p :
       {json{{"do_sample", true}}, json{{"temperature", 0.7}}, json{{"top_k", 5}}, json{{"top_p", 0.9}}}) {
    SCOPED_TRACE(p.dump());
    TgiRequest s = parse({{"inputs", "x"}, {"parameters", p}});
    EXPECT_TRUE(s.sampling);
    EXPECT_GT(s.sampling_params.temperature, 0.0);
  }
  TgiRequest s = parse({{"inputs", "x"},
                        {"parameters",
                         {{"temperature", 0.5},
                          {"top_k", 7},
                          {"top_p", 0.8},
                          {"repetition_penalty", 1.2},
                          {"frequency_penalty", 0.5},
                          {"seed", 42},
                          {"stop", {"\n", "."}},
                          {"details", true},
                          {"return_full_text", true},
                          {"top_n_tokens", 3}}}});
  EXPECT_EQ(s.sampling_params.temperature, 0.5);
  EXPECT_EQ(s.sampling_params.top_k, 7);
  EXPECT_DOUBLE_EQ(s.sampling_params.top_p, 0.8);
  EXPECT_DOUBLE_EQ(s.sampling_params.repetition_penalty, 1.2);
  EXPECT_DOUBLE_EQ(s.sampling_params.frequency_penalty, 0.5);
  EXPECT_EQ(s.sampling_params.seed, 42u);
  EXPECT_EQ(s.stop, (std::vector<std::string>{"\n", "."}));
  EXPECT_TRUE(s.details);
  EXPECT_TRUE(s.return_full_text);
  EXPECT_EQ(s.top_n_tokens, 3);
}

TEST(TgiRequest, NullParametersAreUnset) {
  TgiRequest r = parse({{"inputs", "x"}, {"parameters", {{"temperature", nullptr}, {"stop", nullptr}}}});
  EXPECT_FALSE(r.sampling);
  EXPECT_TRUE(r.stop.empty());
}

TEST(TgiRequest, ValuesTgiRefusesGetItsMessages) {
  const std::vector<std::pair<json, std::string>> cases = {
      {{{"temperature", 0}}, "Input validation error: `temperature` must be strictly positive"},
      {{{"repetition_penalty", 0}}, "Input validation error: `repetition_penalty` must be strictly positive"},
      {{{"frequency_penalty", 3}}, "Input validation error: `frequency_penalty` must be >= -2.0 and <= 2.0"},
      {{{"top_p", 1.0}}, "Input validation error: `top_p` must be > 0.0 and < 1.0"},
      {{{"top_k", 0}}, "Input validation error: `top_k` must be strictly positive"},
      {{{"typical_p", 1.5}}, "Input validation error: `typical_p` must be > 0.0 and < 1.0"},
      {{{"max_new_tokens", 0}}, "Input validation error: `max_new_tokens` must be strictly positive"},
      {{{"stop", {"a", "b", "c", "d", "e"}}},
       "Input validation error: `stop` supports up to 4 stop sequences. Given: 5"},
      {{{"best_of", 2}}, "Input validation error: `best_of` must be > 0 and <= 1. Given: 2"},
      {{{"top_n_tokens", 6}}, "Input validation error: `top_n_tokens` must be >= 0 and <= 5. Given: 6"},
      {{{"truncate", 101}},
       "Input validation error: `truncate` must be strictly positive and less than 100. Given: 101"},
      {{{"grammar", {{"type", "json"}, {"value", {{"type", "object"}}}}}},
       "Input validation error: grammar is not valid: Grammar must have a 'properties' field"},
  };
  for (const auto& [params, message] : cases) {
    SCOPED_TRACE(params.dump());
    Refusal r = refusal(json{{"inputs", "x"}, {"parameters", params}});
    EXPECT_EQ(r.status, 422);
    EXPECT_TRUE(r.value);
    EXPECT_EQ(r.message, message);
  }
  Refusal empty = refusal(json{{"inputs", ""}});
  EXPECT_EQ(empty.message, "Input validation error: `inputs` cannot be empty");
}

TEST(TgiRequest, WhatR1serveCannotDoIsRefusedNotIgnored) {
  for (const json& p : {json{{"watermark", true}}, json{{"typical_p", 0.5}}, json{{"adapter_id", "lora"}}}) {
    SCOPED_TRACE(p.dump());
    Refusal r = refusal(json{{"inputs", "x"}, {"parameters", p}});
    EXPECT_EQ(r.status, 422);
    EXPECT_NE(r.message.find("not supported by r1serve"), std::string::npos) << r.message;
  }
  // false / null values of the same fields are fine, and unknown fields are ignored (as TGI's serde does).
  EXPECT_NO_THROW(
      parse({{"inputs", "x"},
             {"parameters", {{"decoder_input_details", false}, {"watermark", false}, {"extra", 1}}},
             {"options", {{"wait_for_model", true}}}}));
}

TEST(TgiRequest, MalformedBodiesAreRefusedBeforeValidation) {
  for (const std::string& body :
       {std::string("not json"), std::string("[1]"), json{{"parameters", json::object()}}.dump(),
        json{{"inputs", 5}}.dump(), json{{"inputs", "x"}, {"parameters", {{"temperature", "hot"}}}}.dump(),
        json{{"inputs", "x"}, {"parameters", {{"max_new_tokens", -1}}}}.dump(),
        json{{"inputs", "x"}, {"parameters", {{"stop", "\n"}}}}.dump(),
        json{{"inputs", "x"}, {"parameters", {{"details", "yes"}}}}.dump()}) {
    SCOPED_TRACE(body);
    Refusal r = refusal(body);
    EXPECT_EQ(r.status, 422);
    EXPECT_FALSE(r.value);
    EXPECT_TRUE(r.message.starts_with("Failed to deserialize the JSON body")) << r.message;
  }
}

TEST(TgiRequest, GrammarsBecomeStructuredOutput) {
  json schema = {{"type", "object"}, {"properties", {{"a", {{"type", "integer"}}}}}};
  TgiRequest j =
      parse({{"inputs", "x"}, {"parameters", {{"grammar", {{"type", "json"}, {"value", schema}}}}}});
  ASSERT_TRUE(j.grammar);
  EXPECT_EQ(j.grammar->kind, structured::GrammarKind::json_schema);
  EXPECT_EQ(json::parse(j.grammar->text), schema);
  TgiRequest s =
      parse({{"inputs", "x"}, {"parameters", {{"grammar", {{"type", "json"}, {"value", schema.dump()}}}}}});
  EXPECT_EQ(json::parse(s.grammar->text), schema);
  TgiRequest re =
      parse({{"inputs", "x"}, {"parameters", {{"grammar", {{"type", "regex"}, {"value", "[0-9]+"}}}}}});
  EXPECT_EQ(re.grammar->kind, structured::GrammarKind::regex);
  EXPECT_EQ(re.grammar->text, "[0-9]+");
}

TEST(TgiRequest, StreamIsReadForTheCompatRoute) {
  EXPECT_TRUE(parse({{"inputs", "x"}, {"stream", true}}).stream);
  EXPECT_FALSE(parse({{"inputs", "x"}}).stream);
}

TEST(TgiError, ServingRefusalsMapToTgiTypes) {
  using serving::ErrorKind;
  using serving::ServingError;
  TgiError v = from_serving(ServingError(ErrorKind::invalid_request, "too long"));
  EXPECT_EQ(v.status, 422);
  EXPECT_EQ(v.to_json(), (json{{"error", "Input validation error: too long"}, {"error_type", "validation"}}));
  TgiError o = from_serving(ServingError(ErrorKind::overloaded, "busy"));
  EXPECT_EQ(o.status, 429);
  EXPECT_EQ(o.type, "overloaded");
  EXPECT_TRUE(o.message.starts_with("Model is overloaded"));
  EXPECT_EQ(o.retry_after, 1);
  ServingError loading(ErrorKind::unavailable, "loading", std::nullopt, "model_not_ready");
  loading.set_retry_after(7);
  TgiError u = from_serving(loading);
  EXPECT_EQ(u.status, 503);
  EXPECT_EQ(u.type, "unavailable");
  EXPECT_EQ(u.retry_after, 7);
  TgiError g = generation_error("boom");
  EXPECT_EQ(g.status, 424);
  EXPECT_EQ(g.to_json(),
            (json{{"error", "Request failed during generation: boom"}, {"error_type", "generation"}}));
  EXPECT_EQ(sse_event({{"a", 1}}), "data:{\"a\":1}\n\n");
}

serving::LogprobEntry token(int32_t id, std::string text, float lp, bool special = false) {
  serving::LogprobEntry e;
  e.id = id;
  e.token = std::move(text);
  e.logprob = lp;
  e.special = special;
  return e;
}

serving::GenerateResult result(std::string finish, bool stop_string) {
  serving::GenerateResult r;
  r.prompt_tokens = 3;
  serving::ChoiceResult c;
  c.content = " upon a";
  c.finish_reason = std::move(finish);
  c.stop_string = stop_string;
  c.completion_tokens = 2;
  c.logprobs = {token(10, " upon", -0.5f), token(11, " a", -0.25f)};
  c.logprobs[0].top = {{" upon", -0.5f}, {" time", -1.0f}};
  c.logprobs[0].top_ids = {10, 2};
  c.logprobs[1].top = {{" a", -0.25f}, {"</s>", -2.0f}};
  c.logprobs[1].top_ids = {11, 2};
  r.choices.push_back(c);
  r.completion_tokens = 2;
  return r;
}

const IsSpecial kSpecial = [](int32_t id) { return id == 2; };

TEST(TgiResponse, DecoderInputDetailsListThePromptTokensFirstWithoutLogprob) {
  TgiRequest r =
      parse({{"inputs", "Once"}, {"parameters", {{"details", true}, {"decoder_input_details", true}}}});
  EXPECT_TRUE(r.decoder_input_details);
  serving::GenerateResult res = result("length", false);
  serving::LogprobEntry bos, once;
  bos.id = 1;
  bos.token = "<s>";
  once.id = 9;
  once.token = "Once";
  once.logprob = -3.25f;
  res.choices[0].prompt_logprobs = {bos, once};
  json prefill = generate_response(r, res, kSpecial)["details"]["prefill"];
  EXPECT_EQ(prefill, (json{{{"id", 1}, {"text", "<s>"}, {"logprob", nullptr}},
                           {{"id", 9}, {"text", "Once"}, {"logprob", -3.25}}}));
  r.decoder_input_details = false;  // asked without it: TGI's empty list, whatever serving holds
  EXPECT_EQ(generate_response(r, res, kSpecial)["details"]["prefill"], json::array());
}

TEST(TgiResponse, FinishReasonsAreTgis) {
  EXPECT_EQ(finish_reason(result("length", false).choices[0]), "length");
  EXPECT_EQ(finish_reason(result("stop", false).choices[0]), "eos_token");
  EXPECT_EQ(finish_reason(result("stop", true).choices[0]), "stop_sequence");
}

TEST(TgiResponse, GenerateBodyWithAndWithoutDetails) {
  TgiRequest r = parse({{"inputs", "Once"}, {"parameters", {{"max_new_tokens", 2}}}});
  EXPECT_EQ(generate_response(r, result("length", false), kSpecial), (json{{"generated_text", " upon a"}}));
  r.details = true;
  r.return_full_text = true;
  json b = generate_response(r, result("length", false), kSpecial);
  EXPECT_EQ(b["generated_text"], "Once upon a");
  const json& d = b["details"];
  EXPECT_EQ(d["finish_reason"], "length");
  EXPECT_EQ(d["generated_tokens"], 2);
  EXPECT_TRUE(d["seed"].is_null());  // greedy
  EXPECT_EQ(d["prefill"], json::array());
  EXPECT_EQ(d["tokens"][0], (json{{"id", 10}, {"text", " upon"}, {"logprob", -0.5}, {"special", false}}));
  EXPECT_FALSE(d.contains("top_tokens"));
  r.top_n_tokens = 2;
  r.sampling = true;
  r.sampling_params.seed = 9;
  json t = generate_response(r, result("stop", false), kSpecial)["details"];
  EXPECT_EQ(t["seed"], 9);
  EXPECT_EQ(t["finish_reason"], "eos_token");
  ASSERT_EQ(t["top_tokens"].size(), 2u);
  EXPECT_EQ(t["top_tokens"][1][1], (json{{"id", 2}, {"text", "</s>"}, {"logprob", -2.0}, {"special", true}}));
}

TEST(TgiResponse, StreamEvents) {
  serving::LogprobEntry t = token(10, " upon", -0.5f);
  json mid = stream_event(1, t, json::array(), std::nullopt, nullptr);
  EXPECT_EQ(mid, (json{{"index", 1},
                       {"token", {{"id", 10}, {"text", " upon"}, {"logprob", -0.5}, {"special", false}}},
                       {"generated_text", nullptr},
                       {"details", nullptr}}));
  TgiRequest r =
      parse({{"inputs", "Once"}, {"parameters", {{"details", true}, {"seed", 3}, {"do_sample", true}}}});
  json details = stream_details(r, result("stop", true));
  EXPECT_EQ(
      details,
      (json{{"finish_reason", "stop_sequence"}, {"generated_tokens", 2}, {"seed", 3}, {"input_length", 3}}));
  json last = stream_event(2, t, json::array(), " upon a", details);
  EXPECT_EQ(last["generated_text"], " upon a");
  EXPECT_EQ(last["details"]["seed"], 3);
  r.details = false;
  EXPECT_TRUE(stream_details(r, result("stop", true)).is_null());
}

}  // namespace
}  // namespace r1::server::tgi
