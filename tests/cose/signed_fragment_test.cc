// Signed fragments end to end: COSE envelope, did:x509 issuer and the
// policy's fragment imports, then the containers a fragment contributes.
#include "policy/signed_fragment.h"

#include "../policy/aci_fixture.h"
#include "cose/cose_sign1.h"
#include "cose/didx509.h"
#include "cose/x509_chain.h"
#include "test_pki.h"

namespace confidant::policy::testing {
namespace {

using cose::testing::cached_chain;
using cose::testing::TestChain;
using rego::Value;

const std::string kFragLayer = std::string(64, '4');
const std::string kSidecarLayer = std::string(64, '5');
const char* kCustomerFeed = "contoso.azurecr.io/app";
const char* kInfraFeed = "mcr.microsoft.com/aci/aci-cc-infra-fragment";

std::string did_of(const TestChain& chain, const char* predicate) {
  std::vector<cose::Cert> certs;
  std::string error, did;
  EXPECT_TRUE(cose::parse_chain_der(chain.der(), certs, error)) << error;
  EXPECT_TRUE(cose::derive_did_x509(certs, predicate, did, error)) << error;
  return did;
}

// Customer signer: subject predicate. Microsoft-like infrastructure signer:
// leaf with the ContainerPlat fragment EKU, eku predicate.
const TestChain& customer_chain() {
  static TestChain c = cose::testing::make_chain("P-384", "Contoso Fragments");
  return c;
}
const TestChain& infra_chain() {
  static TestChain c =
      cose::testing::make_chain("P-384", "ContainerPlat", {"1.3.6.1.4.1.311.76.59.1.1", "1.3.6.1.4.1.311.76.59.1.3"});
  return c;
}
// Same subject names, another root: not trusted by the policy.
const TestChain& impostor_chain() {
  static TestChain c = cose::testing::make_chain("P-384", "Contoso Fragments");
  return c;
}

std::string user_policy() {
  std::string imports = R"(fragments := [{"issuer":")" + did_of(customer_chain(), "subject") + R"(","feed":")" +
                        kCustomerFeed + R"(","minimum_svn":"2","includes":["containers"]},)" + R"({"issuer":")" +
                        did_of(infra_chain(), "eku") + R"(","feed":")" + kInfraFeed +
                        R"(","minimum_svn":"1","includes":["containers","fragments"]}])";
  return replaced(
      fixture_policy(),
      R"(fragments := [{"issuer":"did:x509:0:sha256:contoso::subject:CN:Contoso","feed":"contoso.azurecr.io/frag","minimum_svn":"2","includes":["containers","fragments"]}])",
      imports);
}

std::string fragment_text(const std::string& ns, const std::string& svn, const std::string& container) {
  return "package " + ns + "\n\nsvn := \"" + svn + "\"\nframework_version := \"0.5.0\"\n\ncontainers := [" + container +
         "]\n";
}

std::string customer_container() {
  return replaced(app_container_json("[\"" + kFragLayer + "\"]"), "\"/app\"", "\"/frag-app\"");
}
std::string sidecar_container() {
  return replaced(app_container_json("[\"" + kSidecarLayer + "\"]"), "\"/app\"", "\"/skr\"");
}

struct Signed {
  std::string cose, issuer;
};

Signed sign(const TestChain& chain, const std::string& ns, int64_t svn, const std::string& feed,
            const std::string& text, const char* predicate = "subject", bool cwt = false) {
  FragmentSigning r;
  r.name_space = ns;
  r.svn = svn;
  r.feed = feed;
  r.rego = text;
  r.key_pem = cose::private_key_pem(chain.leaf.key.get());
  r.chain_pem = chain.pem();
  r.predicate = predicate;
  r.cwt_claims = cwt;
  r.iat = 1767225600;  // 2026-01-01
  Signed s;
  std::string error;
  EXPECT_TRUE(create_signed_fragment(r, s.cose, s.issuer, error)) << error;
  return s;
}

// mount_device, mount_overlay, create_container for a one-layer container.
Decision start(Enforcer& e, const std::string& id, const std::string& layer, int scsi_n, const std::string& cmd) {
  Decision d = e.enforce("mount_device", mount_device(scsi(scsi_n), layer));
  if (!d.allowed) return d;
  d = e.enforce("mount_overlay", mount_overlay(id, {scsi(scsi_n)}));
  if (!d.allowed) return d;
  Value create = with(create_app(), "containerID", Value::string(id));
  create = with(create, "argList", json("[\"" + cmd + "\",\"--serve\"]"));
  return e.enforce("create_container", create);
}

class SignedFragments : public ::testing::Test {
 protected:
  void SetUp() override { e_ = bound_enforcer(user_policy()); }
  std::unique_ptr<Enforcer> e_;
};

TEST_F(SignedFragments, CustomerImageAttachedFragmentAddsItsContainer) {
  // Before the fragment the container's layer is unknown.
  EXPECT_DENIED(e_->enforce("mount_device", mount_device(scsi(1), kFragLayer)), "deviceHash not found");
  Signed s = sign(customer_chain(), "contoso", 3, kCustomerFeed, fragment_text("contoso", "3", customer_container()));
  EXPECT_EQ(s.issuer, did_of(customer_chain(), "subject"));
  SignedFragment verified;
  Decision d = load_signed_fragment(*e_, s.cose, {}, &verified);
  ASSERT_TRUE(d.allowed) << ::testing::PrintToString(d.reasons);
  EXPECT_EQ(verified.issuer, s.issuer);
  EXPECT_EQ(verified.feed, kCustomerFeed);
  EXPECT_EQ(verified.header_svn, 3);
  EXPECT_EQ(verified.content_type, "application/unknown+rego");
  EXPECT_ALLOWED(start(*e_, kApp, kFragLayer, 1, "/frag-app"));
}

TEST_F(SignedFragments, InfrastructureSidecarFragmentInCwtForm) {
  EXPECT_DENIED(e_->enforce("mount_device", mount_device(scsi(2), kSidecarLayer)), "deviceHash not found");
  Signed s = sign(infra_chain(), "infra", 1, kInfraFeed, fragment_text("infra", "1", sidecar_container()), "eku",
                  /*cwt=*/true);
  EXPECT_TRUE(s.issuer.ends_with("::eku:1.3.6.1.4.1.311.76.59.1.3")) << s.issuer;
  SignedFragment verified;
  std::string error;
  ASSERT_TRUE(verify_signed_fragment(s.cose, {}, verified, error)) << error;
  EXPECT_EQ(verified.header_svn, 1);
  Decision d = load_signed_fragment(*e_, s.cose);
  ASSERT_TRUE(d.allowed) << ::testing::PrintToString(d.reasons);
  EXPECT_ALLOWED(start(*e_, kPriv, kSidecarLayer, 2, "/skr"));
  // The customer's container is still unknown: only what was signed got in.
  EXPECT_DENIED(e_->enforce("mount_device", mount_device(scsi(3), kFragLayer)), "deviceHash not found");
}

TEST_F(SignedFragments, UntrustedSignerIsRefused) {
  // Same subject, another root: a valid envelope whose issuer the policy does not import.
  Signed s = sign(impostor_chain(), "contoso", 3, kCustomerFeed, fragment_text("contoso", "3", customer_container()));
  EXPECT_NE(s.issuer, did_of(customer_chain(), "subject"));
  EXPECT_DENIED(load_signed_fragment(*e_, s.cose), "invalid fragment issuer");
  EXPECT_DENIED(e_->enforce("mount_device", mount_device(scsi(1), kFragLayer)), "deviceHash not found");
}

TEST_F(SignedFragments, IssuerThatDoesNotDescribeTheChainIsRefused) {
  // The impostor writes the trusted DID into the header: it does not resolve against its chain.
  const TestChain& chain = impostor_chain();
  cose::SignRequest r;
  r.alg = cose::Alg::kES384;
  r.content_type = "application/unknown+rego";
  r.x5chain = chain.der();
  std::string trusted = did_of(customer_chain(), "subject");
  r.extra_protected.emplace_back(cose::CborValue::text("iss"), cose::CborValue::text(trusted));
  r.extra_protected.emplace_back(cose::CborValue::text("feed"), cose::CborValue::text(kCustomerFeed));
  r.payload = fragment_text("contoso", "3", customer_container());
  std::string msg, error;
  ASSERT_TRUE(cose::sign_cose_sign1(r, chain.leaf.key.get(), msg, error)) << error;
  EXPECT_DENIED(load_signed_fragment(*e_, msg), "fragment issuer " + trusted +
                                                    " does not resolve against its x5chain: CA fingerprint does not "
                                                    "match the certificate chain.");
  // Signed by a key that is not the x5chain leaf.
  r.extra_protected.clear();
  r.x5chain = customer_chain().der();
  r.extra_protected.emplace_back(cose::CborValue::text("iss"), cose::CborValue::text(trusted));
  r.extra_protected.emplace_back(cose::CborValue::text("feed"), cose::CborValue::text(kCustomerFeed));
  ASSERT_TRUE(cose::sign_cose_sign1(r, chain.leaf.key.get(), msg, error)) << error;
  EXPECT_DENIED(load_signed_fragment(*e_, msg), "fragment envelope: COSE signature: signature does not verify");
  // And a tampered payload.
  Signed s = sign(customer_chain(), "contoso", 3, kCustomerFeed, fragment_text("contoso", "3", customer_container()));
  std::string bad = s.cose;
  bad[bad.find("/frag-app") + 1] = 'g';
  EXPECT_DENIED(load_signed_fragment(*e_, bad), "fragment envelope: COSE signature: signature does not verify");
  EXPECT_DENIED(load_signed_fragment(*e_, "not cose"),
                "fragment envelope: CBOR: offset 0: string length 14 exceeds input");
}

TEST_F(SignedFragments, WrongFeedLowSvnAndReservedNamesAreRefused) {
  Signed s = sign(customer_chain(), "contoso", 3, "contoso.azurecr.io/other",
                  fragment_text("contoso", "3", customer_container()));
  EXPECT_DENIED(load_signed_fragment(*e_, s.cose), "invalid fragment feed");
  s = sign(customer_chain(), "contoso", 1, kCustomerFeed, fragment_text("contoso", "1", customer_container()));
  EXPECT_DENIED(load_signed_fragment(*e_, s.cose), "fragment svn is below the specified minimum");
  s = sign(customer_chain(), "contoso", 4, kCustomerFeed, fragment_text("contoso", "3", customer_container()));
  EXPECT_DENIED(load_signed_fragment(*e_, s.cose), "svn in header 4 does not match svn in fragment rego 3");
  for (const char* reserved : {"framework", "policy", "api", "metadata"}) {
    s = sign(customer_chain(), reserved, 3, kCustomerFeed, fragment_text(reserved, "3", customer_container()));
    EXPECT_DENIED(load_signed_fragment(*e_, s.cose), std::string("fragment namespace ") + reserved + " is reserved");
  }
  // None of them contributed anything.
  EXPECT_DENIED(e_->enforce("mount_device", mount_device(scsi(1), kFragLayer)), "deviceHash not found");
  // The good one still loads afterwards.
  s = sign(customer_chain(), "contoso", 3, kCustomerFeed, fragment_text("contoso", "3", customer_container()));
  EXPECT_ALLOWED(load_signed_fragment(*e_, s.cose));
}

TEST_F(SignedFragments, ChainTimeAndHeaderSvnType) {
  Signed s = sign(customer_chain(), "contoso", 3, kCustomerFeed, fragment_text("contoso", "3", customer_container()));
  SignedFragmentOptions o;
  o.at = 4133980800;  // 2101: the test certificates have expired
  EXPECT_DENIED(load_signed_fragment(*e_, s.cose, o),
                "fragment envelope: x5chain does not verify at 2101-01-01T00:00:00Z: certificate has expired");
  // A CWT svn that is not an integer.
  cose::SignRequest r;
  r.alg = cose::Alg::kES384;
  r.x5chain = customer_chain().der();
  cose::CborMap cwt;
  cwt.emplace_back(cose::CborValue::integer(1), cose::CborValue::text(s.issuer));
  cwt.emplace_back(cose::CborValue::integer(2), cose::CborValue::text(kCustomerFeed));
  cwt.emplace_back(cose::CborValue::text("svn"), cose::CborValue::text("3"));
  r.extra_protected.emplace_back(cose::CborValue::integer(cose::kHeaderCwtClaims), cose::CborValue::map(cwt));
  r.payload = fragment_text("contoso", "3", customer_container());
  std::string msg, error;
  ASSERT_TRUE(cose::sign_cose_sign1(r, customer_chain().leaf.key.get(), msg, error));
  EXPECT_DENIED(load_signed_fragment(*e_, msg), "fragment header svn is not an integer");
}

TEST(FragmentSigningTool, RefusesMismatches) {
  FragmentSigning r;
  r.name_space = "contoso";
  r.svn = 1;
  r.feed = "f";
  r.rego = "package other\n";
  r.key_pem = cose::private_key_pem(customer_chain().leaf.key.get());
  r.chain_pem = customer_chain().pem();
  std::string out, issuer, error;
  EXPECT_FALSE(create_signed_fragment(r, out, issuer, error));
  EXPECT_EQ(error, "the Rego package is other, not the namespace contoso");
  r.rego = "package contoso\n";
  r.key_pem = cose::private_key_pem(infra_chain().leaf.key.get());
  EXPECT_FALSE(create_signed_fragment(r, out, issuer, error));
  EXPECT_EQ(error, "the key is not the key of the chain's first (leaf) certificate");
  r.key_pem = cose::private_key_pem(customer_chain().leaf.key.get());
  r.algo = "RS256";
  EXPECT_FALSE(create_signed_fragment(r, out, issuer, error));
  r.algo = "ES384";
  EXPECT_TRUE(create_signed_fragment(r, out, issuer, error)) << error;
  std::string ns;
  EXPECT_TRUE(fragment_namespace("package a_1 \nx", ns));
  EXPECT_EQ(ns, "a_1");
  EXPECT_FALSE(fragment_namespace("package a.b\n", ns));
  EXPECT_FALSE(fragment_namespace("\npackage a\n", ns));
}

}  // namespace
}  // namespace confidant::policy::testing
