#include "structured/compiled_grammar.h"

namespace r1::structured {

CompiledGrammar::CompiledGrammar(const Grammar& g, std::shared_ptr<const Vocabulary> vocab,
                                 const GrammarCompileOptions& opts)
    : automaton_(compile_automaton(g, opts.limits)),
      vocab_(std::move(vocab)),
      tables_(automaton_.nodes.size()) {
  owned_.resize(automaton_.nodes.size());
  size_t built = 0;
  for (uint32_t n = 0; n < automaton_.nodes.size() && built < opts.precompute_nodes; ++n) {
    if (!automaton_.has_bytes(n)) continue;
    owned_[n] = std::make_unique<const TokenTable>(build_token_table(automaton_, *vocab_, n));
    tables_[n].store(owned_[n].get(), std::memory_order_release);
    ++built;
  }
}

const TokenTable& CompiledGrammar::table(uint32_t node) const {
  if (const TokenTable* t = tables_[node].load(std::memory_order_acquire)) return *t;
  std::lock_guard<std::mutex> lock(mu_);
  if (!owned_[node]) {
    owned_[node] = std::make_unique<const TokenTable>(build_token_table(automaton_, *vocab_, node));
    tables_[node].store(owned_[node].get(), std::memory_order_release);
  }
  return *owned_[node];
}

size_t CompiledGrammar::table_bytes() const {
  std::lock_guard<std::mutex> lock(mu_);
  size_t total = 0;
  for (const auto& t : owned_)
    if (t) total += t->bytes();
  return total;
}

}  // namespace r1::structured
