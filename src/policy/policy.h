// Confidant's guest-side policy decision point.
//
//   auto tee = std::make_shared<policy::FixedTee>(host_data);   // or policy::detect_tee()
//   policy::Enforcer enforcer(tee);
//   std::string error;
//   if (!enforcer.load(policy_text, error)) ...                 // refused: digest != HOST_DATA, ...
//   policy::Decision d = enforcer.enforce("mount_device", input);
//   if (!d.allowed) return d.message;                          // reasons in d.reasons
//   if (mount_failed) enforcer.rollback(d, error);             // undo the call's state change
//
// Two dialects, chosen by the policy's package: `package policy` is a
// Confidential ACI policy (enforcement points such as mount_device, checked by
// Confidant's built-in `framework` package), `package agent_policy` a Kata
// agent policy (requests such as CreateContainerRequest). Everything that
// goes wrong is a denial with a reason: unknown points, evaluation errors,
// undefined or malformed results, malformed inputs.
//
// State (ACI metadata, Kata `data` with `pstate`) lives outside the compiled
// policy as immutable shared values: a call evaluates against the current
// state and its changes are committed only when it is allowed. An Enforcer
// serialises its calls; it may be shared between threads.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "policy/input_check.h"
#include "policy/tee.h"
#include "rego/rego.h"
#include "rego/value.h"

namespace confidant::policy {

enum class Dialect { kAci, kKata };
const char* dialect_name(Dialect d);  // "aci", "kata"

// The path of a policy text's first package clause ("policy",
// "agent_policy", "a.b"), or "" when it has none.
std::string package_name(std::string_view text);

// The dialect a policy text declares through its first package clause
// (`policy` or `agent_policy`); nullopt for anything else.
std::optional<Dialect> detect_dialect(std::string_view policy_text);

struct LoadOptions {
  std::optional<Dialect> dialect;  // overrides detection from the package name
  // Rego syntax of the policy. Default: v0 for Kata (as the Kata agent parses
  // it); v1 for ACI, falling back to v0 when the text only parses as v0.
  std::optional<bool> rego_v0;
  // The digest check against HOST_DATA. Only a policy the guest image itself
  // ships (the Kata agent's default policy) may be loaded without it; a
  // policy from the host never is (SetPolicyRequest always checks).
  bool verify_host_data = true;
  // Name of the policy in print() output and error locations.
  std::string source_name = "policy.rego";
};

struct EnforcerOptions {
  rego::EvalLimits limits = [] {
    rego::EvalLimits l;
    l.max_steps = 5'000'000;
    l.max_time_ns = 2'000'000'000;
    l.max_memory = 256ull << 20;
    return l;
  }();
  InputLimits input_limits;
  // ACI: longest policyDecision message before parts are dropped (0: no limit).
  size_t max_error_message_length = 3072;
  // Replaces the built-in framework package (tests of framework changes).
  std::optional<std::string> framework_text;
  // Kata: print() output is only ever seen in denial messages. By default a request is
  // evaluated without it (so rules also stop at their first value, OPA's early exit) and a
  // denied request is evaluated again, with prints gathered, for its message: the same
  // lines, at a fraction of the cost for the common, allowed case. true gathers them for
  // every request (Decision::prints on allowed requests too: replay, debugging).
  bool kata_prints_always = false;
};

struct Decision {
  bool allowed = false;
  // Why a call was denied: the policy's error messages (ACI reason.errors),
  // or the error that made the decision a denial. May be empty when a policy
  // denies without saying why (ACI dump_stacks, a Kata rule returning false).
  std::vector<std::string> reasons;
  // The message for the host when denied: the ACI policyDecision envelope,
  // or "<Request> is blocked by policy: <prints>" for Kata.
  std::string message;
  // ACI: the point's result object after defaults (metadata removed); Kata:
  // the rule's value.
  rego::Value result;
  // Lines printed by the policy (print()), in order.
  std::vector<std::string> prints;

  // What the ACI guest does with the result, already applied to the request:
  // the environment to use (request entries the policy kept, request order),
  std::optional<std::vector<std::string>> env_list;
  // the capabilities to grant (the five sets, each the request's set
  // restricted to the policy's caps_list),
  std::optional<rego::Value> caps_list;
  // and whether the process may use stdio (for exec_in_container, the value
  // decided when its container was created).
  std::optional<bool> allow_stdio_access;

  // State versions around the call, for rollback().
  uint64_t state_before = 0;
  uint64_t state_after = 0;
};

// A signed ACI policy fragment whose envelope the caller has verified
// (COSE signature, did:x509 issuer, receipts): the policy decides whether
// to accept it (aci-execution-policy.md section 8).
struct FragmentRequest {
  std::string issuer;
  std::string feed;
  std::string text;                                   // Rego text; its first line names the namespace
  std::optional<int64_t> header_svn;                  // svn from the signed header, if any
  rego::Value receipts = rego::Value::empty_array();  // [{"issuer", "ttl_subjects"}] validated receipts
};

class Enforcer {
 public:
  // `tee` supplies HOST_DATA; null means there is none and every policy
  // that needs the check is refused.
  explicit Enforcer(std::shared_ptr<Tee> tee, EnforcerOptions options = {});
  ~Enforcer();
  Enforcer(const Enforcer&) = delete;
  Enforcer& operator=(const Enforcer&) = delete;

  // Installs a policy. Refused (false, with a message naming both digests)
  // unless sha256(policy_text) equals HOST_DATA; a refused policy leaves the
  // one in force unchanged. An ACI policy can be set once per guest; a Kata
  // policy is replaced only through an allowed SetPolicyRequest.
  bool load(std::string_view policy_text, std::string& error, const LoadOptions& options = {});

  // Decides one call. `point` is an ACI enforcement point or a Kata request
  // name; `input` the request document.
  Decision enforce(std::string_view point, const rego::Value& input);

  // ACI: runs load_fragment for a verified fragment (both phases) and, when
  // the policy accepts it, records what it contributes.
  Decision load_fragment(const FragmentRequest& fragment);

  // Restores the state from before an allowed call whose operation then
  // failed. Calls are undone newest first: false (state unchanged) when
  // another state change happened after `decision`.
  bool rollback(const Decision& decision, std::string& error);

  bool loaded() const;
  std::optional<Dialect> dialect() const;
  // The state document (ACI metadata, Kata data), for inspection.
  rego::Value state() const;
  uint64_t state_version() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace confidant::policy
