#include "server/api/tgi/tgi_response.h"

#include <cmath>

namespace r1::server::tgi {

using nlohmann::json;

namespace {

json seed_json(const TgiRequest& r) {
  // TGI reports the seed of a sampled answer only; a greedy one has none.
  return r.sampling && r.sampling_params.seed ? json(*r.sampling_params.seed) : json(nullptr);
}

json logprob_json(std::optional<float> lp) {
  // -inf (a token the constraint forced) is not JSON: TGI's serializer writes null for it.
  return lp && std::isfinite(*lp) ? json(*lp) : json(nullptr);
}

// With decoder_input_details, the prompt's tokens as TGI's PrefillToken {id, text, logprob}: the first has no
// logprob (null, as TGI's NaN serializes). Without it, TGI sends an empty list.
json prefill_json(const TgiRequest& r, const serving::ChoiceResult& c) {
  json out = json::array();
  if (!r.decoder_input_details) return out;
  for (const auto& e : c.prompt_logprobs)
    out.push_back({{"id", e.id}, {"text", e.token}, {"logprob", logprob_json(e.logprob)}});
  return out;
}

}  // namespace

std::string finish_reason(const serving::ChoiceResult& c) {
  if (c.finish_reason == "length") return "length";
  if (c.stop_string) return "stop_sequence";
  return "eos_token";
}

json token_json(const serving::LogprobEntry& e) {
  return {{"id", e.id}, {"text", e.token}, {"logprob", logprob_json(e.logprob)}, {"special", e.special}};
}

json top_tokens_json(const serving::LogprobEntry& e, const IsSpecial& is_special) {
  json out = json::array();
  for (size_t i = 0; i < e.top.size() && i < e.top_ids.size(); ++i)
    out.push_back({{"id", e.top_ids[i]},
                   {"text", e.top[i].first},
                   {"logprob", logprob_json(e.top[i].second)},
                   {"special", is_special(e.top_ids[i])}});
  return out;
}

std::string generated_text(const TgiRequest& r, const serving::ChoiceResult& c) {
  return r.return_full_text ? r.inputs + c.content : c.content;
}

json generate_response(const TgiRequest& r, const serving::GenerateResult& result,
                       const IsSpecial& is_special) {
  const serving::ChoiceResult& c = result.choices.at(0);
  json body = {{"generated_text", generated_text(r, c)}};
  if (!r.details) return body;
  json tokens = json::array(), top = json::array();
  for (const auto& e : c.logprobs) {
    tokens.push_back(token_json(e));
    if (r.top_n_tokens > 0) top.push_back(top_tokens_json(e, is_special));
  }
  json details = {{"finish_reason", finish_reason(c)},
                  {"generated_tokens", c.completion_tokens},
                  {"seed", seed_json(r)},
                  {"prefill", prefill_json(r, c)},
                  {"tokens", std::move(tokens)}};
  if (r.top_n_tokens > 0) details["top_tokens"] = std::move(top);  // TGI leaves an empty list out
  body["details"] = std::move(details);
  return body;
}

json stream_event(size_t index, const serving::LogprobEntry& token, const json& top_tokens,
                  const std::optional<std::string>& text, const json& details) {
  json ev = {{"index", index}, {"token", token_json(token)}};
  if (top_tokens.is_array() && !top_tokens.empty()) ev["top_tokens"] = top_tokens;
  ev["generated_text"] = text ? json(*text) : json(nullptr);
  ev["details"] = details;
  return ev;
}

json stream_details(const TgiRequest& r, const serving::GenerateResult& result) {
  if (!r.details) return nullptr;
  const serving::ChoiceResult& c = result.choices.at(0);
  return {{"finish_reason", finish_reason(c)},
          {"generated_tokens", c.completion_tokens},
          {"seed", seed_json(r)},
          {"input_length", result.prompt_tokens}};
}

}  // namespace r1::server::tgi
