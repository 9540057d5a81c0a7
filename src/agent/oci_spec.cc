#include "agent/oci_spec.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstring>

#include "policy/digest.h"

namespace confidant::agent {

using nlohmann::json;

namespace {

constexpr int kMaxDepth = 64;

bool depth_ok(std::string_view text) {
  int depth = 0;
  bool in_string = false, escape = false;
  for (char c : text) {
    if (in_string) {
      if (escape)
        escape = false;
      else if (c == '\\')
        escape = true;
      else if (c == '"')
        in_string = false;
      continue;
    }
    if (c == '"') in_string = true;
    if (c == '[' || c == '{') {
      if (++depth > kMaxDepth) return false;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return true;
}

void go_string(std::string& out, const std::string& s) {
  static const char* hex = "0123456789abcdef";
  out += '"';
  for (size_t i = 0; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '<':
      case '>':
      case '&':
        out += "\\u00";
        out += hex[c >> 4];
        out += hex[c & 15];
        break;
      default:
        if (c < 0x20) {
          out += "\\u00";
          out += hex[c >> 4];
          out += hex[c & 15];
        } else if (c == 0xE2 && i + 2 < s.size() && static_cast<unsigned char>(s[i + 1]) == 0x80 &&
                   (static_cast<unsigned char>(s[i + 2]) == 0xA8 || static_cast<unsigned char>(s[i + 2]) == 0xA9)) {
          out += static_cast<unsigned char>(s[i + 2]) == 0xA8 ? "\\u2028" : "\\u2029";
          i += 2;
        } else {
          out += char(c);
        }
    }
  }
  out += '"';
}

bool go_uint(std::string& out, const json& v, const char* what, std::string& error) {
  if (!v.is_number_unsigned() && !(v.is_number_integer() && v.get<int64_t>() >= 0)) {
    error = std::string("seccomp: ") + what + " must be an unsigned integer";
    return false;
  }
  out += std::to_string(v.get<uint64_t>());
  return true;
}

bool go_string_array(std::string& out, const json& v, const char* what, std::string& error) {
  if (v.is_null()) {
    out += "null";
    return true;
  }
  if (!v.is_array()) {
    error = std::string("seccomp: ") + what + " must be an array of strings";
    return false;
  }
  out += '[';
  bool first = true;
  for (const auto& e : v) {
    if (!e.is_string()) {
      error = std::string("seccomp: ") + what + " must be an array of strings";
      return false;
    }
    if (!first) out += ',';
    first = false;
    go_string(out, e.get<std::string>());
  }
  out += ']';
  return true;
}

bool nonempty(const json& o, const char* key) {
  auto it = o.find(key);
  if (it == o.end() || it->is_null()) return false;
  if (it->is_array() || it->is_string() || it->is_object()) return !it->empty();
  return true;
}

const json* member(const json& o, const char* key) {
  if (!o.is_object()) return nullptr;
  auto it = o.find(key);
  if (it == o.end() || it->is_null()) return nullptr;
  return &*it;
}

bool get_string(const json& o, const char* key, std::string& out, const std::string& where, std::string& error,
                const std::string& fallback = "") {
  const json* v = member(o, key);
  if (!v) {
    out = fallback;
    return true;
  }
  if (!v->is_string()) {
    error = where + "." + key + " must be a string";
    return false;
  }
  out = v->get<std::string>();
  return true;
}

bool get_strings(const json& o, const char* key, std::vector<std::string>& out, const std::string& where,
                 std::string& error) {
  out.clear();
  const json* v = member(o, key);
  if (!v) return true;
  if (!v->is_array()) {
    error = where + "." + key + " must be an array of strings";
    return false;
  }
  for (const auto& e : *v) {
    if (!e.is_string()) {
      error = where + "." + key + " must be an array of strings";
      return false;
    }
    out.push_back(e.get<std::string>());
  }
  return true;
}

bool get_uint32(const json& o, const char* key, uint32_t& out, const std::string& where, std::string& error) {
  const json* v = member(o, key);
  out = 0;
  if (!v) return true;
  if (!v->is_number_integer() || v->get<int64_t>() < 0 || v->get<int64_t>() > 0xffffffffll) {
    error = where + "." + key + " must be a 32-bit unsigned integer";
    return false;
  }
  out = uint32_t(v->get<int64_t>());
  return true;
}

bool to_value(const json& j, rego::Value& out, std::string& error) { return rego::parse_json(j.dump(), out, error); }

// One "name:x:id:..." line per entry; the name whose id field equals `id`.
std::string lookup_name(const std::string& rootfs, const char* file, uint32_t id) {
  if (rootfs.empty()) return "";
  int root = ::open(rootfs.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (root < 0) return "";
  // Refuse symlinks: the image must not make the agent read its own files.
  int etc = ::openat(root, "etc", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  ::close(root);
  if (etc < 0) return "";
  int fd = ::openat(etc, file, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  ::close(etc);
  if (fd < 0) return "";
  std::string text;
  char buf[8192];
  ssize_t n;
  while (text.size() < (1u << 20) && (n = ::read(fd, buf, sizeof buf)) > 0) text.append(buf, size_t(n));
  ::close(fd);
  std::string want = std::to_string(id);
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    std::string_view line(text.data() + pos, end - pos);
    pos = end + 1;
    size_t c1 = line.find(':');
    if (c1 == std::string_view::npos) continue;
    size_t c2 = line.find(':', c1 + 1);
    if (c2 == std::string_view::npos) continue;
    size_t c3 = line.find(':', c2 + 1);
    std::string_view idf = line.substr(c2 + 1, c3 == std::string_view::npos ? std::string_view::npos : c3 - c2 - 1);
    if (idf == want) return std::string(line.substr(0, c1));
  }
  return "";
}

// user, groups, umask, noNewPrivileges, capabilities, argList, envList,
// workingDir: shared by create and exec.
bool process_fields(const json& process, const ContainerContext& ctx, json& in, std::string& error) {
  if (!process.is_object()) {
    error = "process must be an object";
    return false;
  }
  std::vector<std::string> args, env;
  if (!get_strings(process, "args", args, "process", error) || !get_strings(process, "env", env, "process", error))
    return false;
  if (args.empty()) {
    error = "process.args must not be empty";
    return false;
  }
  std::string cwd;
  if (!get_string(process, "cwd", cwd, "process", error, "/")) return false;
  bool nnp = false;
  if (const json* v = member(process, "noNewPrivileges")) {
    if (!v->is_boolean()) {
      error = "process.noNewPrivileges must be a boolean";
      return false;
    }
    nnp = v->get<bool>();
  }
  uint32_t uid = 0, gid = 0, umask = 022;
  std::vector<uint32_t> extra_gids;
  if (const json* u = member(process, "user")) {
    if (!u->is_object()) {
      error = "process.user must be an object";
      return false;
    }
    if (!get_uint32(*u, "uid", uid, "process.user", error) || !get_uint32(*u, "gid", gid, "process.user", error))
      return false;
    if (member(*u, "umask") && !get_uint32(*u, "umask", umask, "process.user", error)) return false;
    if (umask > 0777) {
      error = "process.user.umask must be at most 0777";
      return false;
    }
    if (const json* a = member(*u, "additionalGids")) {
      if (!a->is_array() || a->size() > 256) {
        error = "process.user.additionalGids must be an array of at most 256 ids";
        return false;
      }
      for (const auto& g : *a) {
        if (!g.is_number_integer() || g.get<int64_t>() < 0 || g.get<int64_t>() > 0xffffffffll) {
          error = "process.user.additionalGids must hold 32-bit unsigned integers";
          return false;
        }
        extra_gids.push_back(uint32_t(g.get<int64_t>()));
      }
    }
    std::string username;
    if (!get_string(*u, "username", username, "process.user", error)) return false;
    if (!username.empty()) {
      error = "process.user.username is not supported on Linux (give uid/gid)";
      return false;
    }
  }
  char mask[8];
  std::snprintf(mask, sizeof mask, "%04o", umask);
  json caps = json::object();
  const json* c = member(process, "capabilities");
  for (const char* set : {"ambient", "bounding", "effective", "inheritable", "permitted"}) {
    std::vector<std::string> v;
    if (c && !get_strings(*c, set, v, "process.capabilities", error)) return false;
    caps[set] = v;
  }
  in["argList"] = args;
  in["envList"] = env;
  in["workingDir"] = cwd;
  in["noNewPrivileges"] = nnp;
  in["user"] = {{"id", std::to_string(uid)}, {"name", lookup_name(ctx.rootfs_dir, "passwd", uid)}};
  json groups = json::array();
  groups.push_back({{"id", std::to_string(gid)}, {"name", lookup_name(ctx.rootfs_dir, "group", gid)}});
  for (uint32_t g : extra_gids)
    groups.push_back({{"id", std::to_string(g)}, {"name", lookup_name(ctx.rootfs_dir, "group", g)}});
  in["groups"] = groups;
  in["umask"] = mask;
  in["capabilities"] = caps;
  return true;
}

}  // namespace

bool parse_json_object(std::string_view text, std::string_view what, json& out, std::string& error) {
  if (!depth_ok(text)) {
    error = std::string(what) + ": JSON nested deeper than 64 levels";
    return false;
  }
  out = json::parse(text.begin(), text.end(), nullptr, false);
  if (out.is_discarded()) {
    error = std::string(what) + ": not valid JSON";
    return false;
  }
  if (!out.is_object()) {
    error = std::string(what) + ": must be a JSON object";
    return false;
  }
  return true;
}

bool seccomp_profile_sha256(const json& seccomp, std::string& out, std::string& error) {
  out.clear();
  if (seccomp.is_null()) return true;
  if (!seccomp.is_object()) {
    error = "linux.seccomp must be an object";
    return false;
  }
  std::string s = "{\"defaultAction\":";
  std::string action;
  if (!get_string(seccomp, "defaultAction", action, "linux.seccomp", error)) return false;
  go_string(s, action);
  if (const json* v = member(seccomp, "defaultErrnoRet")) {
    s += ",\"defaultErrnoRet\":";
    if (!go_uint(s, *v, "defaultErrnoRet", error)) return false;
  }
  for (const char* key : {"architectures", "flags"}) {
    if (!nonempty(seccomp, key)) continue;
    s += std::string(",\"") + key + "\":";
    if (!go_string_array(s, seccomp[key], key, error)) return false;
  }
  for (const char* key : {"listenerPath", "listenerMetadata"}) {
    std::string v;
    if (!get_string(seccomp, key, v, "linux.seccomp", error)) return false;
    if (v.empty()) continue;
    s += std::string(",\"") + key + "\":";
    go_string(s, v);
  }
  if (nonempty(seccomp, "syscalls")) {
    const json& calls = seccomp["syscalls"];
    if (!calls.is_array()) {
      error = "linux.seccomp.syscalls must be an array";
      return false;
    }
    s += ",\"syscalls\":[";
    bool first = true;
    for (const auto& c : calls) {
      if (!c.is_object()) {
        error = "linux.seccomp.syscalls entries must be objects";
        return false;
      }
      if (!first) s += ',';
      first = false;
      s += "{\"names\":";
      if (!go_string_array(s, c.contains("names") ? c["names"] : json(nullptr), "names", error)) return false;
      std::string act;
      if (!get_string(c, "action", act, "linux.seccomp.syscalls[]", error)) return false;
      s += ",\"action\":";
      go_string(s, act);
      if (const json* v = member(c, "errnoRet")) {
        s += ",\"errnoRet\":";
        if (!go_uint(s, *v, "errnoRet", error)) return false;
      }
      if (nonempty(c, "args")) {
        if (!c["args"].is_array()) {
          error = "linux.seccomp.syscalls[].args must be an array";
          return false;
        }
        s += ",\"args\":[";
        bool first_arg = true;
        for (const auto& a : c["args"]) {
          if (!a.is_object()) {
            error = "linux.seccomp.syscalls[].args entries must be objects";
            return false;
          }
          if (!first_arg) s += ',';
          first_arg = false;
          s += "{\"index\":";
          if (!go_uint(s, a.value("index", json(0)), "index", error)) return false;
          s += ",\"value\":";
          if (!go_uint(s, a.value("value", json(0)), "value", error)) return false;
          if (const json* v2 = member(a, "valueTwo"); v2 && !(v2->is_number() && v2->get<double>() == 0)) {
            s += ",\"valueTwo\":";
            if (!go_uint(s, *v2, "valueTwo", error)) return false;
          }
          std::string op;
          if (!get_string(a, "op", op, "linux.seccomp.syscalls[].args[]", error)) return false;
          s += ",\"op\":";
          go_string(s, op);
          s += '}';
        }
        s += ']';
      }
      s += '}';
    }
    s += ']';
  }
  s += '}';
  out = policy::to_hex(policy::sha256(s));
  return true;
}

bool spec_privileged(const json& spec) {
  const json* a = member(spec, "annotations");
  if (!a || !a->is_object()) return false;
  auto it = a->find("io.microsoft.virtualmachine.lcow.privileged");
  return it != a->end() && it->is_string() && it->get<std::string>() == "true";
}

bool spec_host_network(const json& spec) {
  const json* linux = member(spec, "linux");
  const json* ns = linux ? member(*linux, "namespaces") : nullptr;
  if (!ns || !ns->is_array()) return true;
  for (const auto& n : *ns)
    if (n.is_object() && n.value("type", json("")) == "network") return false;
  return true;
}

std::string refused_spec_features(const json& spec) {
  if (member(spec, "hooks")) return "the spec has hooks (commands the agent would run outside the container)";
  if (const json* p = member(spec, "process"); p && p->is_object()) {
    if (const json* t = member(*p, "terminal"); t && t->is_boolean() && t->get<bool>())
      return "process.terminal is not supported (stdio is captured to files)";
  }
  if (const json* linux = member(spec, "linux")) {
    if (const json* ns = member(*linux, "namespaces"); ns && ns->is_array())
      for (const auto& n : *ns)
        if (n.is_object() && n.contains("path") && !(n["path"].is_string() && n["path"].get<std::string>().empty()))
          return "linux.namespaces joins an existing namespace (path is set)";
  }
  return "";
}

bool create_container_input(const json& spec, const ContainerContext& ctx, rego::Value& input, std::string& error) {
  const json* process = member(spec, "process");
  if (!process) {
    error = "spec.process is missing";
    return false;
  }
  json in = json::object();
  in["containerID"] = ctx.container_id;
  if (!process_fields(*process, ctx, in, error)) return false;
  std::string sandbox = ctx.sandbox_id.empty() ? ctx.container_id : ctx.sandbox_id;
  in["sandboxDir"] = "/run/gcs/c/" + sandbox + "/sandboxMounts";
  in["hugePagesDir"] = "/run/gcs/c/" + sandbox + "/hugepages";
  json mounts = json::array();
  if (const json* ms = member(spec, "mounts")) {
    if (!ms->is_array()) {
      error = "spec.mounts must be an array";
      return false;
    }
    for (const auto& m : *ms) {
      if (!m.is_object()) {
        error = "spec.mounts entries must be objects";
        return false;
      }
      std::string dest, src, type;
      std::vector<std::string> options;
      if (!get_string(m, "destination", dest, "spec.mounts[]", error) ||
          !get_string(m, "source", src, "spec.mounts[]", error) ||
          !get_string(m, "type", type, "spec.mounts[]", error) ||
          !get_strings(m, "options", options, "spec.mounts[]", error))
        return false;
      mounts.push_back({{"destination", dest}, {"source", src}, {"options", options}, {"type", type}});
    }
  }
  in["mounts"] = mounts;
  json devices = json::array();
  const json* linux = member(spec, "linux");
  if (linux && !linux->is_object()) {
    error = "spec.linux must be an object";
    return false;
  }
  if (const json* ds = linux ? member(*linux, "devices") : nullptr) {
    if (!ds->is_array()) {
      error = "spec.linux.devices must be an array";
      return false;
    }
    for (const auto& d : *ds) {
      if (!d.is_object()) {
        error = "spec.linux.devices entries must be objects";
        return false;
      }
      json dev = json::object();
      for (const char* k : {"path", "type", "major", "minor", "fileMode", "uid", "gid"})
        if (d.contains(k)) dev[k] = d[k];
      devices.push_back(dev);
    }
  }
  in["devices"] = devices;
  in["privileged"] = spec_privileged(spec);
  std::string seccomp;
  if (!seccomp_profile_sha256(linux && linux->contains("seccomp") ? (*linux)["seccomp"] : json(nullptr), seccomp,
                              error))
    return false;
  in["seccompProfileSHA256"] = seccomp;
  in["isSandboxContainer"] = false;
  return to_value(in, input, error);
}

bool exec_input(const json& process, const ContainerContext& ctx, rego::Value& input, std::string& error) {
  json in = json::object();
  in["containerID"] = ctx.container_id;
  if (!process_fields(process, ctx, in, error)) return false;
  return to_value(in, input, error);
}

bool exec_external_input(const json& process, rego::Value& input, std::string& error) {
  if (!process.is_object()) {
    error = "process must be an object";
    return false;
  }
  std::vector<std::string> args, env;
  std::string cwd;
  if (!get_strings(process, "args", args, "process", error) || !get_strings(process, "env", env, "process", error) ||
      !get_string(process, "cwd", cwd, "process", error, "/"))
    return false;
  if (args.empty()) {
    error = "process.args must not be empty";
    return false;
  }
  json in = {{"argList", args}, {"envList", env}, {"workingDir", cwd}};
  return to_value(in, input, error);
}

void apply_decision(json& process, const policy::Decision& d) {
  if (d.env_list) process["env"] = *d.env_list;
  if (d.caps_list) {
    json caps = json::parse(rego::to_json(*d.caps_list), nullptr, false);
    if (caps.is_object()) process["capabilities"] = caps;
  }
}

}  // namespace confidant::agent
