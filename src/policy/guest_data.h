// Static documents the ACI guest adds under `data` next to the policy: the
// CRI default and privileged mounts, the mount-source prefixes and the
// default capability sets (aci-execution-policy.md 1.1, 2.4, 2.6).
#pragma once

#include "rego/value.h"

namespace confidant::policy {

// {"defaultMounts": [...], "privilegedMounts": [...], "sandboxPrefix": ..., ...}
const rego::Value& aci_guest_data();

// The five capability sets a container gets by default, in the order the
// guest lists them (the order matters where decisions are redacted).
const rego::Value& default_unprivileged_capabilities();  // object of five arrays
const rego::Value& default_privileged_capabilities();

}  // namespace confidant::policy
