#include "serving/model_spec.h"

#include <cctype>

#include "core/error.h"

namespace r1::serving {

bool valid_model_name(const std::string& name) {
  if (name.empty() || name.size() > 128) return false;
  for (char c : name)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != ':' && c != '-')
      return false;
  return true;
}

namespace {
std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  for (;;) {
    size_t p = s.find(sep, start);
    out.push_back(s.substr(start, p == std::string::npos ? std::string::npos : p - start));
    if (p == std::string::npos) return out;
    start = p + 1;
  }
}

size_t to_size(const std::string& model, const std::string& key, const std::string& v) {
  size_t used = 0;
  unsigned long long n = 0;
  try {
    n = std::stoull(v, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != v.size() || v[0] == '-')
    fail("--model {}: {}={}: expected a whole number", model, key, v);
  return size_t(n);
}
}  // namespace

ModelArg parse_model_arg(const std::string& arg) {
  ModelArg a;
  size_t eq = arg.find('=');
  if (eq == std::string::npos || !valid_model_name(arg.substr(0, eq))) {
    if (eq == 0) fail("--model {}: the NAME before '=' is empty (expected NAME=SOURCE)", arg);
    if (arg.empty()) fail("--model: empty value (expected a folder, a Hub id, or NAME=SOURCE)");
    a.source = arg;
    return a;
  }
  a.name = arg.substr(0, eq);
  std::vector<std::string> parts = split(arg.substr(eq + 1), ',');
  a.source = parts[0];
  if (a.source.empty()) fail("--model {}: SOURCE after '{}=' is empty (a folder or a Hub id)", arg, a.name);
  for (size_t i = 1; i < parts.size(); ++i) {
    size_t k = parts[i].find('=');
    if (k == std::string::npos || k == 0)
      fail("--model {}: '{}' is not KEY=VALUE (per-model overrides follow SOURCE, comma-separated)", arg,
           parts[i]);
    a.overrides.emplace_back(parts[i].substr(0, k), parts[i].substr(k + 1));
  }
  return a;
}

void apply_model_override(ModelSpec& spec, const std::string& key, const std::string& value) {
  ServingOptions& o = spec.options;
  const std::string& m = spec.name;
  if (key == "dtype")
    o.dtype = value == "bfloat16" ? "bf16" : value == "float32" ? "f32" : value;
  else if (key == "load-format")
    o.load_format = value;
  else if (key == "tokenizer")
    o.tokenizer_dir = value;
  else if (key == "kv-cache-memory")
    o.kv_cache_memory = value;
  else if (key == "kv-cache-dtype")
    o.kv_cache_dtype = value;
  else if (key == "max-model-len")
    o.max_model_len = to_size(m, key, value);
  else if (key == "max-num-seqs")
    o.max_num_seqs = to_size(m, key, value);
  else if (key == "max-batch-tokens")
    o.max_batch_tokens = to_size(m, key, value);
  else if (key == "max-input-tokens")
    o.max_input_tokens = to_size(m, key, value);
  else if (key == "max-total-tokens")
    o.max_total_tokens = to_size(m, key, value);
  else if (key == "threads")
    o.threads = int(to_size(m, key, value));
  else if (key == "chat-template")
    o.chat_template = value;
  else if (key == "reasoning-parser")
    o.reasoning_parser = value;
  else if (key == "idle-unload")
    spec.idle_unload = parse_keep_alive(value, "--model " + m + ": idle-unload");
  else
    fail(
        "--model {}: unknown per-model option '{}' (expected one of dtype, load-format, tokenizer, "
        "kv-cache-memory, kv-cache-dtype, max-model-len, max-num-seqs, max-batch-tokens, max-input-tokens, "
        "max-total-tokens, threads, chat-template, reasoning-parser, idle-unload)",
        m, key);
}

}  // namespace r1::serving
