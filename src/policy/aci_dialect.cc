#include "policy/aci_dialect.h"

#include <algorithm>
#include <cctype>

#include "policy/decision_envelope.h"
#include "policy/framework_rego.h"
#include "policy/guest_data.h"
#include "policy/input_check.h"
#include "policy/metadata.h"

namespace confidant::policy {

using rego::Value;

namespace {

constexpr const char* kInvalidPolicy =
    "Security policy is not valid. Please check security policy or re-generate with tooling.";
constexpr const char* kNoReason =
    "Security policy is either not valid or did not provide a reason for denial. Please check security policy or "
    "re-generate with tooling.";

// The key under which a query's input carries what the framework needs
// besides the request: the state and the policy-only values. The enforcer
// always sets it, replacing anything a request may bring under that name.
const Value& reserved_key() {
  static const Value k = Value::string("__confidant");
  return k;
}

Value field_or_null(const Value& object, const char* name) {
  const Value* v = object.is_object() ? object.get(name) : nullptr;
  return v ? *v : Value::null();
}

// A set or an array holding only strings.
bool strings(const Value& v) {
  if (!v.is_array() && !v.is_set()) return false;
  for (const Value& x : v.is_array() ? v.array_items() : v.set_items())
    if (!x.is_string()) return false;
  return true;
}

// Whether a set or array of strings holds `s`.
bool holds(const Value& list, const Value& s) {
  if (list.is_set()) return list.has(s);
  const rego::ValueVec& items = list.array_items();
  return std::find(items.begin(), items.end(), s) != items.end();
}

Value object_union(const Value& base, const Value& overrides) {
  Value out = base;
  for (const auto& [k, v] : overrides.object_items()) out = with_member(out, k, v);
  return out;
}

std::vector<std::string> reason_strings(const Value& reason) {
  std::vector<std::string> out;
  if (reason.is_string()) {
    out.push_back(reason.str());
    return out;
  }
  const Value* errors = reason.is_object() ? reason.get("errors") : nullptr;
  if (!errors || !errors->is_collection() || errors->is_object()) return out;
  for (const Value& e : errors->is_array() ? errors->array_items() : errors->set_items())
    out.push_back(e.is_string() ? e.str() : rego::to_json(e));
  return out;
}

const char* const kCapSets[] = {"ambient", "bounding", "effective", "inheritable", "permitted"};

}  // namespace

std::shared_ptr<const AciPolicy> AciPolicy::compile(RegoSource policy, std::vector<RegoSource> fragments,
                                                    const EnforcerOptions& options, std::string& error) {
  if (package_name(policy.text) != "policy") {
    error = "an ACI policy must be `package policy` (found `" + package_name(policy.text) + "`)";
    return nullptr;
  }
  std::shared_ptr<AciPolicy> p(new AciPolicy());
  p->source_ = std::move(policy);
  p->fragments_ = std::move(fragments);
  p->options_ = options;

  rego::Engine engine;
  rego::Errors errs;
  engine.add_module(p->source_.file, p->source_.text, errs, p->source_.v0);
  std::string framework = options.framework_text ? *options.framework_text : std::string(framework_rego());
  engine.add_module("framework.rego", std::move(framework), errs, false);
  for (const auto& f : p->fragments_) engine.add_module(f.file, f.text, errs, f.v0);
  engine.add_data(aci_guest_data(), errs);
  if (errs.empty()) p->compiled_ = engine.compile(errs);
  if (!p->compiled_ || !errs.empty()) {
    error = rego::to_string(errs);
    return nullptr;
  }
  if (!p->prepare(error)) return nullptr;
  return p;
}

std::shared_ptr<const AciPolicy> AciPolicy::with_fragment(RegoSource fragment, std::string& error) const {
  std::vector<RegoSource> fragments = fragments_;
  fragments.push_back(std::move(fragment));
  return compile(source_, std::move(fragments), options_, error);
}

bool AciPolicy::prepare(std::string& error) {
  rego::Errors errs;
  // The policy-only values, evaluated with an empty state. When that fails
  // the rule is left to be evaluated (and to fail) per call.
  auto value_of = [&](const char* query, Value& out) -> bool {
    auto q = rego::Query::prepare(compiled_, query, errs);
    if (!q) return false;
    rego::Errors eval_errs;
    if (!q->eval_value(eval_options(options_, Value(), nullptr), out, eval_errs)) out = Value();
    return true;
  };
  Value api;
  if (!value_of("data.framework.policy_static", static_values_) ||
      !value_of("data.framework.policy_api_version", api)) {
    error = rego::to_string(errs);
    return false;
  }
  if (api.is_string()) {
    api_version_ = api.str();
  } else if (api.is_defined() && !api.is_null()) {
    api_version_error_ = "policy api_version must be a string";
  }

  auto semver_cmp = rego::Query::prepare(compiled_, "semver.compare(input.a, input.b)", errs);
  for (const EnforcementPoint& ep : enforcement_points()) {
    PointQueries pq;
    pq.policy = rego::Query::prepare(compiled_, "data.policy." + std::string(ep.name), errs);
    if (ep.use_framework)
      pq.framework = rego::Query::prepare(compiled_, "data.framework." + std::string(ep.name), errs);
    if (!pq.policy || (ep.use_framework && !pq.framework) || !semver_cmp) {
      error = rego::to_string(errs);
      return false;
    }
    if (!api_version_.empty()) {
      Value cmp;
      rego::Errors e;
      rego::EvalOptions o = eval_options(options_,
                                         Value::object({{Value::string("a"), Value::string(api_version_)},
                                                        {Value::string("b"), Value::string(ep.introduced)}}),
                                         nullptr);
      int64_t c = 0;
      if (!semver_cmp->eval_value(o, cmp, e) || !cmp.to_int64(c)) {
        api_version_error_ = "policy api_version " + api_version_ + " is not a semantic version";
      }
      pq.available = c >= 0;
    }
    points_.push_back(std::move(pq));
  }
  reason_ = rego::Query::prepare(compiled_, "data.policy.reason", errs);
  if (!reason_) {
    error = rego::to_string(errs);
    return false;
  }
  return true;
}

State AciPolicy::initial_state() const { return State{initial_metadata(), Value::empty_object()}; }

bool AciPolicy::eval(const rego::Query& q, const Value& input, const Value& metadata, Value& out,
                     std::vector<std::string>& prints, std::string& error) const {
  rego::ObjectItems context = {{Value::string("metadata"), metadata}};
  if (static_values_.is_defined()) context.emplace_back(Value::string("static"), static_values_);
  Value doc = with_member(input, reserved_key(), Value::object_sorted(std::move(context)));
  rego::Errors errs;
  if (!q.eval_value(eval_options(options_, std::move(doc), &prints), out, errs)) {
    error = rego::to_string(errs);
    return false;
  }
  return true;
}

void AciPolicy::deny_with_error(const Value& input, const std::string& error, Decision& d) const {
  d.allowed = false;
  d.reasons = {error};
  d.message = policy_decision_message(input, Value::string(kInvalidPolicy), error, options_.max_error_message_length);
}

void AciPolicy::deny_with_reason(std::string_view point, const Value& input, const Value& metadata, Decision& d) const {
  d.allowed = false;
  Value rule_input = with_member(input, Value::string("rule"), Value::string(point));
  Value reason;
  std::string error;
  if (!eval(*reason_, rule_input, metadata, reason, d.prints, error) || reason.is_undefined()) {
    reason = Value::string(kNoReason);
  }
  d.reasons = reason_strings(reason);
  d.message = policy_decision_message(rule_input, reason, "", options_.max_error_message_length);
}

void AciPolicy::enforce(std::string_view point, const Value& input, const State& state, Decision& d,
                        State& next) const {
  const EnforcementPoint* ep = find_enforcement_point(point);
  if (!ep) return deny_with_error(input, "enforcement point rule " + std::string(point) + " does not exist", d);
  if (std::string shape = check_input_shape(input, options_.input_limits); !shape.empty()) {
    // Not echoed back: the input is exactly what could not be handled.
    return deny_with_error(Value::null(), shape, d);
  }
  if (std::string bad = check_aci_input(point, input); !bad.empty()) return deny_with_error(input, bad, d);
  if (!api_version_error_.empty()) return deny_with_error(input, api_version_error_, d);
  if (api_version_.empty()) return deny_with_error(input, "policy does not define api_version", d);

  const PointQueries& pq = points_[static_cast<size_t>(ep - enforcement_points().data())];
  Value metadata = state.doc;
  std::string error;
  // A query's result: metadata operations applied to `metadata`, removed from `result`.
  auto query = [&](const rego::Query& q, Value& result) -> bool {
    if (!eval(q, input, state.doc, result, d.prints, error)) return false;
    if (result.is_undefined()) result = Value::empty_object();
    if (!result.is_object()) {
      error = "policy result for " + std::string(point) + " must be an object, got " + rego::kind_name(result.kind());
      return false;
    }
    if (const Value* ops = result.get("metadata")) {
      if (!apply_metadata_ops(*ops, metadata, error)) return false;
      result = with_member(result, Value::string("metadata"), Value());
    }
    return true;
  };

  Value result;
  if (!query(*pq.policy, result)) return deny_with_error(input, error, d);
  if (result.size() == 0) {
    if (pq.available) return deny_with_error(input, "rule for " + std::string(point) + " is missing from policy", d);
    if (ep->use_framework) {
      if (!query(*pq.framework, result)) return deny_with_error(input, error, d);
    } else {
      result = default_result(*ep);
    }
  } else {
    result = object_union(default_result(*ep), result);
  }
  d.result = result;
  const Value* allowed = result.get("allowed");
  if (!allowed || !allowed->is_bool()) {
    return deny_with_error(input, "policy result for " + std::string(point) + " has no boolean allowed", d);
  }
  if (!allowed->as_bool()) return deny_with_reason(point, input, state.doc, d);

  next = State{metadata, state.stdio};
  if (!interpret(point, input, state, d, next, error)) return deny_with_error(input, error, d);
  d.allowed = true;
}

bool AciPolicy::interpret(std::string_view point, const Value& input, const State& state, Decision& d, State& next,
                          std::string& error) const {
  const Value& result = d.result;
  bool creates = point == "create_container", execs = point == "exec_in_container", external = point == "exec_external";
  if (creates || execs || external) {
    // The environment actually used: the request's entries the policy kept.
    const Value& requested = *input.get("envList");
    Value kept = field_or_null(result, "env_list");
    if (!kept.is_null() && !strings(kept)) {
      error = "env_list must be an array of strings";
      return false;
    }
    std::vector<std::string> envs;
    for (const Value& e : requested.array_items()) {
      bool duplicate = std::find(envs.begin(), envs.end(), e.str()) != envs.end();
      if ((kept.is_null() || holds(kept, e)) && !duplicate) envs.push_back(e.str());
    }
    d.env_list = std::move(envs);
  }
  if (creates || execs) {
    const Value& requested = *input.get("capabilities");
    Value kept = field_or_null(result, "caps_list");
    if (kept.is_null() || kept == requested) {
      d.caps_list = requested;  // granted as requested (the usual case)
    } else {
      rego::ObjectItems caps;
      for (const char* set : kCapSets) {
        const Value* allowed = kept.is_object() ? kept.get(set) : nullptr;
        if (!allowed || !strings(*allowed)) {
          error = std::string("caps_list must hold an array of strings for ") + set;
          return false;
        }
        const Value& asked = *requested.get(set);
        rego::ValueVec granted;
        for (const Value& c : asked.array_items())
          if (holds(*allowed, c)) granted.push_back(c);
        caps.emplace_back(Value::string(set), Value::array(std::move(granted)));
      }
      d.caps_list = Value::object(std::move(caps));
    }
  }
  if (creates || external) {
    const Value* stdio = result.get("allow_stdio_access");
    if (!stdio || !stdio->is_bool()) {
      error = "allow_stdio_access must be a boolean";
      return false;
    }
    d.allow_stdio_access = stdio->as_bool();
    // Stdio is decided per container: later execs in it get the same answer.
    if (creates) next.stdio = with_member(state.stdio, *input.get("containerID"), *stdio);
  }
  if (execs) {
    const Value* stdio = state.stdio.get(*input.get("containerID"));
    d.allow_stdio_access = stdio && stdio->is_true();
  }
  if (point == "load_fragment") {
    const Value* add = result.get("add_module");
    if (add && !add->is_bool()) {
      error = "add_module must be a boolean";
      return false;
    }
  }
  if (point == "load_transparency_trust_list") {
    const Value* l = result.get("allowed_ledgers");
    if (!l || !strings(*l) || l->size() == 0) {
      error = "the policy allows no ledgers of this transparency trust list";
      return false;
    }
  }
  return true;
}

std::string fragment_namespace(const std::string& text, std::string& error) {
  std::string first = text.substr(0, text.find('\n'));
  if (first.find_first_not_of(" \t\r") == std::string::npos) {
    error = "Fragment Rego is empty";
    return "";
  }
  // ^package +([a-zA-Z_][a-zA-Z0-9_]*)\s*$
  auto ident_start = [](char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; };
  auto ident = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; };
  size_t i = 7, n = first.size();
  bool ok = first.starts_with("package ");
  while (ok && i < n && first[i] == ' ') ++i;
  size_t start = i;
  ok = ok && i < n && ident_start(first[i]);
  while (ok && i < n && ident(first[i])) ++i;
  std::string ns = ok ? first.substr(start, i - start) : "";
  while (ok && i < n && std::isspace(static_cast<unsigned char>(first[i]))) ++i;
  if (!ok || i != n) {
    error = "fragment must start with `package <name>`";
    return "";
  }
  static const char* const kReserved[] = {"framework",
                                          "api",
                                          "policy",
                                          "metadata",
                                          "defaultMounts",
                                          "privilegedMounts",
                                          "sandboxPrefix",
                                          "hugePagesPrefix",
                                          "plan9Prefix",
                                          "defaultUnprivilegedCapabilities",
                                          "defaultPrivilegedCapabilities"};
  for (const char* r : kReserved) {
    if (ns == r) {
      error = "fragment namespace " + ns + " is reserved";
      return "";
    }
  }
  return ns;
}

std::string fragment_module_text(const std::string& text, const std::string& ns, const Value& parameters) {
  // Valid in both Rego syntaxes. A fragment declares its parameters and their
  // defaults in `parameters_api` ({"<name>": {"default": ...}}).
  std::string out = text;
  if (!out.empty() && out.back() != '\n') out += '\n';
  out += "\n__fragment_parameters := " + rego::to_json(parameters) + "\n";
  out += "\ndefault __parameters_api := {}\n";
  out += "\n__parameters_api := data." + ns + ".parameters_api\n";
  out +=
      "\nparameter(name) := object.get(__fragment_parameters, name, "
      "object.get(object.get(__parameters_api, name, {}), \"default\", null))\n";
  return out;
}

}  // namespace confidant::policy
