#include "structured/stack_machine.h"

#include <unordered_map>

#include "core/error.h"

namespace r1::structured {

bool StackMachine::same(int32_t x, int32_t y) const {
  while (x != y) {
    if (x < 0 || y < 0) return false;
    const StackNode &p = pool_[size_t(x)], &q = pool_[size_t(y)];
    if (p.node != q.node) return false;
    x = p.parent;
    y = q.parent;
  }
  return true;
}

bool StackMachine::contains(const std::vector<int32_t>& v, int32_t s) const {
  for (int32_t t : v)
    if (same(t, s)) return true;
  return false;
}

void StackMachine::add_unique(std::vector<int32_t>& v, int32_t s) const {
  if (contains(v, s)) return;
  // Distinct parses multiply only when rules are ambiguous with one another (e.g. two rules for the same
  // text, nested); past this the grammar is refused rather than slowing every step.
  if (v.size() >= kMaxStacks)
    fail(
        "grammar is too ambiguous: more than {} ways to parse the text so far (rules matching the same "
        "text?)",
        kMaxStacks);
  v.push_back(s);
}

void StackMachine::initial(std::vector<int32_t>& out) {
  out.clear();
  close(push(a_->rule_start[a_->root], kDone), out);
}

void StackMachine::close(int32_t s, std::vector<int32_t>& out) {
  visited_.clear();
  close_rec(s, out);
}

// Expansion never loops: a call that returns without consuming leads back to a stack already visited, and
// left recursion (a call chain that grows without consuming) is refused when the automaton is compiled.
void StackMachine::close_rec(int32_t s, std::vector<int32_t>& out) {
  if (contains(visited_, s)) return;
  visited_.push_back(s);
  if (s == kDone) {
    add_unique(out, kDone);
    return;
  }
  const StackNode top = pool_[size_t(s)];
  const FsmNode& n = a_->nodes[top.node];
  if (n.byte_end > n.byte_begin) add_unique(out, s);
  for (uint32_t i = n.ref_begin; i < n.ref_end; ++i) {
    const RefEdge e = a_->ref_edges[i];
    const int32_t ret = push(e.target, top.parent);
    close_rec(push(a_->rule_start[e.rule], ret), out);
  }
  if (n.final) close_rec(top.parent, out);
}

void StackMachine::advance(const std::vector<int32_t>& in, uint8_t b, std::vector<int32_t>& out) {
  out.clear();
  for (int32_t s : in) {
    if (s == kDone) continue;
    const StackNode top = pool_[size_t(s)];
    const uint32_t t = a_->next(top.node, b);
    if (t == kNoNode) continue;
    close(push(t, top.parent), out);
  }
}

void StackMachine::compact(std::vector<int32_t>& stacks) {
  std::vector<StackNode> fresh;
  std::unordered_map<int32_t, int32_t> moved;
  std::vector<int32_t> chain;
  // Iterative: a stack is as deep as the output's nesting, which a model can make very deep.
  for (int32_t& s : stacks) {
    chain.clear();
    for (int32_t t = s; t >= 0 && !moved.count(t); t = pool_[size_t(t)].parent) chain.push_back(t);
    for (size_t i = chain.size(); i-- > 0;) {
      const StackNode n = pool_[size_t(chain[i])];
      const int32_t parent = n.parent < 0 ? n.parent : moved.at(n.parent);
      fresh.push_back({n.node, parent});
      moved[chain[i]] = int32_t(fresh.size() - 1);
    }
    if (s >= 0) s = moved.at(s);
  }
  pool_ = std::move(fresh);
}

}  // namespace r1::structured
