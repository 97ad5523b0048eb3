// The chat page's files as the router serves them (through the real HTTP transport): every embedded file at
// its path with its content type, the Content-Security-Policy that keeps model output from running script,
// gzip and ETag revalidation, no key needed for the page itself while /v1 still asks for one, and POST / left
// to TGI.
#include "server/web_page.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <regex>
#include <set>

#include "raw_http.h"
#include "server/router.h"

namespace r1::server {
namespace {

using r1::test::parse_raw_response;
using r1::test::RawConnection;
using r1::test::RawResponse;

class WebPage : public ::testing::Test {
 protected:
  void SetUp() override {
    ServeOptions o;
    o.api_key = "k";
    router_ = std::make_unique<Router>(o, "m");
    HttpServerOptions ho;
    ho.port = 0;
    http_ = std::make_unique<HttpServer>(
        ho,
        [this](const HttpRequest& req, std::shared_ptr<HttpResponder> res) { router_->handle(req, res); });
    http_->start();
  }
  void TearDown() override { http_->stop(); }

  RawResponse ask(const std::string& method, const std::string& path, const std::string& extra = "") {
    RawConnection c(http_->port());
    std::string body = method == "POST" ? "{}" : "";
    c.send(method + " " + path + " HTTP/1.1\r\nHost: x\r\n" + extra +
           "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body);
    auto raw = c.read_response();
    if (!raw) return {};
    auto r = parse_raw_response(*raw);
    return r ? *r : RawResponse{};
  }

  static std::string header(const RawResponse& r, const std::string& name) {
    std::smatch m;
    std::regex re("\r\n" + name + ": ([^\r]*)\r\n", std::regex::icase);
    return std::regex_search(r.head, m, re) ? m[1].str() : "";
  }

  std::unique_ptr<Router> router_;
  std::unique_ptr<HttpServer> http_;
};

TEST_F(WebPage, PageLoadsWithoutTheKeyUnderAStrictContentSecurityPolicy) {
  RawResponse r = ask("GET", "/");
  ASSERT_EQ(r.status, 200) << r.head;
  EXPECT_EQ(header(r, "Content-Type"), "text/html; charset=utf-8");
  std::string csp = header(r, "Content-Security-Policy");
  EXPECT_NE(csp.find("script-src 'self'"), std::string::npos) << csp;
  EXPECT_NE(csp.find("default-src 'none'"), std::string::npos) << csp;
  EXPECT_EQ(csp.find("unsafe-inline"), std::string::npos) << csp;
  EXPECT_EQ(csp.find("unsafe-eval"), std::string::npos) << csp;
  EXPECT_EQ(header(r, "X-Content-Type-Options"), "nosniff");
  EXPECT_EQ(header(r, "Cache-Control"), "no-cache");
  // No inline script and nothing from another origin: every script has a same-origin src.
  EXPECT_FALSE(std::regex_search(r.body, std::regex("<script(?![^>]*\\ssrc=\"/assets/)")))
      << "inline or foreign script in index.html";
  EXPECT_EQ(r.body.find("http://"), std::string::npos);
  EXPECT_EQ(r.body.find("https://"), std::string::npos);
  EXPECT_EQ(ask("GET", "/index.html").body, r.body);
  // The API still asks for the key; the page asks the user for it.
  EXPECT_EQ(ask("GET", "/v1/models").status, 401);
}

TEST_F(WebPage, EveryReferencedFileIsEmbeddedAndServedWithItsTypeAndETag) {
  std::set<std::string> paths;
  for (const WebAsset& a : web_assets()) paths.insert(a.path);
  // What index.html and the modules reference is there.
  std::string html = ask("GET", "/").body;
  std::regex ref("(?:src|href)=\"(/assets/[^\"]+)\"");
  int refs = 0;
  for (std::sregex_iterator it(html.begin(), html.end(), ref), end; it != end; ++it, ++refs)
    EXPECT_TRUE(paths.count((*it)[1].str()))
        << (*it)[1].str() << " is referenced by index.html, not embedded";
  EXPECT_GE(refs, 6);
  std::regex import("from '\\./([a-z]+\\.js)'");
  for (const WebAsset& a : web_assets()) {
    std::string body(a.bytes);
    for (std::sregex_iterator it(body.begin(), body.end(), import), end; it != end; ++it)
      EXPECT_TRUE(paths.count("/assets/" + (*it)[1].str())) << a.path << " imports " << (*it)[1].str();
  }
  for (const WebAsset& a : web_assets()) {
    SCOPED_TRACE(a.path);
    RawResponse r = ask("GET", a.path);
    ASSERT_EQ(r.status, 200);
    EXPECT_EQ(header(r, "Content-Type"), a.content_type);
    EXPECT_EQ(r.body, std::string(a.bytes));
    EXPECT_FALSE(r.body.empty());
    std::string etag = header(r, "ETag");
    EXPECT_EQ(etag, a.etag);
    // Revalidation: the same ETag gets 304 and no body; another gets the file.
    RawResponse again = ask("GET", a.path, "If-None-Match: " + etag + "\r\n");
    EXPECT_EQ(again.status, 304);
    EXPECT_TRUE(again.body.empty());
    EXPECT_EQ(ask("GET", a.path, "If-None-Match: \"other\"\r\n").status, 200);
    EXPECT_EQ(header(r, "Content-Encoding"), "");
    EXPECT_EQ(header(r, "Vary"), "Accept-Encoding");
    // A client that takes gzip gets the compressed copy (the text files have one), under its own ETag.
    RawResponse z = ask("GET", a.path, "Accept-Encoding: br, gzip;q=0.8\r\n");
    ASSERT_EQ(z.status, 200);
    if (a.gzip.empty()) {
      EXPECT_EQ(z.body, std::string(a.bytes));
      continue;
    }
    EXPECT_EQ(header(z, "Content-Encoding"), "gzip");
    EXPECT_EQ(z.body, std::string(a.gzip));
    EXPECT_EQ(z.body.compare(0, 2, "\x1f\x8b"), 0) << "gzip magic";
    EXPECT_LT(z.body.size(), r.body.size());
    std::string ztag = header(z, "ETag");
    EXPECT_EQ(ztag, etag.substr(0, etag.size() - 1) + "-gz\"");
    EXPECT_EQ(ask("GET", a.path, "Accept-Encoding: gzip\r\nIf-None-Match: " + ztag + "\r\n").status, 304);
    EXPECT_EQ(ask("GET", a.path, "Accept-Encoding: gzip\r\nIf-None-Match: " + etag + "\r\n").status, 200);
    EXPECT_EQ(header(ask("GET", a.path, "Accept-Encoding: gzip;q=0\r\n"), "Content-Encoding"), "");
  }
  // The large files do compress: index.html and every script.
  for (const WebAsset& a : web_assets())
    if (std::string(a.content_type).starts_with("text/")) EXPECT_FALSE(a.gzip.empty()) << a.path;
}

TEST_F(WebPage, UnknownAssetIs404AndPostSlashStaysTgis) {
  RawResponse r = ask("GET", "/assets/nothing.js");
  EXPECT_EQ(r.status, 404);
  auto j = nlohmann::json::parse(r.body, nullptr, false);
  EXPECT_EQ(j["error"]["code"], "not_found") << r.body;
  // POST / is TGI's generate route: its own auth answers, not the page.
  RawResponse tgi = ask("POST", "/");
  EXPECT_EQ(tgi.status, 401) << tgi.body;
  EXPECT_EQ(tgi.body.find("<html"), std::string::npos);
  EXPECT_EQ(ask("DELETE", "/", "Authorization: Bearer k\r\n").status, 404);
}

}  // namespace
}  // namespace r1::server
