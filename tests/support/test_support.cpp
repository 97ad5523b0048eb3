#include "support/test_support.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <random>
#include <sstream>

extern char** environ;

namespace r1::test {

namespace fs = std::filesystem;

std::string shared_path(const std::string& rel) {
  return (fs::weakly_canonical(fs::path(R1_SHARED_DIR)) / rel).string();
}

std::string js_dir() { return R1_JS_DIR; }

bool shared_available() { return fs::exists(fs::path(R1_SHARED_DIR) / "ASSETS.md"); }

std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

nlohmann::json read_json(const std::string& path) { return nlohmann::json::parse(read_file(path)); }

CommandResult run_command(const std::vector<std::string>& argv) {
  TempDir tmp;
  std::string out_path = tmp.file("stdout"), err_path = tmp.file("stderr");
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&fa, 2, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid;
  CommandResult r;
  if (posix_spawn(&pid, args[0], &fa, nullptr, args.data(), environ) != 0) {
    r.err = "posix_spawn failed for " + argv[0];
    posix_spawn_file_actions_destroy(&fa);
    return r;
  }
  posix_spawn_file_actions_destroy(&fa);
  int status = 0;
  waitpid(pid, &status, 0);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.out = read_file(out_path);
  r.err = read_file(err_path);
  return r;
}

CommandResult run_r1serve(const std::vector<std::string>& args) {
  std::vector<std::string> argv{R1SERVE_BIN};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_command(argv);
}

TempDir::TempDir() {
  std::string tmpl = (fs::temp_directory_path() / "r1test-XXXXXX").string();
  if (!mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
  path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

void SafetensorsBuilder::add_f32(const std::string& name, std::vector<uint64_t> shape,
                                 const std::vector<float>& values) {
  Tensor t{name, "F32", std::move(shape), {}};
  t.bytes.resize(values.size() * 4);
  std::memcpy(t.bytes.data(), values.data(), t.bytes.size());
  tensors.push_back(std::move(t));
}

nlohmann::json SafetensorsBuilder::header() const {
  nlohmann::json h = nlohmann::json::object();
  if (!metadata.empty()) h["__metadata__"] = metadata;
  uint64_t off = 0;
  for (const auto& t : tensors) {
    h[t.name] = {{"dtype", t.dtype}, {"shape", t.shape}, {"data_offsets", {off, off + t.bytes.size()}}};
    off += t.bytes.size();
  }
  return h;
}

std::vector<uint8_t> SafetensorsBuilder::data() const {
  std::vector<uint8_t> d;
  for (const auto& t : tensors) d.insert(d.end(), t.bytes.begin(), t.bytes.end());
  return d;
}

void SafetensorsBuilder::write(const std::string& path) const { write_raw(path, header().dump(), data()); }

void SafetensorsBuilder::write_raw(const std::string& path, const std::string& header_json,
                                   const std::vector<uint8_t>& data) {
  std::ofstream f(path, std::ios::binary);
  uint64_t n = header_json.size();
  for (int i = 0; i < 8; ++i) f.put(char((n >> (8 * i)) & 0xff));
  f.write(header_json.data(), std::streamsize(header_json.size()));
  f.write(reinterpret_cast<const char*>(data.data()), std::streamsize(data.size()));
}

nlohmann::json tiny_config(const TinyModelSpec& s) {
  return {{"architectures", {s.architecture}},
          {"hidden_size", s.hidden},
          {"intermediate_size", s.ffn},
          {"num_hidden_layers", s.layers},
          {"num_attention_heads", s.heads},
          {"num_key_value_heads", s.kv_heads},
          {"vocab_size", s.vocab},
          {"max_position_embeddings", 512},
          {"rms_norm_eps", 1e-5},
          {"rope_theta", 10000.0},
          {"tie_word_embeddings", s.tied},
          {"hidden_act", "silu"},
          {"bos_token_id", 1},
          {"eos_token_id", 2},
          {"torch_dtype", "float32"}};
}

SafetensorsBuilder tiny_weights(const TinyModelSpec& s) {
  std::mt19937 rng(s.seed);
  std::normal_distribution<float> nd(0.f, 0.05f);
  auto randv = [&](size_t n, float base) {
    std::vector<float> v(n);
    for (float& x : v) x = base + nd(rng);
    return v;
  };
  const size_t hd = s.hidden / s.heads, q = s.heads * hd, kv = s.kv_heads * hd;
  const bool bias = s.architecture == "Qwen2ForCausalLM";
  SafetensorsBuilder b;
  b.add_f32("model.embed_tokens.weight", {s.vocab, s.hidden}, randv(s.vocab * s.hidden, 0));
  for (size_t l = 0; l < s.layers; ++l) {
    std::string p = "model.layers." + std::to_string(l) + ".";
    b.add_f32(p + "input_layernorm.weight", {s.hidden}, randv(s.hidden, 1));
    b.add_f32(p + "self_attn.q_proj.weight", {q, s.hidden}, randv(q * s.hidden, 0));
    b.add_f32(p + "self_attn.k_proj.weight", {kv, s.hidden}, randv(kv * s.hidden, 0));
    b.add_f32(p + "self_attn.v_proj.weight", {kv, s.hidden}, randv(kv * s.hidden, 0));
    b.add_f32(p + "self_attn.o_proj.weight", {s.hidden, q}, randv(q * s.hidden, 0));
    if (bias) {
      b.add_f32(p + "self_attn.q_proj.bias", {q}, randv(q, 0));
      b.add_f32(p + "self_attn.k_proj.bias", {kv}, randv(kv, 0));
      b.add_f32(p + "self_attn.v_proj.bias", {kv}, randv(kv, 0));
    }
    b.add_f32(p + "post_attention_layernorm.weight", {s.hidden}, randv(s.hidden, 1));
    b.add_f32(p + "mlp.gate_proj.weight", {s.ffn, s.hidden}, randv(s.ffn * s.hidden, 0));
    b.add_f32(p + "mlp.up_proj.weight", {s.ffn, s.hidden}, randv(s.ffn * s.hidden, 0));
    b.add_f32(p + "mlp.down_proj.weight", {s.hidden, s.ffn}, randv(s.ffn * s.hidden, 0));
  }
  b.add_f32("model.norm.weight", {s.hidden}, randv(s.hidden, 1));
  if (!s.tied) b.add_f32("lm_head.weight", {s.vocab, s.hidden}, randv(s.vocab * s.hidden, 0));
  return b;
}

void write_tiny_model(const std::string& dir, const TinyModelSpec& s) {
  fs::create_directories(dir);
  std::ofstream(fs::path(dir) / "config.json") << tiny_config(s).dump(2);
  std::ofstream(fs::path(dir) / "generation_config.json") << R"({"bos_token_id": 1, "eos_token_id": 2})";
  tiny_weights(s).write((fs::path(dir) / "model.safetensors").string());
}

}  // namespace r1::test
