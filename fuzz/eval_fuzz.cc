// libFuzzer target: arbitrary bytes as the JSON input of every request kind
// of the Kata corpus policies (CONFIDANT_SHARED or ../shared next to the repo).
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "rego/rego.h"

using namespace confidant::rego;
namespace fs = std::filesystem;

namespace {
struct Target {
  std::shared_ptr<const Policy> policy;
  std::vector<std::unique_ptr<Query>> queries;
};

std::vector<Target>& targets() {
  static std::vector<Target> t = [] {
    std::vector<Target> out;
    fs::path shared = std::getenv("CONFIDANT_SHARED") ? fs::path(std::getenv("CONFIDANT_SHARED"))
                                                       : fs::path(__FILE__).parent_path().parent_path().parent_path() / "shared";
    fs::path corpus = shared / "corpus" / "kata";
    if (!fs::exists(corpus)) return out;
    for (auto& d : fs::directory_iterator(corpus)) {
      std::ifstream f(d.path() / "policy.rego");
      std::stringstream ss;
      ss << f.rdbuf();
      Engine eng(EngineOptions{true});
      Errors errs;
      if (!eng.add_module("policy.rego", ss.str(), errs)) continue;
      Target tg;
      tg.policy = eng.compile(errs);
      if (!tg.policy) continue;
      std::set<std::string> eps;
      std::ifstream tr(d.path() / "trace.jsonl");
      std::string line;
      while (std::getline(tr, line)) {
        Value v;
        std::string err;
        if (parse_json(line, v, err) && v.get("ep")) eps.insert(v.get("ep")->str());
      }
      for (auto& ep : eps)
        if (auto q = Query::prepare(tg.policy, "data.agent_policy." + ep, errs)) tg.queries.push_back(std::move(q));
      out.push_back(std::move(tg));
      if (out.size() >= 2) break;  // two policies keep each run fast
    }
    return out;
  }();
  return t;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Value input;
  std::string err;
  if (!parse_json(std::string_view(reinterpret_cast<const char*>(data), size), input, err)) return 0;
  for (auto& t : targets()) {
    for (auto& q : t.queries) {
      EvalOptions o;
      o.input = input;
      o.limits.max_steps = 200000;
      Value v;
      Errors errs;
      q->eval_value(o, v, errs);
    }
  }
  return 0;
}
