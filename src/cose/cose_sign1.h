// COSE_Sign1 (RFC 9052) with the header conventions of the Confidential ACI
// ecosystem (attestation.md section 6): decode (tagged 18 or untagged),
// verify against the x5chain leaf with chain validation at a chosen time,
// and sign.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cose/cbor.h"
#include "cose/crypto.h"

namespace confidant::cose {

// Header labels used here.
inline constexpr int64_t kHeaderAlg = 1;
inline constexpr int64_t kHeaderCrit = 2;
inline constexpr int64_t kHeaderContentType = 3;
inline constexpr int64_t kHeaderKid = 4;
inline constexpr int64_t kHeaderCwtClaims = 15;
inline constexpr int64_t kHeaderX5Chain = 33;
inline constexpr int64_t kHeaderX5t = 34;
inline constexpr int64_t kHeaderPayloadHashAlg = 258;
inline constexpr int64_t kHeaderPreimageContentType = 259;
inline constexpr int64_t kHeaderPayloadLocation = 260;

struct CwtClaims {
  std::optional<std::string> iss;  // 1
  std::optional<std::string> sub;  // 2
  std::optional<int64_t> iat;      // 6, epoch seconds (tag 1 accepted)
  std::optional<CborValue> svn;    // "svn", normally an integer
};

// The protected header, interpreted. Unknown labels stay in the raw map.
struct CoseHeaders {
  int64_t alg = 0;
  std::optional<std::string> content_type;  // text, or a CoAP number as decimal text
  std::optional<std::string> kid;
  std::vector<std::string> x5chain;  // DER, leaf first
  std::optional<int64_t> x5t_alg;
  std::optional<std::string> x5t_hash;
  std::optional<CwtClaims> cwt;
  std::optional<std::string> iss;                    // legacy text label "iss"
  std::optional<std::string> feed;                   // legacy text label "feed"
  std::optional<int64_t> signing_time;               // legacy text label "signingtime"
  std::optional<int64_t> payload_hash_alg;           // 258 (hash envelope)
  std::optional<std::string> preimage_content_type;  // 259
  std::optional<std::string> payload_location;       // 260

  // Issuer and feed as hcsshim/cosesign1go take them: from the CWT claims
  // (iss, sub) when that header is present, else from the text labels.
  std::string issuer() const;
  std::string feed_name() const;
  // Signing time: CWT iat, else the legacy signingtime.
  std::optional<int64_t> signed_at() const;
};

struct CoseSign1 {
  bool tagged = false;
  std::string protected_bytes;  // contents of the protected bstr, exactly as received
  CborValue protected_map;      // decoded (empty map for a zero-length bstr)
  CborValue unprotected;
  std::optional<std::string> payload;  // nullopt: detached
  std::string signature;
  CoseHeaders headers;
};

struct CoseLimits {
  size_t max_message = 4u << 20;
  CborLimits cbor;
};

// Decodes and interprets the headers. Fails on anything malformed: wrong
// structure or types, labels in both buckets, unsupported crit, a header of
// the wrong type, a bad certificate encoding in x5chain.
bool decode_cose_sign1(std::string_view bytes, CoseSign1& out, std::string& error, const CoseLimits& limits = {});

// CBOR of ["Signature1", protected, external_aad, payload].
std::string sig_structure(std::string_view protected_bytes, std::string_view external_aad, std::string_view payload);

// Signature check with a given key (alg from the protected header).
bool verify_signature(const CoseSign1& msg, EVP_PKEY* key, std::string& error, std::string_view external_aad = {},
                      std::optional<std::string_view> detached_payload = std::nullopt);

struct VerifyOptions {
  // Time at which the chain must be valid. When unset, the document's own
  // signing time (CWT iat or signingtime) is used, else the current time.
  std::optional<int64_t> at;
  bool check_validity = true;  // false: validity periods ignored
  std::string_view external_aad;
  std::optional<std::string_view> detached_payload;
};

struct VerifiedCose {
  CoseSign1 msg;
  std::vector<Cert> chain;            // x5chain, leaf first
  std::optional<int64_t> checked_at;  // time used for the chain (unset if ignored)
};

// Decode, validate x5chain (its last certificate is the trust anchor, as
// cosesign1go does) and verify the signature with the leaf key.
bool verify_cose_x5chain(std::string_view bytes, const VerifyOptions& options, VerifiedCose& out, std::string& error);

struct SignRequest {
  Alg alg = Alg::kES384;
  std::optional<std::string> content_type;
  std::vector<std::string> x5chain;  // DER, leaf first; one cert is written as a bare bstr
  CborMap extra_protected;           // further labels, in order after alg/cty/x5chain
  CborMap unprotected;
  std::string payload;
  bool detached = false;
  bool tagged = true;
  std::string external_aad;
};

bool sign_cose_sign1(const SignRequest& request, EVP_PKEY* key, std::string& out, std::string& error);

// The protected header as JSON (labels by name where known, byte strings as
// hex, certificates summarised by subject and SHA-256).
std::string protected_headers_json(const CoseSign1& msg, int indent = 2);

}  // namespace confidant::cose
