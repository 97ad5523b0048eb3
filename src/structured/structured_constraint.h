#pragma once
// The engine's TokenConstraint for a grammar, with R1's reasoning first: while the model is inside
// <think>…</think> anything but EOS is allowed (a constrained request must reach its answer); once the tokens
// of </think> are sampled the grammar applies to every following token. A reasoning budget bounds the
// thinking: after `max_reasoning_tokens` thinking tokens only the (rest of the) </think> tokens are allowed
// (0: they come first, i.e. no reasoning), so the answer starts in time to fit max_tokens.
//
// </think> is a token sequence: one added token in the R1 distills, several byte-level pieces in a vocabulary
// without it (the tiny test models). Thinking ends when the model samples exactly that sequence — the way the
// tokenizer writes </think> — or when the budget forces it.
//
// Without a grammar (a request with a reasoning budget and free output) the constraint only bounds the
// thinking: everything is allowed before the budget (EOS too) and after </think>.
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "engine/token_constraint.h"
#include "structured/matcher.h"

namespace r1::structured {

struct ReasoningOptions {
  bool starts_in_reasoning = false;             // the prompt opened <think> (R1 distills' template does)
  std::vector<int32_t> think_end_ids;           // </think> as the tokenizer encodes it; required when
                                                // starts_in_reasoning
  std::optional<int64_t> max_reasoning_tokens;  // thinking tokens before </think> is forced; none = unbounded
};

class StructuredConstraint final : public TokenConstraint {
 public:
  // `grammar` may be null (a reasoning budget alone). `vocab_size` is the mask width (the model's
  // vocab_size); with a grammar it must equal the grammar's vocabulary size. Throws r1::Error when
  // starts_in_reasoning is set without valid think_end_ids, or the budget is negative.
  StructuredConstraint(std::shared_ptr<const CompiledGrammar> grammar, const ReasoningOptions& reasoning = {},
                       size_t vocab_size = 0);

  bool fill_mask(std::span<uint32_t> mask) override;
  bool accept(int32_t token) override;
  bool finished() const override { return matcher_ && matcher_->finished(); }

  bool in_reasoning() const { return thinking_; }
  int64_t reasoning_tokens() const { return reasoning_tokens_; }
  const GrammarMatcher& matcher() const { return *matcher_; }

 private:
  bool budget_spent() const {
    return reasoning_.max_reasoning_tokens && reasoning_tokens_ >= *reasoning_.max_reasoning_tokens;
  }

  std::optional<GrammarMatcher> matcher_;
  ReasoningOptions reasoning_;
  size_t vocab_size_ = 0;
  bool thinking_;
  size_t think_end_matched_ = 0;  // leading tokens of think_end_ids just sampled
  int64_t reasoning_tokens_ = 0;
};

}  // namespace r1::structured
