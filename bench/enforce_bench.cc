// Policy enforcement benchmarks (src/policy):
//   BM_ContainerGroupStart/<containers>  a whole container-group start on a
//       synthetic az-confcom-shaped policy: per container 3 mount_device, one
//       mount_overlay, create_container, exec_in_container and a signal
//       (10 containers = 70 decisions). Target: <= 2 ms for 10 containers.
//   BM_Point/<point>                     one decision, state rolled back between iterations
//   BM_Load                              HOST_DATA check + compile of the policy with the framework
//   BM_CorpusTrace/<name>                a whole shared/corpus/aci-traces replay (allowed and denied calls)
//   BM_KataCreateContainer/<name>/<i>/agent|prints  each Kata corpus CreateContainerRequest
//       (issue 2: every one <= 1 ms), in the agent's configuration and with all prints gathered
// Run: build/enforce_bench [--benchmark_filter=...]; CONFIDANT_SHARED overrides the fixtures path.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "../tests/policy/synthetic_policy.h"
#include "policy/digest.h"
#include "policy/policy.h"

using namespace confidant;
using policy::synthetic::PolicyGen;
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

std::unique_ptr<policy::Enforcer> load(const std::string& text) {
  auto e = std::make_unique<policy::Enforcer>(std::make_shared<policy::FixedTee>(policy::sha256(text)));
  std::string error;
  if (!e->load(text, error)) {
    fprintf(stderr, "policy refused: %s\n", error.c_str());
    std::abort();
  }
  return e;
}

struct Call {
  std::string point;
  rego::Value input;
};

std::vector<Call> group_start(const PolicyGen& gen, int layers) {
  std::vector<Call> calls;
  int n = static_cast<int>(gen.containers().size());
  for (int c = 0; c < n; ++c) {
    for (int l = 0; l < layers; ++l) calls.push_back({"mount_device", gen.mount_device(c, l)});
    calls.push_back({"mount_overlay", gen.mount_overlay(c)});
    calls.push_back({"create_container", gen.create_container(c)});
  }
  for (int c = 0; c < n; ++c) {
    calls.push_back({"exec_in_container", gen.exec_in_container(c)});
    calls.push_back({"signal_container_process", gen.signal(c, 15)});
  }
  return calls;
}

// Undoes a whole sequence, newest first, so the next iteration starts clean.
void roll_back(policy::Enforcer& e, std::vector<policy::Decision>& done) {
  std::string error;
  for (auto it = done.rbegin(); it != done.rend(); ++it)
    if (!e.rollback(*it, error)) std::abort();
  done.clear();
}

void BM_ContainerGroupStart(benchmark::State& st) {
  int n = static_cast<int>(st.range(0));
  PolicyGen gen({.containers = n, .layers = 3, .seed = 7});
  auto enforcer = load(gen.policy_text());
  auto calls = group_start(gen, 3);
  std::vector<policy::Decision> done;
  for (auto _ : st) {
    for (const Call& c : calls) {
      done.push_back(enforcer->enforce(c.point, c.input));
      if (!done.back().allowed) {
        st.SkipWithError(("denied: " + c.point).c_str());
        return;
      }
    }
    st.PauseTiming();
    roll_back(*enforcer, done);
    st.ResumeTiming();
  }
  st.counters["decisions"] = static_cast<double>(calls.size());
  // Seconds per decision, shown with SI prefixes (e.g. 22u = 22 microseconds).
  st.counters["per_decision"] = benchmark::Counter(
      static_cast<double>(calls.size()), benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}
// The machine is shared: repetitions with their minimum show the cost without interference.
BENCHMARK(BM_ContainerGroupStart)
    ->Arg(1)
    ->Arg(10)
    ->Arg(30)
    ->Unit(benchmark::kMicrosecond)
    ->Repetitions(5)
    ->ComputeStatistics("min", [](const std::vector<double>& v) { return *std::min_element(v.begin(), v.end()); });

// One point after the calls it depends on; the point's own change is undone each iteration.
void BM_Point(benchmark::State& st, const std::string& point) {
  PolicyGen gen({.containers = 10, .layers = 3, .seed = 7});
  auto enforcer = load(gen.policy_text());
  auto calls = group_start(gen, 3);
  size_t target = 0;
  while (calls[target].point != point) ++target;
  for (size_t i = 0; i < target; ++i) enforcer->enforce(calls[i].point, calls[i].input);
  std::string error;
  for (auto _ : st) {
    policy::Decision d = enforcer->enforce(point, calls[target].input);
    if (!d.allowed) {
      st.SkipWithError("denied");
      return;
    }
    enforcer->rollback(d, error);
  }
}
BENCHMARK_CAPTURE(BM_Point, mount_device, std::string("mount_device"))->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_Point, mount_overlay, std::string("mount_overlay"))->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_Point, create_container, std::string("create_container"))->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_Point, exec_in_container, std::string("exec_in_container"))->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_Point, signal_container_process, std::string("signal_container_process"))
    ->Unit(benchmark::kMicrosecond);

void BM_Load(benchmark::State& st) {
  PolicyGen gen({.containers = 10, .layers = 3, .seed = 7});
  std::string text = gen.policy_text();
  for (auto _ : st) benchmark::DoNotOptimize(load(text));
}
BENCHMARK(BM_Load)->Unit(benchmark::kMillisecond);

void register_corpus() {
  fs::path traces = shared_dir() / "corpus" / "aci-traces";
  if (!fs::exists(traces)) return;
  for (const auto& entry : fs::directory_iterator(traces)) {
    std::string name = entry.path().stem().string();
    std::string text = read(shared_dir() / "corpus" / "aci" / (name + ".rego"));
    std::vector<Call> calls;
    std::ifstream f(entry.path());
    std::string line;
    while (std::getline(f, line)) {
      rego::Value v;
      std::string err;
      if (rego::parse_json(line, v, err)) calls.push_back({v.get("ep")->str(), *v.get("input")});
    }
    benchmark::RegisterBenchmark(("BM_CorpusTrace/" + name).c_str(), [text, calls](benchmark::State& st) {
      for (auto _ : st) {
        st.PauseTiming();
        auto e = load(text);
        st.ResumeTiming();
        for (const Call& c : calls) benchmark::DoNotOptimize(e->enforce(c.point, c.input));
        st.PauseTiming();
        e.reset();
        st.ResumeTiming();
      }
      st.counters["decisions"] = static_cast<double>(calls.size());
    })->Unit(benchmark::kMicrosecond);
  }
}

// Kata: every CreateContainerRequest of every shared/corpus/kata trace, after the requests
// before it (the state they leave), its own state change undone each iteration. `agent`:
// the agent's configuration (prints gathered only for denials); `prints`: every print line
// gathered, as `confidant replay` does to compare them with the recording.
void register_kata() {
  fs::path corpus = shared_dir() / "corpus" / "kata";
  if (!fs::exists(corpus)) return;
  std::vector<fs::path> dirs;
  for (const auto& d : fs::directory_iterator(corpus)) dirs.push_back(d.path());
  std::sort(dirs.begin(), dirs.end());
  for (const auto& dir : dirs) {
    std::string text = read(dir / "policy.rego");
    std::vector<Call> calls;
    std::ifstream f(dir / "trace.jsonl");
    std::string line;
    while (std::getline(f, line)) {
      rego::Value v;
      std::string err;
      if (rego::parse_json(line, v, err)) calls.push_back({v.get("ep")->str(), *v.get("input")});
    }
    for (size_t target = 0; target < calls.size(); ++target) {
      if (calls[target].point != "CreateContainerRequest") continue;
      for (bool prints : {false, true}) {
        std::string name = "BM_KataCreateContainer/" + dir.filename().string() + "/" + std::to_string(target) +
                           (prints ? "/prints" : "/agent");
        benchmark::RegisterBenchmark(name.c_str(), [text, calls, target, prints](benchmark::State& st) {
          policy::EnforcerOptions options;
          options.kata_prints_always = prints;
          policy::Enforcer e(std::make_shared<policy::FixedTee>(policy::sha256(text)), options);
          std::string error;
          if (!e.load(text, error)) std::abort();
          for (size_t i = 0; i < target; ++i) e.enforce(calls[i].point, calls[i].input);
          for (auto _ : st) {
            policy::Decision d = e.enforce(calls[target].point, calls[target].input);
            if (!d.allowed) {
              st.SkipWithError("denied");
              return;
            }
            if (!e.rollback(d, error)) std::abort();
          }
        })->Unit(benchmark::kMicrosecond);
      }
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  register_corpus();
  register_kata();
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
