// r1serve tokenize: text -> ids and ids -> text with a model folder's tokenizer.json, plus an encode-speed
// probe.
#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "cli_util.h"
#include "commands.h"
#include "core/error.h"
#include "tokenizer/tokenizer.h"

namespace r1::app {

namespace {

struct TokenizeOptions {
  std::string model, text, text_file, ids;
  bool no_special = false, skip_special = false;
  int bench_runs = 0;
};

std::string read_text_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail("--text-file: cannot open {}", path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Encodes `text` `runs` times and prints the best time as one JSON line (bench/tokenizer_speed.sh reads it).
void bench(const Tokenizer& tok, const std::string& text, int runs) {
  double best = 1e300;
  size_t n_ids = 0;
  for (int r = 0; r < runs; ++r) {
    auto t0 = std::chrono::steady_clock::now();
    n_ids = tok.encode(text, false).size();
    best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  std::printf("{\"bytes\": %zu, \"ids\": %zu, \"seconds\": %.6f, \"mb_per_s\": %.3f}\n", text.size(), n_ids,
              best, double(text.size()) / 1e6 / best);
}

int tokenize(const TokenizeOptions& o) {
  auto tok = Tokenizer::from_dir(o.model);
  if (!tok) fail("--model: {}/tokenizer.json not found", o.model);
  if (!o.ids.empty()) {
    std::vector<int32_t> ids = parse_id_list(o.ids, "--ids");
    std::printf("%s\n", tok->decode(ids, o.skip_special).c_str());
    return 0;
  }
  std::string text = o.text_file.empty() ? o.text : read_text_file(o.text_file);
  if (o.bench_runs > 0) {
    bench(*tok, text, o.bench_runs);
    return 0;
  }
  std::string line;
  for (int32_t id : tok->encode(text, !o.no_special)) {
    if (!line.empty()) line += ' ';
    line += std::to_string(id);
  }
  std::printf("%s\n", line.c_str());
  return 0;
}

void register_tokenize(CLI::App& app, Action& action) {
  auto o = std::make_shared<TokenizeOptions>();
  CLI::App* cmd = app.add_subcommand("tokenize", "Encode text to token ids, or decode ids to text");
  cmd->add_option("--model", o->model,
                  "Model folder with tokenizer.json (and tokenizer_config.json), store name NAME[:TAG], or "
                  "Hub id ORG/NAME[@REV]")
      ->required();
  auto* text = cmd->add_option("--text", o->text, "Text to encode; prints the ids on one line");
  auto* file = cmd->add_option("--text-file", o->text_file, "Encode the contents of this file");
  auto* ids = cmd->add_option("--ids", o->ids, "Token ids to decode: 1,2,3; prints the text");
  text->excludes(file)->excludes(ids);
  file->excludes(ids);
  cmd->add_flag("--no-special", o->no_special,
                "Encode without the BOS/EOS the tokenizer adds (HF add_special_tokens=False)");
  cmd->add_flag("--skip-special", o->skip_special,
                "Decode without special tokens (HF skip_special_tokens=True)");
  cmd->add_option("--bench", o->bench_runs,
                  "Encode the text N times; print the best speed as JSON instead of ids")
      ->check(CLI::PositiveNumber);
  cmd->callback([&action, o, text, file, ids] {
    if (text->count() + file->count() + ids->count() == 0)
      throw CLI::RequiredError("--text, --text-file or --ids");
    action = [o] {
      o->model = resolve_model_arg(o->model).dir;
      return tokenize(*o);
    };
  });
}

const CommandRegistrar kRegisterTokenize(register_tokenize);

}  // namespace
}  // namespace r1::app
