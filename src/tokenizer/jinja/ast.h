#pragma once
// The syntax tree of a parsed template. One node type for expressions and one for statements, each with a
// kind and the fields that kind uses (listed per kind below), so the evaluator is a pair of switches.
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tokenizer/jinja/lexer.h"

namespace r1::jinja {

// Template data keeps the key order of its JSON source, as Python dicts do (tojson output depends on it).
using Json = nlohmann::ordered_json;

struct Expr;
using ExprPtr = std::unique_ptr<Expr>;

// A call argument or macro parameter: `name` empty for a positional one; `value` may be null for a parameter
// without a default.
struct Arg {
  std::string name;
  ExprPtr value;
};

enum class ExprKind {
  Literal,  // literal
  Name,     // name
  Attr,     // kids[0].name
  Item,     // kids[0][kids[1]]
  Slice,    // kids[0][kids[1]:kids[2]:kids[3]], absent parts are null
  Call,     // kids[0](args)
  Filter,   // kids[0] | name(args); kids[0] is null inside {% filter %}
  Test,     // kids[0] is [not] name(args)
  Unary,    // name kids[0], name is "-", "+" or "not"
  Binary,   // kids[0] name kids[1], name is an arithmetic operator or "~"
  And,      // kids[0] and kids[1]
  Or,       // kids[0] or kids[1]
  Compare,  // kids[0] ops[0] kids[1] ops[1] kids[2] ... (chained like Python)
  Cond,     // kids[1] if kids[0] else kids[2]; kids[2] null when there is no else
  List,     // [kids...]
  Tuple,    // (kids...)
  Dict,     // {kids[0]: kids[1], kids[2]: kids[3], ...}
};

struct Expr {
  ExprKind kind = ExprKind::Literal;
  Pos pos;
  std::string name;
  Json literal;
  std::vector<ExprPtr> kids;
  std::vector<Arg> args;
  std::vector<std::string> ops;
  bool negated = false;  // Test: "is not"
  int height = 1;        // levels of nodes below and including this one (bounded by the parser)
};

struct Stmt;
using StmtPtr = std::unique_ptr<Stmt>;
using Body = std::vector<StmtPtr>;

struct Branch {
  ExprPtr cond;  // null for the final else
  Body body;
};

enum class StmtKind {
  Text,         // text
  Output,       // {{ expr }}
  If,           // branches
  For,          // for targets in expr [if cond]: body, else else_body
  Set,          // set targets = expr, or set targets[0].attr = expr
  SetBlock,     // set targets[0]: body ... endset
  Macro,        // macro name(params): body
  FilterBlock,  // filter expr (a Filter with no operand): body
  Break,
  Continue,
};

struct Stmt {
  StmtKind kind = StmtKind::Text;
  Pos pos;
  std::string text;
  ExprPtr expr;
  ExprPtr cond;
  std::vector<Branch> branches;
  std::vector<std::string> targets;
  std::string attr;
  std::string name;
  std::vector<Arg> params;
  Body body, else_body;
};

}  // namespace r1::jinja
