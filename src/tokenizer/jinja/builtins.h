#pragma once
// Filters (`x | name(args)`), tests (`x is name(args)`), the methods of strings and mappings (`s.split(",")`)
// and the global functions (`range`, `namespace`, `raise_exception`, `strftime_now`) that templates may use.
// Each follows Python Jinja2 as transformers configures it (its own `tojson`, loop controls on).
#include <string_view>

#include "tokenizer/jinja/value.h"

namespace r1::jinja {

bool is_known_filter(std::string_view name);
bool is_known_test(std::string_view name);

// Throw jinja::Failure on a wrong argument or operand type.
Value apply_filter(std::string_view name, const Value& operand, CallArgs& args);
bool apply_test(std::string_view name, const Value& operand, CallArgs& args);
// The bound method `name` of a string or mapping value, or undefined when it has none.
Value method_of(const Value& self, std::string_view name);
// The global functions, by name; undefined for any other name.
Value global_function(std::string_view name);

}  // namespace r1::jinja
