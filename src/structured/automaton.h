#pragma once
// A grammar compiled to one deterministic byte automaton per rule, whose edges are byte ranges or calls of
// other rules (a recursive transition network). The matcher (stack_machine.h) runs it with a stack of return
// nodes. Determinizing each rule keeps the number of live stacks small: only real ambiguity between rules
// (e.g. anyOf branches that share a prefix) makes more than one.
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "structured/grammar.h"

namespace r1::structured {

inline constexpr uint32_t kNoNode = std::numeric_limits<uint32_t>::max();

struct ByteEdge {
  uint8_t lo = 0, hi = 0;
  uint32_t target = 0;
};

struct RefEdge {
  uint32_t rule = 0;    // the rule called
  uint32_t target = 0;  // the node to return to once it completes
};

struct FsmNode {
  uint32_t rule = 0;
  bool final = false;                     // the rule may complete here
  uint32_t byte_begin = 0, byte_end = 0;  // into Automaton::byte_edges, sorted by lo, disjoint
  uint32_t ref_begin = 0, ref_end = 0;    // into Automaton::ref_edges
};

struct Automaton {
  std::vector<FsmNode> nodes;
  std::vector<ByteEdge> byte_edges;
  std::vector<RefEdge> ref_edges;
  std::vector<uint32_t> rule_start;  // per rule; kNoNode for rules not reachable from the root
  std::vector<std::string> rule_names;
  uint32_t root = 0;
  // [nodes.size() * 256] next node per byte, when the automaton is small enough (the hot path of table
  // builds).
  std::vector<uint32_t> dense;

  // The node reached from `node` by byte `b`, or kNoNode.
  uint32_t next(uint32_t node, uint8_t b) const {
    if (!dense.empty()) return dense[size_t(node) * 256 + b];
    const FsmNode& n = nodes[node];
    for (uint32_t i = n.byte_begin; i < n.byte_end; ++i) {
      const ByteEdge& e = byte_edges[i];
      if (b < e.lo) break;
      if (b <= e.hi) return e.target;
    }
    return kNoNode;
  }
  bool has_bytes(uint32_t node) const { return nodes[node].byte_end > nodes[node].byte_begin; }
  // Only byte edges: a stack topped by it needs no expansion.
  bool bytes_only(uint32_t node) const {
    return !nodes[node].final && nodes[node].ref_end == nodes[node].ref_begin;
  }
};

struct CompileLimits {
  size_t max_nodes = 200000;  // NFA and DFA nodes over all rules (bounded repetitions are unrolled)
};

// Throws r1::Error naming the rule for: a rule used but not defined, left recursion (a rule reaching itself
// without consuming a byte — it would expand forever), a root that can never complete, or an automaton over
// the size limit (e.g. a huge {m,n}).
Automaton compile_automaton(const Grammar& g, const CompileLimits& limits = {});

}  // namespace r1::structured
