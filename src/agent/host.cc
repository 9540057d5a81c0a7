#include "agent/host.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <thread>

#include "agent/guest_path.h"
#include "agent/oci_spec.h"
#include "policy/guest_data.h"

namespace confidant::agent::host {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

double since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

bool strings(const json& j, const char* key, std::vector<std::string>& out, std::string& error) {
  out.clear();
  if (!j.contains(key)) return true;
  if (!j[key].is_array()) {
    error = std::string("group: ") + key + " must be an array of strings";
    return false;
  }
  for (const auto& e : j[key]) {
    if (!e.is_string()) {
      error = std::string("group: ") + key + " must be an array of strings";
      return false;
    }
    out.push_back(e.get<std::string>());
  }
  return true;
}

}  // namespace

bool parse_group(const std::string& text, const std::string& base_dir, Group& out, std::string& error) {
  json g;
  if (!parse_json_object(text, "group", g, error)) return false;
  out = Group{};
  if (g.contains("sandbox_id")) {
    if (!g["sandbox_id"].is_string() || !valid_id(g["sandbox_id"].get<std::string>(), error, "sandbox_id")) {
      if (error.empty()) error = "group: sandbox_id must be a string";
      return false;
    }
    out.sandbox_id = g["sandbox_id"].get<std::string>();
  }
  if (!g.contains("containers") || !g["containers"].is_array() || g["containers"].empty()) {
    error = "group: containers must be a non-empty array";
    return false;
  }
  for (const auto& c : g["containers"]) {
    if (!c.is_object()) {
      error = "group: containers entries must be objects";
      return false;
    }
    ContainerSpec s;
    if (!c.contains("id") || !c["id"].is_string() || !valid_id(c["id"].get<std::string>(), error, "container id")) {
      if (error.empty()) error = "group: container id must be a string";
      return false;
    }
    s.id = c["id"].get<std::string>();
    if (!strings(c, "layers", s.layers, error) || !strings(c, "command", s.command, error) ||
        !strings(c, "env", s.env, error))
      return false;
    if (s.layers.empty() || s.command.empty()) {
      error = "group: container " + s.id + " needs layers and a command";
      return false;
    }
    for (auto& l : s.layers)
      if (!fs::path(l).is_absolute()) l = (fs::path(base_dir) / l).lexically_normal().string();
    s.working_dir = c.value("working_dir", std::string("/"));
    s.privileged = c.value("privileged", false);
    s.no_new_privileges = c.value("no_new_privileges", false);
    s.allow_stdio_access = c.value("allow_stdio_access", true);
    if (c.contains("signals")) s.signals = c["signals"].get<std::vector<int>>();
    if (c.contains("exec_processes")) s.exec_processes = c["exec_processes"];
    for (const auto& prev : out.containers)
      if (prev.id == s.id) {
        error = "group: container id " + s.id + " appears twice";
        return false;
      }
    out.containers.push_back(std::move(s));
  }
  return true;
}

json oci_spec(const ContainerSpec& c) {
  json caps = json::parse(rego::to_json(policy::default_unprivileged_capabilities()));
  if (c.privileged) caps = json::parse(rego::to_json(policy::default_privileged_capabilities()));
  json spec = {
      {"ociVersion", "1.0.2"},
      {"process",
       {{"terminal", false},
        {"user", {{"uid", 0}, {"gid", 0}}},
        {"args", c.command},
        {"env", c.env},
        {"cwd", c.working_dir},
        {"capabilities", caps},
        {"noNewPrivileges", c.no_new_privileges}}},
      {"root", {{"path", "rootfs"}, {"readonly", false}}},
      {"hostname", c.id},
      {"mounts",
       json::array({
           {{"destination", "/proc"}, {"type", "proc"}, {"source", "proc"}, {"options", {"nosuid", "noexec", "nodev"}}},
           {{"destination", "/dev"},
            {"type", "tmpfs"},
            {"source", "tmpfs"},
            {"options", {"nosuid", "strictatime", "mode=755", "size=65536k"}}},
           {{"destination", "/dev/pts"},
            {"type", "devpts"},
            {"source", "devpts"},
            {"options", {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}}},
           {{"destination", "/dev/shm"},
            {"type", "tmpfs"},
            {"source", "shm"},
            {"options", {"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}}},
           {{"destination", "/dev/mqueue"},
            {"type", "mqueue"},
            {"source", "mqueue"},
            {"options", {"nosuid", "noexec", "nodev"}}},
           {{"destination", "/sys"},
            {"type", "sysfs"},
            {"source", "sysfs"},
            {"options", {"nosuid", "noexec", "nodev", "ro"}}},
       })},
      {"linux",
       {{"namespaces",
         json::array(
             {{{"type", "pid"}}, {{"type", "network"}}, {{"type", "ipc"}}, {{"type", "uts"}}, {{"type", "mount"}}})},
        {"maskedPaths", {"/proc/kcore", "/proc/keys", "/proc/timer_list", "/sys/firmware"}},
        {"readonlyPaths", {"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"}}}}};
  if (c.privileged) spec["annotations"] = {{"io.microsoft.virtualmachine.lcow.privileged", "true"}};
  return spec;
}

std::string group_policy(const Group& g, const std::vector<std::vector<std::string>>& layer_hashes) {
  json containers = json::array();
  for (size_t i = 0; i < g.containers.size(); ++i) {
    const ContainerSpec& c = g.containers[i];
    json env_rules = json::array();
    for (const auto& e : c.env) env_rules.push_back({{"pattern", e}, {"strategy", "string"}, {"required", false}});
    containers.push_back({{"command", c.command},
                          {"env_rules", env_rules},
                          {"layers", i < layer_hashes.size() ? layer_hashes[i] : std::vector<std::string>{}},
                          {"mounts", json::array()},
                          {"exec_processes", c.exec_processes},
                          {"signals", c.signals},
                          {"user",
                           {{"user_idname", {{"pattern", ""}, {"strategy", "any"}}},
                            {"group_idnames", json::array({{{"pattern", ""}, {"strategy", "any"}}})},
                            {"umask", "0022"}}},
                          {"capabilities", nullptr},
                          {"seccomp_profile_sha256", ""},
                          {"allow_elevated", c.privileged},
                          {"working_dir", c.working_dir},
                          {"allow_stdio_access", c.allow_stdio_access},
                          {"no_new_privileges", c.no_new_privileges},
                          {"name", c.id}});
  }
  std::string text = "package policy\n\napi_version := \"0.12.0\"\nframework_version := \"0.5.0\"\n\n";
  text += "fragments := []\n\n";
  text += "containers := " + containers.dump(2) + "\n\n";
  text += "external_processes := []\n\n";
  text +=
      "allow_properties_access := true\nallow_dump_stacks := false\nallow_runtime_logging := false\n"
      "allow_host_network := false\nallow_environment_variable_dropping := false\n"
      "allow_unencrypted_scratch := false\nallow_capability_dropping := false\n\n";
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
  text += "\nreason := data.framework.reason\n";
  return text;
}

bool prepare_layers(const Group& g, const std::string& work_dir, const LayerBuilder& build, PreparedLayers& out,
                    const Progress& p, std::string& error) {
  auto t0 = std::chrono::steady_clock::now();
  std::error_code ec;
  fs::create_directories(fs::path(work_dir) / "layers", ec);
  std::map<std::string, std::pair<std::string, std::string>> cache;  // source → (image, hash)
  out.images.clear();
  out.hashes.clear();
  for (const auto& c : g.containers) {
    std::vector<std::string> images, hashes;
    for (const auto& src : c.layers) {
      auto it = cache.find(src);
      if (it == cache.end()) {
        std::string img = (fs::path(work_dir) / "layers" / ("layer" + std::to_string(cache.size()) + ".img")).string();
        LayerInfo info;
        auto t = std::chrono::steady_clock::now();
        if (!build(src, img, info, error)) {
          error = "layer " + src + ": " + error;
          return false;
        }
        p.say("  layer " + fs::path(src).filename().string() + " -> " + fs::path(img).filename().string() +
              "  root hash " + info.root_hash + "  (" + std::to_string(int(since(t) * 1000)) + " ms)");
        it = cache.emplace(src, std::make_pair(img, info.root_hash)).first;
      }
      images.push_back(it->second.first);
      hashes.push_back(it->second.second);
    }
    out.images.push_back(std::move(images));
    out.hashes.push_back(std::move(hashes));
  }
  out.seconds = since(t0);
  return true;
}

json GroupState::to_json() const {
  json cs = json::array();
  for (const auto& e : containers) cs.push_back({{"id", e.id}, {"layers", e.layer_targets}, {"rootfs", e.rootfs}});
  return {{"socket", socket}, {"agent_pid", agent_pid}, {"containers", cs}};
}

bool GroupState::from_json(const json& j, GroupState& out, std::string& error) {
  if (!j.is_object() || !j.contains("containers") || !j["containers"].is_array()) {
    error = "group state: not a state file written by `host start`";
    return false;
  }
  out = GroupState{};
  out.socket = j.value("socket", "");
  out.agent_pid = j.value("agent_pid", 0);
  for (const auto& c : j["containers"]) {
    Entry e;
    e.id = c.value("id", "");
    e.rootfs = c.value("rootfs", "");
    if (c.contains("layers") && c["layers"].is_array())
      for (const auto& l : c["layers"])
        if (l.is_string()) e.layer_targets.push_back(l.get<std::string>());
    out.containers.push_back(std::move(e));
  }
  return true;
}

std::string describe(const ttrpc::Status& st) {
  std::string s = std::string(ttrpc::code_name(st.code)) + ": " + st.message;
  return s;
}

bool start_group(AgentClient& client, const Group& g, const PreparedLayers& layers, const std::string& policy_text,
                 GroupState& state, StartTimings& t, const Progress& p, std::string& error) {
  auto fail = [&](const std::string& what, const ttrpc::Status& st) {
    error = what + ": " + describe(st);
    return false;
  };
  auto t0 = std::chrono::steady_clock::now();
  v1::SetPolicyRequest sp;
  sp.set_policy(policy_text);
  ttrpc::Status st = client.call("SetPolicy", sp);
  t.policy += since(t0);
  if (!st.ok()) return fail("SetPolicy", st);
  p.say("  policy accepted by the agent (its digest matches HOST_DATA)");
  int scsi = 0;
  for (size_t i = 0; i < g.containers.size(); ++i) {
    const ContainerSpec& c = g.containers[i];
    GroupState::Entry entry;
    entry.id = c.id;
    auto tm = std::chrono::steady_clock::now();
    for (size_t j = 0; j < layers.images[i].size(); ++j) {
      v1::MountLayerRequest ml;
      ml.set_source(layers.images[i][j]);
      ml.set_target("/run/mounts/scsi/m" + std::to_string(++scsi));
      v1::MountLayerResponse resp;
      st = client.call("MountLayer", ml, &resp);
      if (!st.ok()) return fail("MountLayer " + ml.target(), st);
      p.say("  [" + c.id + "] layer " + std::to_string(j) + " mounted at " + ml.target() + " (agent computed " +
            resp.device_hash().substr(0, 16) + "...)");
      entry.layer_targets.push_back(ml.target());
    }
    v1::MountOverlayRequest mo;
    mo.set_container_id(c.id);
    for (auto it = entry.layer_targets.rbegin(); it != entry.layer_targets.rend(); ++it) mo.add_layer_paths(*it);
    mo.set_target("/run/gcs/c/" + c.id + "/rootfs");
    st = client.call("MountOverlay", mo);
    if (!st.ok()) return fail("MountOverlay " + c.id, st);
    entry.rootfs = mo.target();
    state.containers.push_back(entry);
    t.mounting += since(tm);
    p.say("  [" + c.id + "] overlay rootfs at " + mo.target());
    auto tr = std::chrono::steady_clock::now();
    v1::CreateContainerRequest cc;
    cc.set_container_id(c.id);
    cc.set_oci_spec(oci_spec(c).dump());
    cc.set_rootfs(mo.target());
    cc.set_sandbox_id(g.sandbox_id);
    st = client.call("CreateContainer", cc);
    if (!st.ok()) return fail("CreateContainer " + c.id, st);
    v1::ContainerRequest sc;
    sc.set_container_id(c.id);
    st = client.call("StartContainer", sc);
    if (!st.ok()) return fail("StartContainer " + c.id, st);
    t.runc += since(tr);
    p.say("  [" + c.id + "] container created and started: " + json(c.command).dump());
  }
  return true;
}

bool stop_group(AgentClient& client, const GroupState& state, const Progress& p, std::string& error) {
  bool ok = true;
  for (const auto& e : state.containers) {
    v1::ShutdownContainerRequest sd;
    sd.set_container_id(e.id);
    sd.set_grace_ms(3000);
    ttrpc::Status st = client.call("ShutdownContainer", sd);
    p.say("  [" + e.id + "] shutdown: " + (st.ok() ? "done" : describe(st)));
    if (!e.rootfs.empty()) {
      v1::UnmountOverlayRequest uo;
      uo.set_target(e.rootfs);
      st = client.call("UnmountOverlay", uo);
      if (!st.ok()) {
        ok = false;
        error = "UnmountOverlay " + e.rootfs + ": " + describe(st);
      }
    }
    for (auto it = e.layer_targets.rbegin(); it != e.layer_targets.rend(); ++it) {
      v1::UnmountLayerRequest ul;
      ul.set_target(*it);
      st = client.call("UnmountLayer", ul);
      if (!st.ok()) {
        ok = false;
        error = "UnmountLayer " + *it + ": " + describe(st);
      }
    }
    p.say("  [" + e.id + "] overlay and layers unmounted");
  }
  return ok;
}

int launch_agent(const std::vector<std::string>& argv, const std::string& socket, const std::string& log_file,
                 std::string& error) {
  int pidpipe[2];
  if (::pipe2(pidpipe, O_CLOEXEC) != 0) {
    error = "pipe failed";
    return -1;
  }
  pid_t child = ::fork();
  if (child < 0) {
    error = "fork failed";
    return -1;
  }
  if (child == 0) {
    // Intermediate child: new session and mount namespace, then fork the
    // agent so it is not the caller's child (the host command exits).
    ::setsid();
    if (::unshare(CLONE_NEWNS) != 0) ::_exit(10);
    if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) ::_exit(11);
    pid_t agent = ::fork();
    if (agent < 0) ::_exit(12);
    if (agent > 0) {
      [[maybe_unused]] ssize_t w = ::write(pidpipe[1], &agent, sizeof agent);
      ::_exit(0);
    }
    int log = ::open(log_file.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
    int null = ::open("/dev/null", O_RDONLY);
    if (null >= 0) ::dup2(null, 0);
    if (log >= 0) {
      ::dup2(log, 1);
      ::dup2(log, 2);
    }
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  ::close(pidpipe[1]);
  pid_t agent = -1;
  ssize_t n = ::read(pidpipe[0], &agent, sizeof agent);
  ::close(pidpipe[0]);
  int st = 0;
  ::waitpid(child, &st, 0);
  if (n != sizeof agent || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
    error = "could not start the agent in a new mount namespace (status " + std::to_string(WEXITSTATUS(st)) + ")";
    return -1;
  }
  // Wait for the socket (the agent prints why it failed to its log).
  for (int i = 0; i < 200; ++i) {
    AgentClient c;
    std::string e;
    if (c.connect(socket, e)) return agent;
    if (::kill(agent, 0) != 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  error = "the agent did not open " + socket + " (see " + log_file + ")";
  return -1;
}

}  // namespace confidant::agent::host
