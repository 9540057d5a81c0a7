// OpenSSL 3 helpers for COSE: owned key/certificate handles, digests,
// base64/base64url, and signatures in COSE form (ECDSA as fixed-length r||s,
// RSASSA-PSS with salt = hash length, EdDSA).
#pragma once

#include <openssl/evp.h>
#include <openssl/x509.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace confidant::cose {

struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct X509Free {
  void operator()(X509* p) const { X509_free(p); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;
using Cert = std::unique_ptr<X509, X509Free>;

// COSE algorithm identifiers (RFC 9053, RFC 8230).
enum class Alg : int64_t {
  kES256 = -7,
  kES384 = -35,
  kES512 = -36,
  kPS256 = -37,
  kPS384 = -38,
  kPS512 = -39,
  kEdDSA = -8,
};
std::optional<Alg> alg_from_id(int64_t id);
std::optional<Alg> alg_from_name(std::string_view name);  // "ES384", ...
const char* alg_name(Alg a);

// Hashes (SHA-256/384/512 by output size in bytes: 32, 48, 64).
std::string sha256(std::string_view data);
std::string sha384(std::string_view data);
std::string sha512(std::string_view data);

std::string to_hex(std::string_view bytes);
bool from_hex(std::string_view hex, std::string& out);
std::string base64url_encode(std::string_view bytes);            // no padding
bool base64url_decode(std::string_view text, std::string& out);  // padding optional
std::string base64_encode(std::string_view bytes);               // standard, padded
// Standard alphabet; padding optional; ASCII whitespace ignored.
bool base64_decode(std::string_view text, std::string& out);

// Sign/verify `tbs` (the to-be-signed bytes, not a digest) with a COSE algorithm.
// The key must suit the algorithm (EC for ES*, RSA for PS*, Ed25519/Ed448 for
// EdDSA; for ES* the curve decides the r||s width).
bool cose_sign(Alg alg, EVP_PKEY* key, std::string_view tbs, std::string& signature, std::string& error);
bool cose_verify(Alg alg, EVP_PKEY* key, std::string_view tbs, std::string_view signature, std::string& error);

// Key generation for tests and tools: "P-256", "P-384", "P-521", "RSA-2048",
// "RSA-3072", "Ed25519", "Ed448".
Pkey generate_key(std::string_view kind);

// PEM/DER loading.
Pkey load_private_key_pem(std::string_view pem, std::string& error);
bool parse_cert_der(std::string_view der, Cert& out, std::string& error);
// Every CERTIFICATE block of a PEM text, in order; false if none or one is bad.
bool parse_certs_pem(std::string_view pem, std::vector<Cert>& out, std::string& error);
std::string cert_der(X509* cert);
std::string cert_pem(X509* cert);
std::string private_key_pem(EVP_PKEY* key);

// The last OpenSSL error queue entry as text (and clears the queue).
std::string openssl_error();

}  // namespace confidant::cose
