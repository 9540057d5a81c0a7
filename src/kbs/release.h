// The Key Vault style release response and its client side:
//   {"value": <JWS>} whose payload is
//   {"request": {"api-version", "enc", "kid"},
//    "response": {"key": {"attributes": {...}, "key": {"kid", "kty", "key_ops", "key_hsm"},
//                          "release_policy": {"contentType", "data"}}}}
// key_hsm = base64url(JSON {"schema_version": "1.0", "header": {"kid", "alg": "dir", "enc"},
//                           "ciphertext": base64url(RSA-OAEP || AES-KWP)}).
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "kbs/jwt.h"
#include "kbs/key_material.h"
#include "kbs/key_wrap.h"
#include "kbs/result.h"

namespace confidant::kbs {

// The RSA public key the released key is wrapped to, from the token's
// "x-ms-runtime"."keys" JWK set: the key with `kid` when one is named,
// otherwise the first RSA key whose key_ops allow "encrypt" or "wrapKey".
Result<Jwk> SelectRuntimeKey(const nlohmann::json& claims, std::string_view kid = {});

struct ReleasedKey {
  std::string key_id;  // URL-ish identifier of the key version, e.g. "<base>/keys/<name>/<version>"
  KeyMaterial material;
  int64_t created = 0;
  std::string release_policy_json;  // the policy text as stored
  WrapAlg enc = WrapAlg::kRsaAesKeyWrap;
};

// Wraps the material to the runtime key and signs the response with `signer`
// (header: alg, kid, x5c, x5t#S256). Returns the JWS (the "value").
Result<std::string> BuildReleaseJws(const ReleasedKey& key, const Jwk& runtime_key, const Jwk& signer);

struct UnwrappedKey {
  KeyKind kind = KeyKind::kOct;
  std::string material;  // PKCS#8 DER or raw AES key
  std::string kid;
  std::vector<std::string> key_ops;
  nlohmann::json jwk;  // private JWK (RSA/EC) or {"kty": "oct", "k"}
};

// Client side (what the SKR sidecar does): verifies the response JWS — against
// trusted_signers when given, otherwise against the key of its own x5c[0]
// (integrity only, no trust) — and unwraps key_hsm with the runtime private key.
// `response` is the HTTP body {"value": ...} or the bare JWS.
Result<UnwrappedKey> UnwrapReleaseResponse(std::string_view response, const PKey& runtime_private,
                                           const Jwks* trusted_signers = nullptr);

}  // namespace confidant::kbs
