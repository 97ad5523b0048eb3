// The transport on loopback with raw sockets: keep-alive, body cap, malformed requests, streaming, and that a
// client going away is noticed while its response is pending.
#include "server/http_server.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "raw_http.h"

namespace r1::server {
namespace {

using r1::test::parse_raw_response;
using r1::test::RawConnection;

// Waits (bounded) for a condition set by another thread.
template <typename F>
bool eventually(F cond) {
  for (int i = 0; i < 500; ++i) {
    if (cond()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return cond();
}

struct Fixture : ::testing::Test {
  std::mutex mu;
  std::shared_ptr<HttpResponder> parked;  // /park: answered later by the test
  std::atomic<int> disconnects{0};
  std::unique_ptr<HttpServer> server;

  void SetUp() override {
    HttpServerOptions o;
    o.host = "127.0.0.1";
    o.port = 0;
    o.max_body_bytes = 1000;
    server =
        std::make_unique<HttpServer>(o, [this](const HttpRequest& req, std::shared_ptr<HttpResponder> res) {
          if (req.path == "/echo") {
            res->send(200, "text/plain",
                      req.method + " " + req.target + " " + req.body + " " + req.header("x-a"));
          } else if (req.path == "/stream") {
            res->begin_stream(200, "text/event-stream");
            for (int i = 0; i < 3; ++i) res->write("data: " + std::to_string(i) + "\n\n");
            res->end_stream();
          } else if (req.path == "/park") {
            res->on_disconnect([this] { ++disconnects; });
            std::lock_guard lock(mu);
            parked = res;
          } else if (req.path == "/drop") {
            // the responder is dropped unanswered: the server must still answer
          } else {
            throw std::runtime_error("boom");
          }
        });
    server->start();
  }
  void TearDown() override {
    {
      std::lock_guard lock(mu);
      parked.reset();
    }
    server->stop();
  }
};

TEST_F(Fixture, KeepAliveServesSeveralRequestsOnOneConnection) {
  RawConnection c(server->port());
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(c.send("POST /echo?q=1 HTTP/1.1\r\nHost: x\r\nX-A: hi\r\nContent-Length: 3\r\n\r\nabc"));
    auto raw = c.read_response();
    ASSERT_TRUE(raw);
    auto r = parse_raw_response(*raw);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->body, "POST /echo?q=1 abc hi");
  }
  EXPECT_TRUE(eventually([&] { return server->pending_responses() == 0; }));
}

TEST_F(Fixture, PipelinedRequestsAreAnsweredInOrder) {
  RawConnection c(server->port());
  ASSERT_TRUE(c.send("GET /echo?a HTTP/1.1\r\nHost: x\r\n\r\nGET /echo?b HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto a = c.read_response(), b = c.read_response();
  ASSERT_TRUE(a && b);
  EXPECT_NE(a->find("/echo?a"), std::string::npos);
  EXPECT_NE(b->find("/echo?b"), std::string::npos);
}

TEST_F(Fixture, BodyOverTheCapIs413WithOpenAiErrorJson) {
  RawConnection c(server->port());
  std::string body(5000, 'x');
  ASSERT_TRUE(c.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n" + body));
  auto r = parse_raw_response(c.read_all());
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 413);
  auto j = nlohmann::json::parse(r->body);
  EXPECT_EQ(j["error"]["type"], "invalid_request_error");
  EXPECT_NE(j["error"]["message"].get<std::string>().find("1000"), std::string::npos);
}

TEST_F(Fixture, ExpectContinueIsAnswered) {
  RawConnection c(server->port());
  ASSERT_TRUE(c.send("POST /echo HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n"));
  ASSERT_TRUE(c.send("hi"));
  auto raw = c.read_response();
  ASSERT_TRUE(raw);
  EXPECT_EQ(parse_raw_response(*raw)->body, "POST /echo hi ");
}

TEST_F(Fixture, MalformedRequestLineIs400) {
  RawConnection c(server->port());
  ASSERT_TRUE(c.send("THIS IS NOT HTTP\r\n\r\n"));
  auto r = parse_raw_response(c.read_all());
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  EXPECT_TRUE(nlohmann::json::parse(r->body).contains("error"));
}

TEST_F(Fixture, StreamIsChunked) {
  RawConnection c(server->port());
  ASSERT_TRUE(c.send("GET /stream HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto raw = c.read_response();
  ASSERT_TRUE(raw);
  auto r = parse_raw_response(*raw);
  EXPECT_NE(r->head.find("text/event-stream"), std::string::npos);
  EXPECT_EQ(r->body, "data: 0\n\ndata: 1\n\ndata: 2\n\n");
}

TEST_F(Fixture, HandlerExceptionIs500AndDroppedResponderStillAnswers) {
  RawConnection c(server->port());
  ASSERT_TRUE(c.send("GET /throw HTTP/1.1\r\nHost: x\r\n\r\nGET /drop HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto a = c.read_response(), b = c.read_response();
  ASSERT_TRUE(a && b);
  EXPECT_EQ(parse_raw_response(*a)->status, 500);
  EXPECT_EQ(parse_raw_response(*b)->status, 500);
}

TEST_F(Fixture, ClientDisconnectWhilePendingIsNoticed) {
  {
    RawConnection c(server->port());
    ASSERT_TRUE(c.send("GET /park HTTP/1.1\r\nHost: x\r\n\r\n"));
    ASSERT_TRUE(eventually([&] {
      std::lock_guard lock(mu);
      return parked != nullptr;
    }));
    EXPECT_EQ(server->pending_responses(), 1u);
  }  // closes the socket
  ASSERT_TRUE(eventually([&] { return disconnects.load() == 1; }));
  std::lock_guard lock(mu);
  EXPECT_TRUE(parked->closed());
  EXPECT_TRUE(eventually([&] { return server->pending_responses() == 0; }));
  parked->send(200, "text/plain", "too late");  // dropped, no crash
}

TEST_F(Fixture, ParkedResponseAnsweredLaterFromAnotherThread) {
  RawConnection c(server->port());
  ASSERT_TRUE(c.send("GET /park HTTP/1.1\r\nHost: x\r\n\r\n"));
  ASSERT_TRUE(eventually([&] {
    std::lock_guard lock(mu);
    return parked != nullptr;
  }));
  std::thread([&] {
    std::lock_guard lock(mu);
    parked->begin_stream(200, "text/event-stream");
    parked->write("data: late\n\n");
    parked->end_stream();
  }).join();
  auto raw = c.read_response();
  ASSERT_TRUE(raw);
  EXPECT_EQ(parse_raw_response(*raw)->body, "data: late\n\n");
  EXPECT_EQ(disconnects.load(), 0);
  // the connection is still usable
  ASSERT_TRUE(c.send("GET /echo HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_TRUE(c.read_response());
}

}  // namespace
}  // namespace r1::server
