// The Kubernetes side of Kata policy generation (internal to src/generator): manifests ->
// pod templates with everything the kubelet decides before the runtime sees a container
// (environment with $(VAR) expansion, ConfigMap/Secret references, downward-API values as
// policy placeholders, command and args expansion, probe and hook commands, security contexts,
// volumes), and the manifests written back with the policy annotation.
//
// Values that are only known at run time are kept as templates in the policy's syntax: "$$" is a
// literal "$" and "$(name)" a placeholder the rules resolve (sandbox-name, sandbox-namespace,
// pod-ip, host-ip, node-name, pod-uid, resource-field, todo-annotation).
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace confidant::generator::kata {

struct EnvVar {
  std::string name;
  std::string value;  // template
};

struct VolumeMount {
  std::string volume;
  std::string path;
  std::string propagation;  // rprivate, rslave, rshared
  bool read_only = false;
};

struct Volume {
  std::string name;
  // emptyDir, emptyDir_memory, configMap, secret, projected, downwardAPI, hostPath,
  // persistentVolumeClaim
  std::string kind;
  bool always_read_only = false;  // configMap, secret, projected, downwardAPI
};

struct Container {
  std::string name;
  std::string image;
  bool init = false;
  // As given in the pod spec, $(VAR) references expanded (templates).
  std::optional<std::vector<std::string>> command, args;
  std::string working_dir;  // empty: the image's
  std::vector<EnvVar> env;  // envFrom then env, later definitions replacing earlier ones
  std::vector<VolumeMount> mounts;
  std::vector<std::vector<std::string>> exec_commands;  // probes and lifecycle hooks, literal
  bool tty = false;
  // Security context, the container's over the pod's where Kubernetes merges them.
  std::optional<int64_t> run_as_user, run_as_group;
  bool run_as_non_root = false;
  bool privileged = false;
  std::optional<bool> allow_privilege_escalation;
  bool read_only_root = false;
  std::vector<std::string> cap_add, cap_drop;
  std::string termination_message_path = "/dev/termination-log";
};

struct Pod {
  std::string kind;                // of the document
  std::string name;                // of the workload
  std::string namespace_;          // "" when the manifest leaves it to kubectl
  std::string sandbox_name_regex;  // the names the controller gives its pods
  std::vector<Container> containers;  // init containers first
  std::vector<Volume> volumes;
  // Pod-level security context (the pause container's user).
  std::optional<int64_t> run_as_user, run_as_group, fs_group;
  std::string fs_group_change_policy;
  std::vector<int64_t> supplemental_groups;  // including fsGroup, as the kubelet passes them
  std::vector<std::pair<std::string, std::string>> sysctls;
  bool automount_service_account_token = true;
  // shareProcessNamespace: the containers (not the sandbox) join the sandbox's PID namespace.
  bool share_process_namespace = false;
  size_t document = 0;  // index into Manifests::documents
  YAML::Node template_node;  // the node holding the pod template's metadata
};

struct Manifests {
  std::vector<YAML::Node> documents;
  std::vector<Pod> pods;
};

// Parses every document of `yaml`; `config_documents` supply more ConfigMaps and Secrets.
bool parse_manifests(std::string_view yaml, const std::vector<std::string>& config_documents, Manifests& out,
                     std::string& error);

// The manifests with annotation `key` = values[i] on pod i's template, as YAML text.
bool annotate_manifests(Manifests& manifests, const std::string& key, const std::vector<std::string>& values,
                        std::string& out, std::string& error);

// A literal as policy template text ("$" -> "$$").
std::string template_literal(std::string_view s);

// A literal as a regular expression (RE2 syntax).
std::string regex_quote(std::string_view s);

}  // namespace confidant::generator::kata
