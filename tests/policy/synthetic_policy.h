// Synthetic Confidential ACI policies shaped like `az confcom` output
// (api 0.10.0, framework 0.2.3), with the requests a guest sends to start
// their containers. Used by the property tests and by bench/enforce_bench.cc.
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "rego/value.h"

namespace confidant::policy::synthetic {

inline const char* const kUnprivilegedCaps[] = {
    "CAP_CHOWN",   "CAP_DAC_OVERRIDE", "CAP_FSETID",           "CAP_FOWNER",
    "CAP_MKNOD",   "CAP_NET_RAW",      "CAP_SETGID",           "CAP_SETUID",
    "CAP_SETFCAP", "CAP_SETPCAP",      "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT",
    "CAP_KILL",    "CAP_AUDIT_WRITE"};

struct Container {
  std::string id;  // container ID the host uses (64 hex)
  std::vector<std::string> command;
  std::vector<std::string> envs;    // NAME=VALUE the image sets
  std::vector<std::string> layers;  // base first
  std::vector<std::string> exec;    // an exec process command
  std::string working_dir;
  bool allow_elevated = false;
  std::string user_id_pattern;  // "" = any user
};

struct Options {
  int containers = 10;
  int layers = 3;
  uint32_t seed = 1;
};

class PolicyGen {
 public:
  explicit PolicyGen(Options o) : opts_(o), rng_(o.seed) {
    sandbox_ = hex64();
    for (int i = 0; i < opts_.containers; ++i) {
      Container c;
      c.id = hex64();
      c.command = {"/usr/bin/app" + std::to_string(i), "--listen", std::to_string(8000 + i)};
      c.envs = {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C.UTF-8",
                "APP_VERSION=1." + std::to_string(i), "APP_HOME=/srv/app" + std::to_string(i)};
      for (int l = 0; l < opts_.layers; ++l) c.layers.push_back(hex64());
      c.exec = {"/bin/sh", "-c", "probe " + std::to_string(i)};
      c.working_dir = "/srv/app" + std::to_string(i);
      c.allow_elevated = i % 4 == 3;
      c.user_id_pattern = i % 3 == 2 ? std::to_string(1000 + i) : "";
      containers_.push_back(c);
    }
  }

  const std::vector<Container>& containers() const { return containers_; }

  std::string policy_text() const {
    std::string out =
        "package policy\n\nimport future.keywords.every\nimport future.keywords.in\n\n"
        "api_version := \"0.10.0\"\nframework_version := \"0.2.3\"\n\n"
        "fragments := [{\"feed\": \"mcr.microsoft.com/aci/aci-cc-infra-fragment\", \"includes\": [\"containers\", "
        "\"fragments\"], \"issuer\": \"did:x509:0:sha256:I__iuL25oXEVFdTP_aBLx_eT1RPHbCQ_ECBQfYZpt9s::eku:1.3.6.1.4."
        "1.311.76.59.1.3\", \"minimum_svn\": \"1\"}]\n\ncontainers := [";
    for (size_t i = 0; i < containers_.size(); ++i) {
      if (i) out += ",";
      out += container_json(containers_[i]);
    }
    out +=
        "]\n\nallow_properties_access := true\nallow_dump_stacks := false\nallow_runtime_logging := false\n"
        "allow_environment_variable_dropping := true\nallow_unencrypted_scratch := false\n"
        "allow_capability_dropping := true\n\n";
    for (const char* p :
         {"mount_device", "unmount_device", "mount_overlay", "unmount_overlay", "create_container", "exec_in_container",
          "exec_external", "shutdown_container", "signal_container_process", "plan9_mount", "plan9_unmount",
          "get_properties", "dump_stacks", "runtime_logging", "load_fragment", "scratch_mount", "scratch_unmount"})
      out += std::string(p) + " := data.framework." + p + "\n";
    out += "\nreason := {\"errors\": data.framework.errors}\n";
    return out;
  }

  // --- requests -------------------------------------------------------------
  std::string device_target(int container, int layer) const {
    return "/run/mounts/scsi/m" + std::to_string(container * opts_.layers + layer + 1);
  }

  rego::Value mount_device(int c, int l) const {
    return obj({{"target", s(device_target(c, l))},
                {"deviceHash", s(containers_[c].layers[l])},
                {"mountPathRegex", s("/run/mounts/scsi/m[0-9]+")}});
  }

  rego::Value mount_overlay(int c) const {
    rego::ValueVec paths;
    for (int l = opts_.layers - 1; l >= 0; --l) paths.push_back(s(device_target(c, l)));
    return obj({{"containerID", s(containers_[c].id)},
                {"layerPaths", rego::Value::array(paths)},
                {"target", s("/run/gcs/c/" + containers_[c].id + "/rootfs")}});
  }

  rego::Value create_container(int c) const {
    const Container& k = containers_[c];
    std::string sandbox = "/run/gcs/c/" + sandbox_;
    rego::ValueVec envs;
    for (const auto& e : k.envs) envs.push_back(s(e));
    for (const char* e : {"TERM=xterm", "HOSTNAME=sandbox", "IDENTITY_HEADER=abc", "Fabric_NodeName=n1"})
      envs.push_back(s(e));
    std::string uid = k.user_id_pattern.empty() ? "0" : k.user_id_pattern;
    return obj({
        {"containerID", s(k.id)},
        {"argList", strings(k.command)},
        {"envList", rego::Value::array(envs)},
        {"workingDir", s(k.working_dir)},
        {"sandboxDir", s(sandbox + "/sandboxMounts")},
        {"hugePagesDir", s(sandbox + "/hugepages")},
        {"mounts", rego::Value::array({obj({{"destination", s("/etc/resolv.conf")},
                                            {"source", s(sandbox + "/sandboxMounts/tmp/atlas/resolvconf/abc")},
                                            {"options", strings({"rbind", "rshared", "rw"})},
                                            {"type", s("bind")}})})},
        {"devices", rego::Value::empty_array()},
        {"privileged", rego::Value::boolean(false)},
        {"noNewPrivileges", rego::Value::boolean(false)},
        {"user", obj({{"id", s(uid)}, {"name", s(uid == "0" ? "root" : "")}})},
        {"groups", rego::Value::array({obj({{"id", s("0")}, {"name", s("root")}})})},
        {"umask", s("0022")},
        {"capabilities", caps()},
        {"seccompProfileSHA256", s("")},
        {"isSandboxContainer", rego::Value::boolean(false)},
    });
  }

  rego::Value exec_in_container(int c) const {
    rego::Value create = create_container(c);
    return obj({{"containerID", *create.get("containerID")},
                {"argList", strings(containers_[c].exec)},
                {"envList", *create.get("envList")},
                {"workingDir", *create.get("workingDir")},
                {"noNewPrivileges", rego::Value::boolean(false)},
                {"user", *create.get("user")},
                {"groups", *create.get("groups")},
                {"umask", s("0022")},
                {"capabilities", caps()}});
  }

  rego::Value signal(int c, int64_t sig) const {
    return obj({{"containerID", s(containers_[c].id)},
                {"signal", rego::Value::integer(sig)},
                {"isInitProcess", rego::Value::boolean(true)},
                {"argList", strings(containers_[c].command)}});
  }

  static rego::Value s(const std::string& v) { return rego::Value::string(v); }
  static rego::Value strings(const std::vector<std::string>& v) {
    rego::ValueVec out;
    for (const auto& x : v) out.push_back(s(x));
    return rego::Value::array(out);
  }
  static rego::Value obj(std::initializer_list<std::pair<const char*, rego::Value>> items) {
    rego::ObjectItems out;
    for (const auto& [k, v] : items) out.emplace_back(s(k), v);
    return rego::Value::object(std::move(out));
  }
  static rego::Value caps() {
    std::vector<std::string> all(std::begin(kUnprivilegedCaps), std::end(kUnprivilegedCaps));
    return obj({{"ambient", rego::Value::empty_array()},
                {"bounding", strings(all)},
                {"effective", strings(all)},
                {"inheritable", rego::Value::empty_array()},
                {"permitted", strings(all)}});
  }

 private:
  std::string hex64() {
    static const char* d = "0123456789abcdef";
    std::string out;
    for (int i = 0; i < 64; ++i) out.push_back(d[rng_() % 16]);
    return out;
  }

  static std::string quote(const std::string& v) {
    std::string out;
    rego::append_json_string(out, v);
    return out;
  }

  static std::string string_rule(const std::string& pattern, bool required) {
    return "{\"pattern\":" + quote(pattern) + ",\"required\":" + (required ? "true" : "false") +
           ",\"strategy\":\"string\"}";
  }

  static std::string re2_rule(const std::string& pattern) {
    return "{\"pattern\":" + quote(pattern) + ",\"required\":false,\"strategy\":\"re2\"}";
  }

  std::string container_json(const Container& c) const {
    auto list = [](const std::vector<std::string>& v) {
      std::string out = "[";
      for (size_t i = 0; i < v.size(); ++i) out += (i ? "," : "") + quote(v[i]);
      return out + "]";
    };
    std::vector<std::string> all(std::begin(kUnprivilegedCaps), std::end(kUnprivilegedCaps));
    std::string caps = "{\"ambient\":[],\"bounding\":" + list(all) + ",\"effective\":" + list(all) +
                       ",\"inheritable\":[],\"permitted\":" + list(all) + "}";
    std::string env = "[";
    for (size_t i = 0; i < c.envs.size(); ++i) env += string_rule(c.envs[i], i == 0) + ",";
    env += string_rule("TERM=xterm", false);
    for (const char* p : {"(?i)(FABRIC)_.+=.+", "HOSTNAME=.+", "T(E)?MP=.+", "FabricPackageFileName=.+",
                          "HostedServiceName=.+", "IDENTITY_API_VERSION=.+", "IDENTITY_HEADER=.+",
                          "IDENTITY_SERVER_THUMBPRINT=.+", "azurecontainerinstance_restarted_by=.+"})
      env += "," + re2_rule(p);
    env += "]";
    std::string user_rule = c.user_id_pattern.empty() ? R"({"pattern":"","strategy":"any"})"
                                                      : R"({"pattern":")" + c.user_id_pattern + R"(","strategy":"id"})";
    return "{\"allow_elevated\":" + std::string(c.allow_elevated ? "true" : "false") +
           ",\"allow_stdio_access\":true,\"capabilities\":" + caps + ",\"command\":" + list(c.command) +
           ",\"env_rules\":" + env + ",\"exec_processes\":[{\"command\":" + list(c.exec) +
           ",\"signals\":[15]}],\"layers\":" + list(c.layers) +
           ",\"mounts\":[{\"destination\":\"/etc/resolv.conf\",\"options\":[\"rbind\",\"rshared\",\"rw\"],"
           "\"source\":\"sandbox:///tmp/atlas/resolvconf/.+\",\"type\":\"bind\"}],\"no_new_privileges\":false,"
           "\"seccomp_profile_sha256\":\"\",\"signals\":[],\"user\":{\"group_idnames\":[{\"pattern\":\"\","
           "\"strategy\":\"any\"}],\"umask\":\"0022\",\"user_idname\":" +
           user_rule + "},\"working_dir\":" + quote(c.working_dir) + "}";
  }

  Options opts_;
  std::mt19937 rng_;
  std::string sandbox_;
  std::vector<Container> containers_;
};

}  // namespace confidant::policy::synthetic
