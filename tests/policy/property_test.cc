// Property tests in the style of hcsshim's own suite: random policies with
// many containers and layers; mount one container's layers, change one field
// of a request, and expect exactly the denial that field causes (and nothing
// recorded), then the unchanged request allowed.
#include <algorithm>
#include <numeric>
#include <random>

#include "synthetic_policy.h"
#include "test_support.h"

namespace confidant::policy::testing {
namespace {

using rego::Value;
using synthetic::PolicyGen;

Value with(const Value& base, const std::string& key, const Value& v) {
  rego::ObjectItems items;
  for (const auto& kv : base.object_items())
    if (kv.first.str() != key) items.push_back(kv);
  items.emplace_back(Value::string(key), v);
  return Value::object(std::move(items));
}

Value appended(const Value& array, const Value& item) {
  rego::ValueVec v = array.array_items();
  v.push_back(item);
  return Value::array(std::move(v));
}

struct Case {
  std::string what;
  Value input;
  std::vector<std::string> reasons;  // empty: must be allowed
};

class RandomPolicies : public ::testing::TestWithParam<uint32_t> {
 protected:
  void SetUp() override {
    uint32_t seed = GetParam();
    gen_ = std::make_unique<PolicyGen>(synthetic::Options{
        .containers = 3 + static_cast<int>(seed % 14), .layers = 1 + static_cast<int>(seed % 7), .seed = seed});
    layers_ = 1 + static_cast<int>(seed % 7);
    e_ = bound_enforcer(gen_->policy_text());
    rng_.seed(seed);
  }

  // Mounts container c's layers (in a random order of devices) and its overlay.
  void mount(int c) {
    std::vector<int> order(static_cast<size_t>(layers_));
    std::iota(order.begin(), order.end(), 0);
    std::shuffle(order.begin(), order.end(), rng_);
    for (int l : order) ASSERT_TRUE(e_->enforce("mount_device", gen_->mount_device(c, l)).allowed);
    ASSERT_TRUE(e_->enforce("mount_overlay", gen_->mount_overlay(c)).allowed);
  }

  void expect(const std::string& point, const Case& k) {
    SCOPED_TRACE(point + ": " + k.what);
    uint64_t version = e_->state_version();
    Decision d = e_->enforce(point, k.input);
    if (k.reasons.empty()) {
      EXPECT_TRUE(d.allowed) << ::testing::PrintToString(d.reasons);
      std::string error;
      EXPECT_TRUE(e_->rollback(d, error)) << error;
    } else {
      EXPECT_FALSE(d.allowed);
      EXPECT_EQ(sorted(d.reasons), sorted(k.reasons));
      EXPECT_EQ(e_->state_version(), version);
    }
  }

  std::unique_ptr<PolicyGen> gen_;
  int layers_ = 1;
  std::unique_ptr<Enforcer> e_;
  std::mt19937 rng_;
};

TEST_P(RandomPolicies, MountDeviceAndOverlay) {
  int n = static_cast<int>(gen_->containers().size());
  int c = static_cast<int>(rng_() % static_cast<uint32_t>(n));
  std::string unknown(64, 'f');
  expect(
      "mount_device",
      {"unknown hash", with(gen_->mount_device(c, 0), "deviceHash", Value::string(unknown)), {"deviceHash not found"}});
  expect("mount_device",
         {"bad path", with(gen_->mount_device(c, 0), "target", Value::string("/mnt/x")), {"mountpoint invalid"}});
  for (int l = 0; l < layers_; ++l) ASSERT_TRUE(e_->enforce("mount_device", gen_->mount_device(c, l)).allowed);
  expect("mount_device", {"twice", gen_->mount_device(c, 0), {"device already mounted at path"}});
  Value overlay = gen_->mount_overlay(c);
  rego::ValueVec paths = overlay.get("layerPaths")->array_items();
  if (paths.size() > 1) {
    std::vector<Value> reversed(paths.rbegin(), paths.rend());
    expect("mount_overlay", {"base layer first",
                             with(overlay, "layerPaths", Value::array(reversed)),
                             {"no matching containers for overlay"}});
  }
  rego::ValueVec shorter(paths.begin() + 1, paths.end());
  expect("mount_overlay",
         {"missing layer", with(overlay, "layerPaths", Value::array(shorter)), {"no matching containers for overlay"}});
  // Another container's layers are not this one's.
  int other = (c + 1) % n;
  expect("mount_overlay", {"other container's id is irrelevant",
                           with(gen_->mount_overlay(other), "layerPaths", *overlay.get("layerPaths")),
                           {}});
  ASSERT_TRUE(e_->enforce("mount_overlay", overlay).allowed);
  expect("mount_overlay", {"twice", overlay, {"overlay has already been mounted"}});
}

TEST_P(RandomPolicies, CreateContainerOneFieldChanged) {
  int n = static_cast<int>(gen_->containers().size());
  int c = static_cast<int>(rng_() % static_cast<uint32_t>(n));
  const synthetic::Container& k = gen_->containers()[static_cast<size_t>(c)];
  mount(c);
  Value ok = gen_->create_container(c);
  Value caps = *ok.get("capabilities");
  rego::ValueVec fewer = caps.get("bounding")->array_items();
  fewer.pop_back();
  std::vector<Case> cases = {
      {"command", with(ok, "argList", appended(*ok.get("argList"), Value::string("--evil"))), {"invalid command"}},
      {"working dir", with(ok, "workingDir", Value::string("/tmp")), {"invalid working directory"}},
      {"umask", with(ok, "umask", Value::string("0077")), {"invalid user"}},
      {"seccomp", with(ok, "seccompProfileSHA256", Value::string(std::string(64, '0'))), {"invalid seccomp"}},
      {"devices", with(ok, "devices", json(R"([{"path":"/dev/mem"}])")), {"devices not supported"}},
      {"mount",
       with(ok, "mounts",
            appended(*ok.get("mounts"),
                     json(R"({"destination":"/bin","source":"/host/bin","options":["rbind","rw"],"type":"bind"})"))),
       {"invalid mount list: /bin"}},
      {"required env", with(ok, "envList", json(R"(["TERM=xterm"])")), {"missing required environment variable"}},
      {"fewer capabilities",
       with(ok, "capabilities", with(caps, "bounding", Value::array(fewer))),
       {"capabilities don't match"}},
      // Allowed by the policy's flags: extra variables and capabilities are dropped.
      {"extra env", with(ok, "envList", appended(*ok.get("envList"), Value::string("EVIL=1"))), {}},
      {"extra capability",
       with(ok, "capabilities",
            with(caps, "bounding", appended(*caps.get("bounding"), Value::string("CAP_SYS_ADMIN")))),
       {}},
      // no_new_privileges false in the policy: the request may set it.
      {"no new privileges", with(ok, "noNewPrivileges", Value::boolean(true)), {}},
  };
  cases.push_back(
      {"privileged", with(ok, "privileged", Value::boolean(true)),
       k.allow_elevated ? std::vector<std::string>{} : std::vector<std::string>{"privileged escalation not allowed"}});
  cases.push_back({"user", with(ok, "user", json(R"({"id":"4242","name":"x"})")),
                   k.user_id_pattern.empty() ? std::vector<std::string>{} : std::vector<std::string>{"invalid user"}});
  for (const Case& k2 : cases) expect("create_container", k2);

  Decision d =
      e_->enforce("create_container", with(ok, "envList", appended(*ok.get("envList"), Value::string("EVIL=1"))));
  ASSERT_TRUE(d.allowed);
  for (const auto& env : *d.env_list) EXPECT_NE(env, "EVIL=1");
  EXPECT_EQ(d.env_list->size(), ok.get("envList")->size());
  expect("create_container", {"twice", ok, {"container already started"}});
}

TEST_P(RandomPolicies, ExecAndSignalOneFieldChanged) {
  int n = static_cast<int>(gen_->containers().size());
  int c = static_cast<int>(rng_() % static_cast<uint32_t>(n));
  mount(c);
  ASSERT_TRUE(e_->enforce("create_container", gen_->create_container(c)).allowed);
  Value exec = gen_->exec_in_container(c);
  expect("exec_in_container", {"as listed", exec, {}});
  expect("exec_in_container", {"command",
                               with(exec, "argList", json(R"(["/bin/sh"])")),
                               {"invalid command", "invalid noNewPrivileges", "invalid user"}});
  expect("exec_in_container",
         {"working dir", with(exec, "workingDir", Value::string("/")), {"invalid working directory"}});
  expect("exec_in_container", {"umask", with(exec, "umask", Value::string("0000")), {"invalid user"}});
  expect("exec_in_container",
         {"not started",
          with(exec, "containerID", Value::string(std::string(64, '0'))),
          {"container not started", "invalid command", "invalid working directory", "invalid noNewPrivileges",
           "invalid user",
           "invalid env list: PATH,LANG,APP_VERSION,APP_HOME,TERM,HOSTNAME,IDENTITY_HEADER,Fabric_NodeName"}});
  Value sig = gen_->signal(c, 15);
  // Framework 0.2.3 policies may always get SIGKILL and SIGTERM to the init process.
  expect("signal_container_process", {"SIGTERM", sig, {}});
  expect("signal_container_process", {"SIGKILL", with(sig, "signal", Value::integer(9)), {}});
  expect("signal_container_process",
         {"SIGHUP", with(sig, "signal", Value::integer(1)), {"target isn't allowed to receive the signal"}});
  Value probe = with(with(sig, "isInitProcess", Value::boolean(false)), "argList", *exec.get("argList"));
  expect("signal_container_process", {"exec process signal", probe, {}});
  expect("signal_container_process", {"exec process other signal",
                                      with(probe, "signal", Value::integer(9)),
                                      {"target isn't allowed to receive the signal"}});
}

TEST_P(RandomPolicies, WholeGroupStartsAndStops) {
  int n = static_cast<int>(gen_->containers().size());
  std::vector<int> order(static_cast<size_t>(n));
  std::iota(order.begin(), order.end(), 0);
  std::shuffle(order.begin(), order.end(), rng_);
  for (int c : order) {
    mount(c);
    ASSERT_TRUE(e_->enforce("create_container", gen_->create_container(c)).allowed) << c;
  }
  for (int c : order) {
    EXPECT_TRUE(e_->enforce("exec_in_container", gen_->exec_in_container(c)).allowed);
    EXPECT_TRUE(
        e_->enforce("shutdown_container", json(R"({"containerID":")" + gen_->containers()[c].id + "\"}")).allowed);
  }
  EXPECT_EQ(e_->state().get("started")->size(), static_cast<size_t>(n));
  EXPECT_EQ(e_->state().get("matches")->size(), 0u);
}

INSTANTIATE_TEST_SUITE_P(Seeds, RandomPolicies, ::testing::Range<uint32_t>(1, 25));

}  // namespace
}  // namespace confidant::policy::testing
