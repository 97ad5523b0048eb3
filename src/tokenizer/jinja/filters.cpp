// Filters: `value | name(args)`, with Jinja2's argument names and defaults (tojson as transformers defines
// it).
#include <algorithm>
#include <cmath>

#include "tokenizer/jinja/builtins.h"
#include "tokenizer/jinja/operators.h"
#include "tokenizer/jinja/text.h"

namespace r1::jinja {

namespace {

const std::string_view kFilters[] = {
    "abs",    "capitalize", "count",   "d",       "default", "first",  "float",      "indent",
    "int",    "items",      "join",    "last",    "length",  "list",   "lower",      "map",
    "reject", "rejectattr", "replace", "reverse", "safe",    "select", "selectattr", "sort",
    "string", "title",      "tojson",  "trim",    "unique",  "upper",  "wordcount"};

bool flag(const CallArgs& a, size_t i, std::string_view name, bool dflt) {
  const Value* v = a.get(i, name);
  return v ? truthy(*v) : dflt;
}

// Jinja's attribute paths: "function.name" or "0" walk mappings and lists item by item.
Value attribute_path(const Value& v, const std::string& path) {
  Value cur = v;
  size_t start = 0;
  while (start <= path.size()) {
    size_t dot = path.find('.', start);
    std::string part = path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    bool numeric =
        !part.empty() && std::all_of(part.begin(), part.end(), [](char c) { return c >= '0' && c <= '9'; });
    cur = numeric && cur.is_list() ? get_item(cur, Value::from(std::stoll(part)))
                                   : get_item(cur, Value::string(part));
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  return cur;
}

Value list_of(const std::vector<Value>& items) {
  Json out = Json::array();
  for (const Value& v : items) out.push_back(to_data(v));
  return Value::from(std::move(out));
}

// select / reject / selectattr / rejectattr: keep the items whose test (or truthiness) matches.
Value select_items(std::string_view fn, const Value& operand, CallArgs& a, bool by_attr, bool keep) {
  size_t first = 0;
  std::string attr;
  if (by_attr) {
    if (a.positional.empty() || !a.positional[0].is_string()) failure("{} needs an attribute name", fn);
    attr = a.positional[0].str();
    first = 1;
  }
  std::optional<std::string> test;
  if (a.positional.size() > first) {
    if (!a.positional[first].is_string()) failure("{} needs a test name (a string)", fn);
    test = a.positional[first].str();
    if (!is_known_test(*test)) failure("{}: unsupported test '{}'", fn, *test);
  }
  CallArgs test_args;
  for (size_t i = first + 1; i < a.positional.size(); ++i) test_args.positional.push_back(a.positional[i]);
  std::vector<Value> out;
  for (const Value& item : iterate(operand)) {
    Value subject = by_attr ? attribute_path(item, attr) : item;
    bool ok = test ? apply_test(*test, subject, test_args) : truthy(subject);
    if (ok == keep) out.push_back(item);
  }
  return list_of(out);
}

Value map_items(const Value& operand, CallArgs& a) {
  std::vector<Value> out;
  if (const Value* attr = a.get(size_t(-1), "attribute")) {
    if (!attr->is_string()) failure("map(attribute=...) must be a string");
    const Value* dflt = a.get(size_t(-1), "default");
    for (const Value& item : iterate(operand)) {
      Value v = attribute_path(item, attr->str());
      out.push_back(v.is_undefined() && dflt ? *dflt : v);
    }
    return list_of(out);
  }
  if (a.positional.empty() || !a.positional[0].is_string())
    failure("map needs a filter name or attribute=...");
  std::string filter = a.positional[0].str();
  if (!is_known_filter(filter) || filter == "map") failure("map: unsupported filter '{}'", filter);
  for (const Value& item : iterate(operand)) {
    CallArgs rest;
    rest.positional.assign(a.positional.begin() + 1, a.positional.end());
    rest.keyword = a.keyword;
    out.push_back(apply_filter(filter, item, rest));
  }
  return list_of(out);
}

Value sort_items(const Value& operand, CallArgs& a) {
  a.check("sort", 3, {"reverse", "case_sensitive", "attribute"});
  bool reverse = flag(a, 0, "reverse", false), case_sensitive = flag(a, 1, "case_sensitive", false);
  const Value* attr = a.get(2, "attribute");
  std::vector<Value> items = iterate(operand);
  auto key = [&](const Value& v) {
    Value k = attr ? attribute_path(v, to_str(*attr)) : v;
    return (!case_sensitive && k.is_string()) ? Value::string(py_lower(k.str())) : k;
  };
  std::vector<std::pair<Value, Value>> keyed;
  for (const Value& v : items) keyed.emplace_back(key(v), v);
  std::stable_sort(keyed.begin(), keyed.end(), [&](const auto& x, const auto& y) {
    return reverse ? compare(x.first, y.first) > 0 : compare(x.first, y.first) < 0;
  });
  items.clear();
  for (auto& [k, v] : keyed) items.push_back(v);
  return list_of(items);
}

Value tojson(const Value& operand, CallArgs& a) {
  a.check("tojson", 4, {"ensure_ascii", "indent", "separators", "sort_keys"});
  JsonFormat f;
  f.ensure_ascii = flag(a, 0, "ensure_ascii", false);
  if (const Value* indent = a.get(1, "indent"); indent && !indent->is_none()) {
    if (!indent->is_int() || indent->json().get<int64_t>() < 0 || indent->json().get<int64_t>() > 64)
      failure("tojson indent must be an integer from 0 to 64");
    f.indent = int(indent->json().get<int64_t>());
  }
  if (const Value* sep = a.get(2, "separators"); sep && !sep->is_none()) {
    std::vector<Value> parts = iterate(*sep);
    if (parts.size() != 2 || !parts[0].is_string() || !parts[1].is_string())
      failure("tojson separators must be two strings");
    f.separators = std::make_pair(parts[0].str(), parts[1].str());
  }
  f.sort_keys = flag(a, 3, "sort_keys", false);
  return Value::string(to_json_text(operand, f));
}

Value indent(const Value& operand, CallArgs& a) {
  a.check("indent", 3, {"width", "first", "blank"});
  const Value* w = a.get(0, "width");
  std::string pad =
      !w ? "    "
      : w->is_string()
          ? w->str()
          : std::string(size_t(std::clamp<int64_t>(w->is_int() ? w->json().get<int64_t>() : 4, 0, 256)), ' ');
  bool first = flag(a, 1, "first", false), blank = flag(a, 2, "blank", false);
  std::string s = to_str(operand), out;
  size_t start = 0, line = 0;
  for (;;) {
    size_t nl = s.find('\n', start);
    std::string piece = s.substr(start, nl == std::string::npos ? std::string::npos : nl - start);
    if ((line > 0 || first) && (blank || !piece.empty())) out += pad;
    out += piece;
    if (nl == std::string::npos) break;
    out += '\n';
    start = nl + 1;
    ++line;
  }
  return Value::string(std::move(out));
}

}  // namespace

bool is_known_filter(std::string_view name) {
  return std::find(std::begin(kFilters), std::end(kFilters), name) != std::end(kFilters);
}

Value apply_filter(std::string_view name, const Value& v, CallArgs& a) {
  if (name == "safe") return v;
  if (name == "tojson") return tojson(v, a);
  if (name == "string") return Value::string(to_str(v));
  if (name == "length" || name == "count") {
    if (v.is_undefined()) return Value::from(0);
    if (v.is_string()) return Value::from(int64_t(char_length(v.str())));
    if (v.is_list() || v.is_mapping()) return Value::from(int64_t(v.json().size()));
    if (v.is_namespace()) return Value::from(int64_t(v.ns().attrs.size()));
    failure("{} value has no length", type_name(v));
  }
  if (name == "trim") {
    a.check("trim", 1, {"chars"});
    const Value* chars = a.get(0, "chars");
    return Value::string(py_strip(
        to_str(v), chars && chars->is_string() ? std::optional(chars->str()) : std::nullopt, true, true));
  }
  if (name == "upper") return Value::string(py_upper(to_str(v)));
  if (name == "lower") return Value::string(py_lower(to_str(v)));
  if (name == "title") return Value::string(py_title(to_str(v)));
  if (name == "capitalize") return Value::string(py_capitalize(to_str(v)));
  if (name == "replace") {
    a.check("replace", 3, {"old", "new", "count"});
    const Value *o = a.get(0, "old"), *n = a.get(1, "new"), *c = a.get(2, "count");
    if (!o || !n) failure("replace needs the old and new text");
    if (c && !c->is_none() && !c->is_int()) failure("replace count must be an integer");
    return Value::string(
        py_replace(to_str(v), to_str(*o), to_str(*n), c && c->is_int() ? c->json().get<int64_t>() : -1));
  }
  if (name == "join") {
    a.check("join", 2, {"d", "attribute"});
    const Value* sep = a.get(0, "d");
    const Value* attr = a.get(1, "attribute");
    std::string out, d = sep ? to_str(*sep) : "";
    bool first = true;
    for (const Value& item : iterate(v)) {
      out += (first ? "" : d) + to_str(attr ? attribute_path(item, to_str(*attr)) : item);
      first = false;
    }
    return Value::string(std::move(out));
  }
  if (name == "default" || name == "d") {
    a.check(name, 2, {"default_value", "boolean"});
    const Value* dflt = a.get(0, "default_value");
    bool use = flag(a, 1, "boolean", false) ? !truthy(v) : v.is_undefined();
    return use ? (dflt ? *dflt : Value::string("")) : v;
  }
  if (name == "first" || name == "last") {
    std::vector<Value> items = iterate(v);
    if (items.empty()) return Value();
    return name == "first" ? items.front() : items.back();
  }
  if (name == "items") {
    if (v.is_undefined()) return Value::from(Json::array());
    if (!v.is_mapping()) failure("items filter needs a mapping, got {}", type_name(v));
    return method_of(v, "items").fn().call(a);
  }
  if (name == "list") return list_of(iterate(v));
  if (name == "reverse") {
    if (v.is_string()) return slice(v, std::nullopt, std::nullopt, Value::from(-1));
    std::vector<Value> items = iterate(v);
    std::reverse(items.begin(), items.end());
    return list_of(items);
  }
  if (name == "unique") {
    std::vector<Value> out;
    for (const Value& item : iterate(v))
      if (std::none_of(out.begin(), out.end(), [&](const Value& o) { return equal(o, item); }))
        out.push_back(item);
    return list_of(out);
  }
  if (name == "sort") return sort_items(v, a);
  if (name == "select") return select_items(name, v, a, false, true);
  if (name == "reject") return select_items(name, v, a, false, false);
  if (name == "selectattr") return select_items(name, v, a, true, true);
  if (name == "rejectattr") return select_items(name, v, a, true, false);
  if (name == "map") return map_items(v, a);
  if (name == "indent") return indent(v, a);
  if (name == "wordcount") return Value::from(int64_t(py_split(to_str(v), std::nullopt, -1).size()));
  if (name == "int" || name == "float") {
    a.check(name, 1, {"default"});
    const Value* dflt = a.get(0, "default");
    if (name == "int" && (v.is_int() || v.is_bool()))
      return Value::from(v.is_bool() ? int64_t(v.json().get<bool>()) : v.json().get<int64_t>());
    if (v.is_number()) {
      double d = v.json().get<double>();
      if (name == "float") return Value::from(d);
      if (std::isfinite(d) && std::fabs(d) < 9.2e18) return Value::from(int64_t(d));
    }
    if (v.is_string()) {
      std::string s = py_strip(v.str(), std::nullopt, true, true);
      try {
        size_t used = 0;
        if (name == "int") {
          int64_t x = std::stoll(s, &used, 10);
          if (used == s.size()) return Value::from(x);
        } else {
          double x = std::stod(s, &used);
          if (used == s.size()) return Value::from(x);
        }
      } catch (const std::exception&) {
      }
    }
    if (dflt) return *dflt;
    return name == "int" ? Value::from(0) : Value::from(0.0);
  }
  if (name == "abs") {
    if (v.is_int()) return unary_arith(v.json().get<int64_t>() < 0 ? "-" : "+", v);
    if (v.is_number()) return Value::from(std::fabs(v.json().get<double>()));
    failure("abs needs a number, got {}", type_name(v));
  }
  failure("unknown filter '{}'", name);
}

}  // namespace r1::jinja
