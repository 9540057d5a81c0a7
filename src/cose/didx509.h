// did:x509 method version 0 (attestation.md section 8): parse a DID,
// resolve it against a certificate chain (RFC 5280 path checks with the last
// certificate as anchor; validity periods are not checked) and produce the
// DID document with the leaf key as a JWK. Also derives a DID from a chain
// for signing tools.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "cose/crypto.h"

namespace confidant::cose {

struct DidPredicate {
  enum class Kind { kSubject, kSan, kEku, kFulcioIssuer };
  Kind kind;
  // kSubject: (key, decoded value) pairs, keys as written ("CN" or an OID).
  std::vector<std::pair<std::string, std::string>> subject;
  std::string san_type;  // kSan: "email", "dns" or "uri"
  std::string value;     // kSan/kFulcioIssuer: decoded value; kEku: the OID
};

struct DidX509 {
  std::string did;          // without any #fragment
  std::string hash_alg;     // "sha256", "sha384", "sha512"
  std::string fingerprint;  // raw digest bytes
  std::vector<DidPredicate> predicates;
};

// Syntax only. Errors are sentences such as "DID URL paths are not supported."
bool parse_did_x509(std::string_view did, DidX509& out, std::string& error);

// Full resolution against `chain` (leaf first). On success `document_json`
// is the DID document (compact JSON).
bool resolve_did_x509(std::string_view did, const std::vector<Cert>& chain, std::string& document_json,
                      std::string& error);

// The leaf public key as a JWK (compact JSON): EC, RSA or OKP.
bool public_key_jwk(EVP_PKEY* key, std::string& jwk_json, std::string& error);

// A DID for `chain` (leaf first, at least two certificates): the SHA-256
// fingerprint of the last (root) certificate and one predicate from the
// leaf: "subject" (the leaf's CN) or "eku" (its last, most specific EKU OID).
bool derive_did_x509(const std::vector<Cert>& chain, std::string_view predicate, std::string& did, std::string& error);

// did:x509 percent-encoding: every byte outside ALPHA / DIGIT / "-" / "." / "_"
// becomes %XX (uppercase hex).
std::string did_percent_encode(std::string_view s);
bool did_percent_decode(std::string_view s, std::string& out);

}  // namespace confidant::cose
