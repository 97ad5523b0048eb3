#include "structured/compiled_grammar.h"

#include <chrono>

namespace r1::structured {

CompiledGrammar::CompiledGrammar(const Grammar& g, std::shared_ptr<const Vocabulary> vocab,
                                 const GrammarCompileOptions& opts)
    : automaton_(compile_automaton(g, opts.limits)),
      vocab_(std::move(vocab)),
      tables_(automaton_.nodes.size()) {
  owned_.resize(automaton_.nodes.size());
  // Breadth-first from the start (through bytes, calls and returns), so the budget goes to what comes first.
  const Automaton& a = automaton_;
  std::vector<uint32_t> order{a.rule_start[a.root]};
  std::vector<char> seen(a.nodes.size(), 0);
  seen[order[0]] = 1;
  for (size_t k = 0; k < order.size(); ++k) {
    const FsmNode& n = a.nodes[order[k]];
    auto visit = [&](uint32_t t) {
      if (!seen[t]) seen[t] = 1, order.push_back(t);
    };
    for (uint32_t i = n.byte_begin; i < n.byte_end; ++i) visit(a.byte_edges[i].target);
    for (uint32_t i = n.ref_begin; i < n.ref_end; ++i)
      visit(a.rule_start[a.ref_edges[i].rule]), visit(a.ref_edges[i].target);
  }
  const auto start = std::chrono::steady_clock::now();
  for (uint32_t n : order) {
    if (opts.precompute_budget_ms >= 0 &&
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count() >
            opts.precompute_budget_ms)
      break;
    if (!a.has_bytes(n)) continue;
    owned_[n] = std::make_unique<const TokenTable>(build_token_table(a, *vocab_, n));
    tables_[n].store(owned_[n].get(), std::memory_order_release);
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
