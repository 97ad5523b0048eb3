#pragma once
// Jinja's operators with Python's semantics: attribute and item access, slicing, arithmetic, comparison and
// membership. Type errors throw jinja::Failure naming the operator and the operand types.
#include <optional>
#include <string_view>

#include "tokenizer/jinja/value.h"

namespace r1::jinja {

// obj.name: a namespace attribute, a method of a string or mapping (Python looks attributes up first), else
// the mapping's item; undefined when there is none.
Value get_attr(const Value& obj, const std::string& name);
// obj[key]: the item first, then the attribute (Python's order for subscripts); undefined when missing.
Value get_item(const Value& obj, const Value& key);
// obj[start:stop:step] of a list or string, as Python slices (negative indices and steps included).
Value slice(const Value& obj, const std::optional<Value>& start, const std::optional<Value>& stop,
            const std::optional<Value>& step);
Value unary_arith(std::string_view op, const Value& v);
// + - * / // % ** and ~.
Value binary_op(std::string_view op, const Value& a, const Value& b);
// == != < > <= >= in, "not in".
bool compare_op(std::string_view op, const Value& a, const Value& b);
// Python's `item in container`.
bool contains(const Value& container, const Value& item);

}  // namespace r1::jinja
