#include "structured/gbnf.h"

#include <cstdlib>

#include "core/error.h"
#include "tokenizer/utf8.h"

namespace r1::structured {

namespace {

constexpr int kMaxNesting = 128;
constexpr uint32_t kMaxRepeat = 100000;

class Parser {
 public:
  explicit Parser(std::string_view s) : s_(s) {}

  Grammar parse() {
    skip_space(true);
    while (pos_ < s_.size()) {
      parse_rule();
      skip_space(true);
    }
    for (size_t r = 0; r < g_.size(); ++r)
      if (!g_.defined(uint32_t(r))) fail("GBNF: rule '{}' is used but not defined", g_.name(uint32_t(r)));
    bool has_root = false;
    for (size_t r = 0; r < g_.size(); ++r) has_root = has_root || g_.name(uint32_t(r)) == "root";
    if (!has_root) fail("GBNF: the grammar has no 'root' rule (the start rule)");
    g_.set_root(g_.rule("root"));
    return std::move(g_);
  }

 private:
  [[noreturn]] void error(const std::string& what) const {
    size_t line = 1, col = 1;
    for (size_t i = 0; i < pos_ && i < s_.size(); ++i) {
      if (s_[i] == '\n')
        ++line, col = 1;
      else
        ++col;
    }
    fail("GBNF line {} column {}: {}", line, col, what);
  }

  bool at_end() const { return pos_ >= s_.size(); }
  char peek() const { return at_end() ? '\0' : s_[pos_]; }
  static bool word_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
  }

  // Spaces, tabs and comments; newlines too when `newlines` (between rules, inside groups, after '|').
  void skip_space(bool newlines) {
    while (!at_end()) {
      const char c = peek();
      if (c == ' ' || c == '\t')
        ++pos_;
      else if (c == '#') {
        while (!at_end() && peek() != '\n') ++pos_;
      } else if (newlines && (c == '\n' || c == '\r'))
        ++pos_;
      else
        break;
    }
  }

  std::string parse_name() {
    const size_t start = pos_;
    while (!at_end() && word_char(peek())) ++pos_;
    if (pos_ == start) error("expected a rule name");
    return std::string(s_.substr(start, pos_ - start));
  }

  void parse_rule() {
    const std::string name = parse_name();
    skip_space(false);
    if (s_.substr(pos_, 3) != "::=") error("expected '::=' after rule name '" + name + "'");
    pos_ += 3;
    skip_space(true);
    const uint32_t r = g_.rule(name);
    if (g_.defined(r)) error("rule '" + name + "' is defined twice");
    g_.define(r, parse_alternates(0));
    if (at_end()) return;
    if (peek() == '\r') ++pos_;
    if (peek() != '\n')
      error(std::string("expected the end of the line after rule '") + name + "', found '" + peek() + "'");
    ++pos_;
  }

  ExprPtr parse_alternates(int depth) {
    if (depth > kMaxNesting) error("groups nested too deeply");
    std::vector<ExprPtr> alts{parse_sequence(depth)};
    while (peek() == '|') {
      ++pos_;
      skip_space(true);
      alts.push_back(parse_sequence(depth));
    }
    return alt(std::move(alts));
  }

  ExprPtr parse_sequence(int depth) {
    const bool nested = depth > 0;
    std::vector<ExprPtr> items;
    while (!at_end()) {
      const char c = peek();
      ExprPtr item;
      if (c == '"')
        item = parse_literal();
      else if (c == '[')
        item = parse_class();
      else if (c == '.') {
        ++pos_;
        item = chars({{0, kMaxCodePoint}});
      } else if (c == '(') {
        ++pos_;
        skip_space(true);
        item = parse_alternates(depth + 1);
        if (peek() != ')') error("expected ')'");
        ++pos_;
      } else if (word_char(c)) {
        const size_t save = pos_;
        const std::string name = parse_name();
        // A name followed by ::= starts the next rule (possible only where newlines are skipped).
        size_t look = pos_;
        while (look < s_.size() && (s_[look] == ' ' || s_[look] == '\t')) ++look;
        if (s_.substr(look, 3) == "::=") {
          pos_ = save;
          error("expected the end of the line before rule '" + name + "'");
        }
        item = ref(g_.rule(name));
      } else if (c == '<') {
        error("token references (<[id]>, <name>) are not supported");
      } else {
        break;
      }
      skip_space(nested);
      // Postfix operators.
      while (true) {
        const char op = peek();
        if (op == '*')
          item = star(item), ++pos_;
        else if (op == '+')
          item = plus(item), ++pos_;
        else if (op == '?')
          item = opt(item), ++pos_;
        else if (op == '{')
          item = parse_braces(item);
        else
          break;
        skip_space(nested);
      }
      items.push_back(item);
    }
    return seq(std::move(items));
  }

  uint32_t parse_int() {
    const size_t start = pos_;
    uint64_t v = 0;
    while (!at_end() && peek() >= '0' && peek() <= '9') {
      v = v * 10 + uint64_t(peek() - '0');
      if (v > kMaxRepeat) error("repetition count over " + std::to_string(kMaxRepeat));
      ++pos_;
    }
    if (pos_ == start) error("expected a number");
    return uint32_t(v);
  }

  ExprPtr parse_braces(const ExprPtr& item) {
    ++pos_;
    skip_space(false);
    const uint32_t min = parse_int();
    skip_space(false);
    uint32_t max = min;
    bool unbounded = false;
    if (peek() == ',') {
      ++pos_;
      skip_space(false);
      if (peek() == '}')
        unbounded = true;
      else
        max = parse_int();
      skip_space(false);
    }
    if (peek() != '}') error("expected '}'");
    ++pos_;
    if (!unbounded && max < min) error("repetition {m,n} with n < m");
    return repeat(item, min, max, unbounded);
  }

  // One (possibly escaped) character of a literal or class, as a code point.
  uint32_t parse_char() {
    if (peek() == '\\') {
      ++pos_;
      const char e = peek();
      ++pos_;
      switch (e) {
        case 'n':
          return '\n';
        case 'r':
          return '\r';
        case 't':
          return '\t';
        case '\\':
          return '\\';
        case '"':
          return '"';
        case '[':
          return '[';
        case ']':
          return ']';
        case '-':
          return '-';
        case '^':
          return '^';
        case 'x':
          return parse_hex(2);
        case 'u':
          return parse_hex(4);
        case 'U':
          return parse_hex(8);
        default:
          --pos_;
          error(std::string("unknown escape '\\") + e + "'");
      }
    }
    const tok::Utf8Step st = tok::utf8_step(s_, pos_);
    if (st.cp < 0) error("invalid UTF-8");
    pos_ += st.len;
    return uint32_t(st.cp);
  }

  uint32_t parse_hex(int n) {
    uint32_t v = 0;
    for (int i = 0; i < n; ++i) {
      const char c = peek();
      int d;
      if (c >= '0' && c <= '9')
        d = c - '0';
      else if (c >= 'a' && c <= 'f')
        d = c - 'a' + 10;
      else if (c >= 'A' && c <= 'F')
        d = c - 'A' + 10;
      else
        error("expected " + std::to_string(n) + " hex digits");
      v = v * 16 + uint32_t(d);
      ++pos_;
    }
    if (v > kMaxCodePoint || (v >= 0xD800 && v <= 0xDFFF)) error("escape is not a Unicode scalar value");
    return v;
  }

  ExprPtr parse_literal() {
    ++pos_;
    std::string text;
    while (true) {
      if (at_end() || peek() == '\n') error("unterminated literal");
      if (peek() == '"') break;
      tok::append_utf8(text, parse_char());
    }
    ++pos_;
    return literal(std::move(text));
  }

  ExprPtr parse_class() {
    ++pos_;
    bool negated = false;
    if (peek() == '^') negated = true, ++pos_;
    std::vector<CodeRange> ranges;
    while (true) {
      if (at_end() || peek() == '\n') error("unterminated character class");
      if (peek() == ']') break;
      const uint32_t lo = parse_char();
      uint32_t hi = lo;
      if (peek() == '-' && pos_ + 1 < s_.size() && s_[pos_ + 1] != ']') {
        ++pos_;
        hi = parse_char();
        if (hi < lo) error("character range out of order");
      }
      ranges.push_back({lo, hi});
    }
    ++pos_;
    if (ranges.empty() && !negated) error("empty character class");
    return chars(std::move(ranges), negated);
  }

  std::string_view s_;
  size_t pos_ = 0;
  Grammar g_;
};

}  // namespace

Grammar parse_gbnf(std::string_view text) {
  return Parser(text).parse();
}

}  // namespace r1::structured
