// `confidant replay`: runs a recorded request trace through a policy in
// order and compares each decision with the recording.
//
// ACI (`package policy`) and Kata (`package agent_policy`) policies go
// through the policy Enforcer: the policy must match HOST_DATA, the state
// carries from one request to the next, and each line reports the decision
// with its reasons. Other packages are queried directly (data.<pkg>.<ep>),
// each request on its own.
#include <algorithm>
#include <chrono>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/load.h"
#include "policy/digest.h"
#include "policy/policy.h"
#include "rego/rego.h"

namespace confidant::cli {

namespace {

using rego::Errors;

constexpr const char* kUsage =
    "usage: confidant replay --policy FILE [--host-data HEX] [--v0-compatible] [--prints-on-denial]\n"
    "                        [--data FILE] TRACE.jsonl\n"
    "  Each trace line is {\"ep\": POINT, \"input\": {...}, \"want\": BOOL?, \"reasons\": [...]?, \"prints\": "
    "[...]?}.\n"
    "  ACI and Kata policies are enforced in order with state; each request prints\n"
    "  {\"ep\",\"allowed\",\"reasons\",\"prints\"?,\"ns\"}, then a summary. Exit status: 0 when every\n"
    "  decision, reason list and print output matches the recording, 1 otherwise, 2 when the\n"
    "  policy is refused (--host-data HEX: HOST_DATA to bind to; default: the policy's own digest).\n"
    "  Policies of any other package are queried as data.<package>.<ep>, without state.\n"
    "  --prints-on-denial: Kata print lines are gathered for denied requests only, as the\n"
    "  agent does (allowed requests then stop at each rule's first value); their prints are\n"
    "  not compared.\n";

// Print lines start with the policy's path, which differs between the
// recording and this run: compare from the file's base name on.
std::string strip_dir(const std::string& line) {
  size_t ext = line.find(".rego:");
  if (ext == std::string::npos) return line;
  size_t slash = line.rfind('/', ext);
  return slash == std::string::npos ? line : line.substr(slash + 1);
}

void append_strings(std::string& out, const char* key, const std::vector<std::string>& items) {
  out += ",\"";
  out += key;
  out += "\":[";
  for (size_t i = 0; i < items.size(); ++i) {
    if (i) out += ',';
    rego::append_json_string(out, items[i]);
  }
  out += ']';
}

std::string json_line(const std::string& ep, bool allow, const std::vector<std::string>& reasons,
                      const std::vector<std::string>& prints, int64_t ns) {
  std::string out = "{\"ep\":";
  rego::append_json_string(out, ep);
  out += allow ? ",\"allowed\":true" : ",\"allowed\":false";
  append_strings(out, "reasons", reasons);
  if (!prints.empty()) append_strings(out, "prints", prints);
  return out + ",\"ns\":" + std::to_string(ns) + "}";
}

std::vector<std::string> strings_of(const Value& v) {
  std::vector<std::string> out;
  if (!v.is_array()) return out;
  for (const auto& x : v.array_items()) out.push_back(x.is_string() ? x.str() : rego::to_json(x));
  return out;
}

// A decision: undefined is a deny; non-boolean values are allowed when
// defined and not false, objects by their "allowed" member when present.
bool allowed_value(const Value& v) {
  if (v.is_object())
    if (const Value* a = v.get("allowed")) return allowed_value(*a);
  return v.is_defined() && !v.is_false();
}

// One evaluated request, whichever way it was decided.
struct Outcome {
  bool allowed = false;
  std::vector<std::string> reasons;
  std::vector<std::string> prints;
  Value env_list;  // the policy's env_list result, when it gave one
};

// Decides requests: through the Enforcer, or by querying a package directly.
class Decider {
 public:
  virtual ~Decider() = default;
  virtual Outcome decide(const std::string& ep, const Value& input) = 0;
};

class EnforcerDecider : public Decider {
 public:
  explicit EnforcerDecider(std::unique_ptr<policy::Enforcer> e) : enforcer_(std::move(e)) {}
  Outcome decide(const std::string& ep, const Value& input) override {
    policy::Decision d = enforcer_->enforce(ep, input);
    Outcome o{d.allowed, std::move(d.reasons), std::move(d.prints), Value()};
    if (d.result.is_object())
      if (const Value* env = d.result.get("env_list")) o.env_list = *env;
    return o;
  }

 private:
  std::unique_ptr<policy::Enforcer> enforcer_;
};

class QueryDecider : public Decider {
 public:
  QueryDecider(std::shared_ptr<const rego::Policy> policy, std::string pkg, bool v0)
      : policy_(std::move(policy)), pkg_(std::move(pkg)), v0_(v0) {}
  Outcome decide(const std::string& ep, const Value& input) override {
    Outcome o;
    auto& q = queries_[ep];
    if (!q) {
      Errors errs;
      q = rego::Query::prepare(policy_, "data." + pkg_ + "." + ep, errs, v0_);
      if (!q) {
        o.reasons = {"error: " + rego::to_string(errs)};
        return o;
      }
    }
    rego::EvalOptions opts;
    opts.input = input;
    opts.print = [&o](const std::string& p) { o.prints.push_back(p); };
    Value decision;
    Errors errs;
    if (!q->eval_value(opts, decision, errs)) {
      o.reasons = {"error: " + rego::to_string(errs)};
      return o;
    }
    o.allowed = allowed_value(decision);
    return o;
  }

 private:
  std::shared_ptr<const rego::Policy> policy_;
  std::string pkg_;
  bool v0_;
  std::map<std::string, std::unique_ptr<rego::Query>> queries_;  // one prepared query per entry point
};

}  // namespace

int replay_command(const std::vector<std::string>& args) {
  std::string policy_path, data_path, trace_path, host_data_hex;
  bool v0 = false, prints_on_denial = false;
  auto usage_error = [](const std::string& msg) {
    std::cerr << "confidant replay: " << msg << "\n" << kUsage;
    return 2;
  };
  auto setup_error = [](const std::string& msg) {
    std::cerr << "confidant replay: " << msg << "\n";
    return 2;
  };
  ArgCursor a(args);
  while (a.next()) {
    if (!a.is_flag()) {
      if (!trace_path.empty()) return usage_error("more than one trace given");
      trace_path = a.positional();
      continue;
    }
    const std::string& f = a.flag();
    if (f == "--policy" || f == "-p") {
      if (!a.value(policy_path)) return usage_error("--policy needs a value");
    } else if (f == "--data" || f == "-d") {
      if (!a.value(data_path)) return usage_error("--data needs a value");
    } else if (f == "--host-data") {
      if (!a.value(host_data_hex)) return usage_error("--host-data needs a value");
    } else if (f == "--v0-compatible") {
      v0 = true;
    } else if (f == "--prints-on-denial") {
      prints_on_denial = true;
    } else if (f == "-h" || f == "--help") {
      std::cout << kUsage;
      return 0;
    } else {
      return usage_error("unknown flag " + f);
    }
  }
  if (policy_path.empty() || trace_path.empty()) return usage_error("--policy and a trace file are required");

  std::string text, error;
  if (!read_file(policy_path, text, error)) return setup_error(error);
  std::unique_ptr<Decider> decider;
  if (policy::detect_dialect(text)) {
    if (!data_path.empty()) return usage_error("--data applies only to policies queried directly");
    policy::HostData host_data = policy::sha256(text);
    if (!host_data_hex.empty() && !policy::parse_host_data(host_data_hex, host_data))
      return usage_error("--host-data must be 64 hex digits");
    policy::EnforcerOptions eo;
    eo.kata_prints_always = !prints_on_denial;
    auto enforcer = std::make_unique<policy::Enforcer>(std::make_shared<policy::FixedTee>(host_data), eo);
    policy::LoadOptions lo;
    lo.source_name = policy_path;
    if (v0) lo.rego_v0 = true;
    if (!enforcer->load(text, error, lo)) return setup_error(policy_path + ": policy refused: " + error);
    decider = std::make_unique<EnforcerDecider>(std::move(enforcer));
  } else {
    if (!host_data_hex.empty()) return usage_error("--host-data applies only to ACI and Kata policies");
    std::string pkg = policy::package_name(text);
    if (pkg.empty()) return setup_error("no package declaration in " + policy_path);
    Errors errs;
    rego::Engine engine(rego::EngineOptions{.v0 = v0});
    engine.add_module(policy_path, std::move(text), errs);
    if (!data_path.empty()) load_paths(engine, {data_path}, errs);
    std::shared_ptr<const rego::Policy> compiled;
    if (errs.empty()) compiled = engine.compile(errs);
    if (!compiled || !errs.empty()) return setup_error(rego::to_string(errs));
    decider = std::make_unique<QueryDecider>(std::move(compiled), pkg, v0);
  }

  std::ifstream trace(trace_path);
  if (!trace) return setup_error("cannot open " + trace_path);
  size_t requests = 0, allowed_count = 0, mismatches = 0, lineno = 0;
  std::string line;
  while (std::getline(trace, line)) {
    ++lineno;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    bool bad = false;  // several differences may be reported; the line counts once
    auto mismatch = [&](const std::string& why) {
      bad = true;
      std::cerr << trace_path << ":" << lineno << ": mismatch: " << why << "\n";
    };
    Value req;
    error.clear();
    if (!rego::parse_json(line, req, error) || !req.is_object()) {
      mismatch("not a JSON object: " + error);
      ++mismatches;
      continue;
    }
    const Value* ep = req.get("ep");
    if (!ep || !ep->is_string()) {
      mismatch("no \"ep\" string");
      ++mismatches;
      continue;
    }
    ++requests;
    const Value* in = req.get("input");
    auto start = std::chrono::steady_clock::now();
    Outcome o = decider->decide(ep->str(), in ? *in : Value());
    int64_t ns = std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - start).count();
    allowed_count += o.allowed;
    std::cout << json_line(ep->str(), o.allowed, o.reasons, o.prints, ns) << "\n";

    const Value* want = req.get("want");
    if (want && want->is_bool() && want->as_bool() != o.allowed) {
      std::string why;
      for (const auto& r : o.reasons) why += (why.empty() ? " (" : "; ") + r;
      mismatch(ep->str() + ": want " + (want->as_bool() ? "allow" : "deny") + ", got " +
               (o.allowed ? "allow" : "deny") + (why.empty() ? "" : why + ")"));
    }
    if (const Value* want_reasons = req.get("reasons"); want_reasons && want_reasons->is_array()) {
      std::vector<std::string> w = strings_of(*want_reasons), g = o.reasons;
      std::sort(w.begin(), w.end());
      std::sort(g.begin(), g.end());
      if (w != g) mismatch(ep->str() + ": reasons differ: want " + rego::to_json(*want_reasons));
    }
    if (const Value* want_env = req.get("env_list"); o.allowed && want_env && !want_env->is_null()) {
      if (rego::to_json(*want_env) != rego::to_json(o.env_list))
        mismatch(ep->str() + ": env_list differs: want " + rego::to_json(*want_env) + ", got " +
                 rego::to_json(o.env_list));
    }
    const Value* want_prints = req.get("prints");
    // --prints-on-denial: the agent's mode, where allowed requests gather no print lines.
    if (want_prints && want_prints->is_array() && !(prints_on_denial && o.allowed)) {
      const auto& wp = want_prints->array_items();
      size_t n = std::max(wp.size(), o.prints.size());
      for (size_t i = 0; i < n; ++i) {
        std::string w = i < wp.size() ? strip_dir(wp[i].is_string() ? wp[i].str() : rego::to_json(wp[i])) : "<none>";
        std::string g = i < o.prints.size() ? strip_dir(o.prints[i]) : "<none>";
        if (w != g) {
          mismatch(ep->str() + ": print output differs at line " + std::to_string(i + 1) + " (want " +
                   std::to_string(wp.size()) + " lines, got " + std::to_string(o.prints.size()) + "):\n  want: " + w +
                   "\n  got:  " + g);
          break;
        }
      }
    }
    mismatches += bad;
  }
  std::cout << "replay: " << requests << " requests, " << allowed_count << " allowed, " << requests - allowed_count
            << " denied, " << mismatches << " mismatches\n"
            << std::flush;
  return mismatches ? 1 : 0;
}

}  // namespace confidant::cli
