// Exact decimal numbers for values that are not int64 integers.
//
// value = coef * 10^exp. Canonical form: coef has no trailing decimal zeros
// (unless it is zero, then exp == 0). OPA keeps number literals as text and
// computes with big.Int/big.Float; an exact decimal reproduces its ordering
// (0.1234567890123456789 > ...788, 1e400 > 1e399) and integer arithmetic.
#pragma once

#include <gmpxx.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "rego/value.h"

namespace confidant::rego {

struct Decimal {
  mpz_class coef;
  int64_t exp = 0;

  Decimal() = default;
  Decimal(mpz_class c, int64_t e) : coef(std::move(c)), exp(e) {}
  explicit Decimal(int64_t i) : coef(static_cast<long>(i)), exp(0) {}

  void normalize();  // strips trailing zeros of coef into exp
  bool is_integer() const { return exp >= 0; }
  int sign() const { return sgn(coef); }
  // Integer value (exp >= 0 assumed); refuses absurd exponents.
  std::optional<mpz_class> to_integer() const;
  double to_double() const;
  // OPA-style text: integers in full, fractions as plain decimals, very large
  // or small magnitudes in e-notation.
  std::string text() const;

  static std::optional<Decimal> parse(std::string_view text);
  static std::optional<Decimal> from_double(double d);  // shortest round-trip digits
};

int compare_decimal(const Decimal& a, const Decimal& b);

// Exact arithmetic on decimals. Division rounds to `digits` significant digits
// when not exact (OPA computes quotients in float64-like precision).
Decimal dec_add(const Decimal& a, const Decimal& b);
Decimal dec_sub(const Decimal& a, const Decimal& b);
Decimal dec_mul(const Decimal& a, const Decimal& b);

// --- OPA's non-integer arithmetic (Go math/big.Float) ------------------------
//
// OPA computes every result that is not an exact integer operation (a quotient
// that does not divide, arithmetic on fractions, sum/product of fractions,
// round/ceil/floor/abs of fractions) with Go's big.Float: operands parsed at a
// 64-bit mantissa, each operation rounded to nearest-even, the result printed
// as the shortest decimal that rounds back to it. BinFloat reproduces that bit
// for bit, so results carry OPA's digits (1/3 = 0.33333333333333333334,
// 3.3 - 1.1 = 2.1999999999999999998, product([1.1, 1.1]) = 1.2100000000000002).
struct BinFloat {
  mpz_class mant;  // signed; value = mant * 2^exp, |mant| < 2^prec
  int64_t exp = 0;
  uint32_t prec = 64;  // the precision Go attaches to the value (formatting depends on it)
};

// Binary exponents beyond this (about 10^120000) are refused: converting such
// a value to decimal would take unbounded time and memory.
constexpr int64_t kMaxBinaryExponent = 400000;

// big.Float.SetString of the decimal's text (precision 64, Go's exact algorithm
// including its double rounding for exponents beyond 5^55). nullopt if huge.
std::optional<BinFloat> binf_from_decimal(const Decimal& d, uint32_t prec = 64);
// big.Float.SetInt (precision max(64, bit length): exact).
BinFloat binf_from_int(const mpz_class& i);
// z.Op(x, y) with z's precision `prec`.
BinFloat binf_add(const BinFloat& x, const BinFloat& y, uint32_t prec);
BinFloat binf_sub(const BinFloat& x, const BinFloat& y, uint32_t prec);
BinFloat binf_mul(const BinFloat& x, const BinFloat& y, uint32_t prec);
BinFloat binf_quo(const BinFloat& x, const BinFloat& y, uint32_t prec);  // y != 0
// big.Float.Int: truncation toward zero.
mpz_class binf_trunc(const BinFloat& x);
int binf_cmp(const BinFloat& x, const BinFloat& y);
// The number OPA produces from a big.Float (Text('g' or 'f', -1): shortest
// decimal that rounds back to x at its precision). nullopt if huge.
std::optional<Decimal> binf_to_decimal(const BinFloat& x);

}  // namespace confidant::rego
