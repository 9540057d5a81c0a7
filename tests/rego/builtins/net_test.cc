// net.cidr_* and net.lookup_ip_addr, called directly. Ports the conformance
// cases in conformance/opa/v1/netcidr* and checks Go's net address syntax.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "rego/builtins/builtins.h"

using namespace confidant::rego;

namespace {

class NetBuiltin : public ::testing::Test {
 protected:
  void SetUp() override { register_net(reg_); }
  Value call(const std::string& fn, std::vector<Value> args) {
    const BuiltinInfo* b = reg_.find(fn);
    EXPECT_NE(b, nullptr) << fn;
    EXPECT_EQ(b->arity, static_cast<int>(args.size())) << fn;
    return b->fn(ctx_, args);
  }
  std::string error_of(const std::string& fn, std::vector<Value> args) {
    try {
      call(fn, std::move(args));
    } catch (const BuiltinError& e) {
      return e.code + ": " + e.what();
    }
    return "";
  }
  bool contains(const char* a, const char* b) {
    return call("net.cidr_contains", {Value::string(a), Value::string(b)}).is_true();
  }
  bool intersects(const char* a, const char* b) {
    return call("net.cidr_intersects", {Value::string(a), Value::string(b)}).is_true();
  }
  bool valid(const char* s) { return call("net.cidr_is_valid", {Value::string(s)}).is_true(); }
  Value merge(std::initializer_list<const char*> xs) { return call("net.cidr_merge", {strs(xs)}); }
  Value expand(const char* s) { return call("net.cidr_expand", {Value::string(s)}); }
  static Value strs(std::initializer_list<const char*> xs) {
    ValueVec v;
    for (const char* x : xs) v.push_back(Value::string(x));
    return Value::array(std::move(v));
  }
  static Value set(std::initializer_list<const char*> xs) { return Value::set(strs(xs).array_items()); }
  BuiltinRegistry reg_;
  BuiltinContext ctx_;
};

Value J(const char* s) {
  Value v;
  std::string err;
  EXPECT_TRUE(parse_json(s, v, err)) << err;
  return v;
}

}  // namespace

TEST_F(NetBuiltin, ConformanceContains) {
  EXPECT_TRUE(contains("10.0.0.0/8", "10.1.0.0/24"));
  EXPECT_TRUE(contains("2001:4860:4860::8888/32", "2001:4860:4860:1234::8888/40"));
  EXPECT_TRUE(contains("2001:4860:4860::8888/32", "2001:4860:4860:1234:5678:1234:5678:8888/128"));
  EXPECT_TRUE(contains("10.0.0.0/8", "10.1.2.3"));
  EXPECT_EQ(error_of("net.cidr_contains", {Value::string("not-a-cidr"), Value::string("192.168.1.67")}),
            "eval_builtin_error: net.cidr_contains: invalid CIDR address: not-a-cidr");
  EXPECT_EQ(error_of("net.cidr_contains", {Value::string("192.168.1.0/28"), Value::string("not-a-cidr")}),
            "eval_builtin_error: net.cidr_contains: not a valid textual representation of an IP address or CIDR: "
            "not-a-cidr");
}

TEST_F(NetBuiltin, ConformanceContainsMatches) {
  auto matches = [&](const char* a, const char* b) { return call("net.cidr_contains_matches", {J(a), J(b)}); };
  EXPECT_EQ(matches(R"(["1.1.2.0/24", "1.1.1.0/24"])", R"(["1.1.1.1", "1.1.2.1"])"),
            Value::set({J("[0, 1]"), J("[1, 0]")}));
  EXPECT_EQ(matches(R"([["1.1.2.0/24", 1], "1.1.1.0/24"])", R"(["1.1.1.1", "1.1.2.1"])"),
            Value::set({J("[0, 1]"), J("[1, 0]")}));
  EXPECT_EQ(call("net.cidr_contains_matches", {set({"1.1.1.0/24", "1.1.2.0/24"}), set({"1.1.1.1", "1.1.2.1"})}),
            Value::set({strs({"1.1.1.0/24", "1.1.1.1"}), strs({"1.1.2.0/24", "1.1.2.1"})}));
  const Value lhs = Value::set({J(R"(["1.1.1.0/24", "bar"])"), J(R"(["1.1.2.0/24", "foo"])")});
  const Value rhs = Value::set({Value::integer(1), J(R"(["1.1.2.1", "qux"])")});
  EXPECT_EQ(error_of("net.cidr_contains_matches", {lhs, rhs}),
            "eval_builtin_error: net.cidr_contains_matches: operand 2: element must be string or non-empty array");
}

TEST_F(NetBuiltin, ContainsMatchesShapes) {
  auto matches = [&](const char* a, const char* b) { return call("net.cidr_contains_matches", {J(a), J(b)}); };
  EXPECT_EQ(matches(R"("10.0.0.0/8")", R"("10.1.1.1")"), Value::set({strs({"10.0.0.0/8", "10.1.1.1"})}));
  EXPECT_EQ(matches(R"({"a": "10.0.0.0/8", "b": ["11.0.0.0/8", "x"]})", R"({"k": "10.1.0.0/16"})"),
            Value::set({strs({"a", "k"})}));
  EXPECT_EQ(matches("1", R"("10.1.1.1")"), Value::empty_set());  // neither string nor collection: no pairs
  EXPECT_EQ(matches("[]", "[1]"), Value::empty_set());           // operand 2 never reached
  EXPECT_EQ(error_of("net.cidr_contains_matches", {J("[[]]"), J("[]")}),
            "eval_builtin_error: net.cidr_contains_matches: operand 1: element must be string or non-empty array");
  EXPECT_EQ(error_of("net.cidr_contains_matches", {J("[[1]]"), J(R"(["1.1.1.1"])")}),
            "eval_type_error: net.cidr_contains_matches: operand 1 must be string but got number");
  EXPECT_EQ(error_of("net.cidr_contains_matches", {J(R"(["x"])"), J(R"(["1.1.1.1"])")}),
            "eval_builtin_error: net.cidr_contains_matches: invalid CIDR address: x");
}

TEST_F(NetBuiltin, ConformanceExpand) {
  EXPECT_EQ(expand("192.168.1.1/30"), set({"192.168.1.0", "192.168.1.1", "192.168.1.2", "192.168.1.3"}));
  EXPECT_EQ(error_of("net.cidr_expand", {Value::string("192.168.1.1/33")}),
            "eval_builtin_error: net.cidr_expand: invalid CIDR address: 192.168.1.1/33");
}

TEST_F(NetBuiltin, Expand) {
  EXPECT_EQ(expand("172.16.100.255/30"), set({"172.16.100.252", "172.16.100.253", "172.16.100.254", "172.16.100.255"}));
  EXPECT_EQ(expand("192.168.1.1/32"), set({"192.168.1.1"}));
  EXPECT_EQ(expand("::/127"), set({"::", "::1"}));
  EXPECT_EQ(expand("::ffff:1.2.3.4/127"), set({"1.2.3.4", "1.2.3.5"}));
  EXPECT_EQ(expand("255.255.255.254/31"), set({"255.255.255.254", "255.255.255.255"}));
  EXPECT_EQ(expand("10.0.0.0/12").size(), 1u << 20);
  EXPECT_EQ(error_of("net.cidr_expand", {Value::string("10.0.0.0/11")}),
            "eval_builtin_error: net.cidr_expand: CIDR too large to expand (more than 1048576 addresses)");
  EXPECT_EQ(error_of("net.cidr_expand", {Value::string("::/0")}),
            "eval_builtin_error: net.cidr_expand: CIDR too large to expand (more than 1048576 addresses)");
}

TEST_F(NetBuiltin, ConformanceIntersects) {
  EXPECT_TRUE(intersects("fd1e:5bfe:8af3:9ddc::/64", "fd1e:5bfe:8af3:9ddc:1111::/72"));
  EXPECT_FALSE(intersects("fd1e:5bfe:8af3:9ddc::/64", "2001:4860:4860::8888/32"));
  EXPECT_EQ(error_of("net.cidr_intersects", {Value::string("192.168.1.0/28"), Value::string("not-a-cidr")}),
            "eval_builtin_error: net.cidr_intersects: invalid CIDR address: not-a-cidr");
  EXPECT_TRUE(intersects("192.168.1.0/25", "192.168.1.64/25"));
  EXPECT_FALSE(intersects("192.168.1.0/24", "192.168.2.0/24"));
  EXPECT_FALSE(intersects("10.0.0.0/8", "::/0"));  // different address lengths never overlap
}

TEST_F(NetBuiltin, ConformanceMerge) {
  const char* ip = "2601:600:8a80:207e:a57d:7567:e2c9:e7b3";
  EXPECT_EQ(merge({"2601:600:8a80:207e:a57d:7567:e2c9:e7b3/128"}), set({"2601:600:8a80:207e:a57d:7567:e2c9:e7b3/128"}));
  EXPECT_EQ(merge({"2601:600:8a80:207e:a57d:7567:e2c9:e7b3/128", "2601:600:8a80:207e:a57d:7567:e2c9:e7b3/128"}),
            set({"2601:600:8a80:207e:a57d:7567:e2c9:e7b3/128"}));
  EXPECT_EQ(merge({"2601:600:8a80:207e:a57d:7567:e2c9:e7b3/64", "2601:600:8a80:207e:a57d:7567:e2c9:e7b3/128"}),
            set({"2601:600:8a80:207e::/64"}));
  EXPECT_EQ(error_of("net.cidr_merge", {strs({ip})}),
            "eval_builtin_error: net.cidr_merge: IPv6 invalid: needs prefix length");
  EXPECT_EQ(error_of("net.cidr_merge", {strs({ip, ip})}),
            "eval_builtin_error: net.cidr_merge: IPv6 invalid: needs prefix length");
}

TEST_F(NetBuiltin, Merge) {
  EXPECT_EQ(merge({"192.0.128.0/24", "192.0.129.0/24"}), set({"192.0.128.0/23"}));
  EXPECT_EQ(merge({"1.0.0.0/8", "2.0.0.0/8"}), set({"1.0.0.0/8", "2.0.0.0/8"}));
  EXPECT_EQ(merge({"10.0.0.0/24", "10.0.1.0/24", "10.0.2.0/24"}), set({"10.0.0.0/23", "10.0.2.0/24"}));
  EXPECT_EQ(merge({"10.0.0.0/8", "10.1.0.0/16", "10.0.0.1/32"}), set({"10.0.0.0/8"}));
  EXPECT_EQ(merge({"10.0.0.1/32", "10.0.0.2/32", "10.0.0.3/32", "10.0.0.4/32"}),
            set({"10.0.0.1/32", "10.0.0.2/31", "10.0.0.4/32"}));
  EXPECT_EQ(merge({"0.0.0.0/1", "128.0.0.0/1"}), set({"0.0.0.0/0"}));
  EXPECT_EQ(merge({"0.0.0.0/0", "::/0"}), set({"::/0"}));
  EXPECT_EQ(merge({"::/1", "8000::/1"}), set({"::/0"}));
  EXPECT_EQ(merge({"192.168.1.0/24", "2001:db8::/32"}), set({"192.168.1.0/24", "2001:db8::/32"}));
  EXPECT_EQ(merge({}), Value::empty_set());
  EXPECT_EQ(call("net.cidr_merge", {set({"10.0.1.0/24", "10.0.0.0/24"})}), set({"10.0.0.0/23"}));
  // Bare IPv4 addresses take their classful mask, keeping host bits when
  // printed unmerged (Go's IPNet.String does not mask).
  EXPECT_EQ(merge({"192.168.1.1"}), set({"192.168.1.1/24"}));
  EXPECT_EQ(merge({"10.1.2.3"}), set({"10.1.2.3/8"}));
  EXPECT_EQ(merge({"172.16.0.1", "172.17.0.1"}), set({"172.16.0.0/15"}));
  EXPECT_EQ(merge({"224.0.0.1"}), set({"<nil>"}));
  EXPECT_EQ(merge({"::ffff:1.2.3.0/120"}), set({"1.2.3.0/24"}));
  EXPECT_EQ(merge({"2001:db8:0:0:1:0:0:1/128", "2001:0:0:1::1/128"}),
            set({"2001:db8::1:0:0:1/128", "2001:0:0:1::1/128"}));
}

TEST_F(NetBuiltin, MergeErrors) {
  EXPECT_EQ(error_of("net.cidr_merge", {Value::string("10.0.0.0/8")}),
            "eval_builtin_error: net.cidr_merge: operand must be an array");
  EXPECT_EQ(error_of("net.cidr_merge", {J("[1]")}), "eval_builtin_error: net.cidr_merge: element must be string");
  EXPECT_EQ(error_of("net.cidr_merge", {strs({"10.0.0.0/8", "x"})}),
            "eval_builtin_error: net.cidr_merge: invalid CIDR address: x");
}

TEST_F(NetBuiltin, ContainsEdgeCases) {
  EXPECT_FALSE(contains("10.0.0.0/8", "192.168.1.1"));
  EXPECT_FALSE(contains("172.17.0.0/24", "172.17.0.0/16"));
  EXPECT_FALSE(contains("2001:4860::/96", "2001:4860::/32"));
  EXPECT_FALSE(contains("2001:4860::/32", "fd1e:5bfe:8af3:9ddc::/64"));
  EXPECT_TRUE(contains("10.0.0.0/8", "10.1.1.1/32"));
  EXPECT_TRUE(contains("10.0.0.0/8", "::ffff:10.1.1.1"));  // IPv4-mapped addresses compare as IPv4
  EXPECT_TRUE(contains("0.0.0.0/0", "255.255.255.255"));
  EXPECT_TRUE(contains("::/0", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128"));
  EXPECT_TRUE(contains("::/0", "::/0"));
  EXPECT_FALSE(contains("::/0", "10.0.0.0/8"));
  EXPECT_FALSE(contains("10.0.0.0/8", "::1"));
  // Both operands are reported as "operand 1", as OPA does.
  EXPECT_EQ(error_of("net.cidr_contains", {Value::integer(1), Value::string("x")}),
            "eval_type_error: net.cidr_contains: operand 1 must be string but got number");
  EXPECT_EQ(error_of("net.cidr_contains", {Value::string("10.0.0.0/8"), Value::null()}),
            "eval_type_error: net.cidr_contains: operand 1 must be string but got null");
  EXPECT_EQ(error_of("net.cidr_intersects", {Value::string("10.0.0.0/8"), Value::boolean(true)}),
            "eval_type_error: net.cidr_intersects: operand 1 must be string but got boolean");
}

TEST_F(NetBuiltin, AddressSyntax) {
  for (const char* good : {"10.0.0.0/8", "::/0", "::1/128", "10.0.0.0/08", "0.0.0.0/0", "::1.2.3.4/128",
                           "1:2:3:4:5:6:1.2.3.4/128", "FFFF::/16", "1:2:3:4:5:6:7:8/64", "1::/64", "::ffff:0:0/96"})
    EXPECT_TRUE(valid(good)) << good;
  for (const char* bad : {"10.0.0.0",
                          "10.0.0.0/33",
                          "::/129",
                          "10.0.0.0/+8",
                          "10.0.0.0/",
                          "/8",
                          "010.0.0.0/8",
                          "10.0.0/8",
                          "10.0.0.0.0/8",
                          "256.0.0.0/8",
                          "1::2::3/64",
                          "fe80::1%eth0/64",
                          "1:2:3:4:5:6:7:8:9/64",
                          "12345::/16",
                          ":1::/64",
                          "1:/64",
                          "1:2:3:4:5:6:7::8/64",
                          "1.2.3.4:5/8",
                          "1:2:3:4:5:1.2.3.4/128",
                          " 10.0.0.0/8",
                          "10.0.0.0/8 ",
                          "10.0.0.0/99999999"})
    EXPECT_FALSE(valid(bad)) << bad;
  EXPECT_FALSE(call("net.cidr_is_valid", {Value::integer(1)}).is_true());
  EXPECT_EQ(error_of("net.cidr_contains", {Value::string("10.0.0.0/8"), Value::string("10.0.0.01")}),
            "eval_builtin_error: net.cidr_contains: not a valid textual representation of an IP address or CIDR: "
            "10.0.0.01");
}

TEST_F(NetBuiltin, LookupIsUnavailable) {
  EXPECT_EQ(error_of("net.lookup_ip_addr", {Value::string("localhost")}),
            "eval_builtin_error: net.lookup_ip_addr: lookups are not available");
  EXPECT_EQ(error_of("net.lookup_ip_addr", {Value::integer(1)}),
            "eval_type_error: net.lookup_ip_addr: operand 1 must be string but got number");
  EXPECT_FALSE(reg_.find("net.lookup_ip_addr")->deterministic);
}
