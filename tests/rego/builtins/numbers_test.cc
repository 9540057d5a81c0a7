// Arithmetic, rounding, range, bitwise and comparison builtins, called
// directly through a local registry. Expected values come from OPA v1 (the
// conformance cases under arithmetic/, bits*/, numbersrange*/, comparisonexpr/)
// and from Go's math/big for the float path.
#include <gtest/gtest.h>

#include <climits>
#include <string>
#include <vector>

#include "rego/builtins/builtins.h"
#include "rego/number.h"

using namespace confidant::rego;

namespace {

const BuiltinRegistry& registry() {
  static const BuiltinRegistry r = [] {
    BuiltinRegistry r;
    register_numbers(r);
    register_comparison(r);
    return r;
  }();
  return r;
}

Value N(const char* text) {
  Value v = Value::number_from_text(text);
  EXPECT_TRUE(v.is_number()) << text;
  return v;
}
Value I(int64_t i) { return Value::integer(i); }
Value S(const char* s) { return Value::string(s); }

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

// The result's text as OPA's sprintf("%v") shows it (the conformance cases do).
std::string text(std::string_view name, std::vector<Value> args) {
  Value v = call(name, std::move(args));
  return v.is_number() ? v.number_text() : "<" + to_rego(v) + ">";
}

// "code: message" of the error the call raises, or "no error".
std::string error(std::string_view name, std::vector<Value> args) {
  try {
    call(name, std::move(args));
  } catch (const BuiltinError& e) {
    return e.code + ": " + e.what();
  }
  return "no error";
}

}  // namespace

TEST(Arithmetic, PlusMinusMulSmallAndOverflow) {
  EXPECT_EQ(call("plus", {I(1), I(2)}), I(3));
  EXPECT_EQ(call("minus", {I(1), I(2)}), I(-1));
  EXPECT_EQ(call("mul", {I(-3), I(4)}), I(-12));
  EXPECT_TRUE(call("plus", {I(1), I(2)}).is_small_int());
  // int64 overflow continues exactly.
  EXPECT_EQ(text("plus", {I(INT64_MAX), I(1)}), "9223372036854775808");
  EXPECT_EQ(text("minus", {I(INT64_MIN), I(1)}), "-9223372036854775809");
  EXPECT_EQ(text("mul", {I(INT64_MAX), I(INT64_MAX)}), "85070591730234615847396907784232501249");
  EXPECT_EQ(text("mul", {I(INT64_MIN), I(-1)}), "9223372036854775808");
  // Back into int64 range after a big operand.
  EXPECT_TRUE(call("minus", {N("9223372036854775808"), I(1)}).is_small_int());
}

TEST(Arithmetic, ConformanceEdges) {
  // arithmetic/test-arithmetic-edges.yaml
  EXPECT_EQ(text("plus", {I(2147483647), I(1)}), "2147483648");
  EXPECT_EQ(text("minus", {I(-2147483648), I(1)}), "-2147483649");
  EXPECT_EQ(text("mul", {I(2147483647), I(2147483647)}), "4611686014132420609");
  EXPECT_EQ(text("mul", {I(-2147483648), I(-2147483648)}), "4611686018427387904");
  EXPECT_EQ(text("plus", {I(2147483648), I(1)}), "2147483649");
  EXPECT_EQ(text("plus", {N("9223372036854775807"), I(1)}), "9223372036854775808");
  EXPECT_EQ(text("plus", {N("1e30"), I(1)}), "1000000000000000000000000000001");
  EXPECT_EQ(text("plus", {N("10.00"), I(5)}), "15");
  EXPECT_EQ(text("abs", {I(-5)}), "5");
  EXPECT_EQ(text("abs", {I(-2147483648)}), "2147483648");
  EXPECT_EQ(text("abs", {N("-9223372036854775808")}), "9223372036854775808");
  EXPECT_EQ(text("abs", {N("-2.5")}), "2.5");
  EXPECT_EQ(text("round", {N("2.5")}), "3");
  EXPECT_EQ(text("round", {N("-2.5")}), "-3");
  EXPECT_EQ(text("round", {N("2.4")}), "2");
  EXPECT_EQ(text("round", {I(-5)}), "-5");
  EXPECT_EQ(text("round", {N("10.00")}), "10");
  EXPECT_EQ(text("div", {I(6), I(3)}), "2");
  EXPECT_EQ(text("div", {I(-6), I(3)}), "-2");
  EXPECT_EQ(text("div", {I(1), I(4)}), "0.25");
  EXPECT_EQ(text("div", {I(0), I(5)}), "0");
  EXPECT_EQ(error("div", {I(1), N("0.0")}), "eval_builtin_error: div: divide by zero");
  EXPECT_EQ(text("rem", {I(-17), I(5)}), "-2");
  EXPECT_EQ(text("rem", {I(17), I(-5)}), "2");
  EXPECT_EQ(text("rem", {N("4.0"), I(3)}), "1");
}

TEST(Arithmetic, ConformanceBignum) {
  // arithmetic/test-arithmetic-bignum.yaml
  EXPECT_EQ(text("plus", {N("18446744073709551617"), I(1)}), "18446744073709551618");
  EXPECT_EQ(text("minus", {N("18446744073709551617"), I(1)}), "18446744073709551616");
  EXPECT_EQ(text("mul", {N("18446744073709551617"), I(2)}), "36893488147419103234");
  EXPECT_EQ(text("plus", {N("123456789012345678901234567890"), I(1)}), "123456789012345678901234567891");
  EXPECT_EQ(text("minus", {N("-18446744073709551617"), I(1)}), "-18446744073709551618");
  EXPECT_EQ(text("plus", {N("1.5"), N("2.5")}), "4");
  EXPECT_EQ(text("plus", {I(1), N("2.5")}), "3.5");
  EXPECT_EQ(text("mul", {N("2.5"), I(2)}), "5");
  EXPECT_EQ(text("rem", {I(10), N("18446744073709551616")}), "10");
  EXPECT_EQ(text("rem", {I(5), N("55340232221128654848")}), "5");
  EXPECT_EQ(text("rem", {I(7), N("340282366920938463463374607431768211456")}), "7");
  EXPECT_EQ(text("rem", {I(100), N("-18446744073709551616")}), "100");
  EXPECT_EQ(text("rem", {N("18446744073709551617"), N("18446744073709551616")}), "1");
  EXPECT_EQ(text("rem", {I(10), N("18446744073709551617")}), "10");
  // arithmetic/test-big-int-0001.yaml
  EXPECT_EQ(call("neq", {N("28857836529306024611913"), N("28857836529306024611912")}), Value::true_value());
}

TEST(Arithmetic, HugeExponentsStayExact) {
  const std::string big = "1" + std::string(399, '0') + "1";
  EXPECT_EQ(call("plus", {N("1e400"), I(1)}), N(big.c_str()));
  EXPECT_EQ(call("mul", {N("1e400"), N("1e400")}), N("1e800"));
  EXPECT_EQ(call("minus", {N("1e400"), N("1e400")}), I(0));
  EXPECT_EQ(text("rem", {N("1e400"), I(7)}), "4");  // 10^400 mod 7 == 10^(400 mod 6) mod 7 == 10^4 mod 7
  EXPECT_EQ(call("div", {N("1e400"), N("1e398")}), I(100));
}

TEST(Arithmetic, FractionsFollowGoBigFloat) {
  // OPA computes non-integer results with a 64-bit mantissa and prints the
  // shortest decimal that reads back to it.
  EXPECT_EQ(text("div", {I(1), I(3)}), "0.33333333333333333334");
  EXPECT_EQ(text("div", {I(2), I(3)}), "0.6666666666666666667");
  EXPECT_EQ(text("div", {I(10), I(4)}), "2.5");
  EXPECT_EQ(text("div", {N("123456789"), I(1000)}), "123456.789");
  EXPECT_EQ(call("div", {N("1e21"), I(7)}), N("142857142857142857144"));
  EXPECT_EQ(call("div", {I(1), N("1e7")}), N("1e-7"));
  EXPECT_EQ(call("div", {I(1), N("3e-10")}), N("3.3333333333333333333e+09"));
  EXPECT_EQ(text("plus", {N("0.1"), N("0.2")}), "0.3");
  EXPECT_EQ(text("minus", {N("3.3"), N("1.1")}), "2.1999999999999999998");
  EXPECT_EQ(text("mul", {N("1.1"), N("1.1")}), "1.21");
  EXPECT_EQ(text("plus", {N("1.0000000000000000000001"), I(1)}), "2");
  EXPECT_EQ(text("div", {I(1), N("-3")}), "-0.33333333333333333334");
  // Integers that divide stay exact even beyond 64 bits.
  EXPECT_EQ(text("div", {N("36893488147419103234"), I(2)}), "18446744073709551617");
  EXPECT_EQ(text("div", {I(INT64_MIN), I(-1)}), "9223372036854775808");
  EXPECT_EQ(text("div", {N("-0.5"), I(-1)}), "0.5");
}

TEST(Arithmetic, DivideRoundConformance) {
  // arithmetic/test-arithmetic-0813.yaml: {round(i / x) | x := [1, 2, 3, 4][i]} == {0, 1}
  std::vector<Value> got;
  for (int64_t i = 0; i < 4; ++i) got.push_back(call("round", {call("div", {I(i), I(i + 1)})}));
  EXPECT_EQ(Value::set(got), Value::set({I(0), I(1)}));
}

TEST(Arithmetic, Errors) {
  EXPECT_EQ(error("plus", {I(1), S("a")}), "eval_type_error: plus: operand 2 must be number but got string");
  EXPECT_EQ(error("plus", {Value::null(), I(1)}), "eval_type_error: plus: operand 1 must be number but got null");
  EXPECT_EQ(error("mul", {Value::array({}), I(1)}), "eval_type_error: mul: operand 1 must be number but got array");
  EXPECT_EQ(error("div", {I(1), S("x")}), "eval_type_error: div: operand 2 must be number but got string");
  EXPECT_EQ(error("div", {I(1), I(0)}), "eval_builtin_error: div: divide by zero");
  EXPECT_EQ(error("div", {N("1.5"), I(0)}), "eval_builtin_error: div: divide by zero");
  EXPECT_EQ(error("div", {N("1e400"), I(0)}), "eval_builtin_error: div: divide by zero");
  EXPECT_EQ(error("rem", {N("1.1"), I(1)}), "eval_builtin_error: rem: modulo on floating-point number");
  EXPECT_EQ(error("rem", {I(1), N("0.5")}), "eval_builtin_error: rem: modulo on floating-point number");
  EXPECT_EQ(error("rem", {N("1.1"), I(0)}), "eval_builtin_error: rem: modulo on floating-point number");
  EXPECT_EQ(error("rem", {I(5), I(0)}), "eval_builtin_error: rem: modulo by zero");
  EXPECT_EQ(error("rem", {N("1e30"), I(0)}), "eval_builtin_error: rem: modulo by zero");
  EXPECT_EQ(text("rem", {I(INT64_MIN), I(-1)}), "0");
  EXPECT_EQ(error("abs", {S("x")}), "eval_type_error: abs: operand 1 must be number but got string");
  EXPECT_EQ(error("round", {Value::boolean(true)}), "eval_type_error: round: operand 1 must be number but got boolean");
}

TEST(Arithmetic, MinusOnSets) {
  Value a = Value::set({I(1), I(2), S("c")});
  Value b = Value::set({S("c"), I(1)});
  EXPECT_EQ(call("minus", {a, b}), Value::set({I(2)}));  // sets/test-sets-0874.yaml
  EXPECT_EQ(call("minus", {a, Value::empty_set()}), a);
  EXPECT_EQ(call("minus", {b, a}), Value::empty_set());
  EXPECT_EQ(call("minus", {Value::empty_set(), a}), Value::empty_set());
  // arithmetic/test-arithmetic-minus-type-error.yaml and the rest of OPA's checks.
  EXPECT_EQ(error("minus", {Value::set({I(1)}), I(1)}), "eval_type_error: minus: operand 2 must be set but got number");
  EXPECT_EQ(error("minus", {I(1), Value::set({I(1)})}), "eval_type_error: minus: operand 2 must be number but got set");
  EXPECT_EQ(error("minus", {S("a"), I(1)}),
            "eval_type_error: minus: operand 1 must be one of {number, set} but got string");
  EXPECT_EQ(error("minus", {Value::set({}), S("a")}),
            "eval_type_error: minus: operand 2 must be number but got string");
}

TEST(Rounding, FloorCeilAbs) {
  // arithmetic/test-arithmetic-0825.yaml
  EXPECT_EQ(text("floor", {N("1.01")}), "1");
  EXPECT_EQ(text("floor", {N("1.5")}), "1");
  EXPECT_EQ(text("floor", {N("99.99999")}), "99");
  EXPECT_EQ(text("floor", {I(1)}), "1");
  EXPECT_EQ(text("floor", {N("-1.001")}), "-2");
  EXPECT_EQ(text("ceil", {N("1.01")}), "2");
  EXPECT_EQ(text("ceil", {N("-1.5")}), "-1");
  EXPECT_EQ(text("ceil", {N("-1.001")}), "-1");
  EXPECT_EQ(text("round", {N("-1.5")}), "-2");
  EXPECT_EQ(text("round", {N("0.5")}), "1");
  EXPECT_EQ(text("round", {N("1e-400")}), "0");
  // OPA's ceil/floor look at the sign of the truncated value, which is +0 for
  // anything in (-1, 0): ceil(-0.5) is 1 and floor(-0.5) is 0 there.
  EXPECT_EQ(text("ceil", {N("-0.5")}), "1");
  EXPECT_EQ(text("floor", {N("-0.5")}), "0");
  EXPECT_EQ(text("floor", {N("0.5")}), "0");
  // Rounding happens on the 64-bit value: this one reads as 0.5 + a half ulp.
  EXPECT_EQ(text("round", {N("0.49999999999999999997")}), "1");
  EXPECT_EQ(call("round", {N("123456789012345678901.5")}), N("123456789012345678904"));
  // Integers are returned unchanged at any size.
  EXPECT_EQ(call("round", {N("18446744073709551617")}), N("18446744073709551617"));
  EXPECT_EQ(call("ceil", {N("1e400")}), N("1e400"));
  EXPECT_EQ(call("abs", {N("-1e400")}), N("1e400"));
  EXPECT_EQ(call("abs", {N("-123456789012345678901234567890")}), N("123456789012345678901234567890"));
  EXPECT_EQ(call("abs", {I(0)}), I(0));
  EXPECT_EQ(text("abs", {N("-0.1234567890123456789012")}), "0.1234567890123456789");
}

TEST(NumbersRange, Conformance) {
  EXPECT_EQ(call("numbers.range", {I(0), I(0)}), Value::array({I(0)}));
  EXPECT_EQ(call("numbers.range", {I(-2), I(3)}), Value::array({I(-2), I(-1), I(0), I(1), I(2), I(3)}));
  EXPECT_EQ(call("numbers.range", {I(2), I(-3)}), Value::array({I(2), I(1), I(0), I(-1), I(-2), I(-3)}));
  EXPECT_EQ(call("numbers.range", {I(5), I(2)}), Value::array({I(5), I(4), I(3), I(2)}));
  EXPECT_EQ(call("numbers.range_step", {I(0), I(10), I(2)}), Value::array({I(0), I(2), I(4), I(6), I(8), I(10)}));
  EXPECT_EQ(call("numbers.range_step", {I(0), I(-10), I(2)}), Value::array({I(0), I(-2), I(-4), I(-6), I(-8), I(-10)}));
  EXPECT_EQ(call("numbers.range_step", {I(10), I(3), I(2)}), Value::array({I(10), I(8), I(6), I(4)}));
  EXPECT_EQ(call("numbers.range_step", {I(1024), I(4096), I(1024)}),
            Value::array({I(1024), I(2048), I(3072), I(4096)}));
  EXPECT_EQ(call("numbers.range_step", {I(2), I(2), I(2)}), Value::array({I(2)}));
  EXPECT_EQ(call("numbers.range_step", {I(2), I(5), I(2)}), Value::array({I(2), I(4)}));
  EXPECT_EQ(call("numbers.range_step", {I(0), I(10), N("99999999999999999999")}), Value::array({I(0)}));
  EXPECT_EQ(error("numbers.range_step", {I(0), I(10), I(-2)}),
            "eval_builtin_error: numbers.range_step: numbers.range_step: step must be a positive integer");
  EXPECT_EQ(error("numbers.range_step", {I(0), I(10), I(0)}),
            "eval_builtin_error: numbers.range_step: numbers.range_step: step must be a positive integer");
}

TEST(NumbersRange, EdgesAndErrors) {
  EXPECT_EQ(call("numbers.range", {I(INT64_MAX - 1), I(INT64_MAX)}), Value::array({I(INT64_MAX - 1), I(INT64_MAX)}));
  EXPECT_EQ(call("numbers.range", {I(INT64_MIN), I(INT64_MIN + 1)}), Value::array({I(INT64_MIN), I(INT64_MIN + 1)}));
  EXPECT_EQ(call("numbers.range_step", {I(INT64_MIN), I(INT64_MAX), I(INT64_MAX)}),
            Value::array({I(INT64_MIN), I(-1), I(INT64_MAX - 1)}));
  EXPECT_EQ(call("numbers.range", {N("18446744073709551616"), N("18446744073709551614")}),
            Value::array({N("18446744073709551616"), N("18446744073709551615"), N("18446744073709551614")}));
  EXPECT_EQ(call("numbers.range", {I(INT64_MAX), N("9223372036854775809")}),
            Value::array({I(INT64_MAX), N("9223372036854775808"), N("9223372036854775809")}));
  EXPECT_EQ(call("numbers.range", {I(0), N("1e6")}).size(), 1000001u);
  EXPECT_EQ(error("numbers.range", {I(INT64_MIN), I(INT64_MAX)}), "eval_builtin_error: numbers.range: range too large");
  EXPECT_EQ(error("numbers.range", {I(0), N("1e30")}), "eval_builtin_error: numbers.range: range too large");
  EXPECT_EQ(error("numbers.range", {N("1.5"), I(2)}),
            "eval_type_error: numbers.range: operand 1 must be integer number but got floating-point number");
  EXPECT_EQ(error("numbers.range", {I(1), S("2")}),
            "eval_type_error: numbers.range: operand 2 must be integer but got string");
  EXPECT_EQ(error("numbers.range_step", {I(1), I(2), N("0.5")}),
            "eval_type_error: numbers.range_step: operand 3 must be integer number but got floating-point number");
}

TEST(Bits, Conformance) {
  EXPECT_EQ(call("bits.and", {I(50), I(0)}), I(0));
  EXPECT_EQ(call("bits.and", {I(7), I(9)}), I(1));
  EXPECT_EQ(call("bits.or", {I(7), I(9)}), I(15));
  EXPECT_EQ(call("bits.or", {I(50), I(0)}), I(50));
  EXPECT_EQ(call("bits.xor", {I(42), I(3)}), I(41));
  EXPECT_EQ(call("bits.xor", {I(42), I(42)}), I(0));
  EXPECT_EQ(call("bits.negate", {I(42)}), I(-43));
  EXPECT_EQ(call("bits.lsh", {I(1), I(3)}), I(8));
  EXPECT_EQ(call("bits.rsh", {I(8), I(3)}), I(1));
  EXPECT_EQ(call("bits.lsh", {I(2147483647), I(1)}), I(4294967294));
  EXPECT_EQ(text("bits.lsh", {I(INT64_MAX), I(1)}), "18446744073709551614");
  for (const char* name : {"bits.and", "bits.or", "bits.xor", "bits.lsh", "bits.rsh"}) {
    EXPECT_EQ(error(name, {N("7.2"), I(42)}), std::string("eval_type_error: ") + name +
                                                  ": operand 1 must be integer number but got floating-point number");
  }
  EXPECT_EQ(error("bits.negate", {N("7.2")}),
            "eval_type_error: bits.negate: operand 1 must be integer number but got floating-point number");
  EXPECT_EQ(error("bits.or", {I(7), S("hi")}), "eval_type_error: bits.or: operand 2 must be integer but got string");
  EXPECT_EQ(error("bits.lsh", {I(7), I(-1)}),
            "eval_type_error: bits.lsh: operand 2 must be an unsigned integer number but got a negative integer");
  EXPECT_EQ(error("bits.rsh", {I(7), I(-1)}),
            "eval_type_error: bits.rsh: operand 2 must be an unsigned integer number but got a negative integer");
}

TEST(Bits, BigAndNegative) {
  // Two's complement of unbounded width, as Go's big.Int.
  EXPECT_EQ(call("bits.and", {I(-1), I(12)}), I(12));
  EXPECT_EQ(call("bits.or", {I(-8), I(3)}), I(-5));
  EXPECT_EQ(call("bits.rsh", {I(-8), I(1)}), I(-4));
  EXPECT_EQ(call("bits.rsh", {I(-1), I(100)}), I(-1));
  EXPECT_EQ(call("bits.rsh", {I(5), I(64)}), I(0));
  EXPECT_EQ(call("bits.lsh", {I(-1), I(63)}), I(INT64_MIN));
  EXPECT_EQ(text("bits.lsh", {I(-1), I(64)}), "-18446744073709551616");
  EXPECT_EQ(text("bits.lsh", {I(1), I(100)}), "1267650600228229401496703205376");
  EXPECT_EQ(call("bits.rsh", {N("1267650600228229401496703205376"), I(100)}), I(1));
  EXPECT_EQ(call("bits.rsh", {N("-1267650600228229401496703205376"), I(200)}), I(-1));
  EXPECT_EQ(call("bits.and", {N("1267650600228229401496703205377"), I(7)}), I(1));
  EXPECT_EQ(text("bits.xor", {N("18446744073709551616"), I(-1)}), "-18446744073709551617");
  EXPECT_EQ(text("bits.negate", {N("18446744073709551616")}), "-18446744073709551617");
  EXPECT_EQ(call("bits.negate", {I(INT64_MIN)}), I(INT64_MAX));
  EXPECT_EQ(call("bits.lsh", {I(0), N("1e30")}), I(0));
  // Go shifts by the count's low 64 bits.
  EXPECT_EQ(call("bits.rsh", {I(8), N("18446744073709551616")}), I(8));
  EXPECT_EQ(error("bits.lsh", {I(1), N("1e10")}), "eval_builtin_error: bits.lsh: shift count too large");
}

TEST(Comparison, TotalOrder) {
  EXPECT_EQ(call("equal", {I(1), I(1)}), Value::true_value());
  EXPECT_EQ(call("equal", {I(0), I(1)}), Value::false_value());
  EXPECT_EQ(call("neq", {I(0), I(1)}), Value::true_value());
  EXPECT_EQ(call("gt", {I(1), I(0)}), Value::true_value());
  EXPECT_EQ(call("gte", {I(1), I(1)}), Value::true_value());
  EXPECT_EQ(call("gte", {I(1), I(2)}), Value::false_value());
  EXPECT_EQ(call("lt", {I(-1), I(0)}), Value::true_value());
  EXPECT_EQ(call("lte", {I(-1), I(0)}), Value::true_value());
  // Across kinds: null < boolean < number < string < array < object < set. Never an error.
  EXPECT_EQ(call("lt", {Value::null(), Value::boolean(false)}), Value::true_value());
  EXPECT_EQ(call("lt", {I(100), S("")}), Value::true_value());
  EXPECT_EQ(call("gt", {Value::empty_set(), Value::empty_object()}), Value::true_value());
  EXPECT_EQ(call("equal", {S("a"), I(1)}), Value::false_value());
}

TEST(Comparison, DecimalsConformance) {
  // comparisonexpr/test-comparisonexpr-decimals.yaml: order(a, b) in {-1, 0, 1}
  auto order = [](const char* a, const char* b) {
    if (call("lt", {N(a), N(b)}).is_true()) return -1;
    if (call("gt", {N(a), N(b)}).is_true()) return 1;
    EXPECT_TRUE(call("equal", {N(a), N(b)}).is_true());
    return 0;
  };
  EXPECT_EQ(order("3", "3.5"), -1);
  EXPECT_EQ(order("3.25", "3.5"), -1);
  EXPECT_EQ(order("3.50", "3.5"), 0);
  EXPECT_EQ(order("1e2", "100"), 0);
  EXPECT_EQ(order("1E+2", "100.0"), 0);
  EXPECT_EQ(order("1e-1", "0.10"), 0);
  EXPECT_EQ(order("0.1", "0.10000000000001"), -1);
  EXPECT_EQ(order("-2.5", "2.5"), -1);
  EXPECT_EQ(order("-2.5", "-2.25"), -1);
  EXPECT_EQ(order("-0", "0"), 0);
  EXPECT_EQ(order("0.0", "0.001"), -1);
  EXPECT_EQ(order("-0.001", "0"), -1);
  EXPECT_EQ(order("0.000000000000001", "0.000000000000002"), -1);
  EXPECT_EQ(order("0.01", "0.001"), 1);
  EXPECT_EQ(order("-0.5", "-0.05"), -1);
  EXPECT_EQ(order("0", "-0.001"), 1);
  EXPECT_EQ(order("-0", "-2.5"), 1);
  EXPECT_EQ(order("123456789012345", "123456789012345.5"), -1);
  EXPECT_EQ(order("999999999999999", "1e15"), -1);
  EXPECT_EQ(order("1e299", "1e-299"), 1);
  EXPECT_EQ(order("-1e299", "1e-299"), -1);
  EXPECT_EQ(order("1e400", "1e399"), 1);
  EXPECT_EQ(order("1e-400", "0"), 1);
  EXPECT_EQ(order("0.1234567890123456789", "0.1234567890123456788"), 1);
  EXPECT_EQ(order("1234567890123456789012", "1234567890123456789013"), -1);
}

// Vectors produced by Go's math/big (OPA's float path): z.Op(x, y) on
// Float.SetString operands, printed with Text('g'/'f', -1).
TEST(BinFloat, MatchesGoMathBig) {
  auto f = [](const char* s) { return *binf_from_decimal(*Decimal::parse(s)); };
  auto d = [](const BinFloat& x) { return Value::number(*binf_to_decimal(x)); };
  EXPECT_EQ(d(binf_quo(f("50e-60"), f("675598428948e277"), 64)), N("7.400846102892349972e-348"));
  EXPECT_EQ(d(binf_mul(f("33609102690775975e-438"), f("23e79"), 64)), N("7.7300936188784742504e-342"));
  EXPECT_EQ(d(binf_quo(f("606879467950340099e-236"), f("711680518762281548340e556"), 64)),
            N("8.527414365729638202e-796"));
  EXPECT_EQ(d(binf_add(f("7961851e-238"), f("2597364e-324"), 64)), N("7.961851e-232"));
  EXPECT_EQ(d(binf_sub(f("1349e-583"), f("86822e-538"), 64)), N("-8.6822e-534"));
  EXPECT_EQ(d(binf_quo(f("58092e46"), f("5957075219366e215"), 64)), N("9.7517653984202367116e-178"));
  EXPECT_EQ(d(binf_mul(f("64686078e-124"), f("9072485520651574351e-219"), 64)), N("5.868635060427383493e-317"));
  EXPECT_EQ(d(binf_quo(f("33498e174"), f("74e505"), 64)), N("4.5267567567567567565e-329"));
  EXPECT_EQ(d(binf_quo(f("4282681040e-410"), f("-9307e406"), 64)), N("-4.6015698291608466745e-811"));
  EXPECT_EQ(d(f("56743107659198508345e-30")), N("5.6743107659198508346e-11"));
  EXPECT_EQ(d(f("9734048142514019737105e-363")), N("9.734048142514019737e-342"));
  EXPECT_EQ(Value::number(Decimal(binf_trunc(f("-55723798254102763780e47")), 0)),
            N("-5572379825410276377926401826821929121493149086157952345766589628416"));
  BinFloat p;  // big.NewFloat(1) * x * y at precision 53
  p.mant = 1;
  p.prec = 53;
  EXPECT_EQ(d(binf_mul(binf_mul(p, f("3e379"), 53), f("1754400490046460024727e-541"), 53)), N("5.26320147013938e-141"));
  EXPECT_EQ(d(binf_mul(binf_mul(p, f("1.1"), 53), f("1.1"), 53)), N("1.2100000000000002"));
  EXPECT_TRUE(binf_from_decimal(*Decimal::parse("1e100000")).has_value());
  EXPECT_FALSE(binf_from_decimal(Decimal(mpz_class(1), 200000)).has_value());  // refused: absurd size
}
