#include "structured/regex.h"

#include <fmt/format.h>

#include <algorithm>

#include "core/error.h"
#include "tokenizer/utf8.h"

namespace r1::structured {

namespace {

constexpr int kMaxNesting = 128;
constexpr uint32_t kMaxRepeat = 10000;

const std::vector<CodeRange> kDigit = {{'0', '9'}};
const std::vector<CodeRange> kWord = {{'0', '9'}, {'A', 'Z'}, {'_', '_'}, {'a', 'z'}};
const std::vector<CodeRange> kSpace = {{'\t', '\r'},     {' ', ' '},       {0xA0, 0xA0},     {0x1680, 0x1680},
                                       {0x2000, 0x200A}, {0x2028, 0x2029}, {0x202F, 0x202F}, {0x205F, 0x205F},
                                       {0x3000, 0x3000}, {0xFEFF, 0xFEFF}};

class RegexParser {
 public:
  explicit RegexParser(std::string_view s) : s_(s) {}

  ParsedRegex parse() {
    ParsedRegex r;
    if (peek() == '^') r.anchored_start = true, ++pos_;
    r.expr = parse_alt(0);
    if (!at_end()) {
      if (peek() == ')') error("unbalanced ')'");
      error("unexpected character");
    }
    r.anchored_end = ended_with_dollar_;
    return r;
  }

 private:
  [[noreturn]] void error(const std::string& what) const {
    fail("regex /{}/ at offset {}: {}", s_, pos_, what);
  }
  bool at_end() const { return pos_ >= s_.size(); }
  char peek() const { return at_end() ? '\0' : s_[pos_]; }

  ExprPtr parse_alt(int depth) {
    if (depth > kMaxNesting) error("groups nested too deeply");
    std::vector<ExprPtr> alts{parse_seq(depth)};
    while (peek() == '|') {
      ++pos_;
      alts.push_back(parse_seq(depth));
    }
    return alt(std::move(alts));
  }

  ExprPtr parse_seq(int depth) {
    std::vector<ExprPtr> items;
    while (!at_end() && peek() != '|' && peek() != ')') {
      if (peek() == '$') {
        ++pos_;
        if (depth == 0 && at_end()) {
          ended_with_dollar_ = true;
          break;
        }
        --pos_;
        error("'$' anchor inside the pattern is not supported (only at its end)");
      }
      if (peek() == '^') error("'^' anchor inside the pattern is not supported (only at its start)");
      ExprPtr atom = parse_atom(depth);
      atom = parse_quantifiers(atom);
      items.push_back(atom);
    }
    return seq(std::move(items));
  }

  ExprPtr parse_quantifiers(ExprPtr atom) {
    while (!at_end()) {
      const char c = peek();
      if (c == '*')
        atom = star(atom), ++pos_;
      else if (c == '+')
        atom = plus(atom), ++pos_;
      else if (c == '?')
        atom = opt(atom), ++pos_;
      else if (c == '{' && brace_is_quantifier())
        atom = parse_braces(atom);
      else
        break;
      if (peek() == '?')
        ++pos_;  // lazy: same language
      else if (peek() == '+')
        error("possessive quantifiers are not supported");
    }
    return atom;
  }

  bool brace_is_quantifier() const {
    size_t i = pos_ + 1;
    if (i >= s_.size() || !(s_[i] >= '0' && s_[i] <= '9')) return false;
    while (i < s_.size() && (std::isdigit(static_cast<unsigned char>(s_[i])) || s_[i] == ',')) ++i;
    return i < s_.size() && s_[i] == '}';
  }

  uint32_t parse_int() {
    uint64_t v = 0;
    const size_t start = pos_;
    while (!at_end() && peek() >= '0' && peek() <= '9') {
      v = v * 10 + uint64_t(peek() - '0');
      if (v > kMaxRepeat) error(fmt::format("repetition count over {}", kMaxRepeat));
      ++pos_;
    }
    if (pos_ == start) error("expected a number");
    return uint32_t(v);
  }

  ExprPtr parse_braces(const ExprPtr& atom) {
    ++pos_;
    const uint32_t min = parse_int();
    uint32_t max = min;
    bool unbounded = false;
    if (peek() == ',') {
      ++pos_;
      if (peek() == '}')
        unbounded = true;
      else
        max = parse_int();
    }
    if (peek() != '}') error("expected '}'");
    ++pos_;
    if (!unbounded && max < min) error("repetition {m,n} with n < m");
    return repeat(atom, min, max, unbounded);
  }

  ExprPtr parse_atom(int depth) {
    const char c = peek();
    if (c == '(') {
      ++pos_;
      if (peek() == '?') {
        ++pos_;
        if (peek() == ':')
          ++pos_;
        else if (peek() == '<' && pos_ + 1 < s_.size() && s_[pos_ + 1] != '=' && s_[pos_ + 1] != '!') {
          while (!at_end() && peek() != '>') ++pos_;
          if (at_end()) error("unterminated group name");
          ++pos_;
        } else {
          --pos_;
          error("lookaround and other (?...) groups are not supported");
        }
      }
      ExprPtr inner = parse_alt(depth + 1);
      if (peek() != ')') error("expected ')'");
      ++pos_;
      return inner;
    }
    if (c == '[') return parse_class();
    if (c == '.') {
      ++pos_;
      return chars({{'\n', '\n'}, {'\r', '\r'}, {0x2028, 0x2029}}, true);
    }
    if (c == '*' || c == '+' || c == '?') error("quantifier without anything to repeat");
    if (c == '\\') {
      std::vector<CodeRange> set;
      if (parse_escape(false, set)) return chars(set);
      return literal_cp(set[0].lo);
    }
    const tok::Utf8Step st = tok::utf8_step(s_, pos_);
    if (st.cp < 0) error("invalid UTF-8");
    pos_ += st.len;
    return literal_cp(uint32_t(st.cp));
  }

  static ExprPtr literal_cp(uint32_t cp) {
    std::string s;
    tok::append_utf8(s, cp);
    return literal(s);
  }

  // After a backslash. Returns true for a class escape (\d \w \s and negations: `set` holds its ranges),
  // false for a single character (set[0].lo).
  bool parse_escape(bool in_class, std::vector<CodeRange>& set) {
    ++pos_;
    if (at_end()) error("pattern ends with a lone backslash");
    const char e = peek();
    ++pos_;
    auto one = [&](uint32_t cp) {
      set = {{cp, cp}};
      return false;
    };
    auto cls = [&](const std::vector<CodeRange>& r, bool neg) {
      set = normalize_ranges(r, neg);
      return true;
    };
    switch (e) {
      case 'd':
        return cls(kDigit, false);
      case 'D':
        return cls(kDigit, true);
      case 'w':
        return cls(kWord, false);
      case 'W':
        return cls(kWord, true);
      case 's':
        return cls(kSpace, false);
      case 'S':
        return cls(kSpace, true);
      case 'n':
        return one('\n');
      case 't':
        return one('\t');
      case 'r':
        return one('\r');
      case 'f':
        return one('\f');
      case 'v':
        return one('\v');
      case '0':
        return one(0);
      case 'b':
        if (in_class) return one('\b');
        pos_ -= 2;
        error("word boundary \\b is not supported");
      case 'B':
        pos_ -= 2;
        error("\\B is not supported");
      case 'x':
        return one(parse_hex(2));
      case 'u':
        if (peek() == '{') {
          ++pos_;
          uint32_t v = 0;
          int n = 0;
          while (!at_end() && peek() != '}') v = v * 16 + hex_digit(), ++n;
          if (at_end() || n == 0 || n > 6) error("bad \\u{...} escape");
          ++pos_;
          if (v > kMaxCodePoint) error("\\u{...} past U+10FFFF");
          return one(v);
        }
        return one(parse_hex(4));
      default:
        break;
    }
    if (e >= '1' && e <= '9') {
      pos_ -= 2;
      error("backreferences are not supported");
    }
    if (std::isalnum(static_cast<unsigned char>(e))) {
      pos_ -= 2;
      error(fmt::format("unknown escape \\{}", e));
    }
    return one(uint32_t(static_cast<unsigned char>(e)));
  }

  uint32_t hex_digit() {
    const char c = peek();
    ++pos_;
    if (c >= '0' && c <= '9') return uint32_t(c - '0');
    if (c >= 'a' && c <= 'f') return uint32_t(c - 'a' + 10);
    if (c >= 'A' && c <= 'F') return uint32_t(c - 'A' + 10);
    --pos_;
    error("expected a hex digit");
  }

  uint32_t parse_hex(int n) {
    uint32_t v = 0;
    for (int i = 0; i < n; ++i) v = v * 16 + hex_digit();
    return v;
  }

  ExprPtr parse_class() {
    ++pos_;
    bool negated = false;
    if (peek() == '^') negated = true, ++pos_;
    std::vector<CodeRange> ranges;
    bool first = true;
    while (true) {
      if (at_end()) error("unterminated character class");
      if (peek() == ']' && !first) break;
      first = false;
      std::vector<CodeRange> set;
      uint32_t lo;
      if (peek() == '\\') {
        if (parse_escape(true, set)) {
          ranges.insert(ranges.end(), set.begin(), set.end());
          continue;
        }
        lo = set[0].lo;
      } else {
        const tok::Utf8Step st = tok::utf8_step(s_, pos_);
        if (st.cp < 0) error("invalid UTF-8");
        pos_ += st.len;
        lo = uint32_t(st.cp);
      }
      uint32_t hi = lo;
      if (peek() == '-' && pos_ + 1 < s_.size() && s_[pos_ + 1] != ']') {
        ++pos_;
        if (peek() == '\\') {
          if (parse_escape(true, set)) error("a class escape cannot end a range");
          hi = set[0].lo;
        } else {
          const tok::Utf8Step st = tok::utf8_step(s_, pos_);
          if (st.cp < 0) error("invalid UTF-8");
          pos_ += st.len;
          hi = uint32_t(st.cp);
        }
        if (hi < lo) error("character range out of order");
      }
      ranges.push_back({lo, hi});
    }
    ++pos_;
    return chars(std::move(ranges), negated);
  }

  std::string_view s_;
  size_t pos_ = 0;
  bool ended_with_dollar_ = false;
};

// The JSON escape of one control or special character.
std::string json_escape_of(uint32_t c) {
  switch (c) {
    case '"':
      return "\\\"";
    case '\\':
      return "\\\\";
    case '\n':
      return "\\n";
    case '\t':
      return "\\t";
    case '\r':
      return "\\r";
    case '\b':
      return "\\b";
    case '\f':
      return "\\f";
    default:
      return fmt::format("\\u{:04x}", c);
  }
}

bool needs_escape(uint32_t c) {
  return c < 0x20 || c == '"' || c == '\\';
}

}  // namespace

ParsedRegex parse_regex(std::string_view pattern) {
  return RegexParser(pattern).parse();
}

Grammar regex_grammar(std::string_view pattern) {
  Grammar g;
  const uint32_t root = g.rule("root");
  g.define(root, parse_regex(pattern).expr);
  g.set_root(root);
  return g;
}

ExprPtr json_string_escaped(const ExprPtr& e) {
  switch (e->kind) {
    case Expr::Kind::literal: {
      std::string out;
      for (unsigned char c : e->text) out += needs_escape(c) ? json_escape_of(c) : std::string(1, char(c));
      return literal(out);
    }
    case Expr::Kind::chars: {
      std::vector<CodeRange> safe;
      std::vector<ExprPtr> alts;
      for (const CodeRange& r : e->ranges) {
        for (uint32_t c = r.lo; c <= r.hi && c < 0x80; ++c)
          if (needs_escape(c)) alts.push_back(literal(json_escape_of(c)));
        // The range minus the characters that must be escaped: [0, 0x1F], '"' and '\\'.
        uint32_t lo = std::max<uint32_t>(r.lo, 0x20);
        for (uint32_t cut : {uint32_t('"'), uint32_t('\\'), kMaxCodePoint + 1}) {
          const uint32_t hi = std::min(r.hi, cut - 1);
          if (lo <= hi) safe.push_back({lo, hi});
          lo = std::max(lo, cut + 1);
        }
      }
      if (!safe.empty()) alts.insert(alts.begin(), chars(safe));
      if (alts.empty()) return chars({});  // matches nothing, as the original
      return alt(std::move(alts));
    }
    case Expr::Kind::empty:
    case Expr::Kind::ref:
      return e;
    default: {
      Expr copy = *e;
      for (ExprPtr& i : copy.items) i = json_string_escaped(i);
      return std::make_shared<const Expr>(std::move(copy));
    }
  }
}

}  // namespace r1::structured
