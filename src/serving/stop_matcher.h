#pragma once
// Stop strings over streamed text. Text comes in pieces (one detokenized token at a time); a stop string may
// span pieces. The matcher releases only text that can no longer be part of a stop string: it holds back the
// longest tail that is the start of some stop string, stops at the EARLIEST match in the text, and never
// releases the stop string itself (OpenAI and vLLM exclude it from the output).
#include <string>
#include <string_view>
#include <vector>

namespace r1::serving {

class StopMatcher {
 public:
  explicit StopMatcher(std::vector<std::string> stops);

  struct Result {
    std::string text;      // safe to emit now
    bool stopped = false;  // a stop string was found; nothing more will be released
  };
  Result push(std::string_view piece);
  // End of generation without a stop: the text held back so far.
  std::string flush();

  bool stopped() const { return stopped_; }
  // Text held back right now (bytes).
  size_t held() const { return held_.size(); }

 private:
  std::vector<std::string> stops_;
  std::string held_;
  bool stopped_ = false;
};

}  // namespace r1::serving
