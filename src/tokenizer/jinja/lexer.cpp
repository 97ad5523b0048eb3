#include "tokenizer/jinja/lexer.h"

#include <charconv>
#include <cstdlib>

#include "core/error.h"
#include "tokenizer/jinja/text.h"
#include "tokenizer/utf8.h"

namespace r1::jinja {

namespace {

bool is_ws(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}
bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_name_start(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
bool is_name_char(char c) {
  return is_name_start(c) || is_digit(c);
}

// What the text right after a closing tag loses: nothing, all leading whitespace ("-"), or one newline
// (trim_blocks, for block and comment tags only).
enum class After { Keep, StripAll, TrimNewline };

class Lexer {
 public:
  Lexer(std::string_view src, const std::string& origin, const LexOptions& opt)
      : src_(src), origin_(origin), opt_(opt) {
    end_ = src.size();
    if (!opt.keep_trailing_newline && end_ > 0 && src[end_ - 1] == '\n') --end_;
  }

  std::vector<Token> run() {
    size_t i = 0;
    After after = After::Keep;
    while (i < end_) {
      size_t tag = find_tag(i);
      size_t text_begin = i, text_end = tag;
      if (after == After::StripAll) {
        while (text_begin < text_end && is_ws(src_[text_begin])) ++text_begin;
      } else if (after == After::TrimNewline) {
        if (text_begin < text_end && src_[text_begin] == '\n') {
          ++text_begin;
        } else if (text_begin + 1 < text_end && src_[text_begin] == '\r' && src_[text_begin + 1] == '\n') {
          text_begin += 2;
        }
      }
      char kind = tag < end_ ? src_[tag + 1] : 0;
      char marker = tag + 2 < end_ ? src_[tag + 2] : 0;
      if (tag < end_) {
        if (marker == '-') {
          while (text_end > text_begin && is_ws(src_[text_end - 1])) --text_end;
        } else if (marker != '+' && opt_.lstrip_blocks && kind != '{') {
          // lstrip_blocks: only the spaces and tabs between the start of a line and a block or comment tag.
          size_t p = tag;
          while (p > text_begin && (src_[p - 1] == ' ' || src_[p - 1] == '\t')) --p;
          if (p == 0 || src_[p - 1] == '\n') text_end = p;
        }
      }
      if (text_end > text_begin)
        push(TokenKind::Text, std::string(src_.substr(text_begin, text_end - text_begin)), text_begin);
      if (tag >= end_) break;
      if (kind == '#') {
        i = lex_comment(tag, after);
      } else {
        i = lex_tag(tag, kind == '{', after);
      }
    }
    push(TokenKind::End, "", end_);
    return std::move(tokens_);
  }

 private:
  // Tokens arrive in source order, so positions are found by walking forward from the last one (linear in the
  // source, even for a template on one long line); an earlier offset (an error report) is found from scratch.
  Pos pos_at(size_t off) {
    if (off < last_off_) {
      last_off_ = 0;
      last_pos_ = Pos{};
    }
    for (size_t i = last_off_; i < off; ++i) {
      unsigned char c = static_cast<unsigned char>(src_[i]);
      if (c == '\n') {
        ++last_pos_.line;
        last_pos_.col = 1;
      } else if ((c & 0xC0) != 0x80) {
        ++last_pos_.col;
      }
    }
    last_off_ = off;
    return last_pos_;
  }

  [[noreturn]] void error(size_t off, const std::string& msg) {
    Pos p = pos_at(off);
    fail("{}:{}:{}: {}", origin_, p.line, p.col, msg);
  }

  Token& push(TokenKind kind, std::string text, size_t off) {
    Token t;
    t.kind = kind;
    t.text = std::move(text);
    t.pos = pos_at(off);
    tokens_.push_back(std::move(t));
    return tokens_.back();
  }

  bool at(size_t i, std::string_view s) const {
    return i + s.size() <= end_ && src_.substr(i, s.size()) == s;
  }

  size_t find_tag(size_t from) const {
    for (size_t i = from; i + 1 < end_; ++i)
      if (src_[i] == '{' && (src_[i + 1] == '{' || src_[i + 1] == '%' || src_[i + 1] == '#')) return i;
    return end_;
  }

  size_t lex_comment(size_t tag, After& after) {
    size_t close = src_.find("#}", tag + 2);
    if (close == std::string_view::npos || close + 2 > end_)
      error(tag, "comment '{#' is never closed with '#}'");
    char marker = close > tag + 2 ? src_[close - 1] : 0;
    after = marker == '-' ? After::StripAll
                          : (opt_.trim_blocks && marker != '+' ? After::TrimNewline : After::Keep);
    return close + 2;
  }

  // Lexes "{{ ... }}" or "{% ... %}" token by token (a string may contain "%}"), returning the offset after
  // it.
  size_t lex_tag(size_t tag, bool is_expr, After& after) {
    push(is_expr ? TokenKind::ExprOpen : TokenKind::StmtOpen, is_expr ? "{{" : "{%", tag);
    size_t i = tag + 2;
    if (i < end_ && (src_[i] == '-' || (!is_expr && src_[i] == '+'))) ++i;
    int depth = 0;  // open brackets; "}}" inside a dict literal is not the end of an expression tag
    for (;;) {
      while (i < end_ && is_ws(src_[i])) ++i;
      if (i >= end_)
        error(tag, is_expr ? "'{{' is never closed with '}}'" : "'{%' is never closed with '%}'");
      if (is_expr && depth == 0 && (at(i, "}}") || at(i, "-}}"))) {
        after = src_[i] == '-' ? After::StripAll : After::Keep;
        push(TokenKind::ExprClose, "}}", i);
        return i + (src_[i] == '-' ? 3 : 2);
      }
      if (!is_expr && (at(i, "%}") || at(i, "-%}") || at(i, "+%}"))) {
        char m = src_[i];
        after =
            m == '-' ? After::StripAll : (opt_.trim_blocks && m != '+' ? After::TrimNewline : After::Keep);
        push(TokenKind::StmtClose, "%}", i);
        return i + (m == '%' ? 2 : 3);
      }
      i = lex_token(i, depth);
    }
  }

  size_t lex_token(size_t i, int& depth) {
    char c = src_[i];
    if (c == '\'' || c == '"') return lex_string(i);
    if (is_digit(c)) return lex_number(i);
    if (is_name_start(c)) {
      size_t j = i;
      while (j < end_ && is_name_char(src_[j])) ++j;
      push(TokenKind::Name, std::string(src_.substr(i, j - i)), i);
      return j;
    }
    static constexpr std::string_view kTwoCharOps[] = {"**", "//", "==", "!=", "<=", ">="};
    for (std::string_view op : kTwoCharOps)
      if (at(i, op)) {
        push(TokenKind::Op, std::string(op), i);
        return i + 2;
      }
    static constexpr std::string_view kOneCharOps = "+-*/%~<>=.,:()[]{}|";
    if (kOneCharOps.find(c) != std::string_view::npos) {
      if (c == '(' || c == '[' || c == '{') ++depth;
      if ((c == ')' || c == ']' || c == '}') && depth > 0) --depth;
      push(TokenKind::Op, std::string(1, c), i);
      return i + 1;
    }
    size_t len = char_offsets(src_.substr(i, 4))[1];
    error(i, "unexpected character '" + std::string(src_.substr(i, len)) + "' inside a tag");
  }

  size_t lex_number(size_t i) {
    size_t j = i;
    std::string digits;
    bool is_float = false;
    auto take_digits = [&] {
      while (j < end_ && (is_digit(src_[j]) || (src_[j] == '_' && j + 1 < end_ && is_digit(src_[j + 1]))))
        if (src_[j++] != '_') digits += src_[j - 1];
    };
    take_digits();
    if (j + 1 < end_ && src_[j] == '.' && is_digit(src_[j + 1])) {
      is_float = true;
      digits += src_[j++];
      take_digits();
    }
    if (j < end_ && (src_[j] == 'e' || src_[j] == 'E')) {
      size_t k = j + 1;
      if (k < end_ && (src_[k] == '+' || src_[k] == '-')) ++k;
      if (k < end_ && is_digit(src_[k])) {
        is_float = true;
        digits += 'e';
        digits.append(src_.substr(j + 1, k - j - 1));
        j = k;
        take_digits();
      }
    }
    Token& t = push(is_float ? TokenKind::Float : TokenKind::Int, digits, i);
    if (is_float) {
      t.float_value = std::strtod(digits.c_str(), nullptr);
    } else {
      auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), t.int_value);
      if (ec != std::errc()) error(i, "integer literal " + digits + " is too large");
    }
    return j;
  }

  size_t lex_string(size_t i) {
    char quote = src_[i];
    std::string value;
    size_t j = i + 1;
    for (;;) {
      if (j >= end_) error(i, "string literal is never closed");
      char c = src_[j];
      if (c == quote) break;
      if (c != '\\') {
        value += c;
        ++j;
        continue;
      }
      if (j + 1 >= end_) error(i, "string literal is never closed");
      char e = src_[j + 1];
      j += 2;
      switch (e) {
        case 'n':
          value += '\n';
          break;
        case 't':
          value += '\t';
          break;
        case 'r':
          value += '\r';
          break;
        case 'b':
          value += '\b';
          break;
        case 'f':
          value += '\f';
          break;
        case 'v':
          value += '\v';
          break;
        case 'a':
          value += '\a';
          break;
        case '0':
          value += '\0';
          break;
        case '\\':
        case '\'':
        case '"':
          value += e;
          break;
        case '\n':
          break;  // line continuation
        case 'x':
        case 'u':
        case 'U': {
          size_t len = e == 'x' ? 2 : e == 'u' ? 4 : 8;
          uint32_t cp = 0;
          for (size_t k = 0; k < len; ++k) {
            char h = j + k < end_ ? src_[j + k] : 0;
            int d = is_digit(h)              ? h - '0'
                    : (h >= 'a' && h <= 'f') ? h - 'a' + 10
                    : (h >= 'A' && h <= 'F') ? h - 'A' + 10
                                             : -1;
            if (d < 0) error(j - 2, std::string("malformed \\") + e + " escape in a string literal");
            cp = cp * 16 + uint32_t(d);
          }
          if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            error(j - 2, "escape names an invalid code point");
          tok::append_utf8(value, cp);
          j += len;
          break;
        }
        default:  // Python keeps unknown escapes as written
          value += '\\';
          value += e;
      }
    }
    push(TokenKind::String, std::move(value), i);
    return j + 1;
  }

  std::string_view src_;
  const std::string& origin_;
  LexOptions opt_;
  size_t end_;
  size_t last_off_ = 0;
  Pos last_pos_;
  std::vector<Token> tokens_;
};

}  // namespace

std::vector<Token> tokenize(std::string_view source, const std::string& origin, const LexOptions& options) {
  return Lexer(source, origin, options).run();
}

}  // namespace r1::jinja
