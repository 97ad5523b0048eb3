#pragma once
// TGI's request body, `{"inputs": TEXT, "parameters": {...}, "stream": BOOL}`, read and validated by TGI's
// rules (router/src/validation.rs): the same defaults, the same refusals and the same messages, so a client
// written against TGI sees the answers it expects. "inputs" is a raw prompt (no chat template), tokenized
// with the tokenizer's special tokens, as TGI does.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "engine/sampler.h"
#include "serving/service.h"

namespace r1::server::tgi {

// The limits TGI's launcher sets (and /info reports). r1serve generates one sequence per request, so
// max_best_of is 1: best_of > 1 gets TGI's own "`best_of` must be > 0 and <= 1" refusal.
struct TgiLimits {
  size_t max_best_of = 1;
  size_t max_stop_sequences = 4;  // TGI's default (MAX_STOP_SEQUENCES)
  int max_top_n_tokens = 5;       // TGI's default (MAX_TOP_N_TOKENS)
  size_t max_input_tokens = 0;    // the served model's; bounds `truncate`
};

struct TgiRequest {
  std::string inputs;
  bool stream = false;  // POST / only: the route decides elsewhere
  // TGI samples when do_sample is set or any sampling parameter is given; otherwise it is greedy. With no
  // "parameters" object at all, do_sample defaults to true (TGI's default_parameters()).
  bool sampling = false;
  SamplingParams sampling_params;  // temperature 0 when greedy; the seed always set (random when not given)
  std::optional<int64_t> max_new_tokens;  // unset: as many as fit (TGI 3's default)
  std::vector<std::string> stop;
  std::optional<size_t> truncate;  // keep the last N prompt tokens
  bool details = false;
  bool decoder_input_details =
      false;  // details.prefill: the prompt's tokens with their logprobs (not streamed)
  bool return_full_text = false;
  int top_n_tokens = 0;
  std::optional<serving::OutputFormat> grammar;
};

// Reads and validates a body. Malformed JSON or a field of the wrong type is a 422 naming the field (TGI's
// deserializer refuses those before anything runs); a value TGI's validator refuses is a 422 with TGI's
// message. What r1serve cannot do is refused the same way, saying so: typical_p, watermark, adapter_id.
// Throws ApiError.
TgiRequest parse_request(const std::string& body, const TgiLimits& limits);

// The request in serving's terms. `truncate` needs the tokenizer: the prompt is then sent as its last ids.
serving::GenerateRequest to_generate_request(const TgiRequest& r, const Tokenizer& tokenizer);

}  // namespace r1::server::tgi
