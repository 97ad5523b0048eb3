#pragma once
// The pieces json_schema.cpp assembles: whitespace, strings (length, pattern, format), integers and numbers
// with ranges, objects with required/optional properties in order, arrays with item counts, and the
// any-JSON-value rules. Each either returns an expression or fails naming the keyword and schema path.
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "structured/grammar.h"
#include "structured/json_schema.h"

namespace r1::structured {

struct ObjectProperty {
  std::string name;
  uint32_t value_rule;
  bool required;
};

class JsonParts {
 public:
  JsonParts(Grammar& g, const JsonGrammarOptions& opts) : g_(g), opts_(opts) {}

  ExprPtr ws() const;
  uint32_t any_value();
  uint32_t string_rule();
  ExprPtr string(const nlohmann::ordered_json& s, const std::string& path);
  ExprPtr integer(const nlohmann::ordered_json& s, const std::string& path);
  ExprPtr number(const nlohmann::ordered_json& s, const std::string& path);
  ExprPtr object(const std::vector<ObjectProperty>& props, std::optional<uint32_t> additional,
                 const std::string& path);
  ExprPtr array(const std::vector<uint32_t>& prefix, std::optional<uint32_t> items, uint64_t min,
                std::optional<uint64_t> max, const std::string& path);
  // A non-negative integer keyword (minItems, maxLength...), `def` when absent.
  uint64_t count(const nlohmann::ordered_json& s, const char* key, const std::string& path,
                 uint64_t def) const;

 private:
  ExprPtr string_char() const;
  ExprPtr key_not_in(const std::vector<std::string>& names);

  Grammar& g_;
  JsonGrammarOptions opts_;
  std::optional<uint32_t> any_, string_;
};

// Integers in [lo, hi] (either side open) as decimal text without leading zeros.
ExprPtr integer_range(std::optional<int64_t> lo, std::optional<int64_t> hi);

}  // namespace r1::structured
