#pragma once
// `r1serve lambda`: the custom runtime a Lambda `bootstrap` runs. Init loads the model once (a failure is
// posted to /runtime/init/error, and the process exits non-zero); then the loop takes one invocation at a
// time from /runtime/invocation/next, answers it through the server's router (lambda_events.h) under the
// invocation's deadline less a margin (generation stops there with finish_reason "length"), and posts
// /response (streamed, piece by piece, for Function URL events under --invoke-mode RESPONSE_STREAM) — or
// /error for an event it cannot answer, and goes on.
#include <chrono>
#include <functional>
#include <string>

#include "server/serve_options.h"

namespace r1::lambda {

struct LambdaOptions {
  std::string runtime_api;  // AWS_LAMBDA_RUNTIME_API: HOST:PORT
  // Generation stops this long before Lambda-Runtime-Deadline-Ms, leaving time to post the answer.
  std::chrono::milliseconds deadline_margin{500};
  size_t max_invocations = 0;  // 0 = serve until the runtime is shut down (tests stop sooner)
  // The Function URL's InvokeMode. Lambda does not tell a runtime how it was invoked: the runtime decides to
  // stream (Lambda-Runtime-Function-Response-Mode: streaming), so it is told what the function is configured
  // for. RESPONSE_STREAM: Function URL events are answered as a stream in the HTTP integration response
  // format; {"prompt"} events stay buffered.
  std::string invoke_mode = "BUFFERED";
};

// `configure` resolves the serve options (the model folder, ...): it runs inside init, so what it throws is
// an init error too. Returns 1 after an init error or when the Runtime API goes away, 0 after
// max_invocations.
int run_lambda(const LambdaOptions& options, const std::function<server::ServeOptions()>& configure);

}  // namespace r1::lambda
