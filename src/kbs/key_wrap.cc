#include "kbs/key_wrap.h"

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include <climits>
#include <memory>

namespace confidant::kbs {

namespace {

struct CipherCtxFree {
  void operator()(EVP_CIPHER_CTX* c) const { EVP_CIPHER_CTX_free(c); }
};
using CipherCtxPtr = std::unique_ptr<EVP_CIPHER_CTX, CipherCtxFree>;
struct PkeyCtxFree {
  void operator()(EVP_PKEY_CTX* c) const { EVP_PKEY_CTX_free(c); }
};
using PkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, PkeyCtxFree>;

const EVP_CIPHER* WrapPadCipher(size_t kek_len) {
  switch (kek_len) {
    case 16: return EVP_aes_128_wrap_pad();
    case 24: return EVP_aes_192_wrap_pad();
    case 32: return EVP_aes_256_wrap_pad();
    default: return nullptr;
  }
}

const EVP_MD* OaepDigest(WrapAlg alg) {
  switch (alg) {
    case WrapAlg::kRsaAesKeyWrap: return EVP_sha1();
    case WrapAlg::kRsaAesKeyWrap256: return EVP_sha256();
    case WrapAlg::kRsaAesKeyWrap384: return EVP_sha384();
  }
  return EVP_sha1();
}

Result<std::string> KeyWrapCipher(std::string_view kek, std::string_view in, bool encrypt) {
  const EVP_CIPHER* cipher = WrapPadCipher(kek.size());
  if (cipher == nullptr) return Err("AES key wrap: key must be 16, 24 or 32 bytes");
  if (in.size() > (1u << 24)) return Err("AES key wrap: input too large");
  CipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  if (!ctx) return Err("AES key wrap: " + OpenSslError());
  EVP_CIPHER_CTX_set_flags(ctx.get(), EVP_CIPHER_CTX_FLAG_WRAP_ALLOW);
  if (EVP_CipherInit_ex(ctx.get(), cipher, nullptr, reinterpret_cast<const unsigned char*>(kek.data()), nullptr,
                        encrypt ? 1 : 0) != 1) {
    return Err("AES key wrap init: " + OpenSslError());
  }
  std::string out(in.size() + 16, '\0');
  int len = 0;
  if (EVP_CipherUpdate(ctx.get(), reinterpret_cast<unsigned char*>(out.data()), &len,
                       reinterpret_cast<const unsigned char*>(in.data()), static_cast<int>(in.size())) != 1 ||
      len < 0) {
    ERR_clear_error();
    return Err(encrypt ? "AES key wrap failed" : "AES key unwrap failed (wrong key or corrupted ciphertext)");
  }
  int fin = 0;
  if (EVP_CipherFinal_ex(ctx.get(), reinterpret_cast<unsigned char*>(out.data()) + len, &fin) != 1) {
    ERR_clear_error();
    return Err(encrypt ? "AES key wrap failed" : "AES key unwrap failed (wrong key or corrupted ciphertext)");
  }
  out.resize(static_cast<size_t>(len + fin));
  return out;
}

}  // namespace

const char* WrapAlgName(WrapAlg alg) {
  switch (alg) {
    case WrapAlg::kRsaAesKeyWrap: return "CKM_RSA_AES_KEY_WRAP";
    case WrapAlg::kRsaAesKeyWrap256: return "RSA_AES_KEY_WRAP_256";
    case WrapAlg::kRsaAesKeyWrap384: return "RSA_AES_KEY_WRAP_384";
  }
  return "";
}

std::optional<WrapAlg> ParseWrapAlg(std::string_view name) {
  if (name == "CKM_RSA_AES_KEY_WRAP") return WrapAlg::kRsaAesKeyWrap;
  if (name == "RSA_AES_KEY_WRAP_256") return WrapAlg::kRsaAesKeyWrap256;
  if (name == "RSA_AES_KEY_WRAP_384") return WrapAlg::kRsaAesKeyWrap384;
  return std::nullopt;
}

Result<std::string> AesKeyWrapPad(std::string_view kek, std::string_view plaintext) {
  if (plaintext.empty()) return Err("AES key wrap: empty plaintext");
  return KeyWrapCipher(kek, plaintext, true);
}

Result<std::string> AesKeyUnwrapPad(std::string_view kek, std::string_view ciphertext) {
  if (ciphertext.size() < 16 || ciphertext.size() % 8 != 0) {
    return Err("AES key unwrap: ciphertext length must be a multiple of 8 and at least 16");
  }
  return KeyWrapCipher(kek, ciphertext, false);
}

Result<std::string> RsaAesWrap(const PKey& rsa_public, std::string_view material, WrapAlg alg) {
  if (!rsa_public.valid() || rsa_public.type() != KeyType::kRsa) return Err("wrapping key must be RSA");
  auto aes = RandomBytes(32);
  if (!aes) return aes.take_error();
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, rsa_public.get(), nullptr));
  if (!ctx || EVP_PKEY_encrypt_init(ctx.get()) != 1 ||
      EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_OAEP_PADDING) != 1 ||
      EVP_PKEY_CTX_set_rsa_oaep_md(ctx.get(), OaepDigest(alg)) != 1 ||
      EVP_PKEY_CTX_set_rsa_mgf1_md(ctx.get(), OaepDigest(alg)) != 1) {
    return Err("RSA-OAEP setup: " + OpenSslError());
  }
  size_t len = 0;
  const auto* in = reinterpret_cast<const unsigned char*>(aes->data());
  if (EVP_PKEY_encrypt(ctx.get(), nullptr, &len, in, aes->size()) != 1) return Err("RSA-OAEP: " + OpenSslError());
  std::string out(len, '\0');
  if (EVP_PKEY_encrypt(ctx.get(), reinterpret_cast<unsigned char*>(out.data()), &len, in, aes->size()) != 1) {
    return Err("RSA-OAEP: " + OpenSslError());
  }
  out.resize(len);
  auto wrapped = AesKeyWrapPad(*aes, material);
  OPENSSL_cleanse(aes->data(), aes->size());
  if (!wrapped) return wrapped.take_error();
  return out + *wrapped;
}

Result<std::string> RsaAesUnwrap(const PKey& rsa_private, std::string_view ciphertext, WrapAlg alg) {
  if (!rsa_private.valid() || rsa_private.type() != KeyType::kRsa || !rsa_private.has_private()) {
    return Err("unwrapping key must be an RSA private key");
  }
  size_t modulus = static_cast<size_t>(EVP_PKEY_get_size(rsa_private.get()));
  if (ciphertext.size() < modulus + 16) return Err("wrapped key is shorter than the RSA block plus one AES-KWP block");
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, rsa_private.get(), nullptr));
  if (!ctx || EVP_PKEY_decrypt_init(ctx.get()) != 1 ||
      EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_OAEP_PADDING) != 1 ||
      EVP_PKEY_CTX_set_rsa_oaep_md(ctx.get(), OaepDigest(alg)) != 1 ||
      EVP_PKEY_CTX_set_rsa_mgf1_md(ctx.get(), OaepDigest(alg)) != 1) {
    return Err("RSA-OAEP setup: " + OpenSslError());
  }
  std::string aes(modulus, '\0');
  size_t len = aes.size();
  if (EVP_PKEY_decrypt(ctx.get(), reinterpret_cast<unsigned char*>(aes.data()), &len,
                       reinterpret_cast<const unsigned char*>(ciphertext.data()), modulus) != 1) {
    ERR_clear_error();
    return Err(std::string("RSA-OAEP decryption failed (wrong key or wrong enc; expected ") + WrapAlgName(alg) + ")");
  }
  aes.resize(len);
  if (len != 16 && len != 24 && len != 32) return Err("unwrapped AES key has an invalid length");
  auto material = AesKeyUnwrapPad(aes, ciphertext.substr(modulus));
  OPENSSL_cleanse(aes.data(), aes.size());
  return material;
}

Result<std::string> AeadSeal(std::string_view key, std::string_view plaintext, std::string_view aad) {
  if (key.size() != 32) return Err("AES-256-GCM key must be 32 bytes");
  auto nonce = RandomBytes(12);
  if (!nonce) return nonce.take_error();
  CipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  int len = 0;
  std::string out = *nonce;
  out.resize(12 + plaintext.size() + 16);
  auto* o = reinterpret_cast<unsigned char*>(out.data());
  if (!ctx ||
      EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, reinterpret_cast<const unsigned char*>(key.data()),
                         reinterpret_cast<const unsigned char*>(nonce->data())) != 1 ||
      EVP_EncryptUpdate(ctx.get(), nullptr, &len, reinterpret_cast<const unsigned char*>(aad.data()),
                        static_cast<int>(aad.size())) != 1 ||
      EVP_EncryptUpdate(ctx.get(), o + 12, &len, reinterpret_cast<const unsigned char*>(plaintext.data()),
                        static_cast<int>(plaintext.size())) != 1 ||
      EVP_EncryptFinal_ex(ctx.get(), o + 12 + len, &len) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, 16, o + 12 + plaintext.size()) != 1) {
    return Err("AES-256-GCM seal: " + OpenSslError());
  }
  return out;
}

Result<std::string> AeadOpen(std::string_view key, std::string_view sealed, std::string_view aad) {
  if (key.size() != 32) return Err("AES-256-GCM key must be 32 bytes");
  if (sealed.size() < 28) return Err("sealed data too short");
  size_t n = sealed.size() - 28;
  CipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  std::string out(n, '\0');
  int len = 0;
  const auto* s = reinterpret_cast<const unsigned char*>(sealed.data());
  std::string tag(sealed.substr(12 + n));
  if (!ctx ||
      EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, reinterpret_cast<const unsigned char*>(key.data()),
                         s) != 1 ||
      EVP_DecryptUpdate(ctx.get(), nullptr, &len, reinterpret_cast<const unsigned char*>(aad.data()),
                        static_cast<int>(aad.size())) != 1 ||
      EVP_DecryptUpdate(ctx.get(), reinterpret_cast<unsigned char*>(out.data()), &len, s + 12, static_cast<int>(n)) !=
          1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, 16, tag.data()) != 1 ||
      EVP_DecryptFinal_ex(ctx.get(), reinterpret_cast<unsigned char*>(out.data()) + len, &len) != 1) {
    ERR_clear_error();
    OPENSSL_cleanse(out.data(), out.size());
    return Err("AES-256-GCM authentication failed (wrong master key or tampered record)");
  }
  return out;
}

}  // namespace confidant::kbs
