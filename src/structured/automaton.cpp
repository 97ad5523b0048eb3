#include "structured/automaton.h"

#include <algorithm>
#include <map>
#include <queue>

#include "core/error.h"
#include "structured/dfa_minimize.h"

namespace r1::structured {

namespace {

// ---- code point ranges -> UTF-8 byte-range sequences (each sequence: 1-4 byte ranges matched in order) ----

using ByteSeq = std::vector<std::pair<uint8_t, uint8_t>>;

int encode(uint32_t c, uint8_t* b) {
  if (c < 0x80) return b[0] = uint8_t(c), 1;
  if (c < 0x800) return b[0] = uint8_t(0xC0 | c >> 6), b[1] = uint8_t(0x80 | (c & 0x3F)), 2;
  if (c < 0x10000)
    return b[0] = uint8_t(0xE0 | c >> 12), b[1] = uint8_t(0x80 | (c >> 6 & 0x3F)),
           b[2] = uint8_t(0x80 | (c & 0x3F)), 3;
  b[0] = uint8_t(0xF0 | c >> 18), b[1] = uint8_t(0x80 | (c >> 12 & 0x3F)),
  b[2] = uint8_t(0x80 | (c >> 6 & 0x3F));
  b[3] = uint8_t(0x80 | (c & 0x3F));
  return 4;
}

// Splits [lo, hi] until both ends encode to the same length and differ only in a suffix of full continuation
// ranges, so that the range is exactly a product of per-byte ranges (the RE2 / regex-automata construction).
void utf8_sequences(uint32_t lo, uint32_t hi, std::vector<ByteSeq>& out) {
  for (uint32_t b : {0x7Fu, 0x7FFu, 0xFFFFu})
    if (lo <= b && b < hi) {
      utf8_sequences(lo, b, out);
      utf8_sequences(b + 1, hi, out);
      return;
    }
  if (hi < 0x80) {
    out.push_back({{uint8_t(lo), uint8_t(hi)}});
    return;
  }
  for (int i = 1; i < 4; ++i) {
    const uint32_t m = (1u << (6 * i)) - 1;
    if ((lo & ~m) != (hi & ~m)) {
      if ((lo & m) != 0) {
        utf8_sequences(lo, lo | m, out);
        utf8_sequences((lo | m) + 1, hi, out);
        return;
      }
      if ((hi & m) != m) {
        utf8_sequences(lo, (hi & ~m) - 1, out);
        utf8_sequences(hi & ~m, hi, out);
        return;
      }
    }
  }
  uint8_t a[4], b[4];
  const int n = encode(lo, a);
  encode(hi, b);
  ByteSeq s;
  for (int i = 0; i < n; ++i) s.push_back({a[i], b[i]});
  out.push_back(std::move(s));
}

// ---- inlining: small rules that call nothing are substituted into their callers ----
//
// A token that runs past the end of a rule can only be judged with the caller's stack (token_table.h), so
// every rule boundary inside common tokens costs run-time checks: `ws ::= [ \t\n]*` as a rule makes every
// token starting with a space uncertain. Substituting such rules turns those boundaries into plain automaton
// states. Only call-free rules are substituted (so this never loops), and only small ones (automata grow).

size_t expr_size(const Expr& e) {
  switch (e.kind) {
    case Expr::Kind::literal:
      return e.text.size();
    case Expr::Kind::chars:
      return 1 + e.ranges.size();
    case Expr::Kind::repeat:
      return 1 + expr_size(*e.items[0]) * std::max<size_t>(1, std::max(e.min, e.max));
    default: {
      size_t n = 1;
      for (const ExprPtr& i : e.items) n += expr_size(*i);
      return n;
    }
  }
}

bool has_refs(const Expr& e) {
  if (e.kind == Expr::Kind::ref) return true;
  for (const ExprPtr& i : e.items)
    if (has_refs(*i)) return true;
  return false;
}

ExprPtr substitute(const ExprPtr& e, const std::vector<ExprPtr>& inline_body) {
  if (e->kind == Expr::Kind::ref) return inline_body[e->rule] ? inline_body[e->rule] : e;
  if (e->items.empty()) return e;
  Expr copy = *e;
  bool changed = false;
  for (ExprPtr& i : copy.items) {
    ExprPtr n = substitute(i, inline_body);
    changed = changed || n != i;
    i = std::move(n);
  }
  return changed ? std::make_shared<const Expr>(std::move(copy)) : e;
}

constexpr size_t kInlineMaxSize = 96;
// Code points a rule's classes may cover and still be copied into several callers: each copy of a wide class
// (string contents) is another table walking the whole vocabulary at compile time, so those stay shared rules
// and pay a few run-time checks instead.
constexpr uint64_t kInlineMaxWidth = 128;

uint64_t class_width(const Expr& e) {
  uint64_t w = 0;
  for (const CodeRange& r : e.ranges) w += r.hi - r.lo + 1;
  for (const ExprPtr& i : e.items) w += class_width(*i);
  return w;
}

void count_refs(const Expr& e, std::vector<size_t>& counts) {
  if (e.kind == Expr::Kind::ref) ++counts[e.rule];
  for (const ExprPtr& i : e.items) count_refs(*i, counts);
}

std::vector<ExprPtr> inline_small_rules(const Grammar& g) {
  std::vector<ExprPtr> bodies(g.size());
  for (size_t r = 0; r < g.size(); ++r) bodies[r] = g.body(uint32_t(r));
  for (bool changed = true; changed;) {
    changed = false;
    std::vector<ExprPtr> inline_body(g.size());
    std::vector<size_t> refs(g.size(), 0);
    for (const ExprPtr& b : bodies)
      if (b) count_refs(*b, refs);
    for (size_t r = 0; r < g.size(); ++r)
      if (bodies[r] && r != g.root() && !has_refs(*bodies[r]) && expr_size(*bodies[r]) <= kInlineMaxSize &&
          (refs[r] <= 1 || class_width(*bodies[r]) <= kInlineMaxWidth))
        inline_body[r] = bodies[r];
    for (size_t r = 0; r < g.size(); ++r) {
      if (!bodies[r]) continue;
      ExprPtr n = substitute(bodies[r], inline_body);
      if (n != bodies[r]) bodies[r] = std::move(n), changed = true;
    }
  }
  return bodies;
}

// ---- Thompson NFA of one rule body ----

struct NfaNode {
  std::vector<ByteEdge> bytes;
  std::vector<RefEdge> refs;
  std::vector<uint32_t> eps;
};

class NfaBuilder {
 public:
  NfaBuilder(const Grammar& g, size_t max_nodes, const std::string& rule)
      : g_(g), max_(max_nodes), rule_(rule) {}

  uint32_t add() {
    if (nodes.size() >= max_)
      fail("grammar rule '{}' is too large: its automaton passes {} states (a repetition count too high?)",
           rule_, max_);
    nodes.emplace_back();
    return uint32_t(nodes.size() - 1);
  }

  // Adds the expression after `from`; returns the node where it ends.
  uint32_t build(const Expr& e, uint32_t from) {
    switch (e.kind) {
      case Expr::Kind::empty:
        return from;
      case Expr::Kind::literal: {
        uint32_t cur = from;
        for (unsigned char c : e.text) {
          const uint32_t n = add();
          nodes[cur].bytes.push_back({c, c, n});
          cur = n;
        }
        return cur;
      }
      case Expr::Kind::chars: {
        std::vector<ByteSeq> seqs;
        for (const CodeRange& r : e.ranges) utf8_sequences(r.lo, r.hi, seqs);
        const uint32_t end = add();
        for (const ByteSeq& s : seqs) {
          uint32_t cur = from;
          for (size_t i = 0; i < s.size(); ++i) {
            const uint32_t n = i + 1 == s.size() ? end : add();
            nodes[cur].bytes.push_back({s[i].first, s[i].second, n});
            cur = n;
          }
        }
        return end;
      }
      case Expr::Kind::seq: {
        uint32_t cur = from;
        for (const ExprPtr& item : e.items) cur = build(*item, cur);
        return cur;
      }
      case Expr::Kind::alt: {
        const uint32_t end = add();
        for (const ExprPtr& item : e.items) {
          const uint32_t start = add();
          nodes[from].eps.push_back(start);
          nodes[build(*item, start)].eps.push_back(end);
        }
        return end;
      }
      case Expr::Kind::repeat: {
        uint32_t cur = from;
        for (uint32_t i = 0; i < e.min; ++i) cur = build(*e.items[0], cur);
        if (e.unbounded) {
          const uint32_t loop = add();
          nodes[cur].eps.push_back(loop);
          const uint32_t start = add();
          nodes[loop].eps.push_back(start);
          nodes[build(*e.items[0], start)].eps.push_back(loop);
          return loop;
        }
        const uint32_t end = add();
        for (uint32_t i = e.min; i < e.max; ++i) {
          nodes[cur].eps.push_back(end);
          const uint32_t start = add();
          nodes[cur].eps.push_back(start);
          cur = build(*e.items[0], start);
        }
        nodes[cur].eps.push_back(end);
        return end;
      }
      case Expr::Kind::ref: {
        if (!g_.defined(e.rule)) fail("grammar rule '{}' is used but not defined", g_.name(e.rule));
        const uint32_t n = add();
        nodes[from].refs.push_back({e.rule, n});
        return n;
      }
    }
    return from;
  }

  std::vector<NfaNode> nodes;

 private:
  const Grammar& g_;
  size_t max_;
  const std::string& rule_;
};

// ---- subset construction of one rule, appended to the automaton ----

class Determinizer {
 public:
  Determinizer(const std::vector<NfaNode>& nfa, uint32_t final_node, Automaton& a, size_t max_nodes,
               const std::string& rule)
      : nfa_(nfa), final_(final_node), a_(a), max_(max_nodes), rule_(rule) {}

  uint32_t run(uint32_t rule, uint32_t start) {
    const uint32_t first = intern(closure({start}));
    while (!pending_.empty()) {
      const uint32_t id = pending_.front();
      pending_.pop();
      expand(rule, id);
    }
    return first;
  }

 private:
  std::vector<uint32_t> closure(std::vector<uint32_t> set) const {
    std::vector<char> seen(nfa_.size(), 0);
    std::vector<uint32_t> todo = set, out;
    for (uint32_t n : todo) seen[n] = 1;
    while (!todo.empty()) {
      const uint32_t n = todo.back();
      todo.pop_back();
      out.push_back(n);
      for (uint32_t m : nfa_[n].eps)
        if (!seen[m]) seen[m] = 1, todo.push_back(m);
    }
    std::sort(out.begin(), out.end());
    return out;
  }

  uint32_t intern(std::vector<uint32_t> set) {
    auto it = ids_.find(set);
    if (it != ids_.end()) return it->second;
    if (a_.nodes.size() >= max_)
      fail("grammar rule '{}' is too large: its automaton passes {} states", rule_, max_);
    const uint32_t id = uint32_t(a_.nodes.size());
    a_.nodes.emplace_back();
    sets_.push_back(set);
    set_of_.emplace(id, sets_.size() - 1);
    ids_.emplace(std::move(set), id);
    pending_.push(id);
    return id;
  }

  void expand(uint32_t rule, uint32_t id) {
    const std::vector<uint32_t> set = sets_[set_of_.at(id)];
    bool final = false;
    std::vector<uint32_t> cuts;
    std::map<uint32_t, std::vector<uint32_t>> by_rule;
    for (uint32_t n : set) {
      final = final || n == final_;
      for (const ByteEdge& e : nfa_[n].bytes) cuts.push_back(e.lo), cuts.push_back(uint32_t(e.hi) + 1);
      for (const RefEdge& e : nfa_[n].refs) by_rule[e.rule].push_back(e.target);
    }
    std::sort(cuts.begin(), cuts.end());
    cuts.erase(std::unique(cuts.begin(), cuts.end()), cuts.end());
    std::vector<ByteEdge> edges;
    for (size_t k = 0; k + 1 < cuts.size(); ++k) {
      std::vector<uint32_t> targets;
      for (uint32_t n : set)
        for (const ByteEdge& e : nfa_[n].bytes)
          if (e.lo <= cuts[k] && cuts[k] <= e.hi) targets.push_back(e.target);
      if (targets.empty()) continue;
      const uint32_t t = intern(closure(std::move(targets)));
      const uint8_t lo = uint8_t(cuts[k]), hi = uint8_t(cuts[k + 1] - 1);
      if (!edges.empty() && edges.back().target == t && edges.back().hi + 1 == lo)
        edges.back().hi = hi;
      else
        edges.push_back({lo, hi, t});
    }
    std::vector<RefEdge> refs;
    for (auto& [r, targets] : by_rule) refs.push_back({r, intern(closure(std::move(targets)))});
    FsmNode& node = a_.nodes[id];
    node.rule = rule;
    node.final = final;
    node.byte_begin = uint32_t(a_.byte_edges.size());
    a_.byte_edges.insert(a_.byte_edges.end(), edges.begin(), edges.end());
    node.byte_end = uint32_t(a_.byte_edges.size());
    node.ref_begin = uint32_t(a_.ref_edges.size());
    a_.ref_edges.insert(a_.ref_edges.end(), refs.begin(), refs.end());
    node.ref_end = uint32_t(a_.ref_edges.size());
  }

  const std::vector<NfaNode>& nfa_;
  uint32_t final_;
  Automaton& a_;
  size_t max_;
  const std::string& rule_;
  std::map<std::vector<uint32_t>, uint32_t> ids_;
  std::vector<std::vector<uint32_t>> sets_;
  std::map<uint32_t, size_t> set_of_;
  std::queue<uint32_t> pending_;
};

// Nodes of `rule` reachable from its start through calls of nullable rules (i.e. without consuming a byte).
std::vector<uint32_t> nullable_reach(const Automaton& a, uint32_t rule, const std::vector<char>& nullable) {
  std::vector<uint32_t> todo{a.rule_start[rule]}, seen = todo;
  while (!todo.empty()) {
    const FsmNode& n = a.nodes[todo.back()];
    todo.pop_back();
    for (uint32_t i = n.ref_begin; i < n.ref_end; ++i) {
      const RefEdge& e = a.ref_edges[i];
      if (nullable[e.rule] && std::find(seen.begin(), seen.end(), e.target) == seen.end())
        seen.push_back(e.target), todo.push_back(e.target);
    }
  }
  return seen;
}

void check_structure(const Automaton& a) {
  const size_t n_rules = a.rule_start.size();
  auto used = [&](size_t r) { return a.rule_start[r] != kNoNode; };
  // Nullable and productive rules, by fixpoint.
  std::vector<char> nullable(n_rules, 0), productive(n_rules, 0);
  for (bool changed = true; changed;) {
    changed = false;
    for (size_t r = 0; r < n_rules; ++r) {
      if (!used(r)) continue;
      if (!nullable[r]) {
        for (uint32_t n : nullable_reach(a, uint32_t(r), nullable))
          if (a.nodes[n].final) nullable[r] = 1, changed = true;
      }
    }
  }
  for (bool changed = true; changed;) {
    changed = false;
    for (size_t r = 0; r < n_rules; ++r) {
      if (!used(r) || productive[r]) continue;
      // Any path to a final node through bytes and productive calls.
      std::vector<uint32_t> todo{a.rule_start[r]}, seen = todo;
      while (!todo.empty() && !productive[r]) {
        const FsmNode& n = a.nodes[todo.back()];
        todo.pop_back();
        if (n.final) productive[r] = 1, changed = true;
        auto visit = [&](uint32_t t) {
          if (std::find(seen.begin(), seen.end(), t) == seen.end()) seen.push_back(t), todo.push_back(t);
        };
        for (uint32_t i = n.byte_begin; i < n.byte_end; ++i) visit(a.byte_edges[i].target);
        for (uint32_t i = n.ref_begin; i < n.ref_end; ++i)
          if (productive[a.ref_edges[i].rule]) visit(a.ref_edges[i].target);
      }
    }
  }
  if (!productive[a.root])
    fail("grammar rule '{}' can never complete (every path recurses forever)", a.rule_names[a.root]);
  // Left calls: rule r may call s before consuming anything. A cycle expands forever.
  std::vector<std::vector<uint32_t>> calls(n_rules);
  for (size_t r = 0; r < n_rules; ++r) {
    if (!used(r)) continue;
    for (uint32_t node : nullable_reach(a, uint32_t(r), nullable)) {
      const FsmNode& n = a.nodes[node];
      for (uint32_t i = n.ref_begin; i < n.ref_end; ++i) calls[r].push_back(a.ref_edges[i].rule);
    }
  }
  std::vector<int> state(n_rules, 0);  // 0 new, 1 on the path, 2 done
  std::vector<uint32_t> path;
  auto dfs = [&](auto&& self, uint32_t r) -> void {
    state[r] = 1;
    path.push_back(r);
    for (uint32_t s : calls[r]) {
      if (state[s] == 1) {
        std::string cycle;
        for (auto it = std::find(path.begin(), path.end(), s); it != path.end(); ++it)
          cycle += a.rule_names[*it] + " -> ";
        fail("grammar rule '{}' is left-recursive ({}{}): it can reach itself without consuming input",
             a.rule_names[s], cycle, a.rule_names[s]);
      }
      if (state[s] == 0) self(self, s);
    }
    path.pop_back();
    state[r] = 2;
  };
  for (size_t r = 0; r < n_rules; ++r)
    if (used(r) && state[r] == 0) dfs(dfs, uint32_t(r));
}

}  // namespace

Automaton compile_automaton(const Grammar& g, const CompileLimits& limits) {
  if (g.size() == 0 || !g.defined(g.root())) fail("grammar has no root rule");
  Automaton a;
  a.root = g.root();
  a.rule_start.assign(g.size(), kNoNode);
  for (size_t r = 0; r < g.size(); ++r) a.rule_names.push_back(g.name(uint32_t(r)));
  // Rules reachable from the root, in discovery order.
  std::vector<uint32_t> order{g.root()};
  std::vector<char> queued(g.size(), 0);
  queued[g.root()] = 1;
  for (size_t r = 0; r < g.size(); ++r)
    if (!g.defined(uint32_t(r))) fail("grammar rule '{}' is used but not defined", g.name(uint32_t(r)));
  const std::vector<ExprPtr> bodies = inline_small_rules(g);
  size_t nfa_total = 0;
  for (size_t k = 0; k < order.size(); ++k) {
    const uint32_t r = order[k];
    NfaBuilder nfa(g, limits.max_nodes, g.name(r));
    const uint32_t start = nfa.add();
    const uint32_t end = nfa.build(*bodies[r], start);
    nfa_total += nfa.nodes.size();
    if (nfa_total > limits.max_nodes)
      fail("grammar is too large: its automata pass {} states (at rule '{}')", limits.max_nodes, g.name(r));
    for (const NfaNode& n : nfa.nodes)
      for (const RefEdge& e : n.refs)
        if (!queued[e.rule]) queued[e.rule] = 1, order.push_back(e.rule);
    const RuleSpan span{a.nodes.size(), a.byte_edges.size(), a.ref_edges.size()};
    Determinizer d(nfa.nodes, end, a, limits.max_nodes, g.name(r));
    a.rule_start[r] = minimize_rule(a, span, d.run(r, start));
  }
  check_structure(a);
  constexpr size_t kDenseMaxNodes = 1 << 14;  // 16 MiB of tables at most
  if (a.nodes.size() <= kDenseMaxNodes) {
    a.dense.assign(a.nodes.size() * 256, kNoNode);
    for (size_t n = 0; n < a.nodes.size(); ++n)
      for (uint32_t i = a.nodes[n].byte_begin; i < a.nodes[n].byte_end; ++i)
        for (uint32_t b = a.byte_edges[i].lo; b <= a.byte_edges[i].hi; ++b)
          a.dense[n * 256 + b] = a.byte_edges[i].target;
  }
  return a;
}

}  // namespace r1::structured
