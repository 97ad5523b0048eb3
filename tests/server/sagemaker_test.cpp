// The SageMaker adapter's parts with no server: which protocol a body is in, how an adapter's refusal maps
// to SageMaker Runtime's error shapes, and the two answer wrappers (InvokeEndpoint's whole body,
// InvokeEndpointWithResponseStream's PayloadPart events).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "server/api/bedrock/event_stream.h"
#include "server/api/sagemaker/sagemaker_api.h"
#include "server/api/sagemaker/sagemaker_error.h"
#include "server/api_error.h"

namespace r1::server::sagemaker {
namespace {

using nlohmann::json;

TEST(SageMakerBody, DispatchesInTgisOrder) {
  EXPECT_EQ(body_protocol(R"({"inputs":"x"})"), BodyProtocol::tgi);
  EXPECT_EQ(body_protocol(R"({"inputs":"x","messages":[]})"), BodyProtocol::tgi);
  EXPECT_EQ(body_protocol(R"({"messages":[{"role":"user","content":"x"}]})"), BodyProtocol::chat);
  EXPECT_EQ(body_protocol(R"({"prompt":"x","max_tokens":3})"), BodyProtocol::completion);
  EXPECT_STREQ(protocol_route(BodyProtocol::tgi), "/");
  EXPECT_STREQ(protocol_route(BodyProtocol::chat), "/v1/chat/completions");
  EXPECT_STREQ(protocol_route(BodyProtocol::completion), "/v1/completions");
  for (const char* bad : {"", "[1]", "\"inputs\"", R"({"input":"x"})", "{"}) {
    try {
      body_protocol(bad);
      ADD_FAILURE() << bad;
    } catch (const ApiError& e) {
      EXPECT_EQ(e.status(), 400) << bad;
      EXPECT_NE(std::string(e.what()).find("inputs"), std::string::npos) << e.what();
    }
  }
}

std::string openai_error(int status, const std::string& msg, const char* type, const char* code = nullptr) {
  ApiError e(status, msg, type, std::nullopt, code ? std::optional<std::string>(code) : std::nullopt);
  return dump_json(e.to_json());
}

TEST(SageMakerErrors, MapsEveryRefusalToAServiceModelShape) {
  auto m = [](int status, const std::string& body) { return from_response(status, body); };
  SageMakerError v = m(400, openai_error(400, "'temperature' must be in [0, 2]", "invalid_request_error"));
  EXPECT_EQ(v.status, 400);
  EXPECT_EQ(v.type, "ValidationError");
  EXPECT_EQ(v.message, "'temperature' must be in [0, 2]");
  EXPECT_EQ(m(422, R"({"error":"Input validation error: x","error_type":"validation"})").type,
            "ValidationError");
  EXPECT_EQ(m(404, openai_error(404, "no model", "invalid_request_error")).status, 400);
  EXPECT_EQ(m(401, openai_error(401, "key", "invalid_request_error")).type, "AccessDeniedException");
  SageMakerError nr = m(503, openai_error(503, "loading", "service_unavailable_error", "model_not_ready"));
  EXPECT_EQ(nr.status, 429);
  EXPECT_EQ(nr.type, "ModelNotReadyException");
  EXPECT_EQ(m(503, R"({"error":"not loaded","error_type":"unavailable"})").type, "ModelNotReadyException");
  SageMakerError drain =
      m(503, openai_error(503, "the server is shutting down", "service_unavailable_error", "draining"));
  EXPECT_EQ(drain.status, 503);
  EXPECT_EQ(drain.type, "ServiceUnavailable");
  // TGI's 503 has no code: whether the server drains decides it, not the message's wording.
  const std::string tgi_503 = R"({"error":"the server is shutting down","error_type":"unavailable"})";
  EXPECT_EQ(from_response(503, tgi_503, /*draining=*/true).type, "ServiceUnavailable");
  EXPECT_EQ(from_response(503, tgi_503, /*draining=*/false).type, "ModelNotReadyException");
  SageMakerError busy = m(429, R"({"error":"Model is overloaded","error_type":"overloaded"})");
  EXPECT_EQ(busy.status, 429);
  EXPECT_EQ(busy.type, "ThrottlingException");
  SageMakerError model =
      m(424, R"({"error":"Request failed during generation: boom","error_type":"generation"})");
  EXPECT_EQ(model.status, 424);
  EXPECT_EQ(model.type, "ModelError");
  EXPECT_EQ(model.original_status, 424);
  EXPECT_EQ(model.original_message, "Request failed during generation: boom");
  json body = json::parse(error_body(model));
  EXPECT_EQ(body["OriginalStatusCode"], 424);
  EXPECT_EQ(body["Message"], body["message"]);
  SageMakerError raw = m(500, "not json");
  EXPECT_EQ(raw.type, "ModelError");
  EXPECT_EQ(raw.original_message, "not json");
}

// Records what a wrapper sends.
struct Recorder final : HttpResponder {
  int status = 0;
  std::string content_type, body;
  HeaderList headers;
  bool streaming = false, ended = false;
  void send(int s, std::string ct, std::string b, HeaderList h) override {
    status = s, content_type = std::move(ct), body = std::move(b), headers = std::move(h);
  }
  void begin_stream(int s, std::string ct, HeaderList h) override {
    status = s, content_type = std::move(ct), headers = std::move(h), streaming = true;
  }
  void write(std::string d) override { body += d; }
  void end_stream() override { ended = true; }
  bool closed() const override { return false; }
  void on_disconnect(std::function<void()>) override {}
  std::string header(const std::string& name) const {
    for (const auto& [k, v] : headers)
      if (k == name) return v;
    return "";
  }
};

// The event-stream messages in `bytes`, in order.
std::vector<eventstream::Message> messages(const std::string& bytes) {
  std::vector<eventstream::Message> out;
  size_t p = 0;
  while (p + 4 <= bytes.size()) {
    uint32_t len = (uint8_t(bytes[p]) << 24) | (uint8_t(bytes[p + 1]) << 16) | (uint8_t(bytes[p + 2]) << 8) |
                   uint8_t(bytes[p + 3]);
    out.push_back(eventstream::decode(std::string_view(bytes).substr(p, len)));
    p += len;
  }
  EXPECT_EQ(p, bytes.size());
  return out;
}
std::string header_of(const eventstream::Message& m, const std::string& name) {
  for (const auto& h : m.headers)
    if (h.name == name) return std::get<std::string>(h.value);
  return "";
}

TEST(SageMakerInvoke, CollectsAStreamIntoOneBodyAndMapsErrors) {
  auto rec = std::make_shared<Recorder>();
  auto w = invoke_responder(rec, "rid-1");
  w->begin_stream(200, "text/event-stream", {});
  w->write("data: a\n\n");
  w->write("data: b\n\n");
  EXPECT_EQ(rec->status, 0);  // nothing sent before the end
  w->end_stream();
  EXPECT_FALSE(rec->streaming);
  EXPECT_EQ(rec->status, 200);
  EXPECT_EQ(rec->content_type, "text/event-stream");
  EXPECT_EQ(rec->body, "data: a\n\ndata: b\n\n");
  EXPECT_EQ(rec->header("x-Amzn-Invoked-Production-Variant"), "AllTraffic");
  EXPECT_EQ(rec->header("x-amzn-requestid"), "rid-1");

  auto err = std::make_shared<Recorder>();
  invoke_responder(err, "rid-2")
      ->send(422, "application/json", R"({"error":"bad","error_type":"validation"})", {});
  EXPECT_EQ(err->status, 400);
  EXPECT_EQ(err->header("x-amzn-errortype"), "ValidationError");
  EXPECT_EQ(json::parse(err->body)["Message"], "bad");
}

TEST(SageMakerStream, EachChunkIsAPayloadPartOfItsBytes) {
  auto rec = std::make_shared<Recorder>();
  auto w = stream_responder(rec, "rid");
  w->begin_stream(200, "text/event-stream", {});
  w->write("data:{\"token\":1}\n\n");
  w->write("data:{\"token\":2}\n\n");
  w->end_stream();
  EXPECT_TRUE(rec->streaming && rec->ended);
  EXPECT_EQ(rec->content_type, "application/vnd.amazon.eventstream");
  EXPECT_EQ(rec->header("X-Amzn-SageMaker-Content-Type"), "text/event-stream");
  auto ms = messages(rec->body);
  ASSERT_EQ(ms.size(), 2u);
  EXPECT_EQ(header_of(ms[0], ":event-type"), "PayloadPart");
  EXPECT_EQ(header_of(ms[0], ":message-type"), "event");
  EXPECT_EQ(ms[0].payload,
            "data:{\"token\":1}\n\n");  // the bytes themselves: the SDK hands them over as Bytes
  EXPECT_EQ(ms[1].payload, "data:{\"token\":2}\n\n");

  // A whole answer is one PayloadPart.
  auto whole = std::make_shared<Recorder>();
  stream_responder(whole, "rid")->send(200, "application/json", R"({"object":"text_completion"})", {});
  auto one = messages(whole->body);
  ASSERT_EQ(one.size(), 1u);
  EXPECT_EQ(one[0].payload, R"({"object":"text_completion"})");
  EXPECT_TRUE(whole->ended);
}

TEST(SageMakerStream, ARefusalBeforeOutputIsAnErrorAfterOutputAModelStreamError) {
  auto rec = std::make_shared<Recorder>();
  auto w = stream_responder(rec, "rid");
  w->begin_stream(200, "text/event-stream", {});
  w->write("data:{\"error\":\"Input validation error: max_new_tokens\",\"error_type\":\"validation\"}\n\n");
  w->end_stream();
  EXPECT_FALSE(rec->streaming);
  EXPECT_EQ(rec->status, 400);
  EXPECT_EQ(rec->header("x-amzn-errortype"), "ValidationError");

  auto mid = std::make_shared<Recorder>();
  auto s = stream_responder(mid, "rid");
  s->begin_stream(200, "text/event-stream", {});
  s->write("data: {\"choices\":[]}\n\n");
  s->write("data: {\"error\":{\"message\":\"engine failed\",\"type\":\"internal_server_error\"}}\n\n");
  s->end_stream();
  auto ms = messages(mid->body);
  ASSERT_EQ(ms.size(), 3u);
  EXPECT_EQ(header_of(ms[2], ":message-type"), "exception");
  EXPECT_EQ(header_of(ms[2], ":exception-type"), "ModelStreamError");
  json e = json::parse(ms[2].payload);
  EXPECT_EQ(e["Message"], "engine failed");
  EXPECT_EQ(e["ErrorCode"], "ModelError");
}

}  // namespace
}  // namespace r1::server::sagemaker
