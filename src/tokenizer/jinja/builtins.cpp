// Tests (`x is name`), methods of strings and mappings, and the global functions.
#include "tokenizer/jinja/builtins.h"

#include <algorithm>
#include <cctype>
#include <ctime>

#include "tokenizer/jinja/operators.h"
#include "tokenizer/jinja/text.h"

namespace r1::jinja {

namespace {

constexpr int64_t kMaxRangeLength = 1'000'000;

const std::string& string_arg(const CallArgs& a, size_t i, std::string_view name, std::string_view fn) {
  const Value* v = a.get(i, name);
  if (!v) failure("{}() needs the argument '{}'", fn, name);
  if (!v->is_string()) failure("{}() argument '{}' must be a string, got {}", fn, name, type_name(*v));
  return v->str();
}

std::optional<std::string> optional_string(const CallArgs& a, size_t i, std::string_view name,
                                           std::string_view fn) {
  const Value* v = a.get(i, name);
  if (!v || v->is_none()) return std::nullopt;
  if (!v->is_string()) failure("{}() argument '{}' must be a string, got {}", fn, name, type_name(*v));
  return v->str();
}

int64_t int_arg(const CallArgs& a, size_t i, std::string_view name, std::string_view fn, int64_t dflt) {
  const Value* v = a.get(i, name);
  if (!v || v->is_none()) return dflt;
  if (!v->is_int()) failure("{}() argument '{}' must be an integer, got {}", fn, name, type_name(*v));
  return v->json().get<int64_t>();
}

// str.startswith / endswith accept one string or a list (a tuple in Python) of them.
bool affix_match(const Value& self, const CallArgs& a, bool prefix) {
  const char* fn = prefix ? "startswith" : "endswith";
  a.check(fn, 1, {});
  const Value* what = a.get(0, "");
  if (!what) failure("{}() needs one argument", fn);
  std::vector<Value> options = what->is_list() ? iterate(*what) : std::vector<Value>{*what};
  const std::string& s = self.str();
  for (const Value& o : options) {
    if (!o.is_string()) failure("{}() arguments must be strings, got {}", fn, type_name(o));
    const std::string& x = o.str();
    if (x.size() <= s.size() &&
        (prefix ? s.compare(0, x.size(), x) : s.compare(s.size() - x.size(), x.size(), x)) == 0)
      return true;
  }
  return false;
}

Value string_method(const Value& self, std::string_view name, CallArgs& a) {
  const std::string& s = self.str();
  if (name == "split" || name == "rsplit") {
    a.check(name, 2, {"sep", "maxsplit"});
    auto sep = optional_string(a, 0, "sep", name);
    if (sep && sep->empty()) failure("{}(): empty separator", name);
    int64_t maxsplit = int_arg(a, 1, "maxsplit", name, -1);
    if (name == "rsplit" && maxsplit >= 0) failure("rsplit() with maxsplit is not supported");
    Json out = Json::array();
    for (std::string& part : py_split(s, sep, maxsplit)) out.push_back(std::move(part));
    return Value::from(std::move(out));
  }
  if (name == "strip" || name == "lstrip" || name == "rstrip") {
    a.check(name, 1, {"chars"});
    return Value::string(
        py_strip(s, optional_string(a, 0, "chars", name), name != "rstrip", name != "lstrip"));
  }
  if (name == "startswith") return Value::from(affix_match(self, a, true));
  if (name == "endswith") return Value::from(affix_match(self, a, false));
  if (name == "upper" || name == "lower" || name == "title" || name == "capitalize") {
    a.check(name, 0, {});
    return Value::string(name == "upper"   ? py_upper(s)
                         : name == "lower" ? py_lower(s)
                         : name == "title" ? py_title(s)
                                           : py_capitalize(s));
  }
  if (name == "replace") {
    a.check(name, 3, {"count"});
    return Value::string(py_replace(s, string_arg(a, 0, "old", name), string_arg(a, 1, "new", name),
                                    int_arg(a, 2, "count", name, -1)));
  }
  if (name == "find" || name == "count") {
    a.check(name, 1, {});
    const std::string& sub = string_arg(a, 0, "sub", name);
    if (name == "find") {
      size_t at = s.find(sub);
      return Value::from(at == std::string::npos ? int64_t(-1) : int64_t(char_length(s.substr(0, at))));
    }
    if (sub.empty()) return Value::from(int64_t(char_length(s)) + 1);
    int64_t n = 0;
    for (size_t at = s.find(sub); at != std::string::npos; at = s.find(sub, at + sub.size())) ++n;
    return Value::from(n);
  }
  if (name == "join") {
    a.check(name, 1, {});
    const Value* items = a.get(0, "iterable");
    if (!items) failure("join() needs one argument");
    std::string out;
    bool first = true;
    for (const Value& v : iterate(*items)) {
      if (!v.is_string()) failure("join() items must be strings, got {}", type_name(v));
      out += (first ? "" : s) + v.str();
      first = false;
    }
    return Value::string(std::move(out));
  }
  if (name == "isdigit" || name == "isspace" || name == "isalpha") {
    a.check(name, 0, {});
    if (s.empty()) return Value::from(false);
    for (char c : s) {
      unsigned char u = static_cast<unsigned char>(c);
      bool ok = name == "isdigit" ? std::isdigit(u) : name == "isspace" ? std::isspace(u) : std::isalpha(u);
      if (!ok) return Value::from(false);
    }
    return Value::from(true);
  }
  failure("unknown string method {}", name);
}

Value mapping_method(const Value& self, std::string_view name, CallArgs& a) {
  const Json& j = self.json();
  if (name == "get") {
    a.check("get", 2, {});
    const Value* key = a.get(0, "");
    if (!key) failure("get() needs a key");
    Value found = get_item(self, *key);
    if (!key->is_string() || !j.contains(key->str())) {
      const Value* dflt = a.get(1, "");
      return dflt ? *dflt : Value::from(nullptr);
    }
    return found;
  }
  a.check(name, 0, {});
  Json out = Json::array();
  for (const auto& [k, v] : j.items()) {
    if (name == "keys") {
      out.push_back(k);
    } else if (name == "values") {
      out.push_back(v);
    } else {
      out.push_back(Json::array({k, v}));
    }
  }
  return Value::from(std::move(out));
}

bool is_string_method(std::string_view n) {
  static constexpr std::string_view kNames[] = {
      "split", "rsplit",     "strip",   "lstrip", "rstrip", "startswith", "endswith", "upper",   "lower",
      "title", "capitalize", "replace", "find",   "count",  "join",       "isdigit",  "isspace", "isalpha"};
  return std::find(std::begin(kNames), std::end(kNames), n) != std::end(kNames);
}

Value range_fn(CallArgs& a) {
  a.check("range", 3, {});
  if (a.positional.empty()) failure("range() needs at least one argument");
  for (const Value& v : a.positional)
    if (!v.is_int()) failure("range() arguments must be integers, got {}", type_name(v));
  int64_t start = 0, stop, step = 1;
  if (a.positional.size() == 1) {
    stop = a.positional[0].json().get<int64_t>();
  } else {
    start = a.positional[0].json().get<int64_t>();
    stop = a.positional[1].json().get<int64_t>();
    if (a.positional.size() == 3) step = a.positional[2].json().get<int64_t>();
  }
  if (step == 0) failure("range() step must not be zero");
  Json out = Json::array();
  for (int64_t i = start; step > 0 ? i < stop : i > stop; i += step) {
    if (int64_t(out.size()) >= kMaxRangeLength) failure("range() longer than {} items", kMaxRangeLength);
    out.push_back(i);
    if ((step > 0 && i > INT64_MAX - step) || (step < 0 && i < INT64_MIN - step)) break;
  }
  return Value::from(std::move(out));
}

Value namespace_fn(CallArgs& a) {
  if (a.positional.size() > 1) failure("namespace() takes at most 1 positional argument");
  auto ns = std::make_shared<Namespace>();
  if (const Value* init = a.get(0, "")) {
    if (!init->is_mapping())
      failure("namespace() positional argument must be a mapping, got {}", type_name(*init));
    for (const auto& [k, v] : init->json().items()) ns->set(k, init->element(v));
  }
  for (auto& [k, v] : a.keyword) ns->set(k, v);
  return Value::of(std::move(ns));
}

Value strftime_now_fn(CallArgs& a) {
  a.check("strftime_now", 1, {});
  const std::string& format = string_arg(a, 0, "format", "strftime_now");
  std::time_t now = std::time(nullptr);
  std::tm local{};
  localtime_r(&now, &local);
  char buf[512];
  size_t n = std::strftime(buf, sizeof buf, format.c_str(), &local);
  if (n == 0 && !format.empty()) failure("strftime_now(): format '{}' gives no text or is too long", format);
  return Value::string(std::string(buf, n));
}

}  // namespace

Value method_of(const Value& self, std::string_view name) {
  if (self.is_string() && is_string_method(name)) {
    std::string n(name);
    return Value::function("str." + n, [self, n](CallArgs& a) { return string_method(self, n, a); });
  }
  if (self.is_mapping() && (name == "get" || name == "items" || name == "keys" || name == "values")) {
    std::string n(name);
    return Value::function("dict." + n, [self, n](CallArgs& a) { return mapping_method(self, n, a); });
  }
  return Value();
}

Value global_function(std::string_view name) {
  if (name == "range") return Value::function("range", range_fn);
  if (name == "namespace") return Value::function("namespace", namespace_fn);
  if (name == "strftime_now") return Value::function("strftime_now", strftime_now_fn);
  if (name == "dict") {
    return Value::function("dict", [](CallArgs& a) {
      if (!a.positional.empty()) failure("dict() takes keyword arguments only");
      Json out = Json::object();
      for (auto& [k, v] : a.keyword) out[k] = to_data(v);
      return Value::from(std::move(out));
    });
  }
  if (name == "raise_exception") {
    return Value::function("raise_exception", [](CallArgs& a) -> Value {
      const Value* msg = a.get(0, "message");
      failure("raise_exception: {}", msg ? to_str(*msg) : std::string("(no message)"));
    });
  }
  return Value();
}

namespace {

const std::string_view kTests[] = {
    "defined", "undefined", "none",     "boolean",  "true",        "false",  "integer", "float", "number",
    "string",  "mapping",   "iterable", "sequence", "callable",    "sameas", "equalto", "eq",    "==",
    "ne",      "!=",        "lt",       "<",        "le",          "<=",     "gt",      ">",     "ge",
    ">=",      "in",        "odd",      "even",     "divisibleby", "lower",  "upper"};

}  // namespace

bool is_known_test(std::string_view name) {
  return std::find(std::begin(kTests), std::end(kTests), name) != std::end(kTests);
}

bool apply_test(std::string_view name, const Value& v, CallArgs& a) {
  auto other = [&]() -> const Value& {
    a.check(name, 1, {});
    const Value* o = a.get(0, "");
    if (!o) failure("test '{}' needs an argument", name);
    return *o;
  };
  if (name == "defined") return !v.is_undefined();
  if (name == "undefined") return v.is_undefined();
  if (name == "none") return v.is_none();
  if (name == "boolean") return v.is_bool();
  if (name == "true") return v.is_bool() && v.json().get<bool>();
  if (name == "false") return v.is_bool() && !v.json().get<bool>();
  if (name == "integer") return v.is_int();
  if (name == "float") return v.is_number() && !v.is_int();
  if (name == "number") return v.is_number() || v.is_bool();
  if (name == "string") return v.is_string();
  if (name == "mapping") return v.is_mapping();
  // Python: anything iter() accepts, Jinja's undefined included.
  if (name == "iterable") return v.is_undefined() || v.is_string() || v.is_list() || v.is_mapping();
  if (name == "sequence") return v.is_string() || v.is_list() || v.is_mapping();
  if (name == "callable") return v.is_function();
  if (name == "sameas" || name == "equalto" || name == "eq" || name == "==") return equal(v, other());
  if (name == "ne" || name == "!=") return !equal(v, other());
  if (name == "lt" || name == "<") return compare(v, other()) < 0;
  if (name == "le" || name == "<=") return compare(v, other()) <= 0;
  if (name == "gt" || name == ">") return compare(v, other()) > 0;
  if (name == "ge" || name == ">=") return compare(v, other()) >= 0;
  if (name == "in") return contains(other(), v);
  if (name == "odd" || name == "even" || name == "divisibleby") {
    if (!v.is_int()) failure("test '{}' needs an integer, got {}", name, type_name(v));
    int64_t x = v.json().get<int64_t>();
    if (name == "odd") return x % 2 != 0;
    if (name == "even") return x % 2 == 0;
    const Value& d = other();
    if (!d.is_int() || d.json().get<int64_t>() == 0) failure("divisibleby needs a non-zero integer");
    return x % d.json().get<int64_t>() == 0;
  }
  if (name == "lower" || name == "upper") {
    std::string s = to_str(v);
    return s == (name == "lower" ? py_lower(s) : py_upper(s));
  }
  failure("unknown test '{}'", name);
}

}  // namespace r1::jinja
