// Kubernetes manifests -> pod templates for Kata policy generation (see kata_yaml.h).
//
// Manifests are untrusted input: every field is checked for its type and reported with its path
// ("document 2 (Deployment web): spec.template.spec.containers[0].env[3].valueFrom: ..."), sizes
// and counts are bounded, yaml-cpp's exceptions become errors, and writing the documents back
// expands aliases under a node budget.
#include "generator/kata_yaml.h"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <functional>
#include <map>
#include <set>

namespace confidant::generator::kata {

namespace {

constexpr size_t kMaxYamlBytes = 16u << 20;
constexpr size_t kMaxContainers = 64;
constexpr size_t kMaxListItems = 10000;
constexpr size_t kMaxEmittedNodes = 2'000'000;
constexpr size_t kMaxEmitDepth = 512;  // aliases can make a node its own descendant

// A field that is wrong, with its path, as the error.
struct Bad {
  std::string message;
};

std::string join_path(const std::string& parent, std::string_view key) {
  return parent.empty() ? std::string(key) : parent + "." + std::string(key);
}

std::string index_path(const std::string& parent, size_t i) { return parent + "[" + std::to_string(i) + "]"; }

// The value of `key` in a mapping, if present and not null.
std::optional<YAML::Node> field(const YAML::Node& map, std::string_view key) {
  if (!map.IsMap()) return std::nullopt;
  for (auto it = map.begin(); it != map.end(); ++it) {
    if (it->first.IsScalar() && it->first.Scalar() == key) {
      if (it->second.IsNull()) return std::nullopt;
      return it->second;
    }
  }
  return std::nullopt;
}

void require_map(const YAML::Node& n, const std::string& path) {
  if (!n.IsMap()) throw Bad{path + ": expected a mapping"};
}

std::string scalar(const YAML::Node& n, const std::string& path) {
  if (!n.IsScalar()) throw Bad{path + ": expected a string"};
  return n.Scalar();
}

std::optional<std::string> opt_string(const YAML::Node& map, std::string_view key, const std::string& path) {
  auto f = field(map, key);
  if (!f) return std::nullopt;
  return scalar(*f, join_path(path, key));
}

std::string string_or(const YAML::Node& map, std::string_view key, const std::string& path, std::string def = "") {
  auto s = opt_string(map, key, path);
  return s ? *s : def;
}

std::optional<bool> opt_bool(const YAML::Node& map, std::string_view key, const std::string& path) {
  auto f = field(map, key);
  if (!f) return std::nullopt;
  std::string p = join_path(path, key);
  if (!f->IsScalar()) throw Bad{p + ": expected true or false"};
  static const char* kTrue[] = {"true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON", "y", "Y"};
  static const char* kFalse[] = {"false", "False", "FALSE", "no", "No", "NO", "off", "Off", "OFF", "n", "N"};
  for (const char* t : kTrue)
    if (f->Scalar() == t) return true;
  for (const char* t : kFalse)
    if (f->Scalar() == t) return false;
  throw Bad{p + ": expected true or false, got '" + f->Scalar() + "'"};
}

int64_t to_int(const YAML::Node& n, const std::string& path, int64_t lo, int64_t hi) {
  if (!n.IsScalar()) throw Bad{path + ": expected an integer"};
  const std::string& s = n.Scalar();
  size_t i = (!s.empty() && (s[0] == '-' || s[0] == '+')) ? 1 : 0;
  if (i == s.size() || s.size() > 20) throw Bad{path + ": expected an integer, got '" + s + "'"};
  __int128 v = 0;
  for (size_t k = i; k < s.size(); ++k) {
    if (!std::isdigit(static_cast<unsigned char>(s[k]))) throw Bad{path + ": expected an integer, got '" + s + "'"};
    v = v * 10 + (s[k] - '0');
  }
  if (s[0] == '-') v = -v;
  if (v < lo || v > hi) throw Bad{path + ": " + s + " is out of range"};
  return static_cast<int64_t>(v);
}

std::optional<int64_t> opt_int(const YAML::Node& map, std::string_view key, const std::string& path, int64_t lo,
                               int64_t hi) {
  auto f = field(map, key);
  if (!f) return std::nullopt;
  return to_int(*f, join_path(path, key), lo, hi);
}

// A sequence field (absent: empty).
std::vector<YAML::Node> sequence(const YAML::Node& map, std::string_view key, const std::string& path) {
  auto f = field(map, key);
  if (!f) return {};
  if (!f->IsSequence()) throw Bad{join_path(path, key) + ": expected a list"};
  if (f->size() > kMaxListItems) throw Bad{join_path(path, key) + ": too many entries"};
  std::vector<YAML::Node> out;
  for (const auto& x : *f) out.push_back(x);
  return out;
}

std::optional<std::vector<std::string>> opt_strings(const YAML::Node& map, std::string_view key,
                                                    const std::string& path) {
  auto f = field(map, key);
  if (!f) return std::nullopt;
  std::vector<std::string> out;
  size_t i = 0;
  for (const auto& x : sequence(map, key, path)) out.push_back(scalar(x, index_path(join_path(path, key), i++)));
  return out;
}

bool is_dns_label(std::string_view s) {
  if (s.empty() || s.size() > 63) return false;
  for (char c : s)
    if (!(std::islower(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c)) || c == '-'))
      return false;
  return s.front() != '-' && s.back() != '-';
}

bool is_dns_subdomain(std::string_view s) {
  if (s.empty() || s.size() > 253) return false;
  size_t start = 0;
  while (true) {
    size_t dot = s.find('.', start);
    if (!is_dns_label(s.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start)))
      return false;
    if (dot == std::string_view::npos) return true;
    start = dot + 1;
  }
}

// Kubernetes environment variable names (C identifiers plus '-' and '.').
bool is_env_name(std::string_view s) {
  if (s.empty() || std::isdigit(static_cast<unsigned char>(s[0]))) return false;
  for (char c : s)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.')) return false;
  return true;
}

bool base64_decode(std::string_view in, std::string& out) {
  auto val = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  std::string clean;
  for (char c : in)
    if (!std::isspace(static_cast<unsigned char>(c))) clean += c;
  if (clean.size() % 4 != 0) return false;
  out.clear();
  for (size_t i = 0; i < clean.size(); i += 4) {
    int v[4];
    int pad = 0;
    for (int k = 0; k < 4; ++k) {
      char c = clean[i + k];
      if (c == '=') {
        if (i + 4 != clean.size() || k < 2) return false;
        v[k] = 0;
        ++pad;
      } else {
        if (pad) return false;
        v[k] = val(c);
        if (v[k] < 0) return false;
      }
    }
    uint32_t x = (v[0] << 18) | (v[1] << 12) | (v[2] << 6) | v[3];
    out += static_cast<char>(x >> 16);
    if (pad < 2) out += static_cast<char>((x >> 8) & 255);
    if (pad < 1) out += static_cast<char>(x & 255);
  }
  return true;
}

// Kubernetes $(VAR) expansion (k8s.io/kubernetes third_party/forked/golang/expansion): "$$" is a
// "$", "$(NAME)" the value of NAME when `lookup` knows it and itself otherwise, any other "$" a
// "$". With `to_template`, literal text is escaped for the policy and looked-up values are
// templates already.
std::string expand(std::string_view in, const std::function<const std::string*(std::string_view)>& lookup,
                   bool to_template) {
  std::string out;
  auto literal = [&](std::string_view s) { out += to_template ? template_literal(s) : std::string(s); };
  size_t checkpoint = 0;
  for (size_t cursor = 0; cursor < in.size(); ++cursor) {
    if (in[cursor] != '$' || cursor + 1 >= in.size()) continue;
    literal(in.substr(checkpoint, cursor - checkpoint));
    std::string_view rest = in.substr(cursor + 1);
    size_t advance = 1;
    if (rest[0] == '$') {
      literal("$");
    } else if (rest[0] == '(') {
      size_t close = rest.find(')', 1);
      if (close == std::string_view::npos) {
        literal("$(");
      } else {
        std::string_view name = rest.substr(1, close - 1);
        if (const std::string* v = lookup(name))
          out += *v;
        else
          literal("$(" + std::string(name) + ")");
        advance = close + 1;
      }
    } else {
      literal(in.substr(cursor, 2));
    }
    cursor += advance;
    checkpoint = cursor + 1;
  }
  if (checkpoint < in.size()) literal(in.substr(checkpoint));
  return out;
}

// ConfigMaps and Secrets by name (namespaces are not told apart: one manifest set is one pod's
// world).
struct ConfigStore {
  std::map<std::string, std::map<std::string, std::string>> config_maps, secrets;

  void add(const YAML::Node& doc, const std::string& kind, const std::string& where) {
    try {
      add_data(doc, kind, where);
    } catch (const Bad& b) {
      throw Bad{b.message.starts_with(where) ? b.message : where + ": " + b.message};
    }
  }

  void add_data(const YAML::Node& doc, const std::string& kind, const std::string& where) {
    auto meta = field(doc, "metadata");
    if (!meta) throw Bad{where + ": metadata.name is missing"};
    std::string name = string_or(*meta, "name", "metadata");
    if (name.empty()) throw Bad{where + ": metadata.name is missing"};
    std::map<std::string, std::string> data;
    auto read = [&](std::string_view key, bool b64) {
      auto d = field(doc, key);
      if (!d) return;
      require_map(*d, std::string(key));
      for (auto it = d->begin(); it != d->end(); ++it) {
        std::string k = scalar(it->first, std::string(key));
        std::string v = scalar(it->second, std::string(key) + "." + k);
        if (b64) {
          std::string decoded;
          if (!base64_decode(v, decoded)) throw Bad{std::string(key) + "." + k + ": not valid base64"};
          v = decoded;
        }
        data[k] = v;
      }
    };
    if (kind == "Secret") {
      read("data", true);
      read("stringData", false);
      secrets[name] = data;
    } else {
      read("data", false);
      config_maps[name] = data;
    }
  }

  const std::map<std::string, std::string>* find(bool secret, const std::string& name) const {
    const auto& m = secret ? secrets : config_maps;
    auto it = m.find(name);
    return it == m.end() ? nullptr : &it->second;
  }
};

struct PodContext {
  const ConfigStore& store;
  std::map<std::string, std::string> labels;
  std::string service_account = "default";
};

void check_seccomp(const YAML::Node& sc, const std::string& path) {
  if (auto sp = field(sc, "seccompProfile")) {
    std::string type = string_or(*sp, "type", join_path(path, "seccompProfile"));
    if (type != "Unconfined")
      throw Bad{join_path(path, "seccompProfile") +
                ": the Kata agent policy refuses every seccomp profile (use type Unconfined or remove it)"};
  }
}

// The downward API values a pod can read, as the policy's placeholders.
std::string field_ref_template(const std::string& field_path, const PodContext& pod, const std::string& path) {
  if (field_path == "metadata.name") return "$(sandbox-name)";
  if (field_path == "metadata.namespace") return "$(sandbox-namespace)";
  if (field_path == "metadata.uid") return "$(pod-uid)";
  if (field_path == "spec.nodeName") return "$(node-name)";
  if (field_path == "spec.serviceAccountName") return template_literal(pod.service_account);
  if (field_path == "status.podIP" || field_path == "status.podIPs") return "$(pod-ip)";
  if (field_path == "status.hostIP" || field_path == "status.hostIPs") return "$(host-ip)";
  auto bracket_key = [&](std::string_view prefix, std::string& key) {
    if (!field_path.starts_with(prefix) || !field_path.ends_with("']")) return false;
    key = field_path.substr(prefix.size(), field_path.size() - prefix.size() - 2);
    return !key.empty();
  };
  std::string key;
  if (bracket_key("metadata.labels['", key)) {
    // Labels of the template are known; controllers add others (pod-template-hash).
    auto it = pod.labels.find(key);
    return it != pod.labels.end() ? template_literal(it->second) : "$(todo-annotation)";
  }
  if (bracket_key("metadata.annotations['", key)) return "$(todo-annotation)";
  throw Bad{path + ": unsupported fieldPath '" + field_path + "'"};
}

// The container's environment as the kubelet builds it: envFrom sources, then env entries whose
// `value` may reference the variables defined before them.
std::vector<EnvVar> parse_env(const YAML::Node& c, const std::string& path, const PodContext& pod) {
  std::vector<EnvVar> env;
  std::map<std::string, size_t> index;
  auto set = [&](const std::string& name, std::string value) {
    if (auto it = index.find(name); it != index.end()) {
      env[it->second].value = std::move(value);
    } else {
      index[name] = env.size();
      env.push_back({name, std::move(value)});
    }
  };
  auto lookup = [&](std::string_view name) -> const std::string* {
    auto it = index.find(std::string(name));
    return it == index.end() ? nullptr : &env[it->second].value;
  };

  size_t i = 0;
  for (const auto& from : sequence(c, "envFrom", path)) {
    std::string p = index_path(join_path(path, "envFrom"), i++);
    require_map(from, p);
    std::string prefix = string_or(from, "prefix", p);
    auto cm = field(from, "configMapRef");
    auto secret = field(from, "secretRef");
    if (!cm == !secret) throw Bad{p + ": expected one of configMapRef, secretRef"};
    const YAML::Node& ref = cm ? *cm : *secret;
    std::string rp = join_path(p, cm ? "configMapRef" : "secretRef");
    std::string name = string_or(ref, "name", rp);
    bool optional = opt_bool(ref, "optional", rp).value_or(false);
    const auto* data = pod.store.find(!cm, name);
    if (!data) {
      if (optional) continue;
      throw Bad{rp + ": " + (cm ? "ConfigMap" : "Secret") + " '" + name +
                "' not found (put it in the YAML or give it with --config-file)"};
    }
    for (const auto& [k, v] : *data)  // sorted keys: a deterministic order
      if (is_env_name(prefix + k)) set(prefix + k, template_literal(v));
  }

  i = 0;
  for (const auto& e : sequence(c, "env", path)) {
    std::string p = index_path(join_path(path, "env"), i++);
    require_map(e, p);
    std::string name = string_or(e, "name", p);
    if (!is_env_name(name)) throw Bad{p + ": invalid environment variable name '" + name + "'"};
    auto value = opt_string(e, "value", p);
    auto from = field(e, "valueFrom");
    if (value && from) throw Bad{p + ": value and valueFrom are exclusive"};
    if (!from) {
      set(name, expand(value.value_or(""), lookup, true));
      continue;
    }
    std::string fp = join_path(p, "valueFrom");
    require_map(*from, fp);
    if (auto ref = field(*from, "fieldRef")) {
      set(name, field_ref_template(string_or(*ref, "fieldPath", join_path(fp, "fieldRef")), pod,
                                   join_path(fp, "fieldRef.fieldPath")));
    } else if (field(*from, "resourceFieldRef")) {
      set(name, "$(resource-field)");
    } else if (auto cm = field(*from, "configMapKeyRef"), secret = field(*from, "secretKeyRef"); cm || secret) {
      const YAML::Node& ref = cm ? *cm : *secret;
      std::string rp = join_path(fp, cm ? "configMapKeyRef" : "secretKeyRef");
      std::string ref_name = string_or(ref, "name", rp);
      std::string key = string_or(ref, "key", rp);
      bool optional = opt_bool(ref, "optional", rp).value_or(false);
      const auto* data = pod.store.find(!cm, ref_name);
      const std::string* v = nullptr;
      if (data)
        if (auto it = data->find(key); it != data->end()) v = &it->second;
      if (!v) {
        if (optional) continue;  // the kubelet leaves the variable out
        throw Bad{rp + ": key '" + key + "' of " + (cm ? "ConfigMap" : "Secret") + " '" + ref_name +
                  "' not found (put it in the YAML or give it with --config-file)"};
      }
      set(name, template_literal(*v));
    } else {
      throw Bad{fp + ": expected fieldRef, resourceFieldRef, configMapKeyRef or secretKeyRef"};
    }
  }
  return env;
}

// Commands the kubelet execs in the container: exec probes (their $(VAR) references expanded
// from the container's literal env values, as the prober does) and lifecycle hooks.
void parse_exec_commands(const YAML::Node& c, const std::string& path, Container& out) {
  std::map<std::string, std::string> statics;
  for (const auto& e : sequence(c, "env", path))
    if (auto name = opt_string(e, "name", path)) statics[*name] = string_or(e, "value", path);
  auto lookup = [&](std::string_view name) -> const std::string* {
    auto it = statics.find(std::string(name));
    return it == statics.end() ? nullptr : &it->second;
  };
  auto add = [&](const std::vector<std::string>& cmd) {
    if (std::find(out.exec_commands.begin(), out.exec_commands.end(), cmd) == out.exec_commands.end())
      out.exec_commands.push_back(cmd);
  };
  for (const char* probe : {"livenessProbe", "readinessProbe", "startupProbe"}) {
    auto p = field(c, probe);
    if (!p) continue;
    std::string pp = join_path(path, probe);
    require_map(*p, pp);
    auto exec = field(*p, "exec");
    if (!exec) continue;
    auto cmd = opt_strings(*exec, "command", join_path(pp, "exec"));
    if (!cmd || cmd->empty()) throw Bad{join_path(pp, "exec.command") + ": empty command"};
    for (auto& a : *cmd) a = expand(a, lookup, false);
    add(*cmd);
  }
  if (auto lc = field(c, "lifecycle")) {
    std::string lp = join_path(path, "lifecycle");
    require_map(*lc, lp);
    for (const char* hook : {"postStart", "preStop"}) {
      auto h = field(*lc, hook);
      if (!h) continue;
      auto exec = field(*h, "exec");
      if (!exec) continue;
      auto cmd = opt_strings(*exec, "command", join_path(join_path(lp, hook), "exec"));
      if (!cmd || cmd->empty()) throw Bad{join_path(join_path(lp, hook), "exec.command") + ": empty command"};
      add(*cmd);
    }
  }
}

struct PodSecurity {
  std::optional<int64_t> run_as_user, run_as_group;
  bool run_as_non_root = false;
};

Container parse_container(const YAML::Node& c, const std::string& path, bool init, const PodSecurity& pod_sc,
                          const PodContext& pod, const std::map<std::string, Volume>& volumes) {
  require_map(c, path);
  Container out;
  out.init = init;
  out.name = string_or(c, "name", path);
  if (!is_dns_label(out.name)) throw Bad{join_path(path, "name") + ": '" + out.name + "' is not a valid container name"};
  out.image = string_or(c, "image", path);
  if (out.image.empty()) throw Bad{join_path(path, "image") + ": missing"};
  out.working_dir = string_or(c, "workingDir", path);
  out.tty = opt_bool(c, "tty", path).value_or(false);
  out.termination_message_path = string_or(c, "terminationMessagePath", path, "/dev/termination-log");
  if (out.termination_message_path.empty() || out.termination_message_path[0] != '/')
    throw Bad{join_path(path, "terminationMessagePath") + ": not an absolute path"};

  out.env = parse_env(c, path, pod);
  auto lookup = [&](std::string_view name) -> const std::string* {
    for (const auto& e : out.env)
      if (e.name == name) return &e.value;
    return nullptr;
  };
  if (auto cmd = opt_strings(c, "command", path)) {
    out.command.emplace();
    for (const auto& a : *cmd) out.command->push_back(expand(a, lookup, true));
  }
  if (auto args = opt_strings(c, "args", path)) {
    out.args.emplace();
    for (const auto& a : *args) out.args->push_back(expand(a, lookup, true));
  }
  parse_exec_commands(c, path, out);

  size_t i = 0;
  for (const auto& m : sequence(c, "volumeMounts", path)) {
    std::string p = index_path(join_path(path, "volumeMounts"), i++);
    require_map(m, p);
    VolumeMount vm;
    vm.volume = string_or(m, "name", p);
    vm.path = string_or(m, "mountPath", p);
    if (vm.path.empty() || vm.path[0] != '/') throw Bad{join_path(p, "mountPath") + ": not an absolute path"};
    if (!string_or(m, "subPath", p).empty() || !string_or(m, "subPathExpr", p).empty())
      throw Bad{p + ": subPath mounts are not supported by the Kata policy generator"};
    auto v = volumes.find(vm.volume);
    if (v == volumes.end()) throw Bad{join_path(p, "name") + ": no volume named '" + vm.volume + "'"};
    vm.read_only = opt_bool(m, "readOnly", p).value_or(false) || v->second.always_read_only;
    std::string prop = string_or(m, "mountPropagation", p, "None");
    if (prop == "None")
      vm.propagation = "rprivate";
    else if (prop == "HostToContainer")
      vm.propagation = "rslave";
    else if (prop == "Bidirectional")
      vm.propagation = "rshared";
    else
      throw Bad{join_path(p, "mountPropagation") + ": unknown value '" + prop + "'"};
    out.mounts.push_back(vm);
  }
  if (field(c, "volumeDevices")) throw Bad{join_path(path, "volumeDevices") + ": block volumes are not supported"};

  out.run_as_user = pod_sc.run_as_user;
  out.run_as_group = pod_sc.run_as_group;
  out.run_as_non_root = pod_sc.run_as_non_root;
  if (auto sc = field(c, "securityContext")) {
    std::string sp = join_path(path, "securityContext");
    require_map(*sc, sp);
    check_seccomp(*sc, sp);
    if (auto u = opt_int(*sc, "runAsUser", sp, 0, UINT32_MAX)) out.run_as_user = u;
    if (auto g = opt_int(*sc, "runAsGroup", sp, 0, UINT32_MAX)) out.run_as_group = g;
    if (auto nr = opt_bool(*sc, "runAsNonRoot", sp)) out.run_as_non_root = *nr;
    out.privileged = opt_bool(*sc, "privileged", sp).value_or(false);
    out.allow_privilege_escalation = opt_bool(*sc, "allowPrivilegeEscalation", sp);
    out.read_only_root = opt_bool(*sc, "readOnlyRootFilesystem", sp).value_or(false);
    if (auto caps = field(*sc, "capabilities")) {
      std::string cp = join_path(sp, "capabilities");
      out.cap_add = opt_strings(*caps, "add", cp).value_or(std::vector<std::string>{});
      out.cap_drop = opt_strings(*caps, "drop", cp).value_or(std::vector<std::string>{});
    }
    if (string_or(*sc, "procMount", sp, "Default") != "Default")
      throw Bad{join_path(sp, "procMount") + ": only Default is supported"};
    bool sys_admin = std::any_of(out.cap_add.begin(), out.cap_add.end(),
                                 [](const std::string& s) { return s == "SYS_ADMIN" || s == "CAP_SYS_ADMIN"; });
    if (out.allow_privilege_escalation == false && (out.privileged || sys_admin))
      throw Bad{sp + ": allowPrivilegeEscalation: false contradicts privileged or CAP_SYS_ADMIN"};
  }
  return out;
}

Volume parse_volume(const YAML::Node& v, const std::string& path) {
  require_map(v, path);
  Volume out;
  out.name = string_or(v, "name", path);
  if (!is_dns_label(out.name)) throw Bad{join_path(path, "name") + ": '" + out.name + "' is not a valid volume name"};
  static const char* kShared[] = {"configMap", "secret", "projected", "downwardAPI", "hostPath",
                                  "persistentVolumeClaim"};
  for (auto it = v.begin(); it != v.end(); ++it) {
    std::string key = scalar(it->first, path);
    if (key == "name") continue;
    if (!out.kind.empty()) throw Bad{path + ": more than one volume source"};
    if (key == "emptyDir") {
      std::string medium = it->second.IsMap() ? string_or(it->second, "medium", join_path(path, key)) : "";
      if (medium == "Memory")
        out.kind = "emptyDir_memory";
      else if (medium.empty())
        out.kind = "emptyDir";
      else
        throw Bad{join_path(path, "emptyDir.medium") + ": unsupported medium '" + medium + "'"};
      continue;
    }
    if (std::find(std::begin(kShared), std::end(kShared), key) == std::end(kShared))
      throw Bad{path + ": unsupported volume type '" + key + "'"};
    out.kind = key;
    out.always_read_only = key == "configMap" || key == "secret" || key == "projected" || key == "downwardAPI";
  }
  if (out.kind.empty()) throw Bad{path + ": no volume source"};
  return out;
}

std::map<std::string, std::string> string_map(const YAML::Node& map, std::string_view key, const std::string& path) {
  std::map<std::string, std::string> out;
  auto f = field(map, key);
  if (!f) return out;
  std::string p = join_path(path, key);
  require_map(*f, p);
  for (auto it = f->begin(); it != f->end(); ++it) {
    std::string k = scalar(it->first, p);
    out[k] = it->second.IsNull() ? "" : scalar(it->second, p + "." + k);
  }
  return out;
}

void parse_pod_spec(const YAML::Node& spec, const std::string& path, const ConfigStore& store,
                    const std::map<std::string, std::string>& labels, Pod& pod) {
  require_map(spec, path);
  for (const char* host : {"hostNetwork", "hostPID", "hostIPC"})
    if (opt_bool(spec, host, path).value_or(false))
      throw Bad{join_path(path, host) + ": not supported: a Kata pod runs in its own VM"};
  pod.share_process_namespace = opt_bool(spec, "shareProcessNamespace", path).value_or(false);

  PodContext ctx{store, labels, "default"};
  ctx.service_account = string_or(spec, "serviceAccountName", path, string_or(spec, "serviceAccount", path, "default"));
  pod.automount_service_account_token = opt_bool(spec, "automountServiceAccountToken", path).value_or(true);

  PodSecurity pod_sc;
  if (auto sc = field(spec, "securityContext")) {
    std::string sp = join_path(path, "securityContext");
    require_map(*sc, sp);
    check_seccomp(*sc, sp);
    pod_sc.run_as_user = opt_int(*sc, "runAsUser", sp, 0, UINT32_MAX);
    pod_sc.run_as_group = opt_int(*sc, "runAsGroup", sp, 0, UINT32_MAX);
    pod_sc.run_as_non_root = opt_bool(*sc, "runAsNonRoot", sp).value_or(false);
    pod.fs_group = opt_int(*sc, "fsGroup", sp, 0, UINT32_MAX);
    pod.fs_group_change_policy = string_or(*sc, "fsGroupChangePolicy", sp, "Always");
    if (pod.fs_group_change_policy != "Always" && pod.fs_group_change_policy != "OnRootMismatch")
      throw Bad{join_path(sp, "fsGroupChangePolicy") + ": unknown value '" + pod.fs_group_change_policy + "'"};
    size_t i = 0;
    for (const auto& g : sequence(*sc, "supplementalGroups", sp))
      pod.supplemental_groups.push_back(to_int(g, index_path(join_path(sp, "supplementalGroups"), i++), 0, UINT32_MAX));
    if (pod.fs_group) pod.supplemental_groups.push_back(*pod.fs_group);
    i = 0;
    for (const auto& s : sequence(*sc, "sysctls", sp)) {
      std::string p = index_path(join_path(sp, "sysctls"), i++);
      pod.sysctls.emplace_back(string_or(s, "name", p), string_or(s, "value", p));
    }
  }
  pod.run_as_user = pod_sc.run_as_user;
  pod.run_as_group = pod_sc.run_as_group;

  std::map<std::string, Volume> volumes;
  size_t i = 0;
  for (const auto& v : sequence(spec, "volumes", path)) {
    Volume vol = parse_volume(v, index_path(join_path(path, "volumes"), i++));
    if (volumes.count(vol.name)) throw Bad{join_path(path, "volumes") + ": two volumes are named '" + vol.name + "'"};
    volumes[vol.name] = vol;
    pod.volumes.push_back(vol);
  }

  std::set<std::string> names;
  for (const char* list : {"initContainers", "containers"}) {
    i = 0;
    for (const auto& c : sequence(spec, list, path)) {
      std::string cp = index_path(join_path(path, list), i++);
      Container container = parse_container(c, cp, std::string(list) == "initContainers", pod_sc, ctx, volumes);
      if (!names.insert(container.name).second)
        throw Bad{join_path(cp, "name") + ": two containers are named '" + container.name + "'"};
      pod.containers.push_back(std::move(container));
    }
  }
  if (pod.containers.empty() || std::all_of(pod.containers.begin(), pod.containers.end(),
                                            [](const Container& c) { return c.init; }))
    throw Bad{join_path(path, "containers") + ": the pod has no containers"};
  if (pod.containers.size() > kMaxContainers) throw Bad{path + ": too many containers"};
}

// Names a controller gives the pods of a workload named `name`.
std::string sandbox_name_regex(const std::string& kind, const std::string& name, bool generated) {
  std::string q = regex_quote(name);
  if (kind == "Pod") return generated ? "^" + q + "[a-z0-9]{5}$" : "^" + q + "$";
  if (kind == "Deployment") return "^" + q + "-[a-z0-9]{1,10}-[a-z0-9]{5}$";
  if (kind == "StatefulSet") return "^" + q + "-[0-9]+$";
  if (kind == "Job") return "^" + q + "-(?:[0-9]+-)?[a-z0-9]{5}$";
  if (kind == "CronJob") return "^" + q + "-[0-9]+-(?:[0-9]+-)?[a-z0-9]{5}$";
  return "^" + q + "-[a-z0-9]{5}$";  // ReplicaSet, ReplicationController, DaemonSet
}

const char* const kWorkloadKinds[] = {"Pod",         "Deployment", "ReplicaSet", "ReplicationController",
                                      "StatefulSet", "DaemonSet",  "Job",        "CronJob"};
// Kinds without pods that manifests often carry: passed through unchanged.
const char* const kPassThroughKinds[] = {
    "ConfigMap",   "Secret",        "Service",      "PersistentVolumeClaim", "PersistentVolume",
    "Namespace",   "ServiceAccount", "Role",        "RoleBinding",           "ClusterRole",
    "ClusterRoleBinding", "Ingress", "NetworkPolicy", "LimitRange",          "ResourceQuota",
    "StorageClass", "PodDisruptionBudget", "HorizontalPodAutoscaler", "RuntimeClass", "PriorityClass"};

template <size_t N>
bool one_of(const std::string& s, const char* const (&list)[N]) {
  return std::find_if(std::begin(list), std::end(list), [&](const char* k) { return s == k; }) != std::end(list);
}

std::vector<YAML::Node> load_all(std::string_view text, const std::string& what) {
  if (text.size() > kMaxYamlBytes) throw Bad{what + ": larger than 16 MiB"};
  try {
    return YAML::LoadAll(std::string(text));
  } catch (const YAML::Exception& e) {
    throw Bad{what + ": invalid YAML at line " + std::to_string(e.mark.line + 1) + ", column " +
              std::to_string(e.mark.column + 1) + ": " + e.msg};
  }
}

std::string document_name(size_t index, const std::string& kind, const std::string& name) {
  std::string s = "document " + std::to_string(index + 1);
  if (!kind.empty()) s += " (" + kind + (name.empty() ? "" : " " + name) + ")";
  return s;
}

// YAML 1.1 plain scalars that would not read back as strings (booleans, null, numbers): a
// string with such a text must be written quoted. Conservative: any text starting like a
// number is quoted.
bool needs_quotes(const std::string& s) {
  static const char* kWords[] = {"y",     "Y",     "yes",   "Yes", "YES", "n",   "N",    "no",   "No",
                                 "NO",    "true",  "True",  "TRUE", "false", "False", "FALSE", "on", "On",
                                 "ON",    "off",   "Off",   "OFF", "~",   "null", "Null", "NULL", ""};
  for (const char* w : kWords)
    if (s == w) return true;
  char c = s[0];
  return std::isdigit(static_cast<unsigned char>(c)) || c == '-' || c == '+' || c == '.';
}

void emit(YAML::Emitter& e, const YAML::Node& n, size_t& budget, size_t depth = 0) {
  if (budget-- == 0) throw Bad{"the manifests are too large once their YAML aliases are expanded"};
  if (depth > kMaxEmitDepth) throw Bad{"the manifests nest too deeply (or a YAML alias refers to itself)"};
  switch (n.Type()) {
    case YAML::NodeType::Undefined:
    case YAML::NodeType::Null:
      e << YAML::Null;
      return;
    case YAML::NodeType::Scalar: {
      const std::string& tag = n.Tag();
      bool string_tag = tag == "!" || tag == "tag:yaml.org,2002:str";
      if (string_tag && needs_quotes(n.Scalar()))
        e << YAML::DoubleQuoted << n.Scalar();
      else
        e << n.Scalar();
      return;
    }
    case YAML::NodeType::Sequence:
      if (n.Style() == YAML::EmitterStyle::Flow) e << YAML::Flow;
      e << YAML::BeginSeq;
      for (const auto& x : n) emit(e, x, budget, depth + 1);
      e << YAML::EndSeq;
      return;
    case YAML::NodeType::Map:
      if (n.Style() == YAML::EmitterStyle::Flow) e << YAML::Flow;
      e << YAML::BeginMap;
      for (auto it = n.begin(); it != n.end(); ++it) {
        e << YAML::Key;
        emit(e, it->first, budget, depth + 1);
        e << YAML::Value;
        emit(e, it->second, budget, depth + 1);
      }
      e << YAML::EndMap;
      return;
  }
}

}  // namespace

std::string template_literal(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    if (c == '$') out += '$';
    out += c;
  }
  return out;
}

std::string regex_quote(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (std::strchr("\\.+*?()|[]{}^$", c) && c != '\0') out += '\\';
    out += c;
  }
  return out;
}

bool parse_manifests(std::string_view yaml, const std::vector<std::string>& config_documents, Manifests& out,
                     std::string& error) {
  out = Manifests{};
  try {
    ConfigStore store;
    for (size_t f = 0; f < config_documents.size(); ++f) {
      std::string what = "config file " + std::to_string(f + 1);
      size_t d = 0;
      for (const auto& doc : load_all(config_documents[f], what)) {
        ++d;
        if (doc.IsNull()) continue;
        std::string where = what + " document " + std::to_string(d);
        if (!doc.IsMap()) throw Bad{where + ": expected a mapping"};
        std::string kind = string_or(doc, "kind", where);
        if (kind == "ConfigMap" || kind == "Secret") store.add(doc, kind, where);
      }
    }
    std::vector<YAML::Node> docs;
    for (auto& doc : load_all(yaml, "the manifests"))
      if (!doc.IsNull()) docs.push_back(doc);
    if (docs.empty()) throw Bad{"the manifests hold no documents"};
    for (size_t d = 0; d < docs.size(); ++d) {
      if (!docs[d].IsMap()) throw Bad{document_name(d, "", "") + ": expected a mapping"};
      std::string kind = string_or(docs[d], "kind", document_name(d, "", ""));
      if (kind == "ConfigMap" || kind == "Secret") store.add(docs[d], kind, document_name(d, kind, ""));
    }

    for (size_t d = 0; d < docs.size(); ++d) {
      const YAML::Node& doc = docs[d];
      std::string kind = string_or(doc, "kind", document_name(d, "", ""));
      if (kind.empty()) throw Bad{document_name(d, "", "") + ": kind is missing"};
      if (one_of(kind, kPassThroughKinds)) continue;
      if (!one_of(kind, kWorkloadKinds))
        throw Bad{document_name(d, kind, "") + ": unsupported kind '" + kind + "' (Pod, Deployment, ReplicaSet, " +
                  "ReplicationController, StatefulSet, DaemonSet, Job, CronJob)"};
      auto meta = field(doc, "metadata");
      if (!meta) throw Bad{document_name(d, kind, "") + ": metadata is missing"};
      require_map(*meta, document_name(d, kind, "") + ": metadata");
      std::string name = string_or(*meta, "name", "metadata");
      bool generated = false;
      if (name.empty() && kind == "Pod") {
        name = string_or(*meta, "generateName", "metadata");
        generated = true;
      }
      std::string where = document_name(d, kind, name);
      if (name.empty()) throw Bad{where + ": metadata.name is missing"};
      if (!is_dns_subdomain(generated ? name + "x" : name))
        throw Bad{where + ": metadata.name '" + name + "' is not a valid name"};
      Pod pod;
      pod.kind = kind;
      pod.name = name;
      pod.document = d;
      pod.namespace_ = string_or(*meta, "namespace", "metadata");
      if (!pod.namespace_.empty() && !is_dns_label(pod.namespace_))
        throw Bad{where + ": metadata.namespace '" + pod.namespace_ + "' is not a valid namespace"};
      pod.sandbox_name_regex = sandbox_name_regex(kind, name, generated);

      // The pod template: the document itself for a Pod.
      YAML::Node holder = doc;
      std::string spec_path = "spec";
      if (kind != "Pod") {
        std::vector<const char*> steps = kind == "CronJob" ? std::vector<const char*>{"spec", "jobTemplate", "spec", "template"}
                                                           : std::vector<const char*>{"spec", "template"};
        std::string p;
        for (const char* step : steps) {
          p = join_path(p, step);
          auto next = field(holder, step);
          if (!next) throw Bad{where + ": " + p + " is missing"};
          if (!next->IsMap()) throw Bad{where + ": " + p + ": expected a mapping"};
          holder.reset(*next);  // rebind: assignment would overwrite the document
        }
        spec_path = p + ".spec";
      }
      pod.template_node = holder;
      std::map<std::string, std::string> labels;
      if (auto tmeta = field(holder, "metadata")) {
        if (!tmeta->IsMap()) throw Bad{where + ": the pod template's metadata is not a mapping"};
        labels = string_map(*tmeta, "labels", "metadata");
        if (auto annos = field(*tmeta, "annotations"); annos && !annos->IsMap())
          throw Bad{where + ": the pod template's metadata.annotations is not a mapping"};
      }
      auto spec = field(holder, "spec");
      if (!spec) throw Bad{where + ": " + spec_path + " is missing"};
      try {
        parse_pod_spec(*spec, spec_path, store, labels, pod);
      } catch (const Bad& b) {
        throw Bad{where + ": " + b.message};
      }
      out.pods.push_back(std::move(pod));
    }
    out.documents = std::move(docs);
    return true;
  } catch (const Bad& b) {
    error = b.message;
  } catch (const YAML::Exception& e) {
    error = std::string("the manifests: ") + e.what();
  } catch (const std::exception& e) {
    error = std::string("the manifests: ") + e.what();
  }
  out = Manifests{};
  return false;
}

bool annotate_manifests(Manifests& manifests, const std::string& key, const std::vector<std::string>& values,
                        std::string& out, std::string& error) {
  if (values.size() != manifests.pods.size()) {
    error = "internal error: one annotation value per pod template expected";
    return false;
  }
  try {
    for (size_t i = 0; i < values.size(); ++i) {
      YAML::Node holder = manifests.pods[i].template_node;
      if (!holder["metadata"].IsMap()) holder["metadata"] = YAML::Node(YAML::NodeType::Map);
      if (!holder["metadata"]["annotations"].IsMap())
        holder["metadata"]["annotations"] = YAML::Node(YAML::NodeType::Map);
      holder["metadata"]["annotations"][key] = values[i];
    }
    out.clear();
    size_t budget = kMaxEmittedNodes;
    for (size_t d = 0; d < manifests.documents.size(); ++d) {
      YAML::Emitter e;
      e.SetIndent(2);
      emit(e, manifests.documents[d], budget);
      if (!e.good()) {
        error = "cannot write the manifests: " + e.GetLastError();
        return false;
      }
      if (d) out += "---\n";
      out += e.c_str();
      out += "\n";
    }
    return true;
  } catch (const Bad& b) {
    error = b.message;
  } catch (const std::exception& e) {
    error = std::string("cannot write the manifests: ") + e.what();
  }
  return false;
}

}  // namespace confidant::generator::kata
