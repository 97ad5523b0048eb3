#include "server/transport_responder.h"

#include "server/api_error.h"

namespace r1::server {

std::string TransportResponder::dropped_response_body() {
  ApiError err(500, "internal error: the request was dropped without a response", "internal_server_error");
  return dump_json(err.to_json());
}

}  // namespace r1::server
