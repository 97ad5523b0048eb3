#include "serving/serving_error.h"

namespace r1::serving {

void invalid_request(std::string message, std::optional<std::string> param, std::optional<std::string> code) {
  throw ServingError(ErrorKind::invalid_request, std::move(message), std::move(param), std::move(code));
}

}  // namespace r1::serving
