// Asymmetric keys (RSA, EC P-256/P-384) over OpenSSL 3 EVP_PKEY, with the
// DER encodings the key store and the key wrapping use.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "kbs/result.h"

typedef struct evp_pkey_st EVP_PKEY;

namespace confidant::kbs {

enum class KeyType { kRsa, kEc };
enum class Curve { kNone, kP256, kP384 };

const char* CurveName(Curve c);  // "P-256", "P-384"
Curve ParseCurve(std::string_view name);

class PKey {
 public:
  PKey() = default;
  static Result<PKey> GenerateRsa(int bits);
  static Result<PKey> GenerateEc(Curve curve);
  static Result<PKey> FromPkcs8Der(std::string_view der);
  static Result<PKey> FromSpkiDer(std::string_view der);
  // A PEM public key, private key or certificate (the certificate's key).
  static Result<PKey> FromPem(std::string_view pem);
  // The subject public key of a DER X.509 certificate.
  static Result<PKey> FromCertificateDer(std::string_view der);
  // Takes ownership of an EVP_PKEY (used by the JWK importer).
  static Result<PKey> Adopt(EVP_PKEY* pkey);

  bool valid() const { return key_ != nullptr; }
  KeyType type() const;
  int bits() const;
  Curve curve() const;  // kNone for RSA
  bool has_private() const;
  EVP_PKEY* get() const { return key_.get(); }

  Result<std::string> Pkcs8Der() const;  // private keys only
  Result<std::string> SpkiDer() const;
  Result<std::string> PublicPem() const;
  PKey PublicOnly() const;
  bool SamePublicKey(const PKey& other) const;

 private:
  std::shared_ptr<EVP_PKEY> key_;
};

// Random bytes from the OpenSSL DRBG (aborts the request, not the process, on failure).
Result<std::string> RandomBytes(size_t n);
std::string Sha256(std::string_view data);

// Last OpenSSL error as text, clearing the queue.
std::string OpenSslError();

}  // namespace confidant::kbs

namespace confidant::kbs {
// A self-signed X.509 certificate (DER) for key, used as the x5c of the KBS
// response-signing key.
Result<std::string> SelfSignedCertificateDer(const PKey& key, std::string_view common_name, int valid_days);
}  // namespace confidant::kbs
