// io.jwt.* builtins, called directly through a local registry. Keys and
// certificates are generated at test time with OpenSSL; fixed vectors come
// from RFC 7515 appendix A.1 and OPA's conformance cases (jwtencodesign*,
// jwtbuiltins, jwtdecodeverify).
#include <gtest/gtest.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <functional>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "rego/builtins/builtins.h"

namespace confidant::rego {
void register_tokens(BuiltinRegistry& r);
}

using namespace confidant::rego;

namespace {

const BuiltinRegistry& registry() {
  static const BuiltinRegistry r = [] {
    BuiltinRegistry reg;
    register_tokens(reg);
    return reg;
  }();
  return r;
}

// 2021-01-01T00:00:00Z, the evaluation time of every call unless a test sets another.
constexpr int64_t kNow = 1609459200LL * 1000000000LL;

Value call_at(int64_t now_ns, std::string_view name, std::vector<Value> args) {
  const BuiltinInfo* b = registry().find(name);
  if (!b) {
    ADD_FAILURE() << "no builtin " << name;
    return Value();
  }
  EXPECT_EQ(static_cast<size_t>(b->arity), args.size()) << name;
  BuiltinContext ctx;
  ctx.now_ns = now_ns;
  return b->fn(ctx, args);
}

Value call(std::string_view name, std::vector<Value> args) { return call_at(kNow, name, std::move(args)); }

// The error message of a call expected to fail ("" if it succeeded).
std::string error_of(std::string_view name, std::vector<Value> args, std::string* code = nullptr) {
  try {
    Value v = call(name, std::move(args));
    ADD_FAILURE() << name << " succeeded with " << to_json(v);
  } catch (const BuiltinError& e) {
    if (code) *code = e.code;
    return e.what();
  }
  return "";
}

Value S(std::string_view s) { return Value::string(s); }

Value J(std::string_view json) {
  Value v;
  std::string err;
  EXPECT_TRUE(parse_json(json, v, err)) << err << ": " << json;
  return v;
}

std::string b64url(std::string_view in) {
  static const char* a = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  for (size_t i = 0; i < in.size(); i += 3) {
    uint32_t v = static_cast<uint32_t>(static_cast<unsigned char>(in[i])) << 16;
    size_t n = std::min<size_t>(3, in.size() - i);
    if (n > 1) v |= static_cast<uint32_t>(static_cast<unsigned char>(in[i + 1])) << 8;
    if (n > 2) v |= static_cast<unsigned char>(in[i + 2]);
    for (size_t j = 0; j <= n; ++j) out.push_back(a[(v >> (18 - 6 * j)) & 63]);
  }
  return out;
}

std::string b64url_bn(const EVP_PKEY* k, const char* param, size_t pad = 0) {
  BIGNUM* bn = nullptr;
  EXPECT_EQ(EVP_PKEY_get_bn_param(k, param, &bn), 1) << param;
  std::string out(std::max<size_t>(pad, static_cast<size_t>(BN_num_bytes(bn))), '\0');
  BN_bn2binpad(bn, reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(out.size()));
  BN_free(bn);
  return b64url(out);
}

std::string bio_string(BIO* bio) {
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<size_t>(n));
}

// A generated key pair in every form the builtins accept.
struct TestKey {
  std::string jwk_private, jwk_public;  // JSON text
  std::string pem_public, cert_pem;
};

TestKey make_key(const char* type, const char* curve = nullptr) {
  EVP_PKEY* k = std::string(type) == "RSA" ? EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(2048))
                : curve                    ? EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", curve)
                                           : EVP_PKEY_Q_keygen(nullptr, nullptr, type);
  EXPECT_NE(k, nullptr);
  TestKey t;
  if (std::string(type) == "RSA") {
    std::string pub = "\"kty\":\"RSA\",\"n\":\"" + b64url_bn(k, OSSL_PKEY_PARAM_RSA_N) + "\",\"e\":\"" +
                      b64url_bn(k, OSSL_PKEY_PARAM_RSA_E) + "\"";
    t.jwk_public = "{" + pub + "}";
    t.jwk_private = "{" + pub + ",\"d\":\"" + b64url_bn(k, OSSL_PKEY_PARAM_RSA_D) + "\",\"p\":\"" +
                    b64url_bn(k, OSSL_PKEY_PARAM_RSA_FACTOR1) + "\",\"q\":\"" +
                    b64url_bn(k, OSSL_PKEY_PARAM_RSA_FACTOR2) + "\",\"dp\":\"" +
                    b64url_bn(k, OSSL_PKEY_PARAM_RSA_EXPONENT1) + "\",\"dq\":\"" +
                    b64url_bn(k, OSSL_PKEY_PARAM_RSA_EXPONENT2) + "\",\"qi\":\"" +
                    b64url_bn(k, OSSL_PKEY_PARAM_RSA_COEFFICIENT1) + "\"}";
  } else if (curve) {
    size_t size = std::string(curve) == "P-256" ? 32 : std::string(curve) == "P-384" ? 48 : 66;
    std::string pub = "\"kty\":\"EC\",\"crv\":\"" + std::string(curve) + "\",\"x\":\"" +
                      b64url_bn(k, OSSL_PKEY_PARAM_EC_PUB_X, size) + "\",\"y\":\"" +
                      b64url_bn(k, OSSL_PKEY_PARAM_EC_PUB_Y, size) + "\"";
    t.jwk_public = "{" + pub + "}";
    t.jwk_private = "{" + pub + ",\"d\":\"" + b64url_bn(k, OSSL_PKEY_PARAM_PRIV_KEY, size) + "\"}";
  } else {
    unsigned char raw[32];
    size_t len = sizeof raw;
    EVP_PKEY_get_raw_public_key(k, raw, &len);
    std::string x = b64url(std::string(reinterpret_cast<char*>(raw), len));
    len = sizeof raw;
    EVP_PKEY_get_raw_private_key(k, raw, &len);
    std::string d = b64url(std::string(reinterpret_cast<char*>(raw), len));
    t.jwk_public = "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"" + x + "\"}";
    t.jwk_private = "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"" + x + "\",\"d\":\"" + d + "\"}";
  }
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PUBKEY(bio, k);
  t.pem_public = bio_string(bio);
  BIO_free(bio);
  // A self-signed certificate carrying the public key.
  X509* cert = X509_new();
  X509_set_version(cert, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert), 7);
  X509_gmtime_adj(X509_getm_notBefore(cert), 0);
  X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
  X509_NAME* name = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("test"), -1, -1, 0);
  X509_set_issuer_name(cert, name);
  X509_set_pubkey(cert, k);
  EXPECT_GT(X509_sign(cert, k, std::string(type) == "ED25519" ? nullptr : EVP_sha256()), 0);
  bio = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(bio, cert);
  t.cert_pem = bio_string(bio);
  BIO_free(bio);
  X509_free(cert);
  EVP_PKEY_free(k);
  return t;
}

const TestKey& rsa_key() {
  static const TestKey k = make_key("RSA");
  return k;
}
const TestKey& rsa_key2() {
  static const TestKey k = make_key("RSA");
  return k;
}
const TestKey& ec_key(const char* curve) {
  static const TestKey p256 = make_key("EC", "P-256"), p384 = make_key("EC", "P-384"), p521 = make_key("EC", "P-521");
  std::string c = curve;
  return c == "P-256" ? p256 : c == "P-384" ? p384 : p521;
}
const TestKey& ed_key() {
  static const TestKey k = make_key("ED25519");
  return k;
}

// The RFC 7515 appendix A.1 HMAC key, also used by OPA's conformance cases.
const char* kOctJwk =
    "{\n\"kty\":\"oct\",\n\"k\":\"AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-"
    "1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow\"\n}";
const char* kRfcPayload = "{\"iss\":\"joe\",\r\n \"exp\":1300819380,\r\n \"http://example.com/is_root\":true}";

struct AlgCase {
  const char* alg;
  const char* verify;  // builtin
  const TestKey& (*key)();
};

const AlgCase kAsymmetric[] = {
    {"RS256", "io.jwt.verify_rs256", rsa_key},
    {"RS384", "io.jwt.verify_rs384", rsa_key},
    {"RS512", "io.jwt.verify_rs512", rsa_key},
    {"PS256", "io.jwt.verify_ps256", rsa_key},
    {"PS384", "io.jwt.verify_ps384", rsa_key},
    {"PS512", "io.jwt.verify_ps512", rsa_key},
    {"ES256", "io.jwt.verify_es256", []() -> const TestKey& { return ec_key("P-256"); }},
    {"ES384", "io.jwt.verify_es384", []() -> const TestKey& { return ec_key("P-384"); }},
    {"ES512", "io.jwt.verify_es512", []() -> const TestKey& { return ec_key("P-521"); }},
    {"EdDSA", "io.jwt.verify_eddsa", ed_key},
};

std::string sign(const std::string& header_json, const std::string& payload_json, const std::string& jwk) {
  return call("io.jwt.encode_sign", {J(header_json), J(payload_json), J(jwk)}).str();
}

std::string tamper(std::string token) {
  // Flip a bit in the middle of the signature section.
  size_t at = token.rfind('.') + (token.size() - token.rfind('.')) / 2;
  token[at] = token[at] == 'A' ? 'B' : 'A';
  return token;
}

// ---------------------------------------------------------------- conformance cases

TEST(Tokens, EncodeSignRawHeaderErrors) {
  struct Case {
    const char* header;
    const char* want;
  } cases[] = {
      {"{\"typ:\"JWT\",\r\n \"alg\":\"HS256\"}", "missing or invalid 'alg' header: cannot parse JSON"},
      {"{\"alg\":\"dummy\"}", "unknown JWS algorithm: dummy"},
      {"{}", "unsupported signature algorithm"},
      {"", "missing or invalid 'alg' header: cannot parse JSON: cannot parse empty string"},
      {"e", "invalid character"},
  };
  for (const Case& c : cases) {
    std::string code;
    std::string err = error_of("io.jwt.encode_sign_raw", {S(c.header), S(kRfcPayload), S(kOctJwk)}, &code);
    EXPECT_NE(err.find(c.want), std::string::npos) << c.header << " -> " << err;
    EXPECT_EQ(err.rfind("io.jwt.encode_sign_raw: ", 0), 0u) << err;
    EXPECT_EQ(code, "eval_builtin_error");
  }
}

TEST(Tokens, EncodeSignRawPayloadErrors) {
  const char* header = "{\"typ\":\"JWT\",\r\n \"alg\":\"HS256\"}";
  for (const char* payload :
       {"{\"iss:\"joe\",\r\n \"exp\":1300819380,\r\n \"http://example.com/is_root\":true}", "e"}) {
    EXPECT_EQ(error_of("io.jwt.encode_sign_raw", {S(header), S(payload), S(kOctJwk)}),
              "io.jwt.encode_sign_raw: type is JWT but payload is not JSON");
  }
  // Without typ JWT the payload may be anything (OPA v1 with jwx v3).
  std::string token = call("io.jwt.encode_sign_raw", {S("{\"alg\":\"HS256\"}"), S("e"), S(kOctJwk)}).str();
  EXPECT_EQ(token.substr(0, token.find('.')), b64url("{\"alg\":\"HS256\"}"));
}

TEST(Tokens, EncodeSignRfc7515A1) {
  // The RFC's own example: header and payload bytes are signed as given.
  std::string token =
      call("io.jwt.encode_sign_raw", {S("{\"typ\":\"JWT\",\r\n \"alg\":\"HS256\"}"), S(kRfcPayload), S(kOctJwk)}).str();
  EXPECT_EQ(token,
            "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFt"
            "cGxlLmNvbS9pc19yb290Ijp0cnVlfQ.dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk");
  // jwtencodesign/https://tools.ietf.org/html/rfc7515#appendix-A.1: objects are marshalled compactly, keys sorted.
  std::string t2 = sign(R"({"alg": "HS256", "typ": "JWT"})",
                        R"({"aud": ["bob", "saul"], "exp": 1300819380, "http://example.com/is_root": true, "iss": "joe",
                            "privateParams": {"private_one": "one", "private_two": "two"}})",
                        kOctJwk);
  EXPECT_EQ(
      t2,
      "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJhdWQiOlsiYm9iIiwic2F1bCJdLCJleHAiOjEzMDA4MTkzODAsImh0dHA6Ly9leGFtcGxl"
      "LmNvbS9pc19yb290Ijp0cnVlLCJpc3MiOiJqb2UiLCJwcml2YXRlUGFyYW1zIjp7InByaXZhdGVfb25lIjoib25lIiwicHJpdmF0ZV90d28i"
      "OiJ0d28ifX0.-Or2eol8bzly-Ztb0v7_7UkcKBkN_aNNpK33HK0MeOY");
}

TEST(Tokens, EncodeSignEdDSAVector) {
  // jwtencodesign/EdDSA: Ed25519 signatures are deterministic.
  std::string token = sign(R"({"alg": "EdDSA", "typ": "JWT"})",
                           R"({"aud": ["bob", "saul"], "exp": 1300819380, "http://example.com/is_root": true,
                               "iss": "joe", "privateParams": {"private_one": "one", "private_two": "two"}})",
                           R"({"kty": "OKP", "alg": "EdDSA", "crv": "Ed25519",
                               "x": "wEZFfoAj1rFKTLOOmjJjVZlCHwksuvMb2I5y_hg70E8",
                               "d": "9XI34uQzYUJfWhDZf_0nYsLMBRVu8a6dFsy60P8uugk"})");
  EXPECT_EQ(token.substr(token.rfind('.') + 1),
            "T_X7SzKEehTnRdgYrDobpKO-EqZ0LW3Y-idx16wNHXCL5aiR24h2Ei0pWRHG2X2BYomwbvNwyxPcasgHqs_eBA");
}

TEST(Tokens, DecodeSimple) {
  // jwtbuiltins/simple-non-registered
  Value v =
      call("io.jwt.decode", {S("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJuZXciOiJJIGFtIGEgdXNlciBjcmVhdGVkIGZpZWxkIiwia"
                               "XNzIjoib3BhIn0.6UmjsclVDGD9jcmX_F8RJzVgHtUZuLu2pxkF_UEQCrE")});
  EXPECT_EQ(to_json(v), R"([{"alg":"HS256","typ":"JWT"},{"iss":"opa","new":"I am a user created field"},)"
                        R"("e949a3b1c9550c60fd8dc997fc5f112735601ed519b8bbb6a71905fd41100ab1"])");
}

TEST(Tokens, DecodeVerifyEdDSAVector) {
  // jwtdecodeverify/EdDSA
  Value v =
      call("io.jwt.decode_verify",
           {S("eyJhbGciOiJFZERTQSIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiYWRtaW4iOnRy"
              "dWUsImlhdCI6MTUxNjIzOTAyMn0.JkKWCY39IdWEQttmdqR7VdsvT-_QxheW_eb0S5wr_j83ltux_JDUIXs7a3Dtn3xuqzuhetiuJrWI"
              "vy5TzimeCg"),
            Value::object({{S("cert"), S("-----BEGIN PUBLIC KEY-----\n"
                                         "MCowBQYDK2VwAyEAwmK6SSAu2E9V7uynkCKEaj5nZJyTvNG4x0KohsRzLpg=\n"
                                         "-----END PUBLIC KEY-----\n")}})});
  EXPECT_EQ(
      to_json(v),
      R"([true,{"alg":"EdDSA","typ":"JWT"},{"admin":true,"iat":1516239022,"name":"John Doe","sub":"1234567890"}])");
}

TEST(Tokens, DecodeVerifyInvalidExpType) {
  // jwtdecodeverify/invalid-exp
  std::string token = sign(R"({"alg": "HS256"})", R"({"exp": null})", R"({"kty": "oct", "k": "NDI"})");
  EXPECT_EQ(error_of("io.jwt.decode_verify", {S(token), J(R"({"secret": "42"})")}),
            "io.jwt.decode_verify: exp value must be a number");
  token = sign(R"({"alg": "HS256"})", R"({"nbf": "soon"})", R"({"kty": "oct", "k": "NDI"})");
  EXPECT_EQ(error_of("io.jwt.decode_verify", {S(token), J(R"({"secret": "42"})")}),
            "io.jwt.decode_verify: nbf value must be a number");
}

TEST(Tokens, DecodeVerifyFloatEqualExp) {
  // jwtdecodeverify/hs256-float-equal-exp: exp equal to the time constraint (as a float) is expired.
  Value v = call("io.jwt.decode_verify",
                 {S("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJleHAiOjEuNTg5Mzg1NzcxMTIzNGUrMDksImlzcyI6Inh4eCJ9."
                    "PZ2z6VfHt9YdvHHUbilkTnw4R9TK3_V0LV1h-q0k9xg"),
                  J(R"({"secret": "secret", "time": 1589385771123400000})")});
  EXPECT_EQ(to_json(v), "[false,{},{}]");
  v = call("io.jwt.decode_verify",
           {S("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJleHAiOjEuNTg5Mzg1NzcxMTIzNGUrMDksImlzcyI6Inh4eCJ9."
              "PZ2z6VfHt9YdvHHUbilkTnw4R9TK3_V0LV1h-q0k9xg"),
            J(R"({"secret": "secret", "time": 1589385771123300000})")});
  EXPECT_TRUE(v.array_items()[0].is_true());
}

// ---------------------------------------------------------------- round trips

TEST(Tokens, RoundTripEveryAsymmetricAlgorithm) {
  for (const AlgCase& c : kAsymmetric) {
    SCOPED_TRACE(c.alg);
    const TestKey& k = c.key();
    std::string token =
        sign(std::string(R"({"typ":"JWT","alg":")") + c.alg + "\"}", R"({"sub":"alice","n":1})", k.jwk_private);
    for (const std::string& key : {k.pem_public, k.cert_pem, k.jwk_public, "{\"keys\":[" + k.jwk_public + "]}"}) {
      EXPECT_TRUE(call(c.verify, {S(token), S(key)}).is_true()) << key;
      EXPECT_TRUE(call(c.verify, {S(tamper(token)), S(key)}).is_false()) << key;
      Value dv = call("io.jwt.decode_verify", {S(token), Value::object({{S("cert"), S(key)}})});
      EXPECT_EQ(to_json(dv), std::string(R"([true,{"alg":")") + c.alg + R"(","typ":"JWT"},{"n":1,"sub":"alice"}])");
      dv = call("io.jwt.decode_verify", {S(tamper(token)), Value::object({{S("cert"), S(key)}})});
      EXPECT_EQ(to_json(dv), "[false,{},{}]");
    }
    // A key of another pair, or of another family, does not verify.
    const TestKey& other = std::string(c.alg)[0] == 'E' && c.alg[1] == 'S' ? rsa_key() : ec_key("P-256");
    EXPECT_TRUE(call(c.verify, {S(token), S(other.pem_public)}).is_false());
    EXPECT_TRUE(call(c.verify, {S(token), S(rsa_key2().cert_pem)}).is_false());
    // The signature over a changed payload does not verify.
    std::string forged =
        sign(std::string(R"({"typ":"JWT","alg":")") + c.alg + "\"}", R"({"sub":"mallory","n":1})", k.jwk_private);
    std::string mixed = token.substr(0, token.find('.')) +
                        forged.substr(forged.find('.'), forged.rfind('.') - forged.find('.')) +
                        token.substr(token.rfind('.'));
    EXPECT_TRUE(call(c.verify, {S(mixed), S(k.pem_public)}).is_false());
    // io.jwt.decode sees the same header and payload.
    Value d = call("io.jwt.decode", {S(token)});
    EXPECT_EQ(to_json(d.array_items()[1]), R"({"n":1,"sub":"alice"})");
  }
}

TEST(Tokens, RoundTripHmac) {
  for (const char* alg : {"HS256", "HS384", "HS512"}) {
    SCOPED_TRACE(alg);
    std::string lower = alg;
    lower[0] = 'h';
    lower[1] = 's';
    std::string verify = "io.jwt.verify_" + lower;
    std::string token = sign(std::string(R"({"alg":")") + alg + "\"}", R"({"x":[1,2]})",
                             R"({"kty":"oct","k":")" + b64url("my secret") + "\"}");
    EXPECT_TRUE(call(verify, {S(token), S("my secret")}).is_true());
    EXPECT_TRUE(call(verify, {S(token), S("my secreT")}).is_false());
    EXPECT_TRUE(call(verify, {S(tamper(token)), S("my secret")}).is_false());
    Value dv = call("io.jwt.decode_verify", {S(token), J(R"({"secret":"my secret"})")});
    EXPECT_TRUE(dv.array_items()[0].is_true());
    dv = call("io.jwt.decode_verify", {S(token), J(R"({"secret":"other"})")});
    EXPECT_EQ(to_json(dv), "[false,{},{}]");
    // The alg constraint must match the header.
    dv = call("io.jwt.decode_verify", {S(token), J(R"({"secret":"my secret","alg":"RS256"})")});
    EXPECT_TRUE(dv.array_items()[0].is_false());
    // A secret never verifies an asymmetric token and vice versa.
    EXPECT_TRUE(call("io.jwt.verify_rs256", {S(token), S(rsa_key().pem_public)}).is_false());
  }
  // An empty secret is a secret like any other.
  std::string token =
      call("io.jwt.encode_sign_raw", {S(R"({"alg":"HS256"})"), S("{}"), S(R"({"kty":"oct","k":""})")}).str();
  EXPECT_TRUE(call("io.jwt.verify_hs256", {S(token), S("")}).is_true());
}

TEST(Tokens, RsaJwkWithoutCrtParameters) {
  // n, e and d suffice for signing.
  Value full = J(rsa_key().jwk_private);
  ObjectItems items;
  for (const auto& [k, v] : full.object_items())
    if (k.str() == "n" || k.str() == "e" || k.str() == "d" || k.str() == "kty") items.emplace_back(k, v);
  std::string token = call("io.jwt.encode_sign", {J(R"({"alg":"RS256"})"), J("{}"), Value::object(items)}).str();
  EXPECT_TRUE(call("io.jwt.verify_rs256", {S(token), S(rsa_key().pem_public)}).is_true());
}

TEST(Tokens, SigningKeyMustFitAlgorithm) {
  EXPECT_NE(error_of("io.jwt.encode_sign", {J(R"({"alg":"RS256"})"), J("{}"), J(kOctJwk)}).find("invalid key type"),
            std::string::npos);
  EXPECT_NE(error_of("io.jwt.encode_sign", {J(R"({"alg":"HS256"})"), J("{}"), J(rsa_key().jwk_private)})
                .find("invalid key type"),
            std::string::npos);
  // A public key cannot sign.
  EXPECT_NE(error_of("io.jwt.encode_sign", {J(R"({"alg":"ES256"})"), J("{}"), J(ec_key("P-256").jwk_public)})
                .find("invalid key type"),
            std::string::npos);
  EXPECT_NE(error_of("io.jwt.encode_sign", {J(R"({"alg":"HS256"})"), J("{}"), J(R"({"keys":[]})")})
                .find("no keys found in JWK set"),
            std::string::npos);
  EXPECT_NE(error_of("io.jwt.encode_sign", {J(R"({"alg":"HS256"})"), J("{}"), J(R"({"kty":"weird"})")})
                .find("invalid key type"),
            std::string::npos);
}

TEST(Tokens, EncodeSignMarshalsLikeGo) {
  // HTML characters are escaped, keys sorted, sets become arrays.
  Value payload = Value::object({{S("b"), S("<&>")}, {S("a"), Value::set({Value::integer(2), Value::integer(1)})}});
  std::string token = call("io.jwt.encode_sign", {J(R"({"alg":"HS256"})"), payload, J(kOctJwk)}).str();
  Value d = call("io.jwt.decode", {S(token)});
  EXPECT_EQ(to_json(d.array_items()[1]), R"({"a":[1,2],"b":"<&>"})");
  std::string part = token.substr(token.find('.') + 1, token.rfind('.') - token.find('.') - 1);
  EXPECT_EQ(part, b64url(R"({"a":[1,2],"b":"\u003c\u0026\u003e"})"));
}

// ---------------------------------------------------------------- JWKS key selection

TEST(Tokens, JwksKidAndAlgSelection) {
  const TestKey& a = rsa_key();
  const TestKey& b = rsa_key2();
  Value pa = J(a.jwk_public), pb = J(b.jwk_public);
  auto with = [](Value jwk, std::vector<std::pair<const char*, const char*>> extra) {
    ObjectItems items = jwk.object_items();
    for (auto [k, v] : extra) items.emplace_back(S(k), S(v));
    return Value::object(items);
  };
  std::string token = sign(R"({"alg":"RS256","kid":"b"})", R"({"sub":"x"})", b.jwk_private);
  auto jwks = [](std::vector<Value> keys) { return to_json(Value::object({{S("keys"), Value::array(keys)}})); };
  // The key with the token's kid is used, and only that one.
  EXPECT_TRUE(
      call("io.jwt.verify_rs256", {S(token), S(jwks({with(pa, {{"kid", "a"}}), with(pb, {{"kid", "b"}})}))}).is_true());
  EXPECT_TRUE(call("io.jwt.verify_rs256", {S(token), S(jwks({with(pa, {{"kid", "b"}}), with(pb, {{"kid", "a"}})}))})
                  .is_false());
  // Without a kid match every key is tried, but keys naming another alg are skipped.
  EXPECT_TRUE(call("io.jwt.verify_rs256", {S(token), S(jwks({with(pa, {{"kid", "c"}}), pb}))}).is_true());
  EXPECT_TRUE(call("io.jwt.verify_rs256", {S(token), S(jwks({pa, with(pb, {{"alg", "RS512"}})}))}).is_false());
  EXPECT_TRUE(call("io.jwt.verify_rs256", {S(token), S(jwks({pa, with(pb, {{"alg", "RS256"}})}))}).is_true());
  // Keys with unknown algorithms are dropped from the set.
  EXPECT_TRUE(call("io.jwt.verify_rs256", {S(token), S(jwks({with(pb, {{"alg", "RSA-OAEP"}})}))}).is_false());
  Value dv = call("io.jwt.decode_verify", {S(token), Value::object({{S("cert"), S(jwks({pa, pb}))}})});
  EXPECT_TRUE(dv.array_items()[0].is_true());
  // OPA's verify_* accept only public keys.
  EXPECT_TRUE(call("io.jwt.verify_rs256", {S(token), S(b.jwk_private)}).is_false());
}

// ---------------------------------------------------------------- claims

TEST(Tokens, DecodeVerifyTimeClaims) {
  std::string k = R"({"kty":"oct","k":")" + b64url("s3cret") + "\"}";
  auto tok = [&](const std::string& payload) { return sign(R"({"alg":"HS256"})", payload, k); };
  auto verify_at = [&](int64_t now, const std::string& t, const char* extra = "") {
    Value c = J(std::string(R"({"secret":"s3cret")") + extra + "}");
    return call_at(now, "io.jwt.decode_verify", {S(t), c}).array_items()[0].is_true();
  };
  int64_t s = kNow / 1000000000;
  EXPECT_TRUE(verify_at(kNow, tok("{\"exp\":" + std::to_string(s + 1) + "}")));
  EXPECT_FALSE(verify_at(kNow, tok("{\"exp\":" + std::to_string(s) + "}")));  // exp is exclusive
  EXPECT_FALSE(verify_at(kNow, tok("{\"exp\":" + std::to_string(s - 60) + "}")));
  EXPECT_TRUE(verify_at(kNow, tok("{\"exp\":" + std::to_string(s) + ".5}")));
  EXPECT_TRUE(verify_at(kNow, tok("{\"nbf\":" + std::to_string(s) + "}")));  // nbf is inclusive
  EXPECT_FALSE(verify_at(kNow, tok("{\"nbf\":" + std::to_string(s + 1) + "}")));
  // The time constraint (nanoseconds) replaces the evaluation time.
  std::string past = tok("{\"exp\":" + std::to_string(s - 60) + "}");
  std::string at = ",\"time\":" + std::to_string(kNow - 120 * 1000000000LL);
  EXPECT_TRUE(verify_at(kNow, past, at.c_str()));
  EXPECT_FALSE(verify_at(kNow + 3600 * 1000000000LL, tok("{\"exp\":" + std::to_string(s + 60) + "}")));
  EXPECT_EQ(error_of("io.jwt.decode_verify", {S(past), J(R"({"secret":"s3cret","time":-1})")}),
            "io.jwt.decode_verify: token time constraint: must not be negative");
  EXPECT_EQ(error_of("io.jwt.decode_verify", {S(past), J(R"({"secret":"s3cret","time":"now"})")}),
            "io.jwt.decode_verify: token time constraint: must be a number");
}

TEST(Tokens, DecodeVerifyIssAud) {
  std::string k = R"({"kty":"oct","k":")" + b64url("k") + "\"}";
  auto ok = [&](const std::string& payload, const std::string& constraints) {
    std::string t = sign(R"({"alg":"HS256"})", payload, k);
    return call("io.jwt.decode_verify", {S(t), J(R"({"secret":"k")" + constraints + "}")}).array_items()[0].is_true();
  };
  EXPECT_TRUE(ok(R"({"iss":"me"})", R"(,"iss":"me")"));
  EXPECT_FALSE(ok(R"({"iss":"you"})", R"(,"iss":"me")"));
  EXPECT_FALSE(ok(R"({})", R"(,"iss":"me")"));
  EXPECT_TRUE(ok(R"({"iss":"you"})", ""));
  EXPECT_TRUE(ok(R"({"aud":"svc"})", R"(,"aud":"svc")"));
  EXPECT_TRUE(ok(R"({"aud":["a","svc"]})", R"(,"aud":"svc")"));
  EXPECT_FALSE(ok(R"({"aud":["a","b"]})", R"(,"aud":"svc")"));
  EXPECT_FALSE(ok(R"({})", R"(,"aud":"svc")"));
  // A token with an audience needs an aud constraint (OPA's rule).
  EXPECT_FALSE(ok(R"({"aud":"svc"})", ""));
  EXPECT_TRUE(ok(R"({})", ""));
}

TEST(Tokens, DecodeVerifyConstraintErrors) {
  std::string t = sign(R"({"alg":"HS256"})", "{}", kOctJwk);
  auto err = [&](const char* c) { return error_of("io.jwt.decode_verify", {S(t), J(c)}); };
  EXPECT_EQ(err("{}"), "io.jwt.decode_verify: no key constraint");
  EXPECT_EQ(err(R"({"secret":"a","cert":"{\"keys\":[]}"})"), "io.jwt.decode_verify: duplicate key constraints");
  EXPECT_EQ(err(R"({"secret":"a","foo":1})"), "io.jwt.decode_verify: unknown token validation constraint: foo");
  EXPECT_EQ(err(R"({"secret":1})"), "io.jwt.decode_verify: secret constraint: must be a string");
  EXPECT_EQ(err(R"({"cert":1})"), "io.jwt.decode_verify: cert constraint: must be a string");
  EXPECT_EQ(err(R"({"secret":"a","iss":1})"), "io.jwt.decode_verify: iss constraint: must be a string");
  EXPECT_NE(err(R"({"cert":"not a key"})").find("failed to parse a JWK key (set)"), std::string::npos);
  std::string code;
  EXPECT_EQ(error_of("io.jwt.decode_verify", {S(t), S("x")}, &code),
            "io.jwt.decode_verify: operand 2 must be object but got string");
  EXPECT_EQ(code, "eval_type_error");
}

TEST(Tokens, HeaderValidity) {
  std::string k = R"({"kty":"oct","k":")" + b64url("k") + "\"}";
  auto dv = [&](const std::string& header) {
    std::string t = call("io.jwt.encode_sign_raw", {S(header), S("{}"), S(k)}).str();
    return call("io.jwt.decode_verify", {S(t), J(R"({"secret":"k"})")});
  };
  EXPECT_TRUE(dv(R"({"alg":"HS256","crit":["kid"],"kid":"1"})").array_items()[0].is_true());
  // A critical parameter OPA does not understand makes the token invalid.
  EXPECT_TRUE(dv(R"({"alg":"HS256","crit":["exotic"],"exotic":1})").array_items()[0].is_false());
  EXPECT_TRUE(dv(R"({"alg":"HS256","exotic":1})").array_items()[0].is_true());
  std::string t = call("io.jwt.encode_sign_raw", {S(R"({"alg":"HS256","crit":[]})"), S("{}"), S(k)}).str();
  EXPECT_EQ(error_of("io.jwt.decode_verify", {S(t), J(R"({"secret":"k"})")}),
            "io.jwt.decode_verify: crit: must be a nonempty list");
  t = call("io.jwt.encode_sign_raw", {S(R"({"alg":"HS256","kid":7})"), S("{}"), S(k)}).str();
  EXPECT_EQ(error_of("io.jwt.decode_verify", {S(t), J(R"({"secret":"k"})")}),
            "io.jwt.decode_verify: kid: must be a string");
  // JWE is not supported.
  std::string jwe = b64url(R"({"alg":"RSA-OAEP","enc":"A256GCM"})") + ".e30.";
  EXPECT_EQ(error_of("io.jwt.decode", {S(jwe)}), "io.jwt.decode: JWT is a JWE object, which is not supported");
}

TEST(Tokens, NestedTokens) {
  std::string k = R"({"kty":"oct","k":")" + b64url("k") + "\"}";
  std::string inner = sign(R"({"alg":"HS256"})", R"({"sub":"inner"})", k);
  std::string outer =
      call("io.jwt.encode_sign_raw", {S(R"({"alg":"HS256","cty":"JWT"})"), S("\"" + inner + "\""), S(k)}).str();
  Value d = call("io.jwt.decode", {S(outer)});
  EXPECT_EQ(to_json(d.array_items()[1]), R"({"sub":"inner"})");
  // decode_verify verifies both layers (the quotes are not stripped there).
  outer = call("io.jwt.encode_sign_raw", {S(R"({"alg":"HS256","cty":"jwt"})"), S(inner), S(k)}).str();
  Value v = call("io.jwt.decode_verify", {S(outer), J(R"({"secret":"k"})")});
  EXPECT_EQ(to_json(v), R"([true,{"alg":"HS256"},{"sub":"inner"}])");
  std::string bad_inner = tamper(inner);
  outer = call("io.jwt.encode_sign_raw", {S(R"({"alg":"HS256","cty":"JWT"})"), S(bad_inner), S(k)}).str();
  EXPECT_EQ(to_json(call("io.jwt.decode_verify", {S(outer), J(R"({"secret":"k"})")})), "[false,{},{}]");
}

// ---------------------------------------------------------------- malformed input

TEST(Tokens, StructuralErrors) {
  EXPECT_EQ(error_of("io.jwt.decode", {S("abc")}), "io.jwt.decode: encoded JWT had no period separators");
  EXPECT_EQ(error_of("io.jwt.decode", {S("a.b")}), "io.jwt.decode: encoded JWT must have 3 sections, found 2");
  EXPECT_EQ(error_of("io.jwt.decode", {S("a.b.c.d")}), "io.jwt.decode: encoded JWT must have 3 sections, found 4");
  EXPECT_EQ(error_of("io.jwt.decode", {S("a.b.c")}),
            "io.jwt.decode: JWT header had invalid encoding: illegal base64url string: a");
  EXPECT_EQ(error_of("io.jwt.decode", {S("e!.b.c")}),
            "io.jwt.decode: JWT header had invalid encoding: illegal base64 data at input byte 1");
  EXPECT_EQ(error_of("io.jwt.decode", {S(b64url("{") + ".e30.")}),
            "io.jwt.decode: bad JWT header: invalid JSON: unexpected EOF");
  EXPECT_EQ(error_of("io.jwt.decode", {S(b64url("[1]") + ".e30.")}),
            "io.jwt.decode: bad JWT header: decoded JSON type was not an Object");
  EXPECT_EQ(error_of("io.jwt.decode", {S(b64url("{}x") + ".e30.")}),
            "io.jwt.decode: bad JWT header: invalid JSON: invalid character 'x' looking for beginning of value");
  EXPECT_EQ(error_of("io.jwt.decode", {S("e30." + b64url("nope") + ".")}),
            "io.jwt.decode: invalid JSON: invalid character 'o' in literal null (expecting 'u')");
  EXPECT_EQ(error_of("io.jwt.decode", {S("e30.e30.a")}),
            "io.jwt.decode: JWT signature had invalid encoding: illegal base64url string: a");
  EXPECT_EQ(error_of("io.jwt.verify_hs256", {S("e30.e30.a"), S("k")}),
            "io.jwt.verify_hs256: illegal base64url string: a");
  // The signature may be empty.
  EXPECT_EQ(to_json(call("io.jwt.decode", {S("e30.e30.")})), R"([{},{},""])");
}

TEST(Tokens, KeyErrors) {
  std::string t = sign(R"({"alg":"RS256"})", "{}", rsa_key().jwk_private);
  auto err = [&](const std::string& key) { return error_of("io.jwt.verify_rs256", {S(t), S(key)}); };
  EXPECT_EQ(err(rsa_key().pem_public + "\n"), "io.jwt.verify_rs256: extra data after a PEM certificate block");
  EXPECT_EQ(err("-----BEGIN RSA PUBLIC KEY-----\nAAAA\n-----END RSA PUBLIC KEY-----\n"),
            "io.jwt.verify_rs256: failed to extract a Key from the PEM certificate");
  EXPECT_NE(
      err("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n").find("failed to parse a PEM certificate"),
      std::string::npos);
  EXPECT_NE(
      err("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n").find("failed to parse a PEM public key"),
      std::string::npos);
  EXPECT_NE(err("garbage").find("failed to parse a JWK key (set)"), std::string::npos);
  EXPECT_NE(err(R"({"kty":"RSA","n":"AQAB"})").find("failed to parse a JWK key (set)"), std::string::npos);
  EXPECT_NE(err(R"({"kty":"EC","crv":"P-256","x":"AAAA","y":"AAAA"})").find("failed to parse a JWK key (set)"),
            std::string::npos);
  EXPECT_NE(err(R"({"kty":"EC","crv":"P-999","x":"AAAA","y":"AAAA"})").find("invalid curve name"), std::string::npos);
  EXPECT_NE(err(R"({"kty":"OKP","crv":"Ed25519","x":"AAAA"})").find("failed to parse a JWK key (set)"),
            std::string::npos);
  EXPECT_NE(err(R"({"keys":{}})").find("failed to parse a JWK key (set)"), std::string::npos);
  // An empty JWKS verifies nothing.
  EXPECT_TRUE(call("io.jwt.verify_rs256", {S(t), S(R"({"keys":[]})")}).is_false());
}

TEST(Tokens, OperandTypes) {
  std::string code;
  EXPECT_EQ(error_of("io.jwt.decode", {Value::integer(1)}, &code),
            "io.jwt.decode: operand 1 must be string but got number");
  EXPECT_EQ(code, "eval_type_error");
  EXPECT_EQ(error_of("io.jwt.verify_rs256", {S("a.b.c"), Value::integer(1)}),
            "io.jwt.verify_rs256: operand 2 must be string but got number");
  EXPECT_EQ(error_of("io.jwt.verify_hs256", {Value::null(), S("k")}),
            "io.jwt.verify_hs256: operand 1 must be string but got null");
  EXPECT_EQ(error_of("io.jwt.encode_sign", {S("{}"), J("{}"), J(kOctJwk)}),
            "io.jwt.encode_sign: operand 1 must be object but got string");
  EXPECT_EQ(error_of("io.jwt.encode_sign_raw", {S("{}"), S("{}"), J("{}")}),
            "io.jwt.encode_sign_raw: operand 3 must be string but got object");
}

TEST(Tokens, HostileInputNeverCrashes) {
  std::mt19937 rng(12345);
  const std::string alphabet = "ABCabc019-_=.{}[]\":,\\ \n\x80\xff";
  std::vector<std::string> keys = {rsa_key().pem_public,    ec_key("P-256").cert_pem, ed_key().jwk_public, "{", "",
                                   std::string(100000, '{')};
  std::string valid = sign(R"({"alg":"ES256"})", R"({"a":1})", ec_key("P-256").jwk_private);
  std::vector<std::string> tokens = {
      valid,
      "",
      "..",
      std::string(50000, '.'),
      b64url(std::string(200000, '[')) + ".e30.",
      b64url(std::string(10000, '[')) + ".e30.",
      b64url("{\"alg\":\"ES256\",\"big\":\"" + std::string(1 << 20, 'x') + "\"}") + ".e30.AA"};
  for (int i = 0; i < 300; ++i) {
    std::string t = valid;
    // Random mutations: truncation, byte flips, random strings.
    switch (i % 3) {
      case 0: t = t.substr(0, rng() % t.size()); break;
      case 1: t[rng() % t.size()] = alphabet[rng() % alphabet.size()]; break;
      default: {
        t.clear();
        for (size_t n = rng() % 64; n > 0; --n) t.push_back(alphabet[rng() % alphabet.size()]);
      }
    }
    tokens.push_back(t);
  }
  const char* builtins[] = {"io.jwt.verify_es256", "io.jwt.verify_rs256", "io.jwt.verify_eddsa", "io.jwt.verify_ps512",
                            "io.jwt.verify_hs256"};
  int ok = 0, errors = 0;
  for (const std::string& t : tokens) {
    for (auto run : {std::function<Value()>([&] { return call("io.jwt.decode", {S(t)}); })}) {
      try {
        run();
        ++ok;
      } catch (const BuiltinError&) {
        ++errors;
      }
    }
    for (const char* b : builtins) {
      for (const std::string& k : keys) {
        try {
          call(b, {S(t), S(k)});
          ++ok;
        } catch (const BuiltinError&) {
          ++errors;
        }
      }
    }
    try {
      call("io.jwt.decode_verify", {S(t), Value::object({{S("cert"), S(keys[1])}})});
      ++ok;
    } catch (const BuiltinError&) {
      ++errors;
    }
  }
  EXPECT_GT(ok, 0);
  EXPECT_GT(errors, 0);
  // Hostile signing input.
  for (const std::string& junk :
       {std::string(100000, '['), std::string("{\"alg\":\"HS256\"}"), std::string("\xff\xfe")}) {
    try {
      call("io.jwt.encode_sign_raw", {S(junk), S(junk), S(junk)});
    } catch (const BuiltinError&) {
    }
  }
}

}  // namespace
