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

}  // namespace confidant::generator
