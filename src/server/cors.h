#pragma once
// CORS as vLLM (Starlette's CORSMiddleware) does it: --allowed-origins, --allowed-methods, --allowed-headers,
// --allow-credentials, default allow-all. A preflight (OPTIONS with Origin and Access-Control-Request-Method)
// is answered on every route before auth (browsers send no credentials on it); an actual request from an
// allowed origin gets Access-Control-Allow-Origin on its answer, from any other origin none (the browser then
// hides the answer from the page).
#include <optional>
#include <string>

#include "server/http_server.h"
#include "server/serve_options.h"

namespace r1::server {

class Cors {
 public:
  explicit Cors(CorsOptions o);

  // A preflight's answer: status (200, or 400 with the reason as body) and headers. nullopt when `req` is not
  // a preflight.
  struct Preflight {
    int status = 200;
    std::string body;
    HeaderList headers;
  };
  std::optional<Preflight> preflight(const HttpRequest& req) const;
  // Headers to add to an actual request's answer (none without an Origin header or for a disallowed origin).
  HeaderList response_headers(const HttpRequest& req) const;

 private:
  bool origin_allowed(const std::string& origin) const;
  bool method_allowed(const std::string& method) const;
  std::string allow_origin_value(const std::string& origin) const;

  CorsOptions o_;
  bool any_origin_, any_method_, any_header_;
};

}  // namespace r1::server
