#include "kbs/server.h"

#include <gtest/gtest.h>

#include "kbs/release.h"
#include "kbs_test_support.h"

namespace confidant::kbs {
namespace {

using namespace confidant::kbs::testing;

class KbsServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // A second authority serves its JWKS over HTTP, as MAA does at /certs.
    http_authority_server_.Get("/certs", [this](const httplib::Request&, httplib::Response& res) {
      ++certs_fetches_;
      res.set_content(http_authority_->JwksText(), "application/json");
    });
    int aport = http_authority_server_.bind_to_any_port("127.0.0.1");
    ASSERT_GT(aport, 0);
    http_authority_ = std::make_unique<Authority>("http://127.0.0.1:" + std::to_string(aport), "http-key", 1);
    authority_thread_ = std::thread([this] { http_authority_server_.listen_after_bind(); });

    BrokerOptions opt;
    opt.db_path = dir_ / "kbs.db";
    opt.master_key_path = dir_ / "master.key";
    opt.admin_token = kAdminToken;
    opt.authorities = {*ParseTrustedAuthority(std::string(kAuthority) + "=" + maa_.WriteJwks(dir_ / "maa.jwks")),
                       *ParseTrustedAuthority(http_authority_->url)};
    auto broker = KeyBroker::Create(opt);
    ASSERT_TRUE(broker.ok()) << broker.error();
    broker_ = std::move(*broker);
    server_ = std::make_unique<KbsServer>(*broker_, opt.max_body_bytes);
    auto port = server_->Start("127.0.0.1", 0);
    ASSERT_TRUE(port.ok()) << port.error();
    broker_->set_public_base_url("http://127.0.0.1:" + std::to_string(*port));
    client_ = std::make_unique<httplib::Client>("127.0.0.1", *port);
  }
  void TearDown() override {
    client_.reset();
    server_.reset();
    http_authority_server_.stop();
    if (authority_thread_.joinable()) authority_thread_.join();
  }

  json CreateKey(const std::string& name, json spec, int expected_status = 200) {
    auto res = client_->Put(("/keys/" + name + "/create").c_str(), Admin(), spec.dump(), "application/json");
    EXPECT_TRUE(res) << "no response";
    if (!res) return json();
    EXPECT_EQ(res->status, expected_status) << res->body;
    return json::parse(res->body, nullptr, false);
  }

  httplib::Result Release(const std::string& name, const std::string& token, json extra = json::object()) {
    extra["target"] = token;
    return client_->Post(("/keys/" + name + "/release").c_str(), extra.dump(), "application/json");
  }

  std::string ErrorOf(const httplib::Result& res) {
    json j = json::parse(res->body, nullptr, false);
    return j.is_object() && j.contains("error") ? j["error"].get<std::string>()
                                                : "<no error member: " + res->body + ">";
  }

  TempDir dir_;
  Authority maa_{kAuthority};
  std::unique_ptr<Authority> http_authority_;
  httplib::Server http_authority_server_;
  std::thread authority_thread_;
  std::atomic<int> certs_fetches_{0};
  RuntimeKey runtime_;
  std::unique_ptr<KeyBroker> broker_;
  std::unique_ptr<KbsServer> server_;
  std::unique_ptr<httplib::Client> client_;
};

TEST_F(KbsServerTest, AdminTokenRequired) {
  json spec = {{"kty", "oct-HSM"}, {"exportable", true}, {"release_policy", AciPolicy()}};
  auto res = client_->Put("/keys/k/create", spec.dump(), "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 401);
  EXPECT_EQ(ErrorOf(res), "admin bearer token required");
  res = client_->Put("/keys/k/create", {{"Authorization", "Bearer wrong-token-wrong-token"}}, spec.dump(),
                     "application/json");
  EXPECT_EQ(res->status, 401);
  res = client_->Put("/keys/k/policy", AciPolicy().dump(), "application/json");
  EXPECT_EQ(res->status, 401);
  res = client_->Get("/audit");
  EXPECT_EQ(res->status, 401);
  EXPECT_EQ(client_->Get("/keys/k")->status, 404);
}

TEST_F(KbsServerTest, ReleaseAllowedAndUnwrapsToThePublishedKey) {
  for (json spec : {json{{"kty", "RSA-HSM"}, {"key_size", 2048}}, json{{"kty", "EC"}, {"crv", "P-384"}},
                    json{{"kty", "oct-HSM"}, {"key_size", 256}}}) {
    std::string name = "key-" + spec["kty"].get<std::string>();
    spec["exportable"] = true;
    spec["release_policy"] = AciPolicy();
    json created = CreateKey(name, spec);
    ASSERT_TRUE(created.contains("key")) << created.dump();
    auto res = Release(name, maa_.Sign(MaaClaims(kAuthority, runtime_)));
    ASSERT_TRUE(res);
    ASSERT_EQ(res->status, 200) << res->body;
    // The client pins the KBS signing key published at /certs.
    auto certs = ParseJwks(client_->Get("/certs")->body);
    ASSERT_TRUE(certs.ok()) << certs.error();
    auto key = UnwrapReleaseResponse(res->body, runtime_.key, &*certs);
    ASSERT_TRUE(key.ok()) << key.error();
    EXPECT_EQ(key->kid, created["key"]["kid"]);
    if (key->kind != KeyKind::kOct) {
      auto priv = PKey::FromPkcs8Der(key->material);
      ASSERT_TRUE(priv.ok());
      json pub = created["key"];
      pub["kty"] = key->kind == KeyKind::kRsa ? "RSA" : "EC";
      pub.erase("key_ops");
      auto published = ParseJwk(pub);
      ASSERT_TRUE(published.ok()) << published.error();
      EXPECT_TRUE(published->key.SamePublicKey(*priv));
    } else {
      EXPECT_EQ(key->material.size(), 32u);
    }
  }
  // Audit holds the releases.
  auto audit = client_->Get("/audit?limit=5", Admin());
  ASSERT_EQ(audit->status, 200);
  EXPECT_NE(audit->body.find("\"outcome\":\"released\""), std::string::npos);
}

TEST_F(KbsServerTest, RefusedForMismatchingClaims) {
  CreateKey("k", {{"kty", "oct"}, {"exportable", true}, {"release_policy", AciPolicy()}});
  json claims = MaaClaims(kAuthority, runtime_);
  claims["x-ms-sevsnpvm-hostdata"] = std::string(64, 'f');
  auto res = Release("k", maa_.Sign(claims));
  ASSERT_EQ(res->status, 403);
  EXPECT_NE(ErrorOf(res).find("x-ms-sevsnpvm-hostdata"), std::string::npos) << ErrorOf(res);
  claims = MaaClaims(kAuthority, runtime_);
  claims["x-ms-sevsnpvm-is-debuggable"] = true;
  EXPECT_EQ(Release("k", maa_.Sign(claims))->status, 403);
  claims["x-ms-sevsnpvm-is-debuggable"] = "false";  // wrong type
  EXPECT_EQ(Release("k", maa_.Sign(claims))->status, 403);
  auto audit = broker_->store().RecentAudit(1);
  ASSERT_TRUE(audit.ok() && !audit->empty());
  EXPECT_EQ((*audit)[0].outcome, "refused");
  EXPECT_EQ((*audit)[0].issuer, kAuthority);
  EXPECT_NE((*audit)[0].reason.find("x-ms-sevsnpvm-is-debuggable"), std::string::npos);
}

TEST_F(KbsServerTest, RefusedForForgedSignature) {
  CreateKey("k", {{"kty", "oct"}, {"exportable", true}, {"release_policy", AciPolicy()}});
  Authority forger(kAuthority, "maa-signing-1", 2);  // same kid, different key
  auto res = Release("k", forger.Sign(MaaClaims(kAuthority, runtime_)));
  ASSERT_EQ(res->status, 403);
  EXPECT_NE(ErrorOf(res).find("verification failed"), std::string::npos) << ErrorOf(res);
  // Tampered payload of a genuine token.
  std::string token = maa_.Sign(MaaClaims(kAuthority, runtime_));
  size_t dot = token.find('.');
  std::string claims = *Base64UrlDecode(token.substr(dot + 1, token.rfind('.') - dot - 1));
  claims.replace(claims.find(kHostData), 1, "0");
  std::string tampered = token.substr(0, dot + 1) + Base64UrlEncode(claims) + token.substr(token.rfind('.'));
  EXPECT_EQ(Release("k", tampered)->status, 403);
  // alg none.
  std::string none =
      Base64UrlEncode(R"({"alg":"none"})") + "." + Base64UrlEncode(MaaClaims(kAuthority, runtime_).dump()) + ".";
  EXPECT_EQ(Release("k", none)->status, 403);
}

TEST_F(KbsServerTest, RefusedForExpiredToken) {
  CreateKey("k", {{"kty", "oct"}, {"exportable", true}, {"release_policy", AciPolicy()}});
  json claims = MaaClaims(kAuthority, runtime_);
  claims["exp"] = NowSeconds() - 3600;
  auto res = Release("k", maa_.Sign(claims));
  ASSERT_EQ(res->status, 403);
  EXPECT_NE(ErrorOf(res).find("expired"), std::string::npos) << ErrorOf(res);
  claims = MaaClaims(kAuthority, runtime_);
  claims["nbf"] = NowSeconds() + 3600;
  EXPECT_EQ(Release("k", maa_.Sign(claims))->status, 403);
}

TEST_F(KbsServerTest, RefusedForWrongAuthority) {
  CreateKey("k", {{"kty", "oct"}, {"exportable", true}, {"release_policy", AciPolicy()}});
  // An issuer nobody trusts.
  Authority stranger("https://evil.example", "maa-signing-1", 3);
  auto res = Release("k", stranger.Sign(MaaClaims("https://evil.example", runtime_)));
  ASSERT_EQ(res->status, 403);
  EXPECT_NE(ErrorOf(res).find("not a trusted authority"), std::string::npos) << ErrorOf(res);
  // A trusted authority's key cannot vouch for another issuer.
  res = Release("k", maa_.Sign(MaaClaims(http_authority_->url, runtime_)));
  EXPECT_EQ(res->status, 403);
  // A trusted authority (fetched over HTTP) that the key's policy does not name.
  res = Release("k", http_authority_->Sign(MaaClaims(http_authority_->url, runtime_)));
  ASSERT_EQ(res->status, 403);
  EXPECT_NE(ErrorOf(res).find("not an authority of the policy"), std::string::npos) << ErrorOf(res);
  EXPECT_GE(certs_fetches_.load(), 1);
}

TEST_F(KbsServerTest, HttpAuthorityKeysAreFetchedAndCached) {
  CreateKey("k", {{"kty", "oct"}, {"exportable", true}, {"release_policy", AciPolicy(http_authority_->url)}});
  for (int i = 0; i < 3; ++i) {
    auto res = Release("k", http_authority_->Sign(MaaClaims(http_authority_->url, runtime_)));
    ASSERT_EQ(res->status, 200) << res->body;
  }
  EXPECT_EQ(certs_fetches_.load(), 1);
}

TEST_F(KbsServerTest, RefusedWithoutRuntimeKey) {
  CreateKey("k", {{"kty", "oct"}, {"exportable", true}, {"release_policy", AciPolicy()}});
  json claims = MaaClaims(kAuthority, runtime_);
  claims.erase("x-ms-runtime");
  auto res = Release("k", maa_.Sign(claims));
  ASSERT_EQ(res->status, 403);
  EXPECT_NE(ErrorOf(res).find("x-ms-runtime"), std::string::npos) << ErrorOf(res);
  claims["x-ms-runtime"] = {{"keys", json::array()}};
  EXPECT_EQ(Release("k", maa_.Sign(claims))->status, 403);
  // Naming a runtime key that is not there.
  EXPECT_EQ(Release("k", maa_.Sign(MaaClaims(kAuthority, runtime_)), json{{"kid", "other"}})->status, 403);
  EXPECT_EQ(Release("k", maa_.Sign(MaaClaims(kAuthority, runtime_)), json{{"kid", "runtime-1"}})->status, 200);
}

TEST_F(KbsServerTest, RefusedForNonExportableKey) {
  CreateKey("k", {{"kty", "RSA"}, {"exportable", false}, {"release_policy", AciPolicy()}});
  auto res = Release("k", maa_.Sign(MaaClaims(kAuthority, runtime_)));
  ASSERT_EQ(res->status, 403);
  EXPECT_EQ(ErrorOf(res), "key is not exportable");
  // Exportable keys need a policy.
  json r = CreateKey("e", {{"kty", "oct"}, {"exportable", true}}, 400);
  EXPECT_NE(r["error"].get<std::string>().find("release_policy"), std::string::npos);
  EXPECT_EQ(Release("absent", maa_.Sign(MaaClaims(kAuthority, runtime_)))->status, 404);
}

TEST_F(KbsServerTest, VersionsAndPolicyUpdates) {
  json v1 = CreateKey("k", {{"kty", "oct"}, {"exportable", true}, {"release_policy", AciPolicy()}});
  json v2 = CreateKey("k", {{"kty", "oct"}, {"exportable", true}});
  std::string ver1 = v1["attributes"]["version"], ver2 = v2["attributes"]["version"];
  ASSERT_NE(ver1, ver2);
  EXPECT_EQ(json::parse(client_->Get("/keys/k")->body)["attributes"]["version"], ver2);
  EXPECT_EQ(json::parse(client_->Get(("/keys/k/" + ver1).c_str())->body)["attributes"]["version"], ver1);
  std::string token = maa_.Sign(MaaClaims(kAuthority, runtime_));
  auto latest = UnwrapReleaseResponse(Release("k", token)->body, runtime_.key);
  auto first = UnwrapReleaseResponse(
      client_->Post(("/keys/k/" + ver1 + "/release").c_str(), json{{"target", token}}.dump(), "application/json")->body,
      runtime_.key);
  ASSERT_TRUE(latest.ok()) << latest.error();
  ASSERT_TRUE(first.ok()) << first.error();
  EXPECT_NE(latest->material, first->material);
  EXPECT_NE(latest->kid.find(ver2), std::string::npos);
  // Replace the policy with one demanding another HOST_DATA: now refused.
  auto res =
      client_->Put("/keys/k/policy", Admin(), AciPolicy(kAuthority, std::string(64, 'a')).dump(), "application/json");
  ASSERT_EQ(res->status, 200) << res->body;
  EXPECT_EQ(Release("k", token)->status, 403);
  // A malformed policy is rejected and leaves the old one.
  res = client_->Put("/keys/k/policy", Admin(), R"({"version": "1.0.0", "anyOf": [{"authority": "x"}]})",
                     "application/json");
  EXPECT_EQ(res->status, 400);
  EXPECT_NE(ErrorOf(res).find("missing \"anyOf\" or \"allOf\""), std::string::npos) << ErrorOf(res);
  EXPECT_EQ(client_->Put("/keys/absent/policy", Admin(), AciPolicy().dump(), "application/json")->status, 404);
  // Key Vault import form of the policy.
  json akv = {{"contentType", "application/json; charset=utf-8"}, {"data", Base64UrlEncode(AciPolicy().dump())}};
  EXPECT_EQ(client_->Put("/keys/k/policy", Admin(), json{{"release_policy", akv}}.dump(), "application/json")->status,
            200);
  EXPECT_EQ(Release("k", token)->status, 200);
  // RSA_AES_KEY_WRAP_256 on request.
  auto r256 = Release("k", token, json{{"enc", "RSA_AES_KEY_WRAP_256"}});
  ASSERT_EQ(r256->status, 200);
  EXPECT_TRUE(UnwrapReleaseResponse(r256->body, runtime_.key).ok());
  EXPECT_EQ(Release("k", token, json{{"enc", "A256KW"}})->status, 400);
}

TEST_F(KbsServerTest, HostileBodiesNeverCrash) {
  CreateKey("k", {{"kty", "oct"}, {"exportable", true}, {"release_policy", AciPolicy()}});
  const std::string bodies[] = {"",
                                "null",
                                "[]",
                                "{\"target\": 5}",
                                "{\"target\": \"\"}",
                                "{\"target\": \"a.b.c\"}",
                                "{\"target\": \"....\"}",
                                std::string(10000, '['),
                                "{\"target\": \"" + std::string(60000, 'A') + "\"}",
                                "\xff\xfe\xfd",
                                "{\"target\": \"eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOjV9.AAAA\"}"};
  for (const auto& body : bodies) {
    auto res = client_->Post("/keys/k/release", body, "application/json");
    ASSERT_TRUE(res) << "server died on: " << body.substr(0, 40);
    EXPECT_TRUE(res->status == 400 || res->status == 403) << res->status << " " << body.substr(0, 40);
    EXPECT_TRUE(json::parse(res->body, nullptr, false).contains("error")) << res->body;
  }
  auto big = client_->Post("/keys/k/release", std::string(200 * 1024, 'x'), "application/json");
  ASSERT_TRUE(big);
  EXPECT_EQ(big->status, 413);
  for (const char* spec : {"", "{}", "{\"kty\": 5}", "{\"kty\": \"RSA\", \"key_size\": 1e300}", "[1,2]",
                           "{\"kty\":\"oct\",\"exportable\":true,\"release_policy\":\"{not json\"}"}) {
    auto res = client_->Put("/keys/x/create", Admin(), spec, "application/json");
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 400) << spec << " " << res->body;
  }
  EXPECT_EQ(client_->Get("/keys/bad_name!")->status, 404);
  EXPECT_EQ(client_->Get("/nothing")->status, 404);
  EXPECT_EQ(client_->Get("/keys/k")->status, 200);
}

TEST(TrustedAuthority, ParseForms) {
  auto url = ParseTrustedAuthority("https://MAA.example/");
  ASSERT_TRUE(url.ok());
  EXPECT_EQ(url->url, "https://maa.example");
  EXPECT_TRUE(url->jwks_file.empty());
  auto bound = ParseTrustedAuthority("https://maa.example=/etc/maa.jwks");
  ASSERT_TRUE(bound.ok());
  EXPECT_EQ(bound->url, "https://maa.example");
  EXPECT_EQ(bound->jwks_file, "/etc/maa.jwks");
  auto file = ParseTrustedAuthority("/etc/maa.jwks");
  ASSERT_TRUE(file.ok());
  EXPECT_TRUE(file->url.empty());
  EXPECT_FALSE(ParseTrustedAuthority("").ok());
  EXPECT_FALSE(ParseTrustedAuthority("https://x=").ok());
}

}  // namespace
}  // namespace confidant::kbs
