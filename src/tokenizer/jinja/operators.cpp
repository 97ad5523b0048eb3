#include "tokenizer/jinja/operators.h"

#include <algorithm>
#include <cmath>

#include "tokenizer/jinja/builtins.h"
#include "tokenizer/jinja/text.h"

namespace r1::jinja {

namespace {

// Strings and lists a template builds by repetition ("-" * n) stay below this size.
constexpr double kMaxRepeatBytes = double(16 << 20);

bool is_intlike(const Value& v) {
  return v.is_int() || v.is_bool();
}
int64_t as_int(const Value& v) {
  return v.is_bool() ? int64_t(v.json().get<bool>()) : v.json().get<int64_t>();
}
double as_double(const Value& v) {
  return v.is_bool() ? double(v.json().get<bool>()) : v.json().get<double>();
}
bool is_numeric(const Value& v) {
  return v.is_number() || v.is_bool();
}

[[noreturn]] void bad_operands(std::string_view op, const Value& a, const Value& b) {
  failure("unsupported operand types for {}: {} and {}", op, type_name(a), type_name(b));
}

Value int_result(std::string_view op, int64_t x, int64_t y) {
  int64_t r = 0;
  bool overflow = false;
  if (op == "+") {
    overflow = __builtin_add_overflow(x, y, &r);
  } else if (op == "-") {
    overflow = __builtin_sub_overflow(x, y, &r);
  } else if (op == "*") {
    overflow = __builtin_mul_overflow(x, y, &r);
  } else if (op == "//" || op == "%") {
    if (y == 0) failure("integer division or modulo by zero");
    if (x == INT64_MIN && y == -1) failure("integer overflow in {}", op);
    int64_t q = x / y, m = x % y;
    if (m != 0 && ((m < 0) != (y < 0))) {  // Python floors toward negative infinity
      --q;
      m += y;
    }
    r = op == "//" ? q : m;
  } else if (op == "**") {
    if (y < 0) return Value::from(std::pow(double(x), double(y)));
    r = 1;
    for (int64_t i = 0; i < y && !overflow; ++i) overflow = __builtin_mul_overflow(r, x, &r);
  }
  if (overflow) failure("integer overflow in {}", op);
  return Value::from(r);
}

Value float_result(std::string_view op, double x, double y) {
  if (op == "+") return Value::from(x + y);
  if (op == "-") return Value::from(x - y);
  if (op == "*") return Value::from(x * y);
  if (op == "**") return Value::from(std::pow(x, y));
  if (y == 0) failure("float division by zero");
  if (op == "/") return Value::from(x / y);
  if (op == "//") return Value::from(std::floor(x / y));
  double m = std::fmod(x, y);
  if (m != 0 && ((m < 0) != (y < 0))) m += y;
  return Value::from(m);
}

Value repeat(const Value& seq, int64_t times) {
  if (times < 0) times = 0;
  if (seq.is_string()) {
    if (double(seq.str().size()) * double(times) > kMaxRepeatBytes) failure("string repetition too large");
    std::string out;
    for (int64_t i = 0; i < times; ++i) out += seq.str();
    return Value::string(std::move(out));
  }
  if (double(seq.json().dump().size()) * double(times) > kMaxRepeatBytes)
    failure("list repetition too large");
  Json out = Json::array();
  for (int64_t i = 0; i < times; ++i)
    for (const Json& e : seq.json()) out.push_back(e);
  return Value::from(std::move(out));
}

}  // namespace

Value get_attr(const Value& obj, const std::string& name) {
  if (obj.is_namespace()) return obj.ns().get(name);
  if (obj.is_string() || obj.is_mapping()) {
    Value m = method_of(obj, name);
    if (!m.is_undefined()) return m;
  }
  if (obj.is_mapping()) {
    auto it = obj.json().find(name);
    if (it != obj.json().end()) return obj.element(*it);
  }
  return Value();
}

Value get_item(const Value& obj, const Value& key) {
  if (obj.is_mapping() && key.is_string()) {
    auto it = obj.json().find(key.str());
    if (it != obj.json().end()) return obj.element(*it);
  } else if ((obj.is_list() || obj.is_string()) && is_intlike(key)) {
    int64_t i = as_int(key);
    if (obj.is_list()) {
      int64_t n = int64_t(obj.json().size());
      if (i < 0) i += n;
      if (i >= 0 && i < n) return obj.element(obj.json()[size_t(i)]);
    } else {
      std::vector<size_t> off = char_offsets(obj.str());
      int64_t n = int64_t(off.size()) - 1;
      if (i < 0) i += n;
      if (i >= 0 && i < n)
        return Value::string(obj.str().substr(off[size_t(i)], off[size_t(i) + 1] - off[size_t(i)]));
    }
    return Value();
  } else if (obj.is_namespace() && key.is_string()) {
    return obj.ns().get(key.str());
  }
  if (key.is_string()) return get_attr(obj, key.str());
  return Value();
}

Value slice(const Value& obj, const std::optional<Value>& start, const std::optional<Value>& stop,
            const std::optional<Value>& step) {
  auto bound = [](const std::optional<Value>& v, const char* what) -> std::optional<int64_t> {
    if (!v || v->is_none()) return std::nullopt;
    if (!is_intlike(*v)) failure("slice {} must be an integer or none, got {}", what, type_name(*v));
    return as_int(*v);
  };
  std::optional<int64_t> b = bound(start, "start"), e = bound(stop, "stop"), s = bound(step, "step");
  int64_t st = s.value_or(1);
  if (st == 0) failure("slice step cannot be zero");
  if (obj.is_undefined()) return Value();
  if (!obj.is_list() && !obj.is_string()) failure("cannot slice a {} value", type_name(obj));
  std::vector<size_t> off;
  int64_t n;
  if (obj.is_string()) {
    off = char_offsets(obj.str());
    n = int64_t(off.size()) - 1;
  } else {
    n = int64_t(obj.json().size());
  }
  auto norm = [&](std::optional<int64_t> x, int64_t dflt) {
    if (!x) return dflt;
    int64_t v = *x < 0 ? *x + n : *x;
    if (st > 0) return std::clamp<int64_t>(v, 0, n);
    return std::clamp<int64_t>(v, -1, n - 1);
  };
  int64_t from = norm(b, st > 0 ? 0 : n - 1), to = norm(e, st > 0 ? n : -1);
  if (obj.is_string()) {
    const std::string& str = obj.str();
    std::string out;
    for (int64_t i = from; st > 0 ? i < to : i > to; i += st)
      out.append(str, off[size_t(i)], off[size_t(i) + 1] - off[size_t(i)]);
    return Value::string(std::move(out));
  }
  Json out = Json::array();
  for (int64_t i = from; st > 0 ? i < to : i > to; i += st) out.push_back(obj.json()[size_t(i)]);
  return Value::from(std::move(out));
}

Value unary_arith(std::string_view op, const Value& v) {
  if (!is_numeric(v)) failure("bad operand type for unary {}: {}", op, type_name(v));
  if (op == "+") return is_intlike(v) ? Value::from(as_int(v)) : v;
  if (is_intlike(v)) {
    if (as_int(v) == INT64_MIN) failure("integer overflow in unary -");
    return Value::from(-as_int(v));
  }
  return Value::from(-as_double(v));
}

Value binary_op(std::string_view op, const Value& a, const Value& b) {
  if (op == "~") return Value::string(to_str(a) + to_str(b));
  if (is_numeric(a) && is_numeric(b)) {
    if (op == "/") return float_result(op, as_double(a), as_double(b));
    if (is_intlike(a) && is_intlike(b)) return int_result(op, as_int(a), as_int(b));
    return float_result(op, as_double(a), as_double(b));
  }
  if (op == "+") {
    if (a.is_string() && b.is_string()) return Value::string(a.str() + b.str());
    if (a.is_list() && b.is_list()) {
      Json out = a.json();
      for (const Json& e : b.json()) out.push_back(e);
      return Value::from(std::move(out));
    }
  }
  if (op == "*") {
    if ((a.is_string() || a.is_list()) && is_intlike(b)) return repeat(a, as_int(b));
    if ((b.is_string() || b.is_list()) && is_intlike(a)) return repeat(b, as_int(a));
  }
  if (op == "%" && a.is_string()) failure("printf-style string formatting ('...' % value) is not supported");
  bad_operands(op, a, b);
}

bool contains(const Value& container, const Value& item) {
  if (container.is_undefined()) return false;
  if (container.is_string()) {
    if (!item.is_string()) failure("'in <string>' requires a string on the left, got {}", type_name(item));
    return container.str().find(item.str()) != std::string::npos;
  }
  if (container.is_list()) {
    for (const Json& e : container.json())
      if (equal(container.element(e), item)) return true;
    return false;
  }
  if (container.is_mapping()) return item.is_string() && container.json().contains(item.str());
  if (container.is_namespace()) return item.is_string() && !container.ns().get(item.str()).is_undefined();
  failure("argument of type {} is not iterable", type_name(container));
}

bool compare_op(std::string_view op, const Value& a, const Value& b) {
  if (op == "==") return equal(a, b);
  if (op == "!=") return !equal(a, b);
  if (op == "in") return contains(b, a);
  if (op == "not in") return !contains(b, a);
  int c = compare(a, b);
  if (op == "<") return c < 0;
  if (op == ">") return c > 0;
  if (op == "<=") return c <= 0;
  return c >= 0;
}

}  // namespace r1::jinja
