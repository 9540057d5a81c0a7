#include "kbs/pkey.h"

#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <openssl/x509.h>

#include <climits>

namespace confidant::kbs {

namespace {

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
using BioPtr = std::unique_ptr<BIO, BioFree>;

}  // namespace

std::string OpenSslError() {
  unsigned long e = ERR_get_error();
  ERR_clear_error();
  if (e == 0) return "OpenSSL error";
  char buf[256];
  ERR_error_string_n(e, buf, sizeof(buf));
  return buf;
}

const char* CurveName(Curve c) {
  switch (c) {
    case Curve::kP256: return "P-256";
    case Curve::kP384: return "P-384";
    default: return "";
  }
}

Curve ParseCurve(std::string_view name) {
  if (name == "P-256") return Curve::kP256;
  if (name == "P-384") return Curve::kP384;
  return Curve::kNone;
}

Result<PKey> PKey::Adopt(EVP_PKEY* pkey) {
  if (pkey == nullptr) return Err("no key: " + OpenSslError());
  PKey k;
  k.key_.reset(pkey, EVP_PKEY_free);
  int id = EVP_PKEY_get_base_id(pkey);
  if (id == EVP_PKEY_RSA) {
    int bits = EVP_PKEY_get_bits(pkey);
    if (bits < 2048 || bits > 8192) return Err("RSA key of " + std::to_string(bits) + " bits is outside 2048..8192");
    return k;
  }
  if (id == EVP_PKEY_EC) {
    if (k.curve() == Curve::kNone) return Err("EC key on an unsupported curve (P-256 and P-384 are supported)");
    return k;
  }
  return Err("unsupported key type (RSA and EC are supported)");
}

Result<PKey> PKey::GenerateRsa(int bits) {
  if (bits != 2048 && bits != 3072 && bits != 4096) return Err("RSA key size must be 2048, 3072 or 4096");
  return Adopt(EVP_RSA_gen(static_cast<unsigned>(bits)));
}

Result<PKey> PKey::GenerateEc(Curve curve) {
  const char* group = curve == Curve::kP256 ? "P-256" : curve == Curve::kP384 ? "P-384" : nullptr;
  if (group == nullptr) return Err("EC curve must be P-256 or P-384");
  return Adopt(EVP_EC_gen(group));
}

Result<PKey> PKey::FromPkcs8Der(std::string_view der) {
  if (der.size() > INT_MAX) return Err("PKCS#8 too large");
  const unsigned char* p = reinterpret_cast<const unsigned char*>(der.data());
  EVP_PKEY* k = d2i_AutoPrivateKey(nullptr, &p, static_cast<long>(der.size()));
  if (k == nullptr) return Err("invalid PKCS#8 private key: " + OpenSslError());
  if (p != reinterpret_cast<const unsigned char*>(der.data()) + der.size()) {
    EVP_PKEY_free(k);
    return Err("trailing bytes after the PKCS#8 private key");
  }
  return Adopt(k);
}

Result<PKey> PKey::FromSpkiDer(std::string_view der) {
  if (der.size() > INT_MAX) return Err("SubjectPublicKeyInfo too large");
  const unsigned char* p = reinterpret_cast<const unsigned char*>(der.data());
  EVP_PKEY* k = d2i_PUBKEY(nullptr, &p, static_cast<long>(der.size()));
  if (k == nullptr) return Err("invalid SubjectPublicKeyInfo: " + OpenSslError());
  return Adopt(k);
}

Result<PKey> PKey::FromCertificateDer(std::string_view der) {
  if (der.size() > INT_MAX) return Err("certificate too large");
  const unsigned char* p = reinterpret_cast<const unsigned char*>(der.data());
  X509* cert = d2i_X509(nullptr, &p, static_cast<long>(der.size()));
  if (cert == nullptr) return Err("invalid X.509 certificate: " + OpenSslError());
  EVP_PKEY* k = X509_get_pubkey(cert);
  X509_free(cert);
  return Adopt(k);
}

Result<PKey> PKey::FromPem(std::string_view pem) {
  if (pem.size() > INT_MAX) return Err("PEM too large");
  auto make_bio = [&] { return BioPtr(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()))); };
  if (pem.find("CERTIFICATE-----") != std::string_view::npos) {
    BioPtr bio = make_bio();
    X509* cert = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr);
    if (cert == nullptr) return Err("invalid PEM certificate: " + OpenSslError());
    EVP_PKEY* k = X509_get_pubkey(cert);
    X509_free(cert);
    return Adopt(k);
  }
  if (pem.find("PRIVATE KEY-----") != std::string_view::npos) {
    BioPtr bio = make_bio();
    return Adopt(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  }
  BioPtr bio = make_bio();
  return Adopt(PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr));
}

KeyType PKey::type() const { return EVP_PKEY_get_base_id(key_.get()) == EVP_PKEY_EC ? KeyType::kEc : KeyType::kRsa; }

int PKey::bits() const { return EVP_PKEY_get_bits(key_.get()); }

Curve PKey::curve() const {
  if (EVP_PKEY_get_base_id(key_.get()) != EVP_PKEY_EC) return Curve::kNone;
  char name[64] = {0};
  size_t len = 0;
  if (EVP_PKEY_get_utf8_string_param(key_.get(), OSSL_PKEY_PARAM_GROUP_NAME, name, sizeof(name), &len) != 1) {
    return Curve::kNone;
  }
  std::string_view n(name, len);
  if (n == "prime256v1" || n == "P-256" || n == "secp256r1") return Curve::kP256;
  if (n == "secp384r1" || n == "P-384") return Curve::kP384;
  return Curve::kNone;
}

bool PKey::has_private() const {
  if (type() == KeyType::kRsa) {
    BIGNUM* d = nullptr;
    bool has = EVP_PKEY_get_bn_param(key_.get(), OSSL_PKEY_PARAM_RSA_D, &d) == 1 && d != nullptr;
    BN_clear_free(d);
    ERR_clear_error();
    return has;
  }
  BIGNUM* d = nullptr;
  bool has = EVP_PKEY_get_bn_param(key_.get(), OSSL_PKEY_PARAM_PRIV_KEY, &d) == 1 && d != nullptr;
  BN_clear_free(d);
  ERR_clear_error();
  return has;
}

Result<std::string> PKey::Pkcs8Der() const {
  if (!has_private()) return Err("not a private key");
  PKCS8_PRIV_KEY_INFO* info = EVP_PKEY2PKCS8(key_.get());
  if (info == nullptr) return Err("PKCS#8 encoding failed: " + OpenSslError());
  unsigned char* out = nullptr;
  int len = i2d_PKCS8_PRIV_KEY_INFO(info, &out);
  PKCS8_PRIV_KEY_INFO_free(info);
  if (len <= 0) return Err("PKCS#8 encoding failed: " + OpenSslError());
  std::string der(reinterpret_cast<char*>(out), static_cast<size_t>(len));
  OPENSSL_clear_free(out, static_cast<size_t>(len));
  return der;
}

Result<std::string> PKey::SpkiDer() const {
  unsigned char* out = nullptr;
  int len = i2d_PUBKEY(key_.get(), &out);
  if (len <= 0) return Err("SubjectPublicKeyInfo encoding failed: " + OpenSslError());
  std::string der(reinterpret_cast<char*>(out), static_cast<size_t>(len));
  OPENSSL_free(out);
  return der;
}

Result<std::string> PKey::PublicPem() const {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (PEM_write_bio_PUBKEY(bio.get(), key_.get()) != 1) return Err("PEM encoding failed: " + OpenSslError());
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(len));
}

PKey PKey::PublicOnly() const {
  auto spki = SpkiDer();
  if (!spki) return PKey();
  auto k = FromSpkiDer(*spki);
  return k ? *k : PKey();
}

bool PKey::SamePublicKey(const PKey& other) const {
  if (!valid() || !other.valid()) return false;
  return EVP_PKEY_eq(key_.get(), other.key_.get()) == 1;
}

Result<std::string> RandomBytes(size_t n) {
  std::string out(n, '\0');
  if (n > 0 && RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) != 1) {
    return Err("random generator failed: " + OpenSslError());
  }
  return out;
}

std::string Sha256(std::string_view data) {
  unsigned char md[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), md);
  return std::string(reinterpret_cast<char*>(md), sizeof(md));
}

}  // namespace confidant::kbs

namespace confidant::kbs {

Result<std::string> SelfSignedCertificateDer(const PKey& key, std::string_view common_name, int valid_days) {
  if (!key.valid() || !key.has_private()) return Err("certificate needs a private key");
  std::unique_ptr<X509, decltype(&X509_free)> cert(X509_new(), X509_free);
  if (!cert) return Err("X509_new: " + OpenSslError());
  auto serial = RandomBytes(16);
  if (!serial) return serial.take_error();
  (*serial)[0] &= 0x7f;
  BIGNUM* bn = BN_bin2bn(reinterpret_cast<const unsigned char*>(serial->data()), 16, nullptr);
  ASN1_INTEGER* sn = bn ? BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert.get())) : nullptr;
  BN_free(bn);
  X509_NAME* name = X509_get_subject_name(cert.get());
  std::string cn(common_name);
  bool ok = sn != nullptr && X509_set_version(cert.get(), 2) == 1 &&
            X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600) != nullptr &&
            X509_gmtime_adj(X509_getm_notAfter(cert.get()), static_cast<long>(valid_days) * 86400) != nullptr &&
            X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, reinterpret_cast<const unsigned char*>(cn.c_str()),
                                       -1, -1, 0) == 1 &&
            X509_set_issuer_name(cert.get(), name) == 1 && X509_set_pubkey(cert.get(), key.get()) == 1 &&
            X509_sign(cert.get(), key.get(), EVP_sha256()) > 0;
  if (!ok) return Err("self-signed certificate: " + OpenSslError());
  unsigned char* out = nullptr;
  int len = i2d_X509(cert.get(), &out);
  if (len <= 0) return Err("certificate encoding: " + OpenSslError());
  std::string der(reinterpret_cast<char*>(out), static_cast<size_t>(len));
  OPENSSL_free(out);
  return der;
}

}  // namespace confidant::kbs
