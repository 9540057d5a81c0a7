#include "policy/signed_fragment.h"

#include <ctime>

#include "cose/cose_sign1.h"
#include "cose/didx509.h"
#include "cose/x509_chain.h"

namespace confidant::policy {

bool verify_signed_fragment(std::string_view cose_bytes, const SignedFragmentOptions& options, SignedFragment& out,
                            std::string& error) {
  out = SignedFragment();
  cose::VerifyOptions vo;
  vo.at = options.at;
  vo.check_validity = options.check_validity;
  cose::VerifiedCose v;
  std::string e;
  if (!cose::verify_cose_x5chain(cose_bytes, vo, v, e)) {
    error = "fragment envelope: " + e;
    return false;
  }
  const cose::CoseHeaders& h = v.msg.headers;
  out.issuer = h.issuer();
  out.feed = h.feed_name();
  if (out.issuer.empty()) {
    error = "fragment envelope has no issuer";
    return false;
  }
  if (out.feed.empty()) {
    error = "fragment envelope has no feed";
    return false;
  }
  // The DID is not pinned here (the policy's fragment imports do that), but
  // it must describe the chain that signed.
  std::string doc;
  if (!cose::resolve_did_x509(out.issuer, v.chain, doc, e)) {
    error = "fragment issuer " + out.issuer + " does not resolve against its x5chain: " + e;
    return false;
  }
  const cose::CborValue* svn = nullptr;
  if (h.cwt && h.cwt->svn)
    svn = &*h.cwt->svn;
  else if (!h.cwt)
    svn = v.msg.protected_map.find("svn");
  if (svn) {
    auto n = svn->as_int64();
    if (!n) {
      error = "fragment header svn is not an integer";
      return false;
    }
    out.header_svn = *n;
  }
  if (!v.msg.payload) {
    error = "fragment payload is detached";
    return false;
  }
  out.text = *v.msg.payload;
  out.content_type = h.content_type.value_or("");
  return true;
}

Decision load_signed_fragment(Enforcer& enforcer, std::string_view cose_bytes, const SignedFragmentOptions& options,
                              SignedFragment* verified) {
  SignedFragment f;
  std::string error;
  if (!verify_signed_fragment(cose_bytes, options, f, error)) {
    Decision d;
    d.allowed = false;
    d.reasons.push_back(error);
    d.message = error;
    return d;
  }
  FragmentRequest request;
  request.issuer = f.issuer;
  request.feed = f.feed;
  request.text = f.text;
  request.header_svn = f.header_svn;
  // Receipts (unprotected label 394) need keys from loaded transparency
  // trust lists, which are not kept yet: none are presented as validated.
  if (verified) *verified = f;
  return enforcer.load_fragment(request);
}

bool fragment_namespace(std::string_view text, std::string& name) {
  std::string_view line = text.substr(0, text.find('\n'));
  constexpr std::string_view kPackage = "package ";
  if (!line.starts_with(kPackage)) return false;
  line.remove_prefix(kPackage.size());
  while (!line.empty() && line.front() == ' ') line.remove_prefix(1);
  while (!line.empty() && (line.back() == ' ' || line.back() == '\t' || line.back() == '\r')) line.remove_suffix(1);
  if (line.empty()) return false;
  for (size_t i = 0; i < line.size(); ++i) {
    char c = line[i];
    bool ok = c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  name = line;
  return true;
}

bool create_signed_fragment(const FragmentSigning& r, std::string& out, std::string& issuer, std::string& error) {
  std::string ns;
  if (!fragment_namespace(r.rego, ns)) {
    error = "the Rego text must start with `package <namespace>`";
    return false;
  }
  if (ns != r.name_space) {
    error = "the Rego package is " + ns + ", not the namespace " + r.name_space;
    return false;
  }
  if (r.feed.empty()) {
    error = "the feed is empty";
    return false;
  }
  auto alg = cose::alg_from_name(r.algo);
  if (!alg) {
    error = "unknown algorithm " + r.algo + " (ES256, ES384, ES512, PS256, PS384, PS512, EdDSA)";
    return false;
  }
  cose::Pkey key = cose::load_private_key_pem(r.key_pem, error);
  if (!key) return false;
  std::vector<cose::Cert> chain;
  if (!cose::parse_certs_pem(r.chain_pem, chain, error)) return false;
  if (EVP_PKEY_eq(key.get(), X509_get0_pubkey(chain[0].get())) != 1) {
    error = "the key is not the key of the chain's first (leaf) certificate";
    return false;
  }
  if (!cose::derive_did_x509(chain, r.predicate, issuer, error)) return false;
  std::string doc;
  if (!cose::resolve_did_x509(issuer, chain, doc, error)) {
    error = "the chain does not resolve its own did:x509: " + error;
    return false;
  }
  cose::SignRequest s;
  s.alg = *alg;
  s.content_type = "application/unknown+rego";
  for (const auto& c : chain) s.x5chain.push_back(cose::cert_der(c.get()));
  using cose::CborValue;
  if (r.cwt_claims) {
    cose::CborMap cwt;
    cwt.emplace_back(CborValue::integer(1), CborValue::text(issuer));
    cwt.emplace_back(CborValue::integer(2), CborValue::text(r.feed));
    cwt.emplace_back(CborValue::integer(6),
                     CborValue::tag(1, CborValue::integer(r.iat.value_or(static_cast<int64_t>(std::time(nullptr))))));
    cwt.emplace_back(CborValue::text("svn"), CborValue::integer(r.svn));
    s.extra_protected.emplace_back(CborValue::integer(cose::kHeaderCwtClaims), CborValue::map(std::move(cwt)));
  } else {
    s.extra_protected.emplace_back(CborValue::text("iss"), CborValue::text(issuer));
    s.extra_protected.emplace_back(CborValue::text("feed"), CborValue::text(r.feed));
    s.extra_protected.emplace_back(CborValue::text("svn"), CborValue::integer(r.svn));
  }
  s.payload = r.rego;
  return cose::sign_cose_sign1(s, key.get(), out, error);
}

}  // namespace confidant::policy
