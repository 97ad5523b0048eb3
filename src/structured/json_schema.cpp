#include "structured/json_schema.h"

#include <cmath>
#include <map>
#include <set>

#include "core/error.h"
#include "structured/json_schema_parts.h"
#include "structured/regex.h"

namespace r1::structured {

namespace {

using json = nlohmann::ordered_json;

const std::set<std::string> kAnnotations = {"title",    "description", "$schema",    "$id",      "$comment",
                                            "examples", "default",     "deprecated", "readOnly", "writeOnly",
                                            "$defs",    "definitions", "$anchor"};

class SchemaCompiler {
 public:
  SchemaCompiler(const json& root, const JsonGrammarOptions& opts) : root_doc_(root), parts_(g_, opts) {}

  Grammar run() {
    const uint32_t root = g_.rule("root");
    const uint32_t value = schema_rule(root_doc_, "");
    g_.define(root, seq({parts_.ws(), ref(value)}));
    g_.set_root(root);
    return std::move(g_);
  }

 private:
  [[noreturn]] void error(const std::string& path, const std::string& what) const {
    fail("JSON schema at {}: {}", path.empty() ? "/" : path, what);
  }

  // The rule matching one schema; identical schemas share a rule.
  uint32_t schema_rule(const json& s, const std::string& path) {
    const std::string key = s.dump();
    if (auto it = memo_.find(key); it != memo_.end()) return it->second;
    const uint32_t r = g_.fresh_rule(rule_name(path));
    memo_.emplace(key, r);
    if (++depth_ > kMaxDepth) error(path, "schemas nested deeper than " + std::to_string(kMaxDepth));
    g_.define(r, schema_expr(s, path));
    --depth_;
    return r;
  }

  static std::string rule_name(const std::string& path) {
    std::string n;
    for (char c : path) n += std::isalnum(static_cast<unsigned char>(c)) ? c : '-';
    while (!n.empty() && n.front() == '-') n.erase(n.begin());
    return n.empty() ? "value" : n.substr(0, 48);
  }

  ExprPtr schema_expr(const json& s, const std::string& path) {
    if (s.is_boolean()) {
      if (s.get<bool>()) return ref(parts_.any_value());
      error(path, "schema false allows no value");
    }
    if (!s.is_object()) error(path, "a schema must be an object or a boolean");
    for (auto& [k, v] : s.items()) {
      static const std::set<std::string> known = {
          "type",    "enum",        "const",    "properties", "required",         "additionalProperties",
          "items",   "prefixItems", "minItems", "maxItems",   "minLength",        "maxLength",
          "pattern", "format",      "minimum",  "maximum",    "exclusiveMinimum", "exclusiveMaximum",
          "anyOf",   "oneOf",       "allOf",    "$ref",       "uniqueItems"};
      if (!known.count(k) && !kAnnotations.count(k)) error(path, "keyword '" + k + "' is not supported");
    }
    if (s.contains("uniqueItems") && s["uniqueItems"] != false)
      error(path, "keyword 'uniqueItems' is not supported");
    if (s.contains("$ref")) {
      if (s.size() > 1)
        for (auto& [k, v] : s.items())
          if (k != "$ref" && !kAnnotations.count(k))
            error(path, "keyword '" + k + "' beside '$ref' is not supported");
      return ref(resolve_ref(s["$ref"], path));
    }
    if (s.contains("const")) return literal(s["const"].dump());
    if (s.contains("enum")) {
      if (!s["enum"].is_array() || s["enum"].empty()) error(path + "/enum", "must be a non-empty array");
      std::vector<ExprPtr> alts;
      for (const json& v : s["enum"]) alts.push_back(literal(v.dump()));
      return alt(std::move(alts));
    }
    for (const char* k : {"anyOf", "oneOf"})
      if (s.contains(k)) {
        if (!s[k].is_array() || s[k].empty()) error(path + "/" + k, "must be a non-empty array");
        // oneOf is enforced as anyOf: branches that overlap could let through a value matching two of them.
        std::vector<ExprPtr> alts;
        for (size_t i = 0; i < s[k].size(); ++i)
          alts.push_back(ref(schema_rule(merged(s, k, s[k][i]), path + "/" + k + "/" + std::to_string(i))));
        return alt(std::move(alts));
      }
    if (s.contains("allOf")) {
      if (!s["allOf"].is_array() || s["allOf"].size() != 1)
        error(path + "/allOf", "keyword 'allOf' is supported with exactly one schema");
      return ref(schema_rule(merged(s, "allOf", s["allOf"][0]), path + "/allOf/0"));
    }
    json type = s.value("type", json());
    if (type.is_null()) {
      if (s.contains("properties") || s.contains("additionalProperties") || s.contains("required"))
        type = "object";
      else if (s.contains("items") || s.contains("prefixItems"))
        type = "array";
      else if (s.contains("pattern") || s.contains("format") || s.contains("minLength") ||
               s.contains("maxLength"))
        type = "string";
      else if (s.contains("minimum") || s.contains("maximum") || s.contains("exclusiveMinimum") ||
               s.contains("exclusiveMaximum"))
        type = "number";
      else
        return ref(parts_.any_value());
    }
    if (type.is_array()) {
      std::vector<ExprPtr> alts;
      for (const json& t : type) alts.push_back(typed(s, t, path));
      if (alts.empty()) error(path + "/type", "empty type list");
      return alt(std::move(alts));
    }
    return typed(s, type, path);
  }

  // The schema without `k`, with `sub`'s keywords added (anyOf branches inherit their parent's other
  // keywords).
  static json merged(const json& s, const char* k, const json& sub) {
    json out = s;
    out.erase(k);
    bool only_annotations = true;
    for (auto& [key, v] : out.items()) only_annotations = only_annotations && kAnnotations.count(key);
    if (only_annotations) return sub;
    if (!sub.is_object()) return sub;
    for (auto& [key, v] : sub.items()) out[key] = v;
    return out;
  }

  ExprPtr typed(const json& s, const json& type, const std::string& path) {
    if (!type.is_string()) error(path + "/type", "must be a string or an array of strings");
    const std::string t = type.get<std::string>();
    if (t == "string") return parts_.string(s, path);
    if (t == "integer") return parts_.integer(s, path);
    if (t == "number") return parts_.number(s, path);
    if (t == "boolean") return alt({literal("true"), literal("false")});
    if (t == "null") return literal("null");
    if (t == "object") return object(s, path);
    if (t == "array") return array(s, path);
    error(path + "/type", "unknown type '" + t + "'");
  }

  uint32_t resolve_ref(const json& r, const std::string& path) {
    if (!r.is_string()) error(path + "/$ref", "must be a string");
    const std::string target = r.get<std::string>();
    if (auto it = refs_.find(target); it != refs_.end()) return it->second;
    if (target.empty() || target[0] != '#')
      error(path + "/$ref", "only local references (#/...) are supported, not '" + target + "'");
    const json* node = &root_doc_;
    if (target != "#") {
      try {
        node = &root_doc_.at(json::json_pointer(target.substr(1)));
      } catch (const json::exception&) {
        error(path + "/$ref", "'" + target + "' does not resolve in the schema");
      }
    }
    // The rule exists before its body so recursive schemas (a tree node's children) refer to it.
    const uint32_t rule = g_.fresh_rule(rule_name(target.substr(1)));
    refs_.emplace(target, rule);
    g_.define(rule, ref(schema_rule(*node, target.substr(1))));
    return rule;
  }

  ExprPtr object(const json& s, const std::string& path) {
    const json props = s.value("properties", json::object());
    if (!props.is_object()) error(path + "/properties", "must be an object");
    std::set<std::string> required;
    if (s.contains("required")) {
      if (!s["required"].is_array()) error(path + "/required", "must be an array");
      for (const json& r : s["required"]) {
        if (!r.is_string()) error(path + "/required", "must hold strings");
        if (!props.contains(r.get<std::string>()))
          error(path + "/required", "'" + r.get<std::string>() + "' is required but not in 'properties'");
        required.insert(r.get<std::string>());
      }
    }
    std::vector<ObjectProperty> fields;
    for (auto& [name, sub] : props.items())
      fields.push_back({name, schema_rule(sub, path + "/properties/" + name), required.count(name) > 0});
    std::optional<uint32_t> additional;
    const json ap = s.value("additionalProperties", json(false));
    if (ap.is_boolean()) {
      if (ap.get<bool>()) additional = parts_.any_value();
    } else if (ap.is_object()) {
      additional = schema_rule(ap, path + "/additionalProperties");
    } else {
      error(path + "/additionalProperties", "must be a boolean or a schema");
    }
    return parts_.object(fields, additional, path);
  }

  ExprPtr array(const json& s, const std::string& path) {
    const uint64_t min = parts_.count(s, "minItems", path, 0);
    const std::optional<uint64_t> max =
        s.contains("maxItems") ? std::optional<uint64_t>(parts_.count(s, "maxItems", path, 0)) : std::nullopt;
    if (max && *max < min) error(path, "maxItems is below minItems");
    std::vector<uint32_t> prefix;
    if (s.contains("prefixItems")) {
      if (!s["prefixItems"].is_array()) error(path + "/prefixItems", "must be an array");
      for (size_t i = 0; i < s["prefixItems"].size(); ++i)
        prefix.push_back(schema_rule(s["prefixItems"][i], path + "/prefixItems/" + std::to_string(i)));
    }
    std::optional<uint32_t> items;
    if (!s.contains("items")) {
      // No `items`: any further value is valid; with prefixItems, no further items are generated (a subset).
      if (prefix.empty()) items = parts_.any_value();
    } else if (s["items"].is_boolean()) {
      if (s["items"].get<bool>()) items = parts_.any_value();
    } else {
      items = schema_rule(s["items"], path + "/items");
    }
    return parts_.array(prefix, items, min, max, path);
  }

  static constexpr int kMaxDepth = 64;
  int depth_ = 0;
  const json& root_doc_;
  Grammar g_;
  JsonParts parts_;
  std::map<std::string, uint32_t> memo_, refs_;
};

}  // namespace

Grammar json_schema_grammar(const nlohmann::ordered_json& schema, const JsonGrammarOptions& opts) {
  return SchemaCompiler(schema, opts).run();
}

Grammar json_value_grammar(const JsonGrammarOptions& opts) {
  return json_schema_grammar(json::object(), opts);
}

Grammar json_object_grammar(const JsonGrammarOptions& opts) {
  return json_schema_grammar(json{{"type", "object"}, {"additionalProperties", true}}, opts);
}

Grammar choice_grammar(const std::vector<std::string>& choices) {
  if (choices.empty()) fail("choice: the list of choices is empty");
  Grammar g;
  const uint32_t root = g.rule("root");
  std::vector<ExprPtr> alts;
  for (const std::string& c : choices) alts.push_back(literal(c));
  g.define(root, alt(std::move(alts)));
  g.set_root(root);
  return g;
}

}  // namespace r1::structured
