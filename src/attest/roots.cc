// The AMD roots (ASK/ASVK then ARK per product), embedded byte for byte with
// the assembler's .incbin from src/attest/roots/*.pem (public AMD PKI data
// from go-sev-guest's verify/trust). The assembler finds the files through
// the compiler's include path (src/).
#include <openssl/x509.h>

#include "attest/attest.h"

#define CONFIDANT_EMBED(sym, file)     \
  __asm__(                             \
      ".pushsection .rodata\n"         \
      ".global " #sym                  \
      "_begin\n"                       \
      ".global " #sym "_end\n" #sym    \
      "_begin:\n"                      \
      ".incbin \"" file "\"\n" #sym    \
      "_end:\n"                        \
      ".byte 0\n"                      \
      ".popsection\n");                \
  extern "C" const char sym##_begin[]; \
  extern "C" const char sym##_end[];

CONFIDANT_EMBED(confidant_amd_milan, "attest/roots/milan.pem")
CONFIDANT_EMBED(confidant_amd_milan_vlek, "attest/roots/milan_vlek.pem")
CONFIDANT_EMBED(confidant_amd_genoa, "attest/roots/genoa.pem")
CONFIDANT_EMBED(confidant_amd_turin, "attest/roots/turin.pem")

namespace confidant::attest {

namespace {

struct Embedded {
  Product product;
  bool vlek;
  const char* begin;
  const char* end;
};

std::vector<AmdRoot> load_roots() {
  const Embedded files[] = {
      {Product::kMilan, false, confidant_amd_milan_begin, confidant_amd_milan_end},
      {Product::kMilan, true, confidant_amd_milan_vlek_begin, confidant_amd_milan_vlek_end},
      {Product::kGenoa, false, confidant_amd_genoa_begin, confidant_amd_genoa_end},
      {Product::kTurin, false, confidant_amd_turin_begin, confidant_amd_turin_end},
  };
  std::vector<AmdRoot> out;
  for (const Embedded& f : files) {
    std::vector<Certificate> certs;
    std::string error;
    // A build with broken roots must not silently trust less or more: such a
    // root is left out and every report of that product fails to verify.
    if (!parse_pem_certificates(std::string_view(f.begin, static_cast<size_t>(f.end - f.begin)), certs, error) ||
        certs.size() != 2)
      continue;
    out.push_back(AmdRoot{f.product, f.vlek, certs[0], certs[1]});
  }
  return out;
}

}  // namespace

const std::vector<AmdRoot>& builtin_amd_roots() {
  static const std::vector<AmdRoot> roots = load_roots();
  return roots;
}

TrustStore TrustStore::empty() { return TrustStore(); }

TrustStore TrustStore::amd() {
  TrustStore t;
  for (const AmdRoot& r : builtin_amd_roots()) {
    bool known = false;
    for (const Anchor& a : t.anchors_) known = known || a.ark.same_as(r.ark);
    if (!known) t.anchors_.push_back(Anchor{r.ark, r.product, true});
    t.intermediates_.push_back(r.ask);
  }
  return t;
}

bool TrustStore::add_ark(const Certificate& ark, std::string& error) {
  if (!ark) {
    error = "no certificate";
    return false;
  }
  if (!ark.self_issued()) {
    error = "trusted ARK '" + ark.subject_cn() + "' is not self-issued";
    return false;
  }
  EVP_PKEY* key = X509_get0_pubkey(ark.x509());
  if (!key || EVP_PKEY_get_base_id(key) != EVP_PKEY_RSA) {
    error = "trusted ARK '" + ark.subject_cn() + "' has no RSA key";
    return false;
  }
  if (X509_verify(ark.x509(), key) != 1) {
    error = "trusted ARK '" + ark.subject_cn() + "' is not self-signed";
    return false;
  }
  for (const Anchor& a : anchors_)
    if (a.ark.same_as(ark)) return true;
  anchors_.push_back(Anchor{ark, Product::kUnknown, false});
  return true;
}

bool TrustStore::add_ark_pem(std::string_view pem, std::string& error) {
  std::vector<Certificate> certs;
  if (!parse_pem_certificates(pem, certs, error)) return false;
  // A chain file may be given (VCEK, ASK, ARK): the self-issued one is the root.
  for (const Certificate& c : certs)
    if (c.self_issued()) return add_ark(c, error);
  error = "no self-issued root certificate in the PEM";
  return false;
}

}  // namespace confidant::attest
