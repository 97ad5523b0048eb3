// CORS decisions as vLLM's (Starlette's) middleware makes them: preflights allowed or refused by origin,
// method and headers; "*" echoed as the origin itself when credentials are allowed.
#include "server/cors.h"

#include <gtest/gtest.h>

namespace r1::server {
namespace {

HttpRequest preflight(const std::string& origin, const std::string& method, const std::string& headers = "") {
  HttpRequest r;
  r.method = "OPTIONS";
  r.path = "/v1/chat/completions";
  r.headers = {{"origin", origin}, {"access-control-request-method", method}};
  if (!headers.empty()) r.headers.emplace_back("access-control-request-headers", headers);
  return r;
}

std::string header(const HeaderList& h, const std::string& name) {
  for (const auto& [k, v] : h)
    if (k == name) return v;
  return "";
}

TEST(Cors, DefaultAllowsEveryOriginMethodAndHeader) {
  Cors c{CorsOptions{}};
  auto p = c.preflight(preflight("http://a.example", "POST", "authorization, x-custom"));
  ASSERT_TRUE(p);
  EXPECT_EQ(p->status, 200);
  EXPECT_EQ(header(p->headers, "Access-Control-Allow-Origin"), "*");
  EXPECT_EQ(header(p->headers, "Access-Control-Allow-Headers"), "authorization, x-custom");
  EXPECT_NE(header(p->headers, "Access-Control-Allow-Methods").find("POST"), std::string::npos);
  EXPECT_EQ(header(p->headers, "Access-Control-Allow-Credentials"), "");
  HttpRequest get;
  get.method = "GET";
  get.headers = {{"origin", "http://a.example"}};
  EXPECT_EQ(header(c.response_headers(get), "Access-Control-Allow-Origin"), "*");
}

TEST(Cors, NotAPreflightWithoutOriginOrRequestedMethod) {
  Cors c{CorsOptions{}};
  HttpRequest r = preflight("http://a.example", "POST");
  r.headers.pop_back();
  EXPECT_FALSE(c.preflight(r));
  HttpRequest plain;
  plain.method = "GET";
  EXPECT_TRUE(c.response_headers(plain).empty());  // no Origin: no CORS headers
}

TEST(Cors, ListedOriginsMethodsAndHeadersOnly) {
  CorsOptions o;
  o.allowed_origins = {"http://good.example"};
  o.allowed_methods = {"get", "POST"};
  o.allowed_headers = {"Authorization"};
  o.allow_credentials = true;
  Cors c(o);
  auto ok = c.preflight(preflight("http://good.example", "POST", "authorization, content-type"));
  EXPECT_EQ(ok->status, 200);
  EXPECT_EQ(header(ok->headers, "Access-Control-Allow-Origin"), "http://good.example");
  EXPECT_EQ(header(ok->headers, "Access-Control-Allow-Credentials"), "true");
  EXPECT_EQ(header(ok->headers, "Vary"), "Origin");
  EXPECT_EQ(c.preflight(preflight("http://evil.example", "POST"))->status, 400);
  EXPECT_EQ(c.preflight(preflight("http://good.example", "DELETE"))->status, 400);
  EXPECT_EQ(c.preflight(preflight("http://good.example", "GET", "x-other"))->status, 400);
  HttpRequest get;
  get.method = "GET";
  get.headers = {{"origin", "http://evil.example"}};
  EXPECT_TRUE(c.response_headers(get).empty());
}

TEST(Cors, AnyOriginWithCredentialsEchoesTheOrigin) {
  CorsOptions o;
  o.allow_credentials = true;  // "*" may not be sent with credentials
  Cors c(o);
  auto p = c.preflight(preflight("http://a.example", "POST"));
  EXPECT_EQ(header(p->headers, "Access-Control-Allow-Origin"), "http://a.example");
}

}  // namespace
}  // namespace r1::server
