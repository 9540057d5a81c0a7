// Azure Key Vault / Managed HSM secure key release policies (grammar version
// 1.0.0): parsing with limits and evaluation against the claims of a verified
// attestation token.
//
//   policy    = {"version": "1.0.0", "anyOf" | "allOf": [authority, ...]}
//   authority = {"authority": URL, "anyOf" | "allOf": [condition, ...]}
//   condition = {"claim": NAME, OPERATOR: VALUE} | {"anyOf" | "allOf": [condition, ...]}
//
// An authority rule holds when the token was verified against that authority
// and its condition list holds; the policy holds when any (anyOf) or every
// (allOf) authority rule holds.
#pragma once

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "kbs/result.h"

namespace confidant::kbs {

enum class ClaimOp { kEquals, kNotEquals, kLess, kLessOrEquals, kGreater, kGreaterOrEquals, kExists };
const char* ClaimOpName(ClaimOp op);

struct PolicyCondition {
  enum class Kind { kClaim, kAnyOf, kAllOf };
  Kind kind = Kind::kClaim;
  // kClaim
  std::string claim;  // as written, e.g. "x-ms-runtime.keys"
  ClaimOp op = ClaimOp::kEquals;
  nlohmann::json value;  // string, number or boolean
  // kAnyOf / kAllOf
  std::vector<PolicyCondition> children;
};

struct AuthorityRule {
  std::string authority;  // as written
  bool any_of = false;    // anyOf (true) or allOf (false) over conditions
  std::vector<PolicyCondition> conditions;
};

struct ReleasePolicy {
  std::string version;
  bool any_of = true;  // over the authority rules
  std::vector<AuthorityRule> authorities;
};

struct PolicyLimits {
  size_t max_bytes = 64 * 1024;
  int max_depth = 16;            // nested anyOf/allOf levels below an authority
  size_t max_conditions = 1024;  // claim conditions in the whole policy
  size_t max_authorities = 32;
  size_t max_claim_name = 256;
  size_t max_string_value = 4096;
};

// Errors name the JSON path of the offending member, e.g.
// "anyOf[0].allOf[2]: unknown operator \"equal\"".
Result<ReleasePolicy> ParseReleasePolicy(std::string_view text, const PolicyLimits& limits = {});
Result<ReleasePolicy> ParseReleasePolicyJson(const nlohmann::json& j, const PolicyLimits& limits = {});
nlohmann::json ReleasePolicyToJson(const ReleasePolicy& policy);

// Authority URLs compare after normalisation: scheme and host lower-cased,
// "https://" assumed when no scheme is given, trailing '/' removed.
std::string NormalizeAuthority(std::string_view url);

struct EvalOptions {
  // Key Vault policies often write booleans as strings ("false"); when set, a
  // boolean claim also equals the string "true"/"false". Off by default: a
  // claim of the wrong type never matches.
  bool boolean_strings = false;
};

struct PolicyDecision {
  bool allowed = false;
  std::string reason;  // why it was refused (or which authority rule allowed it)
};

// `claims` are the verified token's claims, `authority` the issuer the token
// was verified against.
PolicyDecision EvaluateReleasePolicy(const ReleasePolicy& policy, const nlohmann::json& claims,
                                     std::string_view authority, const EvalOptions& options = {});

// Looks a claim up: the whole name first, then as a dotted path into nested
// objects (array elements by decimal index). nullptr when absent.
const nlohmann::json* LookupClaim(const nlohmann::json& claims, std::string_view name);

}  // namespace confidant::kbs
