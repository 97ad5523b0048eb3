#pragma once
// Splits template source into text and tag tokens, applying Jinja's whitespace control the way Hugging Face
// renders chat templates: trim_blocks and lstrip_blocks on, one trailing newline of the source dropped, and
// the
// "-" / "+" markers on tags. Comments disappear here.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace r1::jinja {

struct Pos {
  int line = 1, col = 1;  // 1-based; columns count UTF-8 characters
};

enum class TokenKind {
  Text,       // literal output between tags
  ExprOpen,   // {{
  ExprClose,  // }}
  StmtOpen,   // {%
  StmtClose,  // %}
  Name,
  String,
  Int,
  Float,
  Op,  // operators and punctuation, text holds the symbol
  End,
};

struct Token {
  TokenKind kind = TokenKind::End;
  std::string text;  // Text and String: the (unescaped) value; Name/Op: the spelling; numbers: the digits
  Pos pos;
  int64_t int_value = 0;
  double float_value = 0;
};

struct LexOptions {
  bool trim_blocks = true;
  bool lstrip_blocks = true;
  bool keep_trailing_newline = false;
};

// Throws r1::Error "<origin>:<line>:<col>: ..." on malformed input (unclosed tags or strings, stray
// characters).
std::vector<Token> tokenize(std::string_view source, const std::string& origin,
                            const LexOptions& options = {});

}  // namespace r1::jinja
