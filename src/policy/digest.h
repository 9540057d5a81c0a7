// SHA-256 and base64, as the policy binding and the decision envelope use them.
#pragma once

#include <string>
#include <string_view>

#include "policy/tee.h"

namespace confidant::policy {

HostData sha256(std::string_view bytes);

// The HOST_DATA value that binds a policy: SHA-256 of its text, lowercase hex.
inline std::string policy_digest_hex(std::string_view policy_text) { return to_hex(sha256(policy_text)); }

// Standard alphabet with padding.
std::string base64_encode(std::string_view bytes);
// Standard alphabet; padding optional, ASCII whitespace ignored (ccePolicy
// values are often wrapped). False on any other character or a bad length.
bool base64_decode(std::string_view text, std::string& out);

}  // namespace confidant::policy
