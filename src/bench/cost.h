#pragma once
// What a deployment costs at the throughput measured. Two pricing models, side by side:
//  - instance pricing (--price-per-hour): you pay for time, so cost per token falls as throughput rises:
//      USD per 1M output tokens = price_per_hour / 3600 / (output tokens per second) × 1e6
//      USD per request          = price_per_hour / 3600 / (requests per second)
//  - token pricing (--price-per-1k-input / --price-per-1k-output), as hosted APIs bill:
//      USD per request          = mean input tokens / 1000 × p_in + mean output tokens / 1000 × p_out
//      USD per 1M output tokens = p_out × 1000
//      USD per 1M tokens        = (Σ input × p_in + Σ output × p_out) / 1000 / (Σ input + Σ output) × 1e6
#include <optional>

namespace r1::bench {

struct Pricing {
  std::optional<double> per_hour, per_1k_input, per_1k_output;
  bool any() const { return per_hour || per_1k_input || per_1k_output; }
};

struct Cost {
  std::optional<double> instance_usd_per_1m_output, instance_usd_per_request;
  std::optional<double> token_usd_per_request, token_usd_per_1m_output, token_usd_per_1m_tokens;
};

struct Throughput {
  double output_tokens_per_s = 0, requests_per_s = 0;
  double total_input_tokens = 0, total_output_tokens = 0;
  double n_requests = 0;     // successful measured requests
  bool input_known = false;  // every successful request reported usage.prompt_tokens
};

// Fields stay empty where the price or the measurement they need is missing (zero throughput included).
Cost compute_cost(const Pricing& p, const Throughput& t);

}  // namespace r1::bench
