// Policy generation: container group descriptions + images -> a Confidential ACI execution
// policy (Rego, `package policy`, delegating to the framework) whose SHA-256 is the HOST_DATA
// the group must be launched with. Mirrors what `az confcom acipolicygen` produces (see
// shared/reference/aci-execution-policy.md section 10): image config merged with the
// container's settings, the injected environment rules, the resolv.conf mount, default
// capabilities, the default infrastructure fragment and the pause container.
//
//   generator::Group group;
//   generator::parse_aci_input(json_text, group, error);          // az confcom -i format
//   generator::ImageResolver images = ...;                         // reference -> image on disk
//   generator::Generated out;
//   generator::generate_aci(group, images, generator::Options{}, out, error);
//   out.policy, out.sha256
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "image/image.h"

namespace confidant::generator {

struct EnvVar {
  std::string name;
  std::string value;
  std::string strategy = "string";  // "string" or "re2"
  bool required = false;
};

struct VolumeMount {
  std::string kind;  // azureFile, secret, emptyDir, gitRepo
  std::string path;
  bool readonly = false;
};

struct ExecProcess {
  std::vector<std::string> command;
  std::vector<int64_t> signals;
};

struct Container {
  std::string name;
  std::string image;
  std::optional<std::vector<std::string>> command;  // replaces the image's entrypoint + cmd
  std::optional<std::string> working_dir;
  std::vector<EnvVar> env;
  std::vector<VolumeMount> mounts;
  std::vector<ExecProcess> exec_processes;
  std::vector<int64_t> signals;
  bool privileged = false;
  std::vector<std::string> cap_add, cap_drop;
  std::optional<std::string> run_as_user, run_as_group;
  std::optional<bool> allow_stdio_access;
};

struct Group {
  std::vector<Container> containers;
};

// The `az confcom acipolicygen -i` JSON: {"version", "containers": [{"name", "properties":
// {"image", "command", "environmentVariables", "mounts", "execProcesses", "signals",
// "securityContext", "workingDir", "allowStdioAccess"}}]}.
bool parse_aci_input(std::string_view json, Group& out, std::string& error);

// Every Microsoft.ContainerInstance/containerGroups resource of an ARM template, with
// "[parameters('x')]" and "[variables('x')]" values resolved from `parameters_json` (a
// deployment parameters file, may be empty) and the template's defaults.
bool parse_arm_template(std::string_view template_json, std::string_view parameters_json, std::vector<Group>& out,
                        std::string& error);

// Writes base64(policy) into properties.confidentialComputeProperties.ccePolicy of every
// container group resource (group i gets policies[i]); keeps the template's key order.
bool update_arm_template(std::string_view template_json, const std::vector<std::string>& policies,
                         std::string& out, std::string& error);

struct Options {
  std::string api_version = "0.10.0";
  std::string framework_version = "0.2.3";
  bool debug_mode = false;
  bool disable_stdio = false;
  bool include_default_fragment = true;
  std::string infrastructure_svn = "1";
  bool include_pause_container = true;
  bool omit_id = false;
  // Root hashes computed before are kept in <cache_dir>/verity-aci/, keyed by the layer's
  // diff_id; empty: no cache. Entries carry a checksum; a damaged one is recomputed.
  std::string cache_dir;
};

// Finds an image on disk for a reference ("" error when unknown).
using ImageResolver = std::function<bool(const std::string& reference, image::Image& out, std::string& error)>;

// Called with a line of progress ("hashing layer 2/5 of nginx:1.25") for long work.
using ProgressFn = std::function<void(const std::string&)>;

struct Generated {
  std::string policy;  // the Rego text
  std::string sha256;  // lowercase hex: the HOST_DATA value
};

bool generate_aci(const Group& group, const ImageResolver& images, const Options& options, Generated& out,
                  std::string& error, const ProgressFn& progress = {});

// Standard base64 (the ccePolicy / --print-policy encoding).
std::string base64(std::string_view bytes);

// ---- Kata agent policies (Kubernetes YAML -> Kata dialect) ------------------------------------
//
// Kubernetes workloads -> the policy the Kata agent enforces (package agent_policy, see
// shared/reference/kata-agent-policy.md and docs/generator.md): our rules module followed by
// `policy_data := {...}` describing the pod's containers (the pause container first), their
// image layers (tarfs + dm-verity root hashes, the AKS lineage), storages, mounts, processes and
// exec commands, built from an image's config merged with the pod spec as Kubernetes and
// containerd do.
//
//   generator::KataOptions o;                 // settings: the embedded defaults
//   generator::KataGenerated out;
//   generator::generate_kata(yaml_text, images, o, out, error);
//   out.workloads[i].policy.policy / .sha256, out.yaml (annotated)

// The pod annotation carrying base64(policy text) (the AKS delivery, reference section 5.4).
inline constexpr const char* kKataPolicyAnnotation = "io.katacontainers.config.agent.policy";

// Our rules module (src/generator/kata_rules.rego) and default settings
// (src/generator/kata_settings.json), as built into the binary.
std::string_view kata_rules();
std::string_view kata_default_settings();

struct KataOptions {
  // Settings JSON; empty: kata_default_settings().
  std::string settings;
  // RFC 6902 JSON Patch documents applied to the settings, in order.
  std::vector<std::string> settings_patches;
  // YAML documents (ConfigMaps, Secrets) that envFrom / valueFrom references resolve against,
  // besides those in the workload YAML itself (--config-file).
  std::vector<std::string> config_documents;
  // Layer root hashes and /etc/passwd, /etc/group contents computed before are kept in
  // <cache_dir>/verity-kata/, keyed by the layer's diff_id; empty: no cache.
  std::string cache_dir;
};

// Reads a settings path given with -j: a JSON object is a whole settings document (replacing the
// defaults), a JSON array an RFC 6902 patch (appended to settings_patches), and a directory holds
// such files (*.json, applied in file-name order).
bool load_kata_settings(const std::string& path, KataOptions& options, std::string& error);

struct KataWorkload {
  std::string kind;  // Pod, Deployment, ...
  std::string name;  // metadata.name (or generateName)
  Generated policy;  // rules + policy_data, and its SHA-256 (the HOST_DATA)
};

struct KataGenerated {
  std::vector<KataWorkload> workloads;  // one per pod template, in document order
  std::string yaml;                     // the input with kKataPolicyAnnotation on every pod template
};

// Pod, Deployment, ReplicaSet, ReplicationController, StatefulSet, DaemonSet, Job and CronJob
// documents get a policy; ConfigMaps and Secrets resolve references; other well-known kinds pass
// through unchanged; anything else is an error.
bool generate_kata(std::string_view yaml, const ImageResolver& images, const KataOptions& options, KataGenerated& out,
                   std::string& error, const ProgressFn& progress = {});

}  // namespace confidant::generator
