#pragma once
// A client of the AWS Lambda Runtime API (2018-06-01) at AWS_LAMBDA_RUNTIME_API (HOST:PORT): the long poll
// for the next invocation, and the posts that answer it or report an init failure. Blocking, one libcurl
// handle (the runtime serves one invocation at a time).
#include <cstdint>
#include <optional>
#include <string>

namespace r1::lambda {

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
  Reply call(const std::string& method, const std::string& path, const std::string* body,
             const std::string& content_type, const std::string& extra_header = "");
  std::string base_;
  void* curl_;  // CURL*, opaque so that only runtime_client.cpp includes curl.h
};

// {errorMessage, errorType} as the Runtime API documents it.
std::string error_json(const std::string& type, const std::string& message);

}  // namespace r1::lambda
