#include "bench/http_client.h"

#include <curl/curl.h>

#include <mutex>

#include "core/error.h"

namespace r1::bench {

namespace {

struct Transfer {
  CURL* curl = nullptr;
  const HttpClient::OnBytes* on_bytes = nullptr;
  HttpResponse* resp = nullptr;
  bool checked_status = false;
  bool stream = false;  // a 2xx reply that goes to on_bytes
};

size_t on_write(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  size_t len = size * n;
  if (!t->checked_status) {
    t->checked_status = true;
    curl_easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE, &t->resp->status);
    t->stream = t->on_bytes && t->resp->status >= 200 && t->resp->status < 300;
  }
  if (t->stream) (*t->on_bytes)(std::string_view(data, len));
  size_t keep = t->on_bytes ? HttpClient::kBodyKept : SIZE_MAX;
  if (t->resp->body.size() < keep) t->resp->body.append(data, std::min(len, keep - t->resp->body.size()));
  return len;
}

}  // namespace

HttpClient::HttpClient() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  curl_ = curl_easy_init();
  if (!curl_) fail("libcurl: curl_easy_init failed");
}

HttpClient::~HttpClient() {
  curl_easy_cleanup(static_cast<CURL*>(curl_));
}

HttpResponse HttpClient::get(const std::string& url, const std::string& api_key, double timeout_s) {
  return perform(url, nullptr, api_key, timeout_s, nullptr);
}

HttpResponse HttpClient::post_json_stream(const std::string& url, const std::string& body,
                                          const std::string& api_key, double timeout_s,
                                          const OnBytes& on_bytes) {
  return perform(url, &body, api_key, timeout_s, &on_bytes);
}

HttpResponse HttpClient::perform(const std::string& url, const std::string* body, const std::string& api_key,
                                 double timeout_s, const OnBytes* on_bytes) {
  CURL* c = static_cast<CURL*>(curl_);
  curl_easy_reset(c);  // keeps the connection cache, drops the previous request's options
  HttpResponse resp;
  Transfer t{c, on_bytes, &resp};
  char errbuf[CURL_ERROR_SIZE] = {0};
  curl_slist* headers = nullptr;
  headers = curl_slist_append(headers, "Accept: text/event-stream, application/json");
  if (body) headers = curl_slist_append(headers, "Content-Type: application/json");
  std::string auth = "Authorization: Bearer " + api_key;
  if (!api_key.empty()) headers = curl_slist_append(headers, auth.c_str());
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);  // threads: no SIGALRM for timeouts
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, long(timeout_s * 1000));
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, long(std::min(timeout_s, 10.0) * 1000));
  curl_easy_setopt(c, CURLOPT_TCP_NODELAY, 1L);
  // Loopback never goes through a proxy, whatever http_proxy says: the bench must measure the server.
  curl_easy_setopt(c, CURLOPT_NOPROXY, "localhost,127.0.0.1,::1");
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_write);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &t);
  curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "identity");  // compressed SSE would arrive in bursts
  if (body) {
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body->data());
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, long(body->size()));
  }
  CURLcode rc = curl_easy_perform(c);
  curl_slist_free_all(headers);
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &resp.status);
  char* ct = nullptr;
  if (curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &ct) == CURLE_OK && ct) resp.content_type = ct;
  resp.timed_out = rc == CURLE_OPERATION_TIMEDOUT;
  // A reply that started and then broke (timeout, reset) still has a status; the caller sees both.
  resp.transport_ok = rc == CURLE_OK;
  if (rc != CURLE_OK) resp.transport_error = errbuf[0] ? errbuf : curl_easy_strerror(rc);
  return resp;
}

}  // namespace r1::bench
