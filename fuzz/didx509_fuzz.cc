// libFuzzer target: did:x509 parsing and resolution.
//
// Input: a DID, then optionally a 0x00 byte and DER certificates, each
// preceded by a two-byte big-endian length (leaf first). Parsing must never
// crash; resolution runs against whatever certificates parse. A fixed valid
// chain made at start-up is also resolved against the fuzzed DID, so the
// predicate matching code is reached with a chain that passes the path checks.
#include <openssl/x509v3.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "cose/crypto.h"
#include "cose/didx509.h"
#include "cose/x509_chain.h"

using namespace confidant::cose;

namespace {

Cert make(const char* cn, EVP_PKEY* key, X509* issuer, EVP_PKEY* issuer_key, bool ca) {
  X509* c = X509_new();
  X509_set_version(c, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(c), ca ? 1 : 2);
  ASN1_TIME_set(X509_getm_notBefore(c), 1577836800);
  ASN1_TIME_set(X509_getm_notAfter(c), 4102444800);
  X509_NAME* name = X509_NAME_new();
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, reinterpret_cast<const unsigned char*>(cn), -1, -1, 0);
  X509_set_subject_name(c, name);
  X509_set_issuer_name(c, issuer ? X509_get_subject_name(issuer) : name);
  X509_NAME_free(name);
  X509_set_pubkey(c, key);
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer ? issuer : c, c, nullptr, nullptr, 0);
  const char* exts[][2] = {{"basicConstraints", ca ? "critical,CA:TRUE" : "critical,CA:FALSE"},
                           {"keyUsage", ca ? "critical,keyCertSign" : "critical,digitalSignature"},
                           {"extendedKeyUsage", "codeSigning"},
                           {"subjectAltName", "email:user@example.com,DNS:example.com"}};
  for (const auto& e : exts) {
    X509_EXTENSION* ext = X509V3_EXT_conf(nullptr, &ctx, e[0], e[1]);
    if (ext) {
      X509_add_ext(c, ext, -1);
      X509_EXTENSION_free(ext);
    }
  }
  X509_sign(c, issuer_key, EVP_sha256());
  return Cert(c);
}

std::vector<Cert>& fixed_chain() {
  static std::vector<Cert> chain = [] {
    static Pkey root_key = generate_key("P-256");
    static Pkey leaf_key = generate_key("P-256");
    std::vector<Cert> c;
    Cert root = make("Root", root_key.get(), nullptr, root_key.get(), true);
    Cert leaf = make("Leaf", leaf_key.get(), root.get(), root_key.get(), false);
    c.push_back(std::move(leaf));
    c.push_back(std::move(root));
    return c;
  }();
  return chain;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  size_t zero = in.find('\0');
  std::string_view did = in.substr(0, zero);
  DidX509 parsed;
  std::string error, doc;
  (void)parse_did_x509(did, parsed, error);
  std::string decoded;
  (void)did_percent_decode(did, decoded);
  (void)resolve_did_x509(did, fixed_chain(), doc, error);
  if (zero == std::string_view::npos) return 0;
  std::string_view rest = in.substr(zero + 1);
  std::vector<Cert> chain;
  while (rest.size() >= 2 && chain.size() < 4) {
    size_t len = (static_cast<uint8_t>(rest[0]) << 8) | static_cast<uint8_t>(rest[1]);
    rest.remove_prefix(2);
    if (len > rest.size()) break;
    Cert c;
    if (parse_cert_der(rest.substr(0, len), c, error)) chain.push_back(std::move(c));
    rest.remove_prefix(len);
  }
  (void)resolve_did_x509(did, chain, doc, error);
  return 0;
}
