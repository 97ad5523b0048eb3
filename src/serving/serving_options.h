#pragma once
// What the serving layer is told: which model to load and how, and the request limits it enforces. The
// server's own options (address, auth, CORS, ...) extend this in server/serve_options.h.
#include <cstddef>
#include <cstdint>
#include <string>

namespace r1::serving {

struct ServingOptions {
  std::string model_dir;
  std::string tokenizer_dir;         // "" = model_dir (vLLM's --tokenizer)
  std::string load_format = "auto";  // auto | dummy (random weights from config.json; vLLM's --load-format)
  std::string served_model_name;     // "" = the folder's name
  size_t max_concurrent_requests = 128;  // TGI's default
  size_t max_input_tokens = 0;           // 0 = max_model_len - 1
  size_t max_total_tokens = 0;           // 0 = max_model_len
  std::string kv_cache_memory;           // "" = engine's automatic budget
  std::string kv_cache_dtype = "auto";
  size_t max_num_seqs = 64;
  size_t max_batch_tokens = 2048;
  size_t max_model_len = 0;  // 0 = what fits
  std::string dtype = "auto";
  int threads = 0;                        // 0 = all cores
  std::string reasoning_parser = "auto";  // auto | deepseek_r1 | none
  std::string chat_template;              // a Jinja file replacing the tokenizer_config.json one
  int64_t max_reasoning_tokens = -1;  // default reasoning budget (R1 templates); -1 = none, 0 = no thinking
};

}  // namespace r1::serving
