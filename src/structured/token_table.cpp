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
  // Per depth d of the current trie path: the stacks after its first d bytes. In this machine kDone means
  // "the rule returned to whatever called it"; escaped[d]: that happened before byte d with bytes still to
  // come. Most of the walk stays on one stack whose top has only byte edges; simple[d] holds that top and the
  // stack is never built (a plain table lookup per trie node).
  struct Level {
    uint32_t simple = kNoNode;
    std::vector<int32_t> stacks;
    bool escaped = false;
    size_t mark = 0;
  };
  std::vector<Level> levels(2);
  levels[0].simple = node;
  levels[0].mark = m.mark();
  for (uint32_t i = 1; i < trie.size();) {
    const TrieNode& n = trie[i];
    const size_t d = n.depth;
    if (levels.size() <= d) levels.resize(d + 1);
    const Level& before = levels[d - 1];
    Level& after = levels[d];
    m.rollback(before.mark);
    after.simple = kNoNode;
    after.stacks.clear();
    bool returned = false;
    if (before.simple != kNoNode) {
      const uint32_t next = a.next(before.simple, n.byte);
      if (next != kNoNode) {
        if (a.bytes_only(next))
          after.simple = next;
        else
          m.close(m.push(next, kDone), after.stacks);
      }
    } else {
      for (int32_t s : before.stacks) returned = returned || s == kDone;
      m.advance(before.stacks, n.byte, after.stacks);
    }
    if (after.stacks.size() == 1 && after.stacks[0] != kDone) {
      const StackNode top = m.at(after.stacks[0]);
      if (top.parent == kDone && a.bytes_only(top.node)) after.simple = top.node, after.stacks.clear();
    }
    after.escaped = before.escaped || returned;
    after.mark = m.mark();
    const bool alive = after.simple != kNoNode || !after.stacks.empty();
    const bool only_returned = after.stacks.size() == 1 && after.stacks[0] == kDone;
    for (uint32_t k = n.tok_begin; k < n.tok_end; ++k) {
      if (alive)
        t.accepted.push_back(toks[k]);
      else if (after.escaped)
        t.uncertain.push_back(toks[k]);
    }
    if (!alive || only_returned) {
      // Every longer token through this prefix ends the same way (after a return, only the caller can tell).
      if (after.escaped || only_returned)
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
