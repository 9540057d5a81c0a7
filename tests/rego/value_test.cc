#include "rego/value.h"

#include <gtest/gtest.h>

#include "rego/number.h"

using namespace confidant::rego;

namespace {
Value J(const char* s) {
  Value v;
  std::string err;
  EXPECT_TRUE(parse_json(s, v, err)) << err;
  return v;
}
}  // namespace

TEST(Value, NumbersAreCanonical) {
  EXPECT_EQ(Value::number_from_text("3.50"), Value::number_from_text("3.5"));
  EXPECT_EQ(Value::number_from_text("1e2"), Value::integer(100));
  EXPECT_TRUE(Value::number_from_text("1e2").is_small_int());
  EXPECT_EQ(Value::number_from_text("-0"), Value::integer(0));
  EXPECT_LT(Value::number_from_text("0.1234567890123456788"), Value::number_from_text("0.1234567890123456789"));
  EXPECT_LT(Value::number_from_text("1e399"), Value::number_from_text("1e400"));
  EXPECT_LT(Value::integer(0), Value::number_from_text("1e-400"));
  EXPECT_EQ(Value::number_from_text("9223372036854775808").number_text(), "9223372036854775808");
  EXPECT_EQ(Value::real(0.25).number_text(), "0.25");
  EXPECT_EQ(Value::real(2.0).number_text(), "2");
}

TEST(Value, OrderAcrossKinds) {
  EXPECT_LT(Value::null(), Value::boolean(false));
  EXPECT_LT(Value::boolean(true), Value::integer(-5));
  EXPECT_LT(Value::integer(5), Value::string(""));
  EXPECT_LT(Value::string("z"), Value::array({}));
  EXPECT_LT(Value::array({}), Value::empty_object());
  EXPECT_LT(Value::empty_object(), Value::empty_set());
}

TEST(Value, SetsAndObjectsAreSortedAndUnique) {
  Value s = Value::set({Value::integer(3), Value::integer(1), Value::integer(3)});
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s.set_items()[0], Value::integer(1));
  EXPECT_TRUE(s.has(Value::integer(3)));
  EXPECT_FALSE(s.has(Value::integer(2)));
  Value o = J(R"({"b": 1, "a": 2, "b": 3})");
  EXPECT_EQ(to_json(o), R"({"a":2,"b":3})");
  ASSERT_NE(o.get("b"), nullptr);
  EXPECT_EQ(*o.get("b"), Value::integer(3));
  EXPECT_EQ(o.get("c"), nullptr);
}

TEST(Value, JsonRoundTripAndErrors) {
  Value v = J(R"([null, true, 1.5, "a\u00e9\n", {"k": [1e400]}])");
  EXPECT_EQ(to_json(v), "[null,true,1.5,\"a\xc3\xa9\\n\",{\"k\":[1e+400]}]");
  EXPECT_EQ(to_rego(J(R"({"a": [1, "x"]})")), R"({"a": [1, "x"]})");
  EXPECT_EQ(to_rego(Value::empty_set()), "set()");
  // Escapes at every offset of the word-at-a-time scan, and long clean runs.
  for (size_t at = 0; at < 20; ++at) {
    for (char c : {'"', '\\', '\n', '\x01', '\x7f'}) {
      std::string in(20, 'a');
      in[at] = c;
      std::string want = std::string(at, 'a');
      switch (c) {
        case '"': want += "\\\""; break;
        case '\\': want += "\\\\"; break;
        case '\n': want += "\\n"; break;
        case '\x01': want += "\\x01"; break;
        default: want += "\\x7f";
      }
      want += std::string(19 - at, 'a');
      EXPECT_EQ(to_rego(Value::string(in)), "\"" + want + "\"") << at << " " << int(c);
    }
  }
  EXPECT_EQ(to_rego(Value::string(std::string(1000, 'x') + "\xc3\xa9")), "\"" + std::string(1000, 'x') + "\xc3\xa9\"");
  Value out;
  std::string err;
  EXPECT_FALSE(parse_json("[1,", out, err));
  EXPECT_FALSE(parse_json("{\"a\":1} x", out, err));
  EXPECT_NE(err.find("trailing"), std::string::npos);
  std::string deep(5000, '[');
  EXPECT_FALSE(parse_json(deep, out, err));
  EXPECT_NE(err.find("deeply"), std::string::npos);
}
