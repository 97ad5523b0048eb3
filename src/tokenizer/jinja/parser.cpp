#include "tokenizer/jinja/parser.h"

#include <algorithm>

#include "core/error.h"
#include "tokenizer/jinja/builtins.h"

namespace r1::jinja {

namespace {

// Deep nesting ("((((...") would overflow the stack of a recursive-descent parser; no real template nests
// anywhere near this.
constexpr int kMaxNesting = 128;
constexpr int kMaxHeight = 256;

class Parser {
 public:
  Parser(const std::vector<Token>& tokens, const std::string& origin) : t_(tokens), origin_(origin) {}

  Body parse_template() {
    Body body = parse_body({}, nullptr);
    R1_CHECK(peek().kind == TokenKind::End, "parser stopped before the end");
    return body;
  }

 private:
  struct DepthGuard {
    Parser& p;
    DepthGuard(Parser& parser, const Token& at) : p(parser) {
      if (++p.depth_ > kMaxNesting) p.error(at, fmt::format("nesting deeper than {} levels", kMaxNesting));
    }
    ~DepthGuard() { --p.depth_; }
  };

  const Token& peek(size_t ahead = 0) const { return t_[std::min(i_ + ahead, t_.size() - 1)]; }
  const Token& next() {
    const Token& tok = peek();
    if (i_ < t_.size() - 1) ++i_;
    return tok;
  }
  bool is_op(std::string_view op, size_t ahead = 0) const {
    return peek(ahead).kind == TokenKind::Op && peek(ahead).text == op;
  }
  bool is_name(std::string_view name, size_t ahead = 0) const {
    return peek(ahead).kind == TokenKind::Name && peek(ahead).text == name;
  }

  static StmtPtr make_stmt(StmtKind kind, Pos pos) {
    auto s = std::make_unique<Stmt>();
    s->kind = kind;
    s->pos = pos;
    return s;
  }

  [[noreturn]] void error(const Token& at, const std::string& msg) const {
    fail("{}:{}:{}: {}", origin_, at.pos.line, at.pos.col, msg);
  }
  [[noreturn]] void error(Pos at, const std::string& msg) const {
    fail("{}:{}:{}: {}", origin_, at.line, at.col, msg);
  }

  static std::string describe(const Token& tok) {
    switch (tok.kind) {
      case TokenKind::End:
        return "the end of the template";
      case TokenKind::Text:
        return "text";
      case TokenKind::ExprOpen:
        return "'{{'";
      case TokenKind::ExprClose:
        return "'}}'";
      case TokenKind::StmtOpen:
        return "'{%'";
      case TokenKind::StmtClose:
        return "'%}'";
      case TokenKind::String:
        return "a string literal";
      default:
        return "'" + tok.text + "'";
    }
  }

  void expect_op(std::string_view op) {
    if (!is_op(op)) error(peek(), fmt::format("expected '{}', found {}", op, describe(peek())));
    next();
  }
  void expect_close() {
    if (peek().kind != TokenKind::StmtClose) error(peek(), "expected '%}', found " + describe(peek()));
    next();
  }
  std::string expect_name(const char* what) {
    if (peek().kind != TokenKind::Name)
      error(peek(), fmt::format("expected {}, found {}", what, describe(peek())));
    return next().text;
  }

  // Statements until one of `stops` ({% elif %}, {% endfor %}...); leaves the stop keyword as the next token
  // and stores it in *found. With no stops, runs to the end of the template.
  Body parse_body(std::initializer_list<std::string_view> stops, std::string* found, Pos opened = {}) {
    Body body;
    for (;;) {
      const Token& tok = peek();
      switch (tok.kind) {
        case TokenKind::End:
          if (stops.size() == 0) return body;
          error(opened,
                fmt::format("block is never closed: expected '{{% {} %}}' before the end of the template",
                            *(stops.end() - 1)));
        case TokenKind::Text: {
          auto s = make_stmt(StmtKind::Text, tok.pos);
          s->text = next().text;
          body.push_back(std::move(s));
          break;
        }
        case TokenKind::ExprOpen: {
          auto s = make_stmt(StmtKind::Output, next().pos);
          s->expr = parse_expr();
          if (peek().kind != TokenKind::ExprClose) error(peek(), "expected '}}', found " + describe(peek()));
          next();
          body.push_back(std::move(s));
          break;
        }
        case TokenKind::StmtOpen: {
          const Token& kw = peek(1);
          if (kw.kind == TokenKind::Name && std::find(stops.begin(), stops.end(), kw.text) != stops.end()) {
            next();
            *found = next().text;
            return body;
          }
          next();
          parse_statement(body);
          break;
        }
        default:
          error(tok, "unexpected " + describe(tok));
      }
    }
  }

  void parse_statement(Body& out) {
    const Token& kw = peek();
    DepthGuard guard(*this, kw);
    if (kw.kind != TokenKind::Name) error(kw, "expected a statement keyword, found " + describe(kw));
    std::string k = next().text;
    if (k == "if") return out.push_back(parse_if(kw.pos));
    if (k == "for") return out.push_back(parse_for(kw.pos));
    if (k == "set") return out.push_back(parse_set(kw.pos));
    if (k == "macro") return out.push_back(parse_macro(kw.pos));
    if (k == "filter") return out.push_back(parse_filter_block(kw.pos));
    if (k == "break" || k == "continue") {
      if (loop_depth_ == 0) error(kw, fmt::format("'{{% {} %}}' outside a for loop", k));
      expect_close();
      return out.push_back(make_stmt(k == "break" ? StmtKind::Break : StmtKind::Continue, kw.pos));
    }
    if (k == "generation") {
      // transformers' marker for assistant-token masks: renders its body unchanged.
      expect_close();
      std::string found;
      Body body = parse_body({"endgeneration"}, &found, kw.pos);
      expect_close();
      for (auto& s : body) out.push_back(std::move(s));
      return;
    }
    if (k.rfind("end", 0) == 0 || k == "elif" || k == "else")
      error(kw, fmt::format("'{{% {} %}}' without a matching opening statement", k));
    error(kw,
          fmt::format("unsupported statement '{{% {} %}}' (supported: if, for, set, macro, filter, break, "
                      "continue, generation)",
                      k));
  }

  StmtPtr parse_if(Pos pos) {
    auto s = make_stmt(StmtKind::If, pos);
    std::string found = "if";
    while (found == "if" || found == "elif") {
      Branch b;
      b.cond = parse_expr();
      expect_close();
      b.body = parse_body({"elif", "else", "endif"}, &found, pos);
      s->branches.push_back(std::move(b));
    }
    if (found == "else") {
      expect_close();
      Branch b;
      b.body = parse_body({"endif"}, &found, pos);
      s->branches.push_back(std::move(b));
    }
    expect_close();
    return s;
  }

  StmtPtr parse_for(Pos pos) {
    auto s = make_stmt(StmtKind::For, pos);
    bool parens = is_op("(");
    if (parens) next();
    do {
      s->targets.push_back(expect_name("a loop variable name"));
    } while (is_op(",") && (next(), true));
    if (parens) expect_op(")");
    if (!is_name("in")) error(peek(), "expected 'in' in a for loop, found " + describe(peek()));
    next();
    s->expr = parse_expr(false);
    if (is_name("if")) {
      next();
      s->cond = parse_expr(false);
    }
    if (is_name("recursive")) error(peek(), "unsupported construct: recursive for loops");
    expect_close();
    std::string found;
    ++loop_depth_;
    s->body = parse_body({"else", "endfor"}, &found, pos);
    --loop_depth_;
    if (found == "else") {
      expect_close();
      s->else_body = parse_body({"endfor"}, &found, pos);
    }
    expect_close();
    return s;
  }

  StmtPtr parse_set(Pos pos) {
    auto s = make_stmt(StmtKind::Set, pos);
    s->targets.push_back(expect_name("a variable name"));
    if (is_op(".")) {
      next();
      s->attr = expect_name("an attribute name");
    } else {
      while (is_op(",")) {
        next();
        s->targets.push_back(expect_name("a variable name"));
      }
    }
    if (is_op("=")) {
      next();
      s->expr = parse_expr();
      if (is_op(",")) error(peek(), "unsupported construct: tuple without parentheses on the right of set");
      expect_close();
      return s;
    }
    if (peek().kind != TokenKind::StmtClose || !s->attr.empty() || s->targets.size() != 1)
      error(peek(), "expected '=' in set, found " + describe(peek()));
    next();
    s->kind = StmtKind::SetBlock;
    std::string found;
    s->body = parse_body({"endset"}, &found, pos);
    expect_close();
    return s;
  }

  StmtPtr parse_macro(Pos pos) {
    auto s = make_stmt(StmtKind::Macro, pos);
    s->name = expect_name("a macro name");
    expect_op("(");
    while (!is_op(")")) {
      Arg a;
      a.name = expect_name("a parameter name");
      if (is_op("=")) {
        next();
        a.value = parse_expr();
      }
      s->params.push_back(std::move(a));
      if (!is_op(",")) break;
      next();
    }
    expect_op(")");
    expect_close();
    std::string found;
    int saved_loops = loop_depth_;
    loop_depth_ = 0;
    s->body = parse_body({"endmacro"}, &found, pos);
    loop_depth_ = saved_loops;
    if (peek().kind == TokenKind::Name) next();  // {% endmacro name %}
    expect_close();
    return s;
  }

  StmtPtr parse_filter_block(Pos pos) {
    auto s = make_stmt(StmtKind::FilterBlock, pos);
    ExprPtr chain;
    do {
      chain = parse_filter(std::move(chain));
    } while (is_op("|") && (next(), true));
    s->expr = std::move(chain);
    expect_close();
    std::string found;
    s->body = parse_body({"endfilter"}, &found, pos);
    expect_close();
    return s;
  }

  // ---- expressions, lowest precedence first (as Jinja2's parser) ----

  ExprPtr make(ExprKind kind, Pos pos) {
    auto e = std::make_unique<Expr>();
    e->kind = kind;
    e->pos = pos;
    return e;
  }

  // Records the height of a finished node and rejects trees too deep to evaluate (and to destroy) by
  // recursion: long operator chains like `a+a+a+...` nest without nesting the parser's own calls.
  ExprPtr finish(ExprPtr e) {
    int h = 0;
    for (const auto& k : e->kids)
      if (k) h = std::max(h, k->height);
    for (const auto& a : e->args)
      if (a.value) h = std::max(h, a.value->height);
    e->height = h + 1;
    if (e->height > kMaxHeight)
      error(e->pos, fmt::format("expression nested deeper than {} levels", kMaxHeight));
    return e;
  }

  ExprPtr binary(ExprKind kind, Pos pos, std::string op, ExprPtr l, ExprPtr r) {
    auto e = make(kind, pos);
    e->name = std::move(op);
    e->kids.push_back(std::move(l));
    e->kids.push_back(std::move(r));
    return finish(std::move(e));
  }

  ExprPtr parse_expr(bool allow_cond = true) {
    DepthGuard guard(*this, peek());
    ExprPtr e = parse_or();
    if (allow_cond && is_name("if")) {
      Pos pos = next().pos;
      auto c = make(ExprKind::Cond, pos);
      c->kids.push_back(parse_or());
      c->kids.push_back(std::move(e));
      if (is_name("else")) {
        next();
        c->kids.push_back(parse_expr());
      } else {
        c->kids.push_back(nullptr);
      }
      return finish(std::move(c));
    }
    return e;
  }

  ExprPtr parse_or() {
    ExprPtr e = parse_and();
    while (is_name("or")) {
      Pos pos = next().pos;
      e = binary(ExprKind::Or, pos, "or", std::move(e), parse_and());
    }
    return e;
  }

  ExprPtr parse_and() {
    ExprPtr e = parse_not();
    while (is_name("and")) {
      Pos pos = next().pos;
      e = binary(ExprKind::And, pos, "and", std::move(e), parse_not());
    }
    return e;
  }

  ExprPtr parse_not() {
    if (is_name("not")) {
      DepthGuard guard(*this, peek());
      auto e = make(ExprKind::Unary, next().pos);
      e->name = "not";
      e->kids.push_back(parse_not());
      return finish(std::move(e));
    }
    return parse_compare();
  }

  ExprPtr parse_compare() {
    ExprPtr first = parse_math1();
    ExprPtr cmp;
    for (;;) {
      std::string op;
      const Token& tok = peek();
      if (tok.kind == TokenKind::Op && (tok.text == "==" || tok.text == "!=" || tok.text == "<" ||
                                        tok.text == ">" || tok.text == "<=" || tok.text == ">=")) {
        op = next().text;
      } else if (is_name("in")) {
        op = next().text;
      } else if (is_name("not") && is_name("in", 1)) {
        next();
        next();
        op = "not in";
      } else {
        break;
      }
      if (!cmp) {
        cmp = make(ExprKind::Compare, tok.pos);
        cmp->kids.push_back(std::move(first));
      }
      cmp->ops.push_back(op);
      cmp->kids.push_back(parse_math1());
    }
    return cmp ? finish(std::move(cmp)) : std::move(first);
  }

  ExprPtr parse_math1() {
    ExprPtr e = parse_concat();
    while (is_op("+") || is_op("-")) {
      const Token& op = next();
      e = binary(ExprKind::Binary, op.pos, op.text, std::move(e), parse_concat());
    }
    return e;
  }

  ExprPtr parse_concat() {
    ExprPtr e = parse_math2();
    while (is_op("~")) {
      const Token& op = next();
      e = binary(ExprKind::Binary, op.pos, op.text, std::move(e), parse_math2());
    }
    return e;
  }

  ExprPtr parse_math2() {
    ExprPtr e = parse_pow();
    while (is_op("*") || is_op("/") || is_op("//") || is_op("%")) {
      const Token& op = next();
      e = binary(ExprKind::Binary, op.pos, op.text, std::move(e), parse_pow());
    }
    return e;
  }

  ExprPtr parse_pow() {
    ExprPtr e = parse_unary(true);
    while (is_op("**")) {
      const Token& op = next();
      e = binary(ExprKind::Binary, op.pos, op.text, std::move(e), parse_unary(true));
    }
    return e;
  }

  ExprPtr parse_unary(bool with_filter) {
    DepthGuard guard(*this, peek());
    ExprPtr e;
    if (is_op("-") || is_op("+")) {
      e = make(ExprKind::Unary, peek().pos);
      e->name = next().text;
      e->kids.push_back(parse_unary(false));
      e = finish(std::move(e));
    } else {
      e = parse_postfix(parse_primary());
    }
    if (!with_filter) return e;
    for (;;) {
      if (is_op("|")) {
        next();
        e = parse_filter(std::move(e));
      } else if (is_name("is")) {
        e = parse_test(std::move(e));
      } else if (is_op("(")) {
        e = parse_postfix(std::move(e));
      } else {
        return e;
      }
    }
  }

  ExprPtr parse_filter(ExprPtr operand) {
    const Token& name = peek();
    auto e = make(ExprKind::Filter, name.pos);
    e->name = expect_name("a filter name");
    if (!is_known_filter(e->name)) error(name, "unsupported filter '" + e->name + "'");
    e->kids.push_back(std::move(operand));
    if (is_op("(")) e->args = parse_call_args();
    return finish(std::move(e));
  }

  ExprPtr parse_test(ExprPtr operand) {
    auto e = make(ExprKind::Test, next().pos);
    if (is_name("not")) {
      next();
      e->negated = true;
    }
    const Token& name = peek();
    if (name.kind == TokenKind::Name) {
      e->name = next().text;
    } else if (name.kind == TokenKind::Op && (name.text == "==" || name.text == "!=" || name.text == "<" ||
                                              name.text == ">" || name.text == "<=" || name.text == ">=")) {
      e->name = next().text;
    } else {
      error(name, "expected a test name after 'is', found " + describe(name));
    }
    if (!is_known_test(e->name)) error(name, "unsupported test '" + e->name + "'");
    e->kids.push_back(std::move(operand));
    if (is_op("(")) {
      e->args = parse_call_args();
    } else {
      // Jinja allows one argument without parentheses: `x is divisibleby 3`, `x is sameas none`.
      const Token& a = peek();
      bool starts_primary =
          a.kind == TokenKind::String || a.kind == TokenKind::Int || a.kind == TokenKind::Float ||
          is_op("[") || is_op("{") ||
          (a.kind == TokenKind::Name && a.text != "else" && a.text != "or" && a.text != "and" &&
           a.text != "if" && a.text != "in" && a.text != "is" && a.text != "not");
      if (starts_primary) e->args.push_back(Arg{"", parse_postfix(parse_primary())});
    }
    return finish(std::move(e));
  }

  std::vector<Arg> parse_call_args() {
    expect_op("(");
    std::vector<Arg> args;
    bool keyword_seen = false;
    while (!is_op(")")) {
      if (is_op("*") || is_op("**")) error(peek(), "unsupported construct: argument unpacking with * or **");
      Arg a;
      if (peek().kind == TokenKind::Name && is_op("=", 1)) {
        a.name = next().text;
        next();
        keyword_seen = true;
      } else if (keyword_seen) {
        error(peek(), "positional argument after a keyword argument");
      }
      a.value = parse_expr();
      args.push_back(std::move(a));
      if (!is_op(",")) break;
      next();
    }
    expect_op(")");
    return args;
  }

  ExprPtr parse_primary() {
    const Token& tok = peek();
    switch (tok.kind) {
      case TokenKind::Name: {
        next();
        auto e = make(ExprKind::Literal, tok.pos);
        if (tok.text == "true" || tok.text == "True") {
          e->literal = true;
        } else if (tok.text == "false" || tok.text == "False") {
          e->literal = false;
        } else if (tok.text == "none" || tok.text == "None") {
          e->literal = nullptr;
        } else {
          e->kind = ExprKind::Name;
          e->name = tok.text;
        }
        return e;
      }
      case TokenKind::String: {
        auto e = make(ExprKind::Literal, tok.pos);
        std::string s;
        while (peek().kind == TokenKind::String) s += next().text;  // adjacent literals concatenate
        e->literal = std::move(s);
        return e;
      }
      case TokenKind::Int:
      case TokenKind::Float: {
        auto e = make(ExprKind::Literal, tok.pos);
        if (tok.kind == TokenKind::Int) {
          e->literal = tok.int_value;
        } else {
          e->literal = tok.float_value;
        }
        next();
        return e;
      }
      case TokenKind::Op:
        if (tok.text == "(") return parse_parens();
        if (tok.text == "[") return parse_list();
        if (tok.text == "{") return parse_dict();
        break;
      default:
        break;
    }
    error(tok, "expected an expression, found " + describe(tok));
  }

  ExprPtr parse_parens() {
    auto e = make(ExprKind::Tuple, next().pos);
    if (is_op(")")) {
      next();
      return e;
    }
    ExprPtr first = parse_expr();
    if (is_op(")")) {
      next();
      return first;
    }
    e->kids.push_back(std::move(first));
    while (is_op(",")) {
      next();
      if (is_op(")")) break;
      e->kids.push_back(parse_expr());
    }
    expect_op(")");
    return finish(std::move(e));
  }

  ExprPtr parse_list() {
    auto e = make(ExprKind::List, next().pos);
    while (!is_op("]")) {
      e->kids.push_back(parse_expr());
      if (!is_op(",")) break;
      next();
    }
    expect_op("]");
    return finish(std::move(e));
  }

  ExprPtr parse_dict() {
    auto e = make(ExprKind::Dict, next().pos);
    while (!is_op("}")) {
      e->kids.push_back(parse_expr());
      expect_op(":");
      e->kids.push_back(parse_expr());
      if (!is_op(",")) break;
      next();
    }
    expect_op("}");
    return finish(std::move(e));
  }

  ExprPtr parse_postfix(ExprPtr e) {
    for (;;) {
      if (is_op(".")) {
        Pos pos = next().pos;
        if (peek().kind == TokenKind::Int) {  // `x.0` is x[0]
          auto item = make(ExprKind::Item, pos);
          item->kids.push_back(std::move(e));
          auto idx = make(ExprKind::Literal, pos);
          idx->literal = next().int_value;
          item->kids.push_back(std::move(idx));
          e = finish(std::move(item));
          continue;
        }
        auto attr = make(ExprKind::Attr, pos);
        attr->name = expect_name("an attribute name after '.'");
        attr->kids.push_back(std::move(e));
        e = finish(std::move(attr));
      } else if (is_op("[")) {
        e = parse_subscript(std::move(e));
      } else if (is_op("(")) {
        auto call = make(ExprKind::Call, peek().pos);
        call->kids.push_back(std::move(e));
        call->args = parse_call_args();
        e = finish(std::move(call));
      } else {
        return e;
      }
    }
  }

  ExprPtr parse_subscript(ExprPtr obj) {
    DepthGuard guard(*this, peek());
    Pos pos = next().pos;
    ExprPtr start = is_op(":") ? nullptr : parse_expr();
    if (!is_op(":")) {
      expect_op("]");
      auto item = make(ExprKind::Item, pos);
      item->kids.push_back(std::move(obj));
      item->kids.push_back(std::move(start));
      return finish(std::move(item));
    }
    next();
    auto slice = make(ExprKind::Slice, pos);
    slice->kids.push_back(std::move(obj));
    slice->kids.push_back(std::move(start));
    slice->kids.push_back(is_op(":") || is_op("]") ? nullptr : parse_expr());
    if (is_op(":")) {
      next();
      slice->kids.push_back(is_op("]") ? nullptr : parse_expr());
    } else {
      slice->kids.push_back(nullptr);
    }
    expect_op("]");
    return finish(std::move(slice));
  }

  const std::vector<Token>& t_;
  const std::string& origin_;
  size_t i_ = 0;
  int depth_ = 0;
  int loop_depth_ = 0;
};

}  // namespace

Body parse(const std::vector<Token>& tokens, const std::string& origin) {
  R1_CHECK(!tokens.empty() && tokens.back().kind == TokenKind::End, "token stream without End");
  return Parser(tokens, origin).parse_template();
}

}  // namespace r1::jinja
