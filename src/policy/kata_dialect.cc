#include "policy/kata_dialect.h"

#include "policy/input_check.h"

namespace confidant::policy {

using rego::Value;

namespace {

constexpr const char* kPackage = "agent_policy";
constexpr size_t kMaxCachedQueries = 512;  // request names are a fixed set; anything beyond is not cached

bool identifier(std::string_view s) {
  if (s.empty() || s.size() > 128) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    if (!alpha && !(i > 0 && c >= '0' && c <= '9')) return false;
  }
  return true;
}

// Applies RFC 6902 operations with the engine's json.patch (OPA semantics).
bool apply_patch(const Value& doc, const Value& ops, const EnforcerOptions& options, Value& out, std::string& error) {
  static const std::shared_ptr<const rego::Query> patch = [] {
    rego::Engine engine;
    rego::Errors errs;
    auto policy = engine.compile(errs);
    return std::shared_ptr<const rego::Query>(rego::Query::prepare(policy, "json.patch(input.d, input.p)", errs));
  }();
  rego::EvalOptions o =
      eval_options(options, Value::object_sorted({{Value::string("d"), doc}, {Value::string("p"), ops}}), nullptr);
  rego::Errors errs;
  if (!patch || !patch->eval_value(o, out, errs) || !out.is_defined()) {
    error = "cannot apply the policy's state operations " + rego::to_json(ops) +
            (errs.empty() ? "" : ": " + rego::to_string(errs));
    return false;
  }
  return true;
}

}  // namespace

std::shared_ptr<const KataPolicy> KataPolicy::compile(RegoSource policy, const EnforcerOptions& options,
                                                      std::string& error) {
  if (package_name(policy.text) != kPackage) {
    error = "a Kata agent policy must be `package agent_policy` (found `" + package_name(policy.text) + "`)";
    return nullptr;
  }
  std::shared_ptr<KataPolicy> p(new KataPolicy());
  p->source_ = std::move(policy);
  p->options_ = options;
  rego::Engine engine;
  rego::Errors errs;
  engine.add_module(p->source_.file, p->source_.text, errs, p->source_.v0);
  if (errs.empty()) p->compiled_ = engine.compile(errs);
  if (!p->compiled_ || !errs.empty()) {
    error = rego::to_string(errs);
    return nullptr;
  }
  // Every request's query is prepared now, not on its first request.
  for (const std::string& name : rego::package_rules(*p->compiled_, kPackage)) {
    std::string ignored;
    if (identifier(name)) p->query_for(name, ignored);
  }
  // Evaluated once per load with input {}, as the agent does; an error counts as false.
  if (auto q = rego::Query::prepare(p->compiled_, "data.agent_policy.AllowRequestsFailingPolicy", errs, true)) {
    Value v;
    rego::Errors e;
    p->allow_failing_ = q->eval_value(eval_options(options, Value::empty_object(), nullptr), v, e) && v.is_true();
  }
  return p;
}

State KataPolicy::initial_state() const {
  return State{Value::object({{Value::string("pstate"), Value::empty_object()}}), Value::empty_object()};
}

const rego::Query* KataPolicy::query_for(std::string_view request, std::string& error) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = queries_.find(request);
  if (it != queries_.end()) return it->second.get();
  rego::Errors errs;
  auto q = rego::Query::prepare(compiled_, std::string("data.") + kPackage + "." + std::string(request), errs, true);
  if (!q) {
    error = rego::to_string(errs);
    return nullptr;
  }
  if (queries_.size() >= kMaxCachedQueries) queries_.clear();
  return (queries_[std::string(request)] = std::move(q)).get();
}

void KataPolicy::enforce(std::string_view request, const Value& input, const State& state, Decision& d,
                         State& next) const {
  std::string ep(request);
  auto deny = [&](const std::string& why) {
    d.allowed = false;
    d.reasons = {why};
    d.message = ep + " is blocked by policy: " + why;
  };
  if (!identifier(request)) return deny("invalid request name");
  if (std::string shape = check_input_shape(input, options_.input_limits); !shape.empty()) return deny(shape);

  std::string error;
  const rego::Query* q = query_for(request, error);
  if (!q) return deny("cannot query the policy: " + error);
  // The request is the input; the state's documents are base documents (data.pstate, ...).
  bool gather = options_.kata_prints_always;
  if (gather) d.prints.reserve(16);  // genpolicy rules print a few lines for most requests
  rego::EvalOptions opts = eval_options(options_, input, gather ? &d.prints : nullptr);
  opts.base_documents = state.doc;
  rego::Errors errs;
  Value v;
  if (!q->eval_value(opts, v, errs)) {
    return deny("policy evaluation failed: " + rego::to_string(errs));
  }
  d.result = v;
  next = state;
  bool allowed = false;
  if (v.is_undefined()) {
    if (!allow_failing_) return deny("the policy does not decide " + ep);
  } else if (v.is_bool()) {
    allowed = v.as_bool();
  } else if (v.is_object() && v.get("allowed") && v.get("allowed")->is_bool()) {
    allowed = v.get("allowed")->as_bool();
    const Value* ops = v.get("ops");
    if (allowed && ops && !ops->is_null()) {
      if (!ops->is_array()) return deny("ops must be an array of JSON Patch operations");
      rego::ValueVec list;
      for (const Value& op : ops->array_items())
        if (!op.is_null()) list.push_back(op);  // rules emit null for "no change"
      Value patched;
      if (!apply_patch(state.doc, Value::array(std::move(list)), options_, patched, error)) return deny(error);
      // The state stays a set of named documents beside the policy's own package.
      if (!patched.is_object()) return deny("state operations must leave an object");
      for (const auto& [key, _] : patched.object_items()) {
        if (!key.is_string() || !identifier(key.str()) || key.str() == kPackage)
          return deny("state operations may not create data." + (key.is_string() ? key.str() : rego::to_json(key)));
      }
      next.doc = patched;
    }
  } else {
    return deny("the policy's " + ep + " is neither a boolean nor {allowed, ops}");
  }

  if (!allowed && !allow_failing_) {
    if (!gather) {
      // The same evaluation again (same input and state: same path through the rules), now
      // for its print lines. Should it fail (a limit), the lines printed so far still tell.
      d.prints.reserve(16);
      rego::EvalOptions again = eval_options(options_, input, &d.prints);
      again.base_documents = state.doc;
      Value ignored;
      rego::Errors again_errs;
      q->eval_value(again, ignored, again_errs);
    }
    std::string printed;
    for (const auto& line : d.prints) {
      if (!printed.empty()) printed += ' ';
      printed += line;
    }
    d.allowed = false;
    d.reasons.clear();
    d.message = ep + " is blocked by policy: " + printed;
    return;
  }
  if (!allowed) d.reasons = {ep + " is blocked by policy, allowed because the policy sets AllowRequestsFailingPolicy"};
  d.allowed = true;
}

}  // namespace confidant::policy
