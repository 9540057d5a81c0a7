// Container group + images -> Confidential ACI user policy text (see generator.h).
#include <openssl/evp.h>

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>

#include "generator/generator.h"
#include "integrity/integrity.h"

namespace confidant::generator {

using nlohmann::json;

namespace {

// Capability sets in the order the reference tooling lists them (the order is part of the
// policy text, hence of its hash).
const char* const kUnprivilegedCaps[] = {"CAP_CHOWN",  "CAP_DAC_OVERRIDE",     "CAP_FSETID",     "CAP_FOWNER",
                                         "CAP_MKNOD",  "CAP_NET_RAW",          "CAP_SETGID",     "CAP_SETUID",
                                         "CAP_SETFCAP", "CAP_SETPCAP",         "CAP_NET_BIND_SERVICE",
                                         "CAP_SYS_CHROOT", "CAP_KILL",         "CAP_AUDIT_WRITE"};
const char* const kPrivilegedCaps[] = {
    "CAP_CHOWN",          "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER",         "CAP_FSETID",
    "CAP_KILL",           "CAP_SETGID",       "CAP_SETUID",          "CAP_SETPCAP",        "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_ADMIN",    "CAP_NET_RAW",        "CAP_IPC_LOCK",
    "CAP_IPC_OWNER",      "CAP_SYS_MODULE",   "CAP_SYS_RAWIO",       "CAP_SYS_CHROOT",     "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT",      "CAP_SYS_ADMIN",    "CAP_SYS_BOOT",        "CAP_SYS_NICE",       "CAP_SYS_RESOURCE",
    "CAP_SYS_TIME",       "CAP_SYS_TTY_CONFIG", "CAP_MKNOD",         "CAP_LEASE",          "CAP_AUDIT_WRITE",
    "CAP_AUDIT_CONTROL",  "CAP_SETFCAP",      "CAP_MAC_OVERRIDE",    "CAP_MAC_ADMIN",      "CAP_SYSLOG",
    "CAP_WAKE_ALARM",     "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ",     "CAP_PERFMON",        "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE"};

// Environment variables the ACI platform sets in every container (reference section 10).
const char* const kPlatformEnvPatterns[] = {
    "(?i)(FABRIC)_.+=.+",    "HOSTNAME=.+",          "T(E)?MP=.+",      "FabricPackageFileName=.+",
    "HostedServiceName=.+",  "IDENTITY_API_VERSION=.+", "IDENTITY_HEADER=.+", "IDENTITY_SERVER_THUMBPRINT=.+",
    "azurecontainerinstance_restarted_by=.+"};

const char* kDefaultFragmentIssuer =
    "did:x509:0:sha256:I__iuL25oXEVFdTP_aBLx_eT1RPHbCQ_ECBQfYZpt9s::eku:1.3.6.1.4.1.311.76.59.1.3";
const char* kDefaultFragmentFeed = "mcr.microsoft.com/aci/aci-cc-infra-fragment";
const char* kPauseLayer = "16b514057a06ad665f92c02863aca074fd5976c755d26bff16365299169e8415";
const char* kDefaultPath = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

const char* const kPoints[] = {"mount_device",     "unmount_device",   "mount_overlay",  "unmount_overlay",
                               "create_container", "exec_in_container", "exec_external", "shutdown_container",
                               "signal_container_process", "plan9_mount", "plan9_unmount", "get_properties",
                               "dump_stacks",      "runtime_logging",  "load_fragment",  "scratch_mount",
                               "scratch_unmount"};

json env_rule(const std::string& pattern, const std::string& strategy, bool required) {
  return json{{"pattern", pattern}, {"required", required}, {"strategy", strategy}};
}

json any_user() {
  return json{{"group_idnames", json::array({json{{"pattern", ""}, {"strategy", "any"}}})},
              {"umask", "0022"},
              {"user_idname", json{{"pattern", ""}, {"strategy", "any"}}}};
}

json cap_sets(const std::vector<std::string>& full) {
  json list = full;
  return json{{"ambient", json::array()},
              {"bounding", list},
              {"effective", list},
              {"inheritable", json::array()},
              {"permitted", list}};
}

bool valid_cap(const std::string& c) {
  for (const char* p : kPrivilegedCaps)
    if (c == p) return true;
  return false;
}

std::string mount_source(const std::string& kind, std::string& error) {
  static const std::pair<const char*, const char*> kinds[] = {{"azureFile", "azureFileVolume"},
                                                              {"secret", "secretsVolume"},
                                                              {"emptyDir", "emptydir"},
                                                              {"gitRepo", "gitRepoVolume"}};
  for (auto& [k, dir] : kinds)
    if (kind == k) return std::string("sandbox:///tmp/atlas/") + dir + "/.+";
  error = "unsupported volume type '" + kind + "' (azureFile, secret, emptyDir, gitRepo)";
  return "";
}

bool container_json(const Container& c, const image::Image& img, const std::vector<std::string>& layers,
                    const Options& options, json& out, std::string& error) {
  const std::string where = "container '" + c.name + "': ";
  out = json::object();
  out["name"] = c.name;
  if (!options.omit_id) out["id"] = c.image;
  out["layers"] = layers;

  // Command: the container's own replaces the image's entrypoint + cmd (ACI semantics).
  std::vector<std::string> cmd;
  if (c.command) {
    cmd = *c.command;
  } else {
    cmd = img.config.entrypoint;
    cmd.insert(cmd.end(), img.config.cmd.begin(), img.config.cmd.end());
  }
  out["command"] = cmd.empty() ? json(nullptr) : json(cmd);

  // Environment: the image's variables (a container value of the same name replaces it), the
  // container's, then what the platform injects.
  json env = json::array();
  auto name_of = [](const std::string& kv) { return kv.substr(0, kv.find('=')); };
  for (const std::string& kv : img.config.env) {
    bool overridden = std::any_of(c.env.begin(), c.env.end(), [&](const EnvVar& e) { return e.name == name_of(kv); });
    if (!overridden) env.push_back(env_rule(kv, "string", false));
  }
  for (const EnvVar& e : c.env) {
    if (e.name.empty() || e.name.find('=') != std::string::npos) {
      error = where + "invalid environment variable name '" + e.name + "'";
      return false;
    }
    if (e.strategy != "string" && e.strategy != "re2") {
      error = where + "environment variable " + e.name + ": strategy must be string or re2";
      return false;
    }
    env.push_back(env_rule(e.name + "=" + e.value, e.strategy, e.required));
  }
  env.push_back(env_rule("TERM=xterm", "string", false));
  for (const char* p : kPlatformEnvPatterns) env.push_back(env_rule(p, "re2", false));
  if (options.debug_mode) env.push_back(json{{"name", ".+"}, {"name_strategy", "re2"}, {"required", false},
                                            {"value", ".+"}, {"value_strategy", "re2"}});
  out["env_rules"] = env;

  json mounts = json::array();
  for (const VolumeMount& m : c.mounts) {
    std::string source = mount_source(m.kind, error);
    if (source.empty()) {
      error = where + error;
      return false;
    }
    if (m.path.empty() || m.path[0] != '/') {
      error = where + "mount path '" + m.path + "' is not absolute";
      return false;
    }
    mounts.push_back(json{{"destination", m.path},
                          {"options", json::array({"rbind", "rshared", m.readonly ? "ro" : "rw"})},
                          {"source", source},
                          {"type", "bind"}});
  }
  mounts.push_back(json{{"destination", "/etc/resolv.conf"},
                        {"options", json::array({"rbind", "rshared", "rw"})},
                        {"source", "sandbox:///tmp/atlas/resolvconf/.+"},
                        {"type", "bind"}});
  out["mounts"] = mounts;

  json execs = json::array();
  for (const ExecProcess& e : c.exec_processes) {
    if (e.command.empty()) {
      error = where + "an exec process has an empty command";
      return false;
    }
    execs.push_back(json{{"command", e.command}, {"signals", e.signals}});
  }
  if (options.debug_mode)
    for (const char* sh : {"/bin/sh", "/bin/bash"})
      execs.push_back(json{{"command", json::array({sh})}, {"signals", json::array()}});
  out["exec_processes"] = execs;
  out["signals"] = c.signals;

  // Capabilities: the unprivileged (or privileged) default set, adjusted by add/drop.
  std::vector<std::string> caps;
  if (c.privileged)
    caps.assign(std::begin(kPrivilegedCaps), std::end(kPrivilegedCaps));
  else
    caps.assign(std::begin(kUnprivilegedCaps), std::end(kUnprivilegedCaps));
  for (const std::string& a : c.cap_add) {
    std::string cap = a.starts_with("CAP_") ? a : "CAP_" + a;
    if (!valid_cap(cap)) {
      error = where + "unknown capability '" + a + "'";
      return false;
    }
    if (std::find(caps.begin(), caps.end(), cap) == caps.end()) caps.push_back(cap);
  }
  for (const std::string& d : c.cap_drop) {
    std::string cap = d.starts_with("CAP_") ? d : "CAP_" + d;
    if (!valid_cap(cap)) {
      error = where + "unknown capability '" + d + "'";
      return false;
    }
    caps.erase(std::remove(caps.begin(), caps.end(), cap), caps.end());
  }
  out["capabilities"] = cap_sets(caps);
  out["allow_elevated"] = c.privileged;

  json user = any_user();
  if (c.run_as_user) user["user_idname"] = json{{"pattern", *c.run_as_user}, {"strategy", "id"}};
  if (c.run_as_group)
    user["group_idnames"] = json::array({json{{"pattern", *c.run_as_group}, {"strategy", "id"}}});
  out["user"] = user;
  out["seccomp_profile_sha256"] = "";
  out["no_new_privileges"] = false;
  std::string wd = c.working_dir ? *c.working_dir : img.config.working_dir;
  out["working_dir"] = wd.empty() ? "/" : wd;
  out["allow_stdio_access"] = c.allow_stdio_access ? *c.allow_stdio_access : !options.disable_stdio;
  return true;
}

json pause_container(const Options& options) {
  json c = json::object();
  c["allow_elevated"] = false;
  c["allow_stdio_access"] = !options.disable_stdio;
  std::vector<std::string> caps(std::begin(kUnprivilegedCaps), std::end(kUnprivilegedCaps));
  c["capabilities"] = cap_sets(caps);
  c["command"] = json::array({"/pause"});
  c["env_rules"] = json::array({env_rule(kDefaultPath, "string", true), env_rule("TERM=xterm", "string", false)});
  c["exec_processes"] = json::array();
  c["layers"] = json::array({kPauseLayer});
  c["mounts"] = json::array();
  c["name"] = "pause-container";
  c["no_new_privileges"] = false;
  c["seccomp_profile_sha256"] = "";
  c["signals"] = json::array();
  c["user"] = any_user();
  c["working_dir"] = "/";
  return c;
}

std::string sha256_hex(std::string_view s) {
  unsigned char md[32];
  unsigned int len = 0;
  EVP_Digest(s.data(), s.size(), md, &len, EVP_sha256(), nullptr);
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned i = 0; i < len; ++i) {
    out += hex[md[i] >> 4];
    out += hex[md[i] & 15];
  }
  return out;
}

// The layer hash cache: one small JSON file per diff_id, written under a temporary name and
// renamed, so concurrent runs sharing the directory see whole entries or none.
std::string cache_entry_path(const std::string& dir, const std::string& diff_id) {
  if (diff_id.size() != 71 || !diff_id.starts_with("sha256:")) return "";
  for (size_t i = 7; i < diff_id.size(); ++i)
    if (!std::isxdigit(static_cast<unsigned char>(diff_id[i]))) return "";
  return dir + "/verity-aci/" + diff_id.substr(7) + ".json";
}

bool cache_lookup(const std::string& dir, const std::string& diff_id, std::string& root) {
  std::string path = cache_entry_path(dir, diff_id);
  if (path.empty()) return false;
  std::ifstream f(path);
  if (!f) return false;
  std::string text((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  json j = json::parse(text, nullptr, false);
  if (!j.is_object() || !j.contains("root_hash") || !j.contains("check") || !j["root_hash"].is_string()) return false;
  std::string r = j["root_hash"].get<std::string>();
  integrity::RootHash parsed;
  if (!integrity::parse_hex(r, parsed) || j["check"] != sha256_hex(diff_id + ":" + r) || j.value("diff_id", "") != diff_id)
    return false;  // damaged: recompute
  root = r;
  return true;
}

void cache_store(const std::string& dir, const std::string& diff_id, const std::string& root) {
  std::string path = cache_entry_path(dir, diff_id);
  if (path.empty()) return;
  std::error_code ec;
  std::filesystem::create_directories(dir + "/verity-aci", ec);
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  std::string tmp = path + ".tmp." + std::to_string(getpid()) + "." + std::to_string(rng());
  {
    std::ofstream f(tmp, std::ios::trunc);
    f << json{{"diff_id", diff_id}, {"root_hash", root}, {"check", sha256_hex(diff_id + ":" + root)}}.dump() << "\n";
    if (!f) return;
  }
  std::filesystem::rename(tmp, path, ec);
  if (ec) std::filesystem::remove(tmp, ec);
}

}  // namespace

std::string base64(std::string_view bytes) {
  static const char* tbl = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    uint32_t v = (uint8_t(bytes[i]) << 16) | (uint8_t(bytes[i + 1]) << 8) | uint8_t(bytes[i + 2]);
    out += tbl[v >> 18];
    out += tbl[(v >> 12) & 63];
    out += tbl[(v >> 6) & 63];
    out += tbl[v & 63];
  }
  if (i + 1 == bytes.size()) {
    uint32_t v = uint8_t(bytes[i]) << 16;
    out += tbl[v >> 18];
    out += tbl[(v >> 12) & 63];
    out += "==";
  } else if (i + 2 == bytes.size()) {
    uint32_t v = (uint8_t(bytes[i]) << 16) | (uint8_t(bytes[i + 1]) << 8);
    out += tbl[v >> 18];
    out += tbl[(v >> 12) & 63];
    out += tbl[(v >> 6) & 63];
    out += '=';
  }
  return out;
}

bool generate_aci(const Group& group, const ImageResolver& images, const Options& options, Generated& out,
                  std::string& error, const ProgressFn& progress) {
  if (group.containers.empty()) {
    error = "the container group has no containers";
    return false;
  }
  json containers = json::array();
  std::vector<std::string> names;
  for (const Container& c : group.containers) {
    if (c.name.empty()) {
      error = "a container has no name";
      return false;
    }
    if (std::find(names.begin(), names.end(), c.name) != names.end()) {
      error = "two containers are named '" + c.name + "'";
      return false;
    }
    names.push_back(c.name);
    if (c.image.empty()) {
      error = "container '" + c.name + "' has no image";
      return false;
    }
    image::Image img;
    std::string e;
    if (!images || !images(c.image, img, e)) {
      error = "container '" + c.name + "': image " + c.image + ": " + (e.empty() ? "not found" : e);
      return false;
    }
    // Layers not in the cache are hashed, independent layers in parallel.
    std::vector<std::string> layers(img.layers.size());
    std::vector<size_t> todo;
    for (size_t i = 0; i < img.layers.size(); ++i)
      if (options.cache_dir.empty() || !cache_lookup(options.cache_dir, img.layers[i].diff_id, layers[i]))
        todo.push_back(i);
    if (!todo.empty()) {
      if (progress)
        progress("hashing " + std::to_string(todo.size()) + " of " + std::to_string(img.layers.size()) +
                 " layers of " + c.image);
      std::vector<std::string> paths;
      for (size_t i : todo) paths.push_back(img.layers[i].path);
      std::vector<integrity::RootHash> roots;
      std::vector<std::string> errors;
      if (!integrity::layer_root_hashes(integrity::LayerFormat::kAci, paths, 0, roots, errors)) {
        for (size_t k = 0; k < errors.size(); ++k)
          if (!errors[k].empty()) {
            error = "container '" + c.name + "': layer " + img.layers[todo[k]].digest + " of " + c.image + ": " +
                    errors[k];
            return false;
          }
        error = "container '" + c.name + "': layer hashing failed";
        return false;
      }
      for (size_t k = 0; k < todo.size(); ++k) {
        layers[todo[k]] = integrity::to_hex(roots[k]);
        if (!options.cache_dir.empty()) cache_store(options.cache_dir, img.layers[todo[k]].diff_id, layers[todo[k]]);
      }
    }
    json cj;
    if (!container_json(c, img, layers, options, cj, error)) return false;
    containers.push_back(std::move(cj));
  }
  if (options.include_pause_container) containers.push_back(pause_container(options));

  json fragments = json::array();
  if (options.include_default_fragment)
    fragments.push_back(json{{"feed", kDefaultFragmentFeed},
                             {"includes", json::array({"containers", "fragments"})},
                             {"issuer", kDefaultFragmentIssuer},
                             {"minimum_svn", options.infrastructure_svn}});

  std::string p;
  p += "package policy\n\nimport future.keywords.every\nimport future.keywords.in\n\n";
  p += "api_version := \"" + options.api_version + "\"\n";
  p += "framework_version := \"" + options.framework_version + "\"\n\n";
  p += "fragments := " + (fragments.empty() ? std::string("[]") : fragments.dump(2)) + "\n\n";
  p += "containers := " + containers.dump() + "\n\n";
  auto flag = [&](const char* name, bool v) { p += std::string(name) + " := " + (v ? "true" : "false") + "\n"; };
  flag("allow_properties_access", true);
  flag("allow_dump_stacks", options.debug_mode);
  flag("allow_runtime_logging", options.debug_mode);
  flag("allow_environment_variable_dropping", true);
  flag("allow_unencrypted_scratch", false);
  flag("allow_capability_dropping", true);
  p += "\n";
  for (const char* point : kPoints) p += std::string(point) + " := data.framework." + point + "\n";
  p += "\nreason := {\"errors\": data.framework.errors}\n";
  out.policy = std::move(p);
  out.sha256 = sha256_hex(out.policy);
  return true;
}

}  // namespace confidant::generator
