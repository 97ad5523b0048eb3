#include "server/web_page.h"

#include <fmt/format.h>

#include <cstdlib>

#include "server/api_error.h"

namespace r1::server {

namespace {

// Scripts, styles and fetches only from this server; model output rendered into the page can neither run
// script (no inline or eval), nor load from elsewhere, nor be framed into another site.
constexpr const char* kContentSecurityPolicy =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; manifest-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

bool etag_matches(const std::string& if_none_match, std::string_view etag) {
  if (if_none_match == "*") return true;
  // A list of tags, possibly weak (W/"..."): any that names ours matches (with its quotes, so the plain
  // variant's tag never matches the gzip one's).
  return if_none_match.find(etag) != std::string::npos;
}

// Whether Accept-Encoding lists gzip without refusing it (q=0).
bool accepts_gzip(const std::string& accept_encoding) {
  size_t at = 0;
  while (at <= accept_encoding.size()) {
    size_t end = accept_encoding.find(',', at);
    if (end == std::string::npos) end = accept_encoding.size();
    std::string item = accept_encoding.substr(at, end - at);
    at = end + 1;
    size_t b = item.find_first_not_of(' '), semi = item.find(';');
    if (b == std::string::npos) continue;
    std::string coding = item.substr(b, (semi == std::string::npos ? item.size() : semi) - b);
    while (!coding.empty() && coding.back() == ' ') coding.pop_back();
    if (coding != "gzip" && coding != "*") continue;
    if (semi != std::string::npos) {
      std::string params = item.substr(semi + 1);
      size_t q = params.find("q=");
      if (q != std::string::npos && std::strtod(params.c_str() + q + 2, nullptr) <= 0) return false;
    }
    return true;
  }
  return false;
}

}  // namespace

bool is_web_page_path(const std::string& method, const std::string& path) {
  if (method != "GET" && method != "HEAD") return false;
  return path == "/" || path == "/index.html" || path.starts_with("/assets/");
}

int serve_web_page(const HttpRequest& req, const std::string& path, HttpResponder& res) {
  const std::string want = path == "/index.html" ? "/" : path;
  for (const WebAsset& a : web_assets()) {
    if (want != a.path) continue;
    const bool gzip = !a.gzip.empty() && accepts_gzip(req.header("accept-encoding"));
    std::string etag = a.etag;
    if (gzip) etag.insert(etag.size() - 1, "-gz");  // inside the quotes: another representation
    HeaderList h = {{"Content-Security-Policy", kContentSecurityPolicy},
                    {"X-Content-Type-Options", "nosniff"},
                    {"Referrer-Policy", "no-referrer"},
                    {"Cache-Control", "no-cache"},
                    {"Vary", "Accept-Encoding"},
                    {"ETag", etag}};
    if (etag_matches(req.header("if-none-match"), etag)) {
      res.send(304, "", "", h);
      return 304;
    }
    if (gzip) h.emplace_back("Content-Encoding", "gzip");
    res.send(200, a.content_type, std::string(gzip ? a.gzip : a.bytes), h);
    return 200;
  }
  throw ApiError(404, fmt::format("no chat page asset {}", path), "invalid_request_error", std::nullopt,
                 "not_found");
}

}  // namespace r1::server
