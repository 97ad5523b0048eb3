#include "serving/tool_calls.h"

#include <fmt/format.h>

#include <random>

#include "serving/serving_error.h"
#include "structured/json_schema.h"

namespace r1::serving {

using nlohmann::json;
using nlohmann::ordered_json;
namespace st = r1::structured;

namespace {

constexpr std::string_view kBlockBegin = "<｜tool▁calls▁begin｜>";
constexpr std::string_view kBlockEnd = "<｜tool▁calls▁end｜>";
constexpr std::string_view kCallBegin = "<｜tool▁call▁begin｜>";
constexpr std::string_view kCallEnd = "<｜tool▁call▁end｜>";
constexpr std::string_view kSep = "<｜tool▁sep｜>";
constexpr std::string_view kJsonOpen = "```json\n";
constexpr std::string_view kJsonClose = "\n```";
constexpr std::string_view kHermesBegin = "<tool_call>";
constexpr std::string_view kHermesEnd = "</tool_call>";

std::string new_call_id() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return fmt::format("call_{:012x}{:012x}", rng() & 0xffffffffffffULL, rng() & 0xffffffffffffULL);
}

// The length of the longest suffix of `text` that is a proper prefix of `marker` (held back while streaming).
size_t partial_suffix(std::string_view text, std::string_view marker) {
  for (size_t n = std::min(text.size(), marker.size() - 1); n > 0; --n)
    if (text.substr(text.size() - n) == marker.substr(0, n)) return n;
  return 0;
}

std::string trim(std::string_view s) {
  const char* ws = " \t\r\n";
  size_t b = s.find_first_not_of(ws);
  if (b == std::string_view::npos) return "";
  return std::string(s.substr(b, s.find_last_not_of(ws) - b + 1));
}

// One call's text between <｜tool▁call▁begin｜> and <｜tool▁call▁end｜>:
// TYPE<｜tool▁sep｜>NAME\n```json\nARGS\n```
ToolCall parse_call(std::string_view s) {
  ToolCall c;
  c.id = new_call_id();
  size_t sep = s.find(kSep);
  std::string_view rest = sep == std::string_view::npos ? s : s.substr(sep + kSep.size());
  size_t nl = rest.find('\n');
  c.name = trim(rest.substr(0, nl));
  std::string_view args = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
  if (args.starts_with(kJsonOpen.substr(0, 7))) args.remove_prefix(7);  // "```json", then its newline
  if (size_t close = args.rfind("```"); close != std::string_view::npos) args = args.substr(0, close);
  c.arguments = trim(args);
  return c;
}

// One Hermes call: {"name": NAME, "arguments": {...}} (possibly after a <tool_call> marker).
ToolCall parse_hermes_call(std::string_view s) {
  ToolCall c;
  c.id = new_call_id();
  const size_t b = s.find('{'), e = s.rfind('}');
  const auto j = b == std::string_view::npos || e == std::string_view::npos || e < b
                     ? ordered_json()
                     : ordered_json::parse(s.substr(b, e - b + 1), nullptr, false);
  if (!j.is_object() || !j.contains("name") || !j["name"].is_string()) {
    c.arguments = trim(s);  // not a call the model finished writing well: kept, unparsed
    return c;
  }
  c.name = j["name"].get<std::string>();
  const auto& args = j.contains("arguments") ? j["arguments"] : ordered_json::object();
  c.arguments = args.is_string() ? args.get<std::string>() : args.dump();
  return c;
}

}  // namespace

json tools_json(const std::vector<ToolDef>& tools) {
  json out = json::array();
  for (const ToolDef& t : tools) {
    json f = {{"name", t.name}};
    if (!t.description.empty()) f["description"] = t.description;
    f["parameters"] = json::parse(t.parameters.dump());
    out.push_back({{"type", "function"}, {"function", std::move(f)}});
  }
  return out;
}

std::string tools_prompt(const std::vector<ToolDef>& tools) {
  ordered_json list = ordered_json::array();
  for (const ToolDef& t : tools) {
    ordered_json f = {{"name", t.name}};
    if (!t.description.empty()) f["description"] = t.description;
    f["parameters"] = t.parameters;
    list.push_back(std::move(f));
  }
  return fmt::format(
      "You can call any of the following function tools to satisfy the user's requests: {}\n\n"
      "Example function tool call syntax:\n\n"
      "{}{}function{}example_function_name\n{}{{\n  \"arg1\": \"some_value\"\n}}{}{}{}\n",
      list.dump(2), kBlockBegin, kCallBegin, kSep, kJsonOpen, kJsonClose, kCallEnd, kBlockEnd);
}

json add_tools_prompt(json messages, const std::vector<ToolDef>& tools) {
  const std::string text = tools_prompt(tools);
  for (json& m : messages) {
    if (m.value("role", "") != "system") continue;
    std::string content = m["content"].is_string() ? m["content"].get<std::string>() : "";
    m["content"] = text + (content.empty() ? "" : "\n" + content);
    return messages;
  }
  messages.insert(messages.begin(), json{{"role", "system"}, {"content", text}});
  return messages;
}

std::string tool_call_grammar(const ToolsRequest& req, uint32_t max_whitespace) {
  st::Grammar g;
  const uint32_t root = g.rule("root");
  std::vector<st::ExprPtr> calls;
  for (size_t i = 0; i < req.tools.size(); ++i) {
    const ToolDef& t = req.tools[i];
    if (req.choice == ToolChoice::named && t.name != req.named) continue;
    const std::string field = t.parameters_field.empty()
                                  ? fmt::format("{}[{}].parameters", req.tools_field, i)
                                  : t.parameters_field;
    st::Grammar args;
    try {
      args = st::json_schema_grammar(t.parameters, {.max_whitespace = max_whitespace});
    } catch (const r1::Error& e) {
      invalid_request(fmt::format("'{}' (function {}): {}", field, t.name, e.what()), field);
    }
    const uint32_t args_rule = g.import(args);
    if (req.format == ToolFormat::hermes)
      calls.push_back(
          st::seq({st::literal(fmt::format("\"{}\", \"arguments\": ", t.name)), st::ref(args_rule)}));
    else
      calls.push_back(
          st::seq({st::literal(fmt::format("{}{}\n{}", kSep, t.name, kJsonOpen)), st::ref(args_rule)}));
  }
  if (calls.empty())
    invalid_request(fmt::format("'{}' names function '{}', which is not in '{}'", req.choice_field, req.named,
                                req.tools_field),
                    req.choice_field);
  const uint32_t call = g.fresh_rule("call");
  const uint32_t extra = req.parallel ? kMaxParallelToolCalls - 1 : 0;
  if (req.format == ToolFormat::hermes) {
    g.define(call, st::seq({st::literal(std::string(kHermesBegin) + "\n{\"name\": "),
                            st::alt(std::move(calls)), st::literal("}\n" + std::string(kHermesEnd))}));
    g.define(root, st::seq({st::ref(call),
                            st::repeat(st::seq({st::literal("\n"), st::ref(call)}), 0, extra, false)}));
  } else {
    g.define(call, st::seq({st::literal(std::string(kCallBegin) + "function"), st::alt(std::move(calls)),
                            st::literal(std::string(kJsonClose) + std::string(kCallEnd))}));
    st::ExprPtr more = st::repeat(st::seq({st::literal("\n"), st::ref(call)}), 0, extra, false);
    g.define(root, st::seq({st::literal(std::string(kBlockBegin)), st::ref(call), more,
                            st::literal(std::string(kBlockEnd))}));
  }
  g.set_root(root);
  return g.to_gbnf();
}

ToolCallParser::Delta ToolCallParser::push(std::string_view text) {
  Delta d;
  buf_ += text;
  const std::string_view begin = format_ == ToolFormat::hermes ? kHermesBegin : kBlockBegin;
  if (!in_block_) {
    size_t at = buf_.find(begin);
    if (at == std::string::npos) {
      size_t keep = partial_suffix(buf_, begin);
      d.content = buf_.substr(0, buf_.size() - keep);
      buf_.erase(0, buf_.size() - keep);
      return d;
    }
    d.content = buf_.substr(0, at);
    buf_.erase(0, at + begin.size());
    in_block_ = true;
  }
  parse_calls(d);
  return d;
}

void ToolCallParser::parse_calls(Delta& d) {
  // Hermes calls have no enclosing block: once the first <tool_call> opened, calls follow until the end.
  const bool hermes = format_ == ToolFormat::hermes;
  while (in_block_) {
    size_t end = buf_.find(hermes ? kHermesEnd : kCallEnd);
    size_t block_end = hermes ? std::string::npos : buf_.find(kBlockEnd);
    if (block_end != std::string::npos && (end == std::string::npos || block_end < end)) {
      // The block is closed: anything after it is content again.
      in_block_ = false;
      std::string rest = buf_.substr(block_end + kBlockEnd.size());
      buf_.clear();
      Delta more = push(rest);
      d.content += more.content;
      for (auto& c : more.calls) d.calls.push_back(std::move(c));
      return;
    }
    if (end == std::string::npos) return;
    std::string_view call(buf_.data(), end);
    if (hermes) {
      d.calls.push_back(parse_hermes_call(call));
      buf_.erase(0, end + kHermesEnd.size());
    } else {
      if (size_t b = call.find(kCallBegin); b != std::string_view::npos)
        call.remove_prefix(b + kCallBegin.size());
      d.calls.push_back(parse_call(call));
      buf_.erase(0, end + kCallEnd.size());
    }
    ++calls_;
  }
}

ToolCallParser::Delta ToolCallParser::flush() {
  Delta d;
  const std::string_view begin = format_ == ToolFormat::hermes ? kHermesBegin : kBlockBegin;
  if (in_block_ && calls_ && trim(buf_).empty()) {
    // The newline between / after Hermes calls.
  } else if (in_block_ && !buf_.empty()) {
    // Cut inside the block: what could not be parsed is returned as text rather than lost.
    d.content = calls_ ? buf_ : std::string(begin) + buf_;
  } else {
    d.content = buf_;
  }
  buf_.clear();
  in_block_ = false;
  return d;
}

}  // namespace r1::serving
