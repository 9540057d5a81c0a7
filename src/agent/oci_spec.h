// The enforcement-point inputs the agent derives from OCI documents the host
// sends, and the runtime bundle it writes after the policy decided. The
// input is computed from the spec itself, field by field, so what the
// policy judges is exactly what runc will run.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "policy/policy.h"
#include "rego/value.h"

namespace confidant::agent {

// Parses untrusted JSON: depth ≤ 64, no exceptions. False with a message
// naming `what` when it is not a JSON object.
bool parse_json_object(std::string_view text, std::string_view what, nlohmann::json& out, std::string& error);

// Go encoding/json of the OCI LinuxSeccomp structure (runtime-spec field
// order, omitempty rules), SHA-256, lowercase hex; "" when `seccomp` is null.
bool seccomp_profile_sha256(const nlohmann::json& seccomp, std::string& out, std::string& error);

struct ContainerContext {
  std::string container_id;
  std::string sandbox_id;
  std::string rootfs_dir;  // real path of the mounted rootfs (for /etc/passwd, /etc/group)
};

// The create_container input (aci-execution-policy.md 4.2) for `spec`.
bool create_container_input(const nlohmann::json& spec, const ContainerContext& ctx, rego::Value& input,
                            std::string& error);

// The exec_in_container input for an OCI process document.
bool exec_input(const nlohmann::json& process, const ContainerContext& ctx, rego::Value& input, std::string& error);

// The exec_external input: argList, envList, workingDir.
bool exec_external_input(const nlohmann::json& process, rego::Value& input, std::string& error);

// True when the spec asks for a privileged container (the LCOW annotation).
bool spec_privileged(const nlohmann::json& spec);
// True when the spec shares the host's network namespace (no network
// namespace of its own): the host_network enforcement point decides.
bool spec_host_network(const nlohmann::json& spec);

// Spec features the policy cannot see and the agent therefore refuses:
// hooks (commands run outside the container), joining existing namespaces,
// terminals. "" when none.
std::string refused_spec_features(const nlohmann::json& spec);

// `process` with the environment and capabilities the policy granted.
void apply_decision(nlohmann::json& process, const policy::Decision& d);

}  // namespace confidant::agent
