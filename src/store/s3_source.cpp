#include "store/s3_source.h"

#include <curl/curl.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <thread>

#include "core/error.h"
#include "store/hub_client.h"
#include "store/hub_pull.h"
#include "store/pull_progress.h"

namespace r1::store {

namespace fs = std::filesystem;

namespace {

constexpr int kAttempts = 5;

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

// S3's rules for bucket names: 3-63 of [a-z0-9.-], starting and ending with a letter or digit.
bool valid_bucket(const std::string& b) {
  if (b.size() < 3 || b.size() > 63 || !std::isalnum(static_cast<unsigned char>(b.front())) ||
      !std::isalnum(static_cast<unsigned char>(b.back())))
    return false;
  for (char c : b)
    if (!(std::islower(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c)) ||
          c == '.' || c == '-'))
      return false;
  return b.find("..") == std::string::npos;
}

// The text of every <tag>…</tag> in `xml`, entities decoded (S3's answers use only the five XML ones).
std::vector<std::string> xml_values(const std::string& xml, const std::string& tag) {
  std::vector<std::string> out;
  const std::string open = "<" + tag + ">", close = "</" + tag + ">";
  for (size_t at = xml.find(open); at != std::string::npos; at = xml.find(open, at)) {
    at += open.size();
    size_t end = xml.find(close, at);
    if (end == std::string::npos) break;
    std::string v = xml.substr(at, end - at), d;
    for (size_t i = 0; i < v.size(); ++i) {
      if (v[i] != '&') {
        d += v[i];
        continue;
      }
      size_t semi = v.find(';', i);
      std::string ent = semi == std::string::npos ? "" : v.substr(i + 1, semi - i - 1);
      const char* rep = ent == "amp"    ? "&"
                        : ent == "lt"   ? "<"
                        : ent == "gt"   ? ">"
                        : ent == "quot" ? "\""
                        : ent == "apos" ? "'"
                                        : nullptr;
      if (!rep) {
        d += v[i];
        continue;
      }
      d += rep;
      i = semi;
    }
    out.push_back(d);
    at = end + close.size();
  }
  return out;
}

struct CurlGlobalInit {
  CurlGlobalInit() { curl_global_init(CURL_GLOBAL_DEFAULT); }
};

// One signed request at a time over one easy handle.
class S3Client {
 public:
  explicit S3Client(const S3Config& c) : c_(c) {
    static CurlGlobalInit global;
    curl_ = curl_easy_init();
    R1_CHECK(curl_, "curl_easy_init failed");
  }
  ~S3Client() { curl_easy_cleanup(curl_); }

  std::string object_url(const S3Location& loc, const std::string& key) const {
    if (!c_.endpoint.empty()) {
      std::string e = c_.endpoint;
      while (!e.empty() && e.back() == '/') e.pop_back();
      return e + "/" + loc.bucket + "/" + url_encode(key, true);  // path style, as S3-compatible stores want
    }
    return "https://" + loc.bucket + ".s3." + c_.region + ".amazonaws.com/" + url_encode(key, true);
  }

  struct Result {
    long status = 0;
    std::string body;  // API answers and error bodies
  };
  // GET `url`; with `file`, 2xx bodies go to it: appended after `offset` bytes on 206, from byte 0 on 200.
  Result get(const std::string& url, std::FILE* file, uint64_t offset,
             const std::function<void(uint64_t)>& progress) {
    Sink s{this, file, offset, offset, &progress, {}, {}, false};
    curl_easy_reset(curl_);
    curl_easy_setopt(curl_, CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl_, CURLOPT_USERAGENT, "r1serve/0.1.0");
    curl_easy_setopt(curl_, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl_, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl_, CURLOPT_CONNECTTIMEOUT_MS, long(c_.timeout_s * 1000));
    curl_easy_setopt(curl_, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(curl_, CURLOPT_LOW_SPEED_TIME, std::max(1L, long(c_.timeout_s)));
    const std::string sigv4 = "aws:amz:" + c_.region + ":s3", userpwd = c_.access_key + ":" + c_.secret_key;
    curl_slist* headers = nullptr;
    // S3 wants the payload's hash; a GET has none to sign.
    headers = curl_slist_append(headers, "x-amz-content-sha256: UNSIGNED-PAYLOAD");
    const std::string token = "x-amz-security-token: " + c_.session_token;
    if (!c_.access_key.empty()) {
      curl_easy_setopt(curl_, CURLOPT_AWS_SIGV4, sigv4.c_str());
      curl_easy_setopt(curl_, CURLOPT_USERPWD, userpwd.c_str());
      if (!c_.session_token.empty()) headers = curl_slist_append(headers, token.c_str());
    }
    curl_easy_setopt(curl_, CURLOPT_HTTPHEADER, headers);
    const std::string range = std::to_string(offset) + "-";
    if (file && offset > 0) curl_easy_setopt(curl_, CURLOPT_RANGE, range.c_str());
    curl_easy_setopt(curl_, CURLOPT_WRITEFUNCTION, &S3Client::on_body);
    curl_easy_setopt(curl_, CURLOPT_WRITEDATA, &s);
    CURLcode rc = curl_easy_perform(curl_);
    curl_slist_free_all(headers);
    Result r;
    curl_easy_getinfo(curl_, CURLINFO_RESPONSE_CODE, &r.status);
    if (!s.io_error.empty()) fail("{}", s.io_error);
    if (rc != CURLE_OK) throw TransientError(fmt::format("GET {}: {}", url, curl_easy_strerror(rc)));
    r.body = std::move(s.body);
    return r;
  }

 private:
  struct Sink {
    S3Client* self;
    std::FILE* file;
    uint64_t offset, have;
    const std::function<void(uint64_t)>* progress;
    std::string body, io_error;
    bool decided;
  };
  static size_t on_body(char* data, size_t size, size_t n, void* user) {
    auto* s = static_cast<Sink*>(user);
    long status = 0;
    curl_easy_getinfo(s->self->curl_, CURLINFO_RESPONSE_CODE, &status);
    const size_t bytes = size * n;
    if (!s->file || status < 200 || status >= 300) {
      if (s->body.size() < (size_t(4) << 20)) s->body.append(data, bytes);
      return bytes;
    }
    if (!s->decided) {
      s->decided = true;
      if (status == 200 && s->offset > 0) {  // the whole object instead of the range: start over
        if (::ftruncate(::fileno(s->file), 0) != 0 || std::fseek(s->file, 0, SEEK_SET) != 0) {
          s->io_error = "cannot truncate a partial download";
          return 0;
        }
        s->have = 0;
      }
    }
    if (std::fwrite(data, 1, bytes, s->file) != bytes) {
      s->io_error = "cannot write a download (disk full?)";
      return 0;
    }
    s->have += bytes;
    if (*s->progress) (*s->progress)(s->have);
    return bytes;
  }
  S3Config c_;
  CURL* curl_;
};

std::string status_message(long status, const std::string& what, const std::string& body,
                           bool signed_request) {
  std::vector<std::string> code = xml_values(body, "Code"), msg = xml_values(body, "Message");
  std::string detail = code.empty() ? "" : " (" + code[0] + (msg.empty() ? "" : ": " + msg[0]) + ")";
  if (status == 403 || status == 401)
    return fmt::format(
        "{}: access denied, HTTP {}{}; {}", what, status, detail,
        signed_request ? "check AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN, AWS_REGION)"
                       : "no credentials were sent: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY");
  if (status == 404) return fmt::format("{}: not found (HTTP 404{})", what, detail);
  return fmt::format("{}: HTTP {}{}", what, status, detail);
}

template <typename F>
auto with_retries(const std::string& what, F f) {
  for (int attempt = 1;; ++attempt) {
    try {
      return f();
    } catch (const TransientError& e) {
      if (attempt == kAttempts) fail("{} (after {} attempts)", e.what(), kAttempts);
      spdlog::warn("{}; retrying ({}/{})", e.what(), attempt, kAttempts);
      std::this_thread::sleep_for(std::chrono::milliseconds(200 * attempt));
    }
  }
}

}  // namespace

std::optional<S3Location> parse_s3_url(const std::string& s) {
  if (s.rfind("s3://", 0) != 0) return std::nullopt;
  const std::string rest = s.substr(5);
  const size_t slash = rest.find('/');
  S3Location loc;
  loc.bucket = rest.substr(0, slash);
  if (!valid_bucket(loc.bucket))
    fail("{}: \"{}\" is not an S3 bucket name (3-63 of a-z, 0-9, '.', '-')", s, loc.bucket);
  if (slash != std::string::npos) loc.prefix = rest.substr(slash + 1);
  if (!loc.prefix.empty() && loc.prefix.back() != '/') loc.prefix += '/';
  if (!loc.prefix.empty() && !repo_path_problem(loc.prefix.substr(0, loc.prefix.size() - 1)).empty())
    fail("{}: the prefix \"{}\" {}", s, loc.prefix,
         repo_path_problem(loc.prefix.substr(0, loc.prefix.size() - 1)));
  return loc;
}

S3Config s3_config_from_env() {
  S3Config c;
  c.access_key = env("AWS_ACCESS_KEY_ID");
  c.secret_key = env("AWS_SECRET_ACCESS_KEY");
  c.session_token = env("AWS_SESSION_TOKEN");
  if (!env("AWS_REGION").empty())
    c.region = env("AWS_REGION");
  else if (!env("AWS_DEFAULT_REGION").empty())
    c.region = env("AWS_DEFAULT_REGION");
  c.endpoint = !env("AWS_ENDPOINT_URL_S3").empty() ? env("AWS_ENDPOINT_URL_S3") : env("AWS_ENDPOINT_URL");
  return c;
}

fs::path fetch_s3_model(const S3Config& config, const S3Location& loc, const fs::path& dest,
                        bool tty_progress) {
  S3Client client(config);
  const bool signed_request = !config.access_key.empty();
  // ListObjectsV2, page by page; parameters in SigV4's canonical (sorted) order.
  std::vector<RepoFile> objects;
  std::string token;
  for (;;) {
    std::string url = client.object_url(loc, "");
    url += "?" + (token.empty() ? "" : "continuation-token=" + url_encode(token, false) + "&") +
           "list-type=2&prefix=" + url_encode(loc.prefix, false);
    S3Client::Result r = with_retries(loc.url(), [&] { return client.get(url, nullptr, 0, {}); });
    if (r.status != 200) fail("{}", status_message(r.status, "listing " + loc.url(), r.body, signed_request));
    std::vector<std::string> keys = xml_values(r.body, "Key"), sizes = xml_values(r.body, "Size");
    if (keys.size() != sizes.size())
      fail("listing {}: a ListObjectsV2 answer with {} keys but {} sizes", loc.url(), keys.size(),
           sizes.size());
    for (size_t i = 0; i < keys.size(); ++i) {
      if (keys[i].rfind(loc.prefix, 0) != 0) continue;
      const std::string rel = keys[i].substr(loc.prefix.size());
      if (rel.empty() || !repo_path_problem(rel).empty()) continue;  // folder markers, odd keys: not ours
      objects.push_back(RepoFile{rel, uint64_t(std::stoull(sizes[i])), ""});
    }
    std::vector<std::string> truncated = xml_values(r.body, "IsTruncated"),
                             next = xml_values(r.body, "NextContinuationToken");
    if (truncated.empty() || truncated[0] != "true" || next.empty()) break;
    token = next[0];
  }
  std::vector<RepoFile> files = select_files(objects, {});
  bool has_config = false;
  for (const auto& f : files) has_config |= f.path == "config.json";
  if (!has_config)
    fail("{}: no config.json under this prefix ({} objects listed): not a model folder", loc.url(),
         objects.size());

  std::error_code ec;
  fs::create_directories(dest, ec);
  if (ec) fail("{}: cannot create: {}", dest.string(), ec.message());
  PullProgress progress(tty_progress);
  std::vector<size_t> handles;
  for (const auto& f : files) handles.push_back(progress.add_file(f.path, *f.size));
  for (size_t i = 0; i < files.size(); ++i) {
    const RepoFile& f = files[i];
    const fs::path final_path = dest / f.path, partial = dest / (f.path + ".incomplete");
    if (fs::is_regular_file(final_path, ec) && fs::file_size(final_path, ec) == *f.size) {
      progress.done(handles[i], false);
      continue;
    }
    const std::string what = loc.url() + f.path, url = client.object_url(loc, loc.prefix + f.path);
    with_retries(what, [&] {
      uint64_t have = fs::exists(partial, ec) ? fs::file_size(partial, ec) : 0;
      if (have > *f.size) have = 0;  // not a prefix of this object: start over
      std::FILE* out = std::fopen(partial.c_str(), have ? "r+b" : "wb");
      if (!out) fail("{}: cannot write: {}", partial.string(), std::strerror(errno));
      std::fseek(out, long(have), SEEK_SET);
      S3Client::Result r;
      try {
        r = have == *f.size ? S3Client::Result{206, ""}
                            : client.get(url, out, have, [&](uint64_t n) { progress.update(handles[i], n); });
      } catch (...) {
        std::fclose(out);
        throw;
      }
      const bool ok = std::fclose(out) == 0;
      if (r.status == 416) fs::remove(partial, ec);  // the partial file does not fit: start over next time
      if (r.status >= 500 || r.status == 429 || r.status == 416)
        throw TransientError(status_message(r.status, what, r.body, signed_request));
      if (r.status != 200 && r.status != 206)
        fail("{}", status_message(r.status, what, r.body, signed_request));
      if (!ok) fail("{}: write failed", partial.string());
      const uint64_t got = fs::file_size(partial, ec);
      if (got != *f.size) {
        if (got > *f.size) fs::remove(partial, ec);
        throw TransientError(fmt::format("{}: {} bytes of {} arrived", what, got, *f.size));
      }
      fs::rename(partial, final_path, ec);
      if (ec) fail("{}: cannot move into place: {}", final_path.string(), ec.message());
      return 0;
    });
    progress.done(handles[i], true);
  }
  progress.finish();
  return dest;
}

}  // namespace r1::store
