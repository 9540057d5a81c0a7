// uuid.*, rand.intn, opa.runtime and graph.*, called directly. Ports the
// conformance cases in conformance/opa/v1/{uuid,rand,reachable}.
#include <gtest/gtest.h>

#include <regex>
#include <set>
#include <string>
#include <vector>

#include "rego/builtins/builtins.h"

using namespace confidant::rego;

namespace {

class MiscBuiltin : public ::testing::Test {
 protected:
  void SetUp() override {
    register_misc(reg_);
    ctx_.seed = 42;
  }
  Value call(const std::string& fn, std::vector<Value> args) { return call(ctx_, fn, std::move(args)); }
  Value call(BuiltinContext& ctx, const std::string& fn, std::vector<Value> args) {
    const BuiltinInfo* b = reg_.find(fn);
    EXPECT_NE(b, nullptr) << fn;
    EXPECT_EQ(b->arity, static_cast<int>(args.size())) << fn;
    return b->fn(ctx, args);
  }
  std::string error_of(const std::string& fn, std::vector<Value> args) {
    try {
      call(fn, std::move(args));
    } catch (const BuiltinError& e) {
      return e.code + ": " + e.what();
    }
    return "";
  }
  Value parse(const char* s) { return call("uuid.parse", {Value::string(s)}); }
  BuiltinRegistry reg_;
  BuiltinContext ctx_;
};

Value J(const char* s) {
  Value v;
  std::string err;
  EXPECT_TRUE(parse_json(s, v, err)) << err << " in " << s;
  return v;
}

Value set_of(const char* json_array) { return Value::set(J(json_array).array_items()); }

}  // namespace

// ------------------------------------------------------------------- uuid

TEST_F(MiscBuiltin, ConformanceUuidParse) {
  const Value v1 = J(R"({"clocksequence": 12800, "domain": "Person", "id": 1000, "macvariables": "local:unicast",
                        "nodeid": "32-50-96-b3-9f-47", "time": 1693566990121469600, "variant": "RFC4122",
                        "version": 2})");
  EXPECT_EQ(parse("{00000000-0000-4000-8000-000000000000}"), J(R"({"variant": "RFC4122", "version": 4})"));
  EXPECT_EQ(parse("urn:uuid:000003e8-48b9-21ee-b200-325096b39f47"), v1);
  EXPECT_EQ(parse("6bea8ef2d3d33cd184e09bab06a52ece"), J(R"({"variant": "RFC4122", "version": 3})"));
  EXPECT_EQ(parse("00000000-0000-4000-8000-000000000000"), J(R"({"variant": "RFC4122", "version": 4})"));
  EXPECT_EQ(parse("000003e8-48b9-21ee-b200-325096b39f47"), v1);
  EXPECT_EQ(parse("38074da4-0b00-388d-9c3c-362de965547a"), J(R"({"variant": "RFC4122", "version": 3})"));
  // uuid.parse(123): an operand error, so undefined outside strict mode.
  EXPECT_EQ(error_of("uuid.parse", {Value::integer(123)}),
            "eval_type_error: uuid.parse: operand 1 must be string but got number");
}

TEST_F(MiscBuiltin, UuidParseDetails) {
  EXPECT_TRUE(parse("").is_undefined());
  EXPECT_TRUE(parse("not-a-uuid").is_undefined());
  EXPECT_TRUE(parse("00000000-0000-4000-8000-00000000000g").is_undefined());
  EXPECT_TRUE(parse("00000000+0000-4000-8000-000000000000").is_undefined());
  EXPECT_TRUE(parse("urx:uuid:00000000-0000-4000-8000-000000000000").is_undefined());
  EXPECT_FALSE(parse("URN:UUID:00000000-0000-4000-8000-000000000000").is_undefined());
  EXPECT_FALSE(parse("x00000000-0000-4000-8000-000000000000y").is_undefined());  // braces are not checked
  EXPECT_EQ(parse("00000000-0000-4000-c000-000000000000"), J(R"({"variant": "Microsoft", "version": 4})"));
  EXPECT_EQ(parse("00000000-0000-4000-e000-000000000000"), J(R"({"variant": "Future", "version": 4})"));
  EXPECT_EQ(parse("00000000-0000-0000-0000-000000000000"), J(R"({"variant": "Reserved", "version": 0})"));
  // Version 1: a time-based UUID (2022-02-22 19:22:22 UTC from the RFC 9562 example).
  EXPECT_EQ(parse("C232AB00-9414-11EC-B3C8-9F6BDECED846"),
            J(R"({"clocksequence": 13256, "macvariables": "local:multicast", "nodeid": "9f-6b-de-ce-d8-46",
                  "time": 1645557742000000000, "variant": "RFC4122", "version": 1})"));
  EXPECT_EQ(parse("000003e8-48b9-21ee-b205-3350961b9f47").get("domain")->str(), "Domain5");
}

TEST_F(MiscBuiltin, ConformanceUuidIsStablePerQuery) {
  const Value a = call("uuid.rfc4122", {Value::string("key")});
  for (int i = 0; i < 100; ++i) EXPECT_EQ(call("uuid.rfc4122", {Value::string("key")}), a);
  EXPECT_NE(call("uuid.rfc4122", {Value::string("other")}), a);
  EXPECT_TRUE(
      std::regex_match(a.str(), std::regex("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")))
      << a.str();
  EXPECT_FALSE(reg_.find("uuid.rfc4122")->deterministic);
  EXPECT_TRUE(reg_.find("uuid.parse")->deterministic);
  // Another query (another seed) draws anew; the same seed replays.
  BuiltinContext other;
  other.seed = 43;
  EXPECT_NE(call(other, "uuid.rfc4122", {Value::string("key")}), a);
  BuiltinContext replay;
  replay.seed = 42;
  EXPECT_EQ(call(replay, "uuid.rfc4122", {Value::string("key")}), a);
  // Without a seed the bytes come from the CSPRNG.
  BuiltinContext unseeded, unseeded2;
  EXPECT_NE(call(unseeded, "uuid.rfc4122", {Value::string("key")}),
            call(unseeded2, "uuid.rfc4122", {Value::string("key")}));
  const Value parsed = parse(a.str().c_str());
  EXPECT_EQ(parsed, J(R"({"variant": "RFC4122", "version": 4})"));
  // Any operand works as a key at run time, as in OPA.
  EXPECT_TRUE(call("uuid.rfc4122", {Value::integer(1)}).is_string());
}

// ------------------------------------------------------------------- rand

TEST_F(MiscBuiltin, ConformanceRandIsStablePerQuery) {
  const Value a = call("rand.intn", {Value::string("key"), Value::integer(100)});
  for (int i = 0; i < 100; ++i) EXPECT_EQ(call("rand.intn", {Value::string("key"), Value::integer(100)}), a);
  EXPECT_EQ(call("rand.intn", {Value::string("key"), Value::integer(-100)}), a);  // cached on |n|
  EXPECT_FALSE(reg_.find("rand.intn")->deterministic);
}

TEST_F(MiscBuiltin, RandRangeAndErrors) {
  std::set<int64_t> seen;
  for (int i = 0; i < 200; ++i) {
    const int64_t v = call("rand.intn", {Value::string("k" + std::to_string(i)), Value::integer(10)}).small_int();
    EXPECT_GE(v, 0);
    EXPECT_LT(v, 10);
    seen.insert(v);
  }
  EXPECT_EQ(seen.size(), 10u);
  EXPECT_EQ(call("rand.intn", {Value::string("k"), Value::integer(0)}), Value::integer(0));
  EXPECT_EQ(call("rand.intn", {Value::string("k"), Value::integer(1)}), Value::integer(0));
  const int64_t big = call("rand.intn", {Value::string("k"), Value::integer(INT64_MAX)}).small_int();
  EXPECT_GE(big, 0);
  EXPECT_EQ(error_of("rand.intn", {Value::string("k"), Value::number_from_text("1.5")}),
            "eval_type_error: rand.intn: operand 2 must be integer number but got floating-point number");
  EXPECT_EQ(error_of("rand.intn", {Value::string("k"), Value::string("1")}),
            "eval_type_error: rand.intn: operand 2 must be number but got string");
  EXPECT_EQ(error_of("rand.intn", {Value::integer(1), Value::integer(1)}),
            "eval_type_error: rand.intn: operand 1 must be string but got number");
  EXPECT_EQ(error_of("rand.intn", {Value::string("k"), Value::integer(INT64_MIN)}),
            "eval_builtin_error: rand.intn: invalid argument to Intn");
}

// ------------------------------------------------------------- opa.runtime

TEST_F(MiscBuiltin, Runtime) {
  EXPECT_EQ(call("opa.runtime", {}), Value::empty_object());
  ctx_.runtime = J(R"({"env": {"HOME": "/root"}, "version": "1.0.0"})");
  EXPECT_EQ(call("opa.runtime", {}), ctx_.runtime);
  ctx_.runtime = J(R"({"config": {"services": {"s": {"url": "u", "credentials": {"bearer": "secret"}}},
                                  "keys": {"k": {"algorithm": "RS256", "key": "pem", "private_key": "pk"}},
                                  "labels": {"a": "b"}},
                       "version": "1.0.0"})");
  EXPECT_EQ(call("opa.runtime", {}),
            J(R"({"config": {"services": {"s": {"url": "u"}}, "keys": {"k": {"algorithm": "RS256"}},
                             "labels": {"a": "b"}}, "version": "1.0.0"})"));
  ctx_.runtime = J(R"({"config": {"services": [{"name": "s", "credentials": {}}]}})");
  EXPECT_EQ(call("opa.runtime", {}), J(R"({"config": {"services": [{"name": "s"}]}})"));
  ctx_.runtime = J(R"({"config": {"services": "x"}})");
  EXPECT_EQ(error_of("opa.runtime", {}), "eval_builtin_error: opa.runtime: illegal service config type: string");
  ctx_.runtime = J(R"({"config": {"keys": [1]}})");
  EXPECT_EQ(error_of("opa.runtime", {}), "eval_builtin_error: opa.runtime: illegal keys config type: []interface {}");
  ctx_.runtime = J(R"({"config": {"services": [1]}})");
  EXPECT_EQ(error_of("opa.runtime", {}), "eval_builtin_error: opa.runtime: type assertion error");
  ctx_.runtime = J(R"({"config": "plain"})");
  EXPECT_EQ(call("opa.runtime", {}), ctx_.runtime);
}

// ------------------------------------------------------------------ graph

TEST_F(MiscBuiltin, ConformanceReachable) {
  const Value g = Value::object({
      {Value::string("a"), set_of(R"(["b", "c"])")},
      {Value::string("b"), set_of(R"(["d"])")},
      {Value::string("c"), set_of(R"(["d"])")},
      {Value::string("d"), Value::empty_set()},
      {Value::string("e"), set_of(R"(["f"])")},
      {Value::string("f"), set_of(R"(["e"])")},
      {Value::string("x"), set_of(R"(["x"])")},
  });
  EXPECT_EQ(call("graph.reachable", {g, set_of(R"(["b", "e"])")}), set_of(R"(["b", "d", "e", "f"])"));
  EXPECT_EQ(call("graph.reachable", {J(R"({"a": ["b"], "b": ["c"], "c": ["a"]})"), J(R"(["a"])")}),
            set_of(R"(["a", "b", "c"])"));
  EXPECT_EQ(call("graph.reachable", {J(R"({"a": null})"), J(R"(["a"])")}), set_of(R"(["a"])"));
  EXPECT_EQ(error_of("graph.reachable", {J(R"({"a": []})"), Value::string("a")}),
            "eval_type_error: graph.reachable: operand 2 must be {array, set} but got string");
  EXPECT_EQ(error_of("graph.reachable", {Value::integer(1), J("[1]")}),
            "eval_type_error: graph.reachable: operand 1 must be object but got number");
  EXPECT_EQ(call("graph.reachable", {J(R"({"a": ["zzz"]})"), J(R"(["a", "q"])")}), set_of(R"(["a"])"));
}

TEST_F(MiscBuiltin, ConformanceReachablePaths) {
  auto paths = [&](const Value& g, const Value& init) { return call("graph.reachable_paths", {g, init}); };
  EXPECT_EQ(paths(Value::empty_object(), set_of(R"(["a"])")), Value::empty_set());
  const Value cycle = Value::object({{Value::string("a"), set_of(R"(["b"])")},
                                     {Value::string("b"), set_of(R"(["c"])")},
                                     {Value::string("c"), set_of(R"(["a"])")}});
  EXPECT_EQ(paths(cycle, set_of(R"(["a"])")), set_of(R"([["a", "b", "c"]])"));
  const Value components = Value::object({
      {Value::string("a"), set_of(R"(["b", "c"])")},
      {Value::string("b"), set_of(R"(["d"])")},
      {Value::string("c"), set_of(R"(["d"])")},
      {Value::string("d"), Value::empty_set()},
      {Value::string("e"), set_of(R"(["f"])")},
      {Value::string("f"), set_of(R"(["e"])")},
      {Value::string("x"), set_of(R"(["x"])")},
  });
  EXPECT_EQ(paths(components, set_of(R"(["b", "e"])")), set_of(R"([["b", "d"], ["e", "f"]])"));
  EXPECT_EQ(paths(J(R"({"a": ["b"], "b": ["c"], "c": ["a"]})"), J(R"(["a"])")), set_of(R"([["a", "b", "c"]])"));
  EXPECT_EQ(error_of("graph.reachable_paths", {Value::integer(1), J("[1]")}),
            "eval_type_error: graph.reachable_paths: operand 1 must be object but got number");
  EXPECT_EQ(paths(J(R"({"a": null})"), J(R"(["a"])")), set_of(R"([["a"]])"));
  EXPECT_EQ(error_of("graph.reachable_paths", {J(R"({"a": []})"), Value::string("a")}),
            "eval_type_error: graph.reachable_paths: operand 2 must be {array, set} but got string");
  EXPECT_EQ(paths(J(R"({"a": ["b", "c"], "b": ["c"], "c": []})"), set_of(R"(["a"])")),
            set_of(R"([["a", "b", "c"], ["a", "c"]])"));
  EXPECT_EQ(paths(J(R"({"1": [], "2": ["1"], "3": ["2"], "4": ["3", "2"], "5": ["4"]})"), J(R"(["5"])")),
            set_of(R"([["5", "4", "2", "1"], ["5", "4", "3", "2", "1"]])"));
  EXPECT_EQ(paths(J(R"({"a": ["b"], "b": ["nonexistent"]})"), set_of(R"(["a", "b"])")),
            set_of(R"([["a", "b"], ["b"]])"));
  const char* g1022 = R"({"one": ["two","five"], "two": ["four"], "three": [""], "four": ["three"],
                          "five": ["seven","six"], "six": ["nine"], "seven": ["eight"], "eight": [""], "nine": [""]})";
  const Value want1022 =
      set_of(R"([["one", "five", "seven", "eight"], ["one", "five", "six", "nine"], ["one", "two", "four", "three"]])");
  EXPECT_EQ(paths(J(g1022), set_of(R"(["one"])")), want1022);
  // The same graph with sets as edge collections.
  ObjectItems as_sets;
  const Value g_arrays = J(g1022);
  for (const auto& [k, v] : g_arrays.object_items()) as_sets.emplace_back(k, Value::set(v.array_items()));
  EXPECT_EQ(paths(Value::object(as_sets), set_of(R"(["one"])")), want1022);
  EXPECT_EQ(paths(J(R"({"one": ["two","five"], "two": ["four"], "three": [""], "four": ["three"],
                        "five": ["seven","six"], "six": ["nine","seven"], "seven": ["eight"], "eight": ["three"],
                        "nine": [""]})"),
                  set_of(R"(["one"])")),
            set_of(R"([["one", "five", "seven", "eight", "three"], ["one", "five", "six", "nine"],
                       ["one", "five", "six", "seven", "eight", "three"], ["one", "two", "four", "three"]])"));
}

TEST_F(MiscBuiltin, ReachablePathsSelfLoopsAndOddEdges) {
  auto paths = [&](const char* g, const char* init) { return call("graph.reachable_paths", {J(g), J(init)}); };
  EXPECT_EQ(paths(R"({"a": ["a"]})", R"(["a"])"), set_of(R"([["a", "a"]])"));
  EXPECT_EQ(paths(R"({"a": ["b", "a"], "b": ["a"]})", R"(["a"])"),
            set_of(R"([["a", "a"], ["a", "a", "b"], ["a", "b"]])"));
  EXPECT_EQ(paths(R"({"a": "b", "b": 1})", R"(["a", "b", "c"])"), set_of(R"([["a"], ["b"]])"));
  EXPECT_EQ(call("graph.reachable", {J(R"({"a": "b", "b": 1})"), J(R"(["a"])")}), set_of(R"(["a"])"));
  // Vertices are any values, not only strings.
  const Value numeric = Value::object({{Value::integer(1), J("[2]")}, {Value::integer(2), J("[]")}});
  EXPECT_EQ(call("graph.reachable_paths", {numeric, J("[1]")}), set_of("[[1, 2]]"));
  EXPECT_EQ(call("graph.reachable_paths", {J(R"({"1": [2], "2": []})"), J("[1]")}), Value::empty_set());
}

TEST_F(MiscBuiltin, DeepGraphsDoNotRecurse) {
  ObjectItems g;
  const int n = 100000;
  for (int i = 0; i < n; ++i) g.emplace_back(Value::integer(i), Value::array({Value::integer(i + 1)}));
  const Value graph = Value::object(std::move(g));
  EXPECT_EQ(call("graph.reachable", {graph, J("[0]")}).size(), static_cast<size_t>(n));
  const Value p = call("graph.reachable_paths", {graph, J("[0]")});
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p.set_items()[0].size(), static_cast<size_t>(n));
}
