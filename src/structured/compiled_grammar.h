#pragma once
// A grammar compiled against one vocabulary: its automaton and the per-node token tables. Immutable once
// built and shared by every request using the same grammar (grammar_cache.h); tables of nodes not precomputed
// are built on first use, under a lock, and kept.
#include <atomic>
#include <memory>
#include <mutex>
#include <vector>

#include "structured/automaton.h"
#include "structured/grammar.h"
#include "structured/token_table.h"
#include "structured/vocabulary.h"

namespace r1::structured {

struct GrammarCompileOptions {
  CompileLimits limits;
  // Tables are built at compile time, nearest the start first, until this much time has passed; the rest on
  // first use (then kept). Bounds compile time for grammars with long unrolled repetitions of wide classes
  // (an email's {0,61} label: ~1 ms a node), most of which one generation never reaches. < 0: build all.
  double precompute_budget_ms = 30;
};

class CompiledGrammar {
 public:
  // Throws r1::Error for a malformed grammar (automaton.h lists what).
  CompiledGrammar(const Grammar& g, std::shared_ptr<const Vocabulary> vocab,
                  const GrammarCompileOptions& opts = {});

  const Automaton& automaton() const { return automaton_; }
  const Vocabulary& vocab() const { return *vocab_; }
  const TokenTable& table(uint32_t node) const;
  // Memory held by the tables built so far.
  size_t table_bytes() const;

 private:
  Automaton automaton_;
  std::shared_ptr<const Vocabulary> vocab_;
  mutable std::vector<std::atomic<const TokenTable*>> tables_;
  mutable std::vector<std::unique_ptr<const TokenTable>> owned_;
  mutable std::mutex mu_;
};

}  // namespace r1::structured
