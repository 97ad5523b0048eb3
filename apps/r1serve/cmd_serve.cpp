// r1serve serve: the OpenAI-compatible HTTP server (src/server over src/serving). Flags default to TGI's
// environment variables where TGI has one, so a TGI deployment's environment works unchanged.
#include <cstdlib>

#include "cli_util.h"
#include "commands.h"
#include "server/serve.h"

namespace r1::app {

namespace {

// TGI's DTYPE values → ours.
std::string normalize_dtype(std::string d) {
  if (d == "bfloat16") return "bf16";
  if (d == "float32") return "f32";
  return d;
}

void register_serve(CLI::App& app, Action& action) {
  auto o = std::make_shared<server::ServeOptions>();
  CLI::App* cmd = app.add_subcommand(
      "serve", "Serve the model over the OpenAI API (chat, completions, responses, metrics)");
  cmd->add_option("--model", o->model_dir,
                  "Hugging Face model folder, or Hub id ORG/NAME[@REV] (docs/MODELS.md)")
      ->envname("HF_MODEL_ID")
      ->required();
  add_tokenizer_option(cmd, o->tokenizer_dir);
  add_load_format_option(cmd, o->load_format);
  cmd->add_option("--host", o->host, "Address to listen on")->capture_default_str();
  cmd->add_option("--port", o->port, "Port (0 = any free port, logged)")
      ->envname("PORT")
      ->capture_default_str();
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
  cmd->add_option("--kv-cache-memory", o->kv_cache_memory,
                  "KV cache budget, e.g. 2GiB (default: from free RAM)");
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
  cmd->add_option("--threads", o->threads, "Compute threads (0 = all cores)");
  cmd->add_option("--io-threads", o->io_threads, "HTTP I/O threads")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--reasoning-parser", o->reasoning_parser,
                  "deepseek_r1 (split <think> into reasoning_content), none, or auto (on for R1 templates)")
      ->capture_default_str();
  cmd->add_option("--chat-template", o->chat_template,
                  "Jinja chat template file (replaces tokenizer_config's)");
  cmd->add_option("--drain-timeout", o->drain_timeout_s,
                  "Seconds to let in-flight requests finish on SIGTERM")
      ->capture_default_str();
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
  cmd->callback([&action, o] {
    o->dtype = normalize_dtype(o->dtype);
    action = [o] {
      // Served by name under its Hub id (as vLLM does), unless --served-model-name says otherwise.
      store::ResolvedModel m = resolve_model_arg(o->model_dir);
      o->model_dir = m.dir;
      if (o->served_model_name.empty()) o->served_model_name = m.hub_id;
      return server::run_server(*o);
    };
  });
}

const CommandRegistrar kRegisterServe(register_serve);

}  // namespace
}  // namespace r1::app
