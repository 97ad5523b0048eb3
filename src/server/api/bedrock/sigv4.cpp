#include "server/api/bedrock/sigv4.h"

#include <fmt/format.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include <algorithm>
#include <ctime>
#include <map>

#include "core/error.h"

namespace r1::server::bedrock {

namespace {

std::string hex(const unsigned char* p, size_t n) {
  static const char* d = "0123456789abcdef";
  std::string s;
  for (size_t i = 0; i < n; ++i) {
    s.push_back(d[p[i] >> 4]);
    s.push_back(d[p[i] & 15]);
  }
  return s;
}

std::string hmac(const std::string& key, const std::string& msg) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), int(key.size()), reinterpret_cast<const unsigned char*>(msg.data()),
       msg.size(), out, &len);
  return std::string(reinterpret_cast<char*>(out), len);
}

std::string trim(std::string s) {
  auto sp = [](char c) { return c == ' ' || c == '\t'; };
  while (!s.empty() && sp(s.back())) s.pop_back();
  size_t i = 0;
  while (i < s.size() && sp(s[i])) ++i;
  return s.substr(i);
}

// RFC 3986 unreserved characters stay; everything else becomes %XX (upper-case hex).
std::string uri_encode(const std::string& s, bool keep_slash) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || (keep_slash && c == '/')) {
      out.push_back(char(c));
    } else {
      out += fmt::format("%{:02X}", c);
    }
  }
  return out;
}

std::string percent_decode(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && std::isxdigit(uint8_t(s[i + 1])) &&
        std::isxdigit(uint8_t(s[i + 2]))) {
      out.push_back(char(std::stoi(s.substr(i + 1, 2), nullptr, 16)));
      i += 2;
    } else {
      out.push_back(s[i] == '+' ? ' ' : s[i]);
    }
  }
  return out;
}

// The path as the client signed it: dot segments removed, each segment (as sent, already encoded once)
// encoded again, '/' kept.
std::string canonical_path(const std::string& path) {
  std::vector<std::string> segs;
  size_t at = 0;
  while (at <= path.size()) {
    size_t end = path.find('/', at);
    if (end == std::string::npos) end = path.size();
    std::string seg = path.substr(at, end - at);
    if (seg == "..") {
      if (!segs.empty()) segs.pop_back();
    } else if (!seg.empty() && seg != ".") {
      segs.push_back(seg);
    }
    at = end + 1;
  }
  std::string out = "/";
  for (size_t i = 0; i < segs.size(); ++i) out += (i ? "/" : "") + uri_encode(segs[i], false);
  if (!segs.empty() && path.size() > 1 && path.back() == '/') out += "/";
  return out;
}

std::string canonical_query(const std::string& target) {
  size_t q = target.find('?');
  if (q == std::string::npos) return "";
  std::vector<std::pair<std::string, std::string>> kv;
  std::string qs = target.substr(q + 1);
  size_t at = 0;
  while (at <= qs.size()) {
    size_t end = qs.find('&', at);
    if (end == std::string::npos) end = qs.size();
    std::string part = qs.substr(at, end - at);
    if (!part.empty()) {
      size_t eq = part.find('=');
      std::string k = percent_decode(part.substr(0, eq)),
                  v = eq == std::string::npos ? "" : percent_decode(part.substr(eq + 1));
      kv.emplace_back(uri_encode(k, false), uri_encode(v, false));
    }
    at = end + 1;
  }
  std::sort(kv.begin(), kv.end());
  std::string out;
  for (const auto& [k, v] : kv) out += (out.empty() ? "" : "&") + k + "=" + v;
  return out;
}

}  // namespace

std::string sha256_hex(const std::string& data) {
  unsigned char d[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), d);
  return hex(d, sizeof d);
}

std::optional<SigV4Auth> parse_sigv4(const std::string& authorization) {
  const std::string kAlgo = "AWS4-HMAC-SHA256 ";
  if (!authorization.starts_with(kAlgo)) return std::nullopt;
  std::map<std::string, std::string> parts;
  std::string rest = authorization.substr(kAlgo.size());
  size_t at = 0;
  while (at < rest.size()) {
    size_t end = rest.find(',', at);
    if (end == std::string::npos) end = rest.size();
    std::string p = trim(rest.substr(at, end - at));
    size_t eq = p.find('=');
    if (eq != std::string::npos) parts[p.substr(0, eq)] = p.substr(eq + 1);
    at = end + 1;
  }
  SigV4Auth a;
  const std::string cred = parts["Credential"];
  size_t slash = cred.find('/');
  if (slash == std::string::npos || slash == 0)
    fail("Authorization: SigV4 'Credential' must be KEYID/date/region/service/aws4_request");
  a.access_key_id = cred.substr(0, slash);
  a.scope = cred.substr(slash + 1);
  std::vector<std::string> s;
  for (size_t i = 0, j; i <= a.scope.size(); i = j + 1) {
    j = a.scope.find('/', i);
    if (j == std::string::npos) j = a.scope.size();
    s.push_back(a.scope.substr(i, j - i));
  }
  if (s.size() != 4 || s[3] != "aws4_request")
    fail("Authorization: SigV4 credential scope '{}' is not date/region/service/aws4_request", a.scope);
  a.date = s[0];
  a.region = s[1];
  a.service = s[2];
  const std::string sh = parts["SignedHeaders"];
  if (sh.empty()) fail("Authorization: SigV4 'SignedHeaders' is missing");
  for (size_t i = 0, j; i <= sh.size(); i = j + 1) {
    j = sh.find(';', i);
    if (j == std::string::npos) j = sh.size();
    std::string h = sh.substr(i, j - i);
    std::transform(h.begin(), h.end(), h.begin(), [](unsigned char c) { return char(std::tolower(c)); });
    a.signed_headers.push_back(h);
  }
  a.signature = parts["Signature"];
  if (a.signature.empty()) fail("Authorization: SigV4 'Signature' is missing");
  return a;
}

std::string canonical_request(const HttpRequest& req, const SigV4Auth& auth) {
  std::vector<std::string> names = auth.signed_headers;
  std::sort(names.begin(), names.end());
  std::string headers;
  for (const std::string& n : names) {
    std::string value;
    bool first = true;
    for (const auto& [k, v] : req.headers) {
      if (k != n) continue;
      // Sequential spaces collapse to one.
      std::string t = trim(v), c;
      for (char ch : t)
        if (!(ch == ' ' && !c.empty() && c.back() == ' ')) c.push_back(ch);
      value += (first ? "" : ",") + c;
      first = false;
    }
    headers += n + ":" + value + "\n";
  }
  std::string signed_list;
  for (const std::string& n : names) signed_list += (signed_list.empty() ? "" : ";") + n;
  std::string payload = sha256_hex(req.body);
  std::string declared = req.header("x-amz-content-sha256");
  if (declared == "UNSIGNED-PAYLOAD") payload = declared;
  return req.method + "\n" + canonical_path(req.path) + "\n" + canonical_query(req.target) + "\n" + headers +
         "\n" + signed_list + "\n" + payload;
}

std::string sigv4_signature(const HttpRequest& req, const SigV4Auth& auth, const std::string& secret_key,
                            const std::string& amz_date) {
  std::string to_sign =
      "AWS4-HMAC-SHA256\n" + amz_date + "\n" + auth.scope + "\n" + sha256_hex(canonical_request(req, auth));
  std::string k = hmac("AWS4" + secret_key, auth.date);
  k = hmac(k, auth.region);
  k = hmac(k, auth.service);
  k = hmac(k, "aws4_request");
  std::string sig = hmac(k, to_sign);
  return hex(reinterpret_cast<const unsigned char*>(sig.data()), sig.size());
}

bool sigv4_verify(const HttpRequest& req, const SigV4Auth& auth, const std::string& secret_key) {
  std::string amz_date = req.header("x-amz-date");
  if (amz_date.empty()) amz_date = req.header("date");
  std::string want = sigv4_signature(req, auth, secret_key, amz_date);
  return want.size() == auth.signature.size() &&
         CRYPTO_memcmp(want.data(), auth.signature.data(), want.size()) == 0;
}

namespace {
std::string amz_time(int64_t t) {
  std::time_t tt = std::time_t(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}
}  // namespace

std::optional<std::string> sigv4_clock_skew(const std::string& amz_date, int64_t now) {
  std::tm tm{};
  const char* end = amz_date.size() == 16 ? strptime(amz_date.c_str(), "%Y%m%dT%H%M%SZ", &tm) : nullptr;
  if (!end || *end != '\0')
    throw r1::Error(fmt::format("x-amz-date '{}' is not a SigV4 time (YYYYMMDDTHHMMSSZ)", amz_date));
  const int64_t signed_at = int64_t(timegm(&tm));
  if (signed_at < now - kMaxClockSkewSeconds)
    return fmt::format("Signature expired: {} is now earlier than {} ({} - 15 min.)", amz_date,
                       amz_time(now - kMaxClockSkewSeconds), amz_time(now));
  if (signed_at > now + kMaxClockSkewSeconds)
    return fmt::format("Signature not yet current: {} is still later than {} ({} + 15 min.)", amz_date,
                       amz_time(now + kMaxClockSkewSeconds), amz_time(now));
  return std::nullopt;
}

}  // namespace r1::server::bedrock
