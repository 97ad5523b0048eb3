#include "server/router.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <cmath>

#include "server/api_error.h"
#include "server/generation_job.h"
#include "server/openai_format.h"
#include "server/protocol.h"

namespace r1::server {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

void send_json(HttpResponder& res, int status, const json& body) {
  res.send(status, "application/json", dump_json(body));
}

void access_log(const std::string& id, const HttpRequest& req, const JobSummary& s) {
  json line = {{"event", "access"},
               {"id", id},
               {"method", req.method},
               {"path", req.path},
               {"status", s.status},
               {"prompt_tokens", s.prompt_tokens},
               {"completion_tokens", s.completion_tokens},
               {"ttft_ms", s.ttft_s < 0 ? json(nullptr) : json(std::round(s.ttft_s * 1e4) / 10)},
               {"total_ms", std::round(s.total_s * 1e4) / 10},
               {"remote", req.remote}};
  if (!s.finish_reason.empty()) line["finish_reason"] = s.finish_reason;
  if (s.client_gone) line["client_gone"] = true;
  spdlog::info("{}", dump_json(line));
}

// Holds one admission slot for as long as it lives.
struct Slot {
  std::shared_ptr<std::atomic<size_t>> counter;
  explicit Slot(std::shared_ptr<std::atomic<size_t>> c) : counter(std::move(c)) {}
  ~Slot() { counter->fetch_sub(1); }
};

bool path_is(const HttpRequest& req, const char* path) {
  return req.path == path;
}

}  // namespace

Router::Router(const ServeOptions& options, std::string model_name)
    : opt_(options), name_(std::move(model_name)), metrics_(name_) {}

void Router::set_model(std::shared_ptr<ServedModel> model) {
  std::lock_guard lock(mu_);
  model_ = std::move(model);
}

std::shared_ptr<ServedModel> Router::model() const {
  std::lock_guard lock(mu_);
  return model_;
}

void Router::set_draining() {
  draining_ = true;
}

std::shared_ptr<ServedModel> Router::require_model() const {
  auto m = model();
  if (!m)
    throw ApiError(503, "the model is still loading; retry when GET /health answers 200",
                   "service_unavailable_error", std::nullopt, "model_loading");
  return m;
}

void Router::check_model_name(const json& body, const ServedModel& m) const {
  auto it = body.find("model");
  if (it == body.end() || it->is_null()) return;
  if (!it->is_string()) bad_request("'model' must be a string", "model");
  if (it->get<std::string>() != m.name)
    not_found(fmt::format("The model `{}` does not exist. This server serves `{}`.", it->get<std::string>(),
                          m.name),
              "model", "model_not_found");
}

void Router::handle(const HttpRequest& req, std::shared_ptr<HttpResponder> res) {
  const auto t0 = Clock::now();
  std::string rid = new_request_id("req-");
  JobSummary s;
  s.id = rid;
  try {
    const bool get = req.method == "GET", post = req.method == "POST";
    if (path_is(req, "/health") || path_is(req, "/ping")) {
      if (!get && !post) throw ApiError(405, "use GET", "invalid_request_error");
      if (draining_)
        throw ApiError(503, "shutting down", "service_unavailable_error", std::nullopt, "draining");
      require_model();
      send_json(*res, 200, {{"status", "ok"}});
      return;
    }
    if (path_is(req, "/metrics")) {
      EngineStats st;
      if (auto m = model()) st = m->engine->stats();
      res->send(200, "text/plain; version=0.0.4; charset=utf-8", metrics_.render(st));
      return;
    }
    if (path_is(req, "/version")) {
      send_json(*res, 200, {{"version", "0.1.0"}});
      return;
    }
    if (!opt_.api_key.empty() && req.header("authorization") != "Bearer " + opt_.api_key) {
      throw ApiError(401,
                     "Incorrect API key provided. Send it as the header 'Authorization: Bearer <key>' "
                     "(the server's --api-key).",
                     "invalid_request_error", std::nullopt, "invalid_api_key");
    }
    bool chat = path_is(req, "/v1/chat/completions");
    if (chat || path_is(req, "/v1/completions")) {
      if (!post) throw ApiError(405, fmt::format("{} takes POST", req.path), "invalid_request_error");
      generate(req, res, chat, rid);
      return;
    }
    if (path_is(req, "/v1/models") || req.path.starts_with("/v1/models/")) {
      if (!get) throw ApiError(405, "use GET", "invalid_request_error");
      auto m = require_model();
      json card = {{"id", m->name},
                   {"object", "model"},
                   {"created", m->created},
                   {"owned_by", "r1serve"},
                   {"root", m->dir},
                   {"parent", nullptr},
                   {"max_model_len", m->engine->max_model_len()},
                   {"permission", json::array()}};
      if (path_is(req, "/v1/models")) {
        send_json(*res, 200, {{"object", "list"}, {"data", json::array({card})}});
      } else {
        std::string id = req.path.substr(std::string("/v1/models/").size());
        if (id != m->name)
          not_found(fmt::format("The model `{}` does not exist.", id), "model", "model_not_found");
        send_json(*res, 200, card);
      }
      return;
    }
    if (path_is(req, "/tokenize") || path_is(req, "/detokenize")) {
      if (!post) throw ApiError(405, fmt::format("{} takes POST", req.path), "invalid_request_error");
      if (path_is(req, "/tokenize"))
        tokenize(req, *res);
      else
        detokenize(req, *res);
      return;
    }
    throw ApiError(404, fmt::format("no route for {} {}", req.method, req.path), "invalid_request_error",
                   std::nullopt, "not_found");
  } catch (const ApiError& e) {
    s.status = e.status();
    HeaderList h;
    if (e.status() == 401) h.emplace_back("WWW-Authenticate", "Bearer");
    if (e.status() == 429 || e.status() == 503) h.emplace_back("Retry-After", "1");
    res->send(e.status(), "application/json", dump_json(e.to_json()), h);
    s.finish_reason.clear();
  } catch (const r1::Error& e) {
    s.status = 400;
    ApiError a(400, e.what(), "invalid_request_error");
    send_json(*res, 400, a.to_json());
  }
  s.total_s = std::chrono::duration<double>(Clock::now() - t0).count();
  if (req.path != "/metrics" && req.path != "/health") access_log(rid, req, s);
}

void Router::generate(const HttpRequest& req, std::shared_ptr<HttpResponder> res, bool chat,
                      const std::string& rid) {
  if (draining_)
    throw ApiError(503, "the server is shutting down", "service_unavailable_error", std::nullopt, "draining");
  auto m = require_model();
  json body = parse_json_body(req.body);
  ApiRequest r = chat ? parse_chat_request(body, m->sampling_defaults)
                      : parse_completion_request(body, m->sampling_defaults);
  check_model_name(body, *m);

  // Admission: one slot per request, held until the engine has finished all its choices.
  if (in_flight_->fetch_add(1) >= opt_.max_concurrent_requests) {
    in_flight_->fetch_sub(1);
    throw ApiError(429,
                   fmt::format("Too many requests in flight: the server takes {} at once "
                               "(--max-concurrent-requests). Retry shortly.",
                               opt_.max_concurrent_requests),
                   "rate_limit_error", std::nullopt, "rate_limit_exceeded");
  }
  auto slot = std::make_shared<Slot>(in_flight_);

  std::vector<GenerationJob::Prompt> prompts;
  const Tokenizer& tok = *m->tokenizer;
  const char* prompt_field = chat ? "messages" : "prompt";
  if (chat) {
    if (!m->chat_template)
      bad_request(
          fmt::format("model `{}` has no chat template (tokenizer_config.json has no chat_template); start "
                      "the server with --chat-template FILE, or use /v1/completions",
                      m->name),
          "messages");
    json ctx = m->special_tokens;
    ctx["messages"] = r.messages;
    ctx["add_generation_prompt"] = r.add_generation_prompt;
    if (!r.tools.is_null()) ctx["tools"] = r.tools;
    std::string text;
    try {
      text = m->chat_template->render(ctx);
    } catch (const r1::Error& e) {
      bad_request(fmt::format("the chat template refused these messages: {}", e.what()), "messages");
    }
    prompts.push_back({tok.encode(text, false), ""});
  } else {
    for (const PromptInput& p : r.prompts) {
      if (p.text) {
        prompts.push_back({tok.encode(*p.text, true), *p.text});
      } else {
        for (int32_t id : p.ids)
          if (size_t(id) >= m->engine->vocab_size())
            bad_request(fmt::format("'prompt' holds token id {}, outside the vocabulary of {} ids", id,
                                    m->engine->vocab_size()),
                        "prompt");
        std::string text = r.echo ? tok.decode(p.ids, r.skip_special_tokens) : "";
        prompts.push_back({p.ids, std::move(text)});
      }
    }
  }

  // Length limits (TGI's MAX_INPUT_TOKENS / MAX_TOTAL_TOKENS; max_model_len bounds both).
  size_t longest = 0;
  for (const auto& p : prompts) {
    if (p.ids.empty())
      bad_request(fmt::format("'{}' is empty after tokenization", prompt_field), prompt_field);
    if (p.ids.size() > m->max_input_tokens)
      throw ApiError(400,
                     fmt::format("the prompt has {} tokens, more than the limit of {} input tokens "
                                 "(--max-input-tokens; max_model_len {})",
                                 p.ids.size(), m->max_input_tokens, m->engine->max_model_len()),
                     "invalid_request_error", prompt_field, "context_length_exceeded");
    longest = std::max(longest, p.ids.size());
  }
  size_t max_tokens = 0;
  if (r.max_tokens) {
    max_tokens = size_t(*r.max_tokens);
    if (longest + max_tokens > m->max_total_tokens)
      throw ApiError(
          400,
          fmt::format("the prompt ({} tokens) plus max_tokens ({}) is {} tokens, more than the limit of {} "
                      "total tokens (--max-total-tokens; max_model_len {}). Lower max_tokens or "
                      "shorten the prompt.",
                      longest, max_tokens, longest + max_tokens, m->max_total_tokens,
                      m->engine->max_model_len()),
          "invalid_request_error", chat ? "max_completion_tokens" : "max_tokens", "context_length_exceeded");
  } else {
    max_tokens = m->max_total_tokens - longest;  // as much as fits (vLLM's default)
  }

  HttpRequest logged = req;
  logged.body.clear();
  auto job = std::make_shared<GenerationJob>(
      *m, metrics_, std::move(r), res,
      [slot, logged, rid, m](const JobSummary& s) { access_log(s.id, logged, s); });
  job->start(std::move(prompts), max_tokens);
}

void Router::tokenize(const HttpRequest& req, HttpResponder& res) {
  auto m = require_model();
  json body = parse_json_body(req.body);
  check_model_name(body, *m);
  const Tokenizer& tok = *m->tokenizer;
  std::vector<int32_t> ids;
  if (body.contains("messages")) {
    // vLLM's chat form: the rendered conversation, no special tokens added on top of the template's.
    ApiRequest r = parse_chat_request(body, {});
    if (!m->chat_template) bad_request("this model has no chat template (see --chat-template)", "messages");
    json ctx = m->special_tokens;
    ctx["messages"] = r.messages;
    ctx["add_generation_prompt"] = r.add_generation_prompt;
    std::string text;
    try {
      text = m->chat_template->render(ctx);
    } catch (const r1::Error& e) {
      bad_request(fmt::format("the chat template refused these messages: {}", e.what()), "messages");
    }
    bool special = body.value("add_special_tokens", false);
    ids = tok.encode(text, special);
  } else {
    auto p = body.find("prompt");
    if (p == body.end() || !p->is_string())
      bad_request("'prompt' (a string) or 'messages' is required", "prompt");
    auto a = body.find("add_special_tokens");
    if (a != body.end() && !a->is_boolean())
      bad_request("'add_special_tokens' must be a boolean", "add_special_tokens");
    ids = tok.encode(p->get<std::string>(), a == body.end() ? true : a->get<bool>());
  }
  json out = {{"count", ids.size()},
              {"max_model_len", m->engine->max_model_len()},
              {"tokens", ids},
              {"token_strs", nullptr}};
  if (body.value("return_token_strs", false)) {
    json strs = json::array();
    for (int32_t id : ids) strs.push_back(tok.id_to_token(id));
    out["token_strs"] = strs;
  }
  send_json(res, 200, out);
}

void Router::detokenize(const HttpRequest& req, HttpResponder& res) {
  auto m = require_model();
  json body = parse_json_body(req.body);
  check_model_name(body, *m);
  auto t = body.find("tokens");
  if (t == body.end() || !t->is_array())
    bad_request("'tokens' (an array of token ids) is required", "tokens");
  std::vector<int32_t> ids;
  for (const json& x : *t) {
    if (!x.is_number_integer() || x.get<int64_t>() < 0 ||
        x.get<int64_t>() >= int64_t(m->tokenizer->vocab_size()))
      bad_request(fmt::format("'tokens' holds {}, not a token id of this vocabulary (0..{})", x.dump(),
                              m->tokenizer->vocab_size() - 1),
                  "tokens");
    ids.push_back(x.get<int32_t>());
  }
  send_json(res, 200, {{"prompt", m->tokenizer->decode(ids, false)}});
}

}  // namespace r1::server
