#pragma once
// `r1serve serve`: listen first, load the model on a background thread (/health says 503 meanwhile), serve,
// and on SIGTERM/SIGINT drain — stop accepting, let in-flight responses finish for up to --drain-timeout,
// abort what is left — then return 0. Returns 1 when the model cannot be loaded.
#include "server/serve_options.h"

namespace r1::server {

int run_server(const ServeOptions& options);

}  // namespace r1::server
