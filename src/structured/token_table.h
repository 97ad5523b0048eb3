#pragma once
// What each token does at one automaton node, decided without the rest of the stack (xgrammar's adaptive
// token mask): walking the token's bytes from a stack holding only that node either stays inside the rule
// (accepted or rejected, whatever lies below) or returns from the rule with bytes left over (uncertain: only
// the full stack can tell). Tables are computed once per compiled grammar; at run time a mask is the union of
// the accepted sets of the live stacks plus the uncertain tokens checked against their real stacks.
#include <cstdint>
#include <vector>

#include "structured/automaton.h"
#include "structured/vocabulary.h"

namespace r1::structured {

struct TokenTable {
  // Accepted tokens: a bitmask of Vocabulary::mask_words() words when many, else a list of ids (empty bits).
  std::vector<uint32_t> accepted_bits;
  std::vector<int32_t> accepted;
  // Tokens that need the full stack, in trie (byte) order so checks can share prefixes.
  std::vector<int32_t> uncertain;

  size_t bytes() const { return accepted_bits.size() * 4 + (accepted.size() + uncertain.size()) * 4; }
};

// The table of an automaton node with byte edges.
TokenTable build_token_table(const Automaton& a, const Vocabulary& v, uint32_t node);

}  // namespace r1::structured
