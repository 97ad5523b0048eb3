#include "server/api/sagemaker/sagemaker_api.h"

#include <fmt/format.h>

#include <mutex>
#include <nlohmann/json.hpp>

#include "server/api/bedrock/bedrock_api.h"
#include "server/api/bedrock/event_stream.h"
#include "server/api/sagemaker/sagemaker_error.h"
#include "server/api_error.h"

namespace r1::server::sagemaker {

using nlohmann::json;

BodyProtocol body_protocol(const std::string& body) {
  json j = json::parse(body, nullptr, false);
  const char* forms = "TGI's {\"inputs\", ...}, a chat {\"messages\", ...} or a completion {\"prompt\", ...}";
  if (!j.is_object()) bad_request(fmt::format("the body must be a JSON object: {}", forms));
  if (j.contains("inputs")) return BodyProtocol::tgi;
  if (j.contains("messages")) return BodyProtocol::chat;
  if (j.contains("prompt")) return BodyProtocol::completion;
  bad_request(fmt::format("the body names no input: send {}", forms));
}

const char* protocol_route(BodyProtocol p) {
  switch (p) {
    case BodyProtocol::tgi:
      return "/";
    case BodyProtocol::chat:
      return "/v1/chat/completions";
    case BodyProtocol::completion:
      return "/v1/completions";
  }
  return "/";
}

namespace {

HeaderList aws_headers(const std::string& rid) {
  return {{"x-Amzn-Invoked-Production-Variant", kVariant}, {"x-amzn-requestid", rid}};
}

// InvokeEndpoint: one whole body.
class InvokeResponder final : public HttpResponder {
 public:
  InvokeResponder(std::shared_ptr<HttpResponder> inner, std::string rid, DrainingProbe draining)
      : inner_(std::move(inner)), rid_(std::move(rid)), draining_(std::move(draining)) {}
  void send(int status, std::string content_type, std::string body, HeaderList headers) override {
    if (status >= 400) return send_error(*inner_, from_response(status, body, draining()), rid_);
    HeaderList h = aws_headers(rid_);
    h.insert(h.end(), headers.begin(), headers.end());
    inner_->send(status, std::move(content_type), std::move(body), std::move(h));
  }
  void begin_stream(int status, std::string content_type, HeaderList headers) override {
    std::lock_guard lock(mu_);
    status_ = status;
    content_type_ = std::move(content_type);
    headers_ = std::move(headers);
  }
  void write(std::string data) override {
    std::lock_guard lock(mu_);
    buffer_ += data;
  }
  void end_stream() override {
    std::unique_lock lock(mu_);
    int status = status_;
    std::string ct = std::move(content_type_), body = std::move(buffer_);
    HeaderList h = std::move(headers_);
    lock.unlock();
    send(status, std::move(ct), std::move(body), std::move(h));
  }
  bool closed() const override { return inner_->closed(); }
  void on_disconnect(std::function<void()> fn) override { inner_->on_disconnect(std::move(fn)); }

 private:
  std::shared_ptr<HttpResponder> inner_;
  std::string rid_;
  DrainingProbe draining_;
  bool draining() const { return draining_ && draining_(); }
  std::mutex mu_;
  int status_ = 200;
  std::string content_type_, buffer_;
  HeaderList headers_;
};

std::string payload_part(std::string bytes) {
  eventstream::Message m;
  m.headers = {{":event-type", std::string("PayloadPart")},
               {":content-type", std::string("application/octet-stream")},
               {":message-type", std::string("event")}};
  m.payload = std::move(bytes);
  return eventstream::encode(m);
}

// A protocol error event in an SSE chunk (TGI's {"error", "error_type"}, OpenAI's {"error": {"message",
// "code"}}), as the status and body its adapter would have answered with outside a stream.
struct StreamError {
  int status = 500;
  std::string body;
  std::string message;
};
std::optional<StreamError> stream_error(const std::string& chunk) {
  if (chunk.find("\"error\"") == std::string::npos) return std::nullopt;
  size_t p = 0;
  while (p < chunk.size()) {
    size_t eol = chunk.find('\n', p);
    std::string line = chunk.substr(p, eol == std::string::npos ? std::string::npos : eol - p);
    p = eol == std::string::npos ? chunk.size() : eol + 1;
    if (!line.starts_with("data:")) continue;
    json j = json::parse(line.substr(5), nullptr, false);
    if (!j.is_object() || !j.contains("error")) continue;
    const json& e = j["error"];
    if (e.is_string()) {
      std::string type = j.value("error_type", "");
      int status = type == "validation"    ? 422
                   : type == "overloaded"  ? 429
                   : type == "unavailable" ? 503
                                           : 424;
      return StreamError{status, j.dump(), e.get<std::string>()};
    }
    if (e.is_object()) {
      std::string type = e.value("type", "");
      int status = type == "invalid_request_error"       ? 400
                   : type == "rate_limit_error"          ? 429
                   : type == "service_unavailable_error" ? 503
                                                         : 500;
      return StreamError{status, j.dump(), e.value("message", "error")};
    }
  }
  return std::nullopt;
}

// InvokeEndpointWithResponseStream: application/vnd.amazon.eventstream, one PayloadPart per chunk. The
// response starts with the first chunk, so a refusal the adapter streams before any output (TGI validates
// inside its stream) is still answered as SageMaker's error with its status.
class StreamResponder final : public HttpResponder {
 public:
  StreamResponder(std::shared_ptr<HttpResponder> inner, std::string rid, DrainingProbe draining)
      : inner_(std::move(inner)), rid_(std::move(rid)), draining_(std::move(draining)) {}
  void send(int status, std::string content_type, std::string body, HeaderList) override {
    if (status >= 400) return send_error(*inner_, from_response(status, body, draining()), rid_);
    begin_stream(status, std::move(content_type), {});
    write(std::move(body));
    end_stream();
  }
  void begin_stream(int, std::string content_type, HeaderList) override {
    std::lock_guard lock(mu_);
    content_type_ = std::move(content_type);
  }
  void write(std::string data) override {
    if (data.empty()) return;
    std::lock_guard lock(mu_);
    if (failed_) return;
    std::optional<StreamError> err = stream_error(data);
    if (err && !begun_) {
      failed_ = true;
      return send_error(*inner_, from_response(err->status, err->body, draining()), rid_);
    }
    begin_locked();
    inner_->write(payload_part(std::move(data)));
    if (err) {
      // After output: SageMaker's exception event for a model that failed mid-stream.
      inner_->write(eventstream::exception(
          "ModelStreamError",
          json{{"Message", err->message}, {"message", err->message}, {"ErrorCode", "ModelError"}}.dump(
              -1, ' ', false, json::error_handler_t::replace)));
    }
  }
  void end_stream() override {
    std::lock_guard lock(mu_);
    if (failed_) return;
    begin_locked();
    inner_->end_stream();
  }
  bool closed() const override { return inner_->closed(); }
  void on_disconnect(std::function<void()> fn) override { inner_->on_disconnect(std::move(fn)); }

 private:
  void begin_locked() {
    if (begun_) return;
    begun_ = true;
    HeaderList h = aws_headers(rid_);
    h.emplace_back("X-Amzn-SageMaker-Content-Type", content_type_);
    inner_->begin_stream(200, "application/vnd.amazon.eventstream", std::move(h));
  }
  std::shared_ptr<HttpResponder> inner_;
  std::string rid_;
  DrainingProbe draining_;
  bool draining() const { return draining_ && draining_(); }
  std::mutex mu_;
  std::string content_type_ = "application/json";
  bool begun_ = false, failed_ = false;
};

std::string percent_decode(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      out += char(std::stoi(s.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

}  // namespace

std::shared_ptr<HttpResponder> invoke_responder(std::shared_ptr<HttpResponder> inner, std::string rid,
                                                DrainingProbe draining) {
  return std::make_shared<InvokeResponder>(std::move(inner), std::move(rid), std::move(draining));
}

std::shared_ptr<HttpResponder> stream_responder(std::shared_ptr<HttpResponder> inner, std::string rid,
                                                DrainingProbe draining) {
  return std::make_shared<StreamResponder>(std::move(inner), std::move(rid), std::move(draining));
}

void SageMakerApi::handle(const HttpRequest& req, const std::string& path,
                          const std::shared_ptr<HttpResponder>& res, const std::string& rid,
                          const Dispatch& dispatch) {
  SageMakerError err;
  try {
    // /endpoints/{EndpointName}/{operation}
    const std::string rest = path.substr(std::string("/endpoints/").size());
    const size_t slash = rest.find('/');
    const std::string op = slash == std::string::npos ? "" : rest.substr(slash + 1);
    const bool stream = op == "invocations-response-stream";
    if ((op != "invocations" && !stream) || slash == 0) {
      SageMakerError e{
          404, "UnknownOperationException",
          fmt::format("no SageMaker Runtime operation at {} {} (POST /endpoints/{{EndpointName}}/"
                      "invocations or invocations-response-stream)",
                      req.method, req.path)};
      return send_error(*res, e, rid);
    }
    if (req.method != "POST")
      return send_error(*res, {400, "ValidationError", fmt::format("{} takes POST", path)}, rid);
    try {
      bedrock::check_auth(req, opt_);
    } catch (const ApiError& e) {
      return send_error(*res, {403, "AccessDeniedException", e.what()}, rid);
    }
    // The endpoint is a served model's name, or else the default model's endpoint.
    const std::string endpoint = percent_decode(rest.substr(0, slash));
    std::optional<std::string> model;
    if (service_.models().serves(endpoint)) model = endpoint;
    BodyProtocol proto = body_protocol(req.body);
    HttpRequest inner = req;
    // Passed through as SageMaker passes it, but for the model the endpoint names and, on the streaming
    // route, "stream": true when the body does not say (ordered_json keeps a schema's property order).
    const bool set_model = model && proto != BodyProtocol::tgi;
    nlohmann::ordered_json body = nlohmann::ordered_json::parse(req.body);
    if (set_model || (stream && !body.contains("stream"))) {
      if (set_model) body["model"] = *model;
      if (stream && !body.contains("stream")) body["stream"] = true;
      inner.body = body.dump();
    }
    // Auth was checked here (SigV4); the adapters behind take the server's key.
    std::erase_if(inner.headers, [](const auto& h) { return h.first == "authorization"; });
    if (!opt_.api_key.empty()) inner.headers.emplace_back("authorization", "Bearer " + opt_.api_key);
    DrainingProbe draining = [this] { return service_.draining(); };
    std::shared_ptr<HttpResponder> wrapped =
        stream ? stream_responder(res, rid, draining) : invoke_responder(res, rid, draining);
    dispatch(inner, protocol_route(proto), wrapped, model);
    return;
  } catch (const ApiError& e) {
    err = from_response(e.status(), dump_json(e.to_json()), service_.draining());
  } catch (const std::exception& e) {
    err = {400, "ValidationError", e.what()};
  }
  send_error(*res, err, rid);
}

}  // namespace r1::server::sagemaker
