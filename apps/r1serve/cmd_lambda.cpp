// r1serve lambda: the AWS Lambda custom runtime (src/lambda). A `bootstrap` runs it; it loads the model once
// and answers invocations from the Runtime API at AWS_LAMBDA_RUNTIME_API (docs/DEPLOY.md).
#include <cstdlib>
#include <memory>

#include "cli_util.h"
#include "commands.h"
#include "core/error.h"
#include "lambda/lambda_runtime.h"
#include "model/model_package.h"
#include "server/serve_options.h"
#include "serving/model_spec.h"

namespace r1::app {

namespace {

void register_lambda(CLI::App& app, Action& action) {
  auto o = std::make_shared<server::ServeOptions>();
  auto lo = std::make_shared<lambda::LambdaOptions>();
  auto model = std::make_shared<std::string>();
  auto margin_ms = std::make_shared<int64_t>(500);
  CLI::App* cmd = app.add_subcommand(
      "lambda", "AWS Lambda custom runtime: answer {\"prompt\"} and Function URL events (docs/DEPLOY.md)");
  cmd->add_option("--model", *model,
                  "Model folder (e.g. /opt/model from a layer or the image), store name, Hub id or s3:// URL")
      ->envname("R1SERVE_MODEL");
  cmd->add_option("--runtime-api", lo->runtime_api, "Lambda Runtime API HOST:PORT")
      ->envname("AWS_LAMBDA_RUNTIME_API");
  cmd->add_option("--deadline-margin-ms", *margin_ms,
                  "Generation stops this many ms before the invocation's deadline, leaving time to answer")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd->add_option("--invoke-mode", lo->invoke_mode,
                  "The Function URL's InvokeMode: BUFFERED (answers whole) or RESPONSE_STREAM (Function URL "
                  "events stream their answer, an SSE chat token by token)")
      ->envname("R1SERVE_LAMBDA_INVOKE_MODE")
      ->transform(CLI::IsMember({"BUFFERED", "RESPONSE_STREAM"}, CLI::ignore_case))
      ->capture_default_str();
  cmd->add_option("--max-invocations", lo->max_invocations, "Exit after this many invocations (0 = never)")
      ->capture_default_str();
  add_tokenizer_option(cmd, o->tokenizer_dir);
  add_load_format_option(cmd, o->load_format);
  cmd->add_option("--served-model-name", o->served_model_name,
                  "Model name in answers (default: folder name)");
  cmd->add_option("--max-concurrent-requests", o->max_concurrent_requests, "Requests in flight; more get 429")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--max-input-tokens", o->max_input_tokens, "Longest prompt in tokens");
  cmd->add_option("--max-total-tokens", o->max_total_tokens, "Longest prompt + max_tokens");
  cmd->add_option("--kv-cache-memory", o->kv_cache_memory,
                  "KV cache budget, e.g. 512MiB (default: from free RAM)");
  add_kv_cache_dtype_option(cmd, o->kv_cache_dtype);
  cmd->add_option("--max-num-seqs", o->max_num_seqs, "Requests running at once")->capture_default_str();
  cmd->add_option("--max-batch-tokens", o->max_batch_tokens, "Tokens per forward pass")
      ->capture_default_str();
  cmd->add_option("--max-model-len", o->max_model_len,
                  "Longest sequence (default: what the KV budget holds)");
  cmd->add_option("--dtype", o->dtype, "Weight precision: auto, f32, bf16, q8, q4")->capture_default_str();
  cmd->add_option("--threads", o->threads, "Compute threads (0 = all cores)");
  cmd->add_option("--reasoning-parser", o->reasoning_parser, "deepseek_r1, none, or auto")
      ->capture_default_str();
  cmd->add_option("--max-reasoning-tokens", o->max_reasoning_tokens, "Default reasoning budget (-1 = none)")
      ->check(CLI::Range(int64_t(-1), int64_t(INT32_MAX)))
      ->capture_default_str();
  cmd->add_option("--chat-template", o->chat_template,
                  "Jinja chat template file (replaces tokenizer_config's)");
  cmd->add_option("--api-key", o->api_key,
                  "Require 'Authorization: Bearer KEY' on /v1 routes of Function URL events");
  cmd->callback([&action, o, lo, model, margin_ms] {
    action = [o, lo, model, margin_ms] {
      if (lo->runtime_api.empty())
        fail("AWS_LAMBDA_RUNTIME_API is not set (or pass --runtime-api HOST:PORT)");
      lo->deadline_margin = std::chrono::milliseconds(*margin_ms);
      return lambda::run_lambda(*lo, [o, model] {
        if (model->empty()) fail("--model is required (or R1SERVE_MODEL)");
        server::ServeOptions opt = *o;
        serving::ModelArg arg = serving::parse_model_arg(*model);
        store::ResolvedModel m = resolve_model_arg(arg.source);
        serving::ModelSpec spec;
        spec.options = opt;
        spec.options.model_dir = m.dir;
        spec.name = !arg.name.empty()                ? arg.name
                    : !opt.served_model_name.empty() ? opt.served_model_name
                    : !m.served_name().empty()       ? m.served_name()
                                                     : package_name(m.dir);
        spec.options.served_model_name = spec.name;
        for (const auto& [k, v] : arg.overrides) serving::apply_model_override(spec, k, v);
        spec.preload = true;
        opt.models.push_back(std::move(spec));
        return opt;
      });
    };
  });
}

const CommandRegistrar kRegisterLambda(register_lambda);

}  // namespace
}  // namespace r1::app
