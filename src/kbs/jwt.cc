#include "kbs/jwt.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/rsa.h>

#include <chrono>
#include <cmath>
#include <memory>

#include "kbs/encoding.h"

namespace confidant::kbs {

namespace {

using json = nlohmann::json;

struct BnFree {
  void operator()(BIGNUM* b) const { BN_clear_free(b); }
};
using BnPtr = std::unique_ptr<BIGNUM, BnFree>;

struct MdCtxFree {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, MdCtxFree>;

int CoordinateSize(Curve c) { return c == Curve::kP256 ? 32 : c == Curve::kP384 ? 48 : 0; }

Result<std::string> DecodeMember(const json& obj, const char* name, bool required) {
  const json* m = GetMember(obj, name);
  if (m == nullptr) {
    if (required) return Err(std::string("JWK: missing \"") + name + "\"");
    return std::string();
  }
  if (!m->is_string()) return Err(std::string("JWK: \"") + name + "\" is not a string");
  auto d = Base64UrlDecode(m->get_ref<const std::string&>());
  if (!d) return Err(std::string("JWK: \"") + name + "\": " + d.error());
  if (required && d->empty()) return Err(std::string("JWK: \"") + name + "\" is empty");
  return d;
}

BIGNUM* ToBn(const std::string& bytes) {
  return BN_bin2bn(reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()), nullptr);
}

Result<PKey> FromParams(const char* type, OSSL_PARAM_BLD* bld, bool is_private) {
  OSSL_PARAM* params = OSSL_PARAM_BLD_to_param(bld);
  if (params == nullptr) return Err("JWK: " + OpenSslError());
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr);
  EVP_PKEY* pkey = nullptr;
  bool ok = ctx != nullptr && EVP_PKEY_fromdata_init(ctx) == 1 &&
            EVP_PKEY_fromdata(ctx, &pkey, is_private ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY, params) == 1;
  EVP_PKEY_CTX_free(ctx);
  OSSL_PARAM_free(params);
  if (!ok) return Err("JWK: key parameters rejected: " + OpenSslError());
  auto key = PKey::Adopt(pkey);
  if (!key) return Err("JWK: " + key.error());
  // For EC keys, check the point is on the curve (fromdata does not).
  if (EVP_PKEY_get_base_id(pkey) == EVP_PKEY_EC) {
    EVP_PKEY_CTX* check = EVP_PKEY_CTX_new_from_pkey(nullptr, pkey, nullptr);
    bool valid = check != nullptr && EVP_PKEY_public_check(check) == 1;
    EVP_PKEY_CTX_free(check);
    if (!valid) {
      ERR_clear_error();
      return Err("JWK: EC point is not on the curve");
    }
  }
  return key;
}

Result<PKey> RsaFromJwk(const json& obj) {
  auto n = DecodeMember(obj, "n", true);
  if (!n) return n.take_error();
  auto e = DecodeMember(obj, "e", true);
  if (!e) return e.take_error();
  if (n->size() > 1024) return Err("JWK: RSA modulus larger than 8192 bits");
  if (e->size() > 8) return Err("JWK: RSA exponent too large");
  auto d = DecodeMember(obj, "d", false);
  if (!d) return d.take_error();
  bool is_private = !d->empty();
  std::unique_ptr<OSSL_PARAM_BLD, decltype(&OSSL_PARAM_BLD_free)> bld(OSSL_PARAM_BLD_new(), OSSL_PARAM_BLD_free);
  std::vector<BnPtr> bns;
  auto push = [&](const char* key, const std::string& bytes) {
    bns.emplace_back(ToBn(bytes));
    return bns.back() != nullptr && OSSL_PARAM_BLD_push_BN(bld.get(), key, bns.back().get()) == 1;
  };
  if (!push(OSSL_PKEY_PARAM_RSA_N, *n) || !push(OSSL_PKEY_PARAM_RSA_E, *e)) return Err("JWK: " + OpenSslError());
  if (is_private) {
    if (!push(OSSL_PKEY_PARAM_RSA_D, *d)) return Err("JWK: " + OpenSslError());
    static const char* const kNames[][2] = {{"p", OSSL_PKEY_PARAM_RSA_FACTOR1},
                                            {"q", OSSL_PKEY_PARAM_RSA_FACTOR2},
                                            {"dp", OSSL_PKEY_PARAM_RSA_EXPONENT1},
                                            {"dq", OSSL_PKEY_PARAM_RSA_EXPONENT2},
                                            {"qi", OSSL_PKEY_PARAM_RSA_COEFFICIENT1}};
    for (const auto& [member, param] : kNames) {
      auto v = DecodeMember(obj, member, true);
      if (!v) return v.take_error();
      if (!push(param, *v)) return Err("JWK: " + OpenSslError());
    }
  }
  return FromParams("RSA", bld.get(), is_private);
}

Result<PKey> EcFromJwk(const json& obj) {
  const std::string* crv = GetString(obj, "crv");
  if (crv == nullptr) return Err("JWK: EC key without \"crv\"");
  Curve curve = ParseCurve(*crv);
  if (curve == Curve::kNone) return Err("JWK: unsupported curve \"" + *crv + "\"");
  size_t size = static_cast<size_t>(CoordinateSize(curve));
  auto x = DecodeMember(obj, "x", true);
  if (!x) return x.take_error();
  auto y = DecodeMember(obj, "y", true);
  if (!y) return y.take_error();
  if (x->size() != size || y->size() != size) {
    return Err("JWK: EC coordinates must be " + std::to_string(size) + " bytes for " + *crv);
  }
  auto d = DecodeMember(obj, "d", false);
  if (!d) return d.take_error();
  bool is_private = !d->empty();
  if (is_private && d->size() != size) return Err("JWK: EC private key must be " + std::to_string(size) + " bytes");
  std::string point = "\x04" + *x + *y;
  std::unique_ptr<OSSL_PARAM_BLD, decltype(&OSSL_PARAM_BLD_free)> bld(OSSL_PARAM_BLD_new(), OSSL_PARAM_BLD_free);
  const char* group = curve == Curve::kP256 ? "prime256v1" : "secp384r1";
  BnPtr priv;
  bool ok = OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, group, 0) == 1 &&
            OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size()) == 1;
  if (ok && is_private) {
    priv.reset(ToBn(*d));
    ok = priv != nullptr && OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_PRIV_KEY, priv.get()) == 1;
  }
  if (!ok) return Err("JWK: " + OpenSslError());
  return FromParams("EC", bld.get(), is_private);
}

Result<std::string> BnParam(const PKey& key, const char* name, size_t pad_to = 0) {
  BIGNUM* raw = nullptr;
  if (EVP_PKEY_get_bn_param(key.get(), name, &raw) != 1 || raw == nullptr) {
    ERR_clear_error();
    return Err(std::string("key has no parameter ") + name);
  }
  BnPtr bn(raw);
  size_t len = pad_to ? pad_to : static_cast<size_t>(BN_num_bytes(bn.get()));
  std::string out(len, '\0');
  if (BN_bn2binpad(bn.get(), reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(len)) < 0) {
    return Err(std::string("parameter ") + name + " too large");
  }
  return out;
}

const EVP_MD* DigestFor(JwsAlg alg) { return alg == JwsAlg::kES384 ? EVP_sha384() : EVP_sha256(); }

bool KeySuitsAlg(const PKey& key, JwsAlg alg) {
  switch (alg) {
    case JwsAlg::kRS256:
    case JwsAlg::kPS256: return key.type() == KeyType::kRsa;
    case JwsAlg::kES256: return key.type() == KeyType::kEc && key.curve() == Curve::kP256;
    case JwsAlg::kES384: return key.type() == KeyType::kEc && key.curve() == Curve::kP384;
  }
  return false;
}

Result<std::vector<std::string>> SplitCompact(std::string_view compact) {
  std::vector<std::string> parts;
  size_t start = 0;
  for (int i = 0; i < 3; ++i) {
    size_t dot = compact.find('.', start);
    if (i < 2) {
      if (dot == std::string_view::npos) return Err("JWS: expected three dot-separated parts");
      parts.emplace_back(compact.substr(start, dot - start));
      start = dot + 1;
    } else {
      if (dot != std::string_view::npos) return Err("JWS: more than three parts (JWE is not accepted)");
      parts.emplace_back(compact.substr(start));
    }
  }
  return parts;
}

}  // namespace

const char* JwsAlgName(JwsAlg alg) {
  switch (alg) {
    case JwsAlg::kRS256: return "RS256";
    case JwsAlg::kPS256: return "PS256";
    case JwsAlg::kES256: return "ES256";
    case JwsAlg::kES384: return "ES384";
  }
  return "";
}

std::optional<JwsAlg> ParseJwsAlg(std::string_view name) {
  if (name == "RS256") return JwsAlg::kRS256;
  if (name == "PS256") return JwsAlg::kPS256;
  if (name == "ES256") return JwsAlg::kES256;
  if (name == "ES384") return JwsAlg::kES384;
  return std::nullopt;
}

JwsAlg DefaultAlgFor(const PKey& key) {
  if (key.type() == KeyType::kEc) return key.curve() == Curve::kP384 ? JwsAlg::kES384 : JwsAlg::kES256;
  return JwsAlg::kRS256;
}

bool Jwk::HasKeyOp(std::string_view op) const {
  for (const auto& o : key_ops) {
    if (o == op) return true;
  }
  return false;
}

Result<Jwk> ParseJwk(const json& obj, const JwkLimits& limits) {
  try {
    if (!obj.is_object()) return Err("JWK is not a JSON object");
    const std::string* kty = GetString(obj, "kty");
    if (kty == nullptr) return Err("JWK: missing \"kty\"");
    Jwk jwk;
    for (const char* name : {"kid", "alg", "use"}) {
      const json* m = GetMember(obj, name);
      if (m == nullptr) continue;
      if (!m->is_string()) return Err(std::string("JWK: \"") + name + "\" is not a string");
      std::string& dst = name[0] == 'k' ? jwk.kid : name[0] == 'a' ? jwk.alg : jwk.use;
      dst = m->get<std::string>();
    }
    if (const json* ops = GetMember(obj, "key_ops")) {
      if (!ops->is_array() || ops->size() > 16) return Err("JWK: \"key_ops\" must be an array of at most 16 strings");
      for (const auto& op : *ops) {
        if (!op.is_string()) return Err("JWK: \"key_ops\" holds a non-string");
        jwk.key_ops.push_back(op.get<std::string>());
      }
    }
    PKey from_cert;
    if (const json* x5c = GetMember(obj, "x5c")) {
      if (!x5c->is_array() || x5c->empty()) return Err("JWK: \"x5c\" must be a non-empty array");
      if (x5c->size() > limits.max_x5c)
        return Err("JWK: \"x5c\" holds more than " + std::to_string(limits.max_x5c) + " certificates");
      for (const auto& c : *x5c) {
        if (!c.is_string()) return Err("JWK: \"x5c\" holds a non-string");
        const std::string& s = c.get_ref<const std::string&>();
        if (s.size() > limits.max_cert_bytes * 4 / 3 + 4) return Err("JWK: x5c certificate too large");
        auto der = Base64Decode(s);
        if (!der) return Err("JWK: x5c: " + der.error());
        jwk.x5c.push_back(s);
      }
      auto leaf = Base64Decode(jwk.x5c[0]);
      auto key = PKey::FromCertificateDer(*leaf);
      if (!key) return Err("JWK: x5c[0]: " + key.error());
      from_cert = *key;
    }
    bool has_params = false;
    if (*kty == "RSA") {
      has_params = GetMember(obj, "n") != nullptr || GetMember(obj, "e") != nullptr;
      if (has_params || !from_cert.valid()) {
        auto key = RsaFromJwk(obj);
        if (!key) return key.take_error();
        jwk.key = *key;
      }
    } else if (*kty == "EC") {
      has_params = GetMember(obj, "x") != nullptr || GetMember(obj, "y") != nullptr;
      if (has_params || !from_cert.valid()) {
        auto key = EcFromJwk(obj);
        if (!key) return key.take_error();
        jwk.key = *key;
      }
    } else {
      return Err("JWK: unsupported kty \"" + *kty + "\"");
    }
    if (from_cert.valid()) {
      if (jwk.key.valid() && !jwk.key.SamePublicKey(from_cert)) {
        return Err("JWK: the x5c certificate's key differs from the key parameters");
      }
      if (!jwk.key.valid()) jwk.key = from_cert;
      bool want_rsa = *kty == "RSA";
      if ((jwk.key.type() == KeyType::kRsa) != want_rsa) return Err("JWK: x5c certificate key does not match kty");
    }
    return jwk;
  } catch (const std::exception& e) {
    return Err(std::string("JWK: ") + e.what());
  }
}

Result<json> JwkToJson(const Jwk& jwk, bool include_private) {
  if (!jwk.key.valid()) return Err("JWK has no key");
  json j = json::object();
  const PKey& k = jwk.key;
  bool priv = include_private && k.has_private();
  if (k.type() == KeyType::kRsa) {
    j["kty"] = "RSA";
    auto n = BnParam(k, OSSL_PKEY_PARAM_RSA_N);
    auto e = BnParam(k, OSSL_PKEY_PARAM_RSA_E);
    if (!n || !e) return Err("RSA key parameters unavailable");
    j["n"] = Base64UrlEncode(*n);
    j["e"] = Base64UrlEncode(*e);
    if (priv) {
      static const char* const kNames[][2] = {
          {"d", OSSL_PKEY_PARAM_RSA_D},          {"p", OSSL_PKEY_PARAM_RSA_FACTOR1},
          {"q", OSSL_PKEY_PARAM_RSA_FACTOR2},    {"dp", OSSL_PKEY_PARAM_RSA_EXPONENT1},
          {"dq", OSSL_PKEY_PARAM_RSA_EXPONENT2}, {"qi", OSSL_PKEY_PARAM_RSA_COEFFICIENT1}};
      for (const auto& [member, param] : kNames) {
        auto v = BnParam(k, param);
        if (!v) return v.take_error();
        j[member] = Base64UrlEncode(*v);
      }
    }
  } else {
    size_t size = static_cast<size_t>(CoordinateSize(k.curve()));
    j["kty"] = "EC";
    j["crv"] = CurveName(k.curve());
    auto x = BnParam(k, OSSL_PKEY_PARAM_EC_PUB_X, size);
    auto y = BnParam(k, OSSL_PKEY_PARAM_EC_PUB_Y, size);
    if (!x || !y) return Err("EC key parameters unavailable");
    j["x"] = Base64UrlEncode(*x);
    j["y"] = Base64UrlEncode(*y);
    if (priv) {
      auto d = BnParam(k, OSSL_PKEY_PARAM_PRIV_KEY, size);
      if (!d) return d.take_error();
      j["d"] = Base64UrlEncode(*d);
    }
  }
  if (!jwk.kid.empty()) j["kid"] = jwk.kid;
  if (!jwk.alg.empty()) j["alg"] = jwk.alg;
  if (!jwk.use.empty()) j["use"] = jwk.use;
  if (!jwk.key_ops.empty()) j["key_ops"] = jwk.key_ops;
  if (!jwk.x5c.empty()) j["x5c"] = jwk.x5c;
  return j;
}

Result<std::string> JwkThumbprint(const PKey& key) {
  Jwk jwk;
  jwk.key = key;
  auto j = JwkToJson(jwk, false);
  if (!j) return j.take_error();
  // RFC 7638: required members only, lexicographic order, no whitespace
  // (nlohmann orders object members, so dump() is canonical here).
  json canon = json::object();
  for (const char* m : {"crv", "e", "kty", "n", "x", "y"}) {
    if (j->contains(m)) canon[m] = (*j)[m];
  }
  return Base64UrlEncode(Sha256(DumpJson(canon)));
}

std::vector<const Jwk*> Jwks::Find(std::string_view kid) const {
  std::vector<const Jwk*> out;
  for (const auto& k : keys) {
    if (kid.empty() || k.kid == kid) out.push_back(&k);
  }
  return out;
}

Result<Jwks> ParseJwksJson(const json& j, const JwksLimits& limits) {
  const json* keys = GetMember(j, "keys");
  if (keys == nullptr || !keys->is_array()) return Err("JWKS: missing \"keys\" array");
  if (keys->size() > limits.max_keys) return Err("JWKS: more than " + std::to_string(limits.max_keys) + " keys");
  Jwks out;
  for (size_t i = 0; i < keys->size(); ++i) {
    const json& k = (*keys)[i];
    const std::string* kty = GetString(k, "kty");
    if (kty != nullptr && *kty != "RSA" && *kty != "EC") continue;
    auto jwk = ParseJwk(k, limits.jwk);
    if (!jwk) return Err("JWKS key " + std::to_string(i) + ": " + jwk.error());
    out.keys.push_back(std::move(*jwk));
  }
  return out;
}

Result<Jwks> ParseJwks(std::string_view text, const JwksLimits& limits) {
  auto j = ParseJson(text, JsonLimits{limits.max_bytes, 8});
  if (!j) return Err("JWKS: " + j.error());
  return ParseJwksJson(*j, limits);
}

Result<std::string> SerializeJwks(const Jwks& jwks) {
  json keys = json::array();
  for (const auto& k : jwks.keys) {
    auto j = JwkToJson(k, false);
    if (!j) return j.take_error();
    keys.push_back(std::move(*j));
  }
  return DumpJson(json{{"keys", std::move(keys)}});
}

Result<std::string> SignBytes(std::string_view input, const PKey& key, JwsAlg alg) {
  if (!key.valid() || !key.has_private()) return Err("signing needs a private key");
  if (!KeySuitsAlg(key, alg)) return Err(std::string("key type does not suit ") + JwsAlgName(alg));
  MdCtxPtr ctx(EVP_MD_CTX_new());
  EVP_PKEY_CTX* pctx = nullptr;
  if (!ctx || EVP_DigestSignInit(ctx.get(), &pctx, DigestFor(alg), nullptr, key.get()) != 1) {
    return Err("sign init: " + OpenSslError());
  }
  if (alg == JwsAlg::kPS256 && (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
                                EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) != 1)) {
    return Err("PSS setup: " + OpenSslError());
  }
  size_t len = 0;
  const auto* in = reinterpret_cast<const unsigned char*>(input.data());
  if (EVP_DigestSign(ctx.get(), nullptr, &len, in, input.size()) != 1) return Err("sign: " + OpenSslError());
  std::string sig(len, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len, in, input.size()) != 1) {
    return Err("sign: " + OpenSslError());
  }
  sig.resize(len);
  if (alg == JwsAlg::kES256 || alg == JwsAlg::kES384) {
    // OpenSSL produces DER; JWS wants fixed-size R || S.
    const unsigned char* p = reinterpret_cast<const unsigned char*>(sig.data());
    ECDSA_SIG* es = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(sig.size()));
    if (es == nullptr) return Err("ECDSA signature decode: " + OpenSslError());
    int size = CoordinateSize(key.curve());
    std::string raw(static_cast<size_t>(2 * size), '\0');
    auto* out = reinterpret_cast<unsigned char*>(raw.data());
    bool ok = BN_bn2binpad(ECDSA_SIG_get0_r(es), out, size) == size &&
              BN_bn2binpad(ECDSA_SIG_get0_s(es), out + size, size) == size;
    ECDSA_SIG_free(es);
    if (!ok) return Err("ECDSA signature encode failed");
    return raw;
  }
  return sig;
}

Status VerifyBytes(std::string_view input, std::string_view signature, const PKey& key, JwsAlg alg) {
  if (!key.valid()) return Err("no verification key");
  if (!KeySuitsAlg(key, alg)) return Err(std::string("key type does not suit ") + JwsAlgName(alg));
  std::string der;
  if (alg == JwsAlg::kES256 || alg == JwsAlg::kES384) {
    size_t size = static_cast<size_t>(CoordinateSize(key.curve()));
    if (signature.size() != 2 * size) return Err("ECDSA signature has the wrong length");
    ECDSA_SIG* es = ECDSA_SIG_new();
    const auto* raw = reinterpret_cast<const unsigned char*>(signature.data());
    BIGNUM* r = BN_bin2bn(raw, static_cast<int>(size), nullptr);
    BIGNUM* s = BN_bin2bn(raw + size, static_cast<int>(size), nullptr);
    if (es == nullptr || r == nullptr || s == nullptr || ECDSA_SIG_set0(es, r, s) != 1) {
      BN_free(r);
      BN_free(s);
      ECDSA_SIG_free(es);
      return Err("ECDSA signature conversion failed");
    }
    unsigned char* out = nullptr;
    int len = i2d_ECDSA_SIG(es, &out);
    ECDSA_SIG_free(es);
    if (len <= 0) return Err("ECDSA signature conversion failed");
    der.assign(reinterpret_cast<char*>(out), static_cast<size_t>(len));
    OPENSSL_free(out);
    signature = der;
  } else if (signature.size() != static_cast<size_t>(EVP_PKEY_get_size(key.get()))) {
    return Err("RSA signature has the wrong length");
  }
  MdCtxPtr ctx(EVP_MD_CTX_new());
  EVP_PKEY_CTX* pctx = nullptr;
  if (!ctx || EVP_DigestVerifyInit(ctx.get(), &pctx, DigestFor(alg), nullptr, key.get()) != 1) {
    return Err("verify init: " + OpenSslError());
  }
  if (alg == JwsAlg::kPS256 && (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
                                EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) != 1)) {
    return Err("PSS setup: " + OpenSslError());
  }
  int rc = EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()), signature.size(),
                            reinterpret_cast<const unsigned char*>(input.data()), input.size());
  if (rc != 1) {
    ERR_clear_error();
    return Err("signature verification failed");
  }
  return Status::Ok();
}

Result<std::string> SignJws(std::string_view payload, const Jwk& signer, JwsAlg alg, const json& extra_header) {
  try {
    json header = extra_header.is_object() ? extra_header : json::object();
    header["alg"] = JwsAlgName(alg);
    if (!signer.kid.empty() && !header.contains("kid")) header["kid"] = signer.kid;
    std::string input = Base64UrlEncode(DumpJson(header)) + "." + Base64UrlEncode(payload);
    auto sig = SignBytes(input, signer.key, alg);
    if (!sig) return sig.take_error();
    return input + "." + Base64UrlEncode(*sig);
  } catch (const std::exception& e) {
    return Err(std::string("JWS sign: ") + e.what());
  }
}

Result<UnverifiedJws> PeekJws(std::string_view compact, const JwsVerifyOptions& options) {
  if (compact.size() > options.max_bytes) {
    return Err("JWS of " + std::to_string(compact.size()) + " bytes exceeds the limit of " +
               std::to_string(options.max_bytes));
  }
  auto parts = SplitCompact(compact);
  if (!parts) return parts.take_error();
  if ((*parts)[0].size() > options.max_header_bytes * 4 / 3 + 4) return Err("JWS header too large");
  auto header_bytes = Base64UrlDecode((*parts)[0]);
  if (!header_bytes) return Err("JWS header: " + header_bytes.error());
  auto header = ParseJson(*header_bytes, JsonLimits{options.max_header_bytes, 8});
  if (!header) return Err("JWS header: " + header.error());
  if (!header->is_object()) return Err("JWS header is not a JSON object");
  auto payload = Base64UrlDecode((*parts)[1]);
  if (!payload) return Err("JWS payload: " + payload.error());
  return UnverifiedJws{std::move(*header), std::move(*payload)};
}

Result<VerifiedJws> VerifyJws(std::string_view compact, const Jwks& keys, const JwsVerifyOptions& options) {
  try {
    auto peek = PeekJws(compact, options);
    if (!peek) return peek.take_error();
    const json& header = peek->header;
    const std::string* alg_name = GetString(header, "alg");
    if (alg_name == nullptr) return Err("JWS header has no \"alg\"");
    auto alg = ParseJwsAlg(*alg_name);
    bool allowed = false;
    for (JwsAlg a : options.allowed_algs) allowed |= alg && a == *alg;
    if (!allowed) return Err("JWS algorithm \"" + *alg_name + "\" is not accepted");
    if (header.contains("crit")) return Err("JWS header has \"crit\" extensions, none are supported");
    std::string kid;
    if (const json* k = GetMember(header, "kid")) {
      if (!k->is_string()) return Err("JWS \"kid\" is not a string");
      kid = k->get<std::string>();
      if (kid.empty()) return Err("JWS \"kid\" is empty");
    }
    auto candidates = keys.Find(kid);
    if (candidates.empty()) {
      return Err(kid.empty() ? std::string("no verification keys") : "no trusted key with kid \"" + kid + "\"");
    }
    size_t last_dot = compact.rfind('.');
    std::string_view input = compact.substr(0, last_dot);
    auto sig = Base64UrlDecode(compact.substr(last_dot + 1));
    if (!sig) return Err("JWS signature: " + sig.error());
    bool tried = false;
    for (const Jwk* k : candidates) {
      if (!KeySuitsAlg(k->key, *alg)) continue;
      if (!k->alg.empty() && k->alg != *alg_name) continue;
      if (!k->use.empty() && k->use != "sig") continue;
      tried = true;
      if (VerifyBytes(input, *sig, k->key, *alg).ok()) {
        return VerifiedJws{std::move(peek->header), std::move(peek->payload), k};
      }
    }
    if (!tried) return Err("no trusted key suits algorithm " + *alg_name);
    return Err("JWS signature verification failed");
  } catch (const std::exception& e) {
    return Err(std::string("JWS verify: ") + e.what());
  }
}

int64_t NowSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

Result<std::string> SignJwt(const json& claims, const Jwk& signer, JwsAlg alg, const json& extra_header) {
  if (!claims.is_object()) return Err("JWT claims must be a JSON object");
  json header = extra_header.is_object() ? extra_header : json::object();
  if (!header.contains("typ")) header["typ"] = "JWT";
  return SignJws(DumpJson(claims), signer, alg, header);
}

Result<VerifiedJwt> VerifyJwt(std::string_view token, const Jwks& keys, const JwtVerifyOptions& options) {
  try {
    auto jws = VerifyJws(token, keys, options.jws);
    if (!jws) return jws.take_error();
    auto claims =
        ParseJson(jws->payload, JsonLimits{options.jws.max_bytes, static_cast<int>(options.max_claims_depth)});
    if (!claims) return Err("JWT claims: " + claims.error());
    if (!claims->is_object()) return Err("JWT claims are not a JSON object");
    int64_t now = options.now != 0 ? options.now : NowSeconds();
    int64_t skew = options.clock_skew_seconds;
    auto numeric = [&](const char* name, double& out) -> Result<bool> {
      const json* m = GetMember(*claims, name);
      if (m == nullptr) return false;
      if (!m->is_number()) return Err(std::string("JWT \"") + name + "\" is not a number");
      out = m->get<double>();
      if (!std::isfinite(out)) return Err(std::string("JWT \"") + name + "\" is not finite");
      return true;
    };
    double exp = 0, nbf = 0, iat = 0;
    auto has_exp = numeric("exp", exp);
    if (!has_exp) return has_exp.take_error();
    if (!*has_exp && options.require_exp) return Err("JWT has no \"exp\"");
    if (*has_exp && static_cast<double>(now) > exp + static_cast<double>(skew)) return Err("JWT has expired");
    auto has_nbf = numeric("nbf", nbf);
    if (!has_nbf) return has_nbf.take_error();
    if (*has_nbf && static_cast<double>(now + skew) < nbf) return Err("JWT is not yet valid (nbf)");
    auto has_iat = numeric("iat", iat);
    if (!has_iat) return has_iat.take_error();
    if (*has_iat && static_cast<double>(now + skew) < iat) return Err("JWT was issued in the future (iat)");
    if (!options.expected_issuer.empty()) {
      const std::string* iss = GetString(*claims, "iss");
      if (iss == nullptr) return Err("JWT has no \"iss\"");
      if (*iss != options.expected_issuer) return Err("JWT issuer \"" + *iss + "\" is not the expected issuer");
    }
    return VerifiedJwt{std::move(jws->header), std::move(*claims)};
  } catch (const std::exception& e) {
    return Err(std::string("JWT verify: ") + e.what());
  }
}

}  // namespace confidant::kbs
