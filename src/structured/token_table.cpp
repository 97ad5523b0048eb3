#include "structured/token_table.h"

#include "structured/stack_machine.h"

namespace r1::structured {

TokenTable build_token_table(const Automaton& a, const Vocabulary& v, uint32_t node) {
  TokenTable t;
  const std::vector<TrieNode>& trie = v.trie();
  const std::vector<int32_t>& toks = v.trie_tokens();
  auto subtree_tok_end = [&](uint32_t i) {
    const uint32_t e = trie[i].subtree_end;
    return e < trie.size() ? trie[e].tok_begin : uint32_t(toks.size());
  };
  StackMachine m(a);
  // levels[d]: the stacks after the first d bytes of the current trie path. In this machine kDone means "the
  // rule returned to whatever called it"; escaped[d]: that happened before byte d with bytes still to come.
  std::vector<std::vector<int32_t>> levels(2);
  std::vector<char> escaped(2, 0);
  std::vector<size_t> marks(2, 0);
  levels[0] = {m.push(node, kDone)};
  marks[0] = m.mark();
  std::vector<int32_t> live;
  for (uint32_t i = 1; i < trie.size();) {
    const TrieNode& n = trie[i];
    const size_t d = n.depth;
    if (levels.size() <= d) levels.resize(d + 1), escaped.resize(d + 1), marks.resize(d + 1);
    m.rollback(marks[d - 1]);
    const std::vector<int32_t>& before = levels[d - 1];
    bool returned = false;
    for (int32_t s : before) returned = returned || s == kDone;
    escaped[d] = escaped[d - 1] || returned;
    m.advance(before, n.byte, levels[d]);
    marks[d] = m.mark();
    const bool alive = !levels[d].empty();
    const bool only_returned = levels[d].size() == 1 && levels[d][0] == kDone;
    for (uint32_t k = n.tok_begin; k < n.tok_end; ++k) {
      if (alive) t.accepted.push_back(toks[k]);
      else if (escaped[d]) t.uncertain.push_back(toks[k]);
    }
    if (!alive || only_returned) {
      // Every longer token through this prefix ends the same way (after a return, only the caller can tell).
      if (escaped[d] || only_returned)
        for (uint32_t k = n.tok_end; k < subtree_tok_end(i); ++k) t.uncertain.push_back(toks[k]);
      i = n.subtree_end;
      continue;
    }
    ++i;
  }
  if (t.accepted.size() > v.mask_words()) {
    t.accepted_bits.assign(v.mask_words(), 0);
    for (int32_t id : t.accepted) t.accepted_bits[size_t(id) >> 5] |= 1u << (id & 31);
    t.accepted.clear();
    t.accepted.shrink_to_fit();
  }
  return t;
}

}  // namespace r1::structured
