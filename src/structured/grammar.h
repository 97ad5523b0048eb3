#pragma once
// The one grammar form every front end (GBNF, regex, JSON Schema, choice) produces: named rules whose bodies
// are regular expressions over Unicode code points and references to other rules. Repetition, optionals and
// alternation stay inside a rule's body (they become that rule's automaton, not helper rules), which is what
// lets most token checks be decided per automaton state without looking at the rule stack (token_table.h).
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace r1::structured {

// A closed range of Unicode code points.
struct CodeRange {
  uint32_t lo = 0, hi = 0;
};

struct Expr;
using ExprPtr = std::shared_ptr<const Expr>;

struct Expr {
  enum class Kind { empty, literal, chars, seq, alt, repeat, ref };
  Kind kind = Kind::empty;
  std::string text;               // literal: UTF-8 bytes, matched exactly
  std::vector<CodeRange> ranges;  // chars: sorted, disjoint, non-adjacent (see normalize_ranges)
  std::vector<ExprPtr> items;     // seq, alt
  uint32_t min = 0, max = 0;      // repeat: of items[0]
  bool unbounded = false;         // repeat: max is infinite
  uint32_t rule = 0;              // ref: rule index
};

// The largest code point; chars ranges never go past it.
inline constexpr uint32_t kMaxCodePoint = 0x10FFFF;

ExprPtr empty();
ExprPtr literal(std::string utf8);
ExprPtr chars(std::vector<CodeRange> ranges, bool negated = false);
ExprPtr seq(std::vector<ExprPtr> items);
ExprPtr alt(std::vector<ExprPtr> items);
ExprPtr repeat(ExprPtr item, uint32_t min, uint32_t max, bool unbounded);
inline ExprPtr star(ExprPtr e) {
  return repeat(std::move(e), 0, 0, true);
}
inline ExprPtr plus(ExprPtr e) {
  return repeat(std::move(e), 1, 0, true);
}
inline ExprPtr opt(ExprPtr e) {
  return repeat(std::move(e), 0, 1, false);
}
ExprPtr ref(uint32_t rule);

// Sorts and merges ranges; with `negated`, the complement within [0, kMaxCodePoint] (surrogates excluded,
// since UTF-8 cannot carry them).
std::vector<CodeRange> normalize_ranges(std::vector<CodeRange> ranges, bool negated);

class Grammar {
 public:
  // Index of the rule `name`, declaring it (with no body yet) when new.
  uint32_t rule(std::string_view name);
  // Index of a new rule named after `base`, never clashing with an existing name.
  uint32_t fresh_rule(std::string_view base);
  void define(uint32_t rule, ExprPtr body);
  bool defined(uint32_t rule) const { return bodies_[rule] != nullptr; }
  const ExprPtr& body(uint32_t rule) const { return bodies_[rule]; }
  const std::string& name(uint32_t rule) const { return names_[rule]; }
  size_t size() const { return names_.size(); }

  // Copies every rule of `from` into this grammar, renamed where a name is taken (so several grammars — one
  // JSON schema per tool — combine into one). Returns the index `from`'s root has here.
  uint32_t import(const Grammar& from);

  uint32_t root() const { return root_; }
  void set_root(uint32_t rule) { root_ = rule; }

  // GBNF text of the grammar (for docs, errors and debugging); parse_gbnf(to_gbnf()) gives the same language.
  std::string to_gbnf() const;

 private:
  std::vector<std::string> names_;
  std::vector<ExprPtr> bodies_;
  uint32_t root_ = 0;
};

}  // namespace r1::structured
