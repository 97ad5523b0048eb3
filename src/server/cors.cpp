#include "server/cors.h"

#include <algorithm>
#include <cctype>

namespace r1::server {

namespace {
std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}
std::string upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}
bool has(const std::vector<std::string>& v, const std::string& x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}
std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& x : v) out += (out.empty() ? "" : ", ") + x;
  return out;
}
std::string trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t"), e = s.find_last_not_of(" \t");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}
// Starlette's expansion of "*" for Access-Control-Allow-Methods.
const std::vector<std::string> kAllMethods = {"DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT"};
}  // namespace

Cors::Cors(CorsOptions o) : o_(std::move(o)) {
  any_origin_ = has(o_.allowed_origins, "*");
  any_method_ = has(o_.allowed_methods, "*");
  any_header_ = has(o_.allowed_headers, "*");
  for (auto& m : o_.allowed_methods) m = upper(m);
  for (auto& h : o_.allowed_headers) h = lower(h);
}

bool Cors::origin_allowed(const std::string& origin) const {
  return any_origin_ || has(o_.allowed_origins, origin);
}

bool Cors::method_allowed(const std::string& method) const {
  return any_method_ || has(o_.allowed_methods, upper(method));
}

std::string Cors::allow_origin_value(const std::string& origin) const {
  // "*" may not be combined with credentials: then the origin itself is echoed (and Vary says so).
  return any_origin_ && !o_.allow_credentials ? "*" : origin;
}

std::optional<Cors::Preflight> Cors::preflight(const HttpRequest& req) const {
  std::string origin = req.header("origin");
  std::string method = req.header("access-control-request-method");
  if (req.method != "OPTIONS" || origin.empty() || method.empty()) return std::nullopt;
  Preflight p;
  std::string failures;
  if (!origin_allowed(origin)) failures += "origin";
  if (!method_allowed(method)) failures += std::string(failures.empty() ? "" : ", ") + "method";
  std::string requested = req.header("access-control-request-headers");
  if (!any_header_) {
    size_t pos = 0;
    while (pos <= requested.size()) {
      size_t comma = requested.find(',', pos);
      std::string h =
          lower(trim(requested.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos)));
      // The CORS-safelisted request headers need no permission.
      if (!h.empty() && !has(o_.allowed_headers, h) && h != "accept" && h != "accept-language" &&
          h != "content-language" && h != "content-type") {
        failures += std::string(failures.empty() ? "" : ", ") + "headers";
        break;
      }
      if (comma == std::string::npos) break;
      pos = comma + 1;
    }
  }
  if (!failures.empty()) {
    p.status = 400;
    p.body = "Disallowed CORS " + failures;
    p.headers.emplace_back("Content-Type", "text/plain; charset=utf-8");
    return p;
  }
  p.headers.emplace_back("Access-Control-Allow-Origin", allow_origin_value(origin));
  if (allow_origin_value(origin) != "*") p.headers.emplace_back("Vary", "Origin");
  p.headers.emplace_back("Access-Control-Allow-Methods",
                         join(any_method_ ? kAllMethods : o_.allowed_methods));
  if (any_header_) {
    if (!requested.empty()) p.headers.emplace_back("Access-Control-Allow-Headers", requested);
  } else {
    p.headers.emplace_back("Access-Control-Allow-Headers", join(o_.allowed_headers));
  }
  if (o_.allow_credentials) p.headers.emplace_back("Access-Control-Allow-Credentials", "true");
  p.headers.emplace_back("Access-Control-Max-Age", "600");
  return p;
}

HeaderList Cors::response_headers(const HttpRequest& req) const {
  HeaderList h;
  std::string origin = req.header("origin");
  if (origin.empty() || !origin_allowed(origin)) return h;
  h.emplace_back("Access-Control-Allow-Origin", allow_origin_value(origin));
  if (allow_origin_value(origin) != "*") h.emplace_back("Vary", "Origin");
  if (o_.allow_credentials) h.emplace_back("Access-Control-Allow-Credentials", "true");
  // Lets a page read the request id it may want to report.
  h.emplace_back("Access-Control-Expose-Headers", "x-request-id");
  return h;
}

}  // namespace r1::server
