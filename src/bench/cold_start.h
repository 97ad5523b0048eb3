#pragma once
// `r1serve bench --cold-start`: the first request after an idle unload beside a warm one — the latency a
// serverless user pays. Per prompt and run: make the model unload (a one-token request with Ollama's
// `keep_alive: 0`, then GET /v1/models/{model} until its `state` is "unloaded"), send the cold request (its
// TTFT includes the load), then the same prompt warm. A 503 while the model loads (a server with a short
// --load-wait) is retried as an SDK would, and the cold request's times count from its first attempt.
// Needs a server that reports model state and honours keep_alive (r1serve); others fail with a clear message.
#include <chrono>
#include <vector>

#include "bench/load_runner.h"

namespace r1::bench {

// Two phases, "cold" and "warm", `load.runs` samples per prompt each (load.warmup is not used: a warm-up
// would warm the model). `unload_timeout_s` bounds the wait for each unload.
std::vector<PhaseResult> run_cold_start(const Endpoint& e, const std::vector<Prompt>& prompts,
                                        const LoadConfig& load, const RequestSpec& spec,
                                        std::chrono::steady_clock::time_point bench_start, Progress& progress,
                                        double unload_timeout_s);

}  // namespace r1::bench
