// The Responses API, logit_bias and the HTTP niceties of issue 12 against the real server on loopback: the
// real JavaScript clients (responses_e2e.mjs beside this file) and raw HTTP for headers, HEAD and slashes.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <thread>

#include "raw_http.h"
#include "server_process.h"
#include "shared_server_test.h"
#include "support/test_support.h"

namespace r1::test {
namespace {

using nlohmann::json;

void run_js(const ServerProcess& s, const std::string& scenario) {
  CommandResult r = run_command(
      {node_binary(), std::string(R1_E2E_DIR) + "/responses_e2e.mjs", scenario, s.base_url(), js_dir()});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err << "\n--- server log ---\n" << s.log();
}

// The default server: R1 template with the reasoning split.
TEST(ResponsesE2E, OpenAiClientStreamedAndNotFollowUpStoreAndEventSchema) {
  R1_REQUIRE_SHARED();
  R1_REQUIRE_JS();
  ServerProcess s(stories_server_args());
  ASSERT_TRUE(s.healthy());
  run_js(s, "openai");
  run_js(s, "logit_bias");
  EXPECT_EQ(s.terminate(), 0);
}

// Without the reasoning split stories260K's output is the answer itself, so the SDKs get text to check.
TEST(ResponsesE2E, AiSdkDefaultProviderAndLangChainUseResponsesApi) {
  R1_REQUIRE_SHARED();
  R1_REQUIRE_JS();
  ServerProcess s(stories_server_args({"--reasoning-parser", "none"}));
  ASSERT_TRUE(s.healthy());
  run_js(s, "aisdk");
  run_js(s, "langchain");
  run_js(s, "sdk_chat_completions");
  EXPECT_EQ(s.terminate(), 0);
}

std::string raw_exchange(int port, const std::string& request) {
  RawConnection c(port);
  EXPECT_TRUE(c.send(request));
  return c.read_all();
}

TEST(HttpNiceties, RequestIdHeadTrailingSlashAndPreflight) {
  R1_REQUIRE_SHARED();
  ServerProcess s(stories_server_args());
  ASSERT_TRUE(s.healthy());
  const int port = s.port();
  // x-request-id: the client's comes back, and shows in the access log; without one, a fresh one.
  std::string r = raw_exchange(port,
                               "GET /v1/models HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                               "X-Request-Id: my-trace-42\r\n\r\n");
  EXPECT_NE(r.find("x-request-id: my-trace-42\r\n"), std::string::npos) << r;
  r = raw_exchange(port, "GET /v1/models HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_NE(r.find("x-request-id: "), std::string::npos) << r;
  HttpResult gen = http_request(port, "POST", "/v1/completions", R"({"prompt": "Once", "max_tokens": 2})",
                                {"X-Request-Id: gen-7"});
  EXPECT_EQ(gen.status, 200);
  for (int i = 0; i < 50 && s.log().find("\"request_id\":\"gen-7\"") == std::string::npos; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_NE(s.log().find("\"request_id\":\"my-trace-42\""), std::string::npos) << s.log();
  EXPECT_NE(s.log().find("\"request_id\":\"gen-7\""), std::string::npos) << s.log();

  // HEAD wherever GET works: the GET's headers (its Content-Length too), no body.
  for (const char* path : {"/health", "/v1/models", "/metrics", "/version"}) {
    r = raw_exchange(port, std::string("HEAD ") + path + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    EXPECT_EQ(r.rfind("HTTP/1.1 200", 0), 0u) << path << ": " << r;
    EXPECT_NE(r.find("Content-Length: "), std::string::npos) << r;
    EXPECT_EQ(r.size(), r.find("\r\n\r\n") + 4) << path << " sent a body: " << r;
  }
  // A trailing slash names the same route.
  EXPECT_EQ(http_request(port, "GET", "/v1/models/").status, 200);
  EXPECT_EQ(http_request(port, "GET", "/health/").status, 200);
  EXPECT_EQ(http_request(port, "POST", "/v1/completions/", R"({"prompt": "Once", "max_tokens": 1})").status,
            200);

  // Preflight on every route, before auth, with the default allow-all.
  for (const char* path : {"/v1/chat/completions", "/v1/responses", "/v1/models", "/anything"}) {
    r = raw_exchange(port, std::string("OPTIONS ") + path +
                               " HTTP/1.1\r\nHost: x\r\nConnection: close\r\nOrigin: http://page.example\r\n"
                               "Access-Control-Request-Method: POST\r\n"
                               "Access-Control-Request-Headers: authorization, content-type\r\n\r\n");
    EXPECT_EQ(r.rfind("HTTP/1.1 200", 0), 0u) << path << ": " << r;
    EXPECT_NE(r.find("Access-Control-Allow-Origin: *\r\n"), std::string::npos) << r;
    EXPECT_NE(r.find("Access-Control-Allow-Headers: authorization, content-type\r\n"), std::string::npos)
        << r;
  }
  // An actual cross-origin request gets the header too.
  r = raw_exchange(
      port, "GET /v1/models HTTP/1.1\r\nHost: x\r\nConnection: close\r\nOrigin: http://a.example\r\n\r\n");
  EXPECT_NE(r.find("Access-Control-Allow-Origin: *\r\n"), std::string::npos) << r;
  EXPECT_EQ(s.terminate(), 0);
}

TEST(HttpNiceties, CorsRestrictedToListedOrigins) {
  R1_REQUIRE_SHARED();
  ServerProcess s(
      stories_server_args({"--allowed-origins", "http://good.example", "--allowed-methods", "GET,POST",
                           "--allowed-headers", "authorization,content-type", "--allow-credentials"}));
  ASSERT_TRUE(s.healthy());
  auto preflight = [&](const std::string& origin, const std::string& method, const std::string& headers) {
    return raw_exchange(s.port(),
                        "OPTIONS /v1/chat/completions HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                        "Origin: " +
                            origin + "\r\nAccess-Control-Request-Method: " + method +
                            "\r\nAccess-Control-Request-Headers: " + headers + "\r\n\r\n");
  };
  std::string ok = preflight("http://good.example", "POST", "content-type");
  EXPECT_EQ(ok.rfind("HTTP/1.1 200", 0), 0u) << ok;
  EXPECT_NE(ok.find("Access-Control-Allow-Origin: http://good.example\r\n"), std::string::npos) << ok;
  EXPECT_NE(ok.find("Access-Control-Allow-Credentials: true\r\n"), std::string::npos) << ok;
  EXPECT_NE(ok.find("Vary: Origin\r\n"), std::string::npos) << ok;
  std::string bad = preflight("http://evil.example", "POST", "content-type");
  EXPECT_EQ(bad.rfind("HTTP/1.1 400", 0), 0u) << bad;
  EXPECT_EQ(bad.find("Access-Control-Allow-Origin"), std::string::npos) << bad;
  EXPECT_EQ(preflight("http://good.example", "DELETE", "").rfind("HTTP/1.1 400", 0), 0u);
  EXPECT_EQ(preflight("http://good.example", "POST", "x-secret").rfind("HTTP/1.1 400", 0), 0u);
  std::string actual = raw_exchange(
      s.port(),
      "GET /v1/models HTTP/1.1\r\nHost: x\r\nConnection: close\r\nOrigin: http://evil.example\r\n\r\n");
  EXPECT_EQ(actual.find("Access-Control-Allow-Origin"), std::string::npos) << actual;
  EXPECT_EQ(s.terminate(), 0);
}

}  // namespace
}  // namespace r1::test

namespace r1::test {
namespace {

// A page of another origin in headless Chromium: its preflighted, streamed chat succeeds with the default
// allow-all, and the browser refuses it when --allowed-origins leaves that origin out.
json browser_chat(const ServerProcess& s) {
  CommandResult r =
      run_command({node_binary(), std::string(R1_E2E_DIR) + "/cors_browser.mjs", s.base_url(), js_dir()});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  size_t brace = r.out.find('{');
  return json::parse(brace == std::string::npos ? std::string("{}") : r.out.substr(brace), nullptr, false);
}

TEST(CorsBrowser, OtherOriginPageStreamsChatByDefaultAndIsRefusedWhenNotAllowed) {
  R1_REQUIRE_SHARED();
  R1_REQUIRE_JS();
  if (!std::filesystem::exists("/usr/bin/chromium"))
    GTEST_SKIP() << "/usr/bin/chromium missing: scripts/install-deps.sh installs Debian's chromium";
  {
    ServerProcess s(stories_server_args());
    ASSERT_TRUE(s.healthy());
    json seen = browser_chat(s);
    EXPECT_EQ(seen.value("ok", false), true) << seen.dump();
    EXPECT_NE(seen.value("text", "").find("data: [DONE]"), std::string::npos) << seen.dump();
    EXPECT_FALSE(seen.value("requestId", "").empty())
        << "x-request-id is exposed to the page: " << seen.dump();
    // The browser asked first: the preflight is in the access log.
    EXPECT_NE(s.log().find("\"method\":\"OPTIONS\""), std::string::npos) << s.log();
    EXPECT_EQ(s.terminate(), 0);
  }
  {
    ServerProcess s(stories_server_args({"--allowed-origins", "http://elsewhere.example"}));
    ASSERT_TRUE(s.healthy());
    json seen = browser_chat(s);
    EXPECT_EQ(seen.value("ok", true), false) << seen.dump();
    EXPECT_NE(seen.value("error", "").find("Failed to fetch"), std::string::npos) << seen.dump();
    // Refused at the preflight: no generation ran.
    EXPECT_EQ(s.log().find("\"method\":\"POST\""), std::string::npos) << s.log();
    EXPECT_EQ(s.terminate(), 0);
  }
}

}  // namespace
}  // namespace r1::test
