// The routes before a model is loaded and while draining, through the real HTTP transport: /health says 503
// with a JSON reason, generation is refused with 503, /metrics still answers, auth applies to /v1 only.
#include "server/router.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "raw_http.h"
#include "server/http_server.h"

namespace r1::server {
namespace {

using nlohmann::json;
using r1::test::parse_raw_response;
using r1::test::RawConnection;

struct Answer {
  int status = 0;
  std::string body;
};

class RouterWithoutModel : public ::testing::Test {
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

  Answer ask(const std::string& method, const std::string& path, const std::string& extra = "") {
    RawConnection c(http_->port());
    c.send(method + " " + path + " HTTP/1.1\r\nHost: x\r\n" + extra + "Content-Length: 2\r\n\r\n{}");
    auto raw = c.read_response();
    if (!raw) return {};
    auto r = parse_raw_response(*raw);
    return {r->status, r->body};
  }

  std::unique_ptr<Router> router_;
  std::unique_ptr<HttpServer> http_;
};

TEST_F(RouterWithoutModel, HealthIs503WithAReasonUntilLoaded) {
  Answer a = ask("GET", "/health");
  EXPECT_EQ(a.status, 503);
  json j = json::parse(a.body);
  EXPECT_EQ(j["error"]["code"], "model_loading");
  EXPECT_NE(j["error"]["message"].get<std::string>().find("loading"), std::string::npos);
}

TEST_F(RouterWithoutModel, GenerationIs503AndMetricsAnswer) {
  Answer a = ask("POST", "/v1/completions", "Authorization: Bearer k\r\n");
  EXPECT_EQ(a.status, 503) << a.body;
  Answer m = ask("GET", "/metrics");
  EXPECT_EQ(m.status, 200);
  EXPECT_NE(m.body.find("vllm:num_requests_running{model_name=\"m\"} 0"), std::string::npos) << m.body;
}

TEST_F(RouterWithoutModel, AuthBeforeAnythingElseOnV1) {
  EXPECT_EQ(ask("POST", "/v1/chat/completions").status, 401);
  EXPECT_EQ(ask("POST", "/v1/chat/completions", "Authorization: Bearer wrong\r\n").status, 401);
  // The models are listed (with their state) while none is loaded.
  EXPECT_EQ(ask("GET", "/v1/models", "Authorization: Bearer k\r\n").status, 200);
  EXPECT_EQ(ask("GET", "/nowhere", "Authorization: Bearer k\r\n").status, 404);
}

TEST_F(RouterWithoutModel, DrainingHealthIs503) {
  router_->set_draining();
  Answer a = ask("GET", "/health");
  EXPECT_EQ(a.status, 503);
  EXPECT_EQ(json::parse(a.body)["error"]["code"], "draining");
}

}  // namespace
}  // namespace r1::server
