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

}  // namespace confidant::rego
