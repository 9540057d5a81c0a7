// The untrusted host side: what a container-group launcher does to run a
// group through the agent (prepare layer images, start the agent, send the
// policy and the requests), plus a policy for a group (for demos and tests;
// the real generator is `az confcom`-like tooling).
//
// A group file:
//   {"sandbox_id": "grp1",                      (optional; default "sandbox")
//    "containers": [{"id": "web",
//                    "layers": ["base.tar", "app-dir/"],   base first; tar files or directories
//                    "command": ["/bin/sh", "-c", "echo hi"],
//                    "env": ["PATH=/bin"], "working_dir": "/",
//                    "exec_processes": [{"command": ["/bin/ls"], "signals": [9]}],   (policy only)
//                    "signals": [15, 9], "allow_stdio_access": true,               (policy only)
//                    "privileged": false, "no_new_privileges": false}]}
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "agent/agent.h"
#include "agent/layer.h"

namespace confidant::agent::host {

struct ContainerSpec {
  std::string id;
  std::vector<std::string> layers;  // sources, base first
  std::vector<std::string> command, env;
  std::string working_dir = "/";
  bool privileged = false;
  bool no_new_privileges = false;
  bool allow_stdio_access = true;
  std::vector<int> signals = {15, 9};
  nlohmann::json exec_processes = nlohmann::json::array();
};

struct Group {
  std::string sandbox_id = "sandbox";
  std::vector<ContainerSpec> containers;
};

// Relative layer paths are resolved against `base_dir`.
bool parse_group(const std::string& json_text, const std::string& base_dir, Group& out, std::string& error);

// The OCI runtime spec the host sends for a container (runc defaults that
// match the policy's default mounts and unprivileged capabilities).
nlohmann::json oci_spec(const ContainerSpec& c);

// An ACI policy (api 0.12.0, framework 0.5.0) allowing exactly the group,
// given each container's layer root hashes (base first).
std::string group_policy(const Group& g, const std::vector<std::vector<std::string>>& layer_hashes);

struct Progress {
  std::function<void(const std::string&)> say = [](const std::string&) {};
};

// Layer images for every container, cached by source: images[i][j] is
// container i's layer j (base first).
struct PreparedLayers {
  std::vector<std::vector<std::string>> images;
  std::vector<std::vector<std::string>> hashes;
  double seconds = 0;
};
bool prepare_layers(const Group& g, const std::string& work_dir, const LayerBuilder& build, PreparedLayers& out,
                    const Progress& p, std::string& error);

// What `host start` records for later commands.
struct GroupState {
  std::string socket;
  int agent_pid = 0;
  struct Entry {
    std::string id;
    std::vector<std::string> layer_targets;  // base first
    std::string rootfs;
  };
  std::vector<Entry> containers;
  nlohmann::json to_json() const;
  static bool from_json(const nlohmann::json& j, GroupState& out, std::string& error);
};

struct StartTimings {
  double hashing = 0, policy = 0, mounting = 0, runc = 0;
};

// Sends SetPolicy and then, per container: MountLayer (each), MountOverlay,
// CreateContainer, StartContainer. Stops at the first refusal, with the
// agent's message (and policy reasons) in `error`.
bool start_group(AgentClient& client, const Group& g, const PreparedLayers& layers, const std::string& policy_text,
                 GroupState& state, StartTimings& timings, const Progress& p, std::string& error);

// ShutdownContainer, UnmountOverlay, UnmountLayer for every container.
bool stop_group(AgentClient& client, const GroupState& state, const Progress& p, std::string& error);

// "PermissionDenied: create_container denied by policy: invalid command"
// plus the reasons, for printing.
std::string describe(const ttrpc::Status& st);

// Forks the agent in a new mount namespace (mounts private), detached from
// the caller's session: `argv` is the agent command line. Returns its pid,
// after the socket accepts connections (or -1 with error).
int launch_agent(const std::vector<std::string>& argv, const std::string& socket, const std::string& log_file,
                 std::string& error);

}  // namespace confidant::agent::host
