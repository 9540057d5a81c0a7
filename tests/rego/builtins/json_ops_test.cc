// json.filter, json.remove, json.patch, json.verify_schema and
// json.match_schema, called directly through a local registry. Expected values
// are OPA's (conformance cases jsonfilter, jsonremove*, jsonpatch, jsonschema)
// and gojsonschema's messages.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "rego/builtins/builtins.h"
#include "rego/value.h"

using namespace confidant::rego;

namespace confidant::rego {
static void PrintTo(const Value& v, std::ostream* os) { *os << to_rego(v); }
}  // namespace confidant::rego

namespace {

const BuiltinRegistry& registry() {
  static const BuiltinRegistry r = [] {
    BuiltinRegistry reg;
    register_json_ops(reg);
    return reg;
  }();
  return r;
}

Value J(std::string_view s) {
  Value v;
  std::string err;
  EXPECT_TRUE(parse_json(s, v, err)) << err;
  return v;
}

Value S(std::string_view s) { return Value::string(s); }

Value call(const char* name, std::vector<Value> args) {
  const BuiltinInfo* b = registry().find(name);
  EXPECT_NE(b, nullptr) << name;
  BuiltinContext ctx;
  return b->fn(ctx, args);
}

std::string error_of(const char* name, std::vector<Value> args) {
  try {
    call(name, std::move(args));
  } catch (const BuiltinError& e) {
    return e.code + ": " + e.what();
  }
  return "";
}

Value set(std::vector<Value> items) { return Value::set(std::move(items)); }

// The json_patch_cases modules of the jsonpatch conformance file (RFC 6902
// spec examples and json-patch-tests), minus the cases OPA disables.
const char* kPatchCases = R"json(
[
{"comment":"4.1. add with missing object",
 "doc":{"q":{"bar":2}},
 "patch":[{"op":"add","path":"/a/b","value":1}],
 "error":"path /a does not exist -- missing objects are not created recursively"},
{"comment":"A.1.  Adding an Object Member",
 "doc":{"foo":"bar"},
 "patch":[{"op":"add","path":"/baz","value":"qux"}],
 "expected":{"baz":"qux","foo":"bar"}},
{"comment":"A.2.  Adding an Array Element",
 "doc":{"foo":["bar","baz"]},
 "patch":[{"op":"add","path":"/foo/1","value":"qux"}],
 "expected":{"foo":["bar","qux","baz"]}},
{"comment":"A.3.  Removing an Object Member",
 "doc":{"baz":"qux","foo":"bar"},
 "patch":[{"op":"remove","path":"/baz"}],
 "expected":{"foo":"bar"}},
{"comment":"A.4.  Removing an Array Element",
 "doc":{"foo":["bar","qux","baz"]},
 "patch":[{"op":"remove","path":"/foo/1"}],
 "expected":{"foo":["bar","baz"]}},
{"comment":"A.5.  Replacing a Value",
 "doc":{"baz":"qux","foo":"bar"},
 "patch":[{"op":"replace","path":"/baz","value":"boo"}],
 "expected":{"baz":"boo","foo":"bar"}},
{"comment":"A.6.  Moving a Value",
 "doc":{"foo":{"bar":"baz","waldo":"fred"},"qux":{"corge":"grault"}},
 "patch":[{"op":"move","from":"/foo/waldo","path":"/qux/thud"}],
 "expected":{"foo":{"bar":"baz"},"qux":{"corge":"grault","thud":"fred"}}},
{"comment":"A.7.  Moving an Array Element",
 "doc":{"foo":["all","grass","cows","eat"]},
 "patch":[{"op":"move","from":"/foo/1","path":"/foo/3"}],
 "expected":{"foo":["all","cows","eat","grass"]}},
{"comment":"A.8.  Testing a Value: Success",
 "doc":{"baz":"qux","foo":["a",2,"c"]},
 "patch":[{"op":"test","path":"/baz","value":"qux"},{"op":"test","path":"/foo/1","value":2}],
 "expected":{"baz":"qux","foo":["a",2,"c"]}},
{"comment":"A.9.  Testing a Value: Error",
 "doc":{"baz":"qux"},
 "patch":[{"op":"test","path":"/baz","value":"bar"}],
 "error":"string not equivalent"},
{"comment":"A.10.  Adding a nested Member Object",
 "doc":{"foo":"bar"},
 "patch":[{"op":"add","path":"/child","value":{"grandchild":{}}}],
 "expected":{"foo":"bar","child":{"grandchild":{}}}},
{"comment":"A.11.  Ignoring Unrecognized Elements",
 "doc":{"foo":"bar"},
 "patch":[{"op":"add","path":"/baz","value":"qux","xyz":123}],
 "expected":{"foo":"bar","baz":"qux"}},
{"comment":"A.12.  Adding to a Non-existent Target",
 "doc":{"foo":"bar"},
 "patch":[{"op":"add","path":"/baz/bat","value":"qux"}],
 "error":"add to a non-existent target"},
{"comment":"A.13 Invalid JSON Patch Document",
 "doc":{"foo":"bar"},
 "patch":[{"op":"remove","path":"/baz","value":"qux"}],
 "error":"operation has two 'op' members"},
{"comment":"A.14. ~ Escape Ordering",
 "doc":{"/":9,"~1":10},
 "patch":[{"op":"test","path":"/~01","value":10}],
 "expected":{"/":9,"~1":10}},
{"comment":"A.15. Comparing Strings and Numbers",
 "doc":{"/":9,"~1":10},
 "patch":[{"op":"test","path":"/~01","value":"10"}],
 "error":"number is not equal to string"},
{"comment":"A.16. Adding an Array Value",
 "doc":{"foo":["bar"]},
 "patch":[{"op":"add","path":"/foo/-","value":["abc","def"]}],
 "expected":{"foo":["bar",["abc","def"]]}},
{"comment":"empty list, empty docs","doc":{},"patch":[],"expected":{}},
{"comment":"empty patch list","doc":{"foo":1},"patch":[],"expected":{"foo":1}},
{"comment":"rearrangements OK?","doc":{"foo":1,"bar":2},"patch":[],"expected":{"bar":2,"foo":1}},
{"comment":"rearrangements OK?  How about one level down ... array",
 "doc":[{"foo":1,"bar":2}],
 "patch":[],
 "expected":[{"bar":2,"foo":1}]},
{"comment":"rearrangements OK?  How about one level down...",
 "doc":{"foo":{"foo":1,"bar":2}},
 "patch":[],
 "expected":{"foo":{"bar":2,"foo":1}}},
{"comment":"add replaces any existing field",
 "doc":{"foo":null},
 "patch":[{"op":"add","path":"/foo","value":1}],
 "expected":{"foo":1}},
{"comment":"toplevel array","doc":[],"patch":[{"op":"add","path":"/0","value":"foo"}],"expected":["foo"]},
{"comment":"toplevel array, no change","doc":["foo"],"patch":[],"expected":["foo"]},
{"comment":"toplevel object, numeric string",
 "doc":{},
 "patch":[{"op":"add","path":"/foo","value":"1"}],
 "expected":{"foo":"1"}},
{"comment":"toplevel object, integer","doc":{},"patch":[{"op":"add","path":"/foo","value":1}],"expected":{"foo":1}},
{"comment":"Toplevel scalar values OK?",
 "doc":"foo",
 "patch":[{"op":"replace","path":"","value":"bar"}],
 "expected":"bar"},
{"comment":"replace object document with array document?",
 "doc":{},
 "patch":[{"op":"add","path":"","value":[]}],
 "expected":[]},
{"comment":"replace array document with object document?",
 "doc":[],
 "patch":[{"op":"add","path":"","value":{}}],
 "expected":{}},
{"comment":"append to root array document?",
 "doc":[],
 "patch":[{"op":"add","path":"/-","value":"hi"}],
 "expected":["hi"]},
{"comment":"Add, / target","doc":{},"patch":[{"op":"add","path":"/","value":1}],"expected":{"":1}},
{"comment":"Add, /foo/ deep target (trailing slash)",
 "doc":{"foo":{}},
 "patch":[{"op":"add","path":"/foo/","value":1}],
 "expected":{"foo":{"":1}}},
{"comment":"Add composite value at top level",
 "doc":{"foo":1},
 "patch":[{"op":"add","path":"/bar","value":[1,2]}],
 "expected":{"foo":1,"bar":[1,2]}},
{"comment":"Add into composite value",
 "doc":{"foo":1,"baz":[{"qux":"hello"}]},
 "patch":[{"op":"add","path":"/baz/0/foo","value":"world"}],
 "expected":{"foo":1,"baz":[{"qux":"hello","foo":"world"}]}},
{"doc":{"bar":[1,2]},"patch":[{"op":"add","path":"/bar/8","value":"5"}],"error":"Out of bounds (upper)"},
{"doc":{"bar":[1,2]},"patch":[{"op":"add","path":"/bar/-1","value":"5"}],"error":"Out of bounds (lower)"},
{"doc":{"foo":1},"patch":[{"op":"add","path":"/bar","value":true}],"expected":{"foo":1,"bar":true}},
{"doc":{"foo":1},"patch":[{"op":"add","path":"/bar","value":false}],"expected":{"foo":1,"bar":false}},
{"doc":{"foo":1},"patch":[{"op":"add","path":"/bar","value":null}],"expected":{"foo":1,"bar":null}},
{"comment":"0 can be an array index or object element name",
 "doc":{"foo":1},
 "patch":[{"op":"add","path":"/0","value":"bar"}],
 "expected":{"foo":1,"0":"bar"}},
{"doc":["foo"],"patch":[{"op":"add","path":"/1","value":"bar"}],"expected":["foo","bar"]},
{"doc":["foo","sil"],"patch":[{"op":"add","path":"/1","value":"bar"}],"expected":["foo","bar","sil"]},
{"doc":["foo","sil"],"patch":[{"op":"add","path":"/0","value":"bar"}],"expected":["bar","foo","sil"]},
{"comment":"push item to array via last index + 1",
 "doc":["foo","sil"],
 "patch":[{"op":"add","path":"/2","value":"bar"}],
 "expected":["foo","sil","bar"]},
{"comment":"add item to array at index > length should fail",
 "doc":["foo","sil"],
 "patch":[{"op":"add","path":"/3","value":"bar"}],
 "error":"index is greater than number of items in array"},
{"comment":"test against implementation-specific numeric parsing",
 "doc":{"1e0":"foo"},
 "patch":[{"op":"test","path":"/1e0","value":"foo"}],
 "expected":{"1e0":"foo"}},
{"comment":"test with bad number should fail",
 "doc":["foo","bar"],
 "patch":[{"op":"test","path":"/1e0","value":"bar"}],
 "error":"test op shouldn't get array element 1"},
{"doc":["foo","sil"],"patch":[{"op":"add","path":"/bar","value":42}],"error":"Object operation on array target"},
{"comment":"value in array add not flattened",
 "doc":["foo","sil"],
 "patch":[{"op":"add","path":"/1","value":["bar","baz"]}],
 "expected":["foo",["bar","baz"],"sil"]},
{"doc":{"foo":1,"bar":[1,2,3,4]},"patch":[{"op":"remove","path":"/bar"}],"expected":{"foo":1}},
{"doc":{"foo":1,"baz":[{"qux":"hello"}]},
 "patch":[{"op":"remove","path":"/baz/0/qux"}],
 "expected":{"foo":1,"baz":[{}]}},
{"doc":{"foo":1,"baz":[{"qux":"hello"}]},
 "patch":[{"op":"replace","path":"/foo","value":[1,2,3,4]}],
 "expected":{"foo":[1,2,3,4],"baz":[{"qux":"hello"}]}},
{"doc":{"foo":[1,2,3,4],"baz":[{"qux":"hello"}]},
 "patch":[{"op":"replace","path":"/baz/0/qux","value":"world"}],
 "expected":{"foo":[1,2,3,4],"baz":[{"qux":"world"}]}},
{"doc":["foo"],"patch":[{"op":"replace","path":"/0","value":"bar"}],"expected":["bar"]},
{"doc":[""],"patch":[{"op":"replace","path":"/0","value":0}],"expected":[0]},
{"doc":[""],"patch":[{"op":"replace","path":"/0","value":true}],"expected":[true]},
{"doc":[""],"patch":[{"op":"replace","path":"/0","value":false}],"expected":[false]},
{"doc":[""],"patch":[{"op":"replace","path":"/0","value":null}],"expected":[null]},
{"comment":"value in array replace not flattened",
 "doc":["foo","sil"],
 "patch":[{"op":"replace","path":"/1","value":["bar","baz"]}],
 "expected":["foo",["bar","baz"]]},
{"comment":"replace whole document",
 "doc":{"foo":"bar"},
 "patch":[{"op":"replace","path":"","value":{"baz":"qux"}}],
 "expected":{"baz":"qux"}},
{"comment":"test replace with missing parent key should fail",
 "doc":{"bar":"baz"},
 "patch":[{"op":"replace","path":"/foo/bar","value":false}],
 "error":"replace op should fail with missing parent key"},
{"comment":"spurious patch properties",
 "doc":{"foo":1},
 "patch":[{"op":"test","path":"/foo","value":1,"spurious":1}],
 "expected":{"foo":1}},
{"comment":"null value should be valid obj property",
 "doc":{"foo":null},
 "patch":[{"op":"test","path":"/foo","value":null}],
 "expected":{"foo":null}},
{"comment":"null value should be valid obj property to be replaced with something truthy",
 "doc":{"foo":null},
 "patch":[{"op":"replace","path":"/foo","value":"truthy"}],
 "expected":{"foo":"truthy"}},
{"comment":"null value should be valid obj property to be moved",
 "doc":{"foo":null},
 "patch":[{"op":"move","from":"/foo","path":"/bar"}],
 "expected":{"bar":null}},
{"comment":"null value should be valid obj property to be copied",
 "doc":{"foo":null},
 "patch":[{"op":"copy","from":"/foo","path":"/bar"}],
 "expected":{"foo":null,"bar":null}},
{"comment":"null value should be valid obj property to be removed",
 "doc":{"foo":null},
 "patch":[{"op":"remove","path":"/foo"}],
 "expected":{}},
{"comment":"null value should still be valid obj property replace other value",
 "doc":{"foo":"bar"},
 "patch":[{"op":"replace","path":"/foo","value":null}],
 "expected":{"foo":null}},
{"comment":"test should pass despite rearrangement",
 "doc":{"foo":{"foo":1,"bar":2}},
 "patch":[{"op":"test","path":"/foo","value":{"bar":2,"foo":1}}],
 "expected":{"foo":{"foo":1,"bar":2}}},
{"comment":"test should pass despite (nested) rearrangement",
 "doc":{"foo":[{"foo":1,"bar":2}]},
 "patch":[{"op":"test","path":"/foo","value":[{"bar":2,"foo":1}]}],
 "expected":{"foo":[{"foo":1,"bar":2}]}},
{"comment":"test should pass - no error",
 "doc":{"foo":{"bar":[1,2,5,4]}},
 "patch":[{"op":"test","path":"/foo","value":{"bar":[1,2,5,4]}}],
 "expected":{"foo":{"bar":[1,2,5,4]}}},
{"doc":{"foo":{"bar":[1,2,5,4]}},"patch":[{"op":"test","path":"/foo","value":[1,2]}],"error":"test op should fail"},
{"comment":"Whole document","doc":{"foo":1},"patch":[{"op":"test","path":"","value":{"foo":1}}]},
{"comment":"Empty-string element","doc":{"":1},"patch":[{"op":"test","path":"/","value":1}],"expected":{"":1}},
{"doc":{"foo":["bar","baz"],"":0,"a/b":1,"c%d":2,"e^f":3,"g|h":4,"i\\j":5,"k\"l":6," ":7,"m~n":8},
 "patch":[{"op":"test","path":"/foo","value":["bar","baz"]},{"op":"test","path":"/foo/0","value":"bar"},{"op":"test","path":"/","value":0},{"op":"test","path":"/a~1b","value":1},{"op":"test","path":"/c%d","value":2},{"op":"test","path":"/e^f","value":3},{"op":"test","path":"/g|h","value":4},{"op":"test","path":"/i\\j","value":5},{"op":"test","path":"/k\"l","value":6},{"op":"test","path":"/ ","value":7},{"op":"test","path":"/m~0n","value":8}],
 "expected":{"":0," ":7,"a/b":1,"c%d":2,"e^f":3,"foo":["bar","baz"],"g|h":4,"i\\j":5,"k\"l":6,"m~n":8}},
{"comment":"Move to same location has no effect",
 "doc":{"foo":1},
 "patch":[{"op":"move","from":"/foo","path":"/foo"}],
 "expected":{"foo":1}},
{"doc":{"foo":1,"baz":[{"qux":"hello"}]},
 "patch":[{"op":"move","from":"/foo","path":"/bar"}],
 "expected":{"baz":[{"qux":"hello"}],"bar":1}},
{"doc":{"baz":[{"qux":"hello"}],"bar":1},
 "patch":[{"op":"move","from":"/baz/0/qux","path":"/baz/1"}],
 "expected":{"baz":[{},"hello"],"bar":1}},
{"doc":{"baz":[{"qux":"hello"}],"bar":1},
 "patch":[{"op":"copy","from":"/baz/0","path":"/boo"}],
 "expected":{"baz":[{"qux":"hello"}],"bar":1,"boo":{"qux":"hello"}}},
{"comment":"replacing the root of the document is possible with add",
 "doc":{"foo":"bar"},
 "patch":[{"op":"add","path":"","value":{"baz":"qux"}}],
 "expected":{"baz":"qux"}},
{"comment":"Adding to \"/-\" adds to the end of the array",
 "doc":[1,2],
 "patch":[{"op":"add","path":"/-","value":{"foo":["bar","baz"]}}],
 "expected":[1,2,{"foo":["bar","baz"]}]},
{"comment":"Adding to \"/-\" adds to the end of the array, even n levels down",
 "doc":[1,2,[3,[4,5]]],
 "patch":[{"op":"add","path":"/2/1/-","value":{"foo":["bar","baz"]}}],
 "expected":[1,2,[3,[4,5,{"foo":["bar","baz"]}]]]},
{"comment":"test remove with bad number should fail",
 "doc":{"foo":1,"baz":[{"qux":"hello"}]},
 "patch":[{"op":"remove","path":"/baz/1e0/qux"}],
 "error":"remove op shouldn't remove from array with bad number"},
{"comment":"test remove on array","doc":[1,2,3,4],"patch":[{"op":"remove","path":"/0"}],"expected":[2,3,4]},
{"comment":"test repeated removes",
 "doc":[1,2,3,4],
 "patch":[{"op":"remove","path":"/1"},{"op":"remove","path":"/2"}],
 "expected":[1,3]},
{"comment":"test remove with bad index should fail",
 "doc":[1,2,3,4],
 "patch":[{"op":"remove","path":"/1e0"}],
 "error":"remove op shouldn't remove from array with bad number"},
{"comment":"test replace with bad number should fail",
 "doc":[""],
 "patch":[{"op":"replace","path":"/1e0","value":false}],
 "error":"replace op shouldn't replace in array with bad number"},
{"comment":"test copy with bad number should fail",
 "doc":{"baz":[1,2,3],"bar":1},
 "patch":[{"op":"copy","from":"/baz/1e0","path":"/boo"}],
 "error":"copy op shouldn't work with bad number"},
{"comment":"test move with bad number should fail",
 "doc":{"foo":1,"baz":[1,2,3,4]},
 "patch":[{"op":"move","from":"/baz/1e0","path":"/foo"}],
 "error":"move op shouldn't work with bad number"},
{"comment":"test add with bad number should fail",
 "doc":["foo","sil"],
 "patch":[{"op":"add","path":"/1e0","value":"bar"}],
 "error":"add op shouldn't add to array with bad number"},
{"comment":"missing 'path' parameter",
 "doc":{},
 "patch":[{"op":"add","value":"bar"}],
 "error":"missing 'path' parameter"},
{"comment":"'path' parameter with null value",
 "doc":{},
 "patch":[{"op":"add","path":null,"value":"bar"}],
 "error":"null is not valid value for 'path'"},
{"comment":"missing 'value' parameter to add",
 "doc":[1],
 "patch":[{"op":"add","path":"/-"}],
 "error":"missing 'value' parameter"},
{"comment":"missing 'value' parameter to replace",
 "doc":[1],
 "patch":[{"op":"replace","path":"/0"}],
 "error":"missing 'value' parameter"},
{"comment":"missing 'value' parameter to test",
 "doc":[null],
 "patch":[{"op":"test","path":"/0"}],
 "error":"missing 'value' parameter"},
{"comment":"missing value parameter to test - where undef is falsy",
 "doc":[false],
 "patch":[{"op":"test","path":"/0"}],
 "error":"missing 'value' parameter"},
{"comment":"missing from parameter to copy",
 "doc":[1],
 "patch":[{"op":"copy","path":"/-"}],
 "error":"missing 'from' parameter"},
{"comment":"missing from location to copy",
 "doc":{"foo":1},
 "patch":[{"op":"copy","from":"/bar","path":"/foo"}],
 "error":"missing 'from' location"},
{"comment":"missing from parameter to move",
 "doc":{"foo":1},
 "patch":[{"op":"move","path":""}],
 "error":"missing 'from' parameter"},
{"comment":"missing from location to move",
 "doc":{"foo":1},
 "patch":[{"op":"move","from":"/bar","path":"/foo"}],
 "error":"missing 'from' location"},
{"comment":"unrecognized op should fail",
 "doc":{"foo":1},
 "patch":[{"op":"spam","path":"/foo","value":1}],
 "error":"Unrecognized op 'spam'"},
{"comment":"test with bad array number that has leading zeros",
 "doc":["foo","bar"],
 "patch":[{"op":"test","path":"/00","value":"foo"}],
 "error":"test op should reject the array value, it has leading zeros"},
{"comment":"test with bad array number that has leading zeros",
 "doc":["foo","bar"],
 "patch":[{"op":"test","path":"/01","value":"bar"}],
 "error":"test op should reject the array value, it has leading zeros"},
{"comment":"Removing nonexistent field",
 "doc":{"foo":"bar"},
 "patch":[{"op":"remove","path":"/baz"}],
 "error":"removing a nonexistent field should fail"},
{"comment":"Removing deep nonexistent path",
 "doc":{"foo":"bar"},
 "patch":[{"op":"remove","path":"/missing1/missing2"}],
 "error":"removing a nonexistent field should fail"},
{"comment":"Removing nonexistent index",
 "doc":["foo","bar"],
 "patch":[{"op":"remove","path":"/2"}],
 "error":"removing a nonexistent index should fail"},
{"comment":"Patch with different capitalisation than doc",
 "doc":{"foo":"bar"},
 "patch":[{"op":"add","path":"/FOO","value":"BAR"}],
 "expected":{"foo":"bar","FOO":"BAR"}}
])json";

}  // namespace

// ---------------------------------------------------------------- json.filter

TEST(JsonFilter, Conformance) {
  EXPECT_EQ(call("json.filter", {J("{}"), set({S("a/b")})}), J("{}"));
  EXPECT_EQ(call("json.filter", {J(R"({"a": [{"b": 7, "c": 8}, {"d": 9}]})"), set({S("a/0/b"), S("a/1")})}),
            J(R"({"a": [{"b": 7}, {"d": 9}]})"));
  EXPECT_EQ(call("json.filter",
                 {J(R"({"a": {"b": {"c": 7, "d": 8, "x": 0}}, "e": 9})"), set({S("a/b/d"), J(R"(["a", "b", "c"])")})}),
            J(R"({"a": {"b": {"c": 7, "d": 8}}})"));
}

TEST(JsonFilter, More) {
  Value doc = J(R"({"a": {"b": 1, "c": 2}, "d": [10, 20, 30], "e~f": 3, "g/h": 4})");
  EXPECT_EQ(call("json.filter", {doc, J(R"(["a"])")}), J(R"({"a": {"b": 1, "c": 2}})"));
  EXPECT_EQ(call("json.filter", {doc, J(R"(["a", "a/b"])")}), J(R"({"a": {"b": 1, "c": 2}})"));  // shorter wins
  EXPECT_EQ(call("json.filter", {doc, J(R"(["a/b", "a"])")}), J(R"({"a": {"b": 1, "c": 2}})"));
  EXPECT_EQ(call("json.filter", {doc, J(R"(["d/2", "d/0"])")}), J(R"({"d": [10, 30]})"));  // array order kept
  EXPECT_EQ(call("json.filter", {doc, J(R"(["e~0f", "/g~1h"])")}), J(R"({"e~f": 3, "g/h": 4})"));
  EXPECT_EQ(call("json.filter", {doc, J(R"(["x/y", ""])")}), J("{}"));
  EXPECT_EQ(call("json.filter", {doc, J(R"([["d", 1]])")}), J(R"({"d": []})"));  // numeric segments never match indices
  Value with_set = Value::object({{S("s"), set({S("x"), S("y")})}});
  EXPECT_EQ(call("json.filter", {with_set, J(R"(["s/x"])")}), Value::object({{S("s"), set({S("x")})}}));
  EXPECT_EQ(error_of("json.filter", {J("[]"), J("[]")}),
            "eval_type_error: json.filter: operand 1 must be object but got array");
  EXPECT_EQ(error_of("json.filter", {J("{}"), S("a")}),
            "eval_type_error: json.filter: operand 2 must be one of {set, array} but got string");
  EXPECT_EQ(error_of("json.filter", {J("{}"), J("[1]")}),
            "eval_type_error: json.filter: operand 2 must be one of {set, array} containing string paths or array of "
            "path segments but got number");
}

// ---------------------------------------------------------------- json.remove

TEST(JsonRemove, Conformance) {
  auto rm = [](const char* doc, Value paths) { return call("json.remove", {J(doc), std::move(paths)}); };
  EXPECT_EQ(rm(R"({"a": {"b": {"c": 7, "d": 8}}, "e": 9})", set({S("a/b/c")})), J(R"({"a": {"b": {"d": 8}}, "e": 9})"));
  EXPECT_EQ(rm(R"({"a": {"b": {"c": 7, "d": 8}}, "e": 9})", set({S("a/b/c"), S("e")})), J(R"({"a": {"b": {"d": 8}}})"));
  EXPECT_EQ(rm(R"({"a": {"b": {"c": 7, "d": 8}, "e": 9}})", set({S("a/b/c"), S("a/e")})),
            J(R"({"a": {"b": {"d": 8}}})"));
  EXPECT_EQ(rm(R"({"a": {"b": 7}, "c": 1})", set({S("a"), S("a/b")})), J(R"({"c": 1})"));
  EXPECT_EQ(rm(R"({"a": 7})", set({})), J(R"({"a": 7})"));
  EXPECT_EQ(rm(R"({"a": {"b": 7}, "c": 1})", set({S("a"), S("c")})), J("{}"));
  EXPECT_EQ(rm(R"({"a": [{"b": 7, "c": 8}, {"d": 9}]})", set({S("a/0/b"), S("a/1")})), J(R"({"a": [{"c": 8}]})"));
  EXPECT_EQ(rm(R"({"a": {"b": {"c": 7, "d": 8}}, "e": 9})", set({J(R"(["a", "b", "c"])"), J(R"(["e"])")})),
            J(R"({"a": {"b": {"d": 8}}})"));
  EXPECT_EQ(rm(R"({"a": {"b": {"c": 7, "d": 8, "x": 0}}, "e": 9})", set({S("a/b/d"), J(R"(["a", "b", "c"])")})),
            J(R"({"a": {"b": {"x": 0}}, "e": 9})"));
  auto err = [](Value doc, Value paths) { return error_of("json.remove", {std::move(doc), std::move(paths)}); };
  EXPECT_EQ(err(S("foo"), set({S("a/b/c")})), "eval_type_error: json.remove: operand 1 must be object but got string");
  EXPECT_EQ(err(Value::integer(22), set({S("a/b/c")})),
            "eval_type_error: json.remove: operand 1 must be object but got number");
  EXPECT_EQ(err(J(R"(["a", "b", "c"])"), set({S("a/b/c")})),
            "eval_type_error: json.remove: operand 1 must be object but got array");
  EXPECT_EQ(err(J(R"({"a": {"b": {"c": 123}}})"), Value::integer(22)),
            "eval_type_error: json.remove: operand 2 must be one of {set, array} but got number");
  std::string bad =
      "eval_type_error: json.remove: operand 2 must be one of {set, array} containing string paths or "
      "array of path segments but got object";
  EXPECT_EQ(err(J(R"({"a": {"b": {"c": 123}}})"), set({S("a"), J(R"({"x": 1})"), J(R"({"y": 2})")})), bad);
  EXPECT_EQ(err(J(R"({"a": {"b": {"c": 123}}})"), J(R"(["a", {"x": 1}, {"y": 2}])")), bad);
}

TEST(JsonRemove, Idempotent) {
  Value doc = J(R"({"a": {"b": 2, "c": 3}})");
  EXPECT_EQ(call("json.remove", {doc, set({S("a")})}), J("{}"));
  EXPECT_EQ(call("json.remove", {doc, set({S("a/b")})}), J(R"({"a": {"c": 3}})"));
  EXPECT_EQ(call("json.remove", {doc, set({S("a/c")})}), J(R"({"a": {"b": 2}})"));
  EXPECT_EQ(doc, J(R"({"a": {"b": 2, "c": 3}})"));
}

TEST(JsonRemove, More) {
  Value with_set = Value::object({{S("s"), set({S("x"), S("y")})}});
  EXPECT_EQ(call("json.remove", {with_set, J(R"(["s/x"])")}), Value::object({{S("s"), set({S("y")})}}));
  EXPECT_EQ(call("json.remove", {J(R"({"a": [1, 2, 3]})"), J(R"(["a/0", "a/2", "a/7"])")}), J(R"({"a": [2]})"));
  EXPECT_EQ(call("json.remove", {J(R"({"a": 1})"), J(R"(["", []])")}), J(R"({"a": 1})"));  // empty paths ignored
  EXPECT_EQ(call("json.remove", {J(R"({"": 1, "b": 2})"), J(R"(["/"])")}), J(R"({"b": 2})"));
}

// ---------------------------------------------------------------- json.patch

TEST(JsonPatch, Coverage) {
  EXPECT_TRUE(
      call("json.patch", {J("[1, 2, 3]"), J(R"([{"op": "add", "path": "1.2", "value": "foo"}])")}).is_undefined());
}

TEST(JsonPatch, JsonPatchTestsSuite) {
  Value cases = J(kPatchCases);
  ASSERT_GT(cases.size(), 100u);
  for (const Value& c : cases.array_items()) {
    std::string name = c.get("comment") ? c.get("comment")->str() : to_json(*c.get("patch"));
    Value out = call("json.patch", {*c.get("doc"), *c.get("patch")});
    if (const Value* expected = c.get("expected")) {
      EXPECT_EQ(out, *expected) << name;
    } else if (c.get("error")) {
      EXPECT_TRUE(out.is_undefined()) << name << " gave " << to_rego(out);
    } else {
      EXPECT_TRUE(out.is_defined()) << name;
    }
  }
}

TEST(JsonPatch, SetsAndPaths) {
  auto patch = [](Value doc, const char* ops) { return call("json.patch", {std::move(doc), J(ops)}); };
  Value doc = Value::object({{S("a"), set({Value::integer(1), Value::integer(2)})}});
  EXPECT_EQ(patch(doc, R"([{"op": "add", "path": ["a", 3], "value": 3}])"),
            Value::object({{S("a"), set({Value::integer(1), Value::integer(2), Value::integer(3)})}}));
  EXPECT_TRUE(patch(doc, R"([{"op": "add", "path": ["a", 3], "value": 4}])").is_undefined());  // key must equal value
  EXPECT_EQ(patch(doc, R"([{"op": "remove", "path": ["a", 1]}])"), Value::object({{S("a"), set({Value::integer(2)})}}));
  EXPECT_TRUE(patch(doc, R"([{"op": "remove", "path": ["a", 5]}])").is_undefined());
  // Descending into a set member edits that member; the index must stay within the array.
  Value s = set({J("[0]"), S("a")});
  EXPECT_EQ(
      patch(s, R"([{"op": "add", "path": [[0], 1], "value": 1}, {"op": "add", "path": [[0, 1], 2], "value": 3}])"),
      set({J("[0, 1, 3]"), S("a")}));
  EXPECT_TRUE(patch(s, R"([{"op": "add", "path": [[0], 2], "value": 1}])").is_undefined());
  // Array paths may use numbers and non-string object keys.
  EXPECT_EQ(patch(J(R"({"a": [1, 2]})"), R"([{"op": "replace", "path": ["a", 1], "value": 9}])"),
            J(R"({"a": [1, 9]})"));
  EXPECT_EQ(patch(Value::object({{Value::integer(1), S("x")}}), R"([{"op": "remove", "path": [1]}])"), J("{}"));
  EXPECT_EQ(patch(J("[1, 2]"), R"([{"op": "add", "path": "/+1", "value": 9}])"), J("[1, 9, 2]"));  // Go ParseInt
  EXPECT_EQ(patch(J("[1, 2]"), R"([{"op": "remove", "path": "/-0"}])"), J("[2]"));
  EXPECT_EQ(patch(J("[1, 2]"), R"([{"op": "move", "from": "/0", "path": "/-"}])"), J("[2, 1]"));
  EXPECT_EQ(patch(J(R"({"a": {"b": 1}})"), R"([{"op": "copy", "from": "/a", "path": "/a/c"}])"),
            J(R"({"a": {"b": 1, "c": {"b": 1}}})"));
  EXPECT_TRUE(patch(J(R"({"a": {"b": 1}})"), R"([{"op": "move", "from": "/a", "path": "/a/c"}])").is_undefined());
  EXPECT_EQ(patch(J("5"), R"([{"op": "replace", "path": "", "value": 6}])"), J("6"));
  EXPECT_EQ(patch(J("5"), R"([{"op": "remove", "path": ""}, {"op": "add", "path": "", "value": 7}])"), J("7"));
  EXPECT_TRUE(patch(J("5"), R"([{"op": "remove", "path": ""}])").is_undefined());
  EXPECT_TRUE(patch(J("5"), R"([{"op": "add", "path": "/a", "value": 1}])").is_undefined());
  EXPECT_TRUE(patch(J("{}"), R"([1])").is_undefined());
  EXPECT_TRUE(patch(J("{}"), R"([{"op": 1, "path": "/a", "value": 1}])").is_undefined());
  EXPECT_TRUE(patch(J("{}"), R"([{"op": "add", "path": 1, "value": 1}])").is_undefined());
  EXPECT_EQ(patch(J(R"({"a": 1})"), "[]"), J(R"({"a": 1})"));
  EXPECT_EQ(error_of("json.patch", {J("{}"), J("{}")}),
            "eval_type_error: json.patch: operand 2 must be array but got object");
  EXPECT_EQ(error_of("json.patch", {J("{}"), set({})}),
            "eval_type_error: json.patch: operand 2 must be array but got set");
}

TEST(JsonPatch, LargeDocument) {
  std::string doc = "[";
  for (int i = 0; i < 20000; ++i) doc += (i ? "," : "") + std::to_string(i);
  doc += "]";
  Value out =
      call("json.patch", {J(doc), J(R"([{"op": "remove", "path": "/0"}, {"op": "add", "path": "/-", "value": 0}])")});
  EXPECT_EQ(out.size(), 20000u);
  EXPECT_EQ(out.array_items().back(), Value::integer(0));
}

// ---------------------------------------------------------------- json schema

namespace {

Value schema_error(const char* type, const char* field, const char* desc) {
  return Value::object({{S("error"), S(std::string(field) + ": " + desc)},
                        {S("type"), S(type)},
                        {S("field"), S(field)},
                        {S("desc"), S(desc)}});
}

Value ok_result() { return Value::array({Value::boolean(true), Value::array({})}); }

Value failed(std::vector<Value> errors) {
  return Value::array({Value::boolean(false), Value::array(std::move(errors))});
}

// Both operands as JSON text (OPA parses string operands as JSON).
Value match(const char* doc, const char* schema) { return call("json.match_schema", {S(doc), S(schema)}); }

std::string verify(Value schema) {
  Value r = call("json.verify_schema", {std::move(schema)});
  EXPECT_TRUE(r.is_array() && r.size() == 2);
  if (r.array_items()[0].is_true()) {
    EXPECT_TRUE(r.array_items()[1].is_null());
    return "";
  }
  return r.array_items()[1].str();
}

}  // namespace

TEST(JsonSchema, Conformance) {
  Value schema = J(R"({"properties": {"id": {"type": "integer"}}, "required": ["id"]})");
  EXPECT_EQ(call("json.match_schema", {J(R"({"id": 5})"), schema}), ok_result());
  EXPECT_EQ(call("json.match_schema", {S(R"({"id": 5})"), schema}), ok_result());
  EXPECT_EQ(call("json.match_schema",
                 {J(R"({"id": 5})"), S(R"({"properties": {"id": {"type": "integer"}}, "required": ["id"]})")}),
            ok_result());
  EXPECT_EQ(call("json.match_schema", {J(R"({"id": "foo"})"), schema}),
            failed({schema_error("invalid_type", "id", "Invalid type. Expected: integer, given: string")}));
  EXPECT_EQ(match(R"({"value": "allow"})", R"({"enum": []})"),
            failed({schema_error("enum", "(root)", "(root) must be one of the following: (none)")}));
  EXPECT_EQ(
      error_of("json.match_schema",
               {J(R"({"id": "foo"})"), J(R"({"properties": {"id": {"type": "unknown"}}, "required": ["id"]})")}),
      "eval_builtin_error: json.match_schema: has a primitive type that is NOT VALID -- given: /unknown/ Expected "
      "valid values are:[array boolean integer number null object string]");
}

TEST(JsonSchema, Keywords) {
  EXPECT_EQ(match(R"({"name": "ab"})",
                  R"({"type": "object", "properties": {"name": {"type": "string", "minLength": 3}},
                      "required": ["name", "age"]})"),
            failed({schema_error("required", "(root)", "age is required"),
                    schema_error("string_gte", "name", "String length must be greater than or equal to 3")}));
  EXPECT_EQ(match(R"("c")", R"({"enum": ["a", "b", 1.0]})"),
            failed({schema_error("enum", "(root)", R"((root) must be one of the following: "a", "b", 1)")}));
  EXPECT_EQ(match("1.0", R"({"enum": [1]})"), ok_result());
  EXPECT_EQ(match("6", R"({"const": 5})"), failed({schema_error("const", "(root)", "(root) does not match: 5")}));
  EXPECT_EQ(match(R"({"a": {"b": "<x>"}})", R"({"const": {"a": {"b": "<y>"}}})"),
            failed({schema_error("const", "(root)", R"((root) does not match: {"a":{"b":"\u003cy\u003e"}})")}));
  EXPECT_EQ(match("11", R"({"maximum": 10})"),
            failed({schema_error("number_lte", "(root)", "Must be less than or equal to 10")}));
  EXPECT_EQ(match("10", R"({"exclusiveMaximum": 10})"),
            failed({schema_error("number_lt", "(root)", "Must be less than 10")}));
  EXPECT_EQ(
      match("10", R"({"$schema": "http://json-schema.org/draft-04/schema#", "maximum": 10, "exclusiveMaximum": true})"),
      failed({schema_error("number_lt", "(root)", "Must be less than 10")}));
  EXPECT_EQ(match("1", R"({"minimum": 1.5})"),
            failed({schema_error("number_gte", "(root)", "Must be greater than or equal to 1.5")}));
  EXPECT_EQ(match("1", R"({"exclusiveMinimum": 1})"),
            failed({schema_error("number_gt", "(root)", "Must be greater than 1")}));
  EXPECT_EQ(match("2000000", R"({"maximum": 1000000})"),
            failed({schema_error("number_lte", "(root)", "Must be less than or equal to 1e+06")}));
  EXPECT_EQ(match("0.3", R"({"multipleOf": 0.1})"), ok_result());  // exact, unlike float64
  EXPECT_EQ(match("3", R"({"multipleOf": 2})"),
            failed({schema_error("multiple_of", "(root)", "Must be a multiple of 2")}));
  EXPECT_EQ(match("1e400", R"({"multipleOf": 0.5})"), ok_result());
  EXPECT_EQ(match(R"("ab")", R"({"pattern": "^a+$"})"),
            failed({schema_error("pattern", "(root)", "Does not match pattern '^a+$'")}));
  EXPECT_EQ(match(R"("ééé")", R"({"maxLength": 3})"), ok_result());  // runes, not bytes
  EXPECT_EQ(match(R"("éééé")", R"({"maxLength": 3})"),
            failed({schema_error("string_lte", "(root)", "String length must be less than or equal to 3")}));
  EXPECT_EQ(
      match(R"({"a": 1, "b": 2})", R"({"properties": {"a": {}}, "additionalProperties": false})"),
      failed({schema_error("additional_property_not_allowed", "(root)", "Additional property b is not allowed")}));
  EXPECT_EQ(match(R"({"a": 1, "x1": "s"})",
                  R"({"patternProperties": {"^x": {"type": "integer"}}, "additionalProperties": {"type": "integer"}})"),
            failed({schema_error("invalid_type", "x1", "Invalid type. Expected: integer, given: string")}));
  EXPECT_EQ(match("1", R"({"type": ["string", "null"]})"),
            failed({schema_error("invalid_type", "(root)", "Invalid type. Expected: [string,null], given: integer")}));
  EXPECT_EQ(match("1.5", R"({"type": "integer"})"),
            failed({schema_error("invalid_type", "(root)", "Invalid type. Expected: integer, given: number")}));
  EXPECT_EQ(match("null", R"({"type": "object"})"),
            failed({schema_error("invalid_type", "(root)", "Invalid type. Expected: object, given: null")}));
  EXPECT_EQ(match(R"([1, "a"])", R"({"items": {"type": "integer"}})"),
            failed({schema_error("invalid_type", "1", "Invalid type. Expected: integer, given: string")}));
  EXPECT_EQ(match(R"([1, "a", 3])", R"({"items": [{"type": "integer"}], "additionalItems": false})"),
            failed({schema_error("array_no_additional_items", "(root)", "No additional items allowed on array")}));
  EXPECT_EQ(match("[1]", R"({"minItems": 2, "maxItems": 0})"),
            failed({schema_error("array_min_items", "(root)", "Array must have at least 2 items"),
                    schema_error("array_max_items", "(root)", "Array must have at most 0 items")}));
  EXPECT_EQ(match("[1, 2, 1.0]", R"({"uniqueItems": true})"),
            failed({schema_error("unique", "(root)", "array items[0,2] must be unique")}));
  EXPECT_EQ(match("[1]", R"({"contains": {"type": "string"}})"),
            failed({schema_error("contains", "(root)", "At least one of the items must match"),
                    schema_error("invalid_type", "0", "Invalid type. Expected: string, given: integer")}));
  EXPECT_EQ(match(R"({"a": 1})", R"({"minProperties": 2})"),
            failed({schema_error("array_min_properties", "(root)", "Must have at least 2 properties")}));
  EXPECT_EQ(match(R"({"a": 1})", R"({"maxProperties": 0})"),
            failed({schema_error("array_max_properties", "(root)", "Must have at most 0 properties")}));
  EXPECT_EQ(match(R"({"a": 1})", R"({"dependencies": {"a": ["b"]}})"),
            failed({schema_error("missing_dependency", "(root)", "Has a dependency on b")}));
  EXPECT_EQ(match(R"({"abc": 1})", R"({"propertyNames": {"maxLength": 2}})"),
            failed({schema_error("invalid_property_name", "(root)", R"(Property name of "abc" does not match)"),
                    schema_error("string_lte", "(root)", "String length must be less than or equal to 2")}));
  EXPECT_EQ(match(R"("x")", R"({"format": "email"})"),
            failed({schema_error("format", "(root)", "Does not match format 'email'")}));
  EXPECT_EQ(match("\"x\"", "false"), failed({schema_error("false", "(root)", "False always fails validation")}));
  EXPECT_EQ(match(R"({"a": 1})", R"({"properties": {"a": false}})"),
            failed({schema_error("false", "a", "False always fails validation")}));
}

TEST(JsonSchema, Combinators) {
  EXPECT_EQ(match("3", R"({"anyOf": [{"type": "string"}, {"type": "number", "minimum": 5}]})"),
            failed({schema_error("number_any_of", "(root)", "Must validate at least one schema (anyOf)"),
                    schema_error("number_gte", "(root)", "Must be greater than or equal to 5")}));
  EXPECT_EQ(match("5", R"({"oneOf": [{"type": "number"}, {"minimum": 0}]})"),
            failed({schema_error("number_one_of", "(root)", "Must validate one and only one schema (oneOf)")}));
  EXPECT_EQ(match("5", R"({"oneOf": [{"type": "number"}, {"type": "string"}]})"), ok_result());
  EXPECT_EQ(match(R"("x")", R"({"not": {"type": "string"}})"),
            failed({schema_error("number_not", "(root)", "Must not validate the schema (not)")}));
  EXPECT_EQ(match(R"("abc")", R"({"allOf": [{"type": "string"}, {"maxLength": 2}]})"),
            failed({schema_error("string_lte", "(root)", "String length must be less than or equal to 2"),
                    schema_error("number_all_of", "(root)", "Must validate all the schemas (allOf)")}));
  EXPECT_EQ(match(R"({"a": 1})", R"({"if": {"properties": {"a": {"const": 1}}}, "then": {"required": ["b"]}})"),
            failed({schema_error("condition_then", "(root)", R"(Must validate "then" as "if" was valid)"),
                    schema_error("required", "(root)", "b is required")}));
  EXPECT_EQ(match(R"({"a": 2})", R"({"if": {"properties": {"a": {"const": 1}}}, "else": {"required": ["c"]}})"),
            failed({schema_error("condition_else", "(root)", R"(Must validate "else" as "if" was not valid)"),
                    schema_error("required", "(root)", "c is required")}));
  // Draft 4 has no if/then/else: ignored.
  EXPECT_EQ(match("{}", R"({"$schema": "http://json-schema.org/draft-04/schema#", "if": {}, "then": false})"),
            ok_result());
}

TEST(JsonSchema, References) {
  EXPECT_EQ(match(R"({"n": 0})", R"({"definitions": {"pos": {"type": "integer", "minimum": 1}},
                                     "properties": {"n": {"$ref": "#/definitions/pos"}}})"),
            failed({schema_error("number_gte", "n", "Must be greater than or equal to 1")}));
  const char* tree = R"({"type": "object", "properties": {"child": {"$ref": "#"}}})";
  EXPECT_EQ(match(R"({"child": {"child": {}}})", tree), ok_result());
  EXPECT_EQ(match(R"({"child": {"child": 1}})", tree),
            failed({schema_error("invalid_type", "child.child", "Invalid type. Expected: object, given: integer")}));
  EXPECT_EQ(match(R"({"a": "x"})",
                  R"({"$id": "http://example.com/root.json", "definitions": {"s": {"$id": "#str", "type": "string"}},
                                      "properties": {"a": {"$ref": "#str"}, "b": {"$ref": "root.json#/definitions/s"}}})"),
            ok_result());
  EXPECT_EQ(
      match(R"({"a~b": 1})",
            R"({"definitions": {"x/y": {"type": "string"}}, "properties": {"a~b": {"$ref": "#/definitions/x~1y"}}})"),
      failed({schema_error("invalid_type", "a~b", "Invalid type. Expected: string, given: integer")}));
  EXPECT_EQ(error_of("json.match_schema", {J("{}"), J(R"({"$ref": "#/definitions/missing"})")}),
            "eval_builtin_error: json.match_schema: Object has no key 'definitions'");
  EXPECT_EQ(error_of("json.match_schema", {J("{}"), J(R"({"$ref": "http://example.com/other.json"})")}),
            "eval_builtin_error: json.match_schema: unable to load remote reference http://example.com/other.json");
  // Recursive schemas over deep documents work.
  std::string deep = std::string(300, '[') + std::string(300, ']');
  EXPECT_EQ(call("json.match_schema", {S(deep), J(R"({"type": "array", "items": {"$ref": "#"}})")}), ok_result());
  // A reference that never consumes the document is refused, not a stack overflow.
  EXPECT_EQ(error_of("json.match_schema", {J("{}"), J(R"({"anyOf": [{"$ref": "#"}]})")}),
            "eval_builtin_error: json.match_schema: maximum schema recursion depth exceeded");
  EXPECT_EQ(error_of("json.match_schema", {J("{}"), J(R"({"$ref": "#"})")}),
            "eval_builtin_error: json.match_schema: maximum schema recursion depth exceeded");
}

TEST(JsonSchema, OperandsAndErrors) {
  EXPECT_EQ(error_of("json.match_schema", {S("{"), J("{}")}),
            "eval_builtin_error: json.match_schema: invalid JSON string");
  EXPECT_EQ(error_of("json.match_schema", {Value::integer(1), J("{}")}),
            "eval_builtin_error: json.match_schema: wrong type, expected string or object");
  EXPECT_EQ(error_of("json.match_schema", {J("{}"), Value::boolean(true)}),
            "eval_builtin_error: json.match_schema: wrong type, expected string or object");
  EXPECT_EQ(error_of("json.match_schema", {J("{}"), J("[]")}),
            "eval_builtin_error: json.match_schema: schema is invalid");
  EXPECT_EQ(call("json.match_schema", {J("[1, 2]"), J(R"({"type": "array"})")}), ok_result());
  // Only strings, objects and arrays are accepted (not sets); non-string keys become strings.
  EXPECT_EQ(error_of("json.match_schema", {set({Value::integer(1)}), J(R"({"type": "array"})")}),
            "eval_builtin_error: json.match_schema: wrong type, expected string or object");
  EXPECT_EQ(call("json.match_schema",
                 {J(R"({"a": [1]})"), Value::object({{S("properties"), J(R"({"a": {"type": "array"}})")}})}),
            ok_result());
  EXPECT_EQ(call("json.match_schema", {Value::object({{Value::integer(1), S("x")}}), J(R"({"required": ["1"]})")}),
            ok_result());
}

TEST(JsonSchema, VerifySchema) {
  EXPECT_EQ(call("json.verify_schema", {J(R"({"type": "string"})")}),
            Value::array({Value::boolean(true), Value::null()}));
  EXPECT_EQ(verify(S(R"({"properties": {"a": {"type": "integer"}}})")), "");
  EXPECT_EQ(verify(S("true")), "");
  EXPECT_EQ(verify(J(R"({"type": "unknown"})")),
            "jsonschema: has a primitive type that is NOT VALID -- given: /unknown/ Expected valid values are:[array "
            "boolean integer number null object string]");
  EXPECT_EQ(verify(J(R"({"type": ["string", "string"]})")), "jsonschema: string type is duplicated");
  EXPECT_EQ(verify(J(R"({"type": 1})")), "jsonschema: Invalid type. Expected: type, given: string/array of strings");
  EXPECT_EQ(verify(J(R"({"minLength": -1})")), "jsonschema: minLength must be greater than or equal to 0");
  EXPECT_EQ(verify(J(R"({"minLength": "a"})")), "jsonschema: minLength must be of an integer");
  EXPECT_EQ(verify(J(R"({"minLength": 3, "maxLength": 2})")), "jsonschema: minLength cannot be greater than maxLength");
  EXPECT_EQ(verify(J(R"({"minProperties": 3, "maxProperties": 2})")),
            "jsonschema: minProperties cannot be greater than maxProperties");
  EXPECT_EQ(verify(J(R"({"required": "a"})")), "jsonschema: required must be of an array");
  EXPECT_EQ(verify(J(R"({"required": ["a", "a"]})")), "jsonschema: required items must be unique");
  EXPECT_EQ(verify(J(R"({"required": [1]})")), "jsonschema: Invalid type. Expected: string, given: required");
  EXPECT_EQ(verify(J(R"({"pattern": "["})")), "jsonschema: pattern must be a valid regex");
  EXPECT_EQ(verify(J(R"({"patternProperties": {"[": {}}})")), "jsonschema: Invalid regex pattern '['");
  EXPECT_EQ(verify(J(R"({"multipleOf": 0})")), "jsonschema: multipleOf must be strictly greater than 0");
  EXPECT_EQ(verify(J(R"({"minimum": "1"})")), "jsonschema: minimum must be of a number");
  EXPECT_EQ(verify(J(R"({"exclusiveMinimum": true})")), "jsonschema: exclusiveMinimum cannot be used without minimum");
  EXPECT_EQ(verify(J(R"({"enum": [1, 1.0]})")), "jsonschema: enum items must be unique");
  EXPECT_EQ(verify(J(R"({"enum": 1})")), "jsonschema: enum must be of an array");
  EXPECT_EQ(verify(J(R"({"properties": 1})")), "jsonschema: properties must be of type object");
  EXPECT_EQ(verify(J(R"({"properties": {"a": 1}})")), "jsonschema: Expected: valid schema, given: Invalid JSON");
  EXPECT_EQ(verify(J(R"({"items": 1})")),
            "jsonschema: Invalid type. Expected: valid schema/array of schemas, given: items");
  EXPECT_EQ(verify(J(R"({"additionalProperties": 1})")),
            "jsonschema: Invalid type. Expected: boolean/valid schema, given: additionalProperties");
  EXPECT_EQ(verify(J(R"({"uniqueItems": 1})")), "jsonschema: uniqueItems must be of a boolean");
  EXPECT_EQ(verify(J(R"({"not": 1})")), "jsonschema: not must be of an object");
  EXPECT_EQ(verify(J(R"({"anyOf": {}})")), "jsonschema: anyOf must be of an array");
  EXPECT_EQ(verify(J(R"({"title": 1})")), "jsonschema: Invalid type. Expected: string, given: title");
  EXPECT_EQ(verify(J(R"({"$schema": 1})")), "jsonschema: $schema must be of type string");
  EXPECT_EQ(verify(J(R"({"dependencies": {"a": [1]}})")),
            "jsonschema: dependency must be of type schema or array of strings");
  EXPECT_EQ(verify(J(R"({"$schema": "http://json-schema.org/draft-04/schema#", "properties": {"a": true}})")),
            "jsonschema: Expected: valid schema, given: Invalid JSON");  // no boolean schemas in draft 4
  EXPECT_EQ(verify(S("{")), "jsonschema: invalid JSON string");
  EXPECT_EQ(verify(Value::integer(1)), "jsonschema: wrong type, expected string or object");
  EXPECT_EQ(verify(J("[]")), "jsonschema: schema is invalid");
}

TEST(JsonSchema, Formats) {
  auto fmt = [](const char* format, const char* value) {
    return call("json.match_schema", {S(value), Value::object({{S("format"), S(format)}})}).array_items()[0].is_true();
  };
  EXPECT_TRUE(fmt("date-time", "\"2024-02-29T12:30:00Z\""));
  EXPECT_TRUE(fmt("date-time", "\"2024-02-29T12:30:00.123+05:30\""));
  EXPECT_FALSE(fmt("date-time", "\"2023-02-29T12:30:00Z\""));
  EXPECT_FALSE(fmt("date-time", "\"2024-02-29 12:30:00Z\""));
  EXPECT_TRUE(fmt("date", "\"2024-01-31\""));
  EXPECT_FALSE(fmt("date", "\"2024-1-31\""));
  EXPECT_TRUE(fmt("time", "\"23:59:59\""));
  EXPECT_FALSE(fmt("time", "\"24:00:00\""));
  EXPECT_TRUE(fmt("ipv4", "\"192.168.0.1\""));
  EXPECT_FALSE(fmt("ipv4", "\"192.168.0\""));
  EXPECT_FALSE(fmt("ipv4", "\"192.168.00.1\""));
  EXPECT_TRUE(fmt("ipv6", "\"::1\""));
  EXPECT_FALSE(fmt("ipv6", "\"1.2.3.4\""));
  EXPECT_TRUE(fmt("email", "\"a.b+c@example.com\""));
  EXPECT_TRUE(fmt("email", "\"Joe <joe@example.com>\""));
  EXPECT_FALSE(fmt("email", "\"@example.com\""));
  EXPECT_TRUE(fmt("hostname", "\"api.example.com\""));
  EXPECT_FALSE(fmt("hostname", "\"-bad.example.com\""));
  EXPECT_TRUE(fmt("uuid", "\"123e4567-E89B-12d3-a456-426614174000\""));
  EXPECT_FALSE(fmt("uuid", "\"123e4567\""));
  EXPECT_TRUE(fmt("uri", "\"https://example.com/a?b#c\""));
  EXPECT_FALSE(fmt("uri", "\"/relative\""));
  EXPECT_TRUE(fmt("uri-reference", "\"/relative\""));
  EXPECT_TRUE(fmt("regex", "\"^a+$\""));
  EXPECT_FALSE(fmt("regex", "\"[\""));
  EXPECT_TRUE(fmt("json-pointer", "\"/a/b~0\""));
  EXPECT_FALSE(fmt("json-pointer", "\"a\""));
  EXPECT_TRUE(fmt("unknown-format", "\"anything\""));
  EXPECT_TRUE(fmt("email", "5"));  // formats only constrain strings
}
