// did:x509: the 58 resolution cases of microsoft/did-x509, parsing details,
// and DIDs derived from chains made here.
#include "cose/didx509.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "cose/x509_chain.h"
#include "test_pki.h"

namespace confidant::cose::testing {
namespace {

using nlohmann::json;

TEST(DidX509Vectors, AllCasesGiveTheExpectedDocumentOrError) {
  json cases = json::parse(read_file(shared_dir() / "vectors/microsoft-did-x509/test-vectors.json"));
  ASSERT_EQ(cases.size(), 58u);
  size_t documents = 0, errors = 0;
  for (const auto& c : cases) {
    SCOPED_TRACE(c["id"].get<std::string>());
    std::vector<std::string> ders;
    for (const auto& b64 : c["input"]["chain"]) {
      std::string der;
      ASSERT_TRUE(base64url_decode(b64.get<std::string>(), der));
      ders.push_back(der);
    }
    std::vector<Cert> chain;
    std::string error;
    ASSERT_TRUE(parse_chain_der(ders, chain, error)) << error;
    std::string doc;
    bool ok = resolve_did_x509(c["input"]["did"].get<std::string>(), chain, doc, error);
    if (c["output"].contains("document")) {
      ++documents;
      ASSERT_TRUE(ok) << error;
      EXPECT_EQ(json::parse(doc), c["output"]["document"]) << doc;  // semantic comparison
    } else {
      ++errors;
      EXPECT_FALSE(ok) << doc;
      EXPECT_EQ(error, c["output"]["error"].get<std::string>());
    }
  }
  // The vectors README says 25/33; the file itself holds 24 documents and 34 errors.
  EXPECT_EQ(documents, 24u);
  EXPECT_EQ(errors, 34u);
}

TEST(DidX509Parse, Syntax) {
  DidX509 d;
  std::string error;
  std::string fp = base64url_encode(sha256("x"));
  ASSERT_TRUE(
      parse_did_x509("did:x509:0:sha256:" + fp + "::subject:CN:A%20B:O:Org::eku:1.2.3::san:dns:a.example#k", d, error))
      << error;
  EXPECT_EQ(d.did, "did:x509:0:sha256:" + fp + "::subject:CN:A%20B:O:Org::eku:1.2.3::san:dns:a.example");
  ASSERT_EQ(d.predicates.size(), 3u);
  EXPECT_EQ(d.predicates[0].subject[0].second, "A B");
  EXPECT_EQ(d.predicates[0].subject[1].first, "O");
  EXPECT_EQ(d.predicates[1].value, "1.2.3");
  EXPECT_EQ(d.predicates[2].san_type, "dns");
  auto bad = [&](const std::string& did) {
    DidX509 x;
    std::string e;
    EXPECT_FALSE(parse_did_x509(did, x, e)) << did;
    return e;
  };
  EXPECT_EQ(bad("did:x509:1:sha256:" + fp + "::eku:1.2"), "DID method version is not supported.");
  EXPECT_EQ(bad("did:x509:0:sha256:" + fp.substr(1) + "::eku:1.2"), "Fingerprint is not a base64url sha256 digest.");
  EXPECT_EQ(bad("did:x509:0:sha256:" + fp + "::eku:1.x"), "EKU predicate value is not an OID.");
  EXPECT_EQ(bad("did:x509:0:sha256:" + fp + "::subject:CN:%4"),
            "Subject predicate value is not correctly percent-encoded.");
  EXPECT_EQ(bad("did:x509:0:sha256:" + fp + "::subject:CN:%zz"),
            "Subject predicate value is not correctly percent-encoded.");
  EXPECT_EQ(bad("did:x509:0:sha256:" + fp + "::san:dn:x"), "SAN predicate type is not supported.");
  EXPECT_EQ(bad("did:x509:0:sha256"), "DID must have the form did:x509:0:<alg>:<fingerprint>.");
  EXPECT_EQ(bad(std::string(9000, 'd')), "DID is too long.");
}

TEST(DidX509Parse, PercentEncodingEncodesTilde) {
  EXPECT_EQ(did_percent_encode("Gen Purpose (DO NOT TRUST)~a-b.c_d"),
            "Gen%20Purpose%20%28DO%20NOT%20TRUST%29%7Ea-b.c_d");
  std::string out;
  ASSERT_TRUE(did_percent_decode("a%7Eb%3a", out));
  EXPECT_EQ(out, "a~b:");
}

TEST(DidX509Derive, SubjectAndEkuPredicatesResolve) {
  auto chain =
      make_chain("P-384", "Contoso Fragment Signer (test)", {"1.3.6.1.5.5.7.3.3", "1.3.6.1.4.1.311.76.59.1.3"});
  std::vector<Cert> certs;
  std::string error;
  ASSERT_TRUE(parse_chain_der(chain.der(), certs, error));
  std::string did, doc;
  ASSERT_TRUE(derive_did_x509(certs, "subject", did, error)) << error;
  EXPECT_EQ(did, "did:x509:0:sha256:" + base64url_encode(sha256(cert_der(chain.root.cert.get()))) +
                     "::subject:CN:Contoso%20Fragment%20Signer%20%28test%29");
  ASSERT_TRUE(resolve_did_x509(did, certs, doc, error)) << error;
  EXPECT_EQ(json::parse(doc)["verificationMethod"][0]["publicKeyJwk"]["crv"], "P-384");
  ASSERT_TRUE(derive_did_x509(certs, "eku", did, error)) << error;
  EXPECT_TRUE(did.ends_with("::eku:1.3.6.1.4.1.311.76.59.1.3")) << did;
  ASSERT_TRUE(resolve_did_x509(did, certs, doc, error)) << error;
  // Another root with the same names does not satisfy the DID.
  auto other = make_chain("P-384", "Contoso Fragment Signer (test)", {"1.3.6.1.4.1.311.76.59.1.3"});
  std::vector<Cert> other_certs;
  ASSERT_TRUE(parse_chain_der(other.der(), other_certs, error));
  EXPECT_FALSE(resolve_did_x509(did, other_certs, doc, error));
  EXPECT_EQ(error, "CA fingerprint does not match the certificate chain.");
  EXPECT_FALSE(derive_did_x509(certs, "san", did, error));
}

TEST(DidX509Resolve, RsaAndEdDsaLeavesGiveJwks) {
  for (const char* kind : {"RSA-2048", "Ed25519"}) {
    const auto& chain = cached_chain(kind);
    std::vector<Cert> certs;
    std::string error, did, doc;
    ASSERT_TRUE(parse_chain_der(chain.der(), certs, error));
    ASSERT_TRUE(derive_did_x509(certs, "subject", did, error));
    ASSERT_TRUE(resolve_did_x509(did, certs, doc, error)) << kind << ": " << error;
    json jwk = json::parse(doc)["verificationMethod"][0]["publicKeyJwk"];
    if (std::string(kind) == "Ed25519") {
      EXPECT_EQ(jwk["kty"], "OKP");
      EXPECT_EQ(jwk["x"].get<std::string>().size(), 43u);
    } else {
      EXPECT_EQ(jwk["kty"], "RSA");
      EXPECT_EQ(jwk["e"], "AQAB");
    }
  }
}

TEST(DidX509Resolve, AnotherValidChainIsRefused) {
  // A valid chain that is not the DID's (the AMD VCEK chain) is refused.
  std::vector<Cert> amd;
  std::string error, doc;
  ASSERT_TRUE(parse_certs_pem(
      read_file(shared_dir() / "vectors/microsoft-confidential-sidecar-containers/uvm_host_amd_certificate.pem"), amd,
      error))
      << error;
  EXPECT_EQ(amd.size(), 3u);
  EXPECT_FALSE(resolve_did_x509(
      "did:x509:0:sha256:I__iuL25oXEVFdTP_aBLx_eT1RPHbCQ_ECBQfYZpt9s::eku:1.3.6.1.4.1.311.76.59.1.2", amd, doc, error));
}

}  // namespace
}  // namespace confidant::cose::testing
