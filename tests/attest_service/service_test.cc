// The attestation service on genuine Confidential ACI evidence and on the virtual SNP device:
// tokens carry what was proven, and nothing is issued for evidence that does not verify.
#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "attest_service/service.h"

namespace fs = std::filesystem;
using namespace confidant;
using nlohmann::json;

namespace {

fs::path vectors() { return fs::path(CONFIDANT_SHARED_DIR) / "vectors"; }

std::string slurp(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  if (!f.good()) throw std::runtime_error("missing fixture " + p.string());
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

std::string sha256(std::string_view s) {
  unsigned char md[32];
  unsigned int len = 0;
  EVP_Digest(s.data(), s.size(), md, &len, EVP_sha256(), nullptr);
  return std::string(reinterpret_cast<char*>(md), len);
}

using attest_service::b64url_encode;

// The MAA request body the SKR sidecar sends.
std::string request(const std::string& report, const std::string& chain_pem, const std::vector<std::string>& uvm,
                    const std::optional<std::string>& runtime) {
  json evidence = {{"SnpReport", b64url_encode(report, true)}, {"VcekCertChain", b64url_encode(chain_pem, true)}};
  if (!uvm.empty()) {
    json list = json::array();
    for (auto& u : uvm) list.push_back(b64url_encode(u, true));
    evidence["Endorsements"] = b64url_encode(json{{"Uvm", list}}.dump(), true);
  }
  json body = {{"report", b64url_encode(evidence.dump(), true)}, {"nonce", 1234}};
  if (runtime) body["runtimeData"] = {{"data", b64url_encode(*runtime, true)}, {"dataType", "JSON"}};
  return body.dump();
}

attest_service::Config base_config() {
  attest_service::Config c;
  auto key = kbs::PKey::GenerateRsa(2048);
  EXPECT_TRUE(key.ok());
  c.signing_key.key = *key;
  c.signing_key.kid = *kbs::JwkThumbprint(*key);
  c.issuer = "http://attest.test";
  c.at = 1700000000;  // inside every certificate's validity period
  c.uvm_issuers.push_back({"did:x509:0:sha256:I__iuL25oXEVFdTP_aBLx_eT1RPHbCQ_ECBQfYZpt9s::eku:1.3.6.1.4.1.311.76.59.1.2",
                           "ContainerPlat-AMD-UVM", 0});
  return c;
}

json claims_of(const attest_service::AttestationService& svc, const attest_service::Reply& r) {
  EXPECT_EQ(r.status, 200) << r.body;
  json body = json::parse(r.body);
  auto keys = kbs::ParseJwks(svc.jwks());
  EXPECT_TRUE(keys.ok());
  kbs::JwtVerifyOptions o;
  o.now = *svc.config().at;
  auto jwt = kbs::VerifyJwt(body["token"].get<std::string>(), *keys, o);
  EXPECT_TRUE(jwt.ok()) << jwt.error();
  return jwt.ok() ? jwt->claims : json();
}

}  // namespace

TEST(AttestationService, GenuineAciEvidence) {
  fs::path d = vectors() / "microsoft-confidential-sidecar-containers";
  std::string report = slurp(d / "snp_report.bin"), chain = slurp(d / "uvm_host_amd_certificate.pem"),
              uvm = slurp(d / "body.uvm_reference_info.bin");
  attest_service::AttestationService svc(base_config());

  json claims = claims_of(svc, svc.attest(request(report, chain, {uvm}, std::nullopt)));
  EXPECT_EQ(claims["x-ms-attestation-type"], "sevsnpvm");
  EXPECT_EQ(claims["x-ms-sevsnpvm-hostdata"], "cadd74f71ebb8fbf9782baab649612520f3c416bc5ce9ac768808ddc8d9b031c");
  EXPECT_EQ(claims["x-ms-sevsnpvm-launchmeasurement"],
            "51068107cdc7ee3d89c7821b05bca6147eb77b2005ae759050fc049b65a1b0beabc65a9d857acecf23225f5ec76849f5");
  EXPECT_EQ(claims["x-ms-compliance-status"], "azure-compliant-uvm");
  EXPECT_EQ(claims["x-ms-sevsnpvm-is-debuggable"], false);
  EXPECT_EQ(claims["x-ms-sevsnpvm-guestsvn"], 2);
  EXPECT_EQ(claims["x-ms-sevsnpvm-snpfw-svn"], 8);
  EXPECT_EQ(claims["iss"], "http://attest.test");
  EXPECT_FALSE(claims.contains("x-ms-runtime"));

  // No endorsement, or one from an issuer/feed the service does not trust: the token says
  // nothing about the guest image being genuine.
  json bare = claims_of(svc, svc.attest(request(report, chain, {}, std::nullopt)));
  EXPECT_FALSE(bare.contains("x-ms-compliance-status"));
  auto cfg = base_config();
  cfg.uvm_issuers[0].feed = "SomeOtherFeed";
  attest_service::AttestationService strict(cfg);
  json untrusted = claims_of(strict, strict.attest(request(report, chain, {uvm}, std::nullopt)));
  EXPECT_FALSE(untrusted.contains("x-ms-compliance-status"));
  cfg = base_config();
  cfg.uvm_issuers[0].min_svn = 23;  // the endorsement has svn 22
  attest_service::AttestationService newer(cfg);
  EXPECT_FALSE(claims_of(newer, newer.attest(request(report, chain, {uvm}, std::nullopt))).contains("x-ms-compliance-status"));

  // A flipped bit in the signed part of the report: no token.
  std::string tampered = report;
  tampered[0xC0] ^= 1;  // HOST_DATA
  auto r = svc.attest(request(tampered, chain, {uvm}, std::nullopt));
  EXPECT_EQ(r.status, 403) << r.body;
  // Runtime data the report does not bind: no token.
  r = svc.attest(request(report, chain, {uvm}, std::string(R"({"keys":[]})")));
  EXPECT_EQ(r.status, 403) << r.body;
  EXPECT_NE(r.body.find("REPORT_DATA"), std::string::npos) << r.body;
}

TEST(AttestationService, MalformedRequests) {
  attest_service::AttestationService svc(base_config());
  for (const char* body : {"", "[]", "{", R"({"report": 5})", R"({"report": "!!!"})", R"({"report": "e30"})",
                           R"({"report": "eyJTbnBSZXBvcnQiOiAiQUFBQSIsICJWY2VrQ2VydENoYWluIjogIkFBQUEifQ"})"}) {
    auto r = svc.attest(body);
    EXPECT_GE(r.status, 400) << body;
    EXPECT_TRUE(json::parse(r.body, nullptr, false).contains("error")) << r.body;
  }
}

TEST(AttestationService, VirtualSnpWithRuntimeKey) {
  fs::path dir = fs::temp_directory_path() / ("confidant-attsvc-" + std::to_string(getpid()));
  fs::remove_all(dir);
  attest::LaunchParams p;
  std::string policy = "package policy\n";
  std::string digest = sha256(policy);
  std::copy(digest.begin(), digest.end(), p.host_data.begin());
  std::string error;
  auto device = attest::VirtualSnp::launch(dir.string(), p, error);
  ASSERT_TRUE(device) << error;

  std::string runtime = R"({"keys":[{"kty":"RSA","kid":"k1","n":"AQAB","e":"AQAB","key_ops":["encrypt"]}]})";
  std::array<uint8_t, 64> report_data{};
  std::string rd = sha256(runtime);
  std::copy(rd.begin(), rd.end(), report_data.begin());
  std::vector<uint8_t> report;
  ASSERT_TRUE(device->get_report(report_data, 0, report, error)) << error;
  std::string report_bytes(report.begin(), report.end());

  auto cfg = base_config();
  cfg.at.reset();  // the device's certificates are fresh
  // Not trusted by default: the virtual device's roots are test roots.
  {
    attest_service::AttestationService svc(cfg);
    auto r = svc.attest(request(report_bytes, device->certificate_chain_pem(), {}, runtime));
    EXPECT_EQ(r.status, 403) << r.body;
  }
  ASSERT_TRUE(cfg.trust.add_ark(device->ark(), error)) << error;
  attest_service::AttestationService svc(cfg);
  auto r = svc.attest(request(report_bytes, device->certificate_chain_pem(), {}, runtime));
  ASSERT_EQ(r.status, 200) << r.body;
  auto keys = kbs::ParseJwks(svc.jwks());
  ASSERT_TRUE(keys.ok());
  auto jwt = kbs::VerifyJwt(json::parse(r.body)["token"].get<std::string>(), *keys);
  ASSERT_TRUE(jwt.ok()) << jwt.error();
  EXPECT_EQ(jwt->claims["x-ms-sevsnpvm-hostdata"], attest::hex(std::span<const uint8_t>(p.host_data)));
  EXPECT_EQ(jwt->claims["x-ms-runtime"], json::parse(runtime));
  EXPECT_EQ(jwt->header["jku"], "http://attest.test/certs");
  fs::remove_all(dir);
}
