#include "cli_util.h"

#include <unistd.h>

#include <charconv>

#include "core/error.h"
#include "engine/generator.h"
#include "model/kv_cache.h"

namespace r1::app {

std::vector<int32_t> parse_id_list(const std::string& s, const std::string& flag) {
  std::vector<int32_t> ids;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && (s[i] == ' ' || s[i] == ',')) ++i;
    if (i == s.size()) break;
    int32_t v = 0;
    auto [p, ec] = std::from_chars(s.data() + i, s.data() + s.size(), v);
    if (ec != std::errc() || v < 0) fail("{}: \"{}\" is not a comma-separated list of token ids", flag, s);
    i = size_t(p - s.data());
    if (i < s.size() && s[i] != ',' && s[i] != ' ')
      fail("{}: \"{}\" is not a comma-separated list of token ids", flag, s);
    ids.push_back(v);
  }
  if (ids.empty()) fail("{}: no token ids given", flag);
  return ids;
}

namespace {
// A CLI11 check that runs the same parser the loader will, so a bad value stops the command at parse time
// with that parser's message.
template <typename Parse>
CLI::Validator checked_by(Parse parse, const std::string& description) {
  return CLI::Validator(
      [parse](std::string& s) -> std::string {
        try {
          parse(s);
          return {};
        } catch (const r1::Error& e) {
          return e.what();
        }
      },
      description);
}
}  // namespace

CLI::Option* add_load_format_option(CLI::App* cmd, std::string& value) {
  return cmd
      ->add_option("--load-format", value,
                   "auto (read the weights) or dummy (RANDOM weights made from config.json alone: for "
                   "benchmarks and tests)")
      ->check(checked_by(parse_load_format, "auto|dummy"))
      ->capture_default_str();
}

CLI::Option* add_tokenizer_option(CLI::App* cmd, std::string& value) {
  return cmd->add_option(
      "--tokenizer", value,
      "Folder with tokenizer.json and tokenizer_config.json (default: the --model folder)");
}

CLI::Option* add_kv_cache_dtype_option(CLI::App* cmd, std::string& value) {
  return cmd
      ->add_option("--kv-cache-dtype", value,
                   "K/V element type: auto (the model's: bf16 for the R1 distills, f32 under --dtype f32), "
                   "f32 (exact), f16 or bf16 (half the memory, twice the tokens a KV budget holds)")
      ->check(checked_by(parse_kv_cache_dtype, "auto|f32|f16|bf16"))
      ->capture_default_str();
}

store::ResolvedModel resolve_model_arg(const std::string& spec) {
  store::ResolveOptions options;
  options.hub = store::hub_config_from_env();
  options.pull.tty_progress = ::isatty(STDERR_FILENO);
  return store::resolve_model(spec, options);
}

}  // namespace r1::app
