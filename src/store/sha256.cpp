#include "store/sha256.h"

#include <openssl/evp.h>

#include <cstdio>
#include <memory>
#include <vector>

#include "core/error.h"

namespace r1::store {

std::string sha256_file(const std::filesystem::path& path) {
  std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (!f) fail("cannot open {} to check its sha256", path.string());
  std::unique_ptr<EVP_MD_CTX, void (*)(EVP_MD_CTX*)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  R1_CHECK(ctx && EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) == 1, "EVP sha256 init failed");
  std::vector<unsigned char> buf(1 << 20);
  size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), f.get())) > 0)
    R1_CHECK(EVP_DigestUpdate(ctx.get(), buf.data(), n) == 1, "EVP sha256 update failed");
  if (std::ferror(f.get())) fail("read error in {} while checking its sha256", path.string());
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  R1_CHECK(EVP_DigestFinal_ex(ctx.get(), md, &len) == 1, "EVP sha256 final failed");
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned i = 0; i < len; ++i) {
    out += hex[md[i] >> 4];
    out += hex[md[i] & 15];
  }
  return out;
}

}  // namespace r1::store
