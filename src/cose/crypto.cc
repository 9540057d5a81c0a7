#include "cose/crypto.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <cstring>

namespace confidant::cose {

namespace {

struct MdCtxFree {
  void operator()(EVP_MD_CTX* p) const { EVP_MD_CTX_free(p); }
};
struct BioFree {
  void operator()(BIO* p) const { BIO_free(p); }
};
struct SigFree {
  void operator()(ECDSA_SIG* p) const { ECDSA_SIG_free(p); }
};
struct PctxFree {
  void operator()(EVP_PKEY_CTX* p) const { EVP_PKEY_CTX_free(p); }
};
using MdCtx = std::unique_ptr<EVP_MD_CTX, MdCtxFree>;
using Bio = std::unique_ptr<BIO, BioFree>;
using EcSig = std::unique_ptr<ECDSA_SIG, SigFree>;
using Pctx = std::unique_ptr<EVP_PKEY_CTX, PctxFree>;

std::string digest(const EVP_MD* md, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (!EVP_Digest(data.data(), data.size(), out, &len, md, nullptr)) return {};
  return std::string(reinterpret_cast<char*>(out), len);
}

const EVP_MD* alg_md(Alg a) {
  switch (a) {
    case Alg::kES256:
    case Alg::kPS256: return EVP_sha256();
    case Alg::kES384:
    case Alg::kPS384: return EVP_sha384();
    case Alg::kES512:
    case Alg::kPS512: return EVP_sha512();
    case Alg::kEdDSA: return nullptr;
  }
  return nullptr;
}

bool is_ec(Alg a) { return a == Alg::kES256 || a == Alg::kES384 || a == Alg::kES512; }
bool is_pss(Alg a) { return a == Alg::kPS256 || a == Alg::kPS384 || a == Alg::kPS512; }

// Width of r and s for an EC key: the byte length of the group order.
size_t ec_field_bytes(EVP_PKEY* key) { return static_cast<size_t>((EVP_PKEY_get_bits(key) + 7) / 8); }

bool key_suits(Alg alg, EVP_PKEY* key, std::string& error) {
  int id = EVP_PKEY_get_base_id(key);
  bool ok = is_ec(alg)    ? id == EVP_PKEY_EC
            : is_pss(alg) ? (id == EVP_PKEY_RSA || id == EVP_PKEY_RSA_PSS)
                          : (id == EVP_PKEY_ED25519 || id == EVP_PKEY_ED448);
  if (!ok) error = std::string("key type does not suit algorithm ") + alg_name(alg);
  return ok;
}

bool setup_pss(EVP_PKEY_CTX* pctx, Alg alg) {
  return EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) > 0 &&
         EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) > 0 &&
         EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, alg_md(alg)) > 0;
}

}  // namespace

std::string openssl_error() {
  unsigned long e = ERR_get_error();
  unsigned long last = e;
  while (e) {
    last = e;
    e = ERR_get_error();
  }
  if (!last) return "unknown OpenSSL error";
  char buf[256];
  ERR_error_string_n(last, buf, sizeof buf);
  return buf;
}

std::optional<Alg> alg_from_id(int64_t id) {
  switch (id) {
    case -7: return Alg::kES256;
    case -35: return Alg::kES384;
    case -36: return Alg::kES512;
    case -37: return Alg::kPS256;
    case -38: return Alg::kPS384;
    case -39: return Alg::kPS512;
    case -8: return Alg::kEdDSA;
  }
  return std::nullopt;
}

std::optional<Alg> alg_from_name(std::string_view name) {
  for (Alg a : {Alg::kES256, Alg::kES384, Alg::kES512, Alg::kPS256, Alg::kPS384, Alg::kPS512, Alg::kEdDSA})
    if (name == alg_name(a)) return a;
  return std::nullopt;
}

const char* alg_name(Alg a) {
  switch (a) {
    case Alg::kES256: return "ES256";
    case Alg::kES384: return "ES384";
    case Alg::kES512: return "ES512";
    case Alg::kPS256: return "PS256";
    case Alg::kPS384: return "PS384";
    case Alg::kPS512: return "PS512";
    case Alg::kEdDSA: return "EdDSA";
  }
  return "?";
}

std::string sha256(std::string_view data) { return digest(EVP_sha256(), data); }
std::string sha384(std::string_view data) { return digest(EVP_sha384(), data); }
std::string sha512(std::string_view data) { return digest(EVP_sha512(), data); }

std::string to_hex(std::string_view bytes) {
  static const char* d = "0123456789abcdef";
  std::string s;
  s.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    s.push_back(d[c >> 4]);
    s.push_back(d[c & 15]);
  }
  return s;
}

bool from_hex(std::string_view hex, std::string& out) {
  if (hex.size() % 2) return false;
  auto val = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  out.clear();
  for (size_t i = 0; i < hex.size(); i += 2) {
    int h = val(hex[i]), l = val(hex[i + 1]);
    if (h < 0 || l < 0) return false;
    out.push_back(static_cast<char>(h * 16 + l));
  }
  return true;
}

namespace {
const char* kStd = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const char* kUrl = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

std::string b64_encode(std::string_view in, const char* alphabet, bool pad) {
  std::string out;
  size_t i = 0;
  while (i + 3 <= in.size()) {
    uint32_t v =
        (static_cast<uint8_t>(in[i]) << 16) | (static_cast<uint8_t>(in[i + 1]) << 8) | static_cast<uint8_t>(in[i + 2]);
    for (int k = 3; k >= 0; --k) out.push_back(alphabet[(v >> (6 * k)) & 63]);
    i += 3;
  }
  size_t rest = in.size() - i;
  if (rest) {
    uint32_t v = static_cast<uint8_t>(in[i]) << 16;
    if (rest == 2) v |= static_cast<uint8_t>(in[i + 1]) << 8;
    out.push_back(alphabet[(v >> 18) & 63]);
    out.push_back(alphabet[(v >> 12) & 63]);
    if (rest == 2) out.push_back(alphabet[(v >> 6) & 63]);
    if (pad) out.append(rest == 1 ? "==" : "=");
  }
  return out;
}

// Strict decoding: after the optional padding nothing may follow, and the
// unused low bits of the last character must be zero (one encoding per value).
bool b64_decode(std::string_view in, const char* alphabet, bool skip_space, std::string& out) {
  int8_t table[256];
  std::memset(table, -1, sizeof table);
  for (int i = 0; i < 64; ++i) table[static_cast<uint8_t>(alphabet[i])] = static_cast<int8_t>(i);
  out.clear();
  uint32_t acc = 0;
  int bits = 0;
  size_t chars = 0, pad = 0;
  for (char c : in) {
    if (skip_space && (c == ' ' || c == '\n' || c == '\r' || c == '\t')) continue;
    if (c == '=') {
      ++pad;
      continue;
    }
    if (pad) return false;
    int8_t v = table[static_cast<uint8_t>(c)];
    if (v < 0) return false;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    ++chars;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xFF));
    }
  }
  if (chars % 4 == 1) return false;
  if (pad && (chars + pad) % 4 != 0) return false;
  if (bits && (acc & ((1u << bits) - 1))) return false;
  return true;
}
}  // namespace

std::string base64url_encode(std::string_view bytes) { return b64_encode(bytes, kUrl, false); }
bool base64url_decode(std::string_view text, std::string& out) { return b64_decode(text, kUrl, false, out); }
std::string base64_encode(std::string_view bytes) { return b64_encode(bytes, kStd, true); }
bool base64_decode(std::string_view text, std::string& out) { return b64_decode(text, kStd, true, out); }

bool cose_sign(Alg alg, EVP_PKEY* key, std::string_view tbs, std::string& signature, std::string& error) {
  if (!key_suits(alg, key, error)) return false;
  MdCtx ctx(EVP_MD_CTX_new());
  EVP_PKEY_CTX* pctx = nullptr;
  if (!ctx || EVP_DigestSignInit(ctx.get(), &pctx, alg_md(alg), nullptr, key) <= 0 ||
      (is_pss(alg) && !setup_pss(pctx, alg))) {
    error = "signing setup failed: " + openssl_error();
    return false;
  }
  size_t len = 0;
  if (EVP_DigestSign(ctx.get(), nullptr, &len, reinterpret_cast<const unsigned char*>(tbs.data()), tbs.size()) <= 0) {
    error = "signing failed: " + openssl_error();
    return false;
  }
  std::string sig(len, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len,
                     reinterpret_cast<const unsigned char*>(tbs.data()), tbs.size()) <= 0) {
    error = "signing failed: " + openssl_error();
    return false;
  }
  sig.resize(len);
  if (!is_ec(alg)) {
    signature = std::move(sig);
    return true;
  }
  // DER ECDSA-Sig-Value -> fixed-width r || s.
  const auto* p = reinterpret_cast<const unsigned char*>(sig.data());
  EcSig es(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(sig.size())));
  if (!es) {
    error = "signing produced an unparsable ECDSA signature";
    return false;
  }
  size_t w = ec_field_bytes(key);
  std::string raw(2 * w, '\0');
  const BIGNUM *r = nullptr, *s = nullptr;
  ECDSA_SIG_get0(es.get(), &r, &s);
  if (BN_bn2binpad(r, reinterpret_cast<unsigned char*>(raw.data()), static_cast<int>(w)) < 0 ||
      BN_bn2binpad(s, reinterpret_cast<unsigned char*>(raw.data()) + w, static_cast<int>(w)) < 0) {
    error = "ECDSA signature value too large";
    return false;
  }
  signature = std::move(raw);
  return true;
}

bool cose_verify(Alg alg, EVP_PKEY* key, std::string_view tbs, std::string_view signature, std::string& error) {
  if (!key_suits(alg, key, error)) return false;
  std::string sig(signature);
  if (is_ec(alg)) {
    size_t w = ec_field_bytes(key);
    if (signature.size() != 2 * w) {
      error = "ECDSA signature is " + std::to_string(signature.size()) + " bytes, expected " + std::to_string(2 * w);
      return false;
    }
    EcSig es(ECDSA_SIG_new());
    const auto* raw = reinterpret_cast<const unsigned char*>(signature.data());
    BIGNUM* r = BN_bin2bn(raw, static_cast<int>(w), nullptr);
    BIGNUM* s = BN_bin2bn(raw + w, static_cast<int>(w), nullptr);
    if (!es || !r || !s || !ECDSA_SIG_set0(es.get(), r, s)) {
      BN_free(r);
      BN_free(s);
      error = "cannot convert the ECDSA signature";
      return false;
    }
    int len = i2d_ECDSA_SIG(es.get(), nullptr);
    if (len <= 0) {
      error = "cannot convert the ECDSA signature";
      return false;
    }
    sig.assign(static_cast<size_t>(len), '\0');
    auto* out = reinterpret_cast<unsigned char*>(sig.data());
    i2d_ECDSA_SIG(es.get(), &out);
  }
  MdCtx ctx(EVP_MD_CTX_new());
  EVP_PKEY_CTX* pctx = nullptr;
  if (!ctx || EVP_DigestVerifyInit(ctx.get(), &pctx, alg_md(alg), nullptr, key) <= 0 ||
      (is_pss(alg) && !setup_pss(pctx, alg))) {
    error = "verification setup failed: " + openssl_error();
    return false;
  }
  int rc = EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(sig.data()), sig.size(),
                            reinterpret_cast<const unsigned char*>(tbs.data()), tbs.size());
  ERR_clear_error();
  if (rc != 1) {
    error = "signature does not verify";
    return false;
  }
  return true;
}

Pkey generate_key(std::string_view kind) {
  EVP_PKEY* k = nullptr;
  if (kind == "P-256")
    k = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
  else if (kind == "P-384")
    k = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-384");
  else if (kind == "P-521")
    k = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-521");
  else if (kind == "RSA-2048")
    k = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{2048});
  else if (kind == "RSA-3072")
    k = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{3072});
  else if (kind == "Ed25519")
    k = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
  else if (kind == "Ed448")
    k = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED448");
  return Pkey(k);
}

Pkey load_private_key_pem(std::string_view pem, std::string& error) {
  Bio bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  EVP_PKEY* k = bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr) : nullptr;
  if (!k) error = "cannot read a PEM private key: " + openssl_error();
  return Pkey(k);
}

bool parse_cert_der(std::string_view der, Cert& out, std::string& error) {
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  X509* c = d2i_X509(nullptr, &p, static_cast<long>(der.size()));
  if (!c) {
    error = "cannot parse a DER certificate: " + openssl_error();
    return false;
  }
  if (p != reinterpret_cast<const unsigned char*>(der.data()) + der.size()) {
    X509_free(c);
    error = "trailing bytes after a DER certificate";
    return false;
  }
  out.reset(c);
  return true;
}

bool parse_certs_pem(std::string_view pem, std::vector<Cert>& out, std::string& error) {
  out.clear();
  // Walk the BEGIN CERTIFICATE blocks ourselves so a damaged block is an
  // error rather than the silent end of the list.
  size_t at = 0;
  const std::string_view begin = "-----BEGIN CERTIFICATE-----";
  while ((at = pem.find(begin, at)) != std::string_view::npos) {
    size_t end = pem.find("-----END CERTIFICATE-----", at);
    if (end == std::string_view::npos) {
      error = "unterminated PEM certificate block";
      return false;
    }
    std::string b64(pem.substr(at + begin.size(), end - at - begin.size()));
    std::string der;
    if (!base64_decode(b64, der)) {
      error = "PEM certificate block " + std::to_string(out.size() + 1) + " is not valid base64";
      return false;
    }
    Cert c;
    if (!parse_cert_der(der, c, error)) {
      error = "PEM certificate " + std::to_string(out.size() + 1) + ": " + error;
      return false;
    }
    out.push_back(std::move(c));
    at = end;
  }
  if (out.empty()) {
    error = "no PEM certificate found";
    return false;
  }
  return true;
}

std::string cert_der(X509* cert) {
  unsigned char* buf = nullptr;
  int len = i2d_X509(cert, &buf);
  if (len <= 0) return {};
  std::string der(reinterpret_cast<char*>(buf), static_cast<size_t>(len));
  OPENSSL_free(buf);
  return der;
}

namespace {
std::string bio_text(BIO* b) {
  char* data = nullptr;
  long len = BIO_get_mem_data(b, &data);
  return len > 0 ? std::string(data, static_cast<size_t>(len)) : std::string();
}
}  // namespace

std::string cert_pem(X509* cert) {
  Bio b(BIO_new(BIO_s_mem()));
  if (!b || !PEM_write_bio_X509(b.get(), cert)) return {};
  return bio_text(b.get());
}

std::string private_key_pem(EVP_PKEY* key) {
  Bio b(BIO_new(BIO_s_mem()));
  if (!b || !PEM_write_bio_PrivateKey(b.get(), key, nullptr, nullptr, 0, nullptr, nullptr)) return {};
  return bio_text(b.get());
}

}  // namespace confidant::cose
