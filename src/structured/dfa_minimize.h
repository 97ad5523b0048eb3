#pragma once
// Merges equivalent states of one rule's freshly determinized automaton (Moore's partition refinement, with
// calls treated as symbols). Subset construction leaves duplicates — e.g. "inside a string, first character"
// and "inside a string, later character" — and every node costs a token table, so merging them halves the
// work of typical JSON grammars.
#include <cstddef>
#include <cstdint>

#include "structured/automaton.h"

namespace r1::structured {

struct RuleSpan {
  size_t node_begin, byte_edge_begin, ref_edge_begin;  // where the rule's nodes and edges start in the arrays
};

// Minimizes the nodes from span.node_begin to the end (all one rule's, edges only among themselves); returns
// the new id of `start`.
uint32_t minimize_rule(Automaton& a, const RuleSpan& span, uint32_t start);

}  // namespace r1::structured
