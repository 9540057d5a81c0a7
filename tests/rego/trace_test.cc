// Instrumentation for policy authors (EvalTrace): per-rule profiles, failed expressions
// with their source, and trace() notes. The decisions must not change when it is on.
#include <gtest/gtest.h>

#include <algorithm>

#include "rego/rego.h"

using namespace confidant::rego;

namespace {

constexpr const char* kPolicy = R"(package x

import rego.v1

allow if {
  input.user == "admin"
}

allow if {
  trace("checking roles")
  some r in input.roles
  r == "root"
}

f(a) := a * 2

double := f(input.n)

both := [double, f(1)]
)";

struct Traced {
  QueryResult result;
  Errors errors;
  bool ok = false;
};

Traced run(const std::string& query, const std::string& input, EvalTrace trace) {
  Traced t;
  Engine eng;
  EXPECT_TRUE(eng.add_module("p.rego", kPolicy, t.errors));
  auto p = eng.compile(t.errors);
  EXPECT_TRUE(p);
  auto q = Query::prepare(p, query, t.errors);
  EXPECT_TRUE(q);
  EvalOptions o;
  std::string err;
  EXPECT_TRUE(parse_json(input, o.input, err)) << err;
  o.trace = trace;
  t.ok = q->eval(o, t.result, t.errors);
  return t;
}

const RuleProfile* find(const QueryResult& r, const std::string& rule, uint32_t row) {
  auto it = std::find_if(r.profile.begin(), r.profile.end(),
                         [&](const RuleProfile& p) { return p.rule == rule && p.row == row; });
  return it == r.profile.end() ? nullptr : &*it;
}

TEST(Trace, OffByDefault) {
  auto t = run("data.x.allow", R"({"user": "bob", "roles": ["a"]})", {});
  ASSERT_TRUE(t.ok);
  EXPECT_FALSE(t.result.defined());
  EXPECT_TRUE(t.result.profile.empty());
  EXPECT_TRUE(t.result.trace.empty());
}

TEST(Trace, ProfileCountsEachDefinition) {
  auto t = run("data.x.both", R"({"n": 3})", {.profile = true});
  ASSERT_TRUE(t.ok);
  ASSERT_TRUE(t.result.defined());
  EXPECT_EQ(to_json(t.result.rows[0].expressions[0]), "[6,2]");
  const RuleProfile* f = find(t.result, "data.x.f", 15);
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->num_eval, 2u);  // once for double, once for both
  EXPECT_EQ(f->num_success, 2u);
  const RuleProfile* both = find(t.result, "data.x.both", 19);
  ASSERT_NE(both, nullptr);
  EXPECT_EQ(both->num_eval, 1u);
  EXPECT_GE(both->total_ns, both->self_ns);
  // Sorted by self time, largest first.
  for (size_t i = 1; i < t.result.profile.size(); ++i)
    EXPECT_GE(t.result.profile[i - 1].self_ns, t.result.profile[i].self_ns);
}

TEST(Trace, ProfileOfUnsuccessfulDefinitions) {
  auto t = run("data.x.allow", R"({"user": "bob", "roles": ["a", "b"]})", {.profile = true});
  ASSERT_TRUE(t.ok);
  const RuleProfile* first = find(t.result, "data.x.allow", 5);
  const RuleProfile* second = find(t.result, "data.x.allow", 9);
  ASSERT_NE(first, nullptr);
  ASSERT_NE(second, nullptr);
  EXPECT_EQ(first->num_eval, 1u);
  EXPECT_EQ(first->num_success, 0u);
  EXPECT_EQ(second->num_success, 0u);
  EXPECT_EQ(first->file, "p.rego");
}

TEST(Trace, FailsNameTheExpressionAndRule) {
  auto t = run("data.x.allow", R"({"user": "bob", "roles": ["a", "b"]})", {.fails = true});
  ASSERT_TRUE(t.ok);
  EXPECT_FALSE(t.result.defined());
  std::vector<std::string> lines;
  for (const auto& l : t.result.trace) {
    EXPECT_EQ(l.kind, TraceLine::Kind::kFail);
    lines.push_back(l.rule + " " + std::to_string(l.row) + " " + l.text);
  }
  EXPECT_EQ(lines, (std::vector<std::string>{
                       "data.x.allow 6 input.user == \"admin\"",
                       "data.x.allow 12 r == \"root\"",  // once per role
                       "data.x.allow 12 r == \"root\"",
                       " 1 data.x.allow",  // the query itself
                   }));
  EXPECT_EQ(t.result.trace[0].depth, 1u);
  EXPECT_EQ(t.result.trace[0].file, "p.rego");
}

TEST(Trace, FailsDoNotChangeTheDecision) {
  auto t = run("data.x.allow", R"({"user": "bob", "roles": ["a", "root"]})", {.fails = true});
  ASSERT_TRUE(t.ok);
  ASSERT_TRUE(t.result.defined());
  EXPECT_TRUE(t.result.rows[0].expressions[0].is_true());
  ASSERT_EQ(t.result.trace.size(), 2u);  // admin check, and the role "a"
}

TEST(Trace, NotesFromTraceCalls) {
  auto t = run("data.x.allow", R"({"user": "bob", "roles": []})", {.notes = true});
  ASSERT_TRUE(t.ok);
  ASSERT_EQ(t.result.trace.size(), 1u);
  EXPECT_EQ(t.result.trace[0].kind, TraceLine::Kind::kNote);
  EXPECT_EQ(t.result.trace[0].text, "checking roles");
  EXPECT_EQ(t.result.trace[0].row, 10u);
  EXPECT_EQ(t.result.trace[0].rule, "data.x.allow");
}

TEST(Trace, TraceIsTrueAndChecksItsArgument) {
  Engine eng;
  Errors errs;
  ASSERT_TRUE(eng.add_module("t.rego", "package t\nimport rego.v1\np if trace(\"x\")\nq if trace(input.n)\n", errs));
  auto p = eng.compile(errs);
  ASSERT_TRUE(p);
  auto qp = Query::prepare(p, "data.t.p", errs);
  Value v;
  EvalOptions o;
  ASSERT_TRUE(qp->eval_value(o, v, errs));
  EXPECT_TRUE(v.is_true());
  auto qq = Query::prepare(p, "data.t.q", errs);
  std::string err;
  ASSERT_TRUE(parse_json(R"({"n": 1})", o.input, err));
  ASSERT_TRUE(qq->eval_value(o, v, errs));
  EXPECT_TRUE(v.is_undefined());  // a number is not a note
  o.strict_builtin_errors = true;
  EXPECT_FALSE(qq->eval_value(o, v, errs));
  ASSERT_FALSE(errs.empty());
  EXPECT_NE(errs.back().message.find("trace: operand 1 must be string"), std::string::npos) << errs.back().message;
}

}  // namespace
