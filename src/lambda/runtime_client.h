#pragma once
// A client of the AWS Lambda Runtime API (2018-06-01) at AWS_LAMBDA_RUNTIME_API (HOST:PORT): the long poll
// for the next invocation, and the posts that answer it or report an init failure. Blocking, one libcurl
// handle (the runtime serves one invocation at a time).
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>

namespace r1::lambda {

// A response body produced on other threads (the router answers from the engine's) and sent as it comes:
// the writers append, the Runtime API post reads. Thread-safe.
class ResponseStream {
 public:
  void write(std::string bytes);
  void close();  // no more bytes: the post ends
  // Blocks until there are bytes or the end; copies at most `max` of them into `out`; 0 at the end.
  size_t read(char* out, size_t max);
  // The post failed: readers stop, later writes are dropped, and `on_abandon` (once set) runs once.
  void abandon();
  bool abandoned() const;
  void on_abandon(std::function<void()> fn);

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::string buf_;
  bool closed_ = false, abandoned_ = false;
  std::function<void()> on_abandon_;
};

struct Invocation {
  std::string request_id;   // Lambda-Runtime-Aws-Request-Id
  int64_t deadline_ms = 0;  // Lambda-Runtime-Deadline-Ms: Unix epoch milliseconds; 0 when absent
  std::string function_arn, trace_id;
  std::string event;  // the body: the event JSON
};

class RuntimeClient {
 public:
  // `api` is HOST:PORT (an http:// prefix is accepted too).
  explicit RuntimeClient(std::string api);
  ~RuntimeClient();
  RuntimeClient(const RuntimeClient&) = delete;
  RuntimeClient& operator=(const RuntimeClient&) = delete;

  // GET /runtime/invocation/next (waits as long as it takes). Throws r1::Error when the API cannot be
  // reached or answers without a request id.
  Invocation next();
  // POST /runtime/invocation/{id}/response with `body`. Throws r1::Error on a transport failure or a non-2xx
  // answer.
  void respond(const std::string& request_id, const std::string& body,
               const std::string& content_type = "application/json");
  // POST /runtime/invocation/{id}/response as a stream (Lambda-Runtime-Function-Response-Mode: streaming,
  // chunked): each piece `stream` yields goes out as it comes, until the stream is closed. Throws r1::Error
  // (after abandoning the stream) on a transport failure or a non-2xx answer.
  void respond_stream(const std::string& request_id, const std::string& content_type, ResponseStream& stream);
  // POST /runtime/invocation/{id}/error with {errorMessage, errorType}.
  void error(const std::string& request_id, const std::string& type, const std::string& message);
  // POST /runtime/init/error with {errorMessage, errorType}.
  void init_error(const std::string& type, const std::string& message);

 private:
  struct Reply {
    long status = 0;
    std::string body;
    std::string request_id, function_arn, trace_id;
    int64_t deadline_ms = 0;
  };
  // `stream`: the body is read from it, chunked, instead of `body`.
  Reply call(const std::string& method, const std::string& path, const std::string* body,
             const std::string& content_type, const std::string& extra_header = "",
             ResponseStream* stream = nullptr);
  std::string base_;
  void* curl_;  // CURL*, opaque so that only runtime_client.cpp includes curl.h
};

// {errorMessage, errorType} as the Runtime API documents it.
std::string error_json(const std::string& type, const std::string& message);

}  // namespace r1::lambda
