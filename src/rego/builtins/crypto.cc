// crypto.md5/sha1/sha256, crypto.hmac.* and crypto.hmac.equal, on OpenSSL 3.
// Digests are returned as lower-case hex of the string's bytes, as in OPA.
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <string>
#include <string_view>

#include "rego/builtins/builtins.h"

namespace confidant::rego {
namespace {

std::string to_hex(const unsigned char* p, size_t n) {
  static const char* hex = "0123456789abcdef";
  std::string out;
  out.reserve(2 * n);
  for (size_t i = 0; i < n; ++i) {
    out.push_back(hex[p[i] >> 4]);
    out.push_back(hex[p[i] & 15]);
  }
  return out;
}

Value digest(std::string_view name, const EVP_MD* md, std::span<const Value> args) {
  const std::string& s = arg_string(name, args, 0);
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(s.data(), s.size(), out, &len, md, nullptr) != 1) builtin_error(name, "digest failed");
  return Value::string(to_hex(out, len));
}

Value hmac(std::string_view name, const EVP_MD* md, std::span<const Value> args) {
  const std::string& message = arg_string(name, args, 0);
  const std::string& key = arg_string(name, args, 1);
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  // Some OpenSSL 3 releases reject a null key pointer even for an empty key.
  static const unsigned char kEmpty = 0;
  const void* k = key.empty() ? static_cast<const void*>(&kEmpty) : key.data();
  const auto* m = reinterpret_cast<const unsigned char*>(message.data());
  if (HMAC(md, k, static_cast<int>(key.size()), m, message.size(), out, &len) == nullptr)
    builtin_error(name, "hmac failed");
  return Value::string(to_hex(out, len));
}

Value crypto_md5(BuiltinContext&, std::span<const Value> a) { return digest("crypto.md5", EVP_md5(), a); }
Value crypto_sha1(BuiltinContext&, std::span<const Value> a) { return digest("crypto.sha1", EVP_sha1(), a); }
Value crypto_sha256(BuiltinContext&, std::span<const Value> a) { return digest("crypto.sha256", EVP_sha256(), a); }
Value hmac_md5(BuiltinContext&, std::span<const Value> a) { return hmac("crypto.hmac.md5", EVP_md5(), a); }
Value hmac_sha1(BuiltinContext&, std::span<const Value> a) { return hmac("crypto.hmac.sha1", EVP_sha1(), a); }
Value hmac_sha256(BuiltinContext&, std::span<const Value> a) { return hmac("crypto.hmac.sha256", EVP_sha256(), a); }
Value hmac_sha512(BuiltinContext&, std::span<const Value> a) { return hmac("crypto.hmac.sha512", EVP_sha512(), a); }

// Constant-time comparison of the two MAC strings (Go's hmac.Equal): the
// time taken depends only on the lengths, never on where they differ.
Value hmac_equal(BuiltinContext&, std::span<const Value> args) {
  static constexpr std::string_view kName = "crypto.hmac.equal";
  const std::string& a = arg_string(kName, args, 0);
  const std::string& b = arg_string(kName, args, 1);
  return Value::boolean(a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0);
}

}  // namespace

void register_crypto(BuiltinRegistry& r) {
  r.add("crypto.md5", 1, crypto_md5);
  r.add("crypto.sha1", 1, crypto_sha1);
  r.add("crypto.sha256", 1, crypto_sha256);
  r.add("crypto.hmac.md5", 2, hmac_md5);
  r.add("crypto.hmac.sha1", 2, hmac_sha1);
  r.add("crypto.hmac.sha256", 2, hmac_sha256);
  r.add("crypto.hmac.sha512", 2, hmac_sha512);
  r.add("crypto.hmac.equal", 2, hmac_equal);
}

}  // namespace confidant::rego
