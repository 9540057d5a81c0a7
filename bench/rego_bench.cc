// Rego engine benchmarks over the Kata corpus (../shared/corpus/kata):
//   BM_Compile/<policy>      parse + compile of each corpus policy
//   BM_Eval/<request kind>   evaluation of each recorded request of that kind (largest policy)
// Run: build/rego_bench [--benchmark_filter=...]; CONFIDANT_SHARED overrides the fixtures path.
#include <benchmark/benchmark.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "rego/rego.h"

using namespace confidant::rego;
namespace fs = std::filesystem;

namespace {

fs::path shared_dir() {
  if (const char* s = std::getenv("CONFIDANT_SHARED")) return s;
  return fs::path(__FILE__).parent_path().parent_path().parent_path() / "shared";
}

std::string read(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

std::shared_ptr<const Policy> compile(const std::string& text) {
  Engine eng(EngineOptions{true});
  Errors errs;
  if (!eng.add_module("policy.rego", text, errs)) return nullptr;
  return eng.compile(errs);
}

struct Request {
  std::string ep;
  Value input;
};

std::vector<Request> load_trace(const fs::path& p) {
  std::vector<Request> out;
  std::ifstream f(p);
  std::string line;
  while (std::getline(f, line)) {
    Value v;
    std::string err;
    if (!parse_json(line, v, err)) continue;
    const Value* ep = v.get("ep");
    const Value* in = v.get("input");
    if (ep && in) out.push_back({ep->str(), *in});
  }
  return out;
}

void register_all() {
  fs::path corpus = shared_dir() / "corpus" / "kata";
  if (!fs::exists(corpus)) return;
  std::vector<fs::path> dirs;
  for (auto& d : fs::directory_iterator(corpus)) dirs.push_back(d.path());
  std::sort(dirs.begin(), dirs.end());
  fs::path largest;
  size_t largest_size = 0;
  for (auto& d : dirs) {
    std::string text = read(d / "policy.rego");
    if (text.size() > largest_size) {
      largest_size = text.size();
      largest = d;
    }
    benchmark::RegisterBenchmark(("BM_Compile/" + d.filename().string()).c_str(), [text](benchmark::State& st) {
      for (auto _ : st) benchmark::DoNotOptimize(compile(text));
      st.SetBytesProcessed(static_cast<int64_t>(st.iterations() * text.size()));
    });
  }
  // Per request kind on every policy, grouped: one benchmark per kind over all its requests.
  std::map<std::string, std::vector<std::pair<std::shared_ptr<const Policy>, Value>>> by_kind;
  for (auto& d : dirs) {
    auto policy = compile(read(d / "policy.rego"));
    if (!policy) continue;
    for (auto& r : load_trace(d / "trace.jsonl")) by_kind[r.ep].emplace_back(policy, r.input);
  }
  // BM_Eval: with a print callback (every definition evaluated, print arguments formatted);
  // BM_EvalQuiet: without one (OPA's early exit applies), as the Kata agent evaluates.
  for (auto& [kind_ep, kind_reqs] : by_kind)
    for (bool quiet : {false, true}) {
      const std::string& ep = kind_ep;
      const auto& reqs = kind_reqs;
      benchmark::RegisterBenchmark(((quiet ? "BM_EvalQuiet/" : "BM_Eval/") + ep).c_str(),
                                   [ep = ep, reqs = reqs, quiet](benchmark::State& st) {
                                     std::map<const Policy*, std::unique_ptr<Query>> queries;
                                     Errors errs;
                                     for (auto& [p, in] : reqs)
                                       if (!queries.count(p.get()))
                                         queries[p.get()] = Query::prepare(p, "data.agent_policy." + ep, errs);
                                     size_t i = 0;
                                     for (auto _ : st) {
                                       auto& [p, in] = reqs[i++ % reqs.size()];
                                       EvalOptions o;
                                       o.input = in;
                                       if (!quiet) o.print = [](const std::string&) {};
                                       Value v;
                                       queries[p.get()]->eval_value(o, v, errs);
                                       benchmark::DoNotOptimize(v);
                                     }
                                     st.counters["requests"] = static_cast<double>(reqs.size());
                                   });
    }
}

}  // namespace

int main(int argc, char** argv) {
  register_all();
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
