// units.parse / units.parse_bytes, called directly. The tables port the OPA
// v1 conformance cases in conformance/opa/v1/units (all 126 of them).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "rego/builtins/builtins.h"
#include "rego/number.h"

using namespace confidant::rego;

namespace {

struct Case {
  const char* fn;
  const char* arg;
  const char* want;
};
struct ErrCase {
  const char* fn;
  const char* arg;
  const char* message;
};
struct CmpCase {
  const char* lhs;
  const char* op;
  const char* rhs;
};

// clang-format off
const Case kEqualCases[] = {
    {"units.parse", "500m", "0.5"},
    {"units.parse", "0.0005K", "0.5"},
    {"units.parse", "0.0000005M", "0.5"},
    {"units.parse_bytes", "\"100TIB\"", "109951162777600"},
    {"units.parse_bytes", "0", "0"},
    {"units.parse_bytes", "0.0", "0"},
    {"units.parse_bytes", ".0", "0"},
    {"units.parse_bytes", "12345", "12345"},
    {"units.parse_bytes", "10KB", "10000"},
    {"units.parse_bytes", "10KIB", "10240"},
    {"units.parse_bytes", "10kb", "10000"},
    {"units.parse_bytes", "10Kib", "10240"},
    {"units.parse_bytes", "200mb", "200000000"},
    {"units.parse_bytes", "300GiB", "322122547200"},
    {"units.parse_bytes", "1.1KB", "1100"},
    {"units.parse_bytes", "1.1KiB", "1126"},
    {"units.parse_bytes", ".5KB", "500"},
    {"units.parse_bytes", "100k", "100000"},
    {"units.parse_bytes", "100kb", "100000"},
    {"units.parse_bytes", "100ki", "102400"},
    {"units.parse_bytes", "100kib", "102400"},
    {"units.parse_bytes", "100m", "100000000"},
    {"units.parse_bytes", "100mb", "100000000"},
    {"units.parse_bytes", "100mi", "104857600"},
    {"units.parse_bytes", "100mib", "104857600"},
    {"units.parse_bytes", "100g", "100000000000"},
    {"units.parse_bytes", "100gb", "100000000000"},
    {"units.parse_bytes", "100gi", "107374182400"},
    {"units.parse_bytes", "100gib", "107374182400"},
    {"units.parse_bytes", "100t", "100000000000000"},
    {"units.parse_bytes", "100tb", "100000000000000"},
    {"units.parse_bytes", "100ti", "109951162777600"},
    {"units.parse_bytes", "100tib", "109951162777600"},
    {"units.parse_bytes", "100p", "100000000000000000"},
    {"units.parse_bytes", "100pb", "100000000000000000"},
    {"units.parse_bytes", "100pi", "112589990684262400"},
    {"units.parse_bytes", "100pib", "112589990684262400"},
    {"units.parse_bytes", "10e", "10000000000000000000"},
    {"units.parse_bytes", "10eb", "10000000000000000000"},
    {"units.parse_bytes", "10ei", "11529215046068469760"},
    {"units.parse_bytes", "10eib", "11529215046068469760"},
    {"units.parse_bytes", "1e3KB", "1000000"},
    {"units.parse_bytes", "3.2E2MiB", "335544320"},
    {"units.parse_bytes", "4.5e1GiB", "48318382080"},
    {"units.parse_bytes", "5e6", "5000000"},
    {"units.parse_bytes", "1e-2KB", "10"},
    {"units.parse_bytes", "6.4E1GB", "64000000000"},
    {"units.parse_bytes", "7.5e1TiB", "82463372083200"},
    {"units.parse_bytes", "5e2MiB", "524288000"},
    {"units.parse_bytes", "2e2GiB", "214748364800"},
    {"units.parse", "\"100TI\"", "109951162777600"},
    {"units.parse", "0", "0"},
    {"units.parse", "0.0", "0"},
    {"units.parse", ".0", "0"},
    {"units.parse", "12345", "12345"},
    {"units.parse", "10K", "10000"},
    {"units.parse", "10KI", "10240"},
    {"units.parse", "10k", "10000"},
    {"units.parse", "10Ki", "10240"},
    {"units.parse", "200M", "200000000"},
    {"units.parse", "300Gi", "322122547200"},
    {"units.parse", "1.1K", "1100"},
    {"units.parse", "1.1Ki", "1126.4"},
    {"units.parse", ".5K", "500"},
    {"units.parse", "100k", "100000"},
    {"units.parse", "100K", "100000"},
    {"units.parse", "100ki", "102400"},
    {"units.parse", "100Ki", "102400"},
    {"units.parse", "100M", "100000000"},
    {"units.parse", "100mi", "104857600"},
    {"units.parse", "100Mi", "104857600"},
    {"units.parse", "100g", "100000000000"},
    {"units.parse", "100gi", "107374182400"},
    {"units.parse", "100t", "100000000000000"},
    {"units.parse", "100T", "100000000000000"},
    {"units.parse", "100ti", "109951162777600"},
    {"units.parse", "100Ti", "109951162777600"},
    {"units.parse", "100p", "100000000000000000"},
    {"units.parse", "100P", "100000000000000000"},
    {"units.parse", "100pi", "112589990684262400"},
    {"units.parse", "100Pi", "112589990684262400"},
    {"units.parse", "10e", "10000000000000000000"},
    {"units.parse", "10E", "10000000000000000000"},
    {"units.parse", "10ei", "11529215046068469760"},
    {"units.parse", "10Ei", "11529215046068469760"},
    {"units.parse", "1e10", "10000000000"},
    {"units.parse", "3.2E4", "32000"},
    {"units.parse", "2.5e3K", "2500000"},
    {"units.parse", "1e3M", "1000000000"},
    {"units.parse", "4E2G", "400000000000"},
    {"units.parse", "5e1Gi", "53687091200"},
    {"units.parse", "1e-2", "0.01"},
    {"units.parse", "7.8E-1", "0.78"},
    {"units.parse", "6e3Mi", "6291456000"},
    {"units.parse", "42", "42"},
    {"units.parse", "-3.5E2m", "-0.35"},
};
const Case kNotEqualCases[] = {
    {"units.parse_bytes", "5E", "5"},
    {"units.parse", "5E", "5"},
};
const ErrCase kErrorCases[] = {
    {"units.parse_bytes", "", "units.parse_bytes: no byte amount provided"},
    {"units.parse_bytes", "GB", "units.parse_bytes: no byte amount provided"},
    {"units.parse_bytes", "foo", "units.parse_bytes: no byte amount provided"},
    {"units.parse_bytes", "0.0.0", "units.parse_bytes: could not parse byte amount to a number"},
    {"units.parse_bytes", ".5.2", "units.parse_bytes: could not parse byte amount to a number"},
    {"units.parse_bytes", "100 kb", "units.parse_bytes: spaces not allowed in resource strings"},
    {"units.parse_bytes", " 327MiB ", "units.parse_bytes: spaces not allowed in resource strings"},
    {"units.parse_bytes", "10e10000000EiB", "units.parse_bytes: exponent too large"},
    {"units.parse", "", "units.parse: no amount provided"},
    {"units.parse", "G", "units.parse: no amount provided"},
    {"units.parse", "foo", "units.parse: no amount provided"},
    {"units.parse", "0.0.0", "units.parse: could not parse amount to a number"},
    {"units.parse", ".5.2", "units.parse: could not parse amount to a number"},
    {"units.parse", "100 k", "units.parse: spaces not allowed in resource strings"},
    {"units.parse", " 327Mi ", "units.parse: spaces not allowed in resource strings"},
    {"units.parse", "10e10000000Ei", "units.parse: exponent too large"},
};
const CmpCase kCompareCases[] = {
    {"8k", ">", "7k"},
    {"8g", ">", "8m"},
    {"1234k", "<", "1g"},
    {"1024", "==", "1Ki"},
    {"2Mi", "==", "2097152"},
    {"3Mi", ">", "3M"},
    {"2Mi", "==", "2Mi"},
    {"4Mi", ">", "4M"},
    {"4.1Mi", ">", "4Mi"},
    {"128Gi", "==", "137438953472"},
};
// clang-format on

class UnitsBuiltin : public ::testing::Test {
 protected:
  void SetUp() override { register_units(reg_); }
  Value call(const std::string& fn, std::vector<Value> args) {
    const BuiltinInfo* b = reg_.find(fn);
    EXPECT_NE(b, nullptr) << fn;
    return b->fn(ctx_, args);
  }
  Value call(const std::string& fn, const char* arg) { return call(fn, {Value::string(arg)}); }
  // Returns "code: message" of the error thrown, or "" when none was.
  std::string error_of(const std::string& fn, std::vector<Value> args) {
    try {
      call(fn, std::move(args));
    } catch (const BuiltinError& e) {
      return e.code + ": " + e.what();
    }
    return "";
  }
  BuiltinRegistry reg_;
  BuiltinContext ctx_;
};

Value num(const char* text) { return Value::number_from_text(text); }

}  // namespace

TEST_F(UnitsBuiltin, ConformanceEqual) {
  for (const Case& c : kEqualCases) EXPECT_EQ(call(c.fn, c.arg), num(c.want)) << c.fn << "(" << c.arg << ")";
}

TEST_F(UnitsBuiltin, ConformanceNotEqual) {
  for (const Case& c : kNotEqualCases) EXPECT_NE(call(c.fn, c.arg), num(c.want)) << c.fn << "(" << c.arg << ")";
  EXPECT_EQ(call("units.parse", "5E"), num("5000000000000000000"));
  EXPECT_EQ(call("units.parse_bytes", "5E"), num("5000000000000000000"));
}

TEST_F(UnitsBuiltin, ConformanceErrors) {
  for (const ErrCase& c : kErrorCases) {
    EXPECT_EQ(error_of(c.fn, {Value::string(c.arg)}), std::string("eval_builtin_error: ") + c.message) << c.arg;
  }
}

TEST_F(UnitsBuiltin, ConformanceComparisons) {
  for (const CmpCase& c : kCompareCases) {
    const int cmp = compare(call("units.parse", c.lhs), call("units.parse", c.rhs));
    const std::string op = c.op;
    EXPECT_TRUE(op == "==" ? cmp == 0 : op == "<" ? cmp < 0 : cmp > 0) << c.lhs << " " << op << " " << c.rhs;
  }
}

TEST_F(UnitsBuiltin, ConformanceMilliAndIntegerOutput) {
  // round(units.parse("100m") * 1000) == 100
  EXPECT_EQ(call("units.parse", "100m"), num("0.1"));
  // json.marshal(units.parse("1G")) == json.marshal(1000000000)
  Value g = call("units.parse", "1G");
  EXPECT_TRUE(g.is_small_int());
  EXPECT_EQ(to_json(g), "1000000000");
}

TEST_F(UnitsBuiltin, MilliUsesTheFloat64Value) {
  // 0.001 as a double is slightly above 1/1000; OPA keeps ten decimals.
  EXPECT_EQ(call("units.parse", "1m"), num("0.001"));
  EXPECT_EQ(call("units.parse", "1e20m"), num("100000000000000002.0816681712"));
  // 10^60 cancels the 2^-60 in the double: the product is an integer.
  EXPECT_TRUE(call("units.parse", "1e60m").is_integer());
  EXPECT_EQ(call("units.parse", "0m"), num("0"));
  EXPECT_EQ(call("units.parse", "-1m"), num("-0.001"));
}

TEST_F(UnitsBuiltin, ParseRoundsToTenDecimalsHalfAwayFromZero) {
  EXPECT_EQ(call("units.parse", "0.00000000005"), num("0.0000000001"));
  EXPECT_EQ(call("units.parse", "-0.00000000005"), num("-0.0000000001"));
  EXPECT_EQ(call("units.parse", "0.00000000004"), num("0"));
  EXPECT_EQ(call("units.parse", "1.1Ki"), num("1126.4"));
  EXPECT_EQ(call("units.parse", "1e-400"), num("0"));
}

TEST_F(UnitsBuiltin, UnitCaseRules) {
  EXPECT_EQ(call("units.parse", "1mI"), num("1048576"));  // only letters after the first are lowered
  EXPECT_EQ(call("units.parse", "1MI"), num("1048576"));
  EXPECT_EQ(error_of("units.parse", {Value::string("1mb")}), "eval_builtin_error: units.parse: unit mb not recognized");
  EXPECT_EQ(error_of("units.parse", {Value::string("1KB")}), "eval_builtin_error: units.parse: unit Kb not recognized");
  EXPECT_EQ(error_of("units.parse_bytes", {Value::string("1KQ")}),
            "eval_builtin_error: units.parse_bytes: byte unit kq not recognized");
  EXPECT_EQ(error_of("units.parse_bytes", {Value::string("1kibb")}),
            "eval_builtin_error: units.parse_bytes: byte unit kibb not recognized");
}

TEST_F(UnitsBuiltin, NumberSyntax) {
  EXPECT_EQ(call("units.parse", "+5k"), num("5000"));
  EXPECT_EQ(call("units.parse", "5.k"), num("5000"));
  EXPECT_EQ(call("units.parse", "1E+3"), num("1000"));
  EXPECT_EQ(call("units.parse_bytes", "-2kb"), num("-2000"));
  EXPECT_EQ(call("units.parse_bytes", "-1.5"), num("-1"));  // truncation toward zero
  EXPECT_EQ(call("units.parse_bytes", "0.9"), num("0"));
  for (const char* bad : {"1-2", "1e+", "1e5e5", "--1", "1..2", "."}) {
    EXPECT_EQ(error_of("units.parse", {Value::string(bad)}),
              "eval_builtin_error: units.parse: could not parse amount to a number")
        << bad;
    EXPECT_EQ(error_of("units.parse_bytes", {Value::string(bad)}),
              "eval_builtin_error: units.parse_bytes: could not parse byte amount to a number")
        << bad;
  }
}

TEST_F(UnitsBuiltin, ExponentLimits) {
  EXPECT_EQ(error_of("units.parse", {Value::string("1e1234567")}),
            "eval_builtin_error: units.parse: exponent too large");
  EXPECT_EQ(error_of("units.parse", {Value::string("1e-1234567k")}),
            "eval_builtin_error: units.parse: exponent too large");
  // Six exponent digits are accepted; big.Rat refuses beyond 10^1000000.
  EXPECT_EQ(call("units.parse", "1e999999"), Value::number(Decimal(mpz_class(1), 999999)));
  EXPECT_EQ(error_of("units.parse", {Value::string("0.01e-999999")}),
            "eval_builtin_error: units.parse: could not parse amount to a number");
  EXPECT_EQ(call("units.parse", "0.1e-999999"), num("0"));
  EXPECT_EQ(call("units.parse", "0e999999"), num("0"));
  EXPECT_EQ(call("units.parse_bytes", "1e-999999"), num("0"));
  EXPECT_EQ(call("units.parse_bytes", "12345678901234567890123e-3"), num("12345678901234567890"));
}

TEST_F(UnitsBuiltin, BytesUse64BitMantissa) {
  // big.Float keeps 64 bits: 2^64 + 1 rounds to 2^64.
  EXPECT_EQ(call("units.parse_bytes", "18446744073709551617"), num("18446744073709551616"));
  EXPECT_EQ(call("units.parse", "18446744073709551617"), num("18446744073709551617"));
  EXPECT_EQ(call("units.parse_bytes", "1.1KiB"), num("1126"));
  EXPECT_EQ(call("units.parse_bytes", "0.1kb"), num("100"));
}

TEST_F(UnitsBuiltin, QuotesSpacesAndUtf8) {
  EXPECT_EQ(call("units.parse", "\"1\"k"), num("1000"));
  EXPECT_EQ(error_of("units.parse", {Value::string("1\tk")}),
            "eval_builtin_error: units.parse: unit \tk not recognized");
  EXPECT_EQ(error_of("units.parse_bytes", {Value::string("1k\xff")}),
            "eval_builtin_error: units.parse_bytes: byte unit k\xEF\xBF\xBD not recognized");
  EXPECT_EQ(error_of("units.parse", {Value::string("")}), "eval_builtin_error: units.parse: no amount provided");
}

TEST_F(UnitsBuiltin, TypeErrors) {
  EXPECT_EQ(error_of("units.parse", {Value::integer(1)}),
            "eval_type_error: units.parse: operand 1 must be string but got number");
  EXPECT_EQ(error_of("units.parse_bytes", {Value::null()}),
            "eval_type_error: units.parse_bytes: operand 1 must be string but got null");
}
