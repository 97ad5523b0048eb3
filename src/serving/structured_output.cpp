#include "serving/structured_output.h"

#include "core/error.h"
#include "serving/serving_error.h"
#include "tokenizer/tokenizer.h"

namespace r1::serving {

std::shared_ptr<TokenConstraint> ConstraintSpec::make() const {
  return std::make_shared<structured::StructuredConstraint>(grammar, reasoning, vocab_size);
}

StructuredOutputs::StructuredOutputs(const Tokenizer& tok, std::vector<int32_t> eos_ids, size_t vocab_size)
    : tok_(tok), eos_(std::move(eos_ids)), vocab_size_(vocab_size) {
  // One added token in the R1 distills; byte-level pieces where the vocabulary has no such token. A vocabulary
  // that cannot spell it at all (a GGUF file's stand-in vocabulary without byte tokens) has no reasoning end.
  try {
    think_end_ = tok_.encode("</think>", false);
  } catch (const r1::Error&) {
    think_end_.clear();
  }
}

structured::GrammarCache& StructuredOutputs::cache() {
  std::lock_guard lock(mu_);
  if (!cache_) {
    auto vocab = structured::Vocabulary::from_tokenizer(tok_, eos_, vocab_size_);
    structured::JsonGrammarOptions json_opts;
    json_opts.max_whitespace = kJsonWhitespace;
    cache_ = std::make_unique<structured::GrammarCache>(std::move(vocab), 256, json_opts);
  }
  return *cache_;
}

std::shared_ptr<const structured::CompiledGrammar> StructuredOutputs::compile(const OutputFormat& f) {
  structured::GrammarCache& c = cache();
  try {
    return c.get({f.kind, f.text});
  } catch (const r1::Error& e) {
    invalid_request(fmt::format("'{}': {}", f.field, e.what()), f.field);
  }
}

std::optional<ConstraintSpec> StructuredOutputs::constraint(
    std::shared_ptr<const structured::CompiledGrammar> grammar, bool starts_in_reasoning,
    std::optional<int64_t> budget, size_t max_tokens) const {
  ConstraintSpec s;
  s.vocab_size = vocab_size_;
  s.grammar = std::move(grammar);
  if (starts_in_reasoning && !think_end_.empty()) {
    if (!budget && s.grammar) budget = int64_t(max_tokens / 2);
    s.reasoning.starts_in_reasoning = true;
    s.reasoning.think_end_ids = think_end_;
    s.reasoning.max_reasoning_tokens = budget;
  }
  if (!s.grammar && !s.reasoning.max_reasoning_tokens) return std::nullopt;
  return s;
}

}  // namespace r1::serving
