#include "lambda/runtime_client.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>

#include "core/error.h"

namespace r1::lambda {

namespace {

size_t on_body(char* data, size_t size, size_t n, void* user) {
  static_cast<std::string*>(user)->append(data, size * n);
  return size * n;
}

struct HeaderSink {
  std::string request_id, function_arn, trace_id, deadline;
};

size_t on_header(char* data, size_t size, size_t n, void* user) {
  auto* h = static_cast<HeaderSink*>(user);
  std::string line(data, size * n);
  size_t colon = line.find(':');
  if (colon == std::string::npos) return size * n;
  std::string name = line.substr(0, colon);
  std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
  std::string value = line.substr(colon + 1);
  auto trim = [](std::string& s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
    size_t i = 0;
    while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
    s.erase(0, i);
  };
  trim(value);
  if (name == "lambda-runtime-aws-request-id") h->request_id = value;
  if (name == "lambda-runtime-invoked-function-arn") h->function_arn = value;
  if (name == "lambda-runtime-trace-id") h->trace_id = value;
  if (name == "lambda-runtime-deadline-ms") h->deadline = value;
  return size * n;
}

size_t on_read(char* out, size_t size, size_t n, void* user) {
  return static_cast<ResponseStream*>(user)->read(out, size * n);
}

}  // namespace

void ResponseStream::write(std::string bytes) {
  if (bytes.empty()) return;
  std::lock_guard lock(mu_);
  if (closed_ || abandoned_) return;
  buf_ += bytes;
  cv_.notify_all();
}

void ResponseStream::close() {
  std::lock_guard lock(mu_);
  closed_ = true;
  cv_.notify_all();
}

size_t ResponseStream::read(char* out, size_t max) {
  std::unique_lock lock(mu_);
  cv_.wait(lock, [&] { return !buf_.empty() || closed_ || abandoned_; });
  if (abandoned_) return 0;
  size_t n = std::min(max, buf_.size());
  std::copy_n(buf_.data(), n, out);
  buf_.erase(0, n);
  return n;
}

void ResponseStream::abandon() {
  std::function<void()> fn;
  {
    std::lock_guard lock(mu_);
    if (abandoned_) return;
    abandoned_ = true;
    fn = std::move(on_abandon_);
    cv_.notify_all();
  }
  if (fn) fn();
}

bool ResponseStream::abandoned() const {
  std::lock_guard lock(mu_);
  return abandoned_;
}

void ResponseStream::on_abandon(std::function<void()> fn) {
  {
    std::lock_guard lock(mu_);
    if (!abandoned_) {
      on_abandon_ = std::move(fn);
      return;
    }
  }
  fn();
}

std::string error_json(const std::string& type, const std::string& message) {
  return nlohmann::json{{"errorMessage", message}, {"errorType", type}}.dump(
      -1, ' ', false, nlohmann::json::error_handler_t::replace);
}

RuntimeClient::RuntimeClient(std::string api) {
  if (api.starts_with("http://")) api = api.substr(7);
  while (!api.empty() && api.back() == '/') api.pop_back();
  base_ = "http://" + api + "/2018-06-01";
  curl_global_init(CURL_GLOBAL_DEFAULT);
  curl_ = curl_easy_init();
  R1_CHECK(curl_ != nullptr, "curl_easy_init failed");
}

RuntimeClient::~RuntimeClient() {
  curl_easy_cleanup(static_cast<CURL*>(curl_));
}

RuntimeClient::Reply RuntimeClient::call(const std::string& method, const std::string& path,
                                         const std::string* body, const std::string& content_type,
                                         const std::string& extra_header, ResponseStream* stream) {
  CURL* c = static_cast<CURL*>(curl_);
  curl_easy_reset(c);
  Reply r;
  HeaderSink hs;
  std::string url = base_ + path;
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
  curl_easy_setopt(c, CURLOPT_TIMEOUT, 0L);  // the next-invocation poll waits as long as it takes
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &r.body);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &hs);
  curl_slist* headers = nullptr;
  if (stream) {
    // Lambda's streaming response: chunked, each piece sent as soon as the stream yields it.
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_READFUNCTION, on_read);
    curl_easy_setopt(c, CURLOPT_READDATA, stream);
    headers = curl_slist_append(headers, ("Content-Type: " + content_type).c_str());
    headers = curl_slist_append(headers, "Transfer-Encoding: chunked");
    headers = curl_slist_append(headers, "Lambda-Runtime-Function-Response-Mode: streaming");
    headers = curl_slist_append(headers, "Expect:");
  } else if (body) {
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body->data());
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(body->size()));
    headers = curl_slist_append(headers, ("Content-Type: " + content_type).c_str());
    headers = curl_slist_append(headers, "Expect:");
  } else {
    curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
  }
  if (!extra_header.empty()) headers = curl_slist_append(headers, extra_header.c_str());
  if (headers) curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
  CURLcode rc = curl_easy_perform(c);
  if (headers) curl_slist_free_all(headers);
  if (rc != CURLE_OK)
    throw Error(fmt::format("Lambda Runtime API {} {}: {}", method, url, curl_easy_strerror(rc)));
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
  r.request_id = hs.request_id;
  r.function_arn = hs.function_arn;
  r.trace_id = hs.trace_id;
  try {
    r.deadline_ms = hs.deadline.empty() ? 0 : std::stoll(hs.deadline);
  } catch (const std::exception&) {
    r.deadline_ms = 0;
  }
  return r;
}

Invocation RuntimeClient::next() {
  Reply r = call("GET", "/runtime/invocation/next", nullptr, "");
  if (r.status != 200)
    throw Error(
        fmt::format("Lambda Runtime API GET /runtime/invocation/next: HTTP {}: {}", r.status, r.body));
  if (r.request_id.empty())
    throw Error("Lambda Runtime API GET /runtime/invocation/next: no Lambda-Runtime-Aws-Request-Id header");
  Invocation inv;
  inv.request_id = r.request_id;
  inv.deadline_ms = r.deadline_ms;
  inv.function_arn = r.function_arn;
  inv.trace_id = r.trace_id;
  inv.event = std::move(r.body);
  return inv;
}

void RuntimeClient::respond(const std::string& id, const std::string& body, const std::string& content_type) {
  Reply r = call("POST", "/runtime/invocation/" + id + "/response", &body, content_type);
  if (r.status < 200 || r.status >= 300)
    throw Error(fmt::format("Lambda Runtime API POST /runtime/invocation/{}/response: HTTP {}: {}", id,
                            r.status, r.body));
}

void RuntimeClient::respond_stream(const std::string& id, const std::string& content_type,
                                   ResponseStream& stream) {
  Reply r;
  try {
    r = call("POST", "/runtime/invocation/" + id + "/response", nullptr, content_type, "", &stream);
  } catch (const std::exception&) {
    stream.abandon();  // the generation behind it stops
    throw;
  }
  if (r.status < 200 || r.status >= 300) {
    stream.abandon();
    throw Error(fmt::format("Lambda Runtime API POST /runtime/invocation/{}/response (streamed): HTTP {}: {}",
                            id, r.status, r.body));
  }
}

void RuntimeClient::error(const std::string& id, const std::string& type, const std::string& message) {
  std::string body = error_json(type, message);
  Reply r = call("POST", "/runtime/invocation/" + id + "/error", &body, "application/json",
                 "Lambda-Runtime-Function-Error-Type: " + type);
  if (r.status < 200 || r.status >= 300)
    throw Error(fmt::format("Lambda Runtime API POST /runtime/invocation/{}/error: HTTP {}: {}", id, r.status,
                            r.body));
}

void RuntimeClient::init_error(const std::string& type, const std::string& message) {
  std::string body = error_json(type, message);
  Reply r = call("POST", "/runtime/init/error", &body, "application/json",
                 "Lambda-Runtime-Function-Error-Type: " + type);
  if (r.status < 200 || r.status >= 300)
    throw Error(fmt::format("Lambda Runtime API POST /runtime/init/error: HTTP {}: {}", r.status, r.body));
}

}  // namespace r1::lambda
