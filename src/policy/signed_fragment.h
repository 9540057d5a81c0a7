// Signed ACI policy fragments (aci-execution-policy.md section 8): the
// COSE_Sign1 envelope the host injects is verified here, then the policy
// decides through Enforcer::load_fragment.
//
//   policy::Decision d = policy::load_signed_fragment(enforcer, cose_bytes);
//   if (!d.allowed) return d.reasons;  // bad signature, chain, DID, or the policy said no
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "policy/policy.h"

namespace confidant::policy {

struct SignedFragmentOptions {
  // Time at which the x5chain must be valid; default: the fragment's signing
  // time (CWT iat or signingtime) when it has one, else now.
  std::optional<int64_t> at;
  bool check_validity = true;
};

// What a verified envelope says.
struct SignedFragment {
  std::string issuer;  // did:x509, resolved against the x5chain
  std::string feed;
  std::optional<int64_t> header_svn;  // CWT svn, or the protected text label "svn"
  std::string text;                   // the Rego payload
  std::string content_type;
};

// COSE signature with the x5chain leaf, chain validation, non-empty issuer
// and feed, issuer DID resolution (validity ignored, as hcsshim does), and
// an integer header svn when present. False with the reason.
bool verify_signed_fragment(std::string_view cose, const SignedFragmentOptions& options, SignedFragment& out,
                            std::string& error);

// verify_signed_fragment, then Enforcer::load_fragment with the verified
// issuer, feed, text and header svn. A verification failure is a denial
// whose single reason says what was wrong; the policy is not consulted.
Decision load_signed_fragment(Enforcer& enforcer, std::string_view cose, const SignedFragmentOptions& options = {},
                              SignedFragment* verified = nullptr);

// What `confidant fragment create` signs (the acifragmentgen convention).
struct FragmentSigning {
  std::string name_space;  // must be the package of `rego` (first line)
  int64_t svn = 0;
  std::string feed;  // registry/repository the fragment is published for
  std::string rego;
  std::string key_pem;    // private key of the chain's leaf
  std::string chain_pem;  // leaf first, root last
  std::string algo = "ES384";
  std::string predicate = "subject";  // did:x509 predicate from the leaf: subject (CN) or eku
  // false: legacy string labels "iss", "feed" and "svn" in the protected
  // header (what acifragmentgen emits); true: CWT claims {iss, sub, iat, svn}.
  bool cwt_claims = false;
  std::optional<int64_t> iat;  // CWT iat; default now
};

// Signs a fragment: COSE_Sign1 (tag 18) with alg, content type
// application/unknown+rego, x5chain and the issuer/feed/svn headers; the
// payload is the Rego text. `issuer` receives the derived did:x509.
bool create_signed_fragment(const FragmentSigning& request, std::string& cose, std::string& issuer, std::string& error);

// The namespace of a fragment text: the identifier of its first line
// `package <name>`; false when the first line is not such a clause.
bool fragment_namespace(std::string_view text, std::string& name);

}  // namespace confidant::policy
