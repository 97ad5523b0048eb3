// r1serve serve: the OpenAI-compatible HTTP server (src/server over src/serving). Flags default to TGI's
// environment variables where TGI has one, so a TGI deployment's environment works unchanged.
#include <unistd.h>  // environ

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <string_view>

#include "cli_util.h"
#include "commands.h"
#include "core/error.h"
#include "engine/engine.h"
#include "model/model_package.h"
#include "server/serve.h"
#include "serving/keep_alive.h"
#include "serving/model_spec.h"
#include "store/hub_config.h"
#include "store/model_store.h"

namespace r1::app {

namespace {

// TGI's DTYPE values → ours.
std::string normalize_dtype(std::string d) {
  if (d == "bfloat16") return "bf16";
  if (d == "float32") return "f32";
  return d;
}

// What --models-from-store serves: every model of r1serve's store as NAME:TAG (sorted), then the Hub ids the
// Hugging Face cache holds a `main` snapshot of (sorted) — the two places `r1serve import` and `pull` put
// models.
std::vector<std::string> stored_models() {
  std::vector<std::string> ids;
  for (const auto& e : store::ModelStore(store::default_store_root()).list()) ids.push_back(e.name.str());
  std::vector<std::string> hub;
  std::error_code ec;
  for (const auto& d : std::filesystem::directory_iterator(store::hub_config_from_env().cache_dir, ec)) {
    std::string folder = d.path().filename().string();
    size_t sep = folder.find("--", 8);
    if (!folder.starts_with("models--") || sep == std::string::npos) continue;
    if (!std::filesystem::exists(d.path() / "refs" / "main", ec)) continue;
    hub.push_back(folder.substr(8, sep - 8) + "/" + folder.substr(sep + 2));
  }
  std::sort(hub.begin(), hub.end());
  ids.insert(ids.end(), hub.begin(), hub.end());
  return ids;
}

// SageMaker starts a container as `docker run IMAGE serve` with its own variables set; any SM_* or
// SAGEMAKER_* variable (SAGEMAKER_BIND_TO_PORT, SM_NUM_GPUS, ... — HF_MODEL_ID alone is TGI's too) says
// r1serve runs there.
bool sagemaker_environment() {
  for (char** e = environ; e && *e; ++e) {
    std::string_view v(*e);
    if (v.starts_with("SM_") || v.starts_with("SAGEMAKER_")) return true;
  }
  return false;
}

uint16_t parse_port(const std::string& text, const char* what) {
  try {
    size_t used = 0;
    int p = std::stoi(text, &used);
    if (used == text.size() && p >= 0 && p <= 65535) return uint16_t(p);
  } catch (const std::exception&) {
  }
  fail("{}={}: not a port number (0..65535)", what, text);
}

void register_serve(CLI::App& app, Action& action) {
  auto o = std::make_shared<server::ServeOptions>();
  auto model_args = std::make_shared<std::vector<std::string>>();
  auto preload = std::make_shared<std::vector<std::string>>();
  auto idle_unload = std::make_shared<std::string>("5m");
  auto load_wait = std::make_shared<double>(60);
  auto memory_budget = std::make_shared<std::string>();
  CLI::App* cmd = app.add_subcommand(
      "serve", "Serve the model over the OpenAI API (chat, completions, responses, metrics)");
  cmd->add_option("--model", *model_args,
                  "Model folder, store name NAME[:TAG], Hub id ORG/NAME[@REV] or s3://BUCKET/PREFIX/ "
                  "(docs/MODELS.md); repeatable as "
                  "NAME=SOURCE[,KEY=VALUE...] to serve several, with per-model overrides (docs/API.md)")
      ->envname("HF_MODEL_ID");
  auto from_store = std::make_shared<bool>(false);
  cmd->add_flag(
      "--models-from-store", *from_store,
      "Also serve every model of r1serve's store (R1SERVE_HOME; named NAME:TAG) and of the Hugging Face "
      "cache (HF_HUB_CACHE, a snapshot of main; named by its Hub id), each loaded on demand");
  cmd->add_option("--preload", *preload, "Load this model (a --model NAME) at start; repeatable");
  cmd->add_option("--idle-unload", *idle_unload,
                  "Unload a model idle this long: 300, 90s, 5m, 1h; 0 = as soon as idle; -1 or never = keep")
      ->envname("R1SERVE_KEEP_ALIVE")
      ->capture_default_str();
  cmd->add_option(
         "--load-wait", *load_wait,
         "Seconds a request waits for its model to load before 503 model_not_ready (0 = answer at once)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd->add_option(
         "--max-loaded-models", o->lifecycle.max_loaded_models,
         "Models loaded at once; loading another evicts the least recently used idle one (0 = no limit)")
      ->capture_default_str();
  cmd->add_option("--memory-budget", *memory_budget,
                  "Weights + KV cache of all loaded models, e.g. 8GiB; loading past it evicts idle models");
  add_tokenizer_option(cmd, o->tokenizer_dir);
  add_load_format_option(cmd, o->load_format);
  CLI::Option* host =
      cmd->add_option("--host", o->host,
                      "Address to listen on (SageMaker: 0.0.0.0; the container image: 0.0.0.0)")
          ->envname("R1SERVE_HOST")
          ->capture_default_str();
  CLI::Option* port = cmd->add_option("--port", o->port,
                                      "Port (0 = any free port, logged); default: PORT, or under SageMaker "
                                      "SAGEMAKER_BIND_TO_PORT else 8080")
                          ->capture_default_str();
  auto sagemaker = std::make_shared<bool>(false);
  cmd->add_flag("--sagemaker", *sagemaker,
                "Follow SageMaker's container contract (the default when an SM_* or SAGEMAKER_* variable is "
                "set): port SAGEMAKER_BIND_TO_PORT or 8080, host 0.0.0.0, --model /opt/ml/model when none");
  cmd->add_option("--served-model-name", o->served_model_name,
                  "Model name in the API (default: folder name)");
  cmd->add_option("--api-key", o->api_key, "Require 'Authorization: Bearer KEY' on /v1 routes");
  cmd->add_option("--aws-access-key-id", o->aws_access_key_id,
                  "Bedrock routes (/model/...): accept SigV4-signed requests from this access key id");
  cmd->add_option("--aws-secret-access-key", o->aws_secret_access_key,
                  "Bedrock routes: verify SigV4 signatures with this secret key");
  cmd->add_option("--max-concurrent-requests", o->max_concurrent_requests, "Requests in flight; more get 429")
      ->envname("MAX_CONCURRENT_REQUESTS")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--max-input-tokens", o->max_input_tokens,
                  "Longest prompt in tokens (default max_model_len-1)")
      ->envname("MAX_INPUT_TOKENS");
  cmd->add_option("--max-total-tokens", o->max_total_tokens,
                  "Longest prompt + max_tokens (default max_model_len)")
      ->envname("MAX_TOTAL_TOKENS");
  cmd->add_option("--max-body-bytes", o->max_body_bytes, "Largest request body; more gets 413")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  // Environment names too: SageMaker and other platforms that start `serve` without arguments set these.
  cmd->add_option("--kv-cache-memory", o->kv_cache_memory,
                  "KV cache budget, e.g. 2GiB (default: from free RAM)")
      ->envname("R1SERVE_KV_CACHE_MEMORY");
  add_kv_cache_dtype_option(cmd, o->kv_cache_dtype);
  cmd->add_option("--max-num-seqs", o->max_num_seqs, "Requests running at once")->capture_default_str();
  cmd->add_option("--max-batch-tokens", o->max_batch_tokens,
                  "Tokens per forward pass (prefill chunks + decodes)")
      ->envname("MAX_BATCH_PREFILL_TOKENS")
      ->capture_default_str();
  cmd->add_option("--max-model-len", o->max_model_len,
                  "Longest sequence (default: what the KV budget holds)");
  cmd->add_option("--dtype", o->dtype, "Weight precision: auto, f32, bf16, q8, q4")
      ->envname("DTYPE")
      ->capture_default_str();
  cmd->add_option("--threads", o->threads, "Compute threads (0 = all cores)")->envname("R1SERVE_THREADS");
  cmd->add_option("--io-threads", o->io_threads, "HTTP I/O threads")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--reasoning-parser", o->reasoning_parser,
                  "deepseek_r1 (split <think> into reasoning_content), none, or auto (on for R1 templates)")
      ->capture_default_str();
  cmd->add_option(
         "--max-reasoning-tokens", o->max_reasoning_tokens,
         "Default reasoning budget (R1 templates): after N thinking tokens </think> is forced and the "
         "answer starts; 0 = answer without thinking, -1 = no budget (structured output then gets "
         "half of max_tokens). A request's max_reasoning_tokens overrides it")
      ->check(CLI::Range(int64_t(-1), int64_t(INT32_MAX)))
      ->capture_default_str();
  cmd->add_option("--chat-template", o->chat_template,
                  "Jinja chat template file (replaces tokenizer_config's)");
  cmd->add_option("--drain-timeout", o->drain_timeout_s,
                  "Seconds to let in-flight requests finish on SIGTERM")
      ->capture_default_str();
  cmd->add_option(
         "--request-timeout", o->request_timeout_s,
         "Seconds a generation request may take, queue wait included (0 = no limit); past it Bedrock "
         "answers 408 ModelTimeoutException, the other APIs what was generated (finish_reason length)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd->add_option("--ssl-certfile", o->tls.certfile,
                  "Serve HTTPS with this PEM certificate chain (ALPN offers h2 and http/1.1)");
  cmd->add_option("--ssl-keyfile", o->tls.keyfile, "The certificate's PEM private key (with --ssl-certfile)");
  cmd->add_option("--ssl-ca-certs", o->tls.ca_certs,
                  "PEM CA bundle: require client certificates signed by it (mutual TLS)");
  cmd->add_option("--allowed-origins", o->cors.allowed_origins,
                  "CORS: origins whose web pages may call this server (default * = any page the user opens; "
                  "list the ones you trust when the server is reachable beyond loopback)")
      ->delimiter(',')
      ->capture_default_str();
  cmd->add_option("--allowed-methods", o->cors.allowed_methods, "CORS: methods allowed from other origins")
      ->delimiter(',')
      ->capture_default_str();
  cmd->add_option("--allowed-headers", o->cors.allowed_headers,
                  "CORS: request headers allowed from other origins")
      ->delimiter(',')
      ->capture_default_str();
  cmd->add_flag("--allow-credentials", o->cors.allow_credentials,
                "CORS: let pages of allowed origins send cookies / credentials");
  cmd->callback([&action, o, model_args, preload, idle_unload, load_wait, memory_budget, from_store, host,
                 port, sagemaker] {
    o->dtype = normalize_dtype(o->dtype);
    // Flags on the command line win; then SageMaker's variables under its contract; then PORT.
    const bool sm = *sagemaker || sagemaker_environment();
    if (!port->count()) {
      const char* bind = std::getenv("SAGEMAKER_BIND_TO_PORT");
      const char* env = std::getenv("PORT");
      if (sm && bind && *bind)
        o->port = parse_port(bind, "SAGEMAKER_BIND_TO_PORT");
      else if (sm)
        o->port = 8080;
      else if (env && *env)
        o->port = parse_port(env, "PORT");
    }
    if (sm && !host->count()) o->host = "0.0.0.0";
    std::error_code ec;
    if (sm && model_args->empty() && std::filesystem::is_directory("/opt/ml/model", ec))
      model_args->push_back("/opt/ml/model");  // where SageMaker puts the endpoint's ModelDataUrl
    action = [o, model_args, preload, idle_unload, load_wait, memory_budget, from_store] {
      if (!o->tls.enabled() && !(o->tls.keyfile.empty() && o->tls.ca_certs.empty()))
        fail("--ssl-keyfile and --ssl-ca-certs need --ssl-certfile (the server's certificate)");
      o->lifecycle.idle_unload = serving::parse_keep_alive(*idle_unload, "--idle-unload");
      o->lifecycle.load_wait = serving::Millis(int64_t(*load_wait * 1000));
      if (!memory_budget->empty())
        o->lifecycle.memory_budget = parse_byte_size(*memory_budget, "--memory-budget");
      const size_t given = model_args->size();
      if (*from_store)
        for (const std::string& id : stored_models()) model_args->push_back(id);
      if (model_args->empty() && *from_store)
        fail(
            "--models-from-store: neither the store {} nor the Hugging Face cache {} holds a model, and no "
            "--model was given",
            store::default_store_root().string(), store::hub_config_from_env().cache_dir.string());
      if (model_args->empty()) fail("--model is required (a folder, a Hub id, or NAME=SOURCE)");
      if (model_args->size() > 1 && !o->served_model_name.empty())
        fail("--served-model-name names one model; with several, name each as --model NAME=SOURCE");
      for (const std::string& a : *model_args) {
        serving::ModelArg arg = serving::parse_model_arg(a);
        serving::ModelSpec spec;
        spec.options = *o;
        // Served by name under its Hub id (as vLLM does) or store name (as Ollama does), unless NAME= or
        // --served-model-name says otherwise.
        store::ResolvedModel m = resolve_model_arg(arg.source);
        spec.options.model_dir = m.dir;
        spec.name = !arg.name.empty()               ? arg.name
                    : !o->served_model_name.empty() ? o->served_model_name
                    : !m.served_name().empty()      ? m.served_name()
                                                    : package_name(m.dir);
        spec.options.served_model_name = spec.name;
        for (const auto& [k, v] : arg.overrides) serving::apply_model_override(spec, k, v);
        // One model alone is loaded at start, as r1serve always did; several load on demand.
        spec.preload = model_args->size() == 1 && given == 1;
        o->models.push_back(std::move(spec));
      }
      for (const std::string& p : *preload) {
        auto it = std::find_if(o->models.begin(), o->models.end(), [&](auto& s) { return s.name == p; });
        if (it == o->models.end()) fail("--preload {}: no --model has that name", p);
        it->preload = true;
      }
      return server::run_server(*o);
    };
  });
}

const CommandRegistrar kRegisterServe(register_serve);

}  // namespace
}  // namespace r1::app
