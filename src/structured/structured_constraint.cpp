#include "structured/structured_constraint.h"

#include <algorithm>

#include "core/error.h"

namespace r1::structured {

StructuredConstraint::StructuredConstraint(std::shared_ptr<const CompiledGrammar> grammar,
                                           const ReasoningOptions& reasoning, size_t vocab_size)
    : reasoning_(reasoning), thinking_(reasoning.starts_in_reasoning) {
  if (grammar) {
    vocab_size_ = grammar->vocab().size();
    if (vocab_size && vocab_size != vocab_size_)
      fail("structured output: the grammar's vocabulary has {} ids, the model {}", vocab_size_, vocab_size);
    matcher_.emplace(std::move(grammar));
  } else {
    vocab_size_ = vocab_size;
  }
  if (reasoning_.starts_in_reasoning) {
    if (reasoning_.think_end_ids.empty()) fail("structured output: no token ids for the end of reasoning");
    for (int32_t id : reasoning_.think_end_ids)
      if (id < 0 || size_t(id) >= vocab_size_)
        fail("structured output: the reasoning end token id {} is outside the vocabulary", id);
  }
  if (reasoning_.max_reasoning_tokens && *reasoning_.max_reasoning_tokens < 0)
    fail("max_reasoning_tokens must be >= 0, got {}", *reasoning_.max_reasoning_tokens);
}

bool StructuredConstraint::fill_mask(std::span<uint32_t> mask) {
  if (!thinking_) {
    if (!matcher_) return false;
    matcher_->fill_mask(mask);
    return true;
  }
  const auto set = [&](int32_t id, bool on) {
    if (on)
      mask[size_t(id) >> 5] |= 1u << (id & 31);
    else
      mask[size_t(id) >> 5] &= ~(1u << (id & 31));
  };
  if (budget_spent()) {
    // The rest of </think>, continuing a prefix the model may have begun itself.
    std::fill(mask.begin(), mask.end(), 0u);
    set(reasoning_.think_end_ids[think_end_matched_], true);
    return true;
  }
  if (!matcher_) return false;
  // Thinking is free text, except that it may not end the request: the answer must come.
  std::fill(mask.begin(), mask.end(), ~0u);
  if (vocab_size_ % 32) mask.back() = (1u << (vocab_size_ % 32)) - 1;
  for (int32_t e : matcher_->grammar().vocab().eos_ids()) set(e, false);
  return true;
}

bool StructuredConstraint::accept(int32_t token) {
  if (!thinking_) return matcher_ ? matcher_->accept(token) : true;
  const std::vector<int32_t>& end = reasoning_.think_end_ids;
  if (budget_spent()) {
    if (token != end[think_end_matched_]) return false;
  } else {
    if (matcher_) {
      const auto& eos = matcher_->grammar().vocab().eos_ids();
      if (std::find(eos.begin(), eos.end(), token) != eos.end()) return false;
    }
    ++reasoning_tokens_;
  }
  if (token == end[think_end_matched_])
    ++think_end_matched_;
  else
    think_end_matched_ = token == end[0] ? 1 : 0;
  if (think_end_matched_ == end.size()) thinking_ = false;
  return true;
}

}  // namespace r1::structured
