#include "server/api/tgi/tgi_api.h"

#include <fmt/format.h>

#include "server/api/tgi/tgi_error.h"
#include "server/api/tgi/tgi_request.h"
#include "server/api/tgi/tgi_writer.h"
#include "server/api_error.h"

namespace r1::server::tgi {

using nlohmann::json;

namespace {

// Whether a body asks POST / to stream; a body too broken to say is answered whole (its 422).
bool body_streams(const std::string& body) {
  json j = json::parse(body, nullptr, false);
  if (!j.is_object()) return false;
  auto it = j.find("stream");
  return it != j.end() && it->is_boolean() && it->get<bool>();
}

// The request's refusal as TGI answers it: inside the stream for a refused value or an overload (TGI
// validates and admits inside its stream), with a status otherwise.
void answer_error(HttpResponder& res, std::exception_ptr error, bool stream, int& status) {
  TgiError e;
  bool in_stream = false;
  try {
    std::rethrow_exception(error);
  } catch (const ValidationFailure& f) {
    e = from_api(f);
    in_stream = stream;
  } catch (const serving::ServingError& s) {
    e = from_serving(s);
    in_stream = stream && (e.status == 422 || e.status == 429);
  } catch (const ApiError& a) {
    e = from_api(a);
  } catch (const r1::Error& x) {
    e = {422, "validation", std::string("Input validation error: ") + x.what()};
  } catch (const std::exception& x) {
    e = {500, "generation", std::string("Request failed during generation: ") + x.what()};
  }
  status = e.status;
  if (in_stream)
    send_stream_error(res, e.to_json());
  else
    send_error(res, e);
}

}  // namespace

bool TgiApi::routes(const std::string& method, const std::string& path) {
  return path == "/generate" || path == "/generate_stream" || path == "/info" ||
         (path == "/" && method == "POST");
}

void TgiApi::handle(const HttpRequest& req, const std::string& path,
                    const std::shared_ptr<HttpResponder>& res, const std::string& rid,
                    const OnGenerationFinished& on_finished, std::optional<std::string> model) {
  const bool compat = path == "/";
  const bool stream = path == "/generate_stream" || (compat && body_streams(req.body));
  int status = 200;
  try {
    if (!opt_.api_key.empty() && req.header("authorization") != "Bearer " + opt_.api_key)
      throw ApiError(401, "Unauthorized: send the server's --api-key as 'Authorization: Bearer <key>'",
                     "unauthorized");
    if (path == "/info") {
      if (req.method != "GET" && req.method != "HEAD")
        throw ApiError(405, "/info takes GET", "method_not_allowed");
      res->send(200, "application/json", dump_json(info()));
      if (on_finished) on_finished(rid, 200, {});
      return;
    }
    if (req.method != "POST") throw ApiError(405, fmt::format("{} takes POST", path), "method_not_allowed");
    if (service_.draining())
      throw serving::ServingError(serving::ErrorKind::unavailable, "the server is shutting down",
                                  std::nullopt, "draining");
    // TGI serves one model; so does this route: the server's default one (or the one a SageMaker endpoint
    // names), loaded on demand when needed.
    service_.models().when_ready(model, std::nullopt,
                                 [this, req, res, rid, stream, compat, on_finished](
                                     std::shared_ptr<serving::ServedModel> lease, std::exception_ptr err) {
                                   if (!err) {
                                     try {
                                       generate(lease, req, stream, compat, res, rid, on_finished);
                                       return;
                                     } catch (...) {
                                       err = std::current_exception();
                                     }
                                   }
                                   int status = 0;
                                   answer_error(*res, err, stream, status);
                                   if (on_finished) on_finished(rid, status, {});
                                 });
    return;
  } catch (...) {
    answer_error(*res, std::current_exception(), /*stream=*/false, status);
  }
  if (on_finished) on_finished(rid, status, {});
}

void TgiApi::generate(const std::shared_ptr<serving::ServedModel>& model, const HttpRequest& req, bool stream,
                      bool compat, const std::shared_ptr<HttpResponder>& res, const std::string& rid,
                      const OnGenerationFinished& on_finished) {
  TgiLimits limits;
  limits.max_input_tokens = model->max_input_tokens;
  TgiRequest r = parse_request(req.body, limits);
  // TGI's own refusal (its stream details have no prefill): inside the stream, as its validation errors are.
  if (stream && r.decoder_input_details)
    validation_error("`decoder_input_details` == true is not supported when streaming tokens");
  serving::GenerateRequest g = to_generate_request(r, *model->tokenizer);
  g.model = model->name;
  std::shared_ptr<const Tokenizer> keep(model, model->tokenizer.get());  // the tokenizer lives with the model
  TgiCall call{std::move(r), stream, compat, rid, res, on_finished, [keep](int32_t id) {
                 return id >= 0 && size_t(id) < keep->vocab_size() && keep->is_special(id);
               }};
  auto writer = std::make_shared<TgiWriter>(std::move(call));
  std::shared_ptr<serving::Generation> gen = service_.generate(std::move(g), writer, rid);
  std::weak_ptr<serving::Generation> weak = gen;
  res->on_disconnect([weak] {
    if (auto g = weak.lock()) g->cancel();
  });
}

json TgiApi::info() const {
  // The default model's resolved limits once it has loaded; before that, what the server was told.
  std::shared_ptr<serving::ServedModel> m;
  for (const auto& l : service_.models().loaded())
    if (l->name == service_.models().default_name()) m = l;
  const serving::ServingOptions& o =
      opt_.models.empty() ? static_cast<const serving::ServingOptions&>(opt_) : opt_.models.front().options;
  std::string dtype = o.dtype;
  if (m && dtype == "auto") dtype = m->model->package.config().torch_dtype;
  const TgiLimits limits;
  return {{"model_id", service_.models().default_name()},
          {"model_sha", nullptr},
          {"model_dtype", dtype},
          {"model_device_type", "cpu"},
          {"model_pipeline_tag", "text-generation"},
          {"max_concurrent_requests", opt_.max_concurrent_requests},
          {"max_best_of", limits.max_best_of},
          {"max_stop_sequences", limits.max_stop_sequences},
          {"max_input_tokens", m ? m->max_input_tokens : o.max_input_tokens},
          {"max_total_tokens", m ? m->max_total_tokens : o.max_total_tokens},
          {"validation_workers", opt_.io_threads},
          {"max_client_batch_size", 1},
          {"router", "text-generation-router"},
          {"version", "0.1.0"},
          {"sha", nullptr},
          {"docker_label", nullptr}};
}

}  // namespace r1::server::tgi
