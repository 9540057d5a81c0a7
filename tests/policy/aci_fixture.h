// A hand-written ACI policy exercising every framework feature, and the
// requests a guest sends for it. Used by the enforcement-point tests.
#pragma once

#include <string>

#include "policy/guest_data.h"
#include "test_support.h"

namespace confidant::policy::testing {

inline const std::string kL1 = std::string(64, '1');  // app layers, base first
inline const std::string kL2 = std::string(64, '2');
inline const std::string kL3 = std::string(64, '3');   // priv container layer
inline const std::string kApp = std::string(64, 'a');  // container IDs
inline const std::string kPriv = std::string(64, 'b');
inline const std::string kSandbox = std::string(64, 'c');

inline const char* kUnprivCaps =
    R"(["CAP_CHOWN","CAP_DAC_OVERRIDE","CAP_FSETID","CAP_FOWNER","CAP_MKNOD","CAP_NET_RAW","CAP_SETGID",)"
    R"("CAP_SETUID","CAP_SETFCAP","CAP_SETPCAP","CAP_NET_BIND_SERVICE","CAP_SYS_CHROOT","CAP_KILL","CAP_AUDIT_WRITE"])";

inline std::string unpriv_caps_json() {
  std::string u = kUnprivCaps;
  return R"({"ambient":[],"bounding":)" + u + R"(,"effective":)" + u + R"(,"inheritable":[],"permitted":)" + u + "}";
}

// Flags and extra top-level definitions can be overridden per test.
struct FixtureOptions {
  std::string api_version = "0.12.0";
  std::string framework_version = "0.5.0";
  bool env_dropping = false;
  bool caps_dropping = false;
  bool unencrypted_scratch = false;
  std::string extra_containers;  // appended to the containers array (",{...}")
  std::string extra_externals;   // appended to external_processes
  std::string extra;             // appended to the module
};

inline std::string app_container_json(const std::string& layers = "[\"" + kL1 + "\",\"" + kL2 + "\"]") {
  return R"j({"command":["/app","--serve"],
    "env_rules":[{"pattern":"PATH=/bin","strategy":"string","required":true},
                 {"pattern":"LOG=.+","strategy":"re2","required":false},
                 {"name":"MODE","name_strategy":"string","value":"(dev|prod)","value_strategy":"re2","required":false}],
    "layers":)j" +
         layers + R"j(,
    "mounts":[{"destination":"/data","options":["rbind","rw"],"source":"sandbox:///tmp/atlas/emptydir/.+","type":"bind"},
              {"destination":"/secrets","options":["rbind","ro"],"source":"plan9://","type":"bind"}],
    "exec_processes":[{"command":["/bin/sh"],"signals":[9]}],
    "signals":[15],
    "user":{"user_idname":{"pattern":"1000","strategy":"id"},"group_idnames":[{"pattern":"","strategy":"any"}],"umask":"0022"},
    "capabilities":)j" +
         unpriv_caps_json() + R"j(,
    "seccomp_profile_sha256":"",
    "allow_elevated":false,
    "working_dir":"/srv",
    "allow_stdio_access":true,
    "no_new_privileges":true,
    "name":"app"})j";
}

inline std::string priv_container_json() {
  return R"({"command":["/priv"],"env_rules":[{"pattern":"PATH=/bin","strategy":"string","required":false}],
    "layers":[")" +
         kL3 + R"("],"mounts":[],"exec_processes":[{"command":["/bin/sh"],"signals":[]}],"signals":[9],
    "user":{"user_idname":{"pattern":"","strategy":"any"},"group_idnames":[{"pattern":"","strategy":"any"}],"umask":"0022"},
    "capabilities":null,"seccomp_profile_sha256":"","allow_elevated":true,"working_dir":"/",
    "allow_stdio_access":false,"no_new_privileges":false,"name":"priv"})";
}

inline std::string fixture_policy(const FixtureOptions& o = {}) {
  auto flag = [](bool b) { return b ? "true" : "false"; };
  std::string text = "package policy\n\napi_version := \"" + o.api_version + "\"\nframework_version := \"" +
                     o.framework_version + "\"\n\n";
  text += "containers := [" + app_container_json() + "," + priv_container_json() + o.extra_containers + "]\n\n";
  text +=
      R"(external_processes := [{"command":["/bin/diag"],"env_rules":[{"pattern":"X=1","strategy":"string","required":false}],"working_dir":"/","allow_stdio_access":false})" +
      o.extra_externals + "]\n\n";
  text +=
      R"(fragments := [{"issuer":"did:x509:0:sha256:contoso::subject:CN:Contoso","feed":"contoso.azurecr.io/frag","minimum_svn":"2","includes":["containers","fragments"]}]

transparency_trust_lists := [{"issuer":"did:x509:0:sha256:ttl","subject":"ledgers","minimum_svn":"3","allowed_ledgers":["ledger-a","ledger-b"]}]

allowed_log_providers := ["Microsoft-Windows-Containers"]

allow_properties_access := true
allow_dump_stacks := false
allow_runtime_logging := true
allow_host_network := false
)";
  text += std::string("allow_environment_variable_dropping := ") + flag(o.env_dropping) + "\n";
  text += std::string("allow_unencrypted_scratch := ") + flag(o.unencrypted_scratch) + "\n";
  text += std::string("allow_capability_dropping := ") + flag(o.caps_dropping) + "\n\n";
  for (const char* p : {"mount_device",       "rw_mount_device",
                        "unmount_device",     "rw_unmount_device",
                        "mount_blockdev",     "unmount_blockdev",
                        "mount_overlay",      "unmount_overlay",
                        "mount_cims",         "create_container",
                        "exec_in_container",  "exec_external",
                        "shutdown_container", "signal_container_process",
                        "plan9_mount",        "plan9_unmount",
                        "get_properties",     "dump_stacks",
                        "runtime_logging",    "host_network",
                        "load_fragment",      "scratch_mount",
                        "scratch_unmount",    "registry_changes",
                        "log_provider",       "load_transparency_trust_list"})
    text += std::string(p) + " := data.framework." + p + "\n";
  text += "\nreason := data.framework.reason\n" + o.extra;
  return text;
}

// --- requests ------------------------------------------------------------------

inline rego::Value mount_device(const std::string& target, const std::string& hash) {
  return json(R"({"target":")" + target + R"(","deviceHash":")" + hash +
              R"(","mountPathRegex":"/run/mounts/scsi/m[0-9]+"})");
}

inline std::string scsi(int n) { return "/run/mounts/scsi/m" + std::to_string(n); }

inline rego::Value mount_overlay(const std::string& id, const std::vector<std::string>& paths) {
  std::string list;
  for (const auto& p : paths) list += (list.empty() ? "\"" : ",\"") + p + "\"";
  return json(R"({"containerID":")" + id + R"(","layerPaths":[)" + list + R"(],"target":"/run/gcs/c/)" + id +
              R"(/rootfs"})");
}

inline std::string sandbox_dir() { return "/run/gcs/c/" + kSandbox + "/sandboxMounts"; }

// A create_container request for the app container that the policy allows.
inline rego::Value create_app() {
  return json(R"({"containerID":")" + kApp + R"(","argList":["/app","--serve"],
    "envList":["PATH=/bin","LOG=debug","MODE=prod"],"workingDir":"/srv",
    "sandboxDir":")" +
              sandbox_dir() + R"(","hugePagesDir":"/run/gcs/c/)" + kSandbox + R"(/hugepages",
    "mounts":[{"destination":"/data","source":")" +
              sandbox_dir() + R"(/tmp/atlas/emptydir/vol1","options":["rbind","rw"],"type":"bind"},
              {"destination":"/proc","source":"proc","options":["nosuid","noexec","nodev"],"type":"proc"}],
    "devices":[],"privileged":false,"noNewPrivileges":true,
    "user":{"id":"1000","name":"app"},"groups":[{"id":"1000","name":"app"}],"umask":"0022",
    "capabilities":)" +
              unpriv_caps_json() + R"(,"seccompProfileSHA256":"","isSandboxContainer":false})");
}

inline rego::Value create_priv(bool privileged) {
  std::string caps = privileged ? rego::to_json(default_privileged_capabilities()) : unpriv_caps_json();
  return json(R"({"containerID":")" + kPriv + R"(","argList":["/priv"],"envList":["PATH=/bin"],"workingDir":"/",
    "sandboxDir":")" +
              sandbox_dir() + R"(","hugePagesDir":"/h","mounts":[],"devices":[],"privileged":)" +
              (privileged ? "true" : "false") + R"(,"noNewPrivileges":false,
    "user":{"id":"0","name":"root"},"groups":[{"id":"0","name":"root"}],"umask":"0022",
    "capabilities":)" +
              caps + R"(,"seccompProfileSHA256":"","isSandboxContainer":false})");
}

inline rego::Value exec_app() {
  return json(R"({"containerID":")" + kApp + R"(","argList":["/bin/sh"],"envList":["PATH=/bin"],"workingDir":"/srv",
    "noNewPrivileges":true,"user":{"id":"1000","name":"app"},"groups":[{"id":"1000","name":"app"}],"umask":"0022",
    "capabilities":)" +
              unpriv_caps_json() + "}");
}

// `base` with one member replaced (or added).
inline rego::Value with(const rego::Value& base, const std::string& key, const rego::Value& v) {
  rego::ObjectItems items;
  for (const auto& kv : base.object_items())
    if (kv.first.str() != key) items.push_back(kv);
  items.emplace_back(rego::Value::string(key), v);
  return rego::Value::object(std::move(items));
}

inline rego::Value without(const rego::Value& base, const std::string& key) {
  rego::ObjectItems items;
  for (const auto& kv : base.object_items())
    if (kv.first.str() != key) items.push_back(kv);
  return rego::Value::object(std::move(items));
}

}  // namespace confidant::policy::testing
