#include "kbs/key_wrap.h"

#include <gtest/gtest.h>

#include "kbs/encoding.h"
#include "kbs/key_material.h"
#include "kbs/release.h"

namespace confidant::kbs {
namespace {

using json = nlohmann::json;
using namespace std::string_view_literals;

std::string Unhex(std::string_view hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2)
    out += static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16));
  return out;
}

TEST(AesKeyWrapPad, Rfc5649Vectors) {
  std::string kek = Unhex("5840df6e29b02af1ab493b705bf16ea1ae8338f4dcc176a8");
  std::string k20 = Unhex("c37b7e6492584340bed12207808941155068f738");
  auto w20 = AesKeyWrapPad(kek, k20);
  ASSERT_TRUE(w20.ok()) << w20.error();
  EXPECT_EQ(HexEncode(*w20), "138bdeaa9b8fa7fc61f97742e72248ee5ae6ae5360d1ae6a5f54f373fa543b6a");
  EXPECT_EQ(*AesKeyUnwrapPad(kek, *w20), k20);
  std::string k7 = Unhex("466f7250617369");
  auto w7 = AesKeyWrapPad(kek, k7);
  ASSERT_TRUE(w7.ok()) << w7.error();
  EXPECT_EQ(HexEncode(*w7), "afbeb0f07dfbf5419200f2ccb50bb24f");
  EXPECT_EQ(*AesKeyUnwrapPad(kek, *w7), k7);
}

TEST(AesKeyWrapPad, RejectsTamperingAndBadSizes) {
  std::string kek(32, 'k');
  auto w = AesKeyWrapPad(kek, "some key material");
  ASSERT_TRUE(w.ok());
  std::string bad = *w;
  bad[5] ^= 1;
  EXPECT_FALSE(AesKeyUnwrapPad(kek, bad).ok());
  EXPECT_FALSE(AesKeyUnwrapPad(std::string(32, 'x'), *w).ok());
  EXPECT_FALSE(AesKeyUnwrapPad(kek, w->substr(0, 12)).ok());
  EXPECT_FALSE(AesKeyUnwrapPad(kek, w->substr(0, w->size() - 1)).ok());
  EXPECT_FALSE(AesKeyWrapPad(std::string(20, 'k'), "x").ok());
  EXPECT_FALSE(AesKeyWrapPad(kek, "").ok());
}

TEST(RsaAesWrap, ModulusLengthIsNotHardCoded) {
  for (int bits : {2048, 3072}) {
    auto runtime = PKey::GenerateRsa(bits);
    ASSERT_TRUE(runtime.ok());
    auto ct = RsaAesWrap(runtime->PublicOnly(), "material", WrapAlg::kRsaAesKeyWrap256);
    ASSERT_TRUE(ct.ok()) << ct.error();
    EXPECT_EQ(ct->size(), static_cast<size_t>(bits / 8) + 16);
    EXPECT_EQ(*RsaAesUnwrap(*runtime, *ct, WrapAlg::kRsaAesKeyWrap256), "material");
  }
}

TEST(RsaAesWrap, WrongEncOrKeyFails) {
  auto runtime = PKey::GenerateRsa(2048);
  auto other = PKey::GenerateRsa(2048);
  ASSERT_TRUE(runtime.ok() && other.ok());
  auto ct = RsaAesWrap(runtime->PublicOnly(), "material", WrapAlg::kRsaAesKeyWrap);
  ASSERT_TRUE(ct.ok());
  EXPECT_FALSE(RsaAesUnwrap(*runtime, *ct, WrapAlg::kRsaAesKeyWrap256).ok());
  EXPECT_FALSE(RsaAesUnwrap(*other, *ct, WrapAlg::kRsaAesKeyWrap).ok());
  EXPECT_FALSE(RsaAesUnwrap(runtime->PublicOnly(), *ct, WrapAlg::kRsaAesKeyWrap).ok());
  EXPECT_FALSE(RsaAesUnwrap(*runtime, ct->substr(0, 100), WrapAlg::kRsaAesKeyWrap).ok());
  auto ec = PKey::GenerateEc(Curve::kP256);
  EXPECT_FALSE(RsaAesWrap(*ec, "m", WrapAlg::kRsaAesKeyWrap).ok());
}

TEST(Aead, SealOpenWithAad) {
  std::string key(32, 'm');
  auto sealed = AeadSeal(key, "secret", "key\0v1"sv);
  ASSERT_TRUE(sealed.ok());
  EXPECT_EQ(*AeadOpen(key, *sealed, "key\0v1"sv), "secret");
  EXPECT_FALSE(AeadOpen(key, *sealed, "key\0v2"sv).ok());
  EXPECT_FALSE(AeadOpen(std::string(32, 'n'), *sealed, "key\0v1"sv).ok());
  std::string bad = *sealed;
  bad[14] ^= 1;
  EXPECT_FALSE(AeadOpen(key, bad, "key\0v1"sv).ok());
  EXPECT_FALSE(AeadOpen(key, "short", "").ok());
}

struct KeyCase {
  const char* name;
  json spec;
};

class ReleaseRoundTrip : public ::testing::TestWithParam<KeyCase> {};

// Every key type and every enc: generate, wrap into a signed release
// response, verify and unwrap as the SKR sidecar would, and compare.
TEST_P(ReleaseRoundTrip, WrapSignVerifyUnwrap) {
  static const PKey runtime = *PKey::GenerateRsa(2048);
  static const Jwk signer = [] {
    Jwk s;
    s.key = *PKey::GenerateRsa(2048);
    s.kid = "kbs-signing";
    s.x5c = {Base64Encode(*SelfSignedCertificateDer(s.key, "test kbs", 1))};
    return s;
  }();
  auto spec = ParseKeySpec(GetParam().spec);
  ASSERT_TRUE(spec.ok()) << spec.error();
  auto material = GenerateKey(*spec);
  ASSERT_TRUE(material.ok()) << material.error();
  Jwk runtime_jwk;
  runtime_jwk.key = runtime.PublicOnly();
  runtime_jwk.kid = "runtime-1";
  runtime_jwk.key_ops = {"encrypt"};
  for (WrapAlg enc : {WrapAlg::kRsaAesKeyWrap, WrapAlg::kRsaAesKeyWrap256, WrapAlg::kRsaAesKeyWrap384}) {
    ReleasedKey rk{"https://kbs.test/keys/k/v1", *material, 1700000000, R"({"version":"1.0.0"})", enc};
    auto jws = BuildReleaseJws(rk, runtime_jwk, signer);
    ASSERT_TRUE(jws.ok()) << jws.error();
    std::string body = json{{"value", *jws}}.dump();
    auto unwrapped = UnwrapReleaseResponse(body, runtime);
    ASSERT_TRUE(unwrapped.ok()) << unwrapped.error();
    EXPECT_EQ(unwrapped->material, material->secret) << WrapAlgName(enc);
    EXPECT_EQ(unwrapped->kind, spec->kind);
    EXPECT_EQ(unwrapped->kid, "https://kbs.test/keys/k/v1");
    EXPECT_FALSE(unwrapped->key_ops.empty());
    if (spec->kind == KeyKind::kOct) {
      EXPECT_EQ(*Base64UrlDecode(unwrapped->jwk["k"].get<std::string>()), material->secret);
    } else {
      auto jwk = ParseJwk(unwrapped->jwk);
      ASSERT_TRUE(jwk.ok()) << jwk.error();
      EXPECT_EQ(*jwk->key.Pkcs8Der(), material->secret);
    }
    // Pinned signer works; a different pinned signer is refused.
    Jwks pinned;
    Jwk pub = signer;
    pub.key = signer.key.PublicOnly();
    pinned.keys.push_back(pub);
    EXPECT_TRUE(UnwrapReleaseResponse(*jws, runtime, &pinned).ok());
    Jwks wrong;
    Jwk other;
    other.key = PKey::GenerateEc(Curve::kP256)->PublicOnly();
    other.kid = "kbs-signing";
    wrong.keys.push_back(other);
    EXPECT_FALSE(UnwrapReleaseResponse(*jws, runtime, &wrong).ok());
  }
}

INSTANTIATE_TEST_SUITE_P(KeyTypes, ReleaseRoundTrip,
                         ::testing::Values(KeyCase{"rsa2048", {{"kty", "RSA"}, {"key_size", 2048}}},
                                           KeyCase{"rsa3072", {{"kty", "RSA-HSM"}, {"key_size", 3072}}},
                                           KeyCase{"rsa4096", {{"kty", "RSA"}, {"key_size", 4096}}},
                                           KeyCase{"p256", {{"kty", "EC"}, {"crv", "P-256"}}},
                                           KeyCase{"p384", {{"kty", "EC-HSM"}, {"curve", "P-384"}}},
                                           KeyCase{"aes128", {{"kty", "oct-HSM"}, {"key_size", 128}}},
                                           KeyCase{"aes192", {{"kty", "oct"}, {"key_size", 192}}},
                                           KeyCase{"aes256", {{"kty", "oct-HSM"}}}),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(KeySpec, Validation) {
  EXPECT_FALSE(ParseKeySpec(json{{"kty", "RSA"}, {"key_size", 1024}}).ok());
  EXPECT_FALSE(ParseKeySpec(json{{"kty", "EC"}, {"crv", "P-521"}}).ok());
  EXPECT_FALSE(ParseKeySpec(json{{"kty", "EC"}, {"crv", "P-256"}, {"key_size", 384}}).ok());
  EXPECT_FALSE(ParseKeySpec(json{{"kty", "oct"}, {"key_size", 512}}).ok());
  EXPECT_FALSE(ParseKeySpec(json{{"kty", "OKP"}}).ok());
  EXPECT_FALSE(ParseKeySpec(json{{"kty", "RSA"}, {"exportable", "yes"}}).ok());
  EXPECT_FALSE(ParseKeySpec(json{{"kty", "RSA"}, {"key_size", "2048"}}).ok());
  EXPECT_FALSE(ParseKeySpec(json{{"kty", "RSA"}, {"key_size", -5}}).ok());
  EXPECT_FALSE(ParseKeySpec(json::array()).ok());
  auto ok = ParseKeySpec(json{{"kty", "EC"}, {"exportable", true}});
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->curve, Curve::kP256);
  EXPECT_TRUE(ok->exportable);
}

TEST(RuntimeKey, Selection) {
  auto rsa = PKey::GenerateRsa(2048);
  Jwk a;
  a.key = rsa->PublicOnly();
  a.kid = "a";
  a.key_ops = {"sign"};
  Jwk b = a;
  b.kid = "b";
  b.key_ops = {"encrypt"};
  json keys = json::array({*JwkToJson(a), *JwkToJson(b)});
  json claims = {{"x-ms-runtime", {{"keys", keys}}}};
  auto first = SelectRuntimeKey(claims);
  ASSERT_TRUE(first.ok()) << first.error();
  EXPECT_EQ(first->kid, "b");
  EXPECT_TRUE(SelectRuntimeKey(claims, "b").ok());
  EXPECT_FALSE(SelectRuntimeKey(claims, "a").ok());  // not for encryption
  EXPECT_FALSE(SelectRuntimeKey(claims, "zzz").ok());
  EXPECT_FALSE(SelectRuntimeKey(json::object()).ok());
  EXPECT_FALSE(SelectRuntimeKey(json{{"x-ms-runtime", {{"keys", json::array()}}}}).ok());
  EXPECT_FALSE(SelectRuntimeKey(json{{"x-ms-runtime", "x"}}).ok());
  Jwk ec;
  ec.key = PKey::GenerateEc(Curve::kP256)->PublicOnly();
  ec.key_ops = {"encrypt"};
  EXPECT_FALSE(SelectRuntimeKey(json{{"x-ms-runtime", {{"keys", json::array({*JwkToJson(ec)})}}}}).ok());
}

}  // namespace
}  // namespace confidant::kbs
