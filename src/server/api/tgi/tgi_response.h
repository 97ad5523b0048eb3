#pragma once
// TGI's answers, shaped from serving's results: `{"generated_text", "details"?}` for /generate, and the
// server-sent events of /generate_stream — one per generated token, the last carrying the whole text and the
// stream's details. Pure functions of their inputs, so tests can check every shape without a model.
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "server/api/tgi/tgi_request.h"
#include "serving/generation.h"

namespace r1::server::tgi {

using IsSpecial = std::function<bool(int32_t id)>;

// TGI's finish_reason: "length", "eos_token" (the model ended it, an EOS or stop token), or "stop_sequence"
// (one of the request's stop strings).
std::string finish_reason(const serving::ChoiceResult& c);

// A generated token: {"id", "text", "logprob", "special"}.
nlohmann::json token_json(const serving::LogprobEntry& e);
// The token's top_n_tokens alternatives, most likely first, in the same form.
nlohmann::json top_tokens_json(const serving::LogprobEntry& e, const IsSpecial& is_special);

// The text TGI returns: the prompt first with return_full_text.
std::string generated_text(const TgiRequest& r, const serving::ChoiceResult& c);

// /generate's body (details only when asked: finish_reason, generated_tokens, seed — null when greedy —,
// prefill (the prompt's tokens with their logprobs with decoder_input_details, else empty), tokens, and
// top_tokens when asked).
nlohmann::json generate_response(const TgiRequest& r, const serving::GenerateResult& result,
                                 const IsSpecial& is_special);

// One /generate_stream event: `index` counts tokens from 1. The last event has `generated_text` and, when
// details were asked for, `details` {finish_reason, generated_tokens, seed, input_length}; the others have
// both null.
nlohmann::json stream_event(size_t index, const serving::LogprobEntry& token,
                            const nlohmann::json& top_tokens, const std::optional<std::string>& text,
                            const nlohmann::json& details);
nlohmann::json stream_details(const TgiRequest& r, const serving::GenerateResult& result);

}  // namespace r1::server::tgi
