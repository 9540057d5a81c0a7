#include "kbs/jwt.h"

#include <gtest/gtest.h>

#include "kbs/encoding.h"

namespace confidant::kbs {
namespace {

using json = nlohmann::json;

Jwk MakeKey(JwsAlg alg, std::string kid) {
  Jwk jwk;
  auto key = alg == JwsAlg::kES256   ? PKey::GenerateEc(Curve::kP256)
             : alg == JwsAlg::kES384 ? PKey::GenerateEc(Curve::kP384)
                                     : PKey::GenerateRsa(2048);
  EXPECT_TRUE(key.ok()) << key.error();
  jwk.key = *key;
  jwk.kid = std::move(kid);
  return jwk;
}

Jwks PublicSet(const Jwk& k) {
  Jwks set;
  Jwk pub = k;
  pub.key = k.key.PublicOnly();
  set.keys.push_back(pub);
  return set;
}

TEST(Base64Url, RoundTripAllLengths) {
  std::string data;
  for (int i = 0; i < 70; ++i) {
    auto d = Base64UrlDecode(Base64UrlEncode(data));
    ASSERT_TRUE(d.ok()) << d.error();
    EXPECT_EQ(*d, data);
    data += static_cast<char>(i * 37 + 250);
  }
  EXPECT_EQ(Base64UrlEncode("\xfb\xff"), "-_8");
}

TEST(Base64Url, StrictDecoding) {
  EXPECT_FALSE(Base64UrlDecode("YQ==").ok());   // padding
  EXPECT_FALSE(Base64UrlDecode("Y Q").ok());    // whitespace
  EXPECT_FALSE(Base64UrlDecode("+/8").ok());    // standard alphabet
  EXPECT_FALSE(Base64UrlDecode("YWJjZ").ok());  // 4k+1 length
  EXPECT_FALSE(Base64UrlDecode("YR").ok());     // non-zero trailing bits
  EXPECT_TRUE(Base64UrlDecode("YQ").ok());
  EXPECT_EQ(*Base64UrlDecode(""), "");
  EXPECT_EQ(*Base64Decode("YWI="), "ab");
  EXPECT_FALSE(Base64Decode("YWI").ok());
  EXPECT_FALSE(Base64Decode("YW=I").ok());
}

TEST(Json, DepthAndSizeLimits) {
  EXPECT_FALSE(ParseJson(std::string(100, '[') + std::string(100, ']'), JsonLimits{1 << 20, 32}).ok());
  EXPECT_TRUE(ParseJson(R"({"a":"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["})", JsonLimits{1 << 20, 2}).ok());
  EXPECT_FALSE(ParseJson(std::string(2000, ' '), JsonLimits{1000, 32}).ok());
  EXPECT_FALSE(ParseJson("{\"a\":").ok());
}

class JwsAlgTest : public ::testing::TestWithParam<JwsAlg> {};

TEST_P(JwsAlgTest, SignVerifyAndTamper) {
  JwsAlg alg = GetParam();
  Jwk signer = MakeKey(alg, "k1");
  Jwks trusted = PublicSet(signer);
  auto jws = SignJws("hello payload", signer, alg);
  ASSERT_TRUE(jws.ok()) << jws.error();
  auto v = VerifyJws(*jws, trusted);
  ASSERT_TRUE(v.ok()) << v.error();
  EXPECT_EQ(v->payload, "hello payload");
  EXPECT_EQ(v->header["alg"], JwsAlgName(alg));
  EXPECT_EQ(v->header["kid"], "k1");

  // Flip one payload character.
  std::string tampered = *jws;
  size_t dot = tampered.find('.');
  tampered[dot + 2] = tampered[dot + 2] == 'A' ? 'B' : 'A';
  EXPECT_FALSE(VerifyJws(tampered, trusted).ok());
  // Another key with the same kid: forged.
  Jwk other = MakeKey(alg, "k1");
  auto forged = SignJws("hello payload", other, alg);
  ASSERT_TRUE(forged.ok());
  auto fv = VerifyJws(*forged, trusted);
  EXPECT_FALSE(fv.ok());
  EXPECT_NE(fv.error().find("verification failed"), std::string::npos) << fv.error();
  // Truncated signature.
  EXPECT_FALSE(VerifyJws(jws->substr(0, jws->size() - 4), trusted).ok());
}

INSTANTIATE_TEST_SUITE_P(Algs, JwsAlgTest,
                         ::testing::Values(JwsAlg::kRS256, JwsAlg::kPS256, JwsAlg::kES256, JwsAlg::kES384),
                         [](const auto& info) { return std::string(JwsAlgName(info.param)); });

TEST(Jws, RejectsNoneAndUnknownAlgs) {
  Jwk signer = MakeKey(JwsAlg::kRS256, "k");
  Jwks trusted = PublicSet(signer);
  std::string payload = Base64UrlEncode("{}");
  for (const char* alg : {"none", "HS256", "RS512", ""}) {
    std::string header = Base64UrlEncode(json{{"alg", alg}, {"kid", "k"}}.dump());
    auto r = VerifyJws(header + "." + payload + ".", trusted);
    EXPECT_FALSE(r.ok()) << alg;
  }
  // Algorithm confusion: an RS256 key cannot verify an ES256 header.
  std::string header = Base64UrlEncode(json{{"alg", "ES256"}, {"kid", "k"}}.dump());
  auto sig = SignBytes(header + "." + payload, signer.key, JwsAlg::kRS256);
  ASSERT_TRUE(sig.ok());
  EXPECT_FALSE(VerifyJws(header + "." + payload + "." + Base64UrlEncode(*sig), trusted).ok());
}

TEST(Jws, RejectsMalformedCompactForms) {
  Jwk signer = MakeKey(JwsAlg::kES256, "k");
  Jwks trusted = PublicSet(signer);
  for (const char* bad : {"", ".", "..", "a.b", "a.b.c.d.e", "e30.e30.", "!!.e30.AA", "eyJhbGciOiJFUzI1NiJ9.e30=.AA"}) {
    EXPECT_FALSE(VerifyJws(bad, trusted).ok()) << bad;
  }
  JwsVerifyOptions small;
  small.max_bytes = 10;
  auto jws = SignJws("x", signer, JwsAlg::kES256);
  ASSERT_TRUE(jws.ok());
  auto r = VerifyJws(*jws, trusted, small);
  EXPECT_FALSE(r.ok());
  EXPECT_NE(r.error().find("exceeds"), std::string::npos);
  // crit header is refused.
  auto crit = SignJws("x", signer, JwsAlg::kES256, json{{"crit", json::array({"b64"})}, {"b64", false}});
  ASSERT_TRUE(crit.ok());
  EXPECT_FALSE(VerifyJws(*crit, trusted).ok());
}

TEST(Jws, KeySelectionByKid) {
  Jwk a = MakeKey(JwsAlg::kES256, "a");
  Jwk b = MakeKey(JwsAlg::kES256, "b");
  Jwks trusted = PublicSet(a);
  trusted.keys.push_back(PublicSet(b).keys[0]);
  auto jws = SignJws("p", b, JwsAlg::kES256);
  ASSERT_TRUE(jws.ok());
  auto v = VerifyJws(*jws, trusted);
  ASSERT_TRUE(v.ok()) << v.error();
  EXPECT_EQ(v->key->kid, "b");
  // Unknown kid.
  Jwk c = MakeKey(JwsAlg::kES256, "c");
  auto r = VerifyJws(*SignJws("p", c, JwsAlg::kES256), trusted);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().find("no trusted key with kid \"c\""), std::string::npos) << r.error();
  // No kid: every suitable key is tried.
  Jwk nokid = b;
  nokid.kid.clear();
  EXPECT_TRUE(VerifyJws(*SignJws("p", nokid, JwsAlg::kES256), trusted).ok());
}

TEST(Jwk, RoundTripPublicAndPrivate) {
  for (JwsAlg alg : {JwsAlg::kRS256, JwsAlg::kES256, JwsAlg::kES384}) {
    Jwk k = MakeKey(alg, "kid-1");
    k.key_ops = {"sign", "verify"};
    auto pub = JwkToJson(k, false);
    ASSERT_TRUE(pub.ok()) << pub.error();
    EXPECT_FALSE(pub->contains("d"));
    auto back = ParseJwk(*pub);
    ASSERT_TRUE(back.ok()) << back.error();
    EXPECT_TRUE(back->key.SamePublicKey(k.key));
    EXPECT_FALSE(back->key.has_private());
    EXPECT_EQ(back->kid, "kid-1");
    EXPECT_TRUE(back->HasKeyOp("verify"));

    auto priv = JwkToJson(k, true);
    ASSERT_TRUE(priv.ok());
    EXPECT_TRUE(priv->contains("d"));
    auto pk = ParseJwk(*priv);
    ASSERT_TRUE(pk.ok()) << pk.error();
    ASSERT_TRUE(pk->key.has_private());
    EXPECT_EQ(*pk->key.Pkcs8Der(), *k.key.Pkcs8Der());
  }
}

TEST(Jwk, RejectsBadKeys) {
  EXPECT_FALSE(ParseJwk(json::array()).ok());
  EXPECT_FALSE(ParseJwk(json{{"kty", "oct"}, {"k", "AAAA"}}).ok());
  EXPECT_FALSE(ParseJwk(json{{"kty", "RSA"}, {"e", "AQAB"}}).ok());
  EXPECT_FALSE(ParseJwk(json{{"kty", "RSA"}, {"n", "AQAB"}, {"e", "AQAB"}}).ok());  // tiny modulus
  EXPECT_FALSE(ParseJwk(json{{"kty", "RSA"}, {"n", 5}, {"e", "AQAB"}}).ok());
  Jwk ec = MakeKey(JwsAlg::kES256, "");
  json j = *JwkToJson(ec);
  json off = j;
  std::string y = *Base64UrlDecode(j["y"].get<std::string>());
  y[31] ^= 1;  // point no longer on the curve
  off["y"] = Base64UrlEncode(y);
  auto r = ParseJwk(off);
  EXPECT_FALSE(r.ok());
  json wrong_curve = j;
  wrong_curve["crv"] = "P-521";
  EXPECT_FALSE(ParseJwk(wrong_curve).ok());
  json short_x = j;
  short_x["x"] = Base64UrlEncode("short");
  EXPECT_FALSE(ParseJwk(short_x).ok());
}

TEST(Jwks, ParseSerializeAndSkipUnknownKty) {
  Jwk a = MakeKey(JwsAlg::kRS256, "a");
  Jwk b = MakeKey(JwsAlg::kES384, "b");
  Jwks set;
  set.keys = {PublicSet(a).keys[0], PublicSet(b).keys[0]};
  auto text = SerializeJwks(set);
  ASSERT_TRUE(text.ok());
  json j = json::parse(*text);
  j["keys"].push_back(json{{"kty", "oct"}, {"k", "AAAA"}});
  j["keys"].push_back(json{{"kty", "OKP"}, {"crv", "Ed25519"}, {"x", "AAAA"}});
  auto parsed = ParseJwks(j.dump());
  ASSERT_TRUE(parsed.ok()) << parsed.error();
  ASSERT_EQ(parsed->keys.size(), 2u);
  EXPECT_TRUE(parsed->keys[0].key.SamePublicKey(a.key));
  EXPECT_TRUE(parsed->keys[1].key.SamePublicKey(b.key));
  EXPECT_FALSE(ParseJwks("{}").ok());
  EXPECT_FALSE(ParseJwks(R"({"keys": {}})").ok());
  JwksLimits lim;
  lim.max_keys = 1;
  EXPECT_FALSE(ParseJwks(*text, lim).ok());
}

TEST(Jwt, TimeClaimsWithSkew) {
  Jwk signer = MakeKey(JwsAlg::kRS256, "t");
  Jwks trusted = PublicSet(signer);
  const int64_t now = 1'700'000'000;
  JwtVerifyOptions opt;
  opt.now = now;
  opt.clock_skew_seconds = 30;
  auto sign = [&](json claims) { return *SignJwt(claims, signer, JwsAlg::kRS256); };

  EXPECT_TRUE(VerifyJwt(sign({{"exp", now + 10}, {"nbf", now}, {"iat", now}}), trusted, opt).ok());
  EXPECT_TRUE(VerifyJwt(sign({{"exp", now - 20}}), trusted, opt).ok());  // within skew
  auto expired = VerifyJwt(sign({{"exp", now - 31}}), trusted, opt);
  ASSERT_FALSE(expired.ok());
  EXPECT_NE(expired.error().find("expired"), std::string::npos);
  EXPECT_TRUE(VerifyJwt(sign({{"exp", now + 100}, {"nbf", now + 30}}), trusted, opt).ok());
  EXPECT_FALSE(VerifyJwt(sign({{"exp", now + 100}, {"nbf", now + 31}}), trusted, opt).ok());
  EXPECT_FALSE(VerifyJwt(sign({{"exp", now + 100}, {"iat", now + 31}}), trusted, opt).ok());
  EXPECT_FALSE(VerifyJwt(sign({{"exp", "tomorrow"}}), trusted, opt).ok());
  auto noexp = VerifyJwt(sign({{"iss", "x"}}), trusted, opt);
  ASSERT_FALSE(noexp.ok());
  EXPECT_NE(noexp.error().find("no \"exp\""), std::string::npos);
  opt.require_exp = false;
  EXPECT_TRUE(VerifyJwt(sign({{"iss", "x"}}), trusted, opt).ok());
  opt.expected_issuer = "y";
  EXPECT_FALSE(VerifyJwt(sign({{"iss", "x"}}), trusted, opt).ok());
  opt.expected_issuer = "x";
  EXPECT_TRUE(VerifyJwt(sign({{"iss", "x"}}), trusted, opt).ok());
  // Claims must be an object.
  auto arr = SignJws("[1,2]", signer, JwsAlg::kRS256);
  EXPECT_FALSE(VerifyJwt(*arr, trusted, opt).ok());
}

TEST(Jwt, ThumbprintMatchesRfc7638Example) {
  // RFC 7638 section 3.1 example key.
  json k = {
      {"kty", "RSA"},
      {"n",
       "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_"
       "BJECPebWKRXjBZCiFV4n3oknjh"
       "Mstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQ"
       "vRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJz"
       "KnqDKgw"},
      {"e", "AQAB"}};
  auto jwk = ParseJwk(k);
  ASSERT_TRUE(jwk.ok()) << jwk.error();
  EXPECT_EQ(*JwkThumbprint(jwk->key), "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
}

}  // namespace
}  // namespace confidant::kbs
