#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "attest/attest.h"
#include "test_support.h"

namespace confidant::attest::testing {
namespace {

VerifyOptions at_fixed_time(bool allow_debug = false) {
  VerifyOptions o;
  o.at = fixed_time();
  o.allow_debug = allow_debug;
  return o;
}

TEST(Verify, EveryGenuineVectorVerifies) {
  Verifier verifier(TrustStore::amd());
  for (const Vector& v : genuine_vectors()) {
    SCOPED_TRACE(v.name);
    auto raw = read_vector(v.report);
    CertBundle certs = certs_of(v);
    VerifiedReport out;
    std::string error;
    ASSERT_TRUE(verifier.verify(raw, certs, at_fixed_time(true), out, error)) << error;
    EXPECT_EQ(out.product, Product::kMilan);
    EXPECT_EQ(out.signer, SigningKey::kVcek);
    EXPECT_TRUE(out.builtin_root);
    EXPECT_EQ(out.chain, (std::vector<std::string>{"SEV-VCEK", "SEV-Milan", "ARK-Milan"}));
    ASSERT_TRUE(out.extensions.hw_id);
    EXPECT_EQ(*out.extensions.hw_id, std::vector<uint8_t>(out.report.chip_id.begin(), out.report.chip_id.end()));
    EXPECT_EQ(out.extensions.product_name.value_or(""), "Milan-B0");
  }
}

TEST(Verify, ExpectedFieldsOfTheVectors) {
  Verifier verifier(TrustStore::amd());
  std::string error;
  VerifiedReport out;
  auto go = genuine_vectors()[0];
  ASSERT_TRUE(verifier.verify(read_vector(go.report), certs_of(go), at_fixed_time(true), out, error)) << error;
  EXPECT_EQ(out.report.reported_tcb, 0x4405000000000002u);
  EXPECT_EQ(*out.extensions.bl_spl, 2);
  EXPECT_EQ(*out.extensions.snp_spl, 5);
  EXPECT_EQ(*out.extensions.ucode_spl, 0x44);
  EXPECT_EQ(kds_vcek_url(out.report, out.product), "https://kdsintf.amd.com/vcek/v1/Milan/" + hex(out.report.chip_id) +
                                                       "?blSPL=2&teeSPL=0&snpSPL=5&ucodeSPL=68");
  nlohmann::ordered_json j = verified_to_json(out);
  EXPECT_EQ(j["report"]["measurement"],
            "b07af9620f3b839b47996422ddec6058338951d984e312115131ea82705eaf5b6bdf8a9ece31a5a608eb0cf2e4872b01");
  EXPECT_EQ(j["signer"], "VCEK");

  auto aci = genuine_vectors()[2];
  VerifyOptions o = at_fixed_time();
  o.host_data = hex_array<32>("cadd74f71ebb8fbf9782baab649612520f3c416bc5ce9ac768808ddc8d9b031c");
  o.measurement =
      hex_array<48>("51068107cdc7ee3d89c7821b05bca6147eb77b2005ae759050fc049b65a1b0beabc65a9d857acecf23225f5ec76849f5");
  o.vmpl = 0;
  o.min_tcb = 0x7308000000000003ull;
  ASSERT_TRUE(verifier.verify(read_vector(aci.report), certs_of(aci), o, out, error)) << error;
  EXPECT_EQ(out.report.guest_svn, 2u);
  EXPECT_EQ(out.report.policy, 0x3001Fu);
}

TEST(Verify, DebugRefusedUnlessAllowed) {
  Verifier verifier(TrustStore::amd());
  auto go = genuine_vectors()[0];
  VerifiedReport out;
  std::string error;
  EXPECT_FALSE(verifier.verify(read_vector(go.report), certs_of(go), at_fixed_time(false), out, error));
  EXPECT_NE(error.find("debug"), std::string::npos) << error;
}

TEST(Verify, PolicyOptionsRefuseMismatches) {
  Verifier verifier(TrustStore::amd());
  auto v = genuine_vectors()[1];
  auto raw = read_vector(v.report);
  CertBundle certs = certs_of(v);
  VerifiedReport out;
  std::string error;
  struct Case {
    const char* reason;
    VerifyOptions o;
  };
  std::vector<Case> cases(5, {"", at_fixed_time()});
  cases[0].reason = "MEASUREMENT";
  cases[0].o.measurement = std::array<uint8_t, 48>{1};
  cases[1].reason = "HOST_DATA";
  cases[1].o.host_data = std::array<uint8_t, 32>{1};
  cases[2].reason = "REPORT_DATA";
  cases[2].o.report_data = std::array<uint8_t, 64>{1};
  cases[3].reason = "VMPL";
  cases[3].o.vmpl = 1;
  cases[4].reason = "below the minimum";
  cases[4].o.min_tcb = encode_tcb({.bl = 3, .tee = 0, .snp = 9, .ucode = 0x73}, Product::kMilan);
  for (const Case& c : cases) {
    EXPECT_FALSE(verifier.verify(raw, certs, c.o, out, error)) << c.reason;
    EXPECT_NE(error.find(c.reason), std::string::npos) << error;
  }
  VerifyOptions ok = at_fixed_time();
  ok.min_tcb = encode_tcb({.bl = 3, .tee = 0, .snp = 8, .ucode = 0x73}, Product::kMilan);
  ok.host_data = std::array<uint8_t, 32>{};
  ok.vmpl = 0;
  EXPECT_TRUE(verifier.verify(raw, certs, ok, out, error)) << error;
}

// Every single-bit change of the signed bytes or of r and s must be caught.
TEST(Verify, EverySingleBitFlipFails) {
  Verifier verifier(TrustStore::amd());
  for (const Vector& v : genuine_vectors()) {
    if (std::string_view(v.name) == "aci-pem") continue;  // same report as aci-json
    SCOPED_TRACE(v.name);
    auto raw = read_vector(v.report);
    CertBundle certs = certs_of(v);
    VerifiedReport out;
    std::string error;
    ASSERT_TRUE(verifier.verify(raw, certs, at_fixed_time(true), out, error)) << error;
    size_t accepted = 0;
    for (size_t byte = 0; byte < 0x330; ++byte) {
      for (int bit = 0; bit < 8; ++bit) {
        raw[byte] ^= static_cast<uint8_t>(1 << bit);
        if (verifier.verify(raw, certs, at_fixed_time(true), out, error)) {
          ++accepted;
          ADD_FAILURE() << "flip of byte 0x" << std::hex << byte << " bit " << bit << " accepted";
        }
        raw[byte] ^= static_cast<uint8_t>(1 << bit);
      }
    }
    EXPECT_EQ(accepted, 0u);
  }
}

TEST(Verify, ChipIdAndTcbChangesNameTheReason) {
  Verifier verifier(TrustStore::amd());
  auto v = genuine_vectors()[1];
  CertBundle certs = certs_of(v);
  VerifiedReport out;
  std::string error;
  auto raw = read_vector(v.report);
  raw[0x1A0] ^= 1;  // CHIP_ID
  EXPECT_FALSE(verifier.verify(raw, certs, at_fixed_time(), out, error));
  EXPECT_NE(error.find("hwID"), std::string::npos) << error;
  raw = read_vector(v.report);
  raw[0x186] += 1;  // REPORTED_TCB snp SPL
  EXPECT_FALSE(verifier.verify(raw, certs, at_fixed_time(), out, error));
  EXPECT_NE(error.find("TCB mismatch"), std::string::npos) << error;
  EXPECT_NE(error.find("snpSPL"), std::string::npos) << error;
  // CURRENT_TCB is not what the VCEK is derived from: only the signature catches it.
  raw = read_vector(v.report);
  raw[0x03E] += 1;
  EXPECT_FALSE(verifier.verify(raw, certs, at_fixed_time(), out, error));
  EXPECT_NE(error.find("signature"), std::string::npos) << error;
}

TEST(Verify, WrongVcekForTheReport) {
  Verifier verifier(TrustStore::amd());
  auto raw = read_vector("virtee-sev/report_milan.bin");
  CertBundle certs = certs_from({"google-go-sev-guest/vcek_milan.der"});
  VerifiedReport out;
  std::string error;
  EXPECT_FALSE(verifier.verify(raw, certs, at_fixed_time(), out, error));
  EXPECT_NE(error.find("hwID"), std::string::npos) << error;
}

TEST(Verify, SignerKindMustMatch) {
  Verifier verifier(TrustStore::amd());
  auto v = genuine_vectors()[1];
  auto raw = read_vector(v.report);
  raw[0x048] = 1 << 2;  // SIGNING_KEY = VLEK
  VerifiedReport out;
  std::string error;
  EXPECT_FALSE(verifier.verify(raw, certs_of(v), at_fixed_time(), out, error));
  EXPECT_NE(error.find("signed by the VLEK but the certificate is a VCEK"), std::string::npos) << error;
  raw[0x048] = 7 << 2;
  EXPECT_FALSE(verifier.verify(raw, certs_of(v), at_fixed_time(), out, error));
  EXPECT_NE(error.find("not signed"), std::string::npos) << error;
  raw = read_vector(v.report);
  raw[0x034] = 2;
  EXPECT_FALSE(verifier.verify(raw, certs_of(v), at_fixed_time(), out, error));
  EXPECT_NE(error.find("signature algorithm"), std::string::npos) << error;
}

TEST(Verify, ValidityTime) {
  Verifier verifier(TrustStore::amd());
  auto v = genuine_vectors()[1];
  auto raw = read_vector(v.report);
  VerifiedReport out;
  std::string error;
  VerifyOptions o;
  o.at = 1577836800;  // 2020-01-01, before the ARK-Milan was issued
  EXPECT_FALSE(verifier.verify(raw, certs_of(v), o, out, error));
  EXPECT_NE(error.find("not valid at 2020-01-01T00:00:00Z"), std::string::npos) << error;
  o.at = 2000000000;  // 2033: the VCEK (7 years from 2023) has expired
  EXPECT_FALSE(verifier.verify(raw, certs_of(v), o, out, error));
  EXPECT_NE(error.find("'SEV-VCEK' is not valid"), std::string::npos) << error;
}

TEST(Verify, ThimTcbmMustMatchTheReport) {
  Verifier verifier(TrustStore::amd());
  auto v = genuine_vectors()[2];
  CertBundle certs = certs_of(v);
  ASSERT_TRUE(certs.thim_tcbm);
  EXPECT_EQ(*certs.thim_tcbm, 0x7308000000000003u);
  certs.thim_tcbm = 0x7308000000000004ull;
  VerifiedReport out;
  std::string error;
  EXPECT_FALSE(verifier.verify(read_vector(v.report), certs, at_fixed_time(), out, error));
  EXPECT_NE(error.find("certificate bundle is for TCB"), std::string::npos) << error;
}

// A self-signed root that copies ARK-Milan's name but not its key.
Certificate forged_ark_milan() {
  const Certificate& real = builtin_amd_roots()[0].ark;
  EVP_PKEY* key = EVP_RSA_gen(2048);
  X509* x = X509_new();
  X509_set_version(x, X509_VERSION_3);
  ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
  X509_set_subject_name(x, X509_get_subject_name(real.x509()));
  X509_set_issuer_name(x, X509_get_subject_name(real.x509()));
  X509_gmtime_adj(X509_getm_notBefore(x), -86400L * 3650);
  X509_gmtime_adj(X509_getm_notAfter(x), 86400L * 3650);
  X509_set_pubkey(x, key);
  EVP_MD_CTX* md = EVP_MD_CTX_new();
  EVP_PKEY_CTX* pctx = nullptr;
  EVP_DigestSignInit(md, &pctx, EVP_sha384(), nullptr, key);
  EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING);
  EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, 48);
  X509_sign_ctx(x, md);
  EVP_MD_CTX_free(md);
  unsigned char* der = nullptr;
  int n = i2d_X509(x, &der);
  std::string error;
  auto cert = Certificate::from_der({der, static_cast<size_t>(n)}, error);
  OPENSSL_free(der);
  X509_free(x);
  EVP_PKEY_free(key);
  EXPECT_TRUE(cert) << error;
  return *cert;
}

TEST(Verify, ForeignArkInTheChainIsRefused) {
  Verifier verifier(TrustStore::amd());
  auto v = genuine_vectors()[1];
  CertBundle certs = certs_from({"virtee-sev/vcek_milan.der"});
  certs.certs.push_back(builtin_amd_roots()[0].ask);
  Certificate forged = forged_ark_milan();
  ASSERT_EQ(forged.subject_cn(), "ARK-Milan");
  certs.certs.push_back(forged);
  VerifiedReport out;
  std::string error;
  EXPECT_FALSE(verifier.verify(read_vector(v.report), certs, at_fixed_time(), out, error));
  EXPECT_NE(error.find("untrusted root 'ARK-Milan'"), std::string::npos) << error;
}

TEST(Verify, NoTrustNoVerification) {
  Verifier verifier(TrustStore::empty());
  auto v = genuine_vectors()[1];
  VerifiedReport out;
  std::string error;
  EXPECT_FALSE(
      verifier.verify(read_vector(v.report), certs_from({"virtee-sev/vcek_milan.der"}), at_fixed_time(), out, error));
  EXPECT_NE(error.find("issuer not found"), std::string::npos) << error;
  EXPECT_FALSE(verifier.verify(read_vector(v.report), certs_of(v), at_fixed_time(), out, error));
  EXPECT_NE(error.find("untrusted root"), std::string::npos) << error;
}

TEST(Verify, ChainOfAnotherProductIsRefused) {
  // The Turin VCEK is genuine and chains to ARK-Turin, but a Milan ASK is
  // not its issuer and its hwID is not this report's chip.
  Verifier verifier(TrustStore::amd());
  auto raw = read_vector("virtee-sev/report_milan.bin");
  VerifiedReport out;
  std::string error;
  EXPECT_FALSE(verifier.verify(raw, certs_from({"virtee-sev/vcek_turin.der", "virtee-sev/cert_chain_milan"}),
                               at_fixed_time(), out, error));
  EXPECT_NE(error.find("hwID"), std::string::npos) << error;
}

TEST(Verify, TurinChainAndLayout) {
  // No genuine Turin report exists: build one for the Turin VCEK with the
  // right chip ID and TCB. Everything up to the signature must pass.
  CertBundle certs = certs_from({"virtee-sev/vcek_turin.der", "virtee-sev/cert_chain_turin"});
  AmdExtensions e;
  std::string error;
  ASSERT_TRUE(parse_amd_extensions(certs.certs[0], e, error)) << error;
  EXPECT_EQ(e.struct_version.value_or(-1), 1);
  EXPECT_EQ(e.product_name.value_or(""), "Turin");
  ASSERT_TRUE(e.fmc_spl);
  ASSERT_TRUE(e.hw_id);
  EXPECT_EQ(hex(*e.hw_id), "1e550a8ee5cf9f4d");
  Report r;
  r.version = 3;
  r.policy = 0x30000;
  r.cpuid_fam_id = 0x1A;
  r.cpuid_mod_id = 0x02;
  std::copy(e.hw_id->begin(), e.hw_id->end(), r.chip_id.begin());
  r.reported_tcb = encode_tcb({.bl = static_cast<uint8_t>(*e.bl_spl),
                               .tee = static_cast<uint8_t>(*e.tee_spl),
                               .snp = static_cast<uint8_t>(*e.snp_spl),
                               .ucode = static_cast<uint8_t>(*e.ucode_spl),
                               .fmc = static_cast<uint8_t>(*e.fmc_spl)},
                              Product::kTurin);
  r.signature_r[0] = r.signature_s[0] = 1;
  Verifier verifier(TrustStore::amd());
  VerifiedReport out;
  EXPECT_FALSE(verifier.verify(serialize_report(r), certs, at_fixed_time(), out, error));
  EXPECT_NE(error.find("report signature does not verify"), std::string::npos) << error;
  // The same report claiming Milan CPUID is refused on product.
  r.cpuid_fam_id = 0x19;
  r.cpuid_mod_id = 0x01;
  EXPECT_FALSE(verifier.verify(serialize_report(r), certs, at_fixed_time(), out, error));
  EXPECT_NE(error.find("CPUID says Milan"), std::string::npos) << error;
}

TEST(Certificates, FormatsLoad) {
  CertBundle b;
  std::string error;
  ASSERT_TRUE(load_certificates_file(vector_path("google-go-sev-guest/vcek_milan.der"), b, error)) << error;
  EXPECT_EQ(b.certs.size(), 1u);
  ASSERT_TRUE(load_certificates_file(vector_path("google-go-sev-guest/ask_ark_milan.pem"), b, error)) << error;
  EXPECT_EQ(b.certs.size(), 3u);
  CertBundle thim;
  ASSERT_TRUE(load_certificates_file(
      vector_path("microsoft-confidential-sidecar-containers/uvm_host_amd_certificate.json"), thim, error))
      << error;
  EXPECT_EQ(thim.certs.size(), 3u);
  CertBundle b64;
  ASSERT_TRUE(
      load_certificates_file(vector_path("microsoft-confidential-sidecar-containers/host-amd-cert-base64"), b64, error))
      << error;
  EXPECT_EQ(b64.certs.size(), 3u);
  EXPECT_TRUE(b64.thim_tcbm);
  EXPECT_EQ(b64.certs[0].subject_cn(), "SEV-VCEK");
}

TEST(Certificates, GarbageIsRefused) {
  std::string error;
  for (std::string bad : {std::string("-----BEGIN CERTIFICATE-----\n!!!\n-----END CERTIFICATE-----\n"),
                          std::string("-----BEGIN CERTIFICATE-----\nMIIB\n"), std::string("{\"vcekCert\": 5}"),
                          std::string("{"), std::string("\x30\x03\x02\x01\x00", 5), std::string("hello")}) {
    CertBundle b;
    EXPECT_FALSE(load_certificates({reinterpret_cast<const uint8_t*>(bad.data()), bad.size()}, b, error)) << bad;
    EXPECT_FALSE(error.empty());
  }
}

TEST(AmdExtensions, Encodings) {
  AmdExtensions e;
  std::string error;
  const std::vector<uint8_t> ucode = {0x02, 0x02, 0x00, 0xd9};
  ASSERT_TRUE(parse_amd_extension("1.3.6.1.4.1.3704.1.3.8", ucode, e, error)) << error;
  EXPECT_EQ(*e.ucode_spl, 0xd9);
  EXPECT_FALSE(parse_amd_extension("1.3.6.1.4.1.3704.1.3.8", ucode, e, error));  // duplicate
  EXPECT_NE(error.find("duplicate"), std::string::npos);
  std::vector<uint8_t> wrapped = {0x04, 0x40};
  for (int i = 0; i < 64; ++i) wrapped.push_back(static_cast<uint8_t>(i));
  ASSERT_TRUE(parse_amd_extension("1.3.6.1.4.1.3704.1.4", wrapped, e, error)) << error;
  EXPECT_EQ(e.hw_id->size(), 64u);
  EXPECT_EQ((*e.hw_id)[63], 63);
  AmdExtensions raw64;
  std::vector<uint8_t> raw(wrapped.begin() + 2, wrapped.end());
  raw[0] = 0x04;  // a raw hwID that happens to start like an OCTET STRING
  raw[1] = 0x3E;
  ASSERT_TRUE(parse_amd_extension("1.3.6.1.4.1.3704.1.4", raw, raw64, error)) << error;
  EXPECT_EQ(raw64.hw_id->size(), 64u);
  AmdExtensions f;
  EXPECT_FALSE(parse_amd_extension("1.3.6.1.4.1.3704.1.4", std::vector<uint8_t>(10, 1), f, error));
  EXPECT_FALSE(parse_amd_extension("1.3.6.1.4.1.3704.1.9", {}, f, error));
  EXPECT_NE(error.find("unknown AMD extension"), std::string::npos);
  EXPECT_TRUE(parse_amd_extension("2.5.29.19", {}, f, error));  // not AMD's: ignored
  const std::vector<uint8_t> negative = {0x02, 0x01, 0x80}, long_form = {0x02, 0x81, 0x01, 0x05},
                             trailing = {0x02, 0x01, 0x05, 0x00}, padded = {0x02, 0x02, 0x00, 0x05};
  for (const auto& bad : {negative, long_form, trailing, padded})
    EXPECT_FALSE(parse_amd_extension("1.3.6.1.4.1.3704.1.3.1", bad, f, error));
  const std::vector<uint8_t> name = {0x16, 0x05, 'G', 'e', 'n', 'o', 'a'};
  ASSERT_TRUE(parse_amd_extension("1.3.6.1.4.1.3704.1.2", name, f, error)) << error;
  EXPECT_EQ(*f.product_name, "Genoa");
}

TEST(Roots, BuiltInRootsAreSelfSignedAmdArks) {
  const auto& roots = builtin_amd_roots();
  ASSERT_EQ(roots.size(), 4u);
  std::vector<std::string> cns;
  for (const auto& r : roots) {
    cns.push_back(r.ask.subject_cn() + "/" + r.ark.subject_cn());
    EXPECT_EQ(X509_verify(r.ark.x509(), X509_get0_pubkey(r.ark.x509())), 1);
    EXPECT_EQ(X509_verify(r.ask.x509(), X509_get0_pubkey(r.ark.x509())), 1);
  }
  EXPECT_EQ(cns, (std::vector<std::string>{"SEV-Milan/ARK-Milan", "SEV-VLEK-Milan/ARK-Milan", "SEV-Genoa/ARK-Genoa",
                                           "SEV-Turin/ARK-Turin"}));
  EXPECT_EQ(TrustStore::amd().anchors().size(), 3u);
}

}  // namespace
}  // namespace confidant::attest::testing
