#pragma once
// What the sampler asks of a request's output constraint (structured output, tool calls), once per decode
// step. Header-only and free of any grammar type: the engine knows only this interface; src/structured
// implements it (StructuredConstraint) and serving attaches one to a request. Per step, for a request with a
// constraint:
//
//   bool restricted = c.fill_mask(mask);   // mask: ceil(vocab / 32) words
//   if (restricted) every logit whose bit is clear becomes -inf   (after logit_bias, before penalties and
//                                                                    temperature, so top-k/top-p see only
//                                                                    allowed tokens)
//   token = sample(...);
//   c.accept(token);                       // false: the token was not allowed — a bug; finish with an error
//   if (c.finished()) finish the request with reason "stop"
//
// Bit (id % 32) of mask[id / 32] set = id allowed. A constraint never leaves a step with nothing allowed:
// when the grammar is complete only the EOS ids remain, so a request always ends through EOS (or max_tokens).
// fill_mask and accept may throw r1::Error for a grammar found unusable while running (one too ambiguous to
// follow): finish that request with the error; the others are unaffected.
#include <cstdint>
#include <span>

namespace r1 {

class TokenConstraint {
 public:
  virtual ~TokenConstraint() = default;

  // Fills `mask` with the tokens allowed next. Returns false when this step is unrestricted (e.g. while the
  // model thinks, before the constraint starts): the sampler may then skip the mask; `mask` is still written.
  virtual bool fill_mask(std::span<uint32_t> mask) = 0;
  // The sampled token. Returns false when it was not allowed by the last mask (state unchanged).
  virtual bool accept(int32_t token) = 0;
  // Nothing more may be generated (the constrained output is complete and its EOS accepted).
  virtual bool finished() const = 0;
};

}  // namespace r1
