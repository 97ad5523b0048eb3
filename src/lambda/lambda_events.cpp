#include "lambda/lambda_events.h"

#include <algorithm>
#include <cctype>
#include <condition_variable>
#include <mutex>
#include <nlohmann/json.hpp>

namespace r1::lambda {

namespace {

using nlohmann::json;
using server::HeaderList;
using server::HttpRequest;
using server::HttpResponder;

// Gathers the router's answer; the router may answer from any thread, later.
class CollectingResponder : public HttpResponder {
 public:
  void send(int status, std::string content_type, std::string body, HeaderList headers) override {
    std::lock_guard lock(mu_);
    if (started_) return;
    started_ = true;
    r_.status = status;
    r_.content_type = std::move(content_type);
    r_.body = std::move(body);
    r_.headers = std::move(headers);
    done_ = true;
    cv_.notify_all();
  }
  void begin_stream(int status, std::string content_type, HeaderList headers) override {
    std::lock_guard lock(mu_);
    if (started_) return;
    started_ = true;
    r_.status = status;
    r_.content_type = std::move(content_type);
    r_.headers = std::move(headers);
  }
  void write(std::string data) override {
    std::lock_guard lock(mu_);
    if (!done_) r_.body += data;
  }
  void end_stream() override {
    std::lock_guard lock(mu_);
    done_ = true;
    cv_.notify_all();
  }
  bool closed() const override { return false; }
  void on_disconnect(std::function<void()>) override {}  // the invocation never goes away

  RoutedResponse wait() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return done_; });
    return r_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool started_ = false, done_ = false;
  RoutedResponse r_;
};

// Writes the router's answer to a Lambda response stream as it comes: the HTTP integration prelude when the
// status is known, then the body's pieces.
class StreamingResponder : public HttpResponder {
 public:
  explicit StreamingResponder(std::shared_ptr<ResponseStream> out) : out_(std::move(out)) {}
  void send(int status, std::string content_type, std::string body, HeaderList headers) override {
    if (!start(status, content_type, headers)) return;
    out_->write(std::move(body));
    out_->close();
  }
  void begin_stream(int status, std::string content_type, HeaderList headers) override {
    start(status, content_type, headers);
  }
  void write(std::string data) override { out_->write(std::move(data)); }
  void end_stream() override { out_->close(); }
  bool closed() const override { return out_->abandoned(); }
  void on_disconnect(std::function<void()> fn) override { out_->on_abandon(std::move(fn)); }

 private:
  bool start(int status, const std::string& content_type, const HeaderList& headers);
  std::shared_ptr<ResponseStream> out_;
  std::mutex mu_;
  bool started_ = false;
};

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

// Text bodies go back as they are; anything else (Bedrock's binary event stream) base64-encoded.
bool textual(const std::string& content_type) {
  std::string t = lower(content_type);
  return t.empty() || t.starts_with("text/") || t.find("json") != std::string::npos ||
         t.find("javascript") != std::string::npos || t.find("xml") != std::string::npos;
}

const json* field(const json& j, const char* name) {
  auto it = j.find(name);
  return it == j.end() ? nullptr : &*it;
}

// The error of a router answer as (type, message), from OpenAI's {"error": {message, type}} or TGI's
// {"error", "error_type"}.
EventError routed_error(const RoutedResponse& r) {
  json j = json::parse(r.body, nullptr, false);
  std::string type = "HTTP" + std::to_string(r.status), message = r.body;
  if (j.is_object() && j.contains("error")) {
    const json& e = j["error"];
    if (e.is_object()) {
      if (e.contains("message") && e["message"].is_string()) message = e["message"];
      if (e.contains("type") && e["type"].is_string()) type = e["type"];
    } else if (e.is_string()) {
      message = e;
      if (j.contains("error_type") && j["error_type"].is_string()) type = j["error_type"];
    }
  }
  return EventError(type, message);
}

HttpRequest post_json(const std::string& path, const json& body) {
  HttpRequest req;
  req.method = "POST";
  req.target = req.path = path;
  req.body = body.dump(-1, ' ', false, json::error_handler_t::replace);
  req.headers = {{"content-type", "application/json"}, {"host", "lambda"}};
  req.remote = "lambda";
  return req;
}

std::string prompt_event(server::Router& router, const json& ev) {
  json body = ev;
  body.erase("prompt");
  // TGI's name for the length limit, as some seeds send it.
  if (!body.contains("max_tokens") && body.contains("max_new_tokens"))
    body["max_tokens"] = body["max_new_tokens"];
  body.erase("max_new_tokens");
  body.erase("stream");
  json chat = body;
  chat["messages"] = json::array({{{"role", "user"}, {"content", ev["prompt"]}}});
  RoutedResponse r = route(router, post_json("/v1/chat/completions", chat));
  bool chat_ok = r.status == 200;
  if (!chat_ok && r.status == 400 && lower(routed_error(r).what()).find("template") != std::string::npos) {
    // No chat template: the prompt as raw text.
    json completion = body;
    completion["prompt"] = ev["prompt"];
    r = route(router, post_json("/v1/completions", completion));
  }
  if (r.status != 200) throw routed_error(r);
  json j = json::parse(r.body, nullptr, false);
  if (!j.is_object() || !j.contains("choices") || !j["choices"].is_array() || j["choices"].empty())
    throw EventError("InternalError", "unexpected answer from the server: " + r.body);
  const json& c = j["choices"][0];
  json out;
  if (chat_ok) {
    const json& m = c.value("message", json::object());
    out["response"] = m.value("content", json()).is_string() ? m["content"] : json("");
    out["reasoning"] = m.contains("reasoning_content") ? m["reasoning_content"] : json(nullptr);
  } else {
    out["response"] = c.value("text", "");
    out["reasoning"] = nullptr;
  }
  out["finish_reason"] = c.value("finish_reason", json(nullptr));
  out["model"] = j.value("model", "");
  if (j.contains("usage")) out["usage"] = j["usage"];
  return out.dump(-1, ' ', false, json::error_handler_t::replace);
}

// The HTTP request a Function URL / HTTP API v2 event carries.
HttpRequest http_request_of(const json& ev) {
  const json* ctx = field(ev, "requestContext");
  const json* http = ctx && ctx->is_object() ? field(*ctx, "http") : nullptr;
  const json* method = http && http->is_object() ? field(*http, "method") : nullptr;
  const json* raw_path = field(ev, "rawPath");
  if (!method || !method->is_string() || !raw_path || !raw_path->is_string())
    throw EventError("InvalidEvent",
                     "an HTTP API v2 event needs rawPath and requestContext.http.method as strings");
  HttpRequest req;
  req.method = method->get<std::string>();
  std::transform(req.method.begin(), req.method.end(), req.method.begin(),
                 [](unsigned char c) { return std::toupper(c); });
  req.path = raw_path->get<std::string>();
  if (req.path.empty() || req.path[0] != '/') req.path = "/" + req.path;
  req.target = req.path;
  if (const json* q = field(ev, "rawQueryString"); q && q->is_string() && !q->get<std::string>().empty())
    req.target += "?" + q->get<std::string>();
  if (const json* h = field(ev, "headers"); h && h->is_object())
    for (const auto& [k, v] : h->items())
      if (v.is_string()) req.headers.emplace_back(lower(k), v.get<std::string>());
  if (const json* cookies = field(ev, "cookies"); cookies && cookies->is_array()) {
    std::string joined;
    for (const json& c : *cookies)
      if (c.is_string()) joined += (joined.empty() ? "" : "; ") + c.get<std::string>();
    if (!joined.empty()) req.headers.emplace_back("cookie", joined);
  }
  if (const json* ip = http ? field(*http, "sourceIp") : nullptr; ip && ip->is_string()) req.remote = *ip;
  if (req.remote.empty()) req.remote = "lambda";
  if (const json* b = field(ev, "body"); b && b->is_string()) {
    const json* b64 = field(ev, "isBase64Encoded");
    req.body = b64 && b64->is_boolean() && b64->get<bool>() ? base64_decode(*b) : b->get<std::string>();
  } else if (b && !b->is_null()) {
    throw EventError("InvalidEvent", "an HTTP API v2 event's body must be a string");
  }
  return req;
}

// {statusCode, headers, cookies?} of an answer: its headers by lower-case name (repeats joined), Set-Cookie
// apart as Function URLs take them.
json response_head(int status, const std::string& content_type, const HeaderList& response_headers) {
  json headers = json::object(), cookies = json::array();
  if (!content_type.empty()) headers["content-type"] = content_type;
  for (const auto& [k, v] : response_headers) {
    std::string name = lower(k);
    if (name == "set-cookie") {
      cookies.push_back(v);
    } else if (headers.contains(name)) {
      headers[name] = headers[name].get<std::string>() + ", " + v;
    } else {
      headers[name] = v;
    }
  }
  json out = {{"statusCode", status}, {"headers", headers}};
  if (!cookies.empty()) out["cookies"] = cookies;
  return out;
}

std::string http_event(server::Router& router, const json& ev) {
  RoutedResponse r = route(router, http_request_of(ev));
  json out = response_head(r.status, r.content_type, r.headers);
  const bool text = textual(r.content_type);
  out["body"] = text ? r.body : base64_encode(r.body);
  out["isBase64Encoded"] = !text;
  return out.dump(-1, ' ', false, json::error_handler_t::replace);
}

bool StreamingResponder::start(int status, const std::string& content_type, const HeaderList& headers) {
  {
    std::lock_guard lock(mu_);
    if (started_) return false;
    started_ = true;
  }
  out_->write(
      response_head(status, content_type, headers).dump(-1, ' ', false, json::error_handler_t::replace) +
      std::string(8, '\0'));
  return true;
}

// The event as JSON, or EventError.
json parse_event(const std::string& event) {
  json ev = json::parse(event, nullptr, false);
  if (ev.is_discarded()) throw EventError("InvalidEvent", "the event is not JSON");
  if (!ev.is_object()) throw EventError("InvalidEvent", "the event must be a JSON object");
  return ev;
}

bool is_http_event(const json& ev) {
  if (ev.contains("prompt") || !(ev.contains("rawPath") || ev.contains("requestContext"))) return false;
  if (ev.contains("version") && ev["version"] != "2.0")
    throw EventError("InvalidEvent", "only HTTP API v2 / Function URL events (version \"2.0\") are served");
  return true;
}

}  // namespace

std::shared_ptr<ResponseStream> start_streamed_event(server::Router& router, const std::string& event) {
  json ev = parse_event(event);
  if (!is_http_event(ev)) return nullptr;
  HttpRequest req = http_request_of(ev);
  auto out = std::make_shared<ResponseStream>();
  router.handle(req, std::make_shared<StreamingResponder>(out));
  return out;
}

RoutedResponse route(server::Router& router, const HttpRequest& req) {
  auto res = std::make_shared<CollectingResponder>();
  router.handle(req, res);
  return res->wait();
}

std::string handle_event(server::Router& router, const std::string& event) {
  json ev = parse_event(event);
  if (ev.contains("prompt")) {
    if (!ev["prompt"].is_string()) throw EventError("InvalidEvent", "\"prompt\" must be a string");
    return prompt_event(router, ev);
  }
  if (is_http_event(ev)) return http_event(router, ev);
  throw EventError("InvalidEvent",
                   "the event has neither \"prompt\" nor a Function URL request (\"rawPath\", "
                   "\"requestContext\")");
}

std::string base64_encode(const std::string& in) {
  static const char* k = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    uint32_t v = uint32_t(uint8_t(in[i])) << 16 | uint32_t(uint8_t(in[i + 1])) << 8 | uint8_t(in[i + 2]);
    out += k[v >> 18];
    out += k[(v >> 12) & 63];
    out += k[(v >> 6) & 63];
    out += k[v & 63];
  }
  if (i < in.size()) {
    uint32_t v = uint32_t(uint8_t(in[i])) << 16;
    if (i + 1 < in.size()) v |= uint32_t(uint8_t(in[i + 1])) << 8;
    out += k[v >> 18];
    out += k[(v >> 12) & 63];
    out += i + 1 < in.size() ? k[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

std::string base64_decode(const std::string& in) {
  auto val = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+' || c == '-') return 62;
    if (c == '/' || c == '_') return 63;
    return -1;
  };
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    if (c == '=' || c == '\n' || c == '\r') continue;
    int v = val(c);
    if (v < 0) throw EventError("InvalidEvent", "isBase64Encoded is true but the body is not base64");
    acc = acc << 6 | uint32_t(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += char((acc >> bits) & 0xff);
    }
  }
  return out;
}

}  // namespace r1::lambda
