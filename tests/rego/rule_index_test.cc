// Rule indexing (src/rego/rule_index.cc): bodies whose leading `input.<path> == <constant>`
// tests fail are not entered (QueryResult::bodies_skipped), and results, print output and
// errors are exactly those of evaluating every body.
#include <gtest/gtest.h>

#include <string>

#include "rego/rego.h"

using namespace confidant::rego;

namespace {

struct Run {
  Value value;
  std::vector<std::string> prints;
  QueryResult result;
  uint64_t skipped = 0;  // rule bodies not entered
};

Run run(const std::string& module, const std::string& query, const std::string& input) {
  Run out;
  Engine eng;
  Errors errs;
  EXPECT_TRUE(eng.add_module("p.rego", module, errs)) << (errs.empty() ? "" : errs[0].message);
  auto p = eng.compile(errs);
  EXPECT_TRUE(p) << (errs.empty() ? "" : errs[0].message);
  if (!p) return out;
  auto q = Query::prepare(p, query, errs);
  EXPECT_TRUE(q);
  EvalOptions o;
  std::string err;
  EXPECT_TRUE(parse_json(input, o.input, err)) << err;
  o.print = [&](const std::string& l) { out.prints.push_back(l); };
  EXPECT_TRUE(q->eval(o, out.result, errs)) << (errs.empty() ? "" : errs[0].message);
  if (out.result.defined()) out.value = out.result.rows[0].expressions[0];
  out.skipped = out.result.bodies_skipped;
  return out;
}

std::string many_rules(int n) {
  std::string m = "package x\nimport rego.v1\n";
  for (int i = 0; i < n; ++i)
    m += "allow if {\n  input.container == \"c" + std::to_string(i) + "\"\n  input.user != \"nobody\"\n}\n";
  return m;
}

TEST(RuleIndex, OnlyTheMatchingBodyIsEntered) {
  std::string m = many_rules(500);
  auto hit = run(m, "data.x.allow", R"({"container": "c250", "user": "a"})");
  EXPECT_TRUE(hit.value.is_true());
  EXPECT_EQ(hit.skipped, 499u);
  auto miss = run(m, "data.x.allow", R"({"container": "c999", "user": "a"})");
  EXPECT_FALSE(miss.result.defined());
  EXPECT_EQ(miss.skipped, 500u);
  auto absent = run(m, "data.x.allow", R"({"user": "a"})");
  EXPECT_FALSE(absent.result.defined());
  EXPECT_EQ(absent.skipped, 500u);
  auto second_test_fails = run(m, "data.x.allow", R"({"container": "c3", "user": "nobody"})");
  EXPECT_FALSE(second_test_fails.result.defined());
  EXPECT_EQ(second_test_fails.skipped, 499u);
}

TEST(RuleIndex, ATestAfterAPrintIsNotUsed) {
  const char* m = R"(package x
import rego.v1
p if {
  print("trying a")
  input.k == "a"
}
p if {
  print("trying b")
  input.k == "b"
}
)";
  auto r = run(m, "data.x.p", R"({"k": "b"})");
  EXPECT_TRUE(r.value.is_true());
  EXPECT_EQ(r.prints, (std::vector<std::string>{"p.rego:4: trying a", "p.rego:8: trying b"}));
  EXPECT_EQ(r.skipped, 0u);
}

TEST(RuleIndex, EveryRuleKind) {
  const char* m = R"(package x
import rego.v1
f(v) := v + 1 if input.mode == "inc"
f(v) := v - 1 if input.mode == "dec"
s contains "a" if input.mode == "inc"
s contains "b" if input.mode == "dec"
o[k] := 1 if { input.mode == "inc"; k := "up" }
o[k] := 2 if { input.mode == "dec"; k := "down" }
e := 1 if input.mode == "inc"
else := 2
e := 3 if input.mode == "other"
first if input.list[0] == "x"
first if input.list[1] == "x"
num if input.n == 1
num if input.n == 2
)";
  auto inc = run(m, "[data.x.f(10), data.x.s, data.x.o, data.x.e, data.x.first, data.x.num]",
                 R"({"mode": "inc", "list": ["x"], "n": 1.0})");
  EXPECT_EQ(to_json(inc.value), R"([11,["a"],{"up":1},1,true,true])");
  auto dec = run(m, "[data.x.f(10), data.x.s, data.x.o, data.x.e]", R"({"mode": "dec"})");
  // The else chain is not indexed: its else clause answers when the test fails.
  EXPECT_EQ(to_json(dec.value), R"([9,["b"],{"down":2},2])");
}

TEST(RuleIndex, WithInputReplacesTheIndexedDocument) {
  std::string m = many_rules(10) + "via_with if { allow with input as {\"container\": \"c7\", \"user\": \"u\"} }\n";
  auto r = run(m, "data.x.via_with", R"({"container": "c1", "user": "u"})");
  EXPECT_TRUE(r.value.is_true());
}

TEST(RuleIndex, ConflictsAreStillFound) {
  const char* m = R"(package x
import rego.v1
v := 1 if input.k == "a"
v := 2 if input.k == "a"
v := 3 if input.k == "b"
)";
  Engine eng;
  Errors errs;
  ASSERT_TRUE(eng.add_module("p.rego", m, errs));
  auto p = eng.compile(errs);
  ASSERT_TRUE(p);
  auto q = Query::prepare(p, "data.x.v", errs);
  EvalOptions o;
  std::string err;
  ASSERT_TRUE(parse_json(R"({"k": "a"})", o.input, err));
  QueryResult res;
  EXPECT_FALSE(q->eval(o, res, errs));
  ASSERT_FALSE(errs.empty());
  EXPECT_EQ(errs.back().code, "eval_conflict_error");
}

}  // namespace

namespace {

TEST(RuleIndex, AProfileAccountsForEveryDefinition) {
  Engine eng;
  Errors errs;
  ASSERT_TRUE(eng.add_module("p.rego", many_rules(20), errs));
  auto p = eng.compile(errs);
  ASSERT_TRUE(p);
  auto q = Query::prepare(p, "data.x.allow", errs);
  EvalOptions o;
  std::string err;
  ASSERT_TRUE(parse_json(R"({"container": "c5", "user": "u"})", o.input, err));
  o.trace.profile = true;
  QueryResult res;
  ASSERT_TRUE(q->eval(o, res, errs));
  EXPECT_TRUE(res.defined());
  EXPECT_EQ(res.bodies_skipped, 0u);
  uint64_t evals = 0;
  for (const auto& r : res.profile) evals += r.num_eval;
  EXPECT_EQ(evals, 20u);
}

}  // namespace
