#pragma once
// Runs an Automaton as a pushdown machine over bytes. A stack is a persistent linked list of automaton nodes
// (top first: the node to move from; below it the nodes to return to), held in an append-only pool so that
// copying a stack is copying an index, and speculative work (checking a token) is undone by truncating the
// pool. A parse state is a small set of stacks, each normalized so that its top can consume a byte; kDone
// (the empty stack) means the grammar has completed.
#include <cstdint>
#include <vector>

#include "structured/automaton.h"

namespace r1::structured {

inline constexpr int32_t kDone = -1;
inline constexpr size_t kMaxStacks = 1024;

struct StackNode {
  uint32_t node;   // automaton node
  int32_t parent;  // the rest of the stack; kDone for the bottom
};

class StackMachine {
 public:
  explicit StackMachine(const Automaton& a) : a_(&a) {}

  // The state at the start of the grammar.
  void initial(std::vector<int32_t>& out);
  // out = the normalized stacks after consuming byte b from each stack of `in` (kDone cannot consume).
  void advance(const std::vector<int32_t>& in, uint8_t b, std::vector<int32_t>& out);
  // Adds the normalized expansions of stack s (its top may need calls expanded or may complete) to out.
  void close(int32_t s, std::vector<int32_t>& out);

  int32_t push(uint32_t node, int32_t parent) {
    pool_.push_back({node, parent});
    return int32_t(pool_.size() - 1);
  }
  const StackNode& at(int32_t s) const { return pool_[size_t(s)]; }
  bool same(int32_t x, int32_t y) const;
  size_t mark() const { return pool_.size(); }
  void rollback(size_t mark) { pool_.resize(mark); }
  size_t pool_size() const { return pool_.size(); }
  // Rebuilds the pool with only what `stacks` use (rewriting them); keeps long generations small.
  void compact(std::vector<int32_t>& stacks);
  const Automaton& automaton() const { return *a_; }

 private:
  void close_rec(int32_t s, std::vector<int32_t>& out);
  void add_unique(std::vector<int32_t>& v, int32_t s) const;
  bool contains(const std::vector<int32_t>& v, int32_t s) const;

  const Automaton* a_;
  std::vector<StackNode> pool_;
  std::vector<int32_t> visited_;
};

}  // namespace r1::structured
