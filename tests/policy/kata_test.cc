// The Kata dialect: the corpus replayed through the Enforcer, and the agent's
// behaviours around a query (state patches, SetPolicy, failing-policy mode,
// prints in denials).
#include "test_support.h"

namespace confidant::policy::testing {
namespace {

namespace fs = std::filesystem;
using rego::Value;

std::vector<std::string> corpus_names() {
  std::vector<std::string> out;
  // A missing fixture checkout becomes one failing case rather than an abort at start-up.
  if (!fs::is_directory(shared_dir() / "corpus" / "kata")) return {"fixtures_missing"};
  for (const auto& e : fs::directory_iterator(shared_dir() / "corpus" / "kata"))
    if (fs::exists(e.path() / "trace.jsonl")) out.push_back(e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

// Recorded print lines name the policy by the recording's path: compare from the file name on.
std::string from_file_name(const std::string& line) {
  size_t ext = line.find(".rego:");
  size_t slash = ext == std::string::npos ? std::string::npos : line.rfind('/', ext);
  return slash == std::string::npos ? line : line.substr(slash + 1);
}

class KataCorpus : public ::testing::TestWithParam<std::string> {};

// Two enforcers take the same requests: one gathering print lines for every request (all
// must match the recording), and one in the agent's mode, which evaluates allowed requests
// without prints (stopping at each rule's first value) and denied ones again with them.
TEST_P(KataCorpus, ReplaysThroughTheEnforcer) {
  fs::path dir = shared_dir() / "corpus" / "kata" / GetParam();
  EnforcerOptions always;
  always.kata_prints_always = true;
  auto e = bound_enforcer(read_file(dir / "policy.rego"), always);
  auto agent = bound_enforcer(read_file(dir / "policy.rego"));
  ASSERT_EQ(e->dialect(), Dialect::kKata);
  auto lines = read_jsonl(dir / "trace.jsonl");
  ASSERT_FALSE(lines.empty());
  for (size_t i = 0; i < lines.size(); ++i) {
    const Value& l = lines[i];
    std::string ep = l.get("ep")->str();
    SCOPED_TRACE(GetParam() + " line " + std::to_string(i + 1) + " " + ep);
    Decision d = e->enforce(ep, *l.get("input"));
    EXPECT_EQ(d.allowed, l.get("want")->as_bool()) << ::testing::PrintToString(d.reasons);
    std::vector<std::string> want;
    for (const Value& p : l.get("prints")->array_items()) want.push_back(from_file_name(p.str()));
    std::vector<std::string> got;
    for (const auto& p : d.prints) got.push_back(from_file_name(p));
    EXPECT_EQ(got, want);
    if (!d.allowed) EXPECT_TRUE(d.message.starts_with(ep + " is blocked by policy: ")) << d.message;

    Decision a = agent->enforce(ep, *l.get("input"));
    EXPECT_EQ(a.allowed, d.allowed);
    EXPECT_EQ(a.message, d.message);
    if (a.allowed) {
      EXPECT_TRUE(a.prints.empty());
    } else {
      got.clear();
      for (const auto& p : a.prints) got.push_back(from_file_name(p));
      EXPECT_EQ(got, want);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Corpus, KataCorpus, ::testing::ValuesIn(corpus_names()), [](const auto& info) {
  std::string n = info.param;
  std::replace_if(
      n.begin(), n.end(), [](char c) { return !std::isalnum(c); }, '_');
  return n;
});

// A policy in the upstream style: rules return {allowed, ops} and keep the
// containers they allowed in data.pstate.
const char* kStateful = R"(package agent_policy

import future.keywords.if

default CreateContainerRequest := {"allowed": false}

CreateContainerRequest := {"allowed": true, "ops": [null, op]} if {
	not data.pstate[input.container_id]
	op := {"op": "add", "path": concat("/", ["", "pstate", input.container_id]), "value": input.index}
}

default ExecProcessRequest := false

ExecProcessRequest if {
	print("exec in", input.container_id, "state", data.pstate)
	data.pstate[input.container_id]
}

RemoveContainerRequest := {"allowed": true, "ops": [{"op": "remove", "path": concat("/", ["", "pstate", input.container_id])}]}

Corrupt := {"allowed": true, "ops": [{"op": "add", "path": "/agent_policy", "value": {"ExecProcessRequest": true}}]}

BadPatch := {"allowed": true, "ops": [{"op": "remove", "path": "/pstate/nothing/here"}]}

Weird := 42

default SetPolicyRequest := false
)";

Value req(const std::string& id, int index = 0) {
  return json(R"({"container_id":")" + id + R"(","index":)" + std::to_string(index) + "}");
}

TEST(KataState, OpsUpdateTheStateOfLaterRequests) {
  auto e = bound_enforcer(kStateful);
  Decision d = e->enforce("ExecProcessRequest", req("c1"));
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.message, R"(ExecProcessRequest is blocked by policy: policy.rego:15: exec in c1 state {})");
  Decision create = e->enforce("CreateContainerRequest", req("c1", 3));
  ASSERT_TRUE(create.allowed) << ::testing::PrintToString(create.reasons);
  EXPECT_EQ(rego::to_json(e->state()), R"({"pstate":{"c1":3}})");
  EXPECT_TRUE(e->enforce("ExecProcessRequest", req("c1")).allowed);
  // Undefined in the policy's own terms (the key exists): the rule denies.
  EXPECT_FALSE(e->enforce("CreateContainerRequest", req("c1", 4)).allowed);
  EXPECT_EQ(rego::to_json(e->state()), R"({"pstate":{"c1":3}})");
  EXPECT_TRUE(e->enforce("RemoveContainerRequest", req("c1")).allowed);
  EXPECT_FALSE(e->enforce("ExecProcessRequest", req("c1")).allowed);
  // Rollback of the removal brings the container back.
  Decision again = e->enforce("CreateContainerRequest", req("c2", 1));
  std::string error;
  ASSERT_TRUE(e->rollback(again, error)) << error;
  EXPECT_FALSE(e->enforce("ExecProcessRequest", req("c2")).allowed);
}

TEST(KataState, BadResultsAndPatchesDeny) {
  auto e = bound_enforcer(kStateful);
  EXPECT_DENIED(e->enforce("Corrupt", Value::empty_object()), "state operations may not create data.agent_policy");
  Decision d = e->enforce("BadPatch", Value::empty_object());
  EXPECT_FALSE(d.allowed);
  ASSERT_EQ(d.reasons.size(), 1u);
  EXPECT_NE(d.reasons[0].find("cannot apply the policy's state operations"), std::string::npos);
  EXPECT_DENIED(e->enforce("Weird", Value::empty_object()),
                "the policy's Weird is neither a boolean nor {allowed, ops}");
  EXPECT_DENIED(e->enforce("NoSuchRequest", Value::empty_object()), "the policy does not decide NoSuchRequest");
  EXPECT_DENIED(e->enforce("data.x; true", Value::empty_object()), "invalid request name");
  EXPECT_EQ(rego::to_json(e->state()), R"({"pstate":{}})");
}

TEST(KataSetPolicy, OnlyWhenTheCurrentPolicyAllowsIt) {
  auto e = bound_enforcer(kStateful);
  std::string next = "package agent_policy\n\ndefault ExecProcessRequest := true\n";
  Decision d = e->enforce("SetPolicyRequest", json(R"({"policy":"x"})"));
  EXPECT_FALSE(d.allowed);
  std::string error;
  EXPECT_FALSE(e->load(next, error));  // not behind the policy's back either
}

TEST(KataSetPolicy, ReplacesThePolicyBoundToHostData) {
  const std::string shipped = "package agent_policy\n\nSetPolicyRequest := true\n";
  std::string next = std::string(kStateful) + "\nExecProcessRequest if input.container_id == \"any\"\n";
  // HOST_DATA binds the policy the host will send; the agent's own default policy is loaded without the check.
  Enforcer e(std::make_shared<FixedTee>(sha256(next)));
  std::string error;
  LoadOptions shipped_options;
  shipped_options.verify_host_data = false;
  ASSERT_TRUE(e.load(shipped, error, shipped_options)) << error;

  std::string other = next + "\n# tampered\n";
  Value bad;
  {
    rego::ObjectItems items = {{Value::string("policy"), Value::string(other)}};
    bad = Value::object(items);
  }
  Decision refused = e.enforce("SetPolicyRequest", bad);
  EXPECT_FALSE(refused.allowed);
  ASSERT_EQ(refused.reasons.size(), 1u);
  EXPECT_NE(refused.reasons[0].find(policy_digest_hex(other)), std::string::npos) << refused.reasons[0];
  EXPECT_NE(refused.reasons[0].find(policy_digest_hex(next)), std::string::npos) << refused.reasons[0];
  // Still the shipped policy.
  EXPECT_FALSE(e.enforce("ExecProcessRequest", req("any")).allowed);

  Decision set = e.enforce("SetPolicyRequest", Value::object({{Value::string("policy"), Value::string(next)}}));
  ASSERT_TRUE(set.allowed) << ::testing::PrintToString(set.reasons);
  EXPECT_TRUE(e.enforce("ExecProcessRequest", req("any")).allowed);
  // The new policy denies SetPolicy: no further replacement.
  EXPECT_FALSE(e.enforce("SetPolicyRequest", Value::object({{Value::string("policy"), Value::string(next)}})).allowed);
}

TEST(KataFailingPolicy, DenialsBecomeWarnings) {
  std::string policy =
      "package agent_policy\n\nAllowRequestsFailingPolicy := true\n\ndefault CopyFileRequest := false\n";
  auto e = bound_enforcer(policy);
  Decision d = e->enforce("CopyFileRequest", json(R"({"path":"/etc/shadow"})"));
  EXPECT_TRUE(d.allowed);
  ASSERT_EQ(d.reasons.size(), 1u);
  EXPECT_NE(d.reasons[0].find("AllowRequestsFailingPolicy"), std::string::npos);
  // Even requests the policy does not know.
  EXPECT_TRUE(e->enforce("GuestDetailsRequest", Value::empty_object()).allowed);
}

}  // namespace
}  // namespace confidant::policy::testing
