#pragma once
// Runtime values of the template interpreter. Data is JSON (shared, never copied when a template reads
// `messages[3].content`: a value is a view into a shared document); beside it are Jinja's undefined, the
// mutable namespace() object, and callables (macros, methods, global functions).
#include <fmt/format.h>

#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tokenizer/jinja/ast.h"

namespace r1::jinja {

// An evaluation error that does not know where in the template it happened; the evaluator catches it and
// throws r1::Error with the origin and line:column of the expression being evaluated.
class Failure : public std::runtime_error {
 public:
  explicit Failure(const std::string& what) : std::runtime_error(what) {}
};

template <typename... Args>
[[noreturn]] void failure(fmt::format_string<Args...> f, Args&&... args) {
  throw Failure(fmt::format(f, std::forward<Args>(args)...));
}

class Value;
struct Namespace;
struct Function;
struct CallArgs;

class Value {
 public:
  enum class Kind { Undefined, Data, Namespace, Function };

  Value() = default;  // undefined
  static Value from(Json j);
  // A value for `inside`, a part of the shared document `doc`.
  static Value view(std::shared_ptr<const Json> doc, const Json& inside);
  static Value string(std::string s) { return from(Json(std::move(s))); }
  static Value of(std::shared_ptr<Namespace> ns);
  static Value function(std::string name, std::function<Value(CallArgs&)> fn);

  Kind kind() const { return kind_; }
  bool is_undefined() const { return kind_ == Kind::Undefined; }
  bool is_data() const { return kind_ == Kind::Data; }
  bool is_namespace() const { return kind_ == Kind::Namespace; }
  bool is_function() const { return kind_ == Kind::Function; }
  bool is_none() const { return is_data() && data_->is_null(); }
  bool is_string() const { return is_data() && data_->is_string(); }
  bool is_list() const { return is_data() && data_->is_array(); }
  bool is_mapping() const { return is_data() && data_->is_object(); }
  bool is_bool() const { return is_data() && data_->is_boolean(); }
  bool is_int() const { return is_data() && data_->is_number_integer(); }
  bool is_number() const { return is_data() && data_->is_number(); }

  const Json& json() const;                                                        // Data only
  const std::string& str() const { return json().get_ref<const std::string&>(); }  // strings only
  // A value for `inside`, which must be part of this value's document: shares it instead of copying.
  Value element(const Json& inside) const;
  Namespace& ns() const;
  const Function& fn() const;

 private:
  Kind kind_ = Kind::Undefined;
  std::shared_ptr<const Json> owner_;
  const Json* data_ = nullptr;
  std::shared_ptr<Namespace> ns_;
  std::shared_ptr<const Function> fn_;
};

// The attributes of a namespace() object (and of the `loop` variable), in insertion order.
struct Namespace {
  std::vector<std::pair<std::string, Value>> attrs;
  Value get(std::string_view name) const;
  void set(const std::string& name, Value v);
};

// Arguments of a call: positional ones, then keyword ones.
struct CallArgs {
  std::vector<Value> positional;
  std::vector<std::pair<std::string, Value>> keyword;
  // The argument that is the `index`-th positional one or is passed as `name`; null when not given.
  const Value* get(size_t index, std::string_view name) const;
  // Rejects more positional arguments than `max_positional` and keywords not in `names`, naming `fn`.
  void check(std::string_view fn, size_t max_positional, std::initializer_list<std::string_view> names) const;
};

struct Function {
  std::string name;
  std::function<Value(CallArgs&)> call;
};

// "undefined", "none", "boolean", "integer", "float", "string", "list", "mapping", "namespace", "function".
std::string type_name(const Value& v);
// Python truthiness: undefined, none, false, 0, "" and empty containers are false.
bool truthy(const Value& v);
// Python's str(): what {{ v }} prints (undefined prints nothing, none prints "None", lists print their repr).
std::string to_str(const Value& v);

struct JsonFormat {
  std::optional<int> indent;
  std::optional<std::pair<std::string, std::string>> separators;  // item, key
  bool sort_keys = false;
  bool ensure_ascii = false;
};
// Python's json.dumps with the given options (what transformers' tojson filter calls); undefined becomes
// null.
std::string to_json_text(const Value& v, const JsonFormat& format);

// Python ==, with undefined equal only to undefined.
bool equal(const Value& a, const Value& b);
// Python ordering of numbers (booleans included) and strings; Failure for anything else.
int compare(const Value& a, const Value& b);
// The items a for loop visits: list elements, mapping keys, string characters; nothing for undefined.
std::vector<Value> iterate(const Value& v);
// The JSON form of a value to store in a list or mapping built by the template (undefined becomes null).
Json to_data(const Value& v);

}  // namespace r1::jinja
