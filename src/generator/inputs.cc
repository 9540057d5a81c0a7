// Container group descriptions: the `az confcom -i` JSON and ARM templates (see generator.h).
#include <nlohmann/json.hpp>

#include "generator/generator.h"

namespace confidant::generator {

using nlohmann::json;
using nlohmann::ordered_json;

namespace {

constexpr size_t kMaxDocument = 16u << 20;

bool parse_doc(std::string_view text, const char* what, json& out, std::string& error) {
  if (text.size() > kMaxDocument) {
    error = std::string(what) + " is larger than 16 MiB";
    return false;
  }
  out = json::parse(text.begin(), text.end(), nullptr, false);
  if (out.is_discarded() || !out.is_object()) {
    error = std::string(what) + " is not a JSON object";
    return false;
  }
  return true;
}

// Typed field access with errors naming the path.
struct Reader {
  std::string& error;
  bool str(const json& j, const char* key, std::string& out, const std::string& where, bool required = false) {
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) {
      if (required) error = where + ": missing " + key;
      return !required;
    }
    if (!it->is_string()) {
      error = where + ": " + key + " must be a string";
      return false;
    }
    out = it->get<std::string>();
    return true;
  }
  bool strings(const json& j, std::vector<std::string>& out, const std::string& where) {
    if (!j.is_array()) {
      error = where + " must be an array of strings";
      return false;
    }
    for (const auto& e : j) {
      if (!e.is_string()) {
        error = where + " must be an array of strings";
        return false;
      }
      out.push_back(e.get<std::string>());
    }
    return true;
  }
  bool ints(const json& j, std::vector<int64_t>& out, const std::string& where) {
    if (!j.is_array()) {
      error = where + " must be an array of integers";
      return false;
    }
    for (const auto& e : j) {
      if (!e.is_number_integer()) {
        error = where + " must be an array of integers";
        return false;
      }
      out.push_back(e.get<int64_t>());
    }
    return true;
  }
};

// securityContext, shared by both formats.
bool security_context(Reader& r, const json& props, Container& c, const std::string& where) {
  auto sc = props.find("securityContext");
  if (sc == props.end() || sc->is_null()) return true;
  if (!sc->is_object()) {
    r.error = where + ": securityContext must be an object";
    return false;
  }
  if (auto p = sc->find("privileged"); p != sc->end() && !p->is_null()) {
    if (!p->is_boolean()) {
      r.error = where + ": securityContext.privileged must be a boolean";
      return false;
    }
    c.privileged = p->get<bool>();
  }
  if (auto caps = sc->find("capabilities"); caps != sc->end() && caps->is_object()) {
    if (auto a = caps->find("add"); a != caps->end() && !r.strings(*a, c.cap_add, where + ": capabilities.add"))
      return false;
    if (auto d = caps->find("drop"); d != caps->end() && !r.strings(*d, c.cap_drop, where + ": capabilities.drop"))
      return false;
  }
  for (auto [key, dest] : {std::pair{"runAsUser", &c.run_as_user}, std::pair{"runAsGroup", &c.run_as_group}}) {
    auto it = sc->find(key);
    if (it == sc->end() || it->is_null()) continue;
    if (!it->is_number_integer() || it->get<int64_t>() < 0) {
      r.error = where + ": securityContext." + key + " must be a non-negative integer";
      return false;
    }
    *dest = std::to_string(it->get<int64_t>());
  }
  if (auto s = sc->find("seccompProfile"); s != sc->end() && !s->is_null()) {
    // The policy pins sha256 of Go's encoding of the OCI LinuxSeccomp struct; until that
    // encoding is reproduced, refuse rather than emit a hash the guest would not compute.
    r.error = where + ": securityContext.seccompProfile is not supported by this generator";
    return false;
  }
  return true;
}

bool probe_exec(Reader& r, const json& props, const char* key, Container& c, const std::string& where) {
  auto p = props.find(key);
  if (p == props.end() || !p->is_object()) return true;
  auto ex = p->find("exec");
  if (ex == p->end() || !ex->is_object()) return true;
  auto cmd = ex->find("command");
  if (cmd == ex->end()) return true;
  ExecProcess e;
  if (!r.strings(*cmd, e.command, where + ": " + key + ".exec.command")) return false;
  c.exec_processes.push_back(std::move(e));
  return true;
}

}  // namespace

bool parse_aci_input(std::string_view text, Group& out, std::string& error) {
  out = Group{};
  json doc;
  if (!parse_doc(text, "container group input", doc, error)) return false;
  Reader r{error};
  auto cs = doc.find("containers");
  if (cs == doc.end() || !cs->is_array()) {
    error = "container group input: missing containers array";
    return false;
  }
  for (size_t i = 0; i < cs->size(); ++i) {
    const json& cj = (*cs)[i];
    std::string where = "containers[" + std::to_string(i) + "]";
    if (!cj.is_object()) {
      error = where + " must be an object";
      return false;
    }
    Container c;
    if (!r.str(cj, "name", c.name, where, true)) return false;
    where = "container '" + c.name + "'";
    auto pit = cj.find("properties");
    const json& props = pit != cj.end() && pit->is_object() ? *pit : cj;
    if (!r.str(props, "image", c.image, where, true)) return false;
    if (auto cmd = props.find("command"); cmd != props.end() && !cmd->is_null()) {
      std::vector<std::string> v;
      if (!r.strings(*cmd, v, where + ": command")) return false;
      c.command = v;
    }
    if (auto wd = props.find("workingDir"); wd != props.end() && !wd->is_null()) {
      std::string v;
      if (!r.str(props, "workingDir", v, where)) return false;
      c.working_dir = v;
    }
    if (auto env = props.find("environmentVariables"); env != props.end() && !env->is_null()) {
      if (!env->is_array()) {
        error = where + ": environmentVariables must be an array";
        return false;
      }
      for (const auto& e : *env) {
        if (!e.is_object()) {
          error = where + ": environmentVariables entries must be objects";
          return false;
        }
        EnvVar v;
        if (!r.str(e, "name", v.name, where + ": environment variable", true)) return false;
        if (!r.str(e, "value", v.value, where + ": environment variable " + v.name)) return false;
        if (!r.str(e, "strategy", v.strategy, where + ": environment variable " + v.name)) return false;
        if (auto req = e.find("required"); req != e.end() && req->is_boolean()) v.required = req->get<bool>();
        c.env.push_back(std::move(v));
      }
    }
    if (auto ms = props.find("mounts"); ms != props.end() && !ms->is_null()) {
      if (!ms->is_array()) {
        error = where + ": mounts must be an array";
        return false;
      }
      for (const auto& m : *ms) {
        VolumeMount v;
        if (!m.is_object() || !r.str(m, "mountType", v.kind, where + ": mount", true) ||
            !r.str(m, "mountPath", v.path, where + ": mount", true)) {
          if (error.empty()) error = where + ": mounts entries must be objects";
          return false;
        }
        if (auto ro = m.find("readonly"); ro != m.end() && ro->is_boolean()) v.readonly = ro->get<bool>();
        c.mounts.push_back(std::move(v));
      }
    }
    if (auto ep = props.find("execProcesses"); ep != props.end() && !ep->is_null()) {
      if (!ep->is_array()) {
        error = where + ": execProcesses must be an array";
        return false;
      }
      for (const auto& e : *ep) {
        ExecProcess p;
        auto cmd = e.is_object() ? e.find("command") : e.end();
        if (!e.is_object() || cmd == e.end() || !r.strings(*cmd, p.command, where + ": execProcesses command"))
          return false;
        if (auto s = e.find("signals"); s != e.end() && !r.ints(*s, p.signals, where + ": execProcesses signals"))
          return false;
        c.exec_processes.push_back(std::move(p));
      }
    }
    if (auto s = props.find("signals"); s != props.end() && !r.ints(*s, c.signals, where + ": signals")) return false;
    if (auto a = props.find("allowStdioAccess"); a != props.end() && a->is_boolean())
      c.allow_stdio_access = a->get<bool>();
    if (!security_context(r, props, c, where)) return false;
    out.containers.push_back(std::move(c));
  }
  return true;
}

namespace {

// Resolves "[parameters('x')]" / "[variables('x')]"; other strings are returned as they are,
// other bracket expressions are refused (a policy must not be generated from a guess).
bool resolve(const json& v, const json& params, const json& tmpl, json& out, std::string& error, int depth = 0) {
  if (depth > 8) {
    error = "ARM expression nesting too deep";
    return false;
  }
  if (!v.is_string()) {
    out = v;
    return true;
  }
  const std::string s = v.get<std::string>();
  if (s.size() < 2 || s.front() != '[' || s.back() != ']' || s.starts_with("[[")) {
    out = s.starts_with("[[") ? json(s.substr(1)) : v;
    return true;
  }
  std::string expr = s.substr(1, s.size() - 2);
  for (const char* fn : {"parameters", "variables"}) {
    std::string head = std::string(fn) + "('";
    if (!expr.starts_with(head) || !expr.ends_with("')")) continue;
    std::string name = expr.substr(head.size(), expr.size() - head.size() - 2);
    if (std::string(fn) == "parameters") {
      if (params.is_object()) {
        auto p = params.find(name);
        if (p != params.end() && p->is_object() && p->contains("value")) return resolve((*p)["value"], params, tmpl, out, error, depth + 1);
      }
      auto decl = tmpl.find("parameters");
      if (decl != tmpl.end() && decl->is_object()) {
        auto d = decl->find(name);
        if (d != decl->end() && d->is_object() && d->contains("defaultValue"))
          return resolve((*d)["defaultValue"], params, tmpl, out, error, depth + 1);
      }
      error = "ARM parameter '" + name + "' has no value (give a parameters file)";
      return false;
    }
    auto vars = tmpl.find("variables");
    if (vars != tmpl.end() && vars->is_object() && vars->contains(name))
      return resolve((*vars)[name], params, tmpl, out, error, depth + 1);
    error = "ARM variable '" + name + "' is not defined";
    return false;
  }
  error = "unsupported ARM expression '" + s + "' (only parameters() and variables() are evaluated)";
  return false;
}

// Resolves every string in a JSON tree.
bool resolve_tree(const json& v, const json& params, const json& tmpl, json& out, std::string& error) {
  if (v.is_object()) {
    out = json::object();
    for (auto it = v.begin(); it != v.end(); ++it) {
      json x;
      if (!resolve_tree(it.value(), params, tmpl, x, error)) return false;
      out[it.key()] = std::move(x);
    }
    return true;
  }
  if (v.is_array()) {
    out = json::array();
    for (const auto& e : v) {
      json x;
      if (!resolve_tree(e, params, tmpl, x, error)) return false;
      out.push_back(std::move(x));
    }
    return true;
  }
  return resolve(v, params, tmpl, out, error);
}

bool is_group_resource(const json& res) {
  if (!res.is_object()) return false;
  auto t = res.find("type");
  if (t == res.end() || !t->is_string()) return false;
  std::string type = t->get<std::string>();
  return type == "Microsoft.ContainerInstance/containerGroups" ||
         type == "Microsoft.ContainerInstance/containerGroupProfiles";
}

}  // namespace

bool parse_arm_template(std::string_view template_json, std::string_view parameters_json, std::vector<Group>& out,
                        std::string& error) {
  out.clear();
  json tmpl;
  if (!parse_doc(template_json, "ARM template", tmpl, error)) return false;
  json params = json::object();
  if (!parameters_json.empty()) {
    json pdoc;
    if (!parse_doc(parameters_json, "ARM parameters file", pdoc, error)) return false;
    params = pdoc.contains("parameters") ? pdoc["parameters"] : pdoc;
  }
  auto resources = tmpl.find("resources");
  if (resources == tmpl.end() || !resources->is_array()) {
    error = "ARM template has no resources array";
    return false;
  }
  Reader r{error};
  for (const auto& raw : *resources) {
    if (!is_group_resource(raw)) continue;
    json res;
    if (!resolve_tree(raw, params, tmpl, res, error)) return false;
    auto props = res.find("properties");
    if (props == res.end() || !props->is_object() || !props->contains("containers") ||
        !(*props)["containers"].is_array()) {
      error = "container group resource has no properties.containers";
      return false;
    }
    // Volume name -> kind.
    std::vector<std::pair<std::string, std::string>> volumes;
    if (auto vs = props->find("volumes"); vs != props->end() && vs->is_array())
      for (const auto& v : *vs) {
        if (!v.is_object() || !v.contains("name") || !v["name"].is_string()) continue;
        std::string kind;
        for (const char* k : {"azureFile", "emptyDir", "secret", "gitRepo"})
          if (v.contains(k)) kind = k;
        volumes.emplace_back(v["name"].get<std::string>(), kind);
      }
    Group g;
    for (const auto& cj : (*props)["containers"]) {
      Container c;
      if (!cj.is_object() || !r.str(cj, "name", c.name, "container", true)) return false;
      std::string where = "container '" + c.name + "'";
      auto pit = cj.find("properties");
      if (pit == cj.end() || !pit->is_object()) {
        error = where + ": no properties";
        return false;
      }
      const json& p = *pit;
      if (!r.str(p, "image", c.image, where, true)) return false;
      if (auto cmd = p.find("command"); cmd != p.end() && !cmd->is_null()) {
        std::vector<std::string> v;
        if (!r.strings(*cmd, v, where + ": command")) return false;
        c.command = v;
      }
      if (auto env = p.find("environmentVariables"); env != p.end() && env->is_array())
        for (const auto& e : *env) {
          EnvVar v;
          if (!e.is_object() || !r.str(e, "name", v.name, where + ": environment variable", true)) return false;
          if (e.contains("secureValue")) {
            // A secure value is not known at generation time: allow any value for the name.
            v.value = ".*";
            v.strategy = "re2";
          } else if (!r.str(e, "value", v.value, where + ": environment variable " + v.name)) {
            return false;
          }
          c.env.push_back(std::move(v));
        }
      if (auto vm = p.find("volumeMounts"); vm != p.end() && vm->is_array())
        for (const auto& m : *vm) {
          VolumeMount v;
          std::string name;
          if (!m.is_object() || !r.str(m, "name", name, where + ": volumeMount", true) ||
              !r.str(m, "mountPath", v.path, where + ": volumeMount", true))
            return false;
          for (auto& [n, k] : volumes)
            if (n == name) v.kind = k;
          if (v.kind.empty()) {
            error = where + ": volume '" + name + "' is not declared or has an unsupported type";
            return false;
          }
          if (auto ro = m.find("readOnly"); ro != m.end() && ro->is_boolean()) v.readonly = ro->get<bool>();
          c.mounts.push_back(std::move(v));
        }
      if (!probe_exec(r, p, "livenessProbe", c, where) || !probe_exec(r, p, "readinessProbe", c, where)) return false;
      if (!security_context(r, p, c, where)) return false;
      g.containers.push_back(std::move(c));
    }
    out.push_back(std::move(g));
  }
  if (out.empty()) {
    error = "ARM template has no Microsoft.ContainerInstance/containerGroups resource";
    return false;
  }
  return true;
}

bool update_arm_template(std::string_view template_json, const std::vector<std::string>& policies, std::string& out,
                         std::string& error) {
  ordered_json tmpl = ordered_json::parse(template_json.begin(), template_json.end(), nullptr, false);
  if (tmpl.is_discarded() || !tmpl.is_object() || !tmpl.contains("resources") || !tmpl["resources"].is_array()) {
    error = "ARM template is not a JSON object with resources";
    return false;
  }
  size_t i = 0;
  for (auto& res : tmpl["resources"]) {
    if (!res.is_object() || !res.contains("type") || !res["type"].is_string()) continue;
    std::string type = res["type"].get<std::string>();
    if (type != "Microsoft.ContainerInstance/containerGroups" &&
        type != "Microsoft.ContainerInstance/containerGroupProfiles")
      continue;
    if (i >= policies.size()) {
      error = "more container groups than policies";
      return false;
    }
    if (!res.contains("properties") || !res["properties"].is_object()) res["properties"] = ordered_json::object();
    auto& props = res["properties"];
    if (!props.contains("confidentialComputeProperties") || !props["confidentialComputeProperties"].is_object())
      props["confidentialComputeProperties"] = ordered_json::object();
    props["confidentialComputeProperties"]["ccePolicy"] = base64(policies[i++]);
  }
  if (i != policies.size()) {
    error = "the template has " + std::to_string(i) + " container groups but " + std::to_string(policies.size()) +
            " policies were given";
    return false;
  }
  out = tmpl.dump(2) + "\n";
  return true;
}

}  // namespace confidant::generator
