#pragma once
// Chat templates: the Jinja `chat_template` of a Hugging Face tokenizer_config.json, rendered the way
// transformers' apply_chat_template does (trim_blocks, lstrip_blocks, its tojson and strftime_now, loop
// controls), by the small Jinja interpreter in jinja/.
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "tokenizer/jinja/evaluator.h"

namespace r1 {

class ChatTemplate {
 public:
  // Parses the template now; throws r1::Error naming `origin` (a file name) and the unsupported construct or
  // syntax error with line:column.
  static ChatTemplate from_string(std::string source, std::string origin);
  // The "chat_template" of a tokenizer_config.json (a string, or a list of {name, template}: the one named
  // "default"). When the config has none, a chat_template.jinja or chat_template.json beside it (the newer
  // transformers layout). nullopt when there is no template at all; r1::Error naming the file when one is
  // malformed.
  static std::optional<ChatTemplate> from_tokenizer_config(const std::string& path);

  // context: {"messages": [...], "add_generation_prompt": bool, "bos_token": str, "eos_token": str,
  // "tools": [...] (optional), any extra keys}. Throws r1::Error naming the origin and line:column on a
  // template error, raise_exception(...) included.
  std::string render(const nlohmann::json& context) const;
  // Same, keeping the key order of mappings (tools' JSON schemas print in the order the client sent them, as
  // Python dicts do); the plain-json overload prints keys sorted.
  std::string render(const nlohmann::ordered_json& context) const;

  const std::string& origin() const { return origin_; }
  const std::string& source() const { return source_; }

 private:
  std::string source_, origin_;
  std::shared_ptr<const jinja::Body> program_;
  jinja::RenderLimits limits_;
};

// The special-token strings of a tokenizer_config.json that templates use, as a context fragment:
// {"bos_token": ..., "eos_token": ..., "unk_token": ..., "pad_token": ...}, each present only when the config
// sets it (as a string or as an AddedToken object with "content"). Throws r1::Error naming the file when it
// cannot be read or parsed.
nlohmann::ordered_json special_tokens_from_tokenizer_config(const std::string& path);

}  // namespace r1
