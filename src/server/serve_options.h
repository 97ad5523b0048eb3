#pragma once
// Everything `r1serve serve` can be told (flags, with TGI's environment variables as defaults in cmd_serve).
#include <cstddef>
#include <cstdint>
#include <string>

namespace r1::server {

struct ServeOptions {
  std::string model_dir;
  std::string tokenizer_dir;         // "" = model_dir (vLLM's --tokenizer)
  std::string load_format = "auto";  // auto | dummy (random weights from config.json; vLLM's --load-format)
  std::string host = "127.0.0.1";
  uint16_t port = 8000;
  std::string served_model_name;         // "" = the folder's name
  std::string api_key;                   // "" = no auth
  size_t max_concurrent_requests = 128;  // TGI's default
  size_t max_input_tokens = 0;           // 0 = max_model_len - 1
  size_t max_total_tokens = 0;           // 0 = max_model_len
  size_t max_body_bytes = 8u << 20;
  std::string kv_cache_memory;  // "" = engine's automatic budget
  std::string kv_cache_dtype = "auto";
  size_t max_num_seqs = 64;
  size_t max_batch_tokens = 2048;
  size_t max_model_len = 0;  // 0 = what fits
  std::string dtype = "auto";
  int threads = 0;  // 0 = all cores
  int io_threads = 2;
  std::string reasoning_parser = "auto";  // auto | deepseek_r1 | none
  std::string chat_template;              // a Jinja file replacing the tokenizer_config.json one
  double drain_timeout_s = 30;
};

}  // namespace r1::server
