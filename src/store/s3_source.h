#pragma once
// Models from S3 (or any S3-compatible store): `s3://BUCKET/PREFIX/` wherever a model source is accepted.
// ListObjectsV2 names the objects under the prefix; GET fetches each (resumed with Range), every request
// signed with AWS Signature Version 4 by libcurl (CURLOPT_AWS_SIGV4), into a local copy under the model
// store: $STORE/s3/BUCKET/PREFIX/, which is then an ordinary package folder. Files already there with the
// size S3 lists are not fetched again; a file in progress is `NAME.incomplete` until its size is right.
#include <filesystem>
#include <optional>
#include <string>

namespace r1::store {

struct S3Location {
  std::string bucket;
  std::string prefix;  // "" or ending in '/'
  std::string url() const { return "s3://" + bucket + "/" + prefix; }
};
// "s3://BUCKET[/PREFIX]" -> its parts; nullopt when `s` does not start with "s3://". Throws r1::Error on a
// bucket name S3 would not accept or a prefix with "." / ".." components (the local copy mirrors it).
std::optional<S3Location> parse_s3_url(const std::string& s);

// As the AWS SDKs read the environment.
struct S3Config {
  std::string access_key, secret_key,
      session_token;                 // AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN
  std::string region = "us-east-1";  // AWS_REGION, else AWS_DEFAULT_REGION
  std::string endpoint;   // AWS_ENDPOINT_URL_S3, else AWS_ENDPOINT_URL; "" = https://s3.REGION.amazonaws.com
  double timeout_s = 10;  // a stalled transfer fails after this long (then resumes on the next attempt)
};
S3Config s3_config_from_env();

// Fetches the files r1serve loads (the Hub pull's selection: config, tokenizer, safetensors at the prefix's
// top level) into `dest` and returns it. Throws r1::Error naming the bucket, key and problem (403 with a
// hint about credentials, 404, a size mismatch, network errors after retries).
std::filesystem::path fetch_s3_model(const S3Config& config, const S3Location& loc,
                                     const std::filesystem::path& dest, bool tty_progress);

}  // namespace r1::store
