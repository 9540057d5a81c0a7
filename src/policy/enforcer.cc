// The Enforcer: HOST_DATA binding, dialect choice, and the state every
// decision is taken against, committed only for allowed calls.
#include <algorithm>
#include <deque>

#include "policy/aci_dialect.h"
#include "policy/digest.h"
#include "policy/kata_dialect.h"
#include "policy/metadata.h"
#include "policy/policy.h"
#include "rego/parser.h"

namespace confidant::policy {

using rego::Value;

namespace {

constexpr size_t kUndoDepth = 256;  // allowed calls that can still be rolled back

// v1 unless the text only parses as v0 (ACI guests moved from v0 to v1 and
// must accept policies written for either).
bool parses_as_v1(const std::string& text) {
  rego::Module m;
  rego::Errors errs;
  rego::ParseOptions po;
  po.v0 = false;
  return rego::parse_module("policy.rego", text, po, m, errs);
}

}  // namespace

struct Enforcer::Impl {
  std::shared_ptr<Tee> tee;
  EnforcerOptions options;
  mutable std::mutex mu;
  std::shared_ptr<const CompiledPolicy> policy;
  State state;
  uint64_t version = 0;       // of `state`
  uint64_t next_version = 1;  // never reused, so a stale decision cannot match
  struct Undo {
    uint64_t after, before;
    State state;  // before
  };
  std::deque<Undo> undo;

  bool check_host_data(std::string_view text, std::string& error) {
    if (!tee) {
      error = "no TEE to read HOST_DATA from: refusing the policy";
      return false;
    }
    HostData expected;
    std::string why;
    if (!tee->host_data(expected, why)) {
      error = "cannot read HOST_DATA from " + tee->name() + ": " + why;
      return false;
    }
    HostData digest = sha256(text);
    if (digest != expected) {
      error = "policy digest " + to_hex(digest) + " does not match HOST_DATA " + to_hex(expected) + " (from " +
              tee->name() + ")";
      return false;
    }
    return true;
  }

  std::shared_ptr<const CompiledPolicy> compile(std::string_view text, const LoadOptions& lo, std::string& error) {
    std::optional<Dialect> dialect = lo.dialect ? lo.dialect : detect_dialect(text);
    if (!dialect) {
      error = "unknown policy dialect: the package is `" + package_name(text) +
              "` (expected `policy` for ACI or `agent_policy` for Kata)";
      return nullptr;
    }
    RegoSource src{lo.source_name, std::string(text), false};
    if (*dialect == Dialect::kKata) {
      src.v0 = lo.rego_v0.value_or(true);
      return KataPolicy::compile(std::move(src), options, error);
    }
    src.v0 = lo.rego_v0 ? *lo.rego_v0 : !parses_as_v1(src.text);
    return AciPolicy::compile(std::move(src), {}, options, error);
  }

  // Installs a compiled policy with a fresh state.
  void install(std::shared_ptr<const CompiledPolicy> p) {
    policy = std::move(p);
    state = policy->initial_state();
    version = next_version++;
    undo.clear();
  }

  void commit(const State& next, Decision& d) {
    d.state_before = version;
    if (next.doc.node() == state.doc.node() && next.stdio.node() == state.stdio.node()) {
      d.state_after = version;  // nothing changed
      return;
    }
    undo.push_back(Undo{next_version, version, state});
    if (undo.size() > kUndoDepth) undo.pop_front();
    state = next;
    version = next_version++;
    d.state_after = version;
  }

  Decision no_policy(std::string_view point) {
    Decision d;
    d.reasons = {"no policy is loaded"};
    d.message = std::string(point) + " denied: no policy is loaded";
    d.state_before = d.state_after = version;
    return d;
  }

  // Kata SetPolicy: allowed by the current policy, then bound to HOST_DATA.
  void set_policy(const Value& input, Decision& d) {
    const Value* text = input.is_object() ? input.get("policy") : nullptr;
    std::string error;
    std::shared_ptr<const CompiledPolicy> p;
    if (!text || !text->is_string()) {
      error = "SetPolicyRequest needs a policy string";
    } else if (check_host_data(text->str(), error)) {
      LoadOptions lo;
      lo.dialect = Dialect::kKata;
      p = compile(text->str(), lo, error);
    }
    if (!p) {
      d.allowed = false;
      d.reasons = {error};
      d.message = "SetPolicyRequest: " + error;
      return;
    }
    install(std::move(p));
    d.state_after = version;
  }
};

Enforcer::Enforcer(std::shared_ptr<Tee> tee, EnforcerOptions options) : impl_(std::make_unique<Impl>()) {
  impl_->tee = std::move(tee);
  impl_->options = std::move(options);
}

Enforcer::~Enforcer() = default;

bool Enforcer::load(std::string_view policy_text, std::string& error, const LoadOptions& options) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  if (options.verify_host_data && !impl_->check_host_data(policy_text, error)) return false;
  if (impl_->policy) {
    // ACI: set once per guest (a reload would forget which containers ran);
    // Kata: replaced only through SetPolicyRequest, which the policy decides.
    error = impl_->policy->dialect() == Dialect::kAci
                ? "security policy has already been set"
                : "a policy is already loaded: replace it with an allowed SetPolicyRequest";
    return false;
  }
  auto p = impl_->compile(policy_text, options, error);
  if (!p) return false;
  impl_->install(std::move(p));
  return true;
}

Decision Enforcer::enforce(std::string_view point, const Value& input) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  if (!impl_->policy) return impl_->no_policy(point);
  Decision d;
  State next;
  d.state_before = d.state_after = impl_->version;
  impl_->policy->enforce(point, input, impl_->state, d, next);
  if (!d.allowed) return d;
  if (impl_->policy->dialect() == Dialect::kKata && point == "SetPolicyRequest") {
    impl_->set_policy(input, d);
    return d;
  }
  impl_->commit(next, d);
  return d;
}

Decision Enforcer::load_fragment(const FragmentRequest& fragment) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  if (!impl_->policy) return impl_->no_policy("load_fragment");
  auto base = std::dynamic_pointer_cast<const AciPolicy>(impl_->policy);
  Decision d;
  d.state_before = d.state_after = impl_->version;
  auto fail = [&](const std::string& why) {
    d.allowed = false;
    d.reasons = {why};
    d.message = "load_fragment: " + why;
    return d;
  };
  if (!base) return fail("fragments exist only for ACI policies");
  std::string error;
  std::string ns = fragment_namespace(fragment.text, error);
  if (ns.empty()) return fail(error);

  Value input = Value::object({
      {Value::string("issuer"), Value::string(fragment.issuer)},
      {Value::string("feed"), Value::string(fragment.feed)},
      {Value::string("namespace"), Value::string(ns)},
      {Value::string("fragment_loaded"), Value::boolean(false)},
      {Value::string("has_header_svn"), Value::boolean(fragment.header_svn.has_value())},
      {Value::string("header_svn"), fragment.header_svn ? Value::integer(*fragment.header_svn) : Value::null()},
      {Value::string("receipts"), fragment.receipts},
  });
  // Phase 1: is any import of the policy (or of a loaded fragment) this issuer and feed?
  State state = impl_->state;
  State next;
  base->enforce("load_fragment", input, state, d, next);
  if (!d.allowed) return d;
  state = next;

  // Phase 2, once per parameter set the imports give: the fragment's own text decides.
  std::vector<Value> parameter_sets;
  if (const Value* params = d.result.get("parameters"); params && params->is_array()) {
    for (const Value& p : params->array_items()) {
      if (!p.is_object()) return fail("fragment parameters must be objects");
      if (std::find(parameter_sets.begin(), parameter_sets.end(), p) == parameter_sets.end())
        parameter_sets.push_back(p);
    }
  }
  if (parameter_sets.empty()) parameter_sets.push_back(Value::empty_object());
  input = with_member(input, Value::string("fragment_loaded"), Value::boolean(true));
  std::shared_ptr<const AciPolicy> keep;
  Decision last;
  for (const Value& params : parameter_sets) {
    RegoSource src{"fragment:" + fragment.issuer + ">" + fragment.feed, fragment_module_text(fragment.text, ns, params),
                   !parses_as_v1(fragment.text)};
    auto with = base->with_fragment(std::move(src), error);
    if (!with) return fail("fragment does not compile: " + error);
    last = Decision();
    with->enforce("load_fragment", input, state, last, next);
    if (!last.allowed) {
      last.state_before = last.state_after = impl_->version;
      return last;
    }
    state = next;
    const Value* add = last.result.get("add_module");
    if (add && add->is_true()) {
      if (parameter_sets.size() > 1)
        return fail("Fragment cannot include namespace if multiple possible parameter combinations are defined");
      keep = with;
    }
  }
  impl_->commit(state, last);
  if (keep) {
    // The module stays: later calls run against the policy with the fragment.
    // A loaded namespace is part of the policy itself, so it cannot be rolled back.
    impl_->policy = keep;
    impl_->undo.clear();
  }
  return last;
}

bool Enforcer::rollback(const Decision& decision, std::string& error) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  if (decision.state_after == decision.state_before) return true;  // the call changed nothing
  if (impl_->version != decision.state_after || impl_->undo.empty() ||
      impl_->undo.back().after != decision.state_after) {
    error = "cannot roll back: the state changed after this decision (roll back newer calls first)";
    return false;
  }
  impl_->state = impl_->undo.back().state;
  impl_->version = impl_->undo.back().before;
  impl_->undo.pop_back();
  return true;
}

bool Enforcer::loaded() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->policy != nullptr;
}

std::optional<Dialect> Enforcer::dialect() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  if (!impl_->policy) return std::nullopt;
  return impl_->policy->dialect();
}

Value Enforcer::state() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->state.doc;
}

uint64_t Enforcer::state_version() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->version;
}

}  // namespace confidant::policy
