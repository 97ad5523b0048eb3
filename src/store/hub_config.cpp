#include "store/hub_config.h"

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "core/error.h"

namespace r1::store {

namespace fs = std::filesystem;

namespace {
std::optional<std::string> env(const char* name) {
  const char* v = std::getenv(name);
  if (!v || !*v) return std::nullopt;
  return std::string(v);
}

std::string trim(std::string s) {
  auto ws = [](unsigned char c) { return std::isspace(c); };
  s.erase(s.begin(), std::find_if_not(s.begin(), s.end(), ws));
  s.erase(std::find_if_not(s.rbegin(), s.rend(), ws).base(), s.end());
  return s;
}

double env_seconds(const char* name, double fallback) {
  auto v = env(name);
  if (!v) return fallback;
  char* end = nullptr;
  double d = std::strtod(v->c_str(), &end);
  if (end == v->c_str() || *end != '\0' || !(d > 0))
    fail("{}={}: expected a positive number of seconds", name, *v);
  return d;
}
}  // namespace

bool env_flag(const char* name) {
  auto v = env(name);
  if (!v) return false;
  std::string s = *v;
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::toupper(c); });
  return s == "1" || s == "ON" || s == "YES" || s == "TRUE";
}

HubConfig hub_config_from_env(const std::string& cache_dir_override) {
  HubConfig c;
  fs::path home;
  if (auto h = env("HF_HOME")) {
    home = *h;
  } else if (auto x = env("XDG_CACHE_HOME")) {
    home = fs::path(*x) / "huggingface";
  } else {
    auto user_home = env("HOME");
    home = fs::path(user_home ? *user_home : "/") / ".cache" / "huggingface";
  }
  if (!cache_dir_override.empty())
    c.cache_dir = cache_dir_override;
  else if (auto hc = env("HF_HUB_CACHE"))
    c.cache_dir = *hc;
  else
    c.cache_dir = home / "hub";
  if (auto e = env("HF_ENDPOINT")) {
    c.endpoint = *e;
    while (!c.endpoint.empty() && c.endpoint.back() == '/') c.endpoint.pop_back();
    if (c.endpoint.rfind("http://", 0) != 0 && c.endpoint.rfind("https://", 0) != 0)
      fail("HF_ENDPOINT={}: expected an http:// or https:// URL", *e);
  }
  if (auto t = env("HF_TOKEN")) {
    c.token = trim(*t);
  } else {
    fs::path token_file = env("HF_TOKEN_PATH") ? fs::path(*env("HF_TOKEN_PATH")) : home / "token";
    std::ifstream in(token_file);
    if (in) {
      std::stringstream ss;
      ss << in.rdbuf();
      std::string t = trim(ss.str());
      if (!t.empty()) c.token = t;
    }
  }
  if (c.token && c.token->find_first_of("\r\n") != std::string::npos)
    fail("HF_TOKEN: the token has a line break inside it");
  c.offline = env_flag("HF_HUB_OFFLINE");
  c.metadata_timeout_s = env_seconds("HF_HUB_ETAG_TIMEOUT", c.metadata_timeout_s);
  c.download_timeout_s = env_seconds("HF_HUB_DOWNLOAD_TIMEOUT", c.download_timeout_s);
  return c;
}

}  // namespace r1::store
