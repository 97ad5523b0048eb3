#pragma once
// The servers under test: `--endpoint NAME=URL` parsed, the OpenAI base URL normalised, and the model
// resolved (asked of GET /v1/models when the user gave none).
#include <string>
#include <vector>

namespace r1::bench {

struct Endpoint {
  std::string name;      // the label in tables and plots
  std::string base_url;  // always ends in "/v1", no trailing slash
  std::string model;     // empty until resolved
  std::string api_key;   // may be empty
  std::string url(const std::string& path) const { return base_url + path; }  // path starts with '/'
};

// "NAME=URL" or a bare URL (named after its host:port). "http://h:8080", "http://h:8080/" and
// "http://h:8080/v1" all give base_url "http://h:8080/v1".
Endpoint parse_endpoint(const std::string& spec);

// Fails (r1::Error) when two endpoints share a name.
void check_unique_names(const std::vector<Endpoint>& endpoints);

// Calls GET {base}/models. Fails with the endpoint's name and what came back when nothing answers or the
// reply is not an OpenAI model list. Fills `model` with the first listed id when it is empty; when the user
// named a model the list only has to be readable (a hosted API may list hundreds).
void resolve_model(Endpoint& e, double timeout_s);

}  // namespace r1::bench
