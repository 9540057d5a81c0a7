// JSON Web Keys (RFC 7517), compact JWS (RFC 7515) and JWT (RFC 7519) on
// OpenSSL 3, for the algorithms MAA and Key Vault use: RS256, PS256, ES256,
// ES384. Shared by the key broker (verifier) and the attestation service (signer).
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kbs/pkey.h"
#include "kbs/result.h"

namespace confidant::kbs {

enum class JwsAlg { kRS256, kPS256, kES256, kES384 };

const char* JwsAlgName(JwsAlg alg);
std::optional<JwsAlg> ParseJwsAlg(std::string_view name);  // "none" and HS* are never accepted
// The algorithm a key signs with by default (RS256 for RSA, ES256/ES384 by curve).
JwsAlg DefaultAlgFor(const PKey& key);

struct Jwk {
  PKey key;  // public, or private for signing keys
  std::string kid;
  std::string alg;                   // optional "alg" member
  std::string use;                   // optional "use" member
  std::vector<std::string> key_ops;  // optional "key_ops" member
  std::vector<std::string> x5c;      // base64 (standard) DER certificates, leaf first

  bool HasKeyOp(std::string_view op) const;
};

struct JwkLimits {
  size_t max_x5c = 10;
  size_t max_cert_bytes = 16 * 1024;
};

// Parses one JWK object (kty RSA or EC; private members d/p/q/dp/dq/qi are
// accepted so private keys round-trip). When x5c is present the leaf
// certificate's key is used and must equal n/e or x/y if those are given.
Result<Jwk> ParseJwk(const nlohmann::json& obj, const JwkLimits& limits = {});
// Serialises the public members (and the private ones when include_private).
Result<nlohmann::json> JwkToJson(const Jwk& jwk, bool include_private = false);
// RFC 7638 thumbprint (base64url SHA-256) of the public key.
Result<std::string> JwkThumbprint(const PKey& key);

struct Jwks {
  std::vector<Jwk> keys;
  // Keys with this kid, or every key when kid is empty.
  std::vector<const Jwk*> Find(std::string_view kid) const;
};

struct JwksLimits {
  size_t max_bytes = 256 * 1024;
  size_t max_keys = 64;
  JwkLimits jwk;
};

// Parses {"keys": [...]}. Keys of unsupported kty ("oct", "OKP") are skipped
// as RFC 7517 section 5 allows; a malformed supported key is an error.
Result<Jwks> ParseJwks(std::string_view text, const JwksLimits& limits = {});
Result<Jwks> ParseJwksJson(const nlohmann::json& j, const JwksLimits& limits = {});
Result<std::string> SerializeJwks(const Jwks& jwks);

// --- JWS ---------------------------------------------------------------------

// Signs payload; the protected header is extra_header plus "alg" (and "kid"
// when the key has one and extra_header does not set it).
Result<std::string> SignJws(std::string_view payload, const Jwk& signer, JwsAlg alg,
                            const nlohmann::json& extra_header = nlohmann::json::object());

struct JwsVerifyOptions {
  std::vector<JwsAlg> allowed_algs = {JwsAlg::kRS256, JwsAlg::kPS256, JwsAlg::kES256, JwsAlg::kES384};
  size_t max_bytes = 64 * 1024;
  size_t max_header_bytes = 16 * 1024;
};

struct VerifiedJws {
  nlohmann::json header;
  std::string payload;
  const Jwk* key = nullptr;  // the key that verified it (points into the Jwks)
};

// Verifies a compact JWS against the keys (the one named by "kid", or each
// key suitable for "alg" when the header has no kid). Rejects "crit".
Result<VerifiedJws> VerifyJws(std::string_view compact, const Jwks& keys, const JwsVerifyOptions& options = {});

// Low-level signature primitives over the JWS signing input (ES* signatures in
// the JWS R||S form).
Result<std::string> SignBytes(std::string_view input, const PKey& key, JwsAlg alg);
Status VerifyBytes(std::string_view input, std::string_view signature, const PKey& key, JwsAlg alg);

// Splits a compact JWS and decodes header and payload without verifying
// anything (e.g. to read "iss" to pick the trust anchor).
struct UnverifiedJws {
  nlohmann::json header;
  std::string payload;
};
Result<UnverifiedJws> PeekJws(std::string_view compact, const JwsVerifyOptions& options = {});

// --- JWT ---------------------------------------------------------------------

struct JwtVerifyOptions {
  JwsVerifyOptions jws;
  int64_t now = 0;                  // seconds since the epoch; 0 = system clock
  int64_t clock_skew_seconds = 60;  // tolerance for exp, nbf and iat
  bool require_exp = true;
  std::string expected_issuer;  // checked when non-empty
  size_t max_claims_depth = 32;
};

struct VerifiedJwt {
  nlohmann::json header;
  nlohmann::json claims;  // always an object
};

Result<std::string> SignJwt(const nlohmann::json& claims, const Jwk& signer, JwsAlg alg,
                            const nlohmann::json& extra_header = nlohmann::json::object());
Result<VerifiedJwt> VerifyJwt(std::string_view token, const Jwks& keys, const JwtVerifyOptions& options = {});

int64_t NowSeconds();

}  // namespace confidant::kbs
