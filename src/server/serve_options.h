#pragma once
// Everything `r1serve serve` can be told (flags, with TGI's environment variables as defaults in cmd_serve):
// the serving layer's options plus what only the HTTP server knows.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "server/http_server.h"
#include "serving/model_registry.h"
#include "serving/model_spec.h"
#include "serving/serving_options.h"

namespace r1::server {

// CORS as vLLM offers it (--allowed-origins, ...). The default allows every origin, as vLLM's does: any web
// page a user opens may then call this server from their browser. That is harmless while the server needs no
// credentials and listens on loopback only, and wrong otherwise: list the origins you trust.
struct CorsOptions {
  std::vector<std::string> allowed_origins = {"*"};
  std::vector<std::string> allowed_methods = {"*"};
  std::vector<std::string> allowed_headers = {"*"};
  bool allow_credentials = false;
};

struct ServeOptions : serving::ServingOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 8000;
  std::string api_key;  // "" = no auth
  // Bedrock routes: SigV4-signed requests are accepted from this access key id (and checked against the
  // secret when it is set); "" = only --api-key, or no auth at all when that is unset too.
  std::string aws_access_key_id, aws_secret_access_key;
  size_t max_body_bytes = 8u << 20;
  int io_threads = 2;
  double drain_timeout_s = 30;
  // A generation request's longest time, queue wait included (Bedrock's ModelTimeoutException); 0 = none.
  double request_timeout_s = 0;
  TlsOptions tls;  // --ssl-certfile, --ssl-keyfile, --ssl-ca-certs
  CorsOptions cors;
  // The models (repeatable --model); empty: one model from the options above (model_dir, served_model_name),
  // loaded at start.
  std::vector<serving::ModelSpec> models;
  serving::RegistryOptions lifecycle;  // --idle-unload, --load-wait, --max-loaded-models, --memory-budget
};

}  // namespace r1::server
