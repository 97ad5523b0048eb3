#pragma once
// Tool calls in serving's terms, in DeepSeek-R1's format (docs/API.md, "Tool calls"): the tool list goes into
// the system prompt (the R1 distills' template renders tool calls and results but not the list), the model
// answers with
//   <｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>NAME\n```json\nARGS\n```<｜tool▁call▁end｜>
//   (\n<｜tool▁call▁begin｜>…<｜tool▁call▁end｜>)*<｜tool▁calls▁end｜>
// which ToolCallParser turns into calls. In the distills these markers are ordinary text (no added tokens),
// so a grammar can write them: tool_choice required / a named function constrain the answer to that format
// with each call's arguments matching its function's parameters schema. Templates that render `tools`
// themselves (Qwen2.5's) get Hermes' <tool_call> format instead (ToolFormat).
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace r1::serving {

struct ToolDef {
  std::string name, description;
  // A JSON schema, in the client's order.
  nlohmann::ordered_json parameters = nlohmann::ordered_json::object();
  std::string parameters_field;  // where errors about the schema point ("tools[i].function.parameters")
};

enum class ToolChoice { none, automatic, required, named };

// How calls are written: DeepSeek-R1's block (above; the tools go into the system prompt), or Hermes'
// <tool_call>\n{"name": NAME, "arguments": ARGS}\n</tool_call> for chat templates that render `tools`
// themselves (Qwen2.5's), which then describe the tools and the format.
enum class ToolFormat { deepseek_r1, hermes };

struct ToolsRequest {
  std::vector<ToolDef> tools;
  ToolChoice choice = ToolChoice::automatic;
  std::string named;     // ToolChoice::named: the function
  bool parallel = true;  // parallel_tool_calls: more than one call per answer
  ToolFormat format = ToolFormat::deepseek_r1;
  // The adapter's names of the fields errors point at.
  std::string tools_field = "tools", choice_field = "tool_choice";
};

struct ToolCall {
  std::string id;  // call_ + 24 hex digits
  std::string name, arguments;
};

// At most this many calls in one answer when the grammar writes them (parallel_tool_calls).
constexpr int kMaxParallelToolCalls = 4;

// The system-prompt text that lists the tools and shows the call format.
std::string tools_prompt(const std::vector<ToolDef>& tools);
// `messages` with the tools prompt added to the system message (one is put first when there is none).
nlohmann::json add_tools_prompt(nlohmann::json messages, const std::vector<ToolDef>& tools);

// GBNF text of the answers tool_choice required / named allows: the call format with each function's
// arguments constrained by its parameters schema. Throws ServingError invalid_request naming the tool's
// parameters_field for a schema the grammar engine cannot enforce.
std::string tool_call_grammar(const ToolsRequest& req, uint32_t max_whitespace);

// The tools as OpenAI's chat `tools` array, for templates that render them.
nlohmann::json tools_json(const std::vector<ToolDef>& tools);

// Splits a model's answer into content and tool calls, streaming: push() releases content as soon as it
// cannot be the start of a call block, and each call once its end marker arrives.
class ToolCallParser {
 public:
  explicit ToolCallParser(ToolFormat format = ToolFormat::deepseek_r1) : format_(format) {}
  struct Delta {
    std::string content;
    std::vector<ToolCall> calls;
  };
  Delta push(std::string_view text);
  // End of output: what is held back. A call block cut short is returned as content.
  Delta flush();
  // Some call was parsed (the answer's finish_reason becomes "tool_calls").
  bool any() const { return calls_ > 0; }

 private:
  void parse_calls(Delta& d);

  ToolFormat format_;
  std::string buf_;
  bool in_block_ = false;
  size_t calls_ = 0;
};

}  // namespace r1::serving
