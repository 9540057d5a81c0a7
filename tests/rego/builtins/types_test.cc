// Type builtins: is_* and type_name, checked against OPA's conformance cases
// (typebuiltin, typenamebuiltin) and every kind of value.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "rego/builtins/builtins.h"

namespace confidant::rego {
namespace {

Value J(std::string_view json) {
  Value v;
  std::string err;
  EXPECT_TRUE(parse_json(json, v, err)) << err;
  return v;
}

class TypesTest : public ::testing::Test {
 protected:
  TypesTest() { register_types(reg_); }
  Value call(std::string_view name, const Value& arg) {
    const BuiltinInfo* b = reg_.find(name);
    EXPECT_NE(b, nullptr) << name;
    if (!b) return Value();
    EXPECT_EQ(b->arity, 1);
    EXPECT_TRUE(b->deterministic);
    return b->fn(ctx_, std::vector<Value>{arg});
  }
  BuiltinRegistry reg_;
  BuiltinContext ctx_;
};

TEST_F(TypesTest, IsFunctionsReturnTrueOrFalseNeverUndefined) {
  const std::vector<std::pair<std::string, Value>> samples = {
      {"is_null", Value::null()},
      {"is_boolean", Value::boolean(false)},
      {"is_number", Value::number_from_text("1.5")},
      {"is_string", Value::string("")},
      {"is_array", J("[]")},
      {"is_object", J("{}")},
      {"is_set", Value::empty_set()},
  };
  for (const auto& [fn, _] : samples) {
    for (const auto& [other_fn, value] : samples) {
      Value out = call(fn, value);
      ASSERT_TRUE(out.is_bool()) << fn;
      EXPECT_EQ(out.as_bool(), fn == other_fn) << fn << "(" << to_rego(value) << ")";
    }
  }
}

TEST_F(TypesTest, ConformanceCases) {
  // typebuiltin
  for (const char* s : {"Hello", "There", "OPA"}) EXPECT_TRUE(call("is_string", Value::string(s)).is_true());
  EXPECT_TRUE(call("is_string", Value::boolean(false)).is_false());
  EXPECT_TRUE(call("is_boolean", Value::boolean(false)).is_true());
  EXPECT_TRUE(call("is_boolean", Value::integer(1)).is_false());
  EXPECT_TRUE(call("is_boolean", Value::string("Hey")).is_false());
  EXPECT_TRUE(call("is_array", J("[1, 2, 3]")).is_true());
  EXPECT_TRUE(call("is_array", J(R"(["a", "b"])")).is_true());
  EXPECT_TRUE(call("is_set", Value::set({Value::integer(1), Value::integer(2), Value::integer(3)})).is_true());
  EXPECT_TRUE(call("is_set", Value::set({Value::string("a"), Value::string("b")})).is_true());
  EXPECT_TRUE(call("is_set", J("[1, 2, 3]")).is_false());
  EXPECT_TRUE(call("is_object", Value::string("foo")).is_false());
  EXPECT_TRUE(call("is_null", Value::boolean(true)).is_false());
  // typenamebuiltin
  EXPECT_EQ(call("type_name", Value::boolean(true)).str(), "boolean");
  EXPECT_EQ(call("type_name", Value::string("Hello")).str(), "string");
  EXPECT_EQ(call("type_name", Value::set({Value::integer(1), Value::integer(2)})).str(), "set");
  EXPECT_EQ(call("type_name", J(R"({"foo": 1})")).str(), "object");
}

TEST_F(TypesTest, TypeNameOfEveryKind) {
  EXPECT_EQ(call("type_name", Value::null()).str(), "null");
  EXPECT_EQ(call("type_name", Value::boolean(false)).str(), "boolean");
  EXPECT_EQ(call("type_name", Value::integer(0)).str(), "number");
  EXPECT_EQ(call("type_name", Value::number_from_text("123456789123456789123456789")).str(), "number");
  EXPECT_EQ(call("type_name", Value::number_from_text("-0.5")).str(), "number");
  EXPECT_EQ(call("type_name", Value::string("\xff")).str(), "string");
  EXPECT_EQ(call("type_name", J("[]")).str(), "array");
  EXPECT_EQ(call("type_name", J("{}")).str(), "object");
  EXPECT_EQ(call("type_name", Value::empty_set()).str(), "set");
}

TEST_F(TypesTest, BigAndFractionalNumbersAreNumbers) {
  EXPECT_TRUE(call("is_number", Value::number_from_text("1e400")).is_true());
  EXPECT_TRUE(call("is_number", Value::number_from_text("0.1")).is_true());
  EXPECT_TRUE(call("is_number", Value::string("1")).is_false());
}

TEST_F(TypesTest, RegistersExactlyTheTypeBuiltins) {
  EXPECT_EQ(reg_.all().size(), 8u);
  for (const char* n :
       {"is_number", "is_string", "is_boolean", "is_array", "is_set", "is_object", "is_null", "type_name"})
    EXPECT_NE(reg_.find(n), nullptr) << n;
}

}  // namespace
}  // namespace confidant::rego
