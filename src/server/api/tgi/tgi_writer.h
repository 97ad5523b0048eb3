#pragma once
// The events of one TGI generation written as TGI answers them: one JSON body at the end (/generate, or a
// one-element array for POST /), or one server-sent event per generated token (/generate_stream), the last
// one holding back until the generation completes so that it can carry the whole text and the details.
#include <memory>
#include <string>

#include "server/api/openai/completions_adapter.h"
#include "server/api/tgi/tgi_request.h"
#include "server/api/tgi/tgi_response.h"
#include "server/http_server.h"
#include "serving/generation.h"

namespace r1::server::tgi {

struct TgiCall {
  TgiRequest request;
  bool stream = false;
  bool compat = false;  // POST /: a whole answer is an array
  std::string id;       // the access log's
  std::shared_ptr<HttpResponder> res;
  OnGenerationFinished on_finished;
  IsSpecial is_special;
};

class TgiWriter final : public serving::GenerationObserver {
 public:
  explicit TgiWriter(TgiCall call);
  void on_started() override;
  void on_delta(const serving::ChoiceDelta& d) override;
  void on_complete(const serving::GenerateResult& r) override;
  void on_finished(const serving::GenerationSummary& s) override;

 private:
  TgiCall c_;
  size_t index_ = 0;                           // tokens sent so far (stream)
  std::optional<serving::LogprobEntry> held_;  // the latest token, sent once the next one (or the end) comes
  int status_ = 200;
};

// The stream TGI answers when a generation cannot start (a refused value, overload): status 200 and one
// error event, as TGI's router does inside its stream.
void send_stream_error(HttpResponder& res, const nlohmann::json& error);

}  // namespace r1::server::tgi
