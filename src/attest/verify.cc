// Report verification (reference: attestation.md section 4).
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/ecdsa.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include <cstring>

#include "attest/attest.h"

namespace confidant::attest {

struct Verifier::Chain {
  std::vector<Certificate> path;  // leaf, ASK/ASVK, ARK
  AmdExtensions ext;
  SigningKey signer = SigningKey::kVcek;
  Product product = Product::kUnknown;
  bool builtin = false;
};

namespace {

constexpr uint64_t kPolicyReservedOne = 1ull << 17;
constexpr uint64_t kPolicyMbz = ~((1ull << 26) - 1);

std::string cn_of(const Certificate& c) {
  std::string cn = c.subject_cn();
  return cn.empty() ? c.subject() : cn;
}

// AMD signs with RSASSA-PSS, SHA-384, MGF1-SHA-384, salt 48; anything else
// in a chain that claims to be AMD's is refused before the signature is tried.
bool check_pss_sha384(const Certificate& c, std::string& error) {
  const X509_ALGOR* alg = nullptr;
  X509_get0_signature(nullptr, &alg, c.x509());
  const ASN1_OBJECT* obj = nullptr;
  int ptype = 0;
  const void* pval = nullptr;
  X509_ALGOR_get0(&obj, &ptype, &pval, alg);
  std::string bad = "certificate '" + cn_of(c) + "' is not signed with RSASSA-PSS SHA-384 (MGF1 SHA-384, salt 48)";
  if (OBJ_obj2nid(obj) != NID_rsassaPss || ptype != V_ASN1_SEQUENCE || !pval) {
    error = bad;
    return false;
  }
  const ASN1_STRING* seq = static_cast<const ASN1_STRING*>(pval);
  const unsigned char* p = ASN1_STRING_get0_data(seq);
  RSA_PSS_PARAMS* pss = d2i_RSA_PSS_PARAMS(nullptr, &p, ASN1_STRING_length(seq));
  bool ok = false;
  if (pss && pss->hashAlgorithm && OBJ_obj2nid(pss->hashAlgorithm->algorithm) == NID_sha384 && pss->saltLength &&
      ASN1_INTEGER_get(pss->saltLength) == 48 && pss->maskGenAlgorithm &&
      OBJ_obj2nid(pss->maskGenAlgorithm->algorithm) == NID_mgf1 && pss->maskGenAlgorithm->parameter &&
      pss->maskGenAlgorithm->parameter->type == V_ASN1_SEQUENCE) {
    const ASN1_STRING* mseq = pss->maskGenAlgorithm->parameter->value.sequence;
    const unsigned char* mp = ASN1_STRING_get0_data(mseq);
    X509_ALGOR* mhash = d2i_X509_ALGOR(nullptr, &mp, ASN1_STRING_length(mseq));
    ok = mhash && OBJ_obj2nid(mhash->algorithm) == NID_sha384;
    X509_ALGOR_free(mhash);
  }
  RSA_PSS_PARAMS_free(pss);
  ERR_clear_error();
  if (!ok) error = bad;
  return ok;
}

bool signed_by(const Certificate& child, const Certificate& parent) {
  if (X509_NAME_cmp(X509_get_issuer_name(child.x509()), X509_get_subject_name(parent.x509())) != 0) return false;
  EVP_PKEY* key = X509_get0_pubkey(parent.x509());
  bool ok = key && EVP_PKEY_get_base_id(key) == EVP_PKEY_RSA && X509_verify(child.x509(), key) == 1;
  ERR_clear_error();
  return ok;
}

bool is_ec_p384(const Certificate& c) {
  EVP_PKEY* key = X509_get0_pubkey(c.x509());
  if (!key || EVP_PKEY_get_base_id(key) != EVP_PKEY_EC) return false;
  char group[64] = {0};
  size_t len = 0;
  return EVP_PKEY_get_group_name(key, group, sizeof group, &len) == 1 && std::string_view(group) == "secp384r1";
}

std::string format_time(std::time_t t) {
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string tcb_text(uint64_t raw, Product p) {
  TcbParts t = decode_tcb(raw, p);
  char buf[96];
  if (has_fmc(p))
    std::snprintf(buf, sizeof buf, "0x%016llx (fmc %u bl %u tee %u snp %u ucode %u)",
                  static_cast<unsigned long long>(raw), t.fmc, t.bl, t.tee, t.snp, t.ucode);
  else
    std::snprintf(buf, sizeof buf, "0x%016llx (bl %u tee %u snp %u ucode %u)", static_cast<unsigned long long>(raw),
                  t.bl, t.tee, t.snp, t.ucode);
  return buf;
}

bool verify_signature(std::span<const uint8_t> raw, const Report& r, const Certificate& leaf, std::string& error) {
  // r and s are 48-byte values zero-extended to 72 bytes; a set high byte is
  // not a P-384 signature.
  for (size_t i = 48; i < 72; ++i) {
    if (r.signature_r[i] != 0 || r.signature_s[i] != 0) {
      error = "report signature has non-zero bytes beyond the 48-byte P-384 values";
      return false;
    }
  }
  BIGNUM* br = BN_lebin2bn(r.signature_r.data(), 48, nullptr);
  BIGNUM* bs = BN_lebin2bn(r.signature_s.data(), 48, nullptr);
  ECDSA_SIG* sig = ECDSA_SIG_new();
  if (!br || !bs || !sig || ECDSA_SIG_set0(sig, br, bs) != 1) {
    BN_free(br);
    BN_free(bs);
    ECDSA_SIG_free(sig);
    error = "out of memory";
    return false;
  }
  unsigned char* der = nullptr;
  int der_len = i2d_ECDSA_SIG(sig, &der);
  ECDSA_SIG_free(sig);
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  bool ok = der_len > 0 && ctx &&
            EVP_DigestVerifyInit(ctx, nullptr, EVP_sha384(), nullptr, X509_get0_pubkey(leaf.x509())) == 1 &&
            EVP_DigestVerify(ctx, der, static_cast<size_t>(der_len), raw.data(), kSignedSize) == 1;
  EVP_MD_CTX_free(ctx);
  OPENSSL_free(der);
  ERR_clear_error();
  if (!ok) error = "report signature does not verify with the " + std::string(r.signing_key() == 1 ? "VLEK" : "VCEK");
  return ok;
}

}  // namespace

Verifier::Verifier(TrustStore trust) : trust_(std::move(trust)) {}
Verifier::~Verifier() = default;

void Verifier::clear_cache() {
  std::lock_guard lock(mu_);
  cache_.clear();
}

bool Verifier::build_chain(const CertBundle& bundle, std::shared_ptr<const Chain>& out, std::string& error) {
  auto chain = std::make_shared<Chain>();
  // Roots are never taken from the bundle: one that is not already trusted
  // is refused outright (rather than ignored) to name the problem.
  std::vector<Certificate> intermediates;
  std::vector<Certificate> leaves;
  for (const Certificate& c : bundle.certs) {
    if (c.self_issued()) {
      bool trusted = false;
      for (const auto& a : trust_.anchors()) trusted = trusted || a.ark.same_as(c);
      if (!trusted) {
        error = "certificate chain contains an untrusted root '" + cn_of(c) +
                "' (not a built-in AMD ARK nor an explicitly trusted one)";
        return false;
      }
      continue;
    }
    if (is_ec_p384(c)) {
      leaves.push_back(c);
    } else {
      intermediates.push_back(c);
    }
  }
  if (leaves.size() != 1) {
    error = leaves.empty() ? "no VCEK/VLEK certificate (EC P-384) among the certificates"
                           : "more than one VCEK/VLEK certificate among the certificates";
    return false;
  }
  const Certificate& leaf = leaves[0];
  for (const Certificate& c : trust_.intermediates()) intermediates.push_back(c);

  const TrustStore::Anchor* anchor = nullptr;
  const Certificate* ask = nullptr;
  std::string why = "no ASK/ASVK certificate issued the " + cn_of(leaf) + " (issuer not found)";
  for (const Certificate& cand : intermediates) {
    if (X509_NAME_cmp(X509_get_issuer_name(leaf.x509()), X509_get_subject_name(cand.x509())) != 0) continue;
    if (!signed_by(leaf, cand)) {
      why = "the " + cn_of(leaf) + " certificate signature does not verify with '" + cn_of(cand) + "'";
      continue;
    }
    for (const auto& a : trust_.anchors()) {
      if (signed_by(cand, a.ark)) {
        anchor = &a;
        break;
      }
    }
    if (anchor) {
      ask = &cand;
      break;
    }
    why = "'" + cn_of(cand) + "' does not chain to a trusted ARK";
  }
  if (!anchor) {
    error = why;
    return false;
  }
  if (!signed_by(anchor->ark, anchor->ark)) {
    error = "ARK '" + cn_of(anchor->ark) + "' is not self-signed";
    return false;
  }
  for (const Certificate* c : {&leaf, ask, &anchor->ark})
    if (!check_pss_sha384(*c, error)) return false;
  if (X509_get_version(leaf.x509()) != X509_VERSION_3) {
    error = "the " + cn_of(leaf) + " certificate is not X.509 v3";
    return false;
  }
  if (!parse_amd_extensions(leaf, chain->ext, error)) return false;
  const AmdExtensions& e = chain->ext;
  if (e.hw_id && !e.csp_id) {
    chain->signer = SigningKey::kVcek;
  } else if (e.csp_id && !e.hw_id) {
    chain->signer = SigningKey::kVlek;
  } else {
    error = "certificate '" + cn_of(leaf) + "' is neither a VCEK (hwID, no cspID) nor a VLEK (cspID, no hwID)";
    return false;
  }
  const char* want_cn = chain->signer == SigningKey::kVcek ? "SEV-VCEK" : "SEV-VLEK";
  if (leaf.subject_cn() != want_cn) {
    error = "certificate CN '" + leaf.subject_cn() + "' should be " + want_cn;
    return false;
  }
  if (!e.product_name) {
    error = "the " + std::string(want_cn) + " certificate has no productName extension";
    return false;
  }
  chain->product = parse_product(*e.product_name);
  if (chain->product == Product::kUnknown) {
    error = "unknown product '" + *e.product_name + "' in the " + want_cn + " certificate";
    return false;
  }
  chain->builtin = anchor->builtin;
  if (anchor->builtin) {
    if (anchor->product != chain->product) {
      error = std::string("the ") + want_cn + " is for " + product_name(chain->product) + " but chains to " +
              cn_of(anchor->ark);
      return false;
    }
    // VCEKs hang under the ASK ("SEV-<product>"), VLEKs under the ASVK ("SEV-VLEK-<product>").
    std::string want_ask =
        std::string(chain->signer == SigningKey::kVlek ? "SEV-VLEK-" : "SEV-") + product_name(chain->product);
    if (ask->subject_cn() != want_ask) {
      error = std::string("the ") + want_cn + " is issued by '" + cn_of(*ask) + "', expected " + want_ask;
      return false;
    }
  }
  chain->path = {leaf, *ask, anchor->ark};
  out = std::move(chain);
  return true;
}

bool Verifier::verify(std::span<const uint8_t> raw, const CertBundle& certs, const VerifyOptions& options,
                      VerifiedReport& out, std::string& error) {
  Report r;
  if (!parse_report(raw, r, error)) return false;
  if (r.signature_algo != 1) {
    error = "unsupported report signature algorithm " + std::to_string(r.signature_algo) + " (1 = ECDSA P-384)";
    return false;
  }
  if (!(r.policy & kPolicyReservedOne)) {
    error = "report policy bit 17 (reserved, must be one) is clear";
    return false;
  }
  if (r.policy & kPolicyMbz) {
    error = "report policy has reserved bits 26-63 set";
    return false;
  }
  if (r.signing_key() == 7) {
    error = "report is not signed (SIGNING_KEY = none)";
    return false;
  }
  if (r.signing_key() > 1) {
    error = "report SIGNING_KEY " + std::to_string(r.signing_key()) + " is reserved";
    return false;
  }

  // The chain's validation depends only on the certificates and the trust store.
  std::vector<uint8_t> key;
  for (const Certificate& c : certs.certs) {
    std::vector<uint8_t> d = c.der();
    key.insert(key.end(), d.begin(), d.end());
  }
  std::shared_ptr<const Chain> chain;
  {
    std::lock_guard lock(mu_);
    auto it = cache_.find(key);
    if (it != cache_.end()) chain = it->second;
  }
  if (!chain) {
    if (!build_chain(certs, chain, error)) return false;
    std::lock_guard lock(mu_);
    if (cache_.size() >= 256) cache_.clear();
    cache_.emplace(std::move(key), chain);
  }

  const char* signer = chain->signer == SigningKey::kVcek ? "VCEK" : "VLEK";
  if (r.signing_key() != static_cast<uint32_t>(chain->signer)) {
    error = std::string("report is signed by the ") + (r.signing_key() == 0 ? "VCEK" : "VLEK") +
            " but the certificate is a " + signer;
    return false;
  }
  std::time_t at = options.at ? *options.at : std::time(nullptr);
  for (const Certificate& c : chain->path) {
    if (X509_cmp_time(X509_get0_notBefore(c.x509()), &at) >= 0 ||
        X509_cmp_time(X509_get0_notAfter(c.x509()), &at) <= 0) {
      error = "certificate '" + cn_of(c) + "' is not valid at " + format_time(at);
      return false;
    }
  }
  Product product = chain->product;
  if (r.product() != Product::kUnknown && r.product() != product) {
    error = std::string("report CPUID says ") + product_name(r.product()) + " but the " + signer + " is for " +
            product_name(product);
    return false;
  }
  if (r.version >= 3 && r.product() == Product::kUnknown) {
    char buf[96];
    std::snprintf(buf, sizeof buf, "report CPUID family 0x%02x model 0x%02x is not a known product", r.cpuid_fam_id,
                  r.cpuid_mod_id);
    error = buf;
    return false;
  }
  const AmdExtensions& e = chain->ext;
  if (chain->signer == SigningKey::kVcek && !r.mask_chip_key()) {
    size_t n = has_fmc(product) ? 8 : 64;
    if (e.hw_id->size() != n || std::memcmp(e.hw_id->data(), r.chip_id.data(), n) != 0) {
      error = "VCEK hwID " + hex(*e.hw_id) + " does not match the report CHIP_ID " + hex({r.chip_id.data(), n});
      return false;
    }
  }
  TcbParts tcb = decode_tcb(r.reported_tcb, product);
  struct {
    const char* name;
    const std::optional<int64_t>& cert;
    uint8_t report;
  } spls[] = {{"blSPL", e.bl_spl, tcb.bl},
              {"teeSPL", e.tee_spl, tcb.tee},
              {"snpSPL", e.snp_spl, tcb.snp},
              {"ucodeSPL", e.ucode_spl, tcb.ucode},
              {"fmcSPL", e.fmc_spl, tcb.fmc}};
  for (const auto& s : spls) {
    if (std::string_view(s.name) == "fmcSPL" && !has_fmc(product)) continue;
    if (!s.cert) {
      error = std::string("the ") + signer + " has no " + s.name + " extension";
      return false;
    }
    if (*s.cert != s.report) {
      error = std::string("TCB mismatch: the ") + signer + " " + s.name + " is " + std::to_string(*s.cert) +
              " but the report REPORTED_TCB is " + tcb_text(r.reported_tcb, product);
      return false;
    }
  }
  if (certs.thim_tcbm && *certs.thim_tcbm != r.reported_tcb) {
    error = "the certificate bundle is for TCB " + tcb_text(*certs.thim_tcbm, product) +
            " but the report REPORTED_TCB is " + tcb_text(r.reported_tcb, product);
    return false;
  }
  if (!verify_signature(raw, r, chain->path[0], error)) return false;
  if (!check_report_policy(r, product, options, error)) return false;

  out.report = r;
  out.product = product;
  out.signer = chain->signer;
  out.extensions = e;
  out.chain.clear();
  for (const Certificate& c : chain->path) out.chain.push_back(cn_of(c));
  out.builtin_root = chain->builtin;
  return true;
}

bool check_report_policy(const Report& r, Product product, const VerifyOptions& o, std::string& error) {
  if (r.debug() && !o.allow_debug) {
    error = "report policy allows debugging (bit 19) and debug is not allowed";
    return false;
  }
  if (o.min_tcb && !tcb_at_least(r.reported_tcb, *o.min_tcb, product)) {
    error =
        "REPORTED_TCB " + tcb_text(r.reported_tcb, product) + " is below the minimum " + tcb_text(*o.min_tcb, product);
    return false;
  }
  if (o.vmpl && r.vmpl != *o.vmpl) {
    error = "report VMPL is " + std::to_string(r.vmpl) + ", expected " + std::to_string(*o.vmpl);
    return false;
  }
  if (o.measurement && r.measurement != *o.measurement) {
    error = "MEASUREMENT " + hex(r.measurement) + " is not the expected " + hex(*o.measurement);
    return false;
  }
  if (o.host_data && r.host_data != *o.host_data) {
    error = "HOST_DATA " + hex(r.host_data) + " is not the expected " + hex(*o.host_data);
    return false;
  }
  if (o.report_data && r.report_data != *o.report_data) {
    error = "REPORT_DATA " + hex(r.report_data) + " is not the expected " + hex(*o.report_data);
    return false;
  }
  return true;
}

nlohmann::ordered_json verified_to_json(const VerifiedReport& v) {
  nlohmann::ordered_json j;
  j["verified"] = true;
  j["product"] = product_name(v.product);
  j["signer"] = v.signer == SigningKey::kVcek ? "VCEK" : "VLEK";
  j["root"] = v.builtin_root ? "amd" : "explicitly trusted (not AMD)";
  j["chain"] = v.chain;
  j["certificate_extensions"] = extensions_to_json(v.extensions);
  j["report"] = report_to_json(v.report, v.product);
  return j;
}

std::string kds_vcek_url(const Report& r, Product product) {
  TcbParts t = decode_tcb(r.reported_tcb, product);
  size_t n = has_fmc(product) ? 8 : 64;
  std::string url = "https://kdsintf.amd.com/vcek/v1/" + std::string(product_name(product)) + "/" +
                    hex({r.chip_id.data(), n}) + "?blSPL=" + std::to_string(t.bl) + "&teeSPL=" + std::to_string(t.tee) +
                    "&snpSPL=" + std::to_string(t.snp) + "&ucodeSPL=" + std::to_string(t.ucode);
  if (has_fmc(product)) url += "&fmcSPL=" + std::to_string(t.fmc);
  return url;
}

}  // namespace confidant::attest
