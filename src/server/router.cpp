#include "server/router.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <cmath>

#include "server/api/bedrock/bedrock_api.h"
#include "server/api/openai/completions_adapter.h"
#include "server/api/openai/openai_format.h"
#include "server/api/openai/protocol.h"
#include "server/api/openai/responses_api.h"
#include "server/api/openai/structured_fields.h"
#include "server/api/openai/tool_fields.h"
#include "server/api/sagemaker/sagemaker_api.h"
#include "server/api/tgi/tgi_api.h"
#include "server/api_error.h"
#include "server/web_page.h"

namespace r1::server {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

void send_json(HttpResponder& res, int status, const json& body) {
  res.send(status, "application/json", dump_json(body));
}

void access_log(const std::string& rid, const std::string& id, const HttpRequest& req, int status,
                const serving::GenerationSummary& s) {
  json line = {{"event", "access"},
               {"id", id},
               {"request_id", rid},
               {"method", req.method},
               {"path", req.path},
               {"status", status},
               {"prompt_tokens", s.prompt_tokens},
               {"completion_tokens", s.completion_tokens},
               {"ttft_ms", s.ttft_s < 0 ? json(nullptr) : json(std::round(s.ttft_s * 1e4) / 10)},
               {"total_ms", std::round(s.total_s * 1e4) / 10},
               {"remote", req.remote}};
  if (!s.finish_reason.empty()) line["finish_reason"] = s.finish_reason;
  if (s.cancelled) line["client_gone"] = true;
  spdlog::info("{}", dump_json(line));
}

// Adds headers (x-request-id, CORS) to whatever the handler answers.
class HeaderResponder final : public HttpResponder {
 public:
  HeaderResponder(std::shared_ptr<HttpResponder> inner, HeaderList extra)
      : inner_(std::move(inner)), extra_(std::move(extra)) {}
  void send(int status, std::string content_type, std::string body, HeaderList headers) override {
    headers.insert(headers.end(), extra_.begin(), extra_.end());
    inner_->send(status, std::move(content_type), std::move(body), std::move(headers));
  }
  void begin_stream(int status, std::string content_type, HeaderList headers) override {
    headers.insert(headers.end(), extra_.begin(), extra_.end());
    inner_->begin_stream(status, std::move(content_type), std::move(headers));
  }
  void write(std::string data) override { inner_->write(std::move(data)); }
  void end_stream() override { inner_->end_stream(); }
  bool closed() const override { return inner_->closed(); }
  void on_disconnect(std::function<void()> fn) override { inner_->on_disconnect(std::move(fn)); }

 private:
  std::shared_ptr<HttpResponder> inner_;
  HeaderList extra_;
};

// The client's x-request-id when it is a sane token (printable, at most 128 bytes), else a fresh one.
std::string request_id(const HttpRequest& req) {
  std::string id = req.header("x-request-id");
  bool ok = !id.empty() && id.size() <= 128;
  for (char c : id) ok = ok && c > 32 && c < 127;
  return ok ? id : new_request_id("");
}

[[noreturn]] void method_not_allowed(const std::string& path, const char* allowed) {
  throw ApiError(405, fmt::format("{} takes {}", path, allowed), "invalid_request_error");
}

// Answers a failed request with OpenAI's error JSON; returns the status. Retry-After goes with 429 and 503
// (the serving layer's estimate when it has one, e.g. how long the model's last load took).
int answer_error(HttpResponder& res, std::exception_ptr error) {
  try {
    std::rethrow_exception(error);
  } catch (const serving::ServingError& e) {
    ApiError a = to_api_error(e);
    HeaderList h;
    if (a.status() == 429 || a.status() == 503)
      h.emplace_back("Retry-After", std::to_string(e.retry_after().value_or(1)));
    res.send(a.status(), "application/json", dump_json(a.to_json()), h);
    return a.status();
  } catch (const ApiError& e) {
    HeaderList h;
    if (e.status() == 401) h.emplace_back("WWW-Authenticate", "Bearer");
    if (e.status() == 429 || e.status() == 503) h.emplace_back("Retry-After", "1");
    res.send(e.status(), "application/json", dump_json(e.to_json()), h);
    return e.status();
  } catch (const r1::Error& e) {
    ApiError a(400, e.what(), "invalid_request_error");
    send_json(res, 400, a.to_json());
    return 400;
  } catch (const std::exception& e) {
    ApiError a(500, e.what(), "internal_server_error");
    send_json(res, 500, a.to_json());
    return 500;
  }
}

// The model a JSON body names and its Ollama-style keep_alive (seconds or a duration; removed from the body,
// since no OpenAI adapter knows it). A body that is not a JSON object names nothing: the adapter says why.
struct ModelHint {
  std::optional<std::string> model;
  std::optional<std::optional<serving::Millis>> keep_alive;
};
ModelHint take_model_hint(HttpRequest& req) {
  ModelHint h;
  json body = json::parse(req.body, nullptr, false);
  if (!body.is_object()) return h;
  if (auto it = body.find("model"); it != body.end() && it->is_string()) h.model = it->get<std::string>();
  auto ka = body.find("keep_alive");
  if (ka == body.end()) return h;
  if (ka->is_number()) {
    h.keep_alive = serving::keep_alive_from_seconds(ka->get<double>());
  } else if (ka->is_string()) {
    try {
      h.keep_alive = serving::parse_keep_alive(ka->get<std::string>(), "'keep_alive'");
    } catch (const r1::Error& e) {
      bad_request(e.what(), "keep_alive");
    }
  } else if (!ka->is_null()) {
    bad_request("'keep_alive' must be a number of seconds or a duration such as \"5m\"", "keep_alive");
  }
  body.erase("keep_alive");
  req.body = body.dump();
  return h;
}

std::optional<std::string> body_model(const json& body) {
  if (auto it = body.find("model"); it != body.end() && it->is_string()) return it->get<std::string>();
  return std::nullopt;
}

json model_card(const serving::ModelStatus& m) {
  json card = {{"id", m.name},
               {"object", "model"},
               {"created", m.created},
               {"owned_by", "r1serve"},
               {"root", m.dir},
               {"parent", nullptr},
               {"max_model_len", m.max_model_len ? json(m.max_model_len) : json(nullptr)},
               {"permission", json::array()},
               {"state", serving::to_string(m.state)},
               {"size", m.bytes},
               {"size_measured", m.bytes_measured},
               {"expires_at", m.expires_at ? json(*m.expires_at) : json(nullptr)},
               {"keep_alive", serving::keep_alive_name(m.keep_alive)},
               {"in_flight", m.in_flight}};
  if (m.last_error) card["last_error"] = *m.last_error;
  // r1serve's own fields: what a client needs to start its settings from the model's (the chat page's do).
  json gen = nullptr;
  if (m.sampling_defaults) {
    const serving::SamplingDefaults& d = *m.sampling_defaults;
    gen = json::object();
    if (d.temperature) gen["temperature"] = *d.temperature;
    if (d.top_p) gen["top_p"] = *d.top_p;
    if (d.top_k) gen["top_k"] = *d.top_k;
    if (d.min_p) gen["min_p"] = *d.min_p;
    if (d.repetition_penalty) gen["repetition_penalty"] = *d.repetition_penalty;
  }
  card["r1serve"] = {{"generation_config", gen},
                     {"reasoning", m.sampling_defaults ? json(m.reasoning) : json(nullptr)}};
  return card;
}

}  // namespace

namespace {
std::vector<serving::ModelSpec> model_specs(const ServeOptions& o, const std::string& name) {
  if (!o.models.empty()) return o.models;
  serving::ModelSpec one;
  one.name = name;
  one.options = o;
  one.options.served_model_name = name;
  one.preload = true;  // one --model SOURCE: loaded at start, as before
  return {one};
}
}  // namespace

Router::Router(const ServeOptions& options, std::string model_name)
    : opt_(options),
      metrics_(options.models.empty() ? model_name : options.models.front().name),
      service_(model_specs(options, model_name), options.lifecycle, options.max_concurrent_requests,
               &metrics_, &metrics_),
      cors_(options.cors),
      responses_(std::make_unique<ResponsesApi>(service_)),
      bedrock_(std::make_unique<bedrock::BedrockApi>(service_, opt_)),
      tgi_(std::make_unique<tgi::TgiApi>(service_, opt_)),
      sagemaker_(std::make_unique<sagemaker::SageMakerApi>(service_, opt_)) {
  if (options.request_timeout_s > 0)
    service_.set_request_timeout(std::chrono::milliseconds(int64_t(options.request_timeout_s * 1000)));
}

Router::~Router() = default;

void Router::set_model(std::shared_ptr<serving::ServedModel> model) {
  metrics_.set_max_model_len(model->engine->max_model_len());
  service_.models().publish(std::move(model));
}

void Router::start() {
  service_.models().start();
}

void Router::set_draining() {
  service_.set_draining();
}

void Router::handle(const HttpRequest& req, std::shared_ptr<HttpResponder> raw_res) {
  const auto t0 = Clock::now();
  const std::string rid = request_id(req);
  if (auto pf = cors_.preflight(req)) {
    pf->headers.emplace_back("x-request-id", rid);
    raw_res->send(pf->status, "", pf->body, pf->headers);
    access_log(rid, rid, req, pf->status, {});
    return;
  }
  HeaderList extra = cors_.response_headers(req);
  extra.emplace_back("x-request-id", rid);
  auto res = std::make_shared<HeaderResponder>(std::move(raw_res), std::move(extra));
  // A trailing slash names the same route ("/v1/models/" is "/v1/models").
  std::string path = req.path;
  while (path.size() > 1 && path.back() == '/') path.pop_back();

  int status = 200;
  try {
    route(req, path, res, rid);
    return;  // generation requests log when they finish; the others below
  } catch (...) {
    status = answer_error(*res, std::current_exception());
  }
  serving::GenerationSummary s;
  s.total_s = std::chrono::duration<double>(Clock::now() - t0).count();
  if (path != "/metrics" && path != "/health") access_log(rid, rid, req, status, s);
}

void Router::route(const HttpRequest& req, const std::string& path, const std::shared_ptr<HttpResponder>& res,
                   const std::string& rid) {
  const auto t0 = Clock::now();
  const bool get = req.method == "GET" || req.method == "HEAD", post = req.method == "POST";
  auto done = [&](int status) {
    if (path == "/metrics" || path == "/health") return;
    serving::GenerationSummary s;
    s.total_s = std::chrono::duration<double>(Clock::now() - t0).count();
    access_log(rid, rid, req, status, s);
  };
  if (path == "/ping") {  // SageMaker's health check: 200 once the default model serves
    if (!get && !post) method_not_allowed(path, "GET");
    if (service_.draining())
      throw ApiError(503, "shutting down", "service_unavailable_error", std::nullopt, "draining");
    auto m = service_.models().status(service_.models().default_name());
    if (!m || m->state != serving::ModelState::loaded) {
      // A default model that loads on demand (or was unloaded when idle) starts loading now.
      if (m && m->state == serving::ModelState::unloaded && !service_.models().starting())
        service_.models().when_ready(std::nullopt, std::nullopt, [](auto, auto) {});
      throw ApiError(503,
                     fmt::format("the model `{}` is not loaded yet; retry when GET /ping answers 200",
                                 service_.models().default_name()),
                     "service_unavailable_error", std::nullopt, "model_loading");
    }
    send_json(*res, 200, {{"status", "ok"}});
    return done(200);
  }
  if (path == "/health") {
    if (!get && !post) method_not_allowed(path, "GET");
    if (service_.draining())
      throw ApiError(503, "shutting down", "service_unavailable_error", std::nullopt, "draining");
    // Only a --preload model's first load holds it back: with every model unloaded (scaled to zero) the
    // server is alive and answers 200; readiness per model is in /v1/models.
    if (service_.models().starting())
      throw ApiError(503, "the model is still loading; retry when GET /health answers 200",
                     "service_unavailable_error", std::nullopt, "model_loading");
    send_json(*res, 200, {{"status", "ok"}});
    return done(200);
  }
  if (path == "/metrics") {
    if (!get) method_not_allowed(path, "GET");
    std::vector<ModelEngineStats> engines;
    for (const auto& m : service_.models().loaded())
      if (m->engine) engines.push_back({m->name, m->engine->stats()});
    res->send(200, "text/plain; version=0.0.4; charset=utf-8",
              metrics_.render(engines, service_.models().status()));
    return done(200);
  }
  if (path == "/version") {
    if (!get) method_not_allowed(path, "GET");
    send_json(*res, 200, {{"version", "0.1.0"}});
    return done(200);
  }
  if (path.starts_with("/model/")) {  // Bedrock Runtime: its own auth and error form
    HttpRequest logged = req;
    logged.body.clear();
    bedrock_->handle(req, path, res, rid,
                     [logged, rid](const std::string& id, int status, const serving::GenerationSummary& s) {
                       access_log(rid, id, logged, status, s);
                     });
    return;
  }
  if (path == "/invocations") {  // SageMaker's container contract: the body's protocol answers
    if (!post) method_not_allowed(path, "POST");
    return route(req, sagemaker::protocol_route(sagemaker::body_protocol(req.body)), res, rid);
  }
  if (path.starts_with("/endpoints/")) {  // SageMaker Runtime: its own auth and error form
    sagemaker_->handle(req, path, res, rid,
                       [this, rid](const HttpRequest& r, const std::string& p,
                                   std::shared_ptr<HttpResponder> w, std::optional<std::string> model) {
                         try {
                           if (p == "/") return tgi_call(r, p, w, rid, model);
                           route(r, p, w, rid);
                         } catch (...) {
                           answer_error(*w, std::current_exception());
                         }
                       });
    return;
  }
  if (is_web_page_path(req.method, path)) {  // the chat page: loads without a key (it asks for one on 401)
    return done(serve_web_page(req, path, *res));
  }
  if (tgi::TgiApi::routes(req.method, path)) {  // TGI's own API: its own error form
    return tgi_call(req, path, res, rid, std::nullopt);
  }
  if (!opt_.api_key.empty() && req.header("authorization") != "Bearer " + opt_.api_key) {
    throw ApiError(401,
                   "Incorrect API key provided. Send it as the header 'Authorization: Bearer <key>' "
                   "(the server's --api-key).",
                   "invalid_request_error", std::nullopt, "invalid_api_key");
  }
  bool chat = path == "/v1/chat/completions";
  if (chat || path == "/v1/completions") {
    if (!post) method_not_allowed(path, "POST");
    return with_model(req, res, rid,
                      [this, res, chat, rid](const HttpRequest& r) { generate(r, res, chat, rid); });
  }
  if (path == "/v1/responses" || path.starts_with("/v1/responses/")) {
    auto respond = [this, path, res, rid](const HttpRequest& r) {
      auto on_finished = [rid, r](const std::string& id, int status, const serving::GenerationSummary& s) {
        HttpRequest logged = r;
        logged.body.clear();
        access_log(rid, id, logged, status, s);
      };
      if (!responses_->handle(r, path, res, on_finished)) access_log(rid, rid, r, 200, {});
    };
    if (path == "/v1/responses" && post) return with_model(req, res, rid, respond);
    if (responses_->handle(
            req, path, res,
            [rid, req](const std::string& id, int status, const serving::GenerationSummary& s) {
              HttpRequest logged = req;
              logged.body.clear();
              access_log(rid, id, logged, status, s);
            }))
      return;
    return done(200);
  }
  if (path == "/v1/models" || path.starts_with("/v1/models/")) {
    if (!get) method_not_allowed(path, "GET");
    if (path == "/v1/models") {
      json data = json::array();
      for (const auto& m : service_.models().status()) data.push_back(model_card(m));
      send_json(*res, 200, {{"object", "list"}, {"data", data}});
    } else {
      std::string id = path.substr(std::string("/v1/models/").size());
      auto m = service_.models().status(id);
      if (!m) not_found(fmt::format("The model `{}` does not exist.", id), "model", "model_not_found");
      send_json(*res, 200, model_card(*m));
    }
    return done(200);
  }
  if (path == "/tokenize" || path == "/detokenize") {
    if (!post) method_not_allowed(path, "POST");
    return with_model(req, res, rid, [this, path, res, rid](const HttpRequest& r) {
      if (path == "/tokenize")
        tokenize(r, *res);
      else
        detokenize(r, *res);
      access_log(rid, rid, r, 200, {});
    });
  }
  throw ApiError(404, fmt::format("no route for {} {}", req.method, req.path), "invalid_request_error",
                 std::nullopt, "not_found");
}

void Router::tgi_call(const HttpRequest& req, const std::string& path,
                      const std::shared_ptr<HttpResponder>& res, const std::string& rid,
                      std::optional<std::string> model) {
  HttpRequest logged = req;
  logged.body.clear();
  tgi_->handle(
      req, path, res, rid,
      [logged, rid](const std::string& id, int status, const serving::GenerationSummary& s) {
        access_log(rid, id, logged, status, s);
      },
      std::move(model));
}

void Router::with_model(const HttpRequest& req, const std::shared_ptr<HttpResponder>& res,
                        const std::string& rid, std::function<void(const HttpRequest&)> fn) {
  if (service_.draining())
    throw ApiError(503, "the server is shutting down", "service_unavailable_error", std::nullopt, "draining");
  HttpRequest r = req;
  ModelHint hint = take_model_hint(r);
  const auto t0 = Clock::now();
  service_.models().when_ready(hint.model, hint.keep_alive,
                               [r, res, rid, t0, fn = std::move(fn)](
                                   std::shared_ptr<serving::ServedModel> lease, std::exception_ptr err) {
                                 // The lease keeps the model loaded until the request has its own (the
                                 // generation's).
                                 int status = 0;
                                 if (!err) {
                                   try {
                                     fn(r);
                                     return;
                                   } catch (...) {
                                     err = std::current_exception();
                                   }
                                 }
                                 status = answer_error(*res, err);
                                 serving::GenerationSummary s;
                                 s.total_s = std::chrono::duration<double>(Clock::now() - t0).count();
                                 HttpRequest logged = r;
                                 logged.body.clear();
                                 access_log(rid, rid, logged, status, s);
                                 (void)lease;
                               });
}

void Router::generate(const HttpRequest& req, std::shared_ptr<HttpResponder> res, bool chat,
                      const std::string& rid) {
  if (service_.draining())
    throw ApiError(503, "the server is shutting down", "service_unavailable_error", std::nullopt, "draining");
  json body = parse_json_body(req.body);
  auto m = service_.models().get(body_model(body));
  refuse_unknown_fields(body, chat ? kChatFields : kCompletionFields, /*shared=*/true);
  ApiRequest r = chat ? parse_chat_request(body, m->sampling_defaults)
                      : parse_completion_request(body, m->sampling_defaults);
  keep_schema_order(r.format, req.body);
  if (chat && (body.contains("tools") || body.contains("tool_choice")))
    r.tool_request = parse_tool_fields(req.body, /*responses=*/false);
  HttpRequest logged = req;
  logged.body.clear();
  run_openai_completion(
      service_, std::move(r), res, m->name,
      [logged, rid](const std::string& id, int status, const serving::GenerationSummary& s) {
        access_log(rid, id, logged, status, s);
      });
}

void Router::tokenize(const HttpRequest& req, HttpResponder& res) {
  json body = parse_json_body(req.body);
  auto m = service_.models().get(body_model(body));
  refuse_unknown_fields(body, {"model", "prompt", "messages", "add_special_tokens", "add_generation_prompt",
                               "return_token_strs"});
  if (auto it = body.find("model"); it != body.end() && !it->is_null()) {
    if (!it->is_string()) bad_request("'model' must be a string", "model");
    service_.models().get(it->get<std::string>());
  }
  const Tokenizer& tok = *m->tokenizer;
  std::vector<int32_t> ids;
  if (body.contains("messages")) {
    // vLLM's chat form: the rendered conversation, no special tokens added on top of the template's.
    ApiRequest r = parse_chat_request(body, {});
    std::string text =
        serving::Service::render_chat(*m, {r.messages, nullptr, r.add_generation_prompt}, "messages");
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
  json body = parse_json_body(req.body);
  auto m = service_.models().get(body_model(body));
  refuse_unknown_fields(body, {"model", "tokens"});
  if (auto it = body.find("model"); it != body.end() && !it->is_null()) {
    if (!it->is_string()) bad_request("'model' must be a string", "model");
    service_.models().get(it->get<std::string>());
  }
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
