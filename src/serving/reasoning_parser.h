#pragma once
// DeepSeek-R1's reasoning split: the model thinks, writes `</think>`, then answers. R1-distill chat templates
// end the prompt with "<think>\n", so the output starts INSIDE the reasoning and usually never shows <think>.
// Text before `</think>` is reasoning, the rest is content. Newlines at the seams are dropped (trailing ones
// of the reasoning, leading ones of the content); a `<think>` the model repeats at the very start is dropped
// too. Streamed deltas concatenate to exactly what one call over the whole text gives, so streaming and
// non-streaming responses agree.
#include <string>
#include <string_view>

namespace r1::serving {

class ReasoningParser {
 public:
  // in_reasoning: whether the output starts inside <think> (true for R1 templates).
  explicit ReasoningParser(bool in_reasoning = true);

  struct Delta {
    std::string reasoning, content;
    bool empty() const { return reasoning.empty() && content.empty(); }
  };
  Delta push(std::string_view text);
  // End of output: what is still held back. Output cut before `</think>` is all reasoning.
  Delta flush();

  bool in_reasoning() const { return in_reasoning_; }

 private:
  bool in_reasoning_;
  bool at_start_ = true;          // nothing of the reasoning released yet (a leading <think> may come)
  bool content_started_ = false;  // a non-newline character of content was released
  std::string pending_;           // reasoning text held back: a possible tag prefix or trailing newlines
};

}  // namespace r1::serving
