#include "structured/structured_constraint.h"

#include <algorithm>

#include "core/error.h"

namespace r1::structured {

StructuredConstraint::StructuredConstraint(std::shared_ptr<const CompiledGrammar> grammar,
                                           const ReasoningOptions& reasoning)
    : matcher_(std::move(grammar)), reasoning_(reasoning), thinking_(reasoning.starts_in_reasoning) {
  const Vocabulary& v = matcher_.grammar().vocab();
  if (reasoning_.starts_in_reasoning &&
      (reasoning_.think_end_id < 0 || size_t(reasoning_.think_end_id) >= v.size()))
    fail("structured output: the reasoning end token id {} is outside the vocabulary",
         reasoning_.think_end_id);
  if (reasoning_.max_reasoning_tokens && *reasoning_.max_reasoning_tokens < 0)
    fail("max_reasoning_tokens must be >= 0, got {}", *reasoning_.max_reasoning_tokens);
}

bool StructuredConstraint::fill_mask(std::span<uint32_t> mask) {
  if (!thinking_) {
    matcher_.fill_mask(mask);
    return true;
  }
  const auto set = [&](int32_t id, bool on) {
    if (on)
      mask[size_t(id) >> 5] |= 1u << (id & 31);
    else
      mask[size_t(id) >> 5] &= ~(1u << (id & 31));
  };
  if (reasoning_.max_reasoning_tokens && reasoning_tokens_ >= *reasoning_.max_reasoning_tokens) {
    std::fill(mask.begin(), mask.end(), 0u);
    set(reasoning_.think_end_id, true);
    return true;
  }
  // Thinking is free text, except that it may not end the request: the answer must come.
  const size_t vocab = matcher_.grammar().vocab().size();
  std::fill(mask.begin(), mask.end(), ~0u);
  if (vocab % 32) mask.back() = (1u << (vocab % 32)) - 1;
  for (int32_t e : matcher_.grammar().vocab().eos_ids()) set(e, false);
  return true;
}

bool StructuredConstraint::accept(int32_t token) {
  if (!thinking_) return matcher_.accept(token);
  if (token == reasoning_.think_end_id) {
    thinking_ = false;
    return true;
  }
  const auto& eos = matcher_.grammar().vocab().eos_ids();
  if (std::find(eos.begin(), eos.end(), token) != eos.end()) return false;
  if (reasoning_.max_reasoning_tokens && reasoning_tokens_ >= *reasoning_.max_reasoning_tokens) return false;
  ++reasoning_tokens_;
  return true;
}

}  // namespace r1::structured
