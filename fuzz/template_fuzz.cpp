// Any byte string given as a chat template must parse and render, or fail with r1::Error — never crash, hang
// or exhaust memory (the render limits bound loops, recursion and output).
#include <cstddef>
#include <cstdint>
#include <string>

#include "core/error.h"
#include "tokenizer/chat_template.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const nlohmann::ordered_json context = nlohmann::ordered_json::parse(R"({
    "bos_token": "<s>", "eos_token": "</s>", "add_generation_prompt": true,
    "tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}],
    "messages": [{"role": "system", "content": "sys"}, {"role": "user", "content": "hi <think>x</think>"},
                 {"role": "assistant", "content": null, "tool_calls": [{"type": "function",
                  "function": {"name": "f", "arguments": {"a": 1}}}]},
                 {"role": "tool", "content": "out"}, {"role": "assistant", "content": "done"}]})");
  try {
    r1::ChatTemplate t = r1::ChatTemplate::from_string(std::string(reinterpret_cast<const char*>(data), size), "fuzz");
    t.render(context);
  } catch (const r1::Error&) {
  }
  return 0;
}
