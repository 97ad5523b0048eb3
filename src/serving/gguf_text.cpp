#include "serving/gguf_text.h"

#include "core/error.h"
#include "model/gguf_file.h"
#include "tokenizer/gguf_tokenizer.h"

namespace r1::serving {

GgufText load_gguf_text(const std::string& path) {
  GgufFile f(path);
  auto t = gguf_tokenizer_json(f.metadata(), f.path());
  if (!t) fail("{}: no tokenizer in the file (no tokenizer.ggml.model); pass --tokenizer DIR", f.path());
  GgufText out;
  out.tokenizer = Tokenizer::from_json(t->tokenizer, &t->config, f.path());
  for (const char* key : {"bos_token", "eos_token"})
    if (t->config.contains(key)) out.special_tokens[key] = t->config[key];
  if (t->chat_template)
    out.chat_template = ChatTemplate::from_string(*t->chat_template, f.path() + " (tokenizer.chat_template)");
  return out;
}

}  // namespace r1::serving
