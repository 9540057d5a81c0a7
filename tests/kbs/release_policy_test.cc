#include "kbs/release_policy.h"

#include <gtest/gtest.h>

namespace confidant::kbs {
namespace {

using json = nlohmann::json;

constexpr const char* kMaa = "https://sharedeus.eus.attest.azure.net";

json Claims() {
  return json{{"iss", kMaa},
              {"x-ms-attestation-type", "sevsnpvm"},
              {"x-ms-compliance-status", "azure-compliant-uvm"},
              {"x-ms-sevsnpvm-hostdata", "cadd74f71ebb8fbf9782baab649612520f3c416bc5ce9ac768808ddc8d9b031c"},
              {"x-ms-sevsnpvm-is-debuggable", false},
              {"x-ms-sevsnpvm-vmpl", 0},
              {"x-ms-sevsnpvm-guestsvn", 2},
              {"x-ms-sevsnpvm-ratio", 0.5},
              {"x-ms-runtime", {{"keys", json::array({{{"kid", "rt"}, {"kty", "RSA"}}})}, {"client", {{"n", 7}}}}}};
}

// One-condition policy under kMaa.
ReleasePolicy One(const json& condition) {
  json p = {{"version", "1.0.0"}, {"anyOf", json::array({{{"authority", kMaa}, {"allOf", json::array({condition})}}})}};
  auto r = ParseReleasePolicyJson(p);
  EXPECT_TRUE(r.ok()) << r.error() << " " << p.dump();
  return r.ok() ? *r : ReleasePolicy{};
}

bool Allows(const json& condition, const json& claims = Claims()) {
  return EvaluateReleasePolicy(One(condition), claims, kMaa).allowed;
}

json Cond(const char* claim, const char* op, json value) { return json{{"claim", claim}, {op, std::move(value)}}; }

TEST(ReleasePolicyEval, EqualsPerType) {
  EXPECT_TRUE(Allows(Cond("x-ms-attestation-type", "equals", "sevsnpvm")));
  EXPECT_FALSE(Allows(Cond("x-ms-attestation-type", "equals", "SEVSNPVM")));  // case-sensitive
  EXPECT_TRUE(Allows(Cond("x-ms-sevsnpvm-vmpl", "equals", 0)));
  EXPECT_TRUE(Allows(Cond("x-ms-sevsnpvm-vmpl", "equals", 0.0)));  // numbers compare numerically
  EXPECT_FALSE(Allows(Cond("x-ms-sevsnpvm-vmpl", "equals", 1)));
  EXPECT_TRUE(Allows(Cond("x-ms-sevsnpvm-is-debuggable", "equals", false)));
  EXPECT_FALSE(Allows(Cond("x-ms-sevsnpvm-is-debuggable", "equals", true)));
  EXPECT_TRUE(Allows(Cond("x-ms-sevsnpvm-ratio", "equals", 0.5)));
}

TEST(ReleasePolicyEval, EqualsTypeMismatchNeverMatches) {
  EXPECT_FALSE(Allows(Cond("x-ms-sevsnpvm-vmpl", "equals", "0")));
  EXPECT_FALSE(Allows(Cond("x-ms-sevsnpvm-is-debuggable", "equals", "false")));
  EXPECT_FALSE(Allows(Cond("x-ms-sevsnpvm-is-debuggable", "equals", 0)));
  EXPECT_FALSE(Allows(Cond("x-ms-attestation-type", "equals", true)));
  EXPECT_FALSE(Allows(Cond("x-ms-runtime", "equals", "x")));       // object claim
  EXPECT_FALSE(Allows(Cond("x-ms-runtime.keys", "equals", "x")));  // array claim
}

TEST(ReleasePolicyEval, BooleanStringsOption) {
  ReleasePolicy p = One(Cond("x-ms-sevsnpvm-is-debuggable", "equals", "false"));
  EvalOptions compat;
  compat.boolean_strings = true;
  EXPECT_TRUE(EvaluateReleasePolicy(p, Claims(), kMaa, compat).allowed);
  EXPECT_FALSE(EvaluateReleasePolicy(p, Claims(), kMaa).allowed);
  ReleasePolicy t = One(Cond("x-ms-sevsnpvm-is-debuggable", "equals", "true"));
  EXPECT_FALSE(EvaluateReleasePolicy(t, Claims(), kMaa, compat).allowed);
  ReleasePolicy other = One(Cond("x-ms-sevsnpvm-is-debuggable", "equals", "False"));
  EXPECT_FALSE(EvaluateReleasePolicy(other, Claims(), kMaa, compat).allowed);
}

TEST(ReleasePolicyEval, NotEquals) {
  EXPECT_TRUE(Allows(Cond("x-ms-attestation-type", "notEquals", "tdxvm")));
  EXPECT_FALSE(Allows(Cond("x-ms-attestation-type", "notEquals", "sevsnpvm")));
  EXPECT_TRUE(Allows(Cond("x-ms-sevsnpvm-vmpl", "notEquals", 3)));
  EXPECT_FALSE(Allows(Cond("x-ms-sevsnpvm-vmpl", "notEquals", 0)));
  EXPECT_TRUE(Allows(Cond("x-ms-sevsnpvm-is-debuggable", "notEquals", true)));
  // Wrong type or absent claim: no match, even though the values differ.
  EXPECT_FALSE(Allows(Cond("x-ms-sevsnpvm-vmpl", "notEquals", "3")));
  EXPECT_FALSE(Allows(Cond("x-ms-sevsnpvm-is-debuggable", "notEquals", "true")));
  EXPECT_FALSE(Allows(Cond("absent-claim", "notEquals", "x")));
}

TEST(ReleasePolicyEval, OrderingOperators) {
  struct Case {
    const char* op;
    int value;
    bool expected;  // claim guestsvn = 2
  } cases[] = {
      {"less", 3, true},    {"less", 2, false},    {"lessOrEquals", 2, true},    {"lessOrEquals", 1, false},
      {"greater", 1, true}, {"greater", 2, false}, {"greaterOrEquals", 2, true}, {"greaterOrEquals", 3, false}};
  for (const auto& c : cases) {
    EXPECT_EQ(Allows(Cond("x-ms-sevsnpvm-guestsvn", c.op, c.value)), c.expected) << c.op << " " << c.value;
  }
  EXPECT_TRUE(Allows(Cond("x-ms-sevsnpvm-guestsvn", "greater", 1.5)));
  EXPECT_TRUE(Allows(Cond("x-ms-sevsnpvm-ratio", "less", 1)));
  EXPECT_TRUE(Allows(Cond("x-ms-sevsnpvm-guestsvn", "greater", -5)));
  EXPECT_FALSE(Allows(Cond("x-ms-sevsnpvm-guestsvn", "less", -5)));
  // Large unsigned values compare exactly.
  json claims = Claims();
  claims["big"] = json(uint64_t{18446744073709551615u});
  EXPECT_TRUE(Allows(Cond("big", "greater", int64_t{9223372036854775807}), claims));
  EXPECT_FALSE(Allows(Cond("big", "less", -1), claims));
  // Non-numeric claims never match an ordering operator.
  for (const char* op : {"less", "lessOrEquals", "greater", "greaterOrEquals"}) {
    EXPECT_FALSE(Allows(Cond("x-ms-attestation-type", op, 5))) << op;
    EXPECT_FALSE(Allows(Cond("x-ms-sevsnpvm-is-debuggable", op, 5))) << op;
    EXPECT_FALSE(Allows(Cond("x-ms-runtime", op, 5))) << op;
    EXPECT_FALSE(Allows(Cond("absent", op, 5))) << op;
  }
}

TEST(ReleasePolicyEval, Exists) {
  EXPECT_TRUE(Allows(Cond("x-ms-sevsnpvm-hostdata", "exists", true)));
  EXPECT_FALSE(Allows(Cond("absent", "exists", true)));
  EXPECT_TRUE(Allows(Cond("absent", "exists", false)));
  EXPECT_FALSE(Allows(Cond("x-ms-sevsnpvm-hostdata", "exists", false)));
  // A claim whose value is false or null still exists.
  EXPECT_TRUE(Allows(Cond("x-ms-sevsnpvm-is-debuggable", "exists", true)));
}

TEST(ReleasePolicyEval, DottedClaimPaths) {
  EXPECT_TRUE(Allows(Cond("x-ms-runtime.keys", "exists", true)));
  EXPECT_TRUE(Allows(Cond("x-ms-runtime.keys.0.kid", "equals", "rt")));
  EXPECT_FALSE(Allows(Cond("x-ms-runtime.keys.1.kid", "exists", true)));
  EXPECT_TRUE(Allows(Cond("x-ms-runtime.client.n", "greaterOrEquals", 7)));
  EXPECT_FALSE(Allows(Cond("x-ms-runtime.client.n.deeper", "exists", true)));
  EXPECT_FALSE(Allows(Cond("x-ms-runtime..client", "exists", true)));
  EXPECT_FALSE(Allows(Cond("x-ms-runtime.keys.x", "exists", true)));
  // A top-level claim whose name contains dots wins over the path.
  json claims = Claims();
  claims["a.b"] = "flat";
  claims["a"] = {{"b", "nested"}};
  EXPECT_TRUE(Allows(Cond("a.b", "equals", "flat"), claims));
}

TEST(ReleasePolicyEval, NestingSemantics) {
  json any = {
      {"anyOf", json::array({Cond("x-ms-sevsnpvm-vmpl", "equals", 1), Cond("x-ms-sevsnpvm-vmpl", "equals", 0)})}};
  json all_fail = {
      {"allOf", json::array({Cond("x-ms-sevsnpvm-vmpl", "equals", 0), Cond("x-ms-sevsnpvm-guestsvn", "equals", 9)})}};
  json all_ok = {
      {"allOf", json::array({Cond("x-ms-sevsnpvm-vmpl", "equals", 0), Cond("x-ms-sevsnpvm-guestsvn", "equals", 2)})}};
  EXPECT_TRUE(Allows(any));
  EXPECT_FALSE(Allows(all_fail));
  EXPECT_TRUE(Allows(all_ok));
  EXPECT_TRUE(Allows(json{{"anyOf", json::array({all_fail, all_ok})}}));
  EXPECT_FALSE(Allows(json{{"allOf", json::array({all_fail, any})}}));
  EXPECT_TRUE(Allows(json{{"allOf", json::array({any, json{{"anyOf", json::array({all_fail, all_ok})}}})}}));

  // Authority-level anyOf: one condition suffices.
  json p = {{"version", "1.0.0"},
            {"anyOf", json::array({{{"authority", kMaa},
                                    {"anyOf", json::array({Cond("x-ms-sevsnpvm-vmpl", "equals", 5),
                                                           Cond("x-ms-attestation-type", "equals", "sevsnpvm")})}}})}};
  EXPECT_TRUE(EvaluateReleasePolicy(*ParseReleasePolicyJson(p), Claims(), kMaa).allowed);
  p["anyOf"][0]["allOf"] = p["anyOf"][0]["anyOf"];
  p["anyOf"][0].erase("anyOf");
  auto d = EvaluateReleasePolicy(*ParseReleasePolicyJson(p), Claims(), kMaa);
  EXPECT_FALSE(d.allowed);
  EXPECT_NE(d.reason.find("x-ms-sevsnpvm-vmpl"), std::string::npos) << d.reason;
}

TEST(ReleasePolicyEval, AuthorityMatching) {
  json cond = json::array({Cond("x-ms-sevsnpvm-vmpl", "equals", 0)});
  json p = {{"version", "1.0.0"},
            {"anyOf", json::array({{{"authority", "https://other.attest.azure.net"}, {"allOf", cond}},
                                   {{"authority", "SharedEus.eus.attest.azure.net/"}, {"allOf", cond}}})}};
  auto policy = ParseReleasePolicyJson(p);
  ASSERT_TRUE(policy.ok()) << policy.error();
  EXPECT_TRUE(EvaluateReleasePolicy(*policy, Claims(), kMaa).allowed);
  EXPECT_TRUE(EvaluateReleasePolicy(*policy, Claims(), std::string(kMaa) + "/").allowed);
  auto d = EvaluateReleasePolicy(*policy, Claims(), "https://evil.example");
  EXPECT_FALSE(d.allowed);
  EXPECT_NE(d.reason.find("not an authority"), std::string::npos) << d.reason;
  // Conditions of another authority never apply to this token.
  json q = {{"version", "1.0.0"},
            {"anyOf", json::array({{{"authority", "https://other.attest.azure.net"}, {"allOf", cond}}})}};
  EXPECT_FALSE(EvaluateReleasePolicy(*ParseReleasePolicyJson(q), Claims(), kMaa).allowed);
  // Top-level allOf: every authority rule must hold, so two different authorities never both hold.
  p["allOf"] = p["anyOf"];
  p.erase("anyOf");
  EXPECT_FALSE(EvaluateReleasePolicy(*ParseReleasePolicyJson(p), Claims(), kMaa).allowed);
  EXPECT_EQ(NormalizeAuthority("HTTPS://Host.Example/Path/"), "https://host.example/Path");
  EXPECT_EQ(NormalizeAuthority("host"), "https://host");
}

TEST(ReleasePolicyEval, TypicalAciPolicy) {
  const char* text = R"({
    "version": "1.0.0",
    "anyOf": [{
      "authority": "https://sharedeus.eus.attest.azure.net/",
      "allOf": [
        {"claim": "x-ms-sevsnpvm-hostdata", "equals": "cadd74f71ebb8fbf9782baab649612520f3c416bc5ce9ac768808ddc8d9b031c"},
        {"claim": "x-ms-compliance-status", "equals": "azure-compliant-uvm"},
        {"claim": "x-ms-sevsnpvm-is-debuggable", "equals": false},
        {"claim": "x-ms-sevsnpvm-vmpl", "equals": 0},
        {"claim": "x-ms-attestation-type", "equals": "sevsnpvm"}
      ]
    }]
  })";
  auto p = ParseReleasePolicy(text);
  ASSERT_TRUE(p.ok()) << p.error();
  EXPECT_TRUE(EvaluateReleasePolicy(*p, Claims(), kMaa).allowed);
  json tampered = Claims();
  tampered["x-ms-sevsnpvm-hostdata"] = std::string(64, '0');
  auto d = EvaluateReleasePolicy(*p, tampered, kMaa);
  EXPECT_FALSE(d.allowed);
  EXPECT_NE(d.reason.find("x-ms-sevsnpvm-hostdata"), std::string::npos) << d.reason;
  // Round trip through JSON.
  auto again = ParseReleasePolicyJson(ReleasePolicyToJson(*p));
  ASSERT_TRUE(again.ok()) << again.error();
  EXPECT_EQ(ReleasePolicyToJson(*again), ReleasePolicyToJson(*p));
}

TEST(ReleasePolicyParse, ClearErrors) {
  struct Case {
    const char* text;
    const char* error_part;
  } cases[] = {
      {"[]", "not a JSON object"},
      {R"({"anyOf": []})", "no \"version\""},
      {R"({"version": "2.0", "anyOf": []})", "unsupported policy version"},
      {R"({"version": "1.0.0"})", "no \"anyOf\" or \"allOf\""},
      {R"({"version": "1.0.0", "anyOf": []})", "non-empty array"},
      {R"({"version": "1.0.0", "anyOf": [{"allOf": [{"claim": "a", "equals": 1}]}]})", "missing \"authority\""},
      {R"({"version": "1.0.0", "anyOf": [{"authority": "a"}]})", "missing \"anyOf\" or \"allOf\""},
      {R"({"version": "1.0.0", "anyOf": [{"authority": "a", "allOf": [{"claim": "a", "equal": 1}]}]})",
       "anyOf[0].allOf[0]: unknown operator or member \"equal\""},
      {R"({"version": "1.0.0", "anyOf": [{"authority": "a", "allOf": [{"claim": "a"}]}]})", "has no operator"},
      {R"({"version": "1.0.0", "anyOf": [{"authority": "a", "allOf": [{"equals": 1}]}]})", "has no \"claim\""},
      {R"({"version": "1.0.0", "anyOf": [{"authority": "a", "allOf": [{"claim": "a", "equals": 1, "notEquals": 2}]}]})",
       "more than one operator"},
      {R"({"version": "1.0.0", "anyOf": [{"authority": "a", "allOf": [{"claim": "a", "equals": [1]}]}]})",
       "string, number or boolean"},
      {R"({"version": "1.0.0", "anyOf": [{"authority": "a", "allOf": [{"claim": "a", "equals": null}]}]})",
       "string, number or boolean"},
      {R"({"version": "1.0.0", "anyOf": [{"authority": "a", "allOf": [{"claim": "a", "less": "5"}]}]})",
       "takes a number"},
      {R"({"version": "1.0.0", "anyOf": [{"authority": "a", "allOf": [{"claim": "a", "exists": "yes"}]}]})",
       "takes true or false"},
      {R"({"version": "1.0.0", "anyOf": [{"authority": "a", "allOf": [{"claim": 5, "equals": 1}]}]})",
       "non-empty string"},
      {R"({"version": "1.0.0", "anyOf": [{"authority": "a", "allOf": [{"anyOf": []}]}]})", "non-empty array"},
      {R"({"version": "1.0.0", "anyOf": [{"authority": "a", "allOf": [{"anyOf": [{"claim":"a","equals":1}], "claim": "b"}]}]})",
       "not both"},
      {R"({"version": "1.0.0", "anyOf": [{"authority": "a", "allOf": [{"authority": "b", "allOf": []}]}]})",
       "only allowed at the top level"},
      {R"({"version": "1.0.0", "anyOf": [{"authority": "a", "allOf": [1]}]})", "not an object"},
      {R"({"version": "1.0.0", "anyOf": [{"authority": "a", "anyOf": [], "allOf": []}]})", "both"},
      {R"({"version": "1.0.0", "anyOf": [{"authority": "a", "claim": "x", "equals": 1}]})", "must sit inside"},
      {R"({"version": "1.0.0", "anyOf": [], "extra": 1})", "unknown policy member"},
      {R"({"version": "1.0.0", "anyOf": [{"authority": "a", "allOf": [{"claim": "a", "equals": 1}]}])",
       "malformed JSON"},
  };
  for (const auto& c : cases) {
    auto r = ParseReleasePolicy(c.text);
    ASSERT_FALSE(r.ok()) << c.text;
    EXPECT_NE(r.error().find(c.error_part), std::string::npos) << c.text << " -> " << r.error();
  }
}

TEST(ReleasePolicyParse, LowercaseSelectorsAndOldVersion) {
  auto p = ParseReleasePolicy(
      R"({"version": "0.2", "anyof": [{"authority": "a", "allof": [{"anyof": [{"claim": "c", "equals": "v"}]}]}]})");
  ASSERT_TRUE(p.ok()) << p.error();
  EXPECT_TRUE(EvaluateReleasePolicy(*p, json{{"c", "v"}}, "https://a").allowed);
}

TEST(ReleasePolicyParse, Limits) {
  // Depth.
  json cond = Cond("a", "equals", 1);
  for (int i = 0; i < 20; ++i) cond = json{{"anyOf", json::array({cond})}};
  json p = {{"version", "1.0.0"}, {"anyOf", json::array({{{"authority", "a"}, {"allOf", json::array({cond})}}})}};
  auto r = ParseReleasePolicyJson(p);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().find("nesting deeper"), std::string::npos) << r.error();
  auto text = ParseReleasePolicy(p.dump());
  EXPECT_FALSE(text.ok());
  PolicyLimits deep;
  deep.max_depth = 30;
  EXPECT_TRUE(ParseReleasePolicyJson(p, deep).ok());
  // Condition count.
  json many = json::array();
  for (int i = 0; i < 40; ++i) many.push_back(Cond("a", "equals", i));
  json q = {{"version", "1.0.0"}, {"anyOf", json::array({{{"authority", "a"}, {"anyOf", many}}})}};
  PolicyLimits few;
  few.max_conditions = 39;
  EXPECT_FALSE(ParseReleasePolicyJson(q, few).ok());
  few.max_conditions = 40;
  EXPECT_TRUE(ParseReleasePolicyJson(q, few).ok());
  // Size.
  PolicyLimits small;
  small.max_bytes = 100;
  EXPECT_FALSE(ParseReleasePolicy(q.dump(), small).ok());
  // Hostile JSON never throws.
  EXPECT_FALSE(ParseReleasePolicy(std::string(100000, '[')).ok());
  EXPECT_FALSE(ParseReleasePolicy("\xff\xfe").ok());
}

}  // namespace
}  // namespace confidant::kbs
