// The agent over its unix socket: round trip of a request the policy denies
// and of an allowed no-op, and the time from "start group" to "containers
// running", split into layer hashing, policy, mounting and runc.
//
// The group benchmark needs root, runc, loop devices, overlayfs and
// busybox-static; it reports an error (skip) otherwise.
#include <benchmark/benchmark.h>
#include <sched.h>
#include <sys/mount.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "agent/agent.h"
#include "agent/host.h"
#include "policy/digest.h"

namespace {

using namespace confidant;
using namespace confidant::agent;
namespace tt = confidant::agent::ttrpc;
namespace fs = std::filesystem;

const bool g_private_mounts = [] {
  if (::geteuid() != 0 || ::unshare(CLONE_NEWNS) != 0) return false;
  return ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) == 0;
}();

fs::path scratch_dir(const std::string& name) {
  fs::path p = fs::temp_directory_path() / ("agent-bench-" + std::to_string(::getpid()) + "-" + name);
  fs::remove_all(p);
  fs::create_directories(p);
  return p;
}

// A busybox layer and a one-container group around it.
host::Group bench_group(const fs::path& dir, const std::string& id) {
  fs::path base = dir / "base-src";
  if (!fs::exists(base)) {
    fs::create_directories(base / "bin");
    fs::copy_file("/bin/busybox", base / "bin/busybox");
    fs::create_symlink("busybox", base / "bin/sh");
    for (const char* d : {"proc", "sys", "dev", "etc", "tmp"}) fs::create_directories(base / d);
  }
  host::Group g;
  host::ContainerSpec c;
  c.id = id;
  c.layers = {base.string()};
  c.command = {"/bin/sh", "-c", "echo up; exec sleep 1000"};
  c.env = {"PATH=/bin"};
  g.containers = {c};
  return g;
}

struct Running {
  std::unique_ptr<Agent> agent;
  std::unique_ptr<tt::Server> server;
  std::thread thread;
  AgentClient client;
  fs::path dir;

  bool start(const std::string& policy_text, std::string& error) {
    dir = scratch_dir("agent");
    AgentOptions o;
    o.state_dir = (dir / "state").string();
    o.tee = std::make_shared<policy::FixedTee>(policy::sha256(policy_text));
    o.log = [](const std::string&) {};
    agent = std::make_unique<Agent>(std::move(o));
    server = std::make_unique<tt::Server>(agent->router());
    tt::Address a;
    if (!tt::parse_address((dir / "agent.sock").string(), a, error) || !server->listen(a, error)) return false;
    thread = std::thread([this] { server->serve(); });
    return client.connect((dir / "agent.sock").string(), error);
  }
  ~Running() {
    if (server) server->stop();
    if (thread.joinable()) thread.join();
    if (agent) agent->shutdown();
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
};

// Round trips on a policy with placeholder layer hashes (no mounts needed).
std::string placeholder_policy() {
  host::Group g;
  host::ContainerSpec c;
  c.id = "c";
  c.layers = {"unused"};
  c.command = {"/bin/true"};
  g.containers = {c};
  return host::group_policy(g, {{std::string(64, 'a')}});
}

void BM_DeniedRequestRoundTrip(benchmark::State& state) {
  Running r;
  std::string error, text = placeholder_policy();
  if (!r.start(text, error)) {
    state.SkipWithError(error.c_str());
    return;
  }
  v1::SetPolicyRequest sp;
  sp.set_policy(text);
  r.client.call("SetPolicy", sp);
  v1::Empty e;
  for (auto _ : state) {
    auto st = r.client.call("DumpStacks", e);  // allow_dump_stacks is false
    if (st.code != tt::kPermissionDenied) state.SkipWithError("DumpStacks was not denied");
  }
}
BENCHMARK(BM_DeniedRequestRoundTrip)->Unit(benchmark::kMicrosecond);

void BM_AllowedNoopRoundTrip(benchmark::State& state) {
  Running r;
  std::string error, text = placeholder_policy();
  if (!r.start(text, error)) {
    state.SkipWithError(error.c_str());
    return;
  }
  v1::SetPolicyRequest sp;
  sp.set_policy(text);
  r.client.call("SetPolicy", sp);
  v1::Empty e;
  v1::PropertiesResponse p;
  for (auto _ : state) {
    auto st = r.client.call("GetProperties", e, &p);
    if (!st.ok()) state.SkipWithError(st.message.c_str());
  }
}
BENCHMARK(BM_AllowedNoopRoundTrip)->Unit(benchmark::kMicrosecond);

void BM_StartGroup(benchmark::State& state) {
  if (!g_private_mounts || !fs::exists("/usr/sbin/runc") || !fs::exists("/bin/busybox")) {
    state.SkipWithError("needs root, runc and busybox-static");
    return;
  }
  fs::path dir = scratch_dir("group");
  double hashing = 0, policy_s = 0, mounting = 0, runc_s = 0;
  int n = 0;
  for (auto _ : state) {
    host::Group g = bench_group(dir, "bench" + std::to_string(n));
    host::PreparedLayers layers;
    std::string error;
    if (!host::prepare_layers(g, (dir / ("work" + std::to_string(n))).string(), build_layer_image, layers, {}, error)) {
      state.SkipWithError(error.c_str());
      break;
    }
    std::string text = host::group_policy(g, layers.hashes);
    Running r;
    if (!r.start(text, error)) {
      state.SkipWithError(error.c_str());
      break;
    }
    host::GroupState gs;
    host::StartTimings t;
    if (!host::start_group(r.client, g, layers, text, gs, t, {}, error)) {
      state.SkipWithError(error.c_str());
      break;
    }
    hashing += layers.seconds;
    policy_s += t.policy;
    mounting += t.mounting;
    runc_s += t.runc;
    ++n;
    state.SetIterationTime(layers.seconds + t.policy + t.mounting + t.runc);
  }
  if (n > 0) {
    state.counters["hashing_ms"] = hashing * 1000 / n;
    state.counters["policy_ms"] = policy_s * 1000 / n;
    state.counters["mounting_ms"] = mounting * 1000 / n;
    state.counters["runc_ms"] = runc_s * 1000 / n;
  }
  std::error_code ec;
  fs::remove_all(dir, ec);
}
BENCHMARK(BM_StartGroup)->UseManualTime()->Iterations(3)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
