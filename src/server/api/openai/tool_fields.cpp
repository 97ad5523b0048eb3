#include "server/api/openai/tool_fields.h"

#include <fmt/format.h>

#include "server/api_error.h"

namespace r1::server {

using nlohmann::ordered_json;
using serving::ToolChoice;

namespace {

const ordered_json* field(const ordered_json& o, const char* name) {
  auto it = o.find(name);
  return it == o.end() || it->is_null() ? nullptr : &*it;
}

std::string string_field(const ordered_json& o, const char* name, const std::string& where, bool required) {
  const ordered_json* v = field(o, name);
  if (!v) {
    if (required) bad_request(fmt::format("'{}.{}' is required", where, name), where + "." + name);
    return "";
  }
  if (!v->is_string()) bad_request(fmt::format("'{}.{}' must be a string", where, name), where + "." + name);
  return v->get<std::string>();
}

serving::ToolDef tool_def(const ordered_json& t, size_t i, bool responses) {
  const std::string where = fmt::format("tools[{}]", i);
  if (!t.is_object()) bad_request(fmt::format("'{}' must be an object", where), where);
  const std::string type = string_field(t, "type", where, true);
  if (type != "function")
    bad_request(fmt::format("'{}.type' {} is not supported (function tools only)", where, type),
                where + ".type");
  const std::string base = responses ? where : where + ".function";
  const ordered_json* f = responses ? &t : field(t, "function");
  if (!f || !f->is_object()) bad_request(fmt::format("'{}' is required (an object)", base), base);
  serving::ToolDef d;
  d.name = string_field(*f, "name", base, true);
  // OpenAI's rule for names; it also keeps them safe inside the call format.
  if (d.name.empty() || d.name.size() > 64 ||
      d.name.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") !=
          std::string::npos)
    bad_request(fmt::format("'{}.name' must be 1-64 characters of a-z, A-Z, 0-9, _ and -", base),
                base + ".name");
  d.description = string_field(*f, "description", base, false);
  d.parameters_field = base + ".parameters";
  if (const ordered_json* p = field(*f, "parameters")) {
    if (!p->is_object())
      bad_request(fmt::format("'{}.parameters' must be a JSON schema object", base), base + ".parameters");
    d.parameters = *p;
  } else {
    d.parameters = {{"type", "object"}, {"properties", ordered_json::object()}};
  }
  if (const ordered_json* s = field(*f, "strict"); s && !s->is_boolean())
    bad_request(fmt::format("'{}.strict' must be a boolean", base), base + ".strict");
  return d;
}

}  // namespace

std::optional<serving::ToolsRequest> parse_tool_fields(const std::string& raw_body, bool responses) {
  const ordered_json body = ordered_json::parse(raw_body, nullptr, false);
  if (body.is_discarded() || !body.is_object()) return std::nullopt;
  serving::ToolsRequest r;
  if (const ordered_json* t = field(body, "tools")) {
    if (!t->is_array()) bad_request("'tools' must be an array of function tools", "tools");
    for (size_t i = 0; i < t->size(); ++i) {
      r.tools.push_back(tool_def((*t)[i], i, responses));
      for (size_t j = 0; j < i; ++j)
        if (r.tools[j].name == r.tools[i].name)
          bad_request(fmt::format("'tools' names function '{}' twice", r.tools[i].name), "tools");
    }
  }
  if (const ordered_json* p = field(body, "parallel_tool_calls")) {
    if (!p->is_boolean()) bad_request("'parallel_tool_calls' must be a boolean", "parallel_tool_calls");
    r.parallel = p->get<bool>();
  }
  if (const ordered_json* c = field(body, "tool_choice")) {
    if (c->is_string()) {
      const std::string s = c->get<std::string>();
      if (s == "none")
        r.choice = ToolChoice::none;
      else if (s == "auto")
        r.choice = ToolChoice::automatic;
      else if (s == "required")
        r.choice = ToolChoice::required;
      else
        bad_request(fmt::format("'tool_choice' {} is not one of none, auto, required", c->dump()),
                    "tool_choice");
    } else if (c->is_object() && c->value("type", "") == "function") {
      // chat: {type, function: {name}}; responses: {type, name}.
      const ordered_json* f = responses ? c : field(*c, "function");
      const ordered_json* n = f && f->is_object() ? field(*f, "name") : nullptr;
      if (!n || !n->is_string())
        bad_request(responses ? "'tool_choice.name' is required" : "'tool_choice.function.name' is required",
                    "tool_choice");
      r.choice = ToolChoice::named;
      r.named = n->get<std::string>();
    } else {
      bad_request("'tool_choice' must be none, auto, required or {\"type\": \"function\", ...}",
                  "tool_choice");
    }
    if (r.choice != ToolChoice::none && r.choice != ToolChoice::automatic && r.tools.empty())
      bad_request("'tool_choice' asks for a tool call, but 'tools' lists none", "tool_choice");
    if (r.choice == ToolChoice::named) {
      bool found = false;
      for (const auto& t : r.tools) found |= t.name == r.named;
      if (!found)
        bad_request(fmt::format("'tool_choice' names function '{}', which is not in 'tools'", r.named),
                    "tool_choice");
    }
  }
  if (r.tools.empty()) return std::nullopt;
  return r;
}

}  // namespace r1::server
