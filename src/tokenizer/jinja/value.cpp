#include "tokenizer/jinja/value.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "tokenizer/jinja/text.h"

namespace r1::jinja {

Value Value::from(Json j) {
  Value v;
  v.kind_ = Kind::Data;
  auto owner = std::make_shared<const Json>(std::move(j));
  v.data_ = owner.get();
  v.owner_ = std::move(owner);
  return v;
}

Value Value::view(std::shared_ptr<const Json> doc, const Json& inside) {
  Value v;
  v.kind_ = Kind::Data;
  v.owner_ = std::move(doc);
  v.data_ = &inside;
  return v;
}

Value Value::of(std::shared_ptr<Namespace> ns) {
  Value v;
  v.kind_ = Kind::Namespace;
  v.ns_ = std::move(ns);
  return v;
}

Value Value::function(std::string name, std::function<Value(CallArgs&)> fn) {
  Value v;
  v.kind_ = Kind::Function;
  v.fn_ = std::make_shared<const Function>(Function{std::move(name), std::move(fn)});
  return v;
}

const Json& Value::json() const {
  R1_CHECK(is_data(), "json() of a {} value", type_name(*this));
  return *data_;
}

Value Value::element(const Json& inside) const {
  R1_CHECK(is_data(), "element() of a {} value", type_name(*this));
  Value v;
  v.kind_ = Kind::Data;
  v.owner_ = owner_;
  v.data_ = &inside;
  return v;
}

Namespace& Value::ns() const {
  R1_CHECK(is_namespace(), "ns() of a {} value", type_name(*this));
  return *ns_;
}

const Function& Value::fn() const {
  R1_CHECK(is_function(), "fn() of a {} value", type_name(*this));
  return *fn_;
}

Value Namespace::get(std::string_view name) const {
  for (const auto& [k, v] : attrs)
    if (k == name) return v;
  return Value();
}

namespace {
// True if namespace `target` can be reached from `v` through namespace attributes (`seen` stops repeats).
bool reaches(const Value& v, const Namespace* target, std::vector<const Namespace*>& seen) {
  if (!v.is_namespace()) return false;
  const Namespace* ns = &v.ns();
  if (ns == target) return true;
  for (const Namespace* s : seen)
    if (s == ns) return false;
  seen.push_back(ns);
  for (const auto& [k, a] : ns->attrs)
    if (reaches(a, target, seen)) return true;
  return false;
}
}  // namespace

void Namespace::set(const std::string& name, Value v) {
  // Namespaces are shared by reference; one that contained itself (`{% set ns.a = ns %}`) would be a
  // reference cycle that is never freed. Python's Jinja collects such cycles; we refuse them.
  std::vector<const Namespace*> seen;
  if (reaches(v, this, seen))
    failure("cannot set namespace attribute '{}': the namespace would contain itself", name);
  for (auto& [k, old] : attrs)
    if (k == name) {
      old = std::move(v);
      return;
    }
  attrs.emplace_back(name, std::move(v));
}

const Value* CallArgs::get(size_t index, std::string_view name) const {
  for (const auto& [k, v] : keyword)
    if (k == name) return &v;
  return index < positional.size() ? &positional[index] : nullptr;
}

void CallArgs::check(std::string_view fn, size_t max_positional,
                     std::initializer_list<std::string_view> names) const {
  if (positional.size() > max_positional)
    failure("{}() takes at most {} positional argument(s), got {}", fn, max_positional, positional.size());
  for (const auto& [k, v] : keyword)
    if (std::find(names.begin(), names.end(), k) == names.end())
      failure("{}() got an unexpected keyword argument '{}'", fn, k);
}

std::string type_name(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::Undefined:
      return "undefined";
    case Value::Kind::Namespace:
      return "namespace";
    case Value::Kind::Function:
      return "function";
    case Value::Kind::Data:
      break;
  }
  const Json& j = v.json();
  if (j.is_null()) return "none";
  if (j.is_boolean()) return "boolean";
  if (j.is_number_integer()) return "integer";
  if (j.is_number()) return "float";
  if (j.is_string()) return "string";
  if (j.is_array()) return "list";
  if (j.is_object()) return "mapping";
  return "binary";
}

bool truthy(const Value& v) {
  if (v.is_undefined()) return false;
  if (!v.is_data()) return true;
  const Json& j = v.json();
  if (j.is_null()) return false;
  if (j.is_boolean()) return j.get<bool>();
  if (j.is_number_integer()) return j.get<int64_t>() != 0;
  if (j.is_number()) return j.get<double>() != 0.0;
  if (j.is_string())
    return !j.get_ref<const std::string&>().empty();  // json::empty() is false for any string
  if (j.is_array() || j.is_object()) return !j.empty();
  return true;
}

namespace {

std::string float_text(double d) {
  if (std::isnan(d)) return "nan";
  if (std::isinf(d)) return d > 0 ? "inf" : "-inf";
  return Json(d).dump();  // shortest round-trip form with ".0" on whole numbers, as Python's repr
}

// Python's repr() of a string: single quotes unless the text has a single quote and no double quote.
std::string py_repr(const std::string& s) {
  char q = (s.find('\'') != std::string::npos && s.find('"') == std::string::npos) ? '"' : '\'';
  std::string out(1, q);
  for (char c : s) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c == q) {
          out += '\\';
          out += c;
        } else if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) {
          out += fmt::format("\\x{:02x}", static_cast<unsigned char>(c));
        } else {
          out += c;
        }
    }
  }
  return out + q;
}

std::string py_str(const Json& j, bool nested) {
  switch (j.type()) {
    case Json::value_t::null:
      return "None";
    case Json::value_t::boolean:
      return j.get<bool>() ? "True" : "False";
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned:
      return j.dump();
    case Json::value_t::number_float:
      return float_text(j.get<double>());
    case Json::value_t::string:
      return nested ? py_repr(j.get_ref<const std::string&>()) : j.get<std::string>();
    case Json::value_t::array: {
      std::string out = "[";
      for (size_t i = 0; i < j.size(); ++i) out += (i ? ", " : "") + py_str(j[i], true);
      return out + "]";
    }
    case Json::value_t::object: {
      std::string out = "{";
      bool first = true;
      for (const auto& [k, v] : j.items()) {
        out += (first ? "" : ", ") + py_repr(k) + ": " + py_str(v, true);
        first = false;
      }
      return out + "}";
    }
    default:
      return "<binary>";
  }
}

void dump_json(const Json& j, const JsonFormat& f, int depth, std::string& out);

void dump_container_items(const std::vector<std::pair<std::string, const Json*>>& items, bool is_object,
                          const JsonFormat& f, int depth, std::string& out) {
  std::string item_sep = f.separators ? f.separators->first : (f.indent ? "," : ", ");
  std::string key_sep = f.separators ? f.separators->second : ": ";
  out += is_object ? '{' : '[';
  if (items.empty()) {
    out += is_object ? '}' : ']';
    return;
  }
  auto newline_and_pad = [&](int level) {
    if (!f.indent) return;
    out += '\n';
    out.append(size_t(*f.indent) * size_t(level), ' ');
  };
  for (size_t i = 0; i < items.size(); ++i) {
    if (i) out += item_sep;
    newline_and_pad(depth + 1);
    if (is_object)
      out += Json(items[i].first).dump(-1, ' ', f.ensure_ascii, Json::error_handler_t::replace) + key_sep;
    dump_json(*items[i].second, f, depth + 1, out);
  }
  newline_and_pad(depth);
  out += is_object ? '}' : ']';
}

// Deeper documents than this are refused rather than recursed into (a hostile request could nest thousands).
constexpr int kMaxJsonDepth = 256;

void dump_json(const Json& j, const JsonFormat& f, int depth, std::string& out) {
  if (depth > kMaxJsonDepth) failure("tojson: data nested deeper than {} levels", kMaxJsonDepth);
  if (j.is_array() || j.is_object()) {
    std::vector<std::pair<std::string, const Json*>> items;
    if (j.is_array()) {
      for (const Json& e : j) items.emplace_back(std::string(), &e);
    } else {
      for (const auto& [k, v] : j.items()) items.emplace_back(k, &v);
      if (f.sort_keys)
        std::stable_sort(items.begin(), items.end(),
                         [](const auto& a, const auto& b) { return a.first < b.first; });
    }
    dump_container_items(items, j.is_object(), f, depth, out);
  } else if (j.is_number_float()) {
    double d = j.get<double>();
    out += std::isnan(d) ? "NaN" : std::isinf(d) ? (d > 0 ? "Infinity" : "-Infinity") : float_text(d);
  } else {
    out += j.dump(-1, ' ', f.ensure_ascii, Json::error_handler_t::replace);
  }
}

}  // namespace

std::string to_str(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::Undefined:
      return "";
    case Value::Kind::Namespace:
      return "<Namespace>";
    case Value::Kind::Function:
      return "<function " + v.fn().name + ">";
    case Value::Kind::Data:
      return py_str(v.json(), false);
  }
  return "";
}

std::string to_json_text(const Value& v, const JsonFormat& format) {
  std::string out;
  dump_json(to_data(v), format, 0, out);
  return out;
}

bool equal(const Value& a, const Value& b) {
  if (a.is_undefined() || b.is_undefined()) return a.is_undefined() && b.is_undefined();
  if (a.is_namespace() && b.is_namespace()) return &a.ns() == &b.ns();
  if (a.is_function() && b.is_function()) return &a.fn() == &b.fn();
  if (!a.is_data() || !b.is_data()) return false;
  const Json &x = a.json(), &y = b.json();
  // Python: True == 1 and False == 0.0
  if (x.is_boolean() && y.is_number()) return double(x.get<bool>()) == y.get<double>();
  if (y.is_boolean() && x.is_number()) return double(y.get<bool>()) == x.get<double>();
  return x == y;
}

int compare(const Value& a, const Value& b) {
  auto numeric = [](const Value& v) { return v.is_number() || v.is_bool(); };
  auto as_double = [](const Value& v) {
    return v.is_bool() ? double(v.json().get<bool>()) : v.json().get<double>();
  };
  if (numeric(a) && numeric(b)) {
    if (a.is_int() && b.is_int()) {
      int64_t x = a.json().get<int64_t>(), y = b.json().get<int64_t>();
      return x < y ? -1 : x > y ? 1 : 0;
    }
    double x = as_double(a), y = as_double(b);
    return x < y ? -1 : x > y ? 1 : 0;
  }
  if (a.is_string() && b.is_string()) {
    int c = a.str().compare(b.str());  // UTF-8 byte order is code point order
    return c < 0 ? -1 : c > 0 ? 1 : 0;
  }
  failure("cannot compare {} with {}", type_name(a), type_name(b));
}

std::vector<Value> iterate(const Value& v) {
  std::vector<Value> out;
  if (v.is_undefined()) return out;
  if (v.is_list()) {
    for (const Json& e : v.json()) out.push_back(v.element(e));
  } else if (v.is_mapping()) {
    for (const auto& [k, e] : v.json().items()) out.push_back(Value::string(k));
  } else if (v.is_string()) {
    const std::string& s = v.str();
    std::vector<size_t> off = char_offsets(s);
    for (size_t i = 0; i + 1 < off.size(); ++i)
      out.push_back(Value::string(s.substr(off[i], off[i + 1] - off[i])));
  } else {
    failure("{} value is not iterable", type_name(v));
  }
  return out;
}

Json to_data(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::Undefined:
      return nullptr;
    case Value::Kind::Data:
      return v.json();
    case Value::Kind::Namespace: {
      Json j = Json::object();
      for (const auto& [k, e] : v.ns().attrs) j[k] = to_data(e);
      return j;
    }
    case Value::Kind::Function:
      failure("a function ({}) cannot be stored as data", v.fn().name);
  }
  return nullptr;
}

}  // namespace r1::jinja
