// libFuzzer target: sequences of requests through the policy Enforcer, for an
// ACI policy with the built-in framework and a Kata corpus policy
// (CONFIDANT_SHARED or ../shared next to the repo).
//
// Input: up to 8 lines; each line's first byte picks the enforcement point
// (or Kata request), the rest is the request JSON. Allowed calls are rolled
// back afterwards, so every input starts from the same state. Checked on each
// call: no crash or hang, a denial never changes the state, and every ACI
// denial carries a decodable policyDecision envelope.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "policy/api_table.h"
#include "policy/decision_envelope.h"
#include "policy/digest.h"
#include "policy/policy.h"

using namespace confidant;
namespace fs = std::filesystem;

namespace {

struct Target {
  std::unique_ptr<policy::Enforcer> enforcer;
  std::vector<std::string> points;
  bool aci = false;
};

std::string read(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

std::unique_ptr<policy::Enforcer> load(const std::string& text) {
  policy::EnforcerOptions o;
  o.limits.max_steps = 200'000;
  auto e = std::make_unique<policy::Enforcer>(std::make_shared<policy::FixedTee>(policy::sha256(text)), o);
  std::string error;
  if (!e->load(text, error)) return nullptr;
  return e;
}

std::vector<Target>& targets() {
  static std::vector<Target> t = [] {
    std::vector<Target> out;
    fs::path shared = std::getenv("CONFIDANT_SHARED")
                          ? fs::path(std::getenv("CONFIDANT_SHARED"))
                          : fs::path(__FILE__).parent_path().parent_path().parent_path() / "shared";
    Target aci;
    aci.enforcer = load(read(shared / "corpus" / "aci" / "sidecar-encfs.rego"));
    aci.aci = true;
    for (const auto& p : policy::enforcement_points()) aci.points.emplace_back(p.name);
    if (aci.enforcer) out.push_back(std::move(aci));
    Target kata;
    fs::path dir = shared / "corpus" / "kata" / "pod-exec";
    kata.enforcer = load(read(dir / "policy.rego"));
    std::set<std::string> eps;
    std::ifstream tr(dir / "trace.jsonl");
    std::string line;
    while (std::getline(tr, line)) {
      rego::Value v;
      std::string err;
      if (rego::parse_json(line, v, err) && v.get("ep")) eps.insert(v.get("ep")->str());
    }
    kata.points.assign(eps.begin(), eps.end());
    if (kata.enforcer && !kata.points.empty()) out.push_back(std::move(kata));
    return out;
  }();
  return t;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  std::vector<std::pair<uint8_t, rego::Value>> calls;
  while (!in.empty() && calls.size() < 8) {
    size_t nl = in.find('\n');
    std::string_view line = in.substr(0, nl);
    in = nl == std::string_view::npos ? std::string_view() : in.substr(nl + 1);
    if (line.empty()) continue;
    rego::Value input;
    std::string err;
    if (!rego::parse_json(line.substr(1), input, err)) continue;
    calls.emplace_back(static_cast<uint8_t>(line[0]), input);
  }
  for (Target& t : targets()) {
    std::vector<policy::Decision> allowed;
    for (const auto& [selector, input] : calls) {
      const std::string& point = t.points[selector % t.points.size()];
      uint64_t before = t.enforcer->state_version();
      policy::Decision d = t.enforcer->enforce(point, input);
      if (d.allowed) {
        allowed.push_back(d);
        continue;
      }
      if (t.enforcer->state_version() != before) __builtin_trap();  // a denial changed the state
      if (t.aci && policy::decode_policy_decision(d.message).is_undefined()) __builtin_trap();
    }
    std::string error;
    for (auto it = allowed.rbegin(); it != allowed.rend(); ++it)
      if (!t.enforcer->rollback(*it, error)) __builtin_trap();  // SetPolicy never loads: pod-exec denies it
  }
  return 0;
}
