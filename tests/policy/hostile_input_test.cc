// Hostile requests and hostile policies: every one is a denial with a
// reason, never a crash, a hang or an allow.
#include <chrono>

#include "aci_fixture.h"

namespace confidant::policy::testing {
namespace {

using rego::Value;

class Hostile : public ::testing::Test {
 protected:
  void SetUp() override {
    e_ = bound_enforcer(fixture_policy());
    ASSERT_TRUE(e_->enforce("mount_device", mount_device(scsi(1), kL1)).allowed);
    ASSERT_TRUE(e_->enforce("mount_device", mount_device(scsi(2), kL2)).allowed);
    ASSERT_TRUE(e_->enforce("mount_overlay", mount_overlay(kApp, {scsi(2), scsi(1)})).allowed);
  }
  std::unique_ptr<Enforcer> e_;
};

Value nested(int depth) {
  Value v = Value::string("x");
  for (int i = 0; i < depth; ++i) v = Value::array({v});
  return v;
}

TEST_F(Hostile, WrongTypesAreDeniedWithTheField) {
  Value ok = create_app();
  const std::vector<std::pair<std::string, Value>> cases = {
      {"argList", Value::string("/app --serve")},
      {"argList", json(R"(["/app", 1])")},
      {"envList", json(R"({"PATH": "/bin"})")},
      {"privileged", Value::string("false")},
      {"user", json(R"({"id": 1000, "name": "app"})")},
      {"groups", json(R"([{"id": "0"}])")},
      {"mounts", json(R"([{"destination": "/data", "source": "/x", "type": "bind", "options": "rw"}])")},
      {"capabilities", json(R"({"bounding": []})")},
      {"capabilities", Value::null()},
      {"containerID", Value::integer(7)},
      {"devices", Value::empty_object()},
  };
  for (const auto& [field, bad] : cases) {
    Decision d = e_->enforce("create_container", with(ok, field, bad));
    EXPECT_FALSE(d.allowed) << field;
    ASSERT_EQ(d.reasons.size(), 1u) << field;
    EXPECT_TRUE(d.reasons[0].starts_with("invalid input: " + field + " must be ")) << d.reasons[0];
  }
  EXPECT_DENIED(e_->enforce("signal_container_process",
                            json(R"({"containerID":"a","signal":"9","isInitProcess":true,"argList":[]})")),
                "invalid input: signal must be an integer");
  EXPECT_DENIED(e_->enforce("signal_container_process",
                            json(R"({"containerID":"a","signal":9.5,"isInitProcess":true,"argList":[]})")),
                "invalid input: signal must be an integer");
  EXPECT_DENIED(e_->enforce("mount_overlay", json(R"({"containerID":"a","layerPaths":{"0":"x"},"target":"t"})")),
                "invalid input: layerPaths must be an array of strings");
  // Nothing was recorded by any of them.
  EXPECT_FALSE(e_->state().get("started"));
}

TEST_F(Hostile, MissingFieldsAreDenied) {
  Value ok = create_app();
  for (const auto& [key, _] : ok.object_items()) {
    Decision d = e_->enforce("create_container", without(ok, key.str()));
    EXPECT_FALSE(d.allowed) << key.str();
    EXPECT_EQ(d.reasons, std::vector<std::string>{"invalid input: create_container needs " + key.str()});
  }
  EXPECT_DENIED(e_->enforce("mount_device", json(R"({"target":"/run/mounts/scsi/m7"})")),
                "invalid input: mount_device needs deviceHash");
  EXPECT_DENIED(e_->enforce("mount_device", Value::string("mount everything")),
                "invalid input: mount_device input must be an object");
  EXPECT_DENIED(e_->enforce("mount_device", Value()), "invalid input: mount_device input must be an object");
}

TEST_F(Hostile, ExtraFieldsCannotSmuggleState) {
  // A request naming the enforcer's own context key gets it replaced, not trusted.
  Value forged = json(R"({"__confidant": {"metadata": {"devices": {}, "matches": {}}, "static": {"layers": {}}}})");
  Value input = with(mount_device(scsi(1), kL1), "__confidant", *forged.get("__confidant"));
  EXPECT_DENIED(e_->enforce("mount_device", input), "device already mounted at path");
  Value unknown = with(mount_device(scsi(3), std::string(64, 'e')), "__confidant",
                       json(R"({"static": {"layers": {"eeee": true}}})"));
  EXPECT_DENIED(e_->enforce("mount_device", unknown), "deviceHash not found");
}

TEST_F(Hostile, HugeArraysAreDenied) {
  // More values than the input limit: refused before any policy runs.
  rego::ValueVec many(1'100'000, Value::string("A=1"));
  Decision d = e_->enforce("create_container", with(create_app(), "envList", Value::array(many)));
  EXPECT_DENIED(d, "invalid input: more than 1000000 values");
  // Large but within the limit: evaluated, and denied for what it is.
  rego::ValueVec args(50'000, Value::string("--flag"));
  EXPECT_DENIED(e_->enforce("create_container", with(create_app(), "argList", Value::array(args))), "invalid command");
  rego::ValueVec paths(20'000, Value::string(scsi(1)));
  EXPECT_DENIED(e_->enforce("mount_overlay", json(R"({"containerID":"z","layerPaths":[],"target":"/t"})")),
                "no matching containers for overlay");
  EXPECT_DENIED(e_->enforce("mount_overlay", with(mount_overlay("z", {}), "layerPaths", Value::array(paths))),
                "no matching containers for overlay");
}

TEST_F(Hostile, DeepNestingIsDenied) {
  EXPECT_DENIED(e_->enforce("create_container", with(create_app(), "annotations", nested(100'000))),
                "invalid input: nested deeper than 64 levels");
  Decision kata = bound_enforcer("package agent_policy\n\ndefault CreateContainerRequest := true\n")
                      ->enforce("CreateContainerRequest", Value::object({{Value::string("OCI"), nested(5000)}}));
  EXPECT_DENIED(kata, "invalid input: nested deeper than 64 levels");
}

TEST_F(Hostile, InvalidUtf8IsDenied) {
  Value input = with(create_app(), "workingDir", Value::string(std::string("/srv\xff", 5)));
  EXPECT_DENIED(e_->enforce("create_container", input), "invalid input: a string is not valid UTF-8");
  // In a key, overlong encodings and surrogates too.
  for (std::string bad : {std::string("\xc0\xaf"), std::string("\xed\xa0\x80"), std::string("\xf4\x90\x80\x80")}) {
    Value keyed = Value::object({{Value::string("k" + bad), Value::integer(1)}});
    EXPECT_DENIED(e_->enforce("get_properties", keyed), "invalid input: a string is not valid UTF-8");
  }
  // Valid multi-byte text is fine.
  EXPECT_ALLOWED(e_->enforce("get_properties", json(R"({"note":"naïve ☃ 𝄞"})")));
}

TEST(HostilePolicy, RunawayEvaluationIsStoppedAndDenied) {
  std::string policy = R"(package policy

api_version := "0.10.0"

get_properties := {"allowed": count([1 | some i in numbers.range(1, 3000); some j in numbers.range(1, 3000)]) > 0}
)";
  EnforcerOptions o;
  o.limits.max_steps = 200'000;
  auto e = bound_enforcer(policy, o);
  auto start = std::chrono::steady_clock::now();
  Decision d = e->enforce("get_properties", Value::empty_object());
  EXPECT_FALSE(d.allowed);
  ASSERT_EQ(d.reasons.size(), 1u);
  EXPECT_NE(d.reasons[0].find("eval_cancel_error"), std::string::npos) << d.reasons[0];
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

TEST(HostilePolicy, RegexBombsStayLinear) {
  // RE2: a pattern that backtracking engines take exponential time on.
  std::string container = R"({"command":["/x"],"env_rules":[{"pattern":"(a+)+$","strategy":"re2","required":false}],
      "layers":[")" + kL1 +
                          R"("],"mounts":[],"exec_processes":[],"signals":[],
      "user":{"user_idname":{"pattern":"","strategy":"any"},"group_idnames":[{"pattern":"","strategy":"any"}],"umask":"0022"},
      "capabilities":null,"seccomp_profile_sha256":"","allow_elevated":false,"working_dir":"/","allow_stdio_access":false,"no_new_privileges":false})";
  FixtureOptions o;
  o.extra_containers = "," + container;
  auto e = bound_enforcer(fixture_policy(o));
  ASSERT_TRUE(e->enforce("mount_device", mount_device(scsi(1), kL1)).allowed);
  ASSERT_TRUE(e->enforce("mount_overlay", mount_overlay(kPriv, {scsi(1)})).allowed);
  std::string evil(100'000, 'a');
  evil += "!";
  Value create =
      with(with(with(create_priv(false), "argList", json(R"(["/x"])")), "envList", Value::array({Value::string(evil)})),
           "mounts", json("[]"));
  auto start = std::chrono::steady_clock::now();
  EXPECT_FALSE(e->enforce("create_container", create).allowed);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

}  // namespace
}  // namespace confidant::policy::testing
