#include "structured/dfa_minimize.h"

#include <algorithm>
#include <map>
#include <vector>

namespace r1::structured {

uint32_t minimize_rule(Automaton& a, const RuleSpan& span, uint32_t start) {
  const size_t base = span.node_begin, n = a.nodes.size() - base;
  if (n <= 1) return start;
  std::vector<uint32_t> cls(n);
  for (size_t i = 0; i < n; ++i) cls[i] = a.nodes[base + i].final ? 1 : 0;
  size_t n_classes = 0;
  // Signature: own class, then per byte the target class (runs compressed), then calls.
  for (;;) {
    std::map<std::vector<uint32_t>, uint32_t> ids;
    std::vector<uint32_t> next(n);
    for (size_t i = 0; i < n; ++i) {
      const FsmNode& node = a.nodes[base + i];
      std::vector<uint32_t> sig{cls[i]};
      for (uint32_t e = node.byte_begin; e < node.byte_end; ++e) {
        const ByteEdge& be = a.byte_edges[e];
        const uint32_t tc = cls[be.target - base];
        // Adjacent ranges to the same class compare equal to one merged range.
        if (sig.size() >= 4 && sig[sig.size() - 1] == tc && sig[sig.size() - 2] + 1 == be.lo)
          sig[sig.size() - 2] = be.hi;
        else
          sig.insert(sig.end(), {be.lo, be.hi, tc});
      }
      sig.push_back(0xFFFFFFFFu);
      for (uint32_t e = node.ref_begin; e < node.ref_end; ++e)
        sig.insert(sig.end(), {a.ref_edges[e].rule, cls[a.ref_edges[e].target - base]});
      next[i] = ids.emplace(std::move(sig), uint32_t(ids.size())).first->second;
    }
    const size_t count = ids.size();
    cls = std::move(next);
    if (count == n_classes) break;
    n_classes = count;
  }
  if (n_classes == n) return start;
  // Rebuild: one node per class, edges of its first member (all members agree up to class).
  std::vector<FsmNode> old_nodes(a.nodes.begin() + ptrdiff_t(base), a.nodes.end());
  std::vector<ByteEdge> old_bytes(a.byte_edges.begin() + ptrdiff_t(span.byte_edge_begin), a.byte_edges.end());
  std::vector<RefEdge> old_refs(a.ref_edges.begin() + ptrdiff_t(span.ref_edge_begin), a.ref_edges.end());
  a.nodes.resize(base);
  a.byte_edges.resize(span.byte_edge_begin);
  a.ref_edges.resize(span.ref_edge_begin);
  std::vector<size_t> member(n_classes, SIZE_MAX);
  for (size_t i = 0; i < n; ++i)
    if (member[cls[i]] == SIZE_MAX) member[cls[i]] = i;
  for (size_t c = 0; c < n_classes; ++c) {
    const FsmNode& o = old_nodes[member[c]];
    FsmNode nn = o;
    nn.byte_begin = uint32_t(a.byte_edges.size());
    for (uint32_t e = o.byte_begin; e < o.byte_end; ++e) {
      ByteEdge be = old_bytes[e - span.byte_edge_begin];
      be.target = uint32_t(base + cls[be.target - base]);
      if (a.byte_edges.size() > nn.byte_begin && a.byte_edges.back().target == be.target &&
          a.byte_edges.back().hi + 1 == be.lo)
        a.byte_edges.back().hi = be.hi;
      else
        a.byte_edges.push_back(be);
    }
    nn.byte_end = uint32_t(a.byte_edges.size());
    nn.ref_begin = uint32_t(a.ref_edges.size());
    for (uint32_t e = o.ref_begin; e < o.ref_end; ++e) {
      RefEdge re = old_refs[e - span.ref_edge_begin];
      re.target = uint32_t(base + cls[re.target - base]);
      a.ref_edges.push_back(re);
    }
    nn.ref_end = uint32_t(a.ref_edges.size());
    a.nodes.push_back(nn);
  }
  return uint32_t(base + cls[start - base]);
}

}  // namespace r1::structured
