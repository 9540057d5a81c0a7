// The deprecated builtins OPA keeps for Rego v0 (all, any, cast_*, re_match, set_diff,
// net.cidr_overlap): results and errors as OPA's, and absent from v1 modules and queries.
#include <gtest/gtest.h>

#include <string>

#include "rego/rego.h"

using namespace confidant::rego;

namespace {

// The value of the expression `expr` (wrapped, so false is a value), against a module that
// defines nothing else; "error: ..." on failure.
std::string eval(const std::string& expr, bool v0 = true, bool strict = true) {
  std::string query = "[" + expr + "]";
  Engine eng(EngineOptions{.v0 = v0});
  Errors errs;
  eng.add_module("p.rego", "package p\n", errs);
  auto p = eng.compile(errs);
  if (!p) return "error: " + errs[0].message;
  auto q = Query::prepare(p, query, errs, v0);
  if (!q) return "error: " + errs[0].message;
  EvalOptions o;
  o.strict_builtin_errors = strict;
  Value v;
  if (!q->eval_value(o, v, errs)) return "error: " + errs[0].message;
  if (!v.is_defined()) return "undefined";
  std::string json = to_json(v);
  return json.substr(1, json.size() - 2);
}

TEST(Deprecated, AllAndAny) {
  EXPECT_EQ(eval("all([true, true])"), "true");
  EXPECT_EQ(eval("all([true, 1])"), "false");
  EXPECT_EQ(eval("all([])"), "true");
  EXPECT_EQ(eval("all({true})"), "true");
  EXPECT_EQ(eval("any([false, true])"), "true");
  EXPECT_EQ(eval("any({false, \"true\"})"), "false");
  EXPECT_EQ(eval("any([])"), "false");
  EXPECT_EQ(eval("any(\"x\")"), "error: any: operand 1 must be one of {array, set} but got string");
}

TEST(Deprecated, Casts) {
  EXPECT_EQ(eval("cast_array({3, 1, 2})"), "[1,2,3]");
  EXPECT_EQ(eval("cast_array([3, 1])"), "[3,1]");
  EXPECT_EQ(eval("cast_set([2, 1, 2])"), "[1,2]");
  EXPECT_EQ(eval("cast_string(\"a\")"), "\"a\"");
  EXPECT_EQ(eval("cast_boolean(false)"), "false");
  EXPECT_EQ(eval("cast_null(null)"), "null");
  EXPECT_EQ(eval("cast_object({\"a\": 1})"), "{\"a\":1}");
  EXPECT_EQ(eval("cast_string(1)"), "error: cast_string: operand 1 must be string but got number");
  EXPECT_EQ(eval("cast_boolean(\"true\")"), "error: cast_boolean: operand 1 must be boolean but got string");
  EXPECT_EQ(eval("cast_null(0)"), "error: cast_null: operand 1 must be null but got number");
  EXPECT_EQ(eval("cast_object([])"), "error: cast_object: operand 1 must be object but got array");
  EXPECT_EQ(eval("cast_set(1)"), "error: cast_set: operand 1 must be one of {array, set} but got number");
  // Without strict errors a failing cast is undefined.
  EXPECT_EQ(eval("cast_string(1)", true, false), "undefined");
}

TEST(Deprecated, SetDiff) {
  EXPECT_EQ(eval("set_diff({1, 2, 3}, {2})"), "[1,3]");
  EXPECT_EQ(eval("set_diff(set(), {2})"), "[]");
  EXPECT_EQ(eval("set_diff([1], {2})"), "error: set_diff: operand 1 must be set but got array");
  EXPECT_EQ(eval("set_diff({1}, 2)"), "error: set_diff: operand 2 must be set but got number");
}

TEST(Deprecated, AliasesKeepTheirOwnName) {
  EXPECT_EQ(eval("re_match(\"^a+$\", \"aaa\")"), "true");
  EXPECT_EQ(eval("re_match(\"^a+$\", \"b\")"), "false");
  EXPECT_EQ(eval("re_match(1, \"b\")"), "error: re_match: operand 1 must be string but got number");
  EXPECT_EQ(eval("net.cidr_overlap(\"10.0.0.0/8\", \"10.1.2.3\")"), "true");
  EXPECT_EQ(eval("net.cidr_overlap(\"10.0.0.0/8\", \"11.1.2.3\")"), "false");
}

TEST(Deprecated, NotInRegoV1) {
  EXPECT_EQ(eval("any([true])", false), "error: undefined function any");
  EXPECT_EQ(eval("re_match(\"a\", \"a\")", false), "error: undefined function re_match");
  // A v1 module may not call them either, while a v0 module may.
  Engine v1;
  Errors errs;
  v1.add_module("p.rego", "package p\nx := all([true])\n", errs);
  EXPECT_FALSE(v1.compile(errs));
  ASSERT_FALSE(errs.empty());
  EXPECT_EQ(errs[0].message, "undefined function all");
  Engine v0(EngineOptions{.v0 = true});
  Errors errs0;
  v0.add_module("p.rego", "package p\nx := all([true])\n", errs0);
  auto p = v0.compile(errs0);
  ASSERT_TRUE(p);
  Value out;
  auto q = Query::prepare(p, "data.p.x", errs0);
  ASSERT_TRUE(q);
  ASSERT_TRUE(q->eval_value(EvalOptions{}, out, errs0));
  EXPECT_TRUE(out.is_true());
}

}  // namespace
