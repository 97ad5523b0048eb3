#include "bench/cost.h"

namespace r1::bench {

Cost compute_cost(const Pricing& p, const Throughput& t) {
  Cost c;
  if (p.per_hour) {
    double usd_per_s = *p.per_hour / 3600.0;
    if (t.output_tokens_per_s > 0) c.instance_usd_per_1m_output = usd_per_s / t.output_tokens_per_s * 1e6;
    if (t.requests_per_s > 0) c.instance_usd_per_request = usd_per_s / t.requests_per_s;
  }
  if (p.per_1k_input || p.per_1k_output) {
    double p_in = p.per_1k_input.value_or(0), p_out = p.per_1k_output.value_or(0);
    // An input price with unknown input lengths (no usage from the server) would understate the cost.
    bool computable = t.n_requests > 0 && (p_in == 0 || t.input_known);
    if (p.per_1k_output) c.token_usd_per_1m_output = p_out * 1000.0;
    if (computable) {
      double in = t.total_input_tokens, out = t.total_output_tokens;
      double usd = in / 1000.0 * p_in + out / 1000.0 * p_out;
      c.token_usd_per_request = usd / t.n_requests;
      if (in + out > 0) c.token_usd_per_1m_tokens = usd / (in + out) * 1e6;
    }
  }
  return c;
}

}  // namespace r1::bench
