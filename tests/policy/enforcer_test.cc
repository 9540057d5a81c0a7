// The Enforcer around the dialects: HOST_DATA binding, loading, the ACI
// algorithm around each query (defaults per API version, errors), state
// atomicity and rollback.
#include <atomic>
#include <thread>

#include "aci_fixture.h"
#include "policy/decision_envelope.h"
#include "policy/framework_rego.h"

namespace confidant::policy::testing {
namespace {

using rego::Value;

const char* kOpenDoor = R"(package policy

api_version := "0.10.0"

mount_device := {"allowed": true}
mount_overlay := {"allowed": true}
create_container := {"allowed": true, "allow_stdio_access": true}
unmount_device := {"allowed": true}
unmount_overlay := {"allowed": true}
exec_in_container := {"allowed": true}
exec_external := {"allowed": true, "allow_stdio_access": true}
shutdown_container := {"allowed": true}
signal_container_process := {"allowed": true}
plan9_mount := {"allowed": true}
plan9_unmount := {"allowed": true}
get_properties := {"allowed": true}
dump_stacks := {"allowed": true}
runtime_logging := {"allowed": true}
load_fragment := {"allowed": true}
scratch_mount := {"allowed": true}
scratch_unmount := {"allowed": true}
)";

TEST(Binding, PolicyMustMatchHostData) {
  std::string policy = fixture_policy();
  HostData other = sha256("some other policy");
  Enforcer e(std::make_shared<FixedTee>(other));
  std::string error;
  EXPECT_FALSE(e.load(policy, error));
  // The message names both digests.
  EXPECT_NE(error.find(policy_digest_hex(policy)), std::string::npos) << error;
  EXPECT_NE(error.find(to_hex(other)), std::string::npos) << error;
  EXPECT_FALSE(e.loaded());
  Decision d = e.enforce("get_properties", Value::empty_object());
  EXPECT_DENIED(d, "no policy is loaded");
}

TEST(Binding, RefusedPolicyLeavesThePreviousInForce) {
  std::string policy = fixture_policy();
  auto e = bound_enforcer(policy);
  std::string error;
  EXPECT_FALSE(e->load("package policy\napi_version := \"0.10.0\"\n", error));
  EXPECT_NE(error.find("does not match HOST_DATA"), std::string::npos) << error;
  EXPECT_TRUE(e->enforce("mount_device", mount_device(scsi(1), kL1)).allowed);
}

TEST(Binding, AciPolicyIsSetOnce) {
  std::string policy = fixture_policy();
  auto e = bound_enforcer(policy);
  ASSERT_TRUE(e->enforce("mount_device", mount_device(scsi(1), kL1)).allowed);
  std::string error;
  EXPECT_FALSE(e->load(policy, error));
  EXPECT_EQ(error, "security policy has already been set");
  // The state survived: the device is still mounted.
  EXPECT_DENIED(e->enforce("mount_device", mount_device(scsi(1), kL1)), "device already mounted at path");
}

TEST(Binding, NoTeeNoPolicy) {
  Enforcer e(nullptr);
  std::string error;
  EXPECT_FALSE(e.load(fixture_policy(), error));
  EXPECT_NE(error.find("no TEE"), std::string::npos);
  // Only the guest's own shipped policy may skip the check.
  LoadOptions lo;
  lo.verify_host_data = false;
  EXPECT_TRUE(e.load(fixture_policy(), error, lo)) << error;
}

TEST(Binding, TeeErrorsRefuseThePolicy) {
  auto tee = std::make_shared<ReportTee>("broken", [](std::vector<uint8_t>&, std::string& error) {
    error = "device busy";
    return false;
  });
  Enforcer e(tee);
  std::string error;
  EXPECT_FALSE(e.load(fixture_policy(), error));
  EXPECT_NE(error.find("device busy"), std::string::npos) << error;
}

TEST(Binding, HostDataFromARealAttestationReport) {
  // A Confidential ACI report whose HOST_DATA is the digest of its (allow-all) policy.
  std::string report = read_file(shared_dir() / "vectors/microsoft-confidential-sidecar-containers/snp_report.bin");
  std::string encoded =
      read_file(shared_dir() / "vectors/microsoft-confidential-sidecar-containers/uvm_security_policy.base64");
  std::string policy;
  ASSERT_TRUE(base64_decode(encoded, policy));
  auto tee = std::make_shared<ReportTee>("recorded report", [&](std::vector<uint8_t>& out, std::string&) {
    out.assign(report.begin(), report.end());
    return true;
  });
  Enforcer e(tee);
  std::string error;
  // The base64 text is not what HOST_DATA binds.
  EXPECT_FALSE(e.load(encoded, error));
  ASSERT_TRUE(e.load(policy, error)) << error;
  EXPECT_EQ(policy_digest_hex(policy), "cadd74f71ebb8fbf9782baab649612520f3c416bc5ce9ac768808ddc8d9b031c");
  // The allow-all debug policy runs unmodified.
  EXPECT_ALLOWED(e.enforce("mount_device", mount_device(scsi(1), std::string(64, '9'))));
  EXPECT_ALLOWED(e.enforce("create_container", create_app()));
  Decision d = e.enforce("exec_in_container", exec_app());
  EXPECT_ALLOWED(d);
  EXPECT_EQ(d.allow_stdio_access, std::optional<bool>(true));
}

TEST(Binding, AllowAllDebugPoliciesRunUnmodified) {
  std::string from_vector;
  ASSERT_TRUE(base64_decode(
      read_file(shared_dir() / "vectors/microsoft-confidential-sidecar-containers/security-policy-base64"),
      from_vector));
  for (const std::string& policy :
       {from_vector, read_file(shared_dir() / "corpus/aci/sidecar-allow-all-legacy.rego")}) {
    auto e = bound_enforcer(policy);
    EXPECT_ALLOWED(e->enforce("mount_device", mount_device(scsi(1), std::string(64, '9'))));
    EXPECT_ALLOWED(e->enforce("mount_overlay", mount_overlay(kApp, {scsi(1)})));
    EXPECT_ALLOWED(e->enforce("create_container", create_app()));
    EXPECT_ALLOWED(e->enforce("exec_in_container", exec_app()));
    EXPECT_ALLOWED(e->enforce("signal_container_process",
                              json(R"({"containerID":"x","signal":9,"isInitProcess":true,"argList":[]})")));
    EXPECT_ALLOWED(e->enforce("dump_stacks", Value::empty_object()));
    // Points newer than api 0.10.0 keep their defaults: no host network.
    EXPECT_FALSE(e->enforce("host_network", Value::empty_object()).allowed);
  }
}

TEST(Binding, DetectTeeWithoutDevice) { EXPECT_EQ(detect_tee("/nonexistent/sev-guest"), nullptr); }

TEST(Loading, DialectDetectionAndOverride) {
  EXPECT_EQ(detect_dialect("# comment\n\npackage policy\n"), Dialect::kAci);
  EXPECT_EQ(detect_dialect("package agent_policy\n"), Dialect::kKata);
  EXPECT_EQ(detect_dialect("package other\n"), std::nullopt);
  std::string other = "package other\n\nx := 1\n";
  Enforcer e(std::make_shared<FixedTee>(sha256(other)));
  std::string error;
  EXPECT_FALSE(e.load(other, error));
  EXPECT_NE(error.find("unknown policy dialect"), std::string::npos) << error;
  // An explicit dialect still needs that dialect's package.
  LoadOptions lo;
  lo.dialect = Dialect::kKata;
  EXPECT_FALSE(e.load(other, error, lo));
  EXPECT_NE(error.find("agent_policy"), std::string::npos) << error;
}

TEST(Loading, PolicyWithSyntaxErrorIsRefused) {
  std::string bad = "package policy\n\napi_version := \n";
  Enforcer e(std::make_shared<FixedTee>(sha256(bad)));
  std::string error;
  EXPECT_FALSE(e.load(bad, error));
  EXPECT_NE(error.find("rego_parse_error"), std::string::npos) << error;
  EXPECT_FALSE(e.loaded());
}

TEST(Loading, RegoV0PoliciesAreAccepted) {
  // A v0 body without `if`: v1 rejects it, so the ACI loader falls back to v0.
  std::string v0 = std::string(kOpenDoor) + "\nhost_network { true }\n";
  v0 = replaced(v0, "api_version := \"0.10.0\"", "api_version := \"0.12.0\"");
  auto e = bound_enforcer(v0);
  EXPECT_ALLOWED(e->enforce("get_properties", Value::empty_object()));
  // 0.12.0 requires every point: the open door lacks host_network's object result...
  Decision d = e->enforce("host_network", Value::empty_object());
  EXPECT_DENIED(d, "policy result for host_network must be an object, got boolean");
}

TEST(Loading, EmbeddedFrameworkIsTheSourceFile) {
  EXPECT_EQ(std::string(framework_rego()), read_file(source_dir() / "framework.rego"))
      << "framework_rego.cc is stale: rebuild it after editing framework.rego";
}

// ---------------------------------------------------------------- API versions

TEST(ApiVersions, OlderPoliciesGetDefaultsForNewerPoints) {
  auto e = bound_enforcer(kOpenDoor);  // api 0.10.0
  // Introduced later than 0.10.0, absent from the policy: the API table's defaults.
  const std::string no_reason =
      "Security policy is either not valid or did not provide a reason for denial. Please check security policy or "
      "re-generate with tooling.";
  EXPECT_DENIED(e->enforce("host_network", Value::empty_object()), no_reason);
  EXPECT_DENIED(e->enforce("mount_blockdev", json(R"({"target":"/x"})")), no_reason);
  EXPECT_ALLOWED(e->enforce("log_provider", json(R"({"providers":["x"]})")));
  // rw_mount_device falls to the framework, which needs encryption and a valid target.
  std::string rw =
      R"({"target":"/run/gcs/c/)" + kApp +
      R"(","encrypted":true,"ensureFilesystem":true,"filesystem":"ext4","mountPathRegex":"/run/gcs/c/[0-9a-f]{64}"})";
  EXPECT_ALLOWED(e->enforce("rw_mount_device", json(rw)));
  std::string unencrypted = rw;
  unencrypted = replaced(unencrypted, "\"encrypted\":true", "\"encrypted\":false");
  Decision d = e->enforce("rw_mount_device", json(unencrypted));
  EXPECT_FALSE(d.allowed);
  // The open door has no reason rule.
  EXPECT_EQ(d.reasons, std::vector<std::string>{"Security policy is either not valid or did not provide a reason for "
                                                "denial. Please check security policy or re-generate with tooling."});
}

TEST(ApiVersions, NewPolicyMustDefineEveryPoint) {
  std::string policy = std::string(kOpenDoor);
  policy = replaced(policy, "\"0.10.0\"", "\"0.12.0\"");
  auto e = bound_enforcer(policy);
  EXPECT_DENIED(e->enforce("host_network", Value::empty_object()), "rule for host_network is missing from policy");
  EXPECT_DENIED(
      e->enforce(
          "rw_mount_device",
          json(
              R"({"target":"/t","encrypted":true,"ensureFilesystem":true,"filesystem":"ext4","mountPathRegex":".*"})")),
      "rule for rw_mount_device is missing from policy");
}

TEST(ApiVersions, MissingApiVersion) {
  std::string policy = std::string(kOpenDoor);
  policy = replaced(policy, "api_version := \"0.10.0\"", "");
  auto e = bound_enforcer(policy);
  Decision d = e->enforce("get_properties", Value::empty_object());
  EXPECT_DENIED(d, "policy does not define api_version");
  Value decoded = decode_policy_decision(d.message);
  ASSERT_TRUE(decoded.is_object());
  EXPECT_EQ(*decoded.get("policyError"), Value::string("policy does not define api_version"));
  EXPECT_EQ(*decoded.get("reason"),
            Value::string("Security policy is not valid. Please check security policy or re-generate with tooling."));
}

TEST(ApiVersions, LegacyApiSvnAndInvalidVersions) {
  std::string legacy = std::string(kOpenDoor);
  legacy = replaced(legacy, "api_version", "api_svn");
  EXPECT_ALLOWED(bound_enforcer(legacy)->enforce("get_properties", Value::empty_object()));
  std::string invalid = std::string(kOpenDoor);
  invalid = replaced(invalid, "\"0.10.0\"", "\"ten\"");
  EXPECT_DENIED(bound_enforcer(invalid)->enforce("get_properties", Value::empty_object()),
                "policy api_version ten is not a semantic version");
  std::string number = std::string(kOpenDoor);
  number = replaced(number, "\"0.10.0\"", "10");
  EXPECT_DENIED(bound_enforcer(number)->enforce("get_properties", Value::empty_object()),
                "policy api_version must be a string");
}

TEST(ApiVersions, UnknownPoint) {
  auto e = bound_enforcer(kOpenDoor);
  EXPECT_DENIED(e->enforce("format_disk", Value::empty_object()), "enforcement point rule format_disk does not exist");
}

// ---------------------------------------------------------------- the algorithm

TEST(Algorithm, ResultsThatAreNotDecisionsAreErrors) {
  std::string policy = std::string(kOpenDoor) +
                       "dump_stacks_value := 1\n"
                       "host_network := {\"allowed\": \"yes\"}\n"
                       "api := 1\n";
  policy = replaced(policy, "dump_stacks := {\"allowed\": true}", "dump_stacks := 7");
  policy = replaced(policy, "\"0.10.0\"", "\"0.12.0\"");
  auto e = bound_enforcer(policy);
  EXPECT_DENIED(e->enforce("dump_stacks", Value::empty_object()),
                "policy result for dump_stacks must be an object, got number");
  EXPECT_DENIED(e->enforce("host_network", Value::empty_object()),
                "policy result for host_network has no boolean allowed");
}

TEST(Algorithm, EvaluationErrorsDeny) {
  std::string policy = std::string(kOpenDoor) + "\nsignal_container_process := {\"allowed\": x} if { x := 1 / 0 }\n";
  policy = replaced(policy, "signal_container_process := {\"allowed\": true}\n", "");
  // A conflict: two different values for one complete rule.
  policy += "get_properties := {\"allowed\": false} if { true }\n";
  auto e = bound_enforcer(policy);
  Decision d = e->enforce("get_properties", Value::empty_object());
  EXPECT_FALSE(d.allowed);
  ASSERT_EQ(d.reasons.size(), 1u);
  EXPECT_NE(d.reasons[0].find("eval_conflict_error"), std::string::npos) << d.reasons[0];
}

TEST(Algorithm, UserPolicyMetadataOperations) {
  // A policy that keeps its own state through metadata operations.
  std::string policy = R"(package policy

api_version := "0.10.0"

get_properties := {"allowed": true, "metadata": [{"name": "calls", "action": "update", "key": "last", "value": input.n}]}
dump_stacks := {"allowed": false, "metadata": [{"name": "calls", "action": "update", "key": "last", "value": -1}]}
runtime_logging := {"allowed": true, "metadata": [{"name": "calls", "action": "add", "key": "once", "value": true}]}
scratch_mount := {"allowed": true, "metadata": [{"name": "calls", "action": "frobnicate", "key": "x", "value": 1}]}
mount_device := {"allowed": true, "metadata": [{"name": "seen", "type": "set", "action": "add", "value": input.target}]}
)";
  auto e = bound_enforcer(policy);
  EXPECT_ALLOWED(e->enforce("get_properties", json(R"({"n": 1})")));
  EXPECT_EQ(*e->state().get("calls")->get("last"), Value::integer(1));
  // A denied call's operations are not applied.
  EXPECT_DENIED(e->enforce("dump_stacks", Value::empty_object()),
                "Security policy is either not valid or did not provide a reason for denial. Please check security "
                "policy or re-generate with tooling.");
  EXPECT_EQ(*e->state().get("calls")->get("last"), Value::integer(1));
  EXPECT_ALLOWED(e->enforce("runtime_logging", Value::empty_object()));
  EXPECT_DENIED(e->enforce("runtime_logging", Value::empty_object()),
                "cannot add metadata value, key calls[once] already exists");
  EXPECT_DENIED(e->enforce("scratch_mount", json(R"({"target":"/s","encrypted":true})")),
                "unrecognized metadata action: frobnicate");
  EXPECT_ALLOWED(e->enforce("mount_device", mount_device(scsi(1), kL1)));
  EXPECT_ALLOWED(e->enforce("mount_device", mount_device(scsi(1), kL1)));
  EXPECT_EQ(rego::to_json(*e->state().get("seen")), "[\"" + scsi(1) + "\"]");
}

TEST(Algorithm, FrameworkVersionMessages) {
  FixtureOptions o;
  o.framework_version = "0.9.0";
  auto e = bound_enforcer(fixture_policy(o));
  // Containers of a framework newer than the guest's are never candidates.
  EXPECT_DENIED(e->enforce("mount_device", mount_device(scsi(1), kL1)), "deviceHash not found",
                "framework_version is ahead of the current version: 0.9.0 is greater than 0.5.0");
  std::string missing = fixture_policy();
  missing = replaced(missing, "framework_version := \"0.5.0\"", "");
  EXPECT_DENIED(bound_enforcer(missing)->enforce("mount_device", mount_device(scsi(1), kL1)), "deviceHash not found",
                "framework_version is missing. Current version: 0.5.0");
}

TEST(Algorithm, OlderFrameworkVersionsGetDefaults) {
  // Framework 0.1.0: no user/capability/seccomp fields, and SIGKILL/SIGTERM always allowed.
  std::string container =
      R"({"command":["/old"],"env_rules":[],"layers":[")" + kL1 +
      R"("],"mounts":[],"exec_processes":[],"signals":[],"allow_elevated":false,"working_dir":"/","allow_stdio_access":true})";
  std::string policy = "package policy\napi_version := \"0.10.0\"\nframework_version := \"0.1.0\"\ncontainers := [" +
                       container +
                       "]\nmount_device := data.framework.mount_device\nmount_overlay := "
                       "data.framework.mount_overlay\ncreate_container := data.framework.create_container\n"
                       "signal_container_process := data.framework.signal_container_process\n"
                       "allow_capability_dropping := true\n"
                       "reason := {\"errors\": data.framework.errors}\n";
  auto e = bound_enforcer(policy);
  ASSERT_TRUE(e->enforce("mount_device", mount_device(scsi(1), kL1)).allowed);
  ASSERT_TRUE(e->enforce("mount_overlay", mount_overlay(kApp, {scsi(1)})).allowed);
  Value create = with(with(with(with(create_app(), "argList", json(R"(["/old"])")), "envList", json("[]")),
                           "workingDir", json(R"("/")")),
                      "mounts", json("[]"));
  create = with(with(create, "noNewPrivileges", Value::boolean(false)), "user", json(R"({"id":"0","name":"root"})"));
  // Capability dropping is ignored before 0.2.2: extra capabilities are refused, not dropped.
  Value wide = with(json(unpriv_caps_json()), "ambient", json(R"(["CAP_SYS_ADMIN"])"));
  EXPECT_DENIED(e->enforce("create_container", with(create, "capabilities", wide)), "capabilities don't match");
  Decision d = e->enforce("create_container", create);
  ASSERT_TRUE(d.allowed) << ::testing::PrintToString(d.reasons);
  EXPECT_ALLOWED(
      e->enforce("signal_container_process",
                 json(R"({"containerID":")" + kApp + R"(","signal":9,"isInitProcess":true,"argList":["/old"]})")));
  EXPECT_DENIED(
      e->enforce("signal_container_process",
                 json(R"({"containerID":")" + kApp + R"(","signal":1,"isInitProcess":true,"argList":["/old"]})")),
      "target isn't allowed to receive the signal");
}

// ---------------------------------------------------------------- state

TEST(State, DeniedCallsChangeNothing) {
  auto e = bound_enforcer(fixture_policy());
  uint64_t v = e->state_version();
  Value before = e->state();
  EXPECT_FALSE(e->enforce("mount_device", mount_device(scsi(1), std::string(64, 'f'))).allowed);
  EXPECT_EQ(e->state_version(), v);
  EXPECT_EQ(e->state(), before);
}

TEST(State, RollbackUndoesTheNewestCallsFirst) {
  auto e = bound_enforcer(fixture_policy());
  Decision d1 = e->enforce("mount_device", mount_device(scsi(1), kL1));
  Decision d2 = e->enforce("mount_device", mount_device(scsi(2), kL2));
  ASSERT_TRUE(d1.allowed && d2.allowed);
  std::string error;
  // d1 is not the newest change.
  EXPECT_FALSE(e->rollback(d1, error));
  EXPECT_NE(error.find("roll back newer calls first"), std::string::npos);
  EXPECT_TRUE(e->rollback(d2, error)) << error;
  EXPECT_FALSE(e->state().get("devices")->get(scsi(2)));
  EXPECT_TRUE(e->state().get("devices")->get(scsi(1)));
  // Twice is an error, not a second undo.
  EXPECT_FALSE(e->rollback(d2, error));
  EXPECT_TRUE(e->rollback(d1, error)) << error;
  EXPECT_EQ(e->state(), json(R"({"operatingsystem": {"ostype": "linux"}})"));
  // The mount can happen again after its rollback.
  EXPECT_ALLOWED(e->enforce("mount_device", mount_device(scsi(1), kL1)));
  // A decision from before the rollback no longer matches.
  EXPECT_FALSE(e->rollback(d1, error));
}

TEST(State, RollbackOfACallThatChangedNothing) {
  auto e = bound_enforcer(fixture_policy());
  Decision d = e->enforce("get_properties", Value::empty_object());
  ASSERT_TRUE(d.allowed);
  std::string error;
  EXPECT_TRUE(e->rollback(d, error));
}

TEST(State, StdioDecisionIsRolledBackWithTheCreate) {
  auto e = bound_enforcer(fixture_policy());
  ASSERT_TRUE(e->enforce("mount_device", mount_device(scsi(1), kL1)).allowed);
  ASSERT_TRUE(e->enforce("mount_device", mount_device(scsi(2), kL2)).allowed);
  ASSERT_TRUE(e->enforce("mount_overlay", mount_overlay(kApp, {scsi(2), scsi(1)})).allowed);
  Decision create = e->enforce("create_container", create_app());
  ASSERT_TRUE(create.allowed);
  std::string error;
  ASSERT_TRUE(e->rollback(create, error));
  EXPECT_DENIED(e->enforce("exec_in_container", exec_app()), "container not started");
  EXPECT_ALLOWED(e->enforce("create_container", create_app()));
}

TEST(State, ConcurrentCallsAreSerialised) {
  auto e = bound_enforcer(fixture_policy());
  std::vector<std::thread> threads;
  std::atomic<int> allowed{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 25; ++i) allowed += e->enforce("mount_device", mount_device(scsi(t * 100 + i), kL1)).allowed;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(allowed.load(), 100);
  EXPECT_EQ(e->state().get("devices")->size(), 100u);
}

}  // namespace
}  // namespace confidant::policy::testing
