#include "tokenizer/jinja/evaluator.h"

#include <cmath>
#include <deque>
#include <unordered_map>

#include "core/error.h"
#include "tokenizer/jinja/builtins.h"
#include "tokenizer/jinja/operators.h"
#include "tokenizer/jinja/value.h"

namespace r1::jinja {

namespace {

struct Scope {
  Scope* parent = nullptr;
  std::unordered_map<std::string, Value> vars;

  const Value* find(const std::string& name) const {
    for (const Scope* s = this; s; s = s->parent) {
      auto it = s->vars.find(name);
      if (it != s->vars.end()) return &it->second;
    }
    return nullptr;
  }
};

enum class Flow { Normal, Break, Continue };

class Renderer {
 public:
  Renderer(const std::string& origin, const RenderLimits& limits) : origin_(origin), limits_(limits) {}

  std::string run(const Body& program, std::shared_ptr<const Json> context) {
    Scope* root = new_scope(nullptr);
    // Variables are views into the shared context document: reading messages never copies them.
    if (context && context->is_object())
      for (const auto& [k, v] : context->items()) root->vars[k] = Value::view(context, v);
    std::string out;
    exec_body(program, root, out);
    return out;
  }

 private:
  Scope* new_scope(Scope* parent) {
    scopes_.emplace_back();
    scopes_.back().parent = parent;
    return &scopes_.back();
  }

  [[noreturn]] void error_at(Pos pos, const std::string& msg) const {
    fail("{}:{}:{}: {}", origin_, pos.line, pos.col, msg);
  }

  void step(Pos pos) {
    if (++steps_ > limits_.max_steps)
      error_at(pos, fmt::format("template ran more than {} steps; stopped as a runaway", limits_.max_steps));
  }

  void emit(std::string& out, std::string_view s, Pos pos) {
    emitted_ += s.size();
    if (emitted_ > limits_.max_output_bytes)
      error_at(pos, fmt::format("template produced more than {} bytes of text", limits_.max_output_bytes));
    out.append(s);
  }

  Flow exec_body(const Body& body, Scope* scope, std::string& out) {
    for (const StmtPtr& s : body) {
      Flow f = exec(*s, scope, out);
      if (f != Flow::Normal) return f;
    }
    return Flow::Normal;
  }

  Flow exec(const Stmt& s, Scope* scope, std::string& out) {
    step(s.pos);
    try {
      return exec_inner(s, scope, out);
    } catch (const Failure& e) {
      error_at(s.pos, e.what());
    } catch (const nlohmann::json::exception& e) {
      error_at(s.pos, e.what());
    }
  }

  Flow exec_inner(const Stmt& s, Scope* scope, std::string& out) {
    switch (s.kind) {
      case StmtKind::Text:
        emit(out, s.text, s.pos);
        return Flow::Normal;
      case StmtKind::Output:
        emit(out, to_str(eval(*s.expr, scope)), s.pos);
        return Flow::Normal;
      case StmtKind::If:
        for (const Branch& b : s.branches)
          if (!b.cond || truthy(eval(*b.cond, scope))) return exec_body(b.body, scope, out);
        return Flow::Normal;
      case StmtKind::For:
        exec_for(s, scope, out);
        return Flow::Normal;
      case StmtKind::Set:
        assign(s, eval(*s.expr, scope), scope);
        return Flow::Normal;
      case StmtKind::SetBlock: {
        std::string text;
        exec_body(s.body, scope, text);
        assign(s, Value::string(std::move(text)), scope);
        return Flow::Normal;
      }
      case StmtKind::Macro:
        define_macro(s, scope);
        return Flow::Normal;
      case StmtKind::FilterBlock: {
        std::string text;
        exec_body(s.body, scope, text);
        emit(out, to_str(apply_filter_chain(*s.expr, Value::string(std::move(text)), scope)), s.pos);
        return Flow::Normal;
      }
      case StmtKind::Break:
        return Flow::Break;
      case StmtKind::Continue:
        return Flow::Continue;
    }
    return Flow::Normal;
  }

  static void bind_targets(const std::vector<std::string>& targets, const Value& v, Scope* scope) {
    if (targets.size() == 1) {
      scope->vars[targets[0]] = v;
      return;
    }
    std::vector<Value> parts = iterate(v);
    if (parts.size() != targets.size())
      failure("cannot unpack {} value(s) into {} variables", parts.size(), targets.size());
    for (size_t i = 0; i < targets.size(); ++i) scope->vars[targets[i]] = parts[i];
  }

  void assign(const Stmt& s, Value v, Scope* scope) {
    if (s.attr.empty()) return bind_targets(s.targets, v, scope);
    const Value* target = scope->find(s.targets[0]);
    if (!target || !target->is_namespace())
      failure("cannot set attribute '{}' of {} '{}': only namespace() objects can be assigned to", s.attr,
              target ? type_name(*target) : "undefined", s.targets[0]);
    target->ns().set(s.attr, std::move(v));
  }

  void exec_for(const Stmt& s, Scope* scope, std::string& out) {
    std::vector<Value> all = iterate(eval(*s.expr, scope));
    Scope* loop_scope = new_scope(scope);
    std::vector<Value> items;
    if (s.cond) {
      for (const Value& v : all) {
        step(s.pos);
        bind_targets(s.targets, v, loop_scope);
        if (truthy(eval(*s.cond, loop_scope))) items.push_back(v);
      }
    } else {
      items = std::move(all);
    }
    const int64_t n = int64_t(items.size());
    std::shared_ptr<Namespace> loop = make_loop_object();
    if (n > 0) loop_scope->vars["loop"] = Value::of(loop);
    for (int64_t i = 0; i < n; ++i) {
      step(s.pos);
      advance_loop_object(*loop, items, i);
      bind_targets(s.targets, items[size_t(i)], loop_scope);
      if (exec_body(s.body, loop_scope, out) == Flow::Break) break;
    }
    if (items.empty()) exec_body(s.else_body, loop_scope, out);
  }

  // Jinja's `loop` is one object that advances with the loop (a template may keep a reference to it).
  static std::shared_ptr<Namespace> make_loop_object() {
    auto ns = std::make_shared<Namespace>();
    for (const char* name : {"index", "index0", "revindex", "revindex0", "first", "last", "length", "depth",
                             "depth0", "previtem", "nextitem"})
      ns->attrs.emplace_back(name, Value());
    Namespace* self = ns.get();  // the function lives inside *self, so a raw pointer cannot dangle
    ns->attrs.emplace_back("cycle", Value::function("loop.cycle", [self](CallArgs& a) {
                             if (a.positional.empty()) failure("loop.cycle() needs at least one value");
                             int64_t i = self->attrs[1].second.json().get<int64_t>();
                             return a.positional[size_t(i) % a.positional.size()];
                           }));
    return ns;
  }

  static void advance_loop_object(Namespace& ns, const std::vector<Value>& items, int64_t i) {
    const int64_t n = int64_t(items.size());
    Value values[] = {Value::from(i + 1),
                      Value::from(i),
                      Value::from(n - i),
                      Value::from(n - i - 1),
                      Value::from(i == 0),
                      Value::from(i == n - 1),
                      Value::from(n),
                      Value::from(1),
                      Value::from(0),
                      i > 0 ? items[size_t(i - 1)] : Value(),
                      i + 1 < n ? items[size_t(i + 1)] : Value()};
    for (size_t k = 0; k < std::size(values); ++k) ns.attrs[k].second = std::move(values[k]);
  }

  void define_macro(const Stmt& s, Scope* scope) {
    const Stmt* def = &s;
    scope->vars[s.name] =
        Value::function(s.name, [this, def, scope](CallArgs& args) { return call_macro(*def, scope, args); });
  }

  Value call_macro(const Stmt& def, Scope* defined_in, CallArgs& args) {
    if (call_depth_ >= limits_.max_call_depth)
      failure("macro '{}' nested deeper than {} calls", def.name, limits_.max_call_depth);
    if (args.positional.size() > def.params.size())
      failure("macro '{}' takes at most {} argument(s), got {}", def.name, def.params.size(),
              args.positional.size());
    for (const auto& [k, v] : args.keyword) {
      bool known = false;
      for (const Arg& p : def.params) known = known || p.name == k;
      if (!known) failure("macro '{}' has no parameter '{}'", def.name, k);
    }
    Scope* local = new_scope(defined_in);
    for (size_t i = 0; i < def.params.size(); ++i) {
      const Arg& p = def.params[i];
      const Value* given = args.get(i, p.name);
      local->vars[p.name] = given ? *given : (p.value ? eval(*p.value, local) : Value());
    }
    ++call_depth_;
    std::string text;
    exec_body(def.body, local, text);
    --call_depth_;
    return Value::string(std::move(text));
  }

  Value apply_filter_chain(const Expr& f, Value input, Scope* scope) {
    if (f.kids[0]) input = apply_filter_chain(*f.kids[0], std::move(input), scope);
    CallArgs args = eval_args(f.args, scope);
    return apply_filter(f.name, input, args);
  }

  CallArgs eval_args(const std::vector<Arg>& args, Scope* scope) {
    CallArgs out;
    for (const Arg& a : args) {
      if (a.name.empty()) {
        out.positional.push_back(eval(*a.value, scope));
      } else {
        out.keyword.emplace_back(a.name, eval(*a.value, scope));
      }
    }
    return out;
  }

  Value eval(const Expr& e, Scope* scope) {
    try {
      return eval_inner(e, scope);
    } catch (const Failure& f) {
      error_at(e.pos, f.what());
    } catch (const nlohmann::json::exception& x) {
      error_at(e.pos, x.what());
    }
  }

  Value eval_inner(const Expr& e, Scope* scope) {
    switch (e.kind) {
      case ExprKind::Literal:
        return Value::from(e.literal);
      case ExprKind::Name: {
        if (const Value* v = scope->find(e.name)) return *v;
        return global_function(e.name);
      }
      case ExprKind::Attr:
        return get_attr(eval(*e.kids[0], scope), e.name);
      case ExprKind::Item:
        return get_item(eval(*e.kids[0], scope), eval(*e.kids[1], scope));
      case ExprKind::Slice: {
        Value obj = eval(*e.kids[0], scope);
        std::optional<Value> parts[3];
        for (int i = 0; i < 3; ++i)
          if (e.kids[size_t(i) + 1]) parts[i] = eval(*e.kids[size_t(i) + 1], scope);
        return slice(obj, parts[0], parts[1], parts[2]);
      }
      case ExprKind::Call: {
        Value callee = eval(*e.kids[0], scope);
        if (!callee.is_function()) {
          std::string what = e.kids[0]->kind == ExprKind::Name   ? "'" + e.kids[0]->name + "'"
                             : e.kids[0]->kind == ExprKind::Attr ? "'" + e.kids[0]->name + "'"
                                                                 : "expression";
          failure("{} is not a function (it is {})", what, type_name(callee));
        }
        CallArgs args = eval_args(e.args, scope);
        return callee.fn().call(args);
      }
      case ExprKind::Filter: {
        Value operand = eval(*e.kids[0], scope);
        CallArgs args = eval_args(e.args, scope);
        return apply_filter(e.name, operand, args);
      }
      case ExprKind::Test: {
        Value operand = eval(*e.kids[0], scope);
        CallArgs args = eval_args(e.args, scope);
        return Value::from(apply_test(e.name, operand, args) != e.negated);
      }
      case ExprKind::Unary: {
        Value v = eval(*e.kids[0], scope);
        if (e.name == "not") return Value::from(!truthy(v));
        return unary_arith(e.name, v);
      }
      case ExprKind::Binary:
        return binary_op(e.name, eval(*e.kids[0], scope), eval(*e.kids[1], scope));
      case ExprKind::And: {
        Value l = eval(*e.kids[0], scope);
        return truthy(l) ? eval(*e.kids[1], scope) : l;
      }
      case ExprKind::Or: {
        Value l = eval(*e.kids[0], scope);
        return truthy(l) ? l : eval(*e.kids[1], scope);
      }
      case ExprKind::Compare: {
        Value l = eval(*e.kids[0], scope);
        for (size_t i = 0; i < e.ops.size(); ++i) {
          Value r = eval(*e.kids[i + 1], scope);
          if (!compare_op(e.ops[i], l, r)) return Value::from(false);
          l = std::move(r);
        }
        return Value::from(true);
      }
      case ExprKind::Cond:
        if (truthy(eval(*e.kids[0], scope))) return eval(*e.kids[1], scope);
        return e.kids[2] ? eval(*e.kids[2], scope) : Value();
      case ExprKind::List:
      case ExprKind::Tuple: {
        Json arr = Json::array();
        for (const ExprPtr& k : e.kids) arr.push_back(to_data(eval(*k, scope)));
        return Value::from(std::move(arr));
      }
      case ExprKind::Dict: {
        Json obj = Json::object();
        for (size_t i = 0; i + 1 < e.kids.size(); i += 2) {
          Value k = eval(*e.kids[i], scope);
          if (!k.is_string()) failure("dict keys must be strings, got {}", type_name(k));
          obj[k.str()] = to_data(eval(*e.kids[i + 1], scope));
        }
        return Value::from(std::move(obj));
      }
    }
    return Value();
  }

  const std::string& origin_;
  RenderLimits limits_;
  std::deque<Scope> scopes_;  // every scope lives until the render ends (macros keep their defining scope)
  uint64_t steps_ = 0;
  size_t emitted_ = 0;
  int call_depth_ = 0;
};

}  // namespace

std::string render(const Body& program, const std::string& origin, std::shared_ptr<const Json> context,
                   const RenderLimits& limits) {
  return Renderer(origin, limits).run(program, std::move(context));
}

}  // namespace r1::jinja
