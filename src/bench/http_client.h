#pragma once
// A blocking HTTP client over one libcurl easy handle; one per worker thread (handles are not thread-safe,
// and a per-thread handle keeps its connection alive across requests, as a real client would).
#include <functional>
#include <string>
#include <string_view>

namespace r1::bench {

struct HttpResponse {
  bool transport_ok = false;  // false: no HTTP reply at all (refused, DNS, timeout); see transport_error
  bool timed_out = false;
  std::string transport_error;
  long status = 0;
  std::string content_type;
  std::string body;  // the whole body for plain requests; for streams only the first kBodyKept bytes
};

class HttpClient {
 public:
  static constexpr size_t kBodyKept = 64 * 1024;
  using OnBytes = std::function<void(std::string_view)>;

  HttpClient();
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // GET with an optional bearer token.
  HttpResponse get(const std::string& url, const std::string& api_key, double timeout_s);
  // POST a JSON body; every chunk of a 2xx reply's body goes to `on_bytes` the moment libcurl reads it.
  HttpResponse post_json_stream(const std::string& url, const std::string& body, const std::string& api_key,
                                double timeout_s, const OnBytes& on_bytes);

 private:
  HttpResponse perform(const std::string& url, const std::string* body, const std::string& api_key,
                       double timeout_s, const OnBytes* on_bytes);
  void* curl_;  // CURL*, kept opaque so that only http_client.cpp includes curl.h
};

}  // namespace r1::bench
