// Aggregate, array, set and object builtins, called directly through a local
// registry. Expected values come from OPA v1 (the conformance cases under
// aggregates/, array/, sets/, intersection/, subset/, object*/).
#include <gtest/gtest.h>

#include <climits>
#include <string>
#include <vector>

#include "rego/builtins/builtins.h"

using namespace confidant::rego;

namespace {

const BuiltinRegistry& registry() {
  static const BuiltinRegistry r = [] {
    BuiltinRegistry r;
    register_aggregates(r);
    register_arrays(r);
    register_sets(r);
    register_objects(r);
    return r;
  }();
  return r;
}

Value J(const char* json) {
  Value v;
  std::string err;
  EXPECT_TRUE(parse_json(json, v, err)) << err << " in " << json;
  return v;
}
Value N(const char* text) { return Value::number_from_text(text); }
Value I(int64_t i) { return Value::integer(i); }
Value S(const char* s) { return Value::string(s); }
Value Set(std::initializer_list<Value> items) { return Value::set(ValueVec(items)); }

Value call(std::string_view name, std::vector<Value> args) {
  const BuiltinInfo* b = registry().find(name);
  if (!b) {
    ADD_FAILURE() << "no builtin " << name;
    return Value();
  }
  EXPECT_EQ(static_cast<size_t>(b->arity), args.size()) << name;
  BuiltinContext ctx;
  return b->fn(ctx, args);
}

std::string text(std::string_view name, std::vector<Value> args) {
  Value v = call(name, std::move(args));
  return v.is_number() ? v.number_text() : "<" + to_rego(v) + ">";
}

std::string error(std::string_view name, std::vector<Value> args) {
  try {
    call(name, std::move(args));
  } catch (const BuiltinError& e) {
    return e.code + ": " + e.what();
  }
  return "no error";
}

}  // namespace

TEST(Aggregates, Count) {
  EXPECT_EQ(call("count", {J("[1, 2, 3, 4]")}), I(4));
  EXPECT_EQ(call("count", {J(R"({"v1": "hello", "v2": "goodbye"})")}), I(2));
  EXPECT_EQ(call("count", {Set({I(1), I(1), I(2)})}), I(2));
  EXPECT_EQ(call("count", {J("[]")}), I(0));
  EXPECT_EQ(call("count", {S("")}), I(0));
  EXPECT_EQ(call("count", {S("abc")}), I(3));
  EXPECT_EQ(call("count", {S("h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x98\x80")}), I(9));  // code points, not bytes
  // Invalid UTF-8: each bad byte counts as one rune, as Go's []rune does.
  EXPECT_EQ(call("count", {S("\xff\xfe")}), I(2));
  EXPECT_EQ(call("count", {S("\xe2\x82")}), I(2));
  EXPECT_EQ(call("count", {S("\xed\xa0\x80")}), I(3));  // an encoded surrogate is invalid
  EXPECT_EQ(call("count", {S("\xc0\xaf")}), I(2));      // overlong
  EXPECT_EQ(error("count", {I(1)}),
            "eval_type_error: count: operand 1 must be one of {array, object, set, string} but got number");
  EXPECT_EQ(error("count", {Value::null()}),
            "eval_type_error: count: operand 1 must be one of {array, object, set, string} but got null");
}

TEST(Aggregates, SumProduct) {
  EXPECT_EQ(call("sum", {Set({I(1), I(2), I(3), I(4)})}), I(10));
  EXPECT_EQ(call("sum", {J("[1, 2, 3, 4]")}), I(10));
  EXPECT_EQ(call("sum", {J("[]")}), I(0));
  EXPECT_EQ(call("product", {Set({I(1), I(2), I(3), I(4)})}), I(24));
  EXPECT_EQ(call("product", {J("[]")}), I(1));
  // aggregates/test-aggregates-bignum.yaml
  EXPECT_EQ(text("sum", {J("[18446744073709551617, 1]")}), "18446744073709551618");
  EXPECT_EQ(text("sum", {Set({N("18446744073709551617"), I(1)})}), "18446744073709551618");
  EXPECT_EQ(text("product", {J("[18446744073709551617, 2]")}), "36893488147419103234");
  EXPECT_EQ(text("sum", {J("[1, 2, 3]")}), "6");
  EXPECT_EQ(text("product", {J("[2, 3, 4]")}), "24");
  EXPECT_EQ(text("sum", {J("[1.5, 2.5]")}), "4");
  EXPECT_EQ(text("sum", {J("[1, 2.5]")}), "3.5");
  EXPECT_EQ(text("product", {J("[1.5, 2]")}), "3");
  EXPECT_EQ(text("sum", {J("[9223372036854775807, 1]")}), "9223372036854775808");
  EXPECT_EQ(text("sum", {Set({I(INT64_MAX), I(1), I(2)})}), "9223372036854775810");
  EXPECT_EQ(text("sum", {J("[-9223372036854775808, -1]")}), "-9223372036854775809");
  EXPECT_EQ(text("sum", {J("[9223372036854775806, 1]")}), "9223372036854775807");
  EXPECT_EQ(text("product", {J("[4294967296, 4294967296, 2]")}), "36893488147419103232");
  const std::string big = "1" + std::string(399, '0') + "1";
  EXPECT_EQ(call("sum", {J("[1e400, 1]")}), N(big.c_str()));
  // Fractions: big.Float, 64 bits for sum, 53 for product (OPA seeds it with big.NewFloat(1)).
  EXPECT_EQ(text("sum", {J("[0.1, 0.2]")}), "0.3");
  EXPECT_EQ(text("sum", {J("[3.3, -1.1]")}), "2.1999999999999999998");
  EXPECT_EQ(text("product", {J("[1.1, 1.1]")}), "1.2100000000000002");
  EXPECT_EQ(text("product", {J("[0.5, 0]")}), "0");
}

TEST(Aggregates, SumProductErrors) {
  EXPECT_EQ(error("sum", {I(1)}), "eval_type_error: sum: operand 1 must be one of {set, array} but got number");
  EXPECT_EQ(error("product", {J("{}")}),
            "eval_type_error: product: operand 1 must be one of {set, array} but got object");
  EXPECT_EQ(error("sum", {J(R"([1, "a"])")}),
            "eval_type_error: sum: operand 1 must be array of numbers but got array containing string");
  EXPECT_EQ(error("sum", {J(R"([1.5, null])")}),
            "eval_type_error: sum: operand 1 must be array of numbers but got array containing null");
  EXPECT_EQ(error("product", {Set({I(1), S("a")})}),
            "eval_type_error: product: operand 1 must be set of numbers but got set containing string");
}

TEST(Aggregates, MaxMinSort) {
  EXPECT_EQ(call("max", {Set({I(1), I(2), I(3), I(4)})}), I(4));
  EXPECT_EQ(call("max", {J("[1, 2, 3, 4]")}), I(4));
  EXPECT_EQ(call("min", {J("[3, 2, 1, 4, 6, -7, 10]")}), I(-7));
  EXPECT_EQ(call("min", {Set({I(4), I(1), I(3)})}), I(1));
  EXPECT_TRUE(call("max", {J("[]")}).is_undefined());
  EXPECT_TRUE(call("min", {Value::empty_set()}).is_undefined());
  // Mixed kinds follow the total order.
  EXPECT_EQ(call("max", {J(R"([1, "a", null, [0]])")}), J("[0]"));
  EXPECT_EQ(call("min", {J(R"([1, "a", null, [0]])")}), Value::null());
  EXPECT_EQ(call("sort", {J("[4, 3, 2, 1]")}), J("[1, 2, 3, 4]"));
  EXPECT_EQ(call("sort", {Set({I(3), S("a"), I(1)})}), Value::array({I(1), I(3), S("a")}));
  EXPECT_EQ(call("sort", {J("[]")}), J("[]"));
  EXPECT_EQ(call("sort", {J(R"([{"b": 1}, [2], "x", 1.5, true, null])")}),
            J(R"([null, true, 1.5, "x", [2], {"b": 1}])"));
  // comparisonexpr/test-comparisonexpr-decimals.yaml, second case
  EXPECT_EQ(call("count", {Set({N("3.5"), N("3.50"), N("35e-1"), N("0.35e1")})}), I(1));
  EXPECT_EQ(call("sort", {J("[3.5, 3, 3.25, -2.5, 3.50, 1e0, 0.5]")}), J("[-2.5, 0.5, 1, 3, 3.25, 3.5, 3.5]"));
  EXPECT_EQ(call("max", {J("[3, 3.5, 3.25, 3.4999]")}), N("3.5"));
  EXPECT_EQ(call("min", {J("[3, 3.5, 2.75, 2.7499]")}), N("2.7499"));
  EXPECT_EQ(error("max", {S("x")}), "eval_type_error: max: operand 1 must be one of {set, array} but got string");
  EXPECT_EQ(error("sort", {J("{}")}), "eval_type_error: sort: operand 1 must be one of {set, array} but got object");
}

TEST(Arrays, ConcatSliceReverse) {
  EXPECT_EQ(call("array.concat", {J("[1, 2]"), J("[3, 4]")}), J("[1, 2, 3, 4]"));
  EXPECT_EQ(call("array.concat", {J("[]"), J("[3]")}), J("[3]"));
  EXPECT_EQ(call("array.concat", {J("[1]"), J("[]")}), J("[1]"));
  EXPECT_EQ(error("array.concat", {J(R"({"v1": "hello"})"), J("[3, 4]")}),
            "eval_type_error: array.concat: operand 1 must be array but got object");
  EXPECT_EQ(error("array.concat", {J("[1, 2]"), J(R"({"v1": "hello"})")}),
            "eval_type_error: array.concat: operand 2 must be array but got object");
  EXPECT_EQ(call("array.slice", {J("[1, 2, 3, 4, 5]"), I(1), I(3)}), J("[2, 3]"));
  EXPECT_EQ(call("array.slice", {J("[1, 2, 3]"), I(0), I(0)}), J("[]"));
  EXPECT_EQ(call("array.slice", {J("[1, 2, 3, 4, 5]"), I(-4), I(-1)}), J("[]"));
  EXPECT_EQ(call("array.slice", {J("[1, 2, 3]"), I(-10), I(2)}), J("[1, 2]"));
  EXPECT_EQ(call("array.slice", {J("[1, 2, 3]"), I(1), I(100)}), J("[2, 3]"));
  EXPECT_EQ(call("array.slice", {J("[1, 2, 3]"), I(2), I(1)}), J("[]"));
  EXPECT_EQ(call("array.slice", {J("[1, 2, 3]"), I(0), I(INT64_MAX)}), J("[1, 2, 3]"));
  EXPECT_EQ(error("array.slice", {J("[1]"), N("0.5"), I(1)}),
            "eval_type_error: array.slice: operand 2 must be integer number but got floating-point number");
  EXPECT_EQ(error("array.slice", {J("[1]"), I(0), S("1")}),
            "eval_type_error: array.slice: operand 3 must be number but got string");
  EXPECT_EQ(call("array.reverse", {J("[1, 2, 3]")}), J("[3, 2, 1]"));
  EXPECT_EQ(call("array.reverse", {J("[]")}), J("[]"));
  EXPECT_EQ(error("array.reverse", {S("abc")}),
            "eval_type_error: array.reverse: operand 1 must be array but got string");
}

TEST(Arrays, Flatten) {
  // array/flatten.yaml
  EXPECT_EQ(call("array.flatten", {J("[]")}), J("[]"));
  EXPECT_EQ(call("array.flatten", {J("[[1, 2], [3, 4], [5]]")}), J("[1, 2, 3, 4, 5]"));
  EXPECT_EQ(call("array.flatten", {J("[[[1], [2, 3, []]], [[4, 5]]]")}), J("[[1], [2, 3, []], [4, 5]]"));
  EXPECT_EQ(call("array.flatten", {J(R"([[1, 2], "string", [3, {"a": "b"}], 4.5, [6, [7, 8]]])")}),
            J(R"([1, 2, "string", 3, {"a": "b"}, 4.5, 6, [7, 8]])"));
  EXPECT_EQ(error("array.flatten", {I(42)}), "eval_type_error: array.flatten: operand 1 must be array but got number");
}

TEST(Sets, AndOrIntersectionUnion) {
  Value a = Set({I(3), I(2), I(1)}), b = Set({I(3), I(4), I(2)});
  EXPECT_EQ(call("and", {a, b}), Set({I(2), I(3)}));
  EXPECT_EQ(call("or", {a, b}), Set({I(1), I(2), I(3), I(4)}));
  EXPECT_EQ(call("and", {a, Value::empty_set()}), Value::empty_set());
  EXPECT_EQ(call("or", {Value::empty_set(), b}), b);
  EXPECT_EQ(call("and", {a, a}), a);
  // sets/test-sets-0876.yaml: {3, 2, 3} | {3, 4, 3} == {2, 3, 4}
  EXPECT_EQ(call("or", {Set({I(3), I(2), I(3)}), Set({I(3), I(4), I(3)})}), Set({I(2), I(3), I(4)}));
  EXPECT_EQ(error("and", {a, I(1)}), "eval_type_error: and: operand 2 must be set but got number");
  EXPECT_EQ(error("or", {J("[1]"), a}), "eval_type_error: or: operand 1 must be set but got array");
  // intersection/*.yaml
  EXPECT_EQ(call("intersection", {Set({Value::empty_set(), Set({I(1), I(2)})})}), Value::empty_set());
  EXPECT_EQ(call("intersection", {Set({Set({I(1), I(2), I(3)}), Set({I(2), I(3), I(4)}), Set({I(4), I(5), I(6)})})}),
            Value::empty_set());
  EXPECT_EQ(call("intersection", {Set({Set({S("a"), S("b"), S("c"), S("d")}), Set({S("b"), S("c"), S("d")}),
                                       Set({S("c"), S("d")}), Set({S("d")})})}),
            Set({S("d")}));
  EXPECT_EQ(call("intersection", {Value::empty_set()}), Value::empty_set());
  EXPECT_EQ(call("union", {Set({Set({I(1)}), Set({I(2), I(3)}), Value::empty_set()})}), Set({I(1), I(2), I(3)}));
  EXPECT_EQ(call("union", {Value::empty_set()}), Value::empty_set());
  EXPECT_EQ(error("union", {Set({Set({I(1)}), I(2)})}), "eval_type_error: union: operand 1 must be set but got number");
  EXPECT_EQ(error("intersection", {J("[]")}), "eval_type_error: intersection: operand 1 must be set but got array");
}

TEST(Objects, Get) {
  Value obj = J(R"({"a": {"b": "c"}, "arr": [10, {"x": 1}], "n": null})");
  EXPECT_EQ(call("object.get", {J(R"({"a": {"b": "c"}})"), S("a"), Value::true_value()}), J(R"({"b": "c"})"));
  EXPECT_EQ(call("object.get", {J(R"({"a": {"b": "c"}})"), S("b"), Value::true_value()}), Value::true_value());
  EXPECT_EQ(call("object.get", {obj, S("n"), I(1)}), Value::null());  // present null is not "missing"
  EXPECT_EQ(call("object.get", {obj, J(R"(["a", "b"])"), I(0)}), S("c"));
  EXPECT_EQ(call("object.get", {obj, J(R"(["a", "b", "c"])"), I(0)}), I(0));
  EXPECT_EQ(call("object.get", {obj, J(R"(["arr", 1, "x"])"), I(0)}), I(1));
  EXPECT_EQ(call("object.get", {obj, J(R"(["arr", 2])"), I(0)}), I(0));
  EXPECT_EQ(call("object.get", {obj, J(R"(["arr", -1])"), I(0)}), I(0));
  EXPECT_EQ(call("object.get", {obj, J(R"(["arr", "0"])"), I(0)}), I(0));
  EXPECT_EQ(call("object.get", {obj, J("[]"), I(0)}), obj);
  Value with_set = Value::object({{S("s"), Set({S("m"), I(2)})}});
  EXPECT_EQ(call("object.get", {with_set, Value::array({S("s"), S("m")}), I(0)}), S("m"));
  EXPECT_EQ(call("object.get", {with_set, Value::array({S("s"), S("z")}), I(0)}), I(0));
  Value nonstring = Value::object({{I(1), S("one")}, {J("[1]"), S("arr")}});
  EXPECT_EQ(call("object.get", {nonstring, I(1), I(0)}), S("one"));
  EXPECT_EQ(call("object.get", {nonstring, Value::array({J("[1]")}), I(0)}), S("arr"));
  EXPECT_EQ(error("object.get", {J("[]"), S("a"), I(0)}),
            "eval_type_error: object.get: operand 1 must be object but got array");
}

TEST(Objects, KeysRemoveFilter) {
  EXPECT_EQ(call("object.keys", {J(R"({"b": 1, "a": 2})")}), Set({S("a"), S("b")}));
  EXPECT_EQ(call("object.keys", {J("{}")}), Value::empty_set());
  EXPECT_EQ(error("object.keys", {J("[]")}), "eval_type_error: object.keys: operand 1 must be object but got array");
  // objectremove/*.yaml
  EXPECT_EQ(call("object.remove", {J(R"({"a": 1, "b": {"c": 3}})"), Set({S("a")})}), J(R"({"b": {"c": 3}})"));
  EXPECT_EQ(call("object.remove", {J(R"({"a": 1, "b": {"c": 3}, "d": 4})"), Set({S("b"), S("d")})}), J(R"({"a": 1})"));
  EXPECT_EQ(call("object.remove", {J(R"({"a": 1, "b": {"c": 3}, "d": 4})"), J(R"({"b": 1, "d": ""})")}),
            J(R"({"a": 1})"));
  EXPECT_EQ(call("object.remove", {J(R"({"a": 1, "b": 2})"), J(R"(["b", "b", "x"])")}), J(R"({"a": 1})"));
  EXPECT_EQ(call("object.remove", {J("{}"), Set({S("a"), S("b")})}), J("{}"));
  EXPECT_EQ(call("object.remove", {J(R"({"a": 1, "b": {"c": 3}})"), Set({S("z")})}), J(R"({"a": 1, "b": {"c": 3}})"));
  Value nonstring = Value::object({{S("a"), I(1)}, {J("[[7]]"), I(2)}});
  EXPECT_EQ(call("object.remove", {nonstring, Set({J("[[7]]")})}), J(R"({"a": 1})"));
  EXPECT_EQ(error("object.remove", {I(123), Set({S("a")})}),
            "eval_type_error: object.remove: operand 1 must be object but got number");
  EXPECT_EQ(error("object.remove", {J(R"({"a": 1})"), S("foo")}),
            "eval_type_error: object.remove: operand 2 must be one of {object, set, array} but got string");
  EXPECT_EQ(error("object.remove", {J(R"({"a": 1})"), Value::null()}),
            "eval_type_error: object.remove: operand 2 must be one of {object, set, array} but got null");
  // objectfilter*/*.yaml
  EXPECT_EQ(call("object.filter", {J(R"({"a": {"b": {"c": 7, "d": 8}}, "e": 9})"), Set({S("a")})}),
            J(R"({"a": {"b": {"c": 7, "d": 8}}})"));
  EXPECT_EQ(call("object.filter", {J(R"({"a": 1, "b": 2, "c": 3, "e": 9})"), Set({S("a"), S("e")})}),
            J(R"({"a": 1, "e": 9})"));
  EXPECT_EQ(call("object.filter", {J(R"({"a": 7})"), J("[]")}), J("{}"));
  EXPECT_EQ(call("object.filter", {J(R"({"a": 7})"), J("{}")}), J("{}"));
  EXPECT_EQ(call("object.filter", {J(R"({"a": 1, "b": 2, "c": 3})"), J(R"(["c", "a"])")}), J(R"({"a": 1, "c": 3})"));
  EXPECT_EQ(call("object.filter", {nonstring, Set({J("[[7]]")})}), Value::object({{J("[[7]]"), I(2)}}));
  EXPECT_EQ(error("object.filter", {J(R"(["a"])"), Set({S("a")})}),
            "eval_type_error: object.filter: operand 1 must be object but got array");
  EXPECT_EQ(error("object.filter", {J(R"({"a": 1})"), Value::true_value()}),
            "eval_type_error: object.filter: operand 2 must be one of {object, set, array} but got boolean");
}

TEST(Objects, Union) {
  EXPECT_EQ(call("object.union", {J("{}"), J("{}")}), J("{}"));
  EXPECT_EQ(call("object.union", {J("{}"), J(R"({"a": 1})")}), J(R"({"a": 1})"));
  EXPECT_EQ(call("object.union", {J(R"({"a": 1})"), J(R"({"b": 2})")}), J(R"({"a": 1, "b": 2})"));
  EXPECT_EQ(call("object.union", {J(R"({"b": 2})"), J(R"({"a": {"b": {"c": 1}}})")}),
            J(R"({"a": {"b": {"c": 1}}, "b": 2})"));
  EXPECT_EQ(call("object.union", {J(R"({"a": 1})"), J(R"({"a": 2})")}), J(R"({"a": 2})"));
  EXPECT_EQ(call("object.union", {J(R"({"a": 1})"), J(R"({"a": {"b": {"c": 1}}, "d": 7})")}),
            J(R"({"a": {"b": {"c": 1}}, "d": 7})"));
  EXPECT_EQ(call("object.union", {J(R"({"a": {"x": 1, "y": {"p": 1}}})"), J(R"({"a": {"y": {"q": 2}, "z": 3}})")}),
            J(R"({"a": {"x": 1, "y": {"p": 1, "q": 2}, "z": 3}})"));
  EXPECT_EQ(error("object.union", {J(R"({"a": 1})"), J("[1, 2, 3]")}),
            "eval_type_error: object.union: operand 2 must be object but got array");
  // objectunionn/test-objectunionn-0001.yaml
  EXPECT_EQ(call("object.union_n", {J("[{}]")}), J("{}"));
  EXPECT_EQ(call("object.union_n", {J("[]")}), J("{}"));
  EXPECT_EQ(call("object.union_n", {J(R"([{"foo": "bar"}])")}), J(R"({"foo": "bar"})"));
  EXPECT_EQ(call("object.union_n", {J(R"([{"foo": "bar"}, {"x": "y"}])")}), J(R"({"foo": "bar", "x": "y"})"));
  EXPECT_EQ(call("object.union_n", {J(R"([{"foo": "bar"}, {"foo": "baz"}])")}), J(R"({"foo": "baz"})"));
  EXPECT_EQ(call("object.union_n", {J(R"([{"a": 1, "b": 2, "c": 3}, {"foo": "baz", "a": "a", "b": 2, "d": 4},
                                         {"a": "final A!", "e": 5.0}])")}),
            J(R"({"a": "final A!", "b": 2, "c": 3, "d": 4, "e": 5, "foo": "baz"})"));
  // A scalar in the middle cuts the earlier object off (OPA's "frozen" keys).
  EXPECT_EQ(call("object.union_n", {J(R"([{"a": {"b": 2}}, {"a": 4}, {"a": {"c": 3}}])")}), J(R"({"a": {"c": 3}})"));
  EXPECT_EQ(call("object.union_n", {J(R"([{"a": {"b": 2}}, {"a": {"c": 3}}])")}), J(R"({"a": {"b": 2, "c": 3}})"));
  EXPECT_EQ(error("object.union_n", {J(R"([{"foo": 1}, {"bar": 2}, "baz"])")}),
            "eval_type_error: object.union_n: operand 1 must be array of objects but got array containing string");
  EXPECT_EQ(error("object.union_n", {J(R"([1, {"bar": 2}, "baz"])")}),
            "eval_type_error: object.union_n: operand 1 must be array of objects but got array containing string");
  EXPECT_EQ(error("object.union_n", {J("{}")}),
            "eval_type_error: object.union_n: operand 1 must be array but got object");
}

TEST(Objects, Subset) {
  auto subset = [](Value super, Value sub) { return call("object.subset", {super, sub}).is_true(); };
  Value a = J(R"({"a": 5, "b": 7, "c": 15})");
  EXPECT_TRUE(subset(a, J(R"({"a": 5})")));
  EXPECT_FALSE(subset(J(R"({"a": 5})"), a));
  EXPECT_FALSE(subset(a, J(R"({"a": 5, "b": 10})")));
  Value nested = J(R"({"a": 5, "b": 7, "c": 15, "nested": {"x": 10, "y": 15, "z": 20, "arr1": [6, 7, 8, 9]}})");
  EXPECT_TRUE(subset(nested, J(R"({"a": 5, "nested": {"x": 10, "y": 15, "z": 20}})")));
  EXPECT_TRUE(subset(nested, J(R"({"a": 5, "nested": {"x": 10, "y": 15, "arr1": [6, 7]}})")));
  EXPECT_FALSE(subset(nested, J(R"({"nested": {"arr1": [6, 8]}})")));
  Value with_set = Value::object({{S("set1"), Set({I(1), I(2), I(3), I(4)})}});
  EXPECT_TRUE(subset(with_set, Value::object({{S("set1"), Set({I(4), I(1)})}})));
  EXPECT_FALSE(subset(with_set, Value::object({{S("set1"), Set({I(5)})}})));
  EXPECT_TRUE(subset(Set({I(1), I(2), I(3)}), Set({I(3), I(2)})));
  EXPECT_FALSE(subset(Set({I(3), I(2)}), Set({I(1), I(2), I(3)})));
  Value abc = Set({S("a"), S("b"), S("c")});
  EXPECT_TRUE(subset(Set({I(1), I(2), I(3), abc}), Set({I(3), I(2), abc})));
  EXPECT_FALSE(subset(Set({I(1), I(2), I(3), abc}), Set({I(3), I(2), Set({S("a"), S("b")})})));
  Value arr = J("[1, 2, 3, 4, 5, 6]");
  EXPECT_TRUE(subset(arr, J("[3, 4, 5]")));
  EXPECT_TRUE(subset(arr, J("[1, 2, 3]")));
  EXPECT_TRUE(subset(arr, J("[4, 5, 6]")));
  EXPECT_TRUE(subset(arr, arr));
  EXPECT_FALSE(subset(J("[3, 4, 5]"), arr));
  EXPECT_FALSE(subset(arr, J("[4, 5, 6, 8]")));
  EXPECT_FALSE(subset(arr, J("[8, 9, 10]")));
  EXPECT_FALSE(subset(arr, J("[1, 3]")));  // contiguous only
  EXPECT_TRUE(subset(J("[1, 1, 2]"), J("[1, 2]")));
  EXPECT_TRUE(subset(J("[]"), J("[]")));
  EXPECT_TRUE(subset(arr, Set({I(4), I(3), I(2)})));
  EXPECT_FALSE(subset(arr, Set({I(9), I(8), I(7)})));
  // OPA counts duplicates and never matches from an empty array; reproduced.
  EXPECT_TRUE(subset(J("[1, 1]"), Set({I(1), I(2)})));
  EXPECT_FALSE(subset(J("[]"), Value::empty_set()));
  EXPECT_TRUE(subset(J("[5]"), Value::empty_set()));
  EXPECT_EQ(error("object.subset", {Set({I(4)}), arr}),
            "eval_type_error: object.subset: both arguments object.subset must be of the same type or array and set");
  EXPECT_EQ(error("object.subset", {I(1), I(1)}),
            "eval_type_error: object.subset: both arguments object.subset must be of the same type or array and set");
}
