// COSE_Sign1: the public vectors decode with their documented headers and
// verify, any flipped bit in what is signed breaks verification, and every
// algorithm round-trips with keys made here.
#include "cose/cose_sign1.h"

#include <gtest/gtest.h>

#include "cose/x509_chain.h"
#include "test_pki.h"

namespace confidant::cose::testing {
namespace {

struct Vector {
  std::string name;
  std::string bytes;
};

std::vector<Vector> vectors() {
  auto v = shared_dir() / "vectors";
  std::vector<Vector> out;
  out.push_back({"esrp.test.cose", read_file(v / "microsoft-cosesign1go/esrp.test.cose")});
  out.push_back({"aci-cc-ttl.ttl.cose", read_file(v / "microsoft-cosesign1go/aci-cc-ttl.ttl.cose")});
  out.push_back({"body.uvm_reference_info.bin",
                 read_file(v / "microsoft-confidential-sidecar-containers/body.uvm_reference_info.bin")});
  std::string decoded;
  EXPECT_TRUE(base64_decode(read_file(v / "microsoft-confidential-sidecar-containers/reference-info-base64"), decoded));
  out.push_back({"reference-info-base64", decoded});
  for (const auto& x : out) EXPECT_FALSE(x.bytes.empty()) << x.name;
  return out;
}

TEST(CoseVectors, EsrpTestCose) {
  CoseSign1 m;
  std::string error;
  ASSERT_TRUE(decode_cose_sign1(vectors()[0].bytes, m, error)) << error;
  EXPECT_TRUE(m.tagged);
  EXPECT_EQ(m.headers.alg, -35);
  EXPECT_EQ(m.headers.content_type, "application/json");
  EXPECT_EQ(m.headers.issuer(),
            "did:x509:0:sha256:T3wuOi7RTvgBsJ9df38hYzZTcuj-AECHzLeS-882ops::subject:CN:Gen%20Purpose%20NoCS%20P384%"
            "20384%20Test%201%20%28DO%20NOT%20TRUST%29");
  EXPECT_EQ(m.headers.feed_name(), "KensHouseOfUVMImages");
  EXPECT_FALSE(m.headers.cwt);
  EXPECT_EQ(m.headers.x5chain.size(), 3u);
  EXPECT_EQ(m.headers.x5t_alg, -16);
  EXPECT_EQ(m.headers.x5t_hash, sha256(m.headers.x5chain[0]));
  ASSERT_TRUE(m.payload);
  EXPECT_NE(m.payload->find("\"Content\": \"Content.\""), std::string::npos);
  EXPECT_TRUE(m.unprotected.find("timestamp"));
}

TEST(CoseVectors, TransparencyTrustList) {
  CoseSign1 m;
  std::string error;
  ASSERT_TRUE(decode_cose_sign1(vectors()[1].bytes, m, error)) << error;
  EXPECT_EQ(m.headers.alg, -35);
  EXPECT_EQ(m.headers.content_type, "application/vnd.transparency-trust-list.v1+cose");
  ASSERT_TRUE(m.headers.cwt);
  EXPECT_EQ(m.headers.cwt->sub, "acidevacr.azurecr.io/internal/aci/aci-cc-ttl");
  ASSERT_TRUE(m.headers.cwt->svn);
  EXPECT_EQ(m.headers.cwt->svn->as_int64(), 0);
  EXPECT_TRUE(m.headers.cwt->iat);
  EXPECT_EQ(m.headers.feed_name(), "acidevacr.azurecr.io/internal/aci/aci-cc-ttl");
  EXPECT_TRUE(m.headers.issuer().starts_with("did:x509:0:sha256:"));
  // The payload is itself CBOR: a map from ledger names to keys, like the JSON twin.
  ASSERT_TRUE(m.payload);
  CborValue ttl;
  ASSERT_TRUE(cbor_decode(*m.payload, ttl, error)) << error;
  ASSERT_TRUE(ttl.is_map());
  std::string json = read_file(shared_dir() / "vectors/microsoft-cosesign1go/aci-cc-ttl.ttl.json");
  for (const auto& [k, v] : ttl.entries()) {
    ASSERT_TRUE(k.is_text());
    EXPECT_NE(json.find("\"" + k.str() + "\""), std::string::npos) << k.str();
  }
  EXPECT_TRUE(m.unprotected.find(394));  // receipts
}

TEST(CoseVectors, UvmReferenceInfo) {
  for (const auto& v : {vectors()[2], vectors()[3]}) {
    CoseSign1 m;
    std::string error;
    ASSERT_TRUE(decode_cose_sign1(v.bytes, m, error)) << v.name << ": " << error;
    EXPECT_EQ(m.headers.alg, -38) << v.name;
    EXPECT_EQ(m.headers.content_type, "application/json");
    EXPECT_EQ(m.headers.x5chain.size(), 3u);
    EXPECT_EQ(m.headers.issuer(),
              "did:x509:0:sha256:I__iuL25oXEVFdTP_aBLx_eT1RPHbCQ_ECBQfYZpt9s::eku:1.3.6.1.4.1.311.76.59.1.2");
    EXPECT_EQ(m.headers.feed_name(), "ContainerPlat-AMD-UVM");
    ASSERT_TRUE(m.headers.signing_time);
    ASSERT_TRUE(m.payload);
    EXPECT_NE(m.payload->find("x-ms-sevsnpvm-launchmeasurement"), std::string::npos);
    // The did:x509 fingerprint is the SHA-256 of the root.
    EXPECT_EQ(base64url_encode(sha256(m.headers.x5chain[2])), "I__iuL25oXEVFdTP_aBLx_eT1RPHbCQ_ECBQfYZpt9s");
  }
  CoseSign1 m;
  std::string error;
  ASSERT_TRUE(decode_cose_sign1(vectors()[2].bytes, m, error));
  EXPECT_EQ(*m.headers.signing_time, 1675834943);
}

TEST(CoseVectors, AllVerifyAtTheirSigningTimeOrAGivenTime) {
  for (const auto& v : vectors()) {
    VerifiedCose out;
    std::string error;
    EXPECT_TRUE(verify_cose_x5chain(v.bytes, {}, out, error)) << v.name << ": " << error;
    ASSERT_TRUE(out.checked_at) << v.name;
    EXPECT_EQ(*out.checked_at, *out.msg.headers.signed_at()) << v.name;
    EXPECT_EQ(out.chain.size(), 3u);
  }
  // The UVM leaf lived from 2023-01-05 to 2024-01-03: later it is expired,
  // unless validity periods are ignored.
  VerifyOptions later;
  int64_t t;
  ASSERT_TRUE(parse_rfc3339("2025-06-01T00:00:00Z", t));
  later.at = t;
  VerifiedCose out;
  std::string error;
  EXPECT_FALSE(verify_cose_x5chain(vectors()[2].bytes, later, out, error));
  EXPECT_EQ(error, "x5chain does not verify at 2025-06-01T00:00:00Z: certificate has expired");
  later.check_validity = false;
  EXPECT_TRUE(verify_cose_x5chain(vectors()[2].bytes, later, out, error)) << error;
  ASSERT_TRUE(parse_rfc3339("2022-06-01T00:00:00Z", t));
  VerifyOptions before;
  before.at = t;
  EXPECT_FALSE(verify_cose_x5chain(vectors()[2].bytes, before, out, error));
  EXPECT_EQ(error, "x5chain does not verify at 2022-06-01T00:00:00Z: certificate is not yet valid");
}

// Every bit of the protected header (x5chain included), the payload and the signature is
// flipped in turn, and each damaged document goes through the whole verifier. The verifier
// checks the signature before building the chain, which keeps ~100k verifications short.
TEST(CoseVectors, EveryFlippedSignedBitFailsVerification) {
  for (const auto& v : vectors()) {
    VerifiedCose good;
    std::string error;
    ASSERT_TRUE(verify_cose_x5chain(v.bytes, {}, good, error)) << error;
    const CoseSign1& m = good.msg;
    size_t prot_at = v.bytes.find(m.protected_bytes);
    size_t payload_at = v.bytes.find(*m.payload, prot_at + m.protected_bytes.size());
    size_t sig_at = v.bytes.size() - m.signature.size();
    ASSERT_NE(prot_at, std::string::npos);
    ASSERT_NE(payload_at, std::string::npos);
    ASSERT_EQ(v.bytes.substr(sig_at), m.signature);
    size_t flipped = 0, survived = 0;
    auto flip_range = [&](size_t at, size_t len) {
      for (size_t bit = 0; bit < len * 8; ++bit) {
        size_t byte = at + bit / 8;
        std::string bad = v.bytes;
        bad[byte] = static_cast<char>(bad[byte] ^ (1 << (bit % 8)));
        std::string e;
        VerifiedCose out;
        bool ok = verify_cose_x5chain(bad, {}, out, e);
        ++flipped;
        if (ok) {
          ++survived;
          ADD_FAILURE() << v.name << ": flipping bit " << bit % 8 << " of byte " << byte << " still verifies";
        }
      }
    };
    flip_range(prot_at, m.protected_bytes.size());
    flip_range(payload_at, m.payload->size());
    flip_range(sig_at, m.signature.size());
    EXPECT_EQ(survived, 0u) << v.name;
    EXPECT_EQ(flipped, 8 * (m.protected_bytes.size() + m.payload->size() + m.signature.size())) << v.name;
  }
}

TEST(CoseVectors, DetachedPayloadAndExternalAad) {
  auto chain = make_chain("P-256");
  SignRequest r;
  r.alg = Alg::kES256;
  r.x5chain = chain.der();
  r.payload = "detached content";
  r.detached = true;
  r.external_aad = "context";
  std::string msg, error;
  ASSERT_TRUE(sign_cose_sign1(r, chain.leaf.key.get(), msg, error)) << error;
  VerifiedCose out;
  VerifyOptions o;
  EXPECT_FALSE(verify_cose_x5chain(msg, o, out, error));
  EXPECT_EQ(error, "the payload is detached and was not supplied");
  o.detached_payload = "detached content";
  EXPECT_FALSE(verify_cose_x5chain(msg, o, out, error));  // aad missing
  o.external_aad = "context";
  EXPECT_TRUE(verify_cose_x5chain(msg, o, out, error)) << error;
  o.detached_payload = "other content";
  EXPECT_FALSE(verify_cose_x5chain(msg, o, out, error));
}

class RoundTrip : public ::testing::TestWithParam<std::pair<Alg, const char*>> {};

TEST_P(RoundTrip, SignVerifyAndTamper) {
  auto [alg, kind] = GetParam();
  const auto& chain = cached_chain(kind);
  SignRequest r;
  r.alg = alg;
  r.content_type = "application/unknown+rego";
  r.x5chain = chain.der();
  CborMap cwt;
  cwt.emplace_back(CborValue::integer(1), CborValue::text("did:x509:0:sha256:abc::subject:CN:Leaf"));
  cwt.emplace_back(CborValue::integer(2), CborValue::text("feed"));
  cwt.emplace_back(CborValue::integer(6), CborValue::tag(1, CborValue::integer(1700000000)));
  cwt.emplace_back(CborValue::text("svn"), CborValue::integer(3));
  r.extra_protected.emplace_back(CborValue::integer(kHeaderCwtClaims), CborValue::map(cwt));
  r.payload = "package example\n";
  std::string msg, error;
  ASSERT_TRUE(sign_cose_sign1(r, chain.leaf.key.get(), msg, error)) << error;
  VerifiedCose out;
  ASSERT_TRUE(verify_cose_x5chain(msg, {}, out, error)) << alg_name(alg) << ": " << error;
  EXPECT_EQ(out.msg.headers.alg, static_cast<int64_t>(alg));
  EXPECT_EQ(out.msg.headers.issuer(), "did:x509:0:sha256:abc::subject:CN:Leaf");
  EXPECT_EQ(out.msg.headers.feed_name(), "feed");
  EXPECT_EQ(out.msg.headers.cwt->svn->as_int64(), 3);
  EXPECT_EQ(*out.checked_at, 1700000000);  // the chain was checked at iat
  EXPECT_EQ(out.msg.payload, r.payload);
  // Signature bytes or payload changed: refused.
  std::string bad = msg;
  bad[bad.size() - 3] ^= 1;
  EXPECT_FALSE(verify_cose_x5chain(bad, {}, out, error));
  bad = msg;
  bad[bad.find("package example") + 3] ^= 0x20;
  EXPECT_FALSE(verify_cose_x5chain(bad, {}, out, error));
  EXPECT_EQ(error, "COSE signature: signature does not verify");
  // Signed by another key than the x5chain leaf: refused.
  const auto& other = cached_chain(kind, 1);
  ASSERT_TRUE(sign_cose_sign1(r, other.leaf.key.get(), bad, error));
  EXPECT_FALSE(verify_cose_x5chain(bad, {}, out, error));
  // Untagged messages decode too.
  r.tagged = false;
  ASSERT_TRUE(sign_cose_sign1(r, chain.leaf.key.get(), msg, error));
  ASSERT_TRUE(verify_cose_x5chain(msg, {}, out, error)) << error;
  EXPECT_FALSE(out.msg.tagged);
}

INSTANTIATE_TEST_SUITE_P(Algorithms, RoundTrip,
                         ::testing::Values(std::pair{Alg::kES256, "P-256"}, std::pair{Alg::kES384, "P-384"},
                                           std::pair{Alg::kES512, "P-521"}, std::pair{Alg::kPS256, "RSA-2048"},
                                           std::pair{Alg::kPS384, "RSA-2048"}, std::pair{Alg::kPS512, "RSA-2048"},
                                           std::pair{Alg::kEdDSA, "Ed25519"}, std::pair{Alg::kEdDSA, "Ed448"}),
                         [](const auto& info) {
                           std::string kind = info.param.second;
                           for (char& c : kind)
                             if (c == '-') c = '_';
                           return std::string(alg_name(info.param.first)) + "_" + kind;
                         });

TEST(CoseSign, KeyMustSuitAlgorithm) {
  auto chain = make_chain("P-256");
  SignRequest r;
  r.alg = Alg::kPS256;
  r.x5chain = chain.der();
  std::string msg, error;
  EXPECT_FALSE(sign_cose_sign1(r, chain.leaf.key.get(), msg, error));
  EXPECT_EQ(error, "key type does not suit algorithm PS256");
  // ES384 with a P-256 key signs with 64-byte r||s; a verifier that reads the
  // curve accepts it, and one fixed to 96 bytes would not see a valid shape.
  r.alg = Alg::kES384;
  ASSERT_TRUE(sign_cose_sign1(r, chain.leaf.key.get(), msg, error)) << error;
  VerifiedCose out;
  EXPECT_TRUE(verify_cose_x5chain(msg, {}, out, error)) << error;
  EXPECT_EQ(out.msg.signature.size(), 64u);
}

TEST(CoseDecode, RejectsMalformedStructure) {
  auto chain = make_chain("P-256");
  auto fail = [](const CborValue& v) {
    CoseSign1 m;
    std::string error;
    EXPECT_FALSE(decode_cose_sign1(cbor_encode(v), m, error));
    return error;
  };
  CborMap prot{{CborValue::integer(1), CborValue::integer(-7)}};
  auto good = [&](CborValue p, CborValue u = CborValue::map({})) {
    return CborArray{CborValue::bytes(cbor_encode(p)), std::move(u), CborValue::bytes("x"), CborValue::bytes("s")};
  };
  EXPECT_EQ(fail(CborValue::tag(17, CborValue::array(good(CborValue::map(prot))))),
            "COSE: tag 17 is not COSE_Sign1 (18)");
  EXPECT_EQ(fail(CborValue::array({})), "COSE_Sign1 is not an array of four elements");
  auto a = good(CborValue::map(prot));
  a[0] = CborValue::text("x");
  EXPECT_EQ(fail(CborValue::array(a)), "COSE_Sign1 protected header is not a byte string");
  a = good(CborValue::map(prot));
  a[2] = CborValue::integer(1);
  EXPECT_EQ(fail(CborValue::array(a)), "COSE_Sign1 payload is neither a byte string nor nil");
  EXPECT_EQ(fail(CborValue::array(good(CborValue::array({})))), "COSE_Sign1 protected header is not a map");
  EXPECT_EQ(fail(CborValue::array(good(CborValue::map({})))), "COSE protected header has no alg");
  EXPECT_EQ(fail(CborValue::array(good(CborValue::map(prot), CborValue::map(prot)))),
            "COSE header label 1 is both protected and unprotected");
  CborMap p2 = prot;
  p2.emplace_back(CborValue::integer(33), CborValue::array({}));
  EXPECT_EQ(fail(CborValue::array(good(CborValue::map(p2)))),
            "COSE header x5chain is neither a byte string nor a non-empty array");
  p2 = prot;
  p2.emplace_back(CborValue::integer(2), CborValue::array({CborValue::integer(99)}));
  p2.emplace_back(CborValue::integer(99), CborValue::integer(0));
  EXPECT_EQ(fail(CborValue::array(good(CborValue::map(p2)))),
            "COSE header crit lists a label this verifier does not process: 99");
  p2 = prot;
  p2.emplace_back(CborValue::integer(15), CborValue::map({{CborValue::integer(1), CborValue::integer(5)}}));
  EXPECT_EQ(fail(CborValue::array(good(CborValue::map(p2)))), "COSE header CWT iss is not a text string");
  p2 = prot;
  p2.emplace_back(CborValue::text("feed"), CborValue::bytes("f"));
  EXPECT_EQ(fail(CborValue::array(good(CborValue::map(p2)))), "COSE header feed is not a text string");
  // Trailing bytes after the message and non-shortest encodings are refused.
  CoseSign1 m;
  std::string error;
  std::string enc = cbor_encode(CborValue::array(good(CborValue::map(prot))));
  EXPECT_TRUE(decode_cose_sign1(enc, m, error)) << error;
  EXPECT_FALSE(decode_cose_sign1(enc + std::string(1, '\0'), m, error));
  EXPECT_EQ(error, "CBOR: offset 10: 1 trailing bytes after the item");
  // A protected map encoded non-minimally inside its bstr.
  std::string p_bad = "\xa1\x01\x38\x06";  // {1: -7} with -7 written as 0x38 0x06
  CborArray arr{CborValue::bytes(p_bad), CborValue::map({}), CborValue::bytes("x"), CborValue::bytes("s")};
  EXPECT_FALSE(decode_cose_sign1(cbor_encode(CborValue::array(arr)), m, error));
  EXPECT_EQ(error, "COSE_Sign1 protected header: CBOR: offset 2: integer or length not in shortest form");
}

TEST(CoseVerify, ChainProblemsAreReported) {
  auto chain = make_chain("P-256");
  SignRequest r;
  r.alg = Alg::kES256;
  r.payload = "p";
  std::string msg, error;
  VerifiedCose out;
  ASSERT_TRUE(sign_cose_sign1(r, chain.leaf.key.get(), msg, error));
  EXPECT_FALSE(verify_cose_x5chain(msg, {}, out, error));
  EXPECT_EQ(error, "COSE protected header has no x5chain");
  // The leaf alone (not self-signed) is its own anchor and verifies like cosesign1go does.
  r.x5chain = {cert_der(chain.leaf.cert.get())};
  ASSERT_TRUE(sign_cose_sign1(r, chain.leaf.key.get(), msg, error));
  EXPECT_TRUE(verify_cose_x5chain(msg, {}, out, error)) << error;
  // A chain with the intermediate missing does not.
  r.x5chain = {cert_der(chain.leaf.cert.get()), cert_der(chain.root.cert.get())};
  ASSERT_TRUE(sign_cose_sign1(r, chain.leaf.key.get(), msg, error));
  EXPECT_FALSE(verify_cose_x5chain(msg, {}, out, error));
  EXPECT_EQ(error.substr(0, 22), "x5chain does not verif");
  // x5t naming another certificate.
  r.x5chain = chain.der();
  r.extra_protected.emplace_back(CborValue::integer(kHeaderX5t),
                                 CborValue::array({CborValue::integer(-16), CborValue::bytes(sha256("other"))}));
  ASSERT_TRUE(sign_cose_sign1(r, chain.leaf.key.get(), msg, error));
  EXPECT_FALSE(verify_cose_x5chain(msg, {}, out, error));
  EXPECT_EQ(error, "x5t does not match the x5chain leaf");
}

TEST(Rfc3339, ParseAndFormat) {
  int64_t t;
  ASSERT_TRUE(parse_rfc3339("2023-02-08T05:42:23Z", t));
  EXPECT_EQ(t, 1675834943);
  ASSERT_TRUE(parse_rfc3339("2023-02-08T06:42:23.5+01:00", t));
  EXPECT_EQ(t, 1675834943);
  EXPECT_EQ(format_rfc3339(1675834943), "2023-02-08T05:42:23Z");
  EXPECT_FALSE(parse_rfc3339("2023-02-08", t));
  EXPECT_FALSE(parse_rfc3339("2023-13-08T05:42:23Z", t));
  EXPECT_FALSE(parse_rfc3339("2023-02-08T05:42:23Zjunk", t));
}

}  // namespace
}  // namespace confidant::cose::testing
