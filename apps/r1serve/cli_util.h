#pragma once
// Small helpers shared by subcommands, and the flags several subcommands share (one spelling, help text and
// check for serve, run and perf).
#include <CLI/CLI.hpp>
#include <cstdint>
#include <string>
#include <vector>

#include "store/model_resolver.h"

namespace r1::app {

// "1,2, 3" -> {1, 2, 3}; throws r1::Error naming the flag on anything else.
std::vector<int32_t> parse_id_list(const std::string& s, const std::string& flag);

// --load-format auto|dummy (vLLM's): auto reads the weights, dummy makes random ones from config.json alone.
// Checked at parse time with parse_load_format's message.
CLI::Option* add_load_format_option(CLI::App* cmd, std::string& value);
// --tokenizer DIR (vLLM's): the folder holding tokenizer.json and tokenizer_config.json; "" = the model
// folder.
CLI::Option* add_tokenizer_option(CLI::App* cmd, std::string& value);
// --kv-cache-dtype auto|f32|f16|bf16, checked at parse time with parse_kv_cache_dtype's message (resolved
// after loading by resolve_kv_cache_dtype).
CLI::Option* add_kv_cache_dtype_option(CLI::App* cmd, std::string& value);

// --model as the one resolver reads it (store/model_resolver.h): an existing folder or file as it is, or a
// Hub id ORG/NAME[@REVISION] from the Hugging Face cache, pulled first when missing unless HF_HUB_OFFLINE=1.
store::ResolvedModel resolve_model_arg(const std::string& spec);

}  // namespace r1::app
