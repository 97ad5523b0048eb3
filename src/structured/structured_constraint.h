#pragma once
// The engine's TokenConstraint for a grammar, with R1's reasoning first: while the model is inside
// <think>…</think> anything but EOS is allowed (a constrained request must reach its answer); once </think>
// is sampled the grammar applies to every following token. A reasoning budget bounds the thinking: after
// `max_reasoning_tokens` thinking tokens the only token allowed is </think> (0: it comes first, i.e. no
// reasoning), so the answer starts in time to fit max_tokens.
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "engine/token_constraint.h"
#include "structured/matcher.h"

namespace r1::structured {

struct ReasoningOptions {
  bool starts_in_reasoning = false;             // the prompt opened <think> (R1 distills' template does)
  int32_t think_end_id = -1;                    // </think>; required when starts_in_reasoning
  std::optional<int64_t> max_reasoning_tokens;  // thinking tokens before </think> is forced; none = unbounded
};

class StructuredConstraint final : public TokenConstraint {
 public:
  // Throws r1::Error when starts_in_reasoning is set without a valid think_end_id or the budget is negative.
  StructuredConstraint(std::shared_ptr<const CompiledGrammar> grammar,
                       const ReasoningOptions& reasoning = {});

  bool fill_mask(std::span<uint32_t> mask) override;
  bool accept(int32_t token) override;
  bool finished() const override { return matcher_.finished(); }

  bool in_reasoning() const { return thinking_; }
  int64_t reasoning_tokens() const { return reasoning_tokens_; }
  const GrammarMatcher& matcher() const { return matcher_; }

 private:
  GrammarMatcher matcher_;
  ReasoningOptions reasoning_;
  bool thinking_;
  int64_t reasoning_tokens_ = 0;
};

}  // namespace r1::structured
