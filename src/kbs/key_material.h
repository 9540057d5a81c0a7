// Keys the broker holds: RSA 2048/3072/4096, EC P-256/P-384 and AES
// (oct-HSM style, 128/192/256), generated here; private material is PKCS#8
// DER (RSA, EC) or raw bytes (oct), which is also what release wraps.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "kbs/pkey.h"
#include "kbs/result.h"

namespace confidant::kbs {

enum class KeyKind { kRsa, kEc, kOct };

struct KeySpec {
  KeyKind kind = KeyKind::kRsa;
  int size_bits = 2048;        // RSA modulus or AES key size; derived from the curve for EC
  Curve curve = Curve::kNone;  // EC only
  bool exportable = false;
};

// From a create request: {"kty": "RSA"|"RSA-HSM"|"EC"|"EC-HSM"|"oct"|"oct-HSM",
// "key_size": N, "crv"|"curve": "P-256"|"P-384", "exportable": bool}.
Result<KeySpec> ParseKeySpec(const nlohmann::json& body);

// "RSA-HSM", "EC-HSM", "oct-HSM" (what Key Vault reports for HSM keys).
const char* KeyKindName(KeyKind kind);
std::vector<std::string> DefaultKeyOps(KeyKind kind);

struct KeyMaterial {
  KeySpec spec;
  std::string secret;  // PKCS#8 DER or raw AES key
};

Result<KeyMaterial> GenerateKey(const KeySpec& spec);

// The public JWK of the material (no "k" for oct keys: only kty and key_ops).
Result<nlohmann::json> PublicJwkFor(const KeyMaterial& material);

}  // namespace confidant::kbs
