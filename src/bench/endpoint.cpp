#include "bench/endpoint.h"

#include <nlohmann/json.hpp>
#include <set>

#include "bench/http_client.h"
#include "bench/reply_excerpt.h"
#include "core/error.h"

namespace r1::bench {

Endpoint parse_endpoint(const std::string& spec) {
  Endpoint e;
  std::string url = spec;
  size_t eq = spec.find('=');
  size_t scheme = spec.find("://");
  if (eq != std::string::npos && (scheme == std::string::npos || eq < scheme)) {
    e.name = spec.substr(0, eq);
    url = spec.substr(eq + 1);
    if (e.name.empty()) fail("--endpoint {}: empty NAME before '='", spec);
  }
  if (url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0)
    fail("--endpoint {}: expected NAME=URL with an http:// or https:// URL", spec);
  while (!url.empty() && url.back() == '/') url.pop_back();
  if (url.size() < 3 || url.compare(url.size() - 3, 3, "/v1") != 0) url += "/v1";
  e.base_url = url;
  if (e.name.empty()) {
    size_t host = url.find("://") + 3;
    e.name = url.substr(host, url.find('/', host) - host);
  }
  return e;
}

void check_unique_names(const std::vector<Endpoint>& endpoints) {
  std::set<std::string> seen;
  for (const auto& e : endpoints)
    if (!seen.insert(e.name).second) fail("--endpoint: the name \"{}\" is used twice", e.name);
}

void resolve_model(Endpoint& e, double timeout_s) {
  HttpClient client;
  std::string url = e.url("/models");
  HttpResponse r = client.get(url, e.api_key, timeout_s);
  if (!r.transport_ok)
    fail("endpoint {}: GET {} failed: {} (is the server running and the URL right?)", e.name, url,
         r.transport_error);
  if (r.status == 401 || r.status == 403)
    fail("endpoint {}: GET {} answered HTTP {} (check --api-key): {}", e.name, url, r.status,
         reply_excerpt(r.body));
  auto doc = nlohmann::json::parse(r.body, nullptr, false);
  bool listed = r.status == 200 && doc.is_object() && doc.contains("data") && doc["data"].is_array();
  if (!listed) {
    if (!e.model.empty()) return;  // the user named the model; the chat request itself will tell
    fail("endpoint {}: GET {} did not return an OpenAI model list (HTTP {}, {}): {}; pass --model", e.name,
         url, r.status, r.content_type.empty() ? "no content type" : r.content_type, reply_excerpt(r.body));
  }
  if (!e.model.empty()) return;
  for (const auto& m : doc["data"])
    if (m.is_object() && m.contains("id") && m["id"].is_string()) {
      e.model = m["id"].get<std::string>();
      return;
    }
  fail("endpoint {}: GET {} lists no model; pass --model", e.name, url);
}

}  // namespace r1::bench
