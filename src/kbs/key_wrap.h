// CKM_RSA_AES_KEY_WRAP family (the Key Vault / Managed HSM release format):
//   ciphertext = RSA-OAEP(runtime public key, ephemeral AES-256 key)
//                || AES-KWP(ephemeral key, key material)        (RFC 5649)
// OAEP hash and MGF1 hash: SHA-1 for CKM_RSA_AES_KEY_WRAP, SHA-256 for
// RSA_AES_KEY_WRAP_256, SHA-384 for RSA_AES_KEY_WRAP_384; empty label.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "kbs/pkey.h"
#include "kbs/result.h"

namespace confidant::kbs {

enum class WrapAlg { kRsaAesKeyWrap, kRsaAesKeyWrap256, kRsaAesKeyWrap384 };

const char* WrapAlgName(WrapAlg alg);  // "CKM_RSA_AES_KEY_WRAP", ...
std::optional<WrapAlg> ParseWrapAlg(std::string_view name);

// RFC 5649 AES key wrap with padding; kek is 16, 24 or 32 bytes.
Result<std::string> AesKeyWrapPad(std::string_view kek, std::string_view plaintext);
Result<std::string> AesKeyUnwrapPad(std::string_view kek, std::string_view ciphertext);

// Wraps material to an RSA public key with a fresh AES-256 key.
Result<std::string> RsaAesWrap(const PKey& rsa_public, std::string_view material, WrapAlg alg);
// The inverse, with the RSA private key; the split point is the modulus length.
Result<std::string> RsaAesUnwrap(const PKey& rsa_private, std::string_view ciphertext, WrapAlg alg);

// AES-256-GCM sealing used for key material at rest: nonce(12) || ct || tag(16).
Result<std::string> AeadSeal(std::string_view key, std::string_view plaintext, std::string_view aad);
Result<std::string> AeadOpen(std::string_view key, std::string_view sealed, std::string_view aad);

}  // namespace confidant::kbs
