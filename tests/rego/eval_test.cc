// End-to-end tests of the engine: parse -> compile -> evaluate.
#include <gtest/gtest.h>

#include "rego/rego.h"

using namespace confidant::rego;

namespace {

struct Run {
  bool ok = false;
  Value value;
  std::string error;  // code: message
  std::vector<std::string> prints;
};

Run eval(const std::string& module, const std::string& query, const std::string& input_json = "",
         bool v0 = false, bool strict = false) {
  Run r;
  Engine eng(EngineOptions{v0});
  Errors errs;
  if (!eng.add_module("test.rego", module, errs)) {
    r.error = errs[0].code + ": " + errs[0].message;
    return r;
  }
  auto p = eng.compile(errs);
  if (!p) {
    r.error = errs[0].code + ": " + errs[0].message;
    return r;
  }
  auto q = Query::prepare(p, query, errs);
  if (!q) {
    r.error = errs[0].code + ": " + errs[0].message;
    return r;
  }
  EvalOptions o;
  o.strict_builtin_errors = strict;
  o.print = [&](const std::string& s) { r.prints.push_back(s); };
  if (!input_json.empty()) {
    std::string err;
    EXPECT_TRUE(parse_json(input_json, o.input, err)) << err;
  }
  if (!q->eval_value(o, r.value, errs)) {
    r.error = errs[0].code + ": " + errs[0].message;
    return r;
  }
  r.ok = true;
  return r;
}

std::string J(const Run& r) { return r.ok ? (r.value.is_defined() ? to_json(r.value) : "undefined") : r.error; }

}  // namespace

TEST(Eval, CompleteRulesAndDefaults) {
  const char* m = R"(package t
default allow := false
allow if input.user == "admin"
x := 1 + 2 * 3
)";
  EXPECT_EQ(J(eval(m, "data.t.allow", R"({"user":"admin"})")), "true");
  EXPECT_EQ(J(eval(m, "data.t.allow", R"({"user":"bob"})")), "false");
  EXPECT_EQ(J(eval(m, "data.t.x")), "7");
}

TEST(Eval, PartialSetsAndObjects) {
  const char* m = R"(package t
s contains x if { some x in input.xs; x > 1 }
o[k] := v if { some k, v in input.m; v != 0 }
)";
  EXPECT_EQ(J(eval(m, "data.t.s", R"({"xs":[1,2,3,2]})")), "[2,3]");
  EXPECT_EQ(J(eval(m, "data.t.o", R"({"m":{"a":1,"b":0}})")), R"({"a":1})");
  EXPECT_EQ(J(eval(m, "data.t.o.a", R"({"m":{"a":1,"b":0}})")), "1");
}

TEST(Eval, V0PartialSetAndFunctions) {
  const char* m = R"(package t
import future.keywords.in
p[x] { x := input.xs[_]; x > 1 }
f(x) = y { y := x * 2 }
f(x) = y { x == 100; y := 200 }
g(x) { x > 1 }
q { f(2) == 4; g(5) }
)";
  EXPECT_EQ(J(eval(m, "data.t.p", R"({"xs":[1,2,3]})", true)), "[2,3]");
  EXPECT_EQ(J(eval(m, "data.t.q", "", true)), "true");
}

TEST(Eval, FunctionConflictIsAnError) {
  const char* m = R"(package t
f(x) := 1 if x > 0
f(x) := 2 if x > 1
p := f(5)
)";
  EXPECT_EQ(J(eval(m, "data.t.p")),
            "eval_conflict_error: function data.t.f produced conflicting values for the same inputs (functions must "
            "not produce multiple outputs for same inputs)");
}

TEST(Eval, CompleteConflictIsAnError) {
  const char* m = R"(package t
p := 1 if true
p := 2 if true
)";
  EXPECT_EQ(J(eval(m, "data.t.p")),
            "eval_conflict_error: rule data.t.p produced conflicting values (complete rules must not produce multiple "
            "outputs)");
}

TEST(Eval, ElseChains) {
  const char* m = R"(package t
p := "a" if input.x == 1
else := "b" if input.x == 2
else := "c"
)";
  EXPECT_EQ(J(eval(m, "data.t.p", R"({"x":1})")), R"("a")");
  EXPECT_EQ(J(eval(m, "data.t.p", R"({"x":2})")), R"("b")");
  EXPECT_EQ(J(eval(m, "data.t.p", R"({"x":3})")), R"("c")");
}

TEST(Eval, NegationEveryComprehensions) {
  const char* m = R"(package t
all_pos if every x in input.xs { x > 0 }
none_neg if not any_neg
any_neg if { some x in input.xs; x < 0 }
sq := [y | some x in input.xs; y := x * x]
st := {y | some x in input.xs; y := x % 2}
ob := {k: count(k) | some k in ["a", "bb"]}
)";
  EXPECT_EQ(J(eval(m, "data.t.all_pos", R"({"xs":[1,2]})")), "true");
  EXPECT_EQ(J(eval(m, "data.t.all_pos", R"({"xs":[1,-2]})")), "undefined");
  EXPECT_EQ(J(eval(m, "data.t.none_neg", R"({"xs":[1,2]})")), "true");
  EXPECT_EQ(J(eval(m, "data.t.sq", R"({"xs":[1,2,3]})")), "[1,4,9]");
  EXPECT_EQ(J(eval(m, "data.t.st", R"({"xs":[1,2,3]})")), "[0,1]");
  EXPECT_EQ(J(eval(m, "data.t.ob")), R"({"a":1,"bb":2})");
}

TEST(Eval, ReorderingForSafety) {
  // `=` binds wherever it stands in the body; the comparison runs after it.
  const char* m = R"(package t
p if { x > 1; x = input.v }
)";
  EXPECT_EQ(J(eval(m, "data.t.p", R"({"v":2})")), "true");
  EXPECT_EQ(J(eval(m, "data.t.p", R"({"v":0})")), "undefined");
}

TEST(Eval, UnsafeVariable) {
  const char* m = R"(package t
p if { x > 1 }
)";
  EXPECT_EQ(J(eval(m, "data.t.p")), "rego_unsafe_var_error: var x is unsafe");
}

TEST(Eval, Recursion) {
  const char* m = R"(package t
p if q
q if p
)";
  auto r = eval(m, "data.t.p");
  EXPECT_NE(r.error.find("rego_recursion_error"), std::string::npos) << r.error;
}

TEST(Eval, WithKeyword) {
  const char* m = R"(package t
p := input.x
q := y if { y := p with input.x as 7 }
d := data.t.base.v
r := y if { y := d with data.t.base.v as 3 }
f(x) := x + 1
g := y if { y := f(1) with f as 10 }
)";
  EXPECT_EQ(J(eval(m, "data.t.q")), "7");
  EXPECT_EQ(J(eval(m, "data.t.r")), "3");
  EXPECT_EQ(J(eval(m, "data.t.g")), "10");
}

TEST(Eval, PrintFormat) {
  const char* m = R"(package t
p if {
  print("hello", input.a, input.missing, {"k": [1, "s"]})
}
)";
  auto r = eval(m, "data.t.p", R"({"a":"x"})");
  ASSERT_TRUE(r.ok) << r.error;
  ASSERT_EQ(r.prints.size(), 1u);
  EXPECT_EQ(r.prints[0], R"(test.rego:3: hello x <undefined> {"k": [1, "s"]})");
}

// Several values print one line per combination (OPA's print); a value followed by an
// error in the same argument prints <undefined>, with no partial text.
TEST(Eval, PrintCombinationsAndErrors) {
  const char* m = R"(package t
f(x) := 1 if x == 1
f(x) := 2 if x == 1
p if {
  print("v", input.xs[_], input.ys[_])
  print("e", f(1))
  print("s", input.a, "end")
}
)";
  auto r = eval(m, "data.t.p", R"({"xs":[1,2],"ys":["a","b"],"a":"x"})");
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.prints, (std::vector<std::string>{"test.rego:5: v 1 a", "test.rego:5: v 1 b", "test.rego:5: v 2 a",
                                                 "test.rego:5: v 2 b", "test.rego:6: e <undefined>",
                                                 "test.rego:7: s x end"}));
}

// Each argument is evaluated once, also when a later one has several values: a function
// that prints, called in the first argument, prints once.
TEST(Eval, PrintEvaluatesArgumentsOnce) {
  const char* m = R"(package t
g(x) := y if {
  print("in g")
  y := x
}
p if print(g(1), input.xs[_])
)";
  auto r = eval(m, "data.t.p", R"({"xs":[1,2]})");
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.prints, (std::vector<std::string>{"test.rego:3: in g", "test.rego:6: 1 1", "test.rego:6: 1 2"}));
}

TEST(Eval, RefHeadsAndDataMerge) {
  const char* m = R"(package t
a.b.c := 1
a.b[k] := 2 if some k in ["x", "y"]
)";
  EXPECT_EQ(J(eval(m, "data.t.a")), R"({"b":{"c":1,"x":2,"y":2}})");
  EXPECT_EQ(J(eval(m, "data.t.a.b.x")), "2");
}

TEST(Eval, IterationOverVirtualDocs) {
  const char* m = R"(package t
s contains "a"
s contains "b"
n := count([x | data.t.s[x]])
)";
  EXPECT_EQ(J(eval(m, "data.t.n")), "2");
}

TEST(Eval, StepLimitStopsRunawayQuery) {
  const char* m = R"(package t
p := count([x | some a in numbers.range(1, 2000); some b in numbers.range(1, 2000); x := a * b])
)";
  Engine eng;
  Errors errs;
  ASSERT_TRUE(eng.add_module("t.rego", m, errs));
  auto p = eng.compile(errs);
  ASSERT_TRUE(p);
  auto q = Query::prepare(p, "data.t.p", errs);
  ASSERT_TRUE(q);
  EvalOptions o;
  o.limits.max_steps = 10000;
  QueryResult res;
  EXPECT_FALSE(q->eval(o, res, errs));
  ASSERT_FALSE(errs.empty());
  EXPECT_EQ(errs.back().code, "eval_cancel_error");
}

TEST(Eval, MemoryLimitStopsRunawayQuery) {
  const char* m = R"(package t
p := count([s | some i in numbers.range(1, 100000); s := sprintf("%d-%s", [i, "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"])])
)";
  Engine eng;
  Errors errs;
  ASSERT_TRUE(eng.add_module("t.rego", m, errs));
  auto p = eng.compile(errs);
  ASSERT_TRUE(p);
  auto q = Query::prepare(p, "data.t.p", errs);
  ASSERT_TRUE(q);
  EvalOptions o;
  o.limits.max_memory = 1 << 20;
  QueryResult res;
  EXPECT_FALSE(q->eval(o, res, errs));
  ASSERT_FALSE(errs.empty());
  EXPECT_EQ(errs.back().code, "eval_cancel_error");
  EXPECT_NE(errs.back().message.find("memory"), std::string::npos);
  // With the default limits the same query completes.
  Errors errs2;
  Value v;
  EXPECT_TRUE(q->eval_value(EvalOptions{}, v, errs2));
  EXPECT_EQ(v, Value::integer(100000));
}

TEST(Eval, DeepRecursionIsAnErrorNotACrash) {
  // Mutual recursion through a dynamic data ref escapes the static check; the
  // evaluator reports it instead of overflowing the stack.
  const char* m = R"(package t
p := data.t[input.k]
q := data.t[input.k]
)";
  auto r = eval(m, "data.t.p", R"({"k":"q"})");
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.error.find("recursive"), std::string::npos) << r.error;
}

// OPA's early exit: when every definition of a rule or function yields the same constant,
// the first value decides and later definitions (and further solutions of the same body)
// are not evaluated. Only when nothing observes it: with a print callback installed every
// definition runs, as in the reference engines whose print output the Kata corpus pins.
TEST(Eval, EarlyExitOnlyWithoutPrintOutput) {
  const char* m = R"(package t
c := 1 if true
c := 2 if true
f(x) if x == 1
f(x) if {
  x == 1
  print("second f")
  c
}
g(x) if {
  some y in [1, 2, 3]
  print("g", y)
  y >= x
}
allow if f(1)
allow if {
  print("second allow")
  c
}
both if {
  allow
  g(1)
}
)";
  Engine eng;
  Errors errs;
  ASSERT_TRUE(eng.add_module("test.rego", m, errs));
  auto p = eng.compile(errs);
  ASSERT_TRUE(p) << to_string(errs);
  auto q = Query::prepare(p, "data.t.both", errs);
  ASSERT_TRUE(q) << to_string(errs);

  EvalOptions quiet;
  Value v;
  ASSERT_TRUE(q->eval_value(quiet, v, errs)) << to_string(errs);  // the conflicting `c` is never reached
  EXPECT_TRUE(v.is_true());

  std::vector<std::string> prints;
  EvalOptions loud;
  loud.print = [&](const std::string& s) { prints.push_back(s); };
  Errors loud_errs;
  EXPECT_FALSE(q->eval_value(loud, v, loud_errs));  // every definition runs: `c` conflicts
  ASSERT_FALSE(loud_errs.empty());
  EXPECT_EQ(loud_errs[0].code, "eval_conflict_error");
  EXPECT_EQ(prints, (std::vector<std::string>{"test.rego:7: second f"}));

  // Without the conflict, every solution of g's body prints.
  auto q2 = Query::prepare(p, "data.t.g(1)", errs);
  ASSERT_TRUE(q2) << to_string(errs);
  prints.clear();
  ASSERT_TRUE(q2->eval_value(loud, v, errs)) << to_string(errs);
  EXPECT_EQ(prints, (std::vector<std::string>{"test.rego:12: g 1", "test.rego:12: g 2", "test.rego:12: g 3"}));
}
