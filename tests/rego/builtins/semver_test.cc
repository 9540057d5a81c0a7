// semver.is_valid / semver.compare, called directly; ports the conformance
// cases in conformance/opa/v1/semvercompare and semverisvalid.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "rego/builtins/builtins.h"

using namespace confidant::rego;

namespace {

class SemverBuiltin : public ::testing::Test {
 protected:
  void SetUp() override { register_semver(reg_); }
  Value valid(Value v) { return reg_.find("semver.is_valid")->fn(ctx_, std::vector<Value>{std::move(v)}); }
  bool valid(const char* s) { return valid(Value::string(s)).is_true(); }
  Value cmp(Value a, Value b) { return reg_.find("semver.compare")->fn(ctx_, std::vector<Value>{a, b}); }
  int64_t cmp(const char* a, const char* b) { return cmp(Value::string(a), Value::string(b)).small_int(); }
  std::string error_of(Value a, Value b) {
    try {
      cmp(a, b);
    } catch (const BuiltinError& e) {
      return e.code + ": " + e.what();
    }
    return "";
  }
  BuiltinRegistry reg_;
  BuiltinContext ctx_;
};

}  // namespace

TEST_F(SemverBuiltin, ConformanceIsValid) {
  for (const char* bad : {"01.2.3", "1.02.3", "1.2.03", "1.2.3-01", "1.2.3-alpha.01", "1.2.3-", "1.2.3+"})
    EXPECT_FALSE(valid(bad)) << bad;
  for (const char* good : {"0.0.0", "1.2.3-0", "1.2.3-0a", "1.2.3+01"}) EXPECT_TRUE(valid(good)) << good;
}

TEST_F(SemverBuiltin, ConformanceCompare) {
  EXPECT_EQ(cmp("1.0.0", "2.0.0"), -1);
  EXPECT_EQ(cmp("2.0.0", "1.0.0"), 1);
  EXPECT_EQ(cmp("1.2.3-0", "1.2.3-1"), -1);
  EXPECT_EQ(cmp("1.2.3+01", "1.2.3+2"), 0);
  EXPECT_EQ(error_of(Value::string("1"), Value::string("1.0.0")),
            "eval_builtin_error: semver.compare: operand 1: string \"1\" is not a valid SemVer");
  EXPECT_EQ(error_of(Value::string("1.02.3"), Value::string("1.2.3")),
            "eval_builtin_error: semver.compare: operand 1: string \"1.02.3\" is not a valid SemVer");
  EXPECT_EQ(error_of(Value::string("1.2.3"), Value::string("1.2.3-01")),
            "eval_builtin_error: semver.compare: operand 2: string \"1.2.3-01\" is not a valid SemVer");
  EXPECT_EQ(error_of(Value::string("1.2.3-"), Value::string("1.2.3")),
            "eval_builtin_error: semver.compare: operand 1: string \"1.2.3-\" is not a valid SemVer");
}

TEST_F(SemverBuiltin, SpecPrecedenceExample) {
  // semver.org item 11: 1.0.0-alpha < 1.0.0-alpha.1 < 1.0.0-alpha.beta < 1.0.0-beta
  // < 1.0.0-beta.2 < 1.0.0-beta.11 < 1.0.0-rc.1 < 1.0.0.
  const char* order[] = {"1.0.0-alpha",  "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta",
                         "1.0.0-beta.2", "1.0.0-beta.11", "1.0.0-rc.1",       "1.0.0"};
  for (size_t i = 0; i < std::size(order); ++i) {
    for (size_t j = 0; j < std::size(order); ++j) {
      EXPECT_EQ(cmp(order[i], order[j]), i < j ? -1 : i > j ? 1 : 0) << order[i] << " vs " << order[j];
    }
  }
  EXPECT_EQ(cmp("1.10.0", "1.9.0"), 1);
  EXPECT_EQ(cmp("1.0.0-99999999999999999999999", "1.0.0-100000000000000000000000"), -1);
  EXPECT_EQ(cmp("1.0.0-a-b", "1.0.0-a"), 1);
}

TEST_F(SemverBuiltin, StrictGrammar) {
  for (const char* bad :
       {"", "1", "1.2", "1.2.3.4", "v1.2.3", " 1.2.3", "1.2.3 ", "1.2.3-a..b", "1.2.3-a_b", "1.2.3+a..b", "-1.2.3",
        "+1.2.3", "1.+2.3", "1.2.x", "1.2.3-\xc3\xa9", "9223372036854775808.0.0"})
    EXPECT_FALSE(valid(bad)) << bad;
  for (const char* good : {"9223372036854775807.0.0", "1.2.3-a-.--", "1.2.3-alpha+001.sha-1", "10.20.30"})
    EXPECT_TRUE(valid(good)) << good;
}

TEST_F(SemverBuiltin, TypesAndQuoting) {
  EXPECT_TRUE(valid(Value::integer(1)).is_false());
  EXPECT_TRUE(valid(Value::null()).is_false());
  EXPECT_EQ(error_of(Value::integer(1), Value::string("1.0.0")),
            "eval_type_error: semver.compare: operand 1 must be string but got number");
  EXPECT_EQ(error_of(Value::string("1.0.0"), Value::array({})),
            "eval_type_error: semver.compare: operand 2 must be string but got array");
  EXPECT_EQ(error_of(Value::string("1.0.0"), Value::string("a\"b")),
            "eval_builtin_error: semver.compare: operand 2: string \"a\\\"b\" is not a valid SemVer");
}
