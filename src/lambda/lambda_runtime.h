#pragma once
// `r1serve lambda`: the custom runtime a Lambda `bootstrap` runs. Init loads the model once (a failure is
// posted to /runtime/init/error, and the process exits non-zero); then the loop takes one invocation at a
// time from /runtime/invocation/next, answers it through the server's router (lambda_events.h) under the
// invocation's deadline less a margin (generation stops there with finish_reason "length"), and posts
// /response — or /error for an event it cannot answer, and goes on.
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
};

// `configure` resolves the serve options (the model folder, ...): it runs inside init, so what it throws is
// an init error too. Returns 1 after an init error or when the Runtime API goes away, 0 after
// max_invocations.
int run_lambda(const LambdaOptions& options, const std::function<server::ServeOptions()>& configure);

}  // namespace r1::lambda
