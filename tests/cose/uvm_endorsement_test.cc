// UVM endorsements: the real ACI bundle (legacy form) and hash-envelope
// endorsements made here.
#include "cose/uvm_endorsement.h"

#include <gtest/gtest.h>

#include "cose/cose_sign1.h"
#include "cose/didx509.h"
#include "cose/x509_chain.h"
#include "test_pki.h"

namespace confidant::cose::testing {
namespace {

const char* kMeasurement =
    "51068107cdc7ee3d89c7821b05bca6147eb77b2005ae759050fc049b65a1b0beabc65a9d857acecf23225f5ec76849f5";
const char* kUvmIssuer = "did:x509:0:sha256:I__iuL25oXEVFdTP_aBLx_eT1RPHbCQ_ECBQfYZpt9s::eku:1.3.6.1.4.1.311.76.59.1.2";

std::string sidecar(const char* name) {
  return read_file(shared_dir() / "vectors/microsoft-confidential-sidecar-containers" / name);
}

TEST(UvmEndorsement, RealBundleVerifiesAgainstItsReport) {
  UvmCheck check;
  check.report = sidecar("snp_report.bin");
  check.feed = "ContainerPlat-AMD-UVM";
  check.issuer = kUvmIssuer;
  check.min_svn = 3;  // "22" >= 3 numerically (as strings "22" < "3")
  UvmEndorsement e;
  std::string error;
  ASSERT_TRUE(verify_uvm_endorsement(sidecar("body.uvm_reference_info.bin"), check, e, error)) << error;
  EXPECT_EQ(e.format, "legacy");
  EXPECT_EQ(e.issuer, kUvmIssuer);
  EXPECT_EQ(e.feed, "ContainerPlat-AMD-UVM");
  EXPECT_EQ(e.svn, 22u);
  EXPECT_EQ(to_hex(e.measurement), kMeasurement);
  EXPECT_EQ(e.signed_at, 1675834943);
  EXPECT_EQ(e.checked_at, 1675834943);
}

TEST(UvmEndorsement, ChecksRefuseWithReasons) {
  std::string cose = sidecar("body.uvm_reference_info.bin");
  UvmEndorsement e;
  std::string error;
  UvmCheck check;
  check.min_svn = 23;
  EXPECT_FALSE(verify_uvm_endorsement(cose, check, e, error));
  EXPECT_EQ(error, "UVM endorsement svn 22 is below the minimum 23");
  check = {};
  check.feed = "ConfAKS-AMD-UVM";
  EXPECT_FALSE(verify_uvm_endorsement(cose, check, e, error));
  EXPECT_EQ(error, "UVM endorsement feed ContainerPlat-AMD-UVM is not the required ConfAKS-AMD-UVM");
  check = {};
  check.issuer = "did:x509:0:sha256:I__iuL25oXEVFdTP_aBLx_eT1RPHbCQ_ECBQfYZpt9s::eku:1.3.6.1.4.1.311.76.59.1.5";
  EXPECT_FALSE(verify_uvm_endorsement(cose, check, e, error));
  check = {};
  check.report = sidecar("snp_report.bin").substr(0, 0x49F);
  EXPECT_FALSE(verify_uvm_endorsement(cose, check, e, error));
  EXPECT_EQ(error, "SNP report is 1183 bytes, expected at least 1184");
  // Another chip's report (go-sev-guest) has another measurement.
  check.report = read_file(shared_dir() / "vectors/google-go-sev-guest/attestation.bin");
  EXPECT_FALSE(verify_uvm_endorsement(cose, check, e, error));
  EXPECT_EQ(error.substr(0, 44), "UVM endorsement measurement 51068107cdc7ee3d");
  // The leaf expired in January 2024.
  check = {};
  int64_t t;
  ASSERT_TRUE(parse_rfc3339("2024-06-01T00:00:00Z", t));
  check.at = t;
  EXPECT_FALSE(verify_uvm_endorsement(cose, check, e, error));
  EXPECT_EQ(error, "x5chain does not verify at 2024-06-01T00:00:00Z: certificate has expired");
}

TEST(UvmEndorsement, SecurityContextEndorsementHasNoMatchingReport) {
  std::string cose;
  ASSERT_TRUE(base64_decode(sidecar("reference-info-base64"), cose));
  UvmCheck check;
  check.min_svn = 22;  // "100" >= 22
  UvmEndorsement e;
  std::string error;
  ASSERT_TRUE(verify_uvm_endorsement(cose, check, e, error)) << error;
  EXPECT_EQ(e.svn, 100u);
  EXPECT_EQ(to_hex(e.measurement).substr(0, 8), "03fea028");
  check.report = sidecar("snp_report.bin");
  EXPECT_FALSE(verify_uvm_endorsement(cose, check, e, error));
}

// A hash-envelope endorsement signed by a test CA: CWT claims and a raw payload.
std::string envelope(const TestChain& chain, const std::string& iss, const CborValue& svn,
                     const std::string& measurement) {
  SignRequest r;
  r.alg = Alg::kES384;
  r.x5chain = chain.der();
  CborMap cwt;
  cwt.emplace_back(CborValue::integer(1), CborValue::text(iss));
  cwt.emplace_back(CborValue::integer(2), CborValue::text("ContainerPlat-AMD-UVM"));
  cwt.emplace_back(CborValue::integer(6), CborValue::tag(1, CborValue::integer(1774544607)));
  cwt.emplace_back(CborValue::text("svn"), svn);
  r.extra_protected.emplace_back(CborValue::integer(kHeaderCwtClaims), CborValue::map(cwt));
  r.extra_protected.emplace_back(CborValue::integer(kHeaderPayloadHashAlg), CborValue::integer(-43));
  r.extra_protected.emplace_back(CborValue::integer(kHeaderPreimageContentType),
                                 CborValue::text("application/octet-stream"));
  r.payload = measurement;
  std::string out, error;
  EXPECT_TRUE(sign_cose_sign1(r, chain.leaf.key.get(), out, error)) << error;
  return out;
}

TEST(UvmEndorsement, HashEnvelopeForm) {
  const auto& chain = cached_chain("P-384", 7);
  std::vector<Cert> certs;
  std::string error, did;
  ASSERT_TRUE(parse_chain_der(chain.der(), certs, error));
  ASSERT_TRUE(derive_did_x509(certs, "subject", did, error));
  std::string measurement(48, '\x5a');
  std::string report(1184, '\0');
  report.replace(0x90, 48, measurement);
  UvmCheck check;
  check.report = report;
  check.min_svn = 104;
  UvmEndorsement e;
  ASSERT_TRUE(verify_uvm_endorsement(envelope(chain, did, CborValue::integer(104), measurement), check, e, error))
      << error;
  EXPECT_EQ(e.format, "hash-envelope");
  EXPECT_EQ(e.svn, 104u);
  EXPECT_EQ(e.signed_at, 1774544607);
  check.min_svn = 105;
  EXPECT_FALSE(verify_uvm_endorsement(envelope(chain, did, CborValue::integer(104), measurement), check, e, error));
  EXPECT_EQ(error, "UVM endorsement svn 104 is below the minimum 105");
  check.min_svn.reset();
  EXPECT_FALSE(verify_uvm_endorsement(envelope(chain, did, CborValue::text("104"), measurement), check, e, error));
  EXPECT_EQ(error, "UVM endorsement CWT claims have no non-negative integer svn");
  EXPECT_FALSE(
      verify_uvm_endorsement(envelope(chain, did, CborValue::integer(1), std::string(32, 'x')), check, e, error));
  EXPECT_EQ(error, "UVM endorsement payload is 32 bytes, expected the 48-byte measurement");
  // Claiming Microsoft's DID with a test chain: the DID does not resolve.
  EXPECT_FALSE(
      verify_uvm_endorsement(envelope(chain, kUvmIssuer, CborValue::integer(1), measurement), check, e, error));
  EXPECT_EQ(error,
            "UVM endorsement issuer does not resolve against x5chain: CA fingerprint does not match the certificate "
            "chain.");
}

}  // namespace
}  // namespace confidant::cose::testing
