#include "structured/grammar.h"

#include <fmt/format.h>

#include <algorithm>

#include "core/error.h"

namespace r1::structured {

namespace {

ExprPtr make(Expr e) {
  return std::make_shared<const Expr>(std::move(e));
}

// One code point as GBNF writes it inside a literal or a class.
std::string escape_cp(uint32_t c, bool in_class) {
  switch (c) {
    case '\n':
      return "\\n";
    case '\r':
      return "\\r";
    case '\t':
      return "\\t";
    case '\\':
      return "\\\\";
    case '"':
      return in_class ? "\"" : "\\\"";
    case ']':
      return in_class ? "\\]" : "]";
    case '-':
      return in_class ? "\\-" : "-";
    case '^':
      return in_class ? "\\^" : "^";
    default:
      break;
  }
  if (c < 0x20 || c == 0x7F) return fmt::format("\\x{:02X}", c);
  if (c < 0x80) return std::string(1, char(c));
  if (c <= 0xFFFF) return fmt::format("\\u{:04X}", c);
  return fmt::format("\\U{:08X}", c);
}

void print(const Grammar& g, const Expr& e, std::string& out, bool nested) {
  switch (e.kind) {
    case Expr::Kind::empty:
      out += "\"\"";
      return;
    case Expr::Kind::literal: {
      out += '"';
      for (unsigned char c : e.text) out += c < 0x80 ? escape_cp(c, false) : std::string(1, char(c));
      out += '"';
      return;
    }
    case Expr::Kind::chars: {
      out += '[';
      for (const CodeRange& r : e.ranges) {
        out += escape_cp(r.lo, true);
        if (r.hi != r.lo) out += "-" + escape_cp(r.hi, true);
      }
      out += ']';
      return;
    }
    case Expr::Kind::seq:
    case Expr::Kind::alt: {
      const bool paren = nested && e.items.size() > 1;
      if (paren) out += '(';
      for (size_t i = 0; i < e.items.size(); ++i) {
        if (i) out += e.kind == Expr::Kind::alt ? " | " : " ";
        print(g, *e.items[i], out, true);
      }
      if (paren) out += ')';
      return;
    }
    case Expr::Kind::repeat: {
      print(g, *e.items[0], out, true);
      if (e.unbounded && e.min == 0)
        out += '*';
      else if (e.unbounded && e.min == 1)
        out += '+';
      else if (e.unbounded)
        out += fmt::format("{{{},}}", e.min);
      else if (e.min == 0 && e.max == 1)
        out += '?';
      else if (e.min == e.max)
        out += fmt::format("{{{}}}", e.min);
      else
        out += fmt::format("{{{},{}}}", e.min, e.max);
      return;
    }
    case Expr::Kind::ref:
      out += g.name(e.rule);
      return;
  }
}

}  // namespace

ExprPtr empty() {
  return make({});
}

ExprPtr literal(std::string utf8) {
  if (utf8.empty()) return empty();
  Expr e;
  e.kind = Expr::Kind::literal;
  e.text = std::move(utf8);
  return make(std::move(e));
}

ExprPtr chars(std::vector<CodeRange> ranges, bool negated) {
  Expr e;
  e.kind = Expr::Kind::chars;
  e.ranges = normalize_ranges(std::move(ranges), negated);
  return make(std::move(e));
}

ExprPtr seq(std::vector<ExprPtr> items) {
  if (items.size() == 1) return items[0];
  if (items.empty()) return empty();
  Expr e;
  e.kind = Expr::Kind::seq;
  e.items = std::move(items);
  return make(std::move(e));
}

ExprPtr alt(std::vector<ExprPtr> items) {
  if (items.size() == 1) return items[0];
  Expr e;
  e.kind = Expr::Kind::alt;
  e.items = std::move(items);
  return make(std::move(e));
}

ExprPtr repeat(ExprPtr item, uint32_t min, uint32_t max, bool unbounded) {
  if (!unbounded && min == 1 && max == 1) return item;
  Expr e;
  e.kind = Expr::Kind::repeat;
  e.items = {std::move(item)};
  e.min = min;
  e.max = max;
  e.unbounded = unbounded;
  return make(std::move(e));
}

ExprPtr ref(uint32_t rule) {
  Expr e;
  e.kind = Expr::Kind::ref;
  e.rule = rule;
  return make(std::move(e));
}

std::vector<CodeRange> normalize_ranges(std::vector<CodeRange> ranges, bool negated) {
  for (CodeRange& r : ranges) {
    if (r.lo > r.hi) std::swap(r.lo, r.hi);
    r.hi = std::min(r.hi, kMaxCodePoint);
  }
  std::sort(ranges.begin(), ranges.end(), [](const CodeRange& a, const CodeRange& b) { return a.lo < b.lo; });
  std::vector<CodeRange> merged;
  for (const CodeRange& r : ranges) {
    if (r.lo > kMaxCodePoint) continue;
    if (!merged.empty() && r.lo <= merged.back().hi + 1)
      merged.back().hi = std::max(merged.back().hi, r.hi);
    else
      merged.push_back(r);
  }
  if (negated) {
    std::vector<CodeRange> out;
    uint32_t next = 0;
    for (const CodeRange& r : merged) {
      if (r.lo > next) out.push_back({next, r.lo - 1});
      next = r.hi + 1;
    }
    if (next <= kMaxCodePoint) out.push_back({next, kMaxCodePoint});
    merged = std::move(out);
  }
  // Surrogates have no UTF-8 form: cut them out so the byte automaton never offers them.
  std::vector<CodeRange> out;
  for (const CodeRange& r : merged) {
    if (r.hi < 0xD800 || r.lo > 0xDFFF) {
      out.push_back(r);
      continue;
    }
    if (r.lo < 0xD800) out.push_back({r.lo, 0xD7FF});
    if (r.hi > 0xDFFF) out.push_back({0xE000, r.hi});
  }
  return out;
}

uint32_t Grammar::rule(std::string_view name) {
  for (size_t i = 0; i < names_.size(); ++i)
    if (names_[i] == name) return uint32_t(i);
  names_.emplace_back(name);
  bodies_.emplace_back();
  return uint32_t(names_.size() - 1);
}

uint32_t Grammar::fresh_rule(std::string_view base) {
  std::string name(base);
  for (int n = 1; std::find(names_.begin(), names_.end(), name) != names_.end(); ++n)
    name = fmt::format("{}-{}", base, n);
  names_.push_back(name);
  bodies_.emplace_back();
  return uint32_t(names_.size() - 1);
}

void Grammar::define(uint32_t rule, ExprPtr body) {
  R1_CHECK(rule < bodies_.size(), "rule {} out of range", rule);
  bodies_[rule] = std::move(body);
}

namespace {
// `e` with every rule reference mapped through `map` (subtrees without references are shared, not copied).
ExprPtr remap(const ExprPtr& e, const std::vector<uint32_t>& map) {
  if (!e) return e;
  if (e->kind == Expr::Kind::ref) return ref(map[e->rule]);
  if (e->items.empty()) return e;
  auto copy = std::make_shared<Expr>(*e);
  for (auto& item : copy->items) item = remap(item, map);
  return copy;
}
}  // namespace

uint32_t Grammar::import(const Grammar& from) {
  std::vector<uint32_t> map(from.size());
  for (size_t i = 0; i < from.size(); ++i) map[i] = fresh_rule(from.name(uint32_t(i)));
  for (size_t i = 0; i < from.size(); ++i)
    if (from.defined(uint32_t(i))) define(map[i], remap(from.body(uint32_t(i)), map));
  return map[from.root()];
}

std::string Grammar::to_gbnf() const {
  std::string out;
  for (size_t i = 0; i < names_.size(); ++i) {
    if (!bodies_[i]) continue;
    out += names_[i] + " ::= ";
    print(*this, *bodies_[i], out, false);
    out += '\n';
  }
  return out;
}

}  // namespace r1::structured
