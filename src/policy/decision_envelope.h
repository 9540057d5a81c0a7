// The error the ACI guest returns to the host for a denied call:
//   "policyDecision< " + base64(JSON) + " >policyDecision"
// with JSON {"decision": "deny", "input": ..., "reason": ..., "policyError"?,
// "truncated"?}. Secrets never leave the guest: environment values are
// redacted, and default capability sets shortened to a placeholder. Long
// messages drop parts (reason.error_objects, then input, then reason) until
// they fit the limit. The JSON is encoded as Go's encoding/json does (sorted
// keys, HTML-safe escapes) so sizes and truncation match the reference guest.
#pragma once

#include <cstddef>
#include <string>

#include "rego/value.h"

namespace confidant::policy {

inline constexpr size_t kMaxErrorMessageLength = 3072;

// `policy_error` is empty for a denial with a reason. `max_length` 0 disables truncation.
std::string policy_decision_message(const rego::Value& input, const rego::Value& reason,
                                    const std::string& policy_error, size_t max_length = kMaxErrorMessageLength);

// Inverse of the wrapper, for tests and tools: the decoded JSON object, or
// undefined when `message` is not an envelope.
rego::Value decode_policy_decision(const std::string& message);

// JSON text as Go's encoding/json writes it.
std::string go_json(const rego::Value& v);

}  // namespace confidant::policy
