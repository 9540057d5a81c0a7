// units.parse and units.parse_bytes: quantities with SI and binary suffixes.
//
// Ported from OPA's topdown/parse_units.go and parse_bytes.go, including
// their arithmetic: units.parse is exact (big.Rat; "m" multiplies by the
// float64 0.001, non-integers are rounded to 10 decimals as FloatString(10)
// does), units.parse_bytes parses into a 64-bit-mantissa big.Float and
// truncates the product to an integer.
#include <gmpxx.h>

#include <optional>
#include <string>
#include <string_view>

#include "rego/builtins/builtins.h"
#include "rego/number.h"

namespace confidant::rego {
namespace {

constexpr std::string_view kParse = "units.parse";
constexpr std::string_view kParseBytes = "units.parse_bytes";

// OPA rejects scientific-notation exponents longer than this many digits.
constexpr size_t kMaxExponentDigits = 6;

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Go's strings.ToLower as far as it matters here: ASCII letters are lowered,
// and (because Go maps rune by rune) bytes that are not valid UTF-8 become
// U+FFFD. Other letters are kept: they never form a recognised unit anyway.
std::string go_lower(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      out.push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : static_cast<char>(c));
      ++i;
      continue;
    }
    // Length and minimum code point of a well-formed sequence (RFC 3629).
    size_t n = c >= 0xF0 && c <= 0xF4 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 && c <= 0xDF ? 2 : 0;
    bool ok = n > 0 && i + n <= s.size();
    uint32_t cp = n == 2 ? c & 0x1F : n == 3 ? c & 0x0F : c & 0x07;
    for (size_t k = 1; ok && k < n; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      ok = (cc & 0xC0) == 0x80;
      cp = (cp << 6) | (cc & 0x3F);
    }
    if (ok && n == 3) ok = cp >= 0x800 && (cp < 0xD800 || cp > 0xDFFF);
    if (ok && n == 4) ok = cp >= 0x10000 && cp <= 0x10FFFF;
    if (ok) {
      out.append(s.substr(i, n));
      i += n;
    } else {
      out += "\xEF\xBF\xBD";
      ++i;
    }
  }
  return out;
}

// extractNumAndUnit: splits "10.5e3Ki" into "10.5e3" and "Ki". An 'e' or 'E'
// belongs to the number only when a digit or sign follows it. nullopt when an
// exponent has too many digits.
struct NumUnit {
  std::string_view num, unit;
};
std::optional<NumUnit> extract_num_and_unit(std::string_view s) {
  size_t first_non_num = std::string_view::npos;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    const bool e = c == 'e' || c == 'E';
    if (!is_digit(c) && c != '.' && !e && c != '+' && c != '-') {
      first_non_num = i;
      break;
    }
    if (!e) continue;
    if (i + 1 == s.size() || (!is_digit(s[i + 1]) && s[i + 1] != '+' && s[i + 1] != '-')) {
      first_non_num = i;
      break;
    }
    if (s[i + 1] == '+' || s[i + 1] == '-') ++i;
    size_t end = i + 1;
    while (end < s.size() && is_digit(s[end])) ++end;
    if (end - (i + 1) > kMaxExponentDigits) return std::nullopt;
  }
  if (first_non_num == std::string_view::npos) return NumUnit{s, ""};
  return NumUnit{s.substr(0, first_non_num), s.substr(first_non_num)};
}

// A decimal literal as Go's big.Rat and big.Float scanners accept it here:
// [+-] digits [. digits] [(e|E) [+-] digits], at least one mantissa digit.
// value = (neg ? -1 : 1) * mant * 10^exp10; `mant` keeps the digits as written.
struct GoDecimalText {
  bool neg = false;
  mpz_class mant;
  int64_t exp10 = 0;
};
std::optional<GoDecimalText> parse_go_decimal(std::string_view s) {
  GoDecimalText d;
  size_t p = 0;
  if (p < s.size() && (s[p] == '+' || s[p] == '-')) d.neg = s[p++] == '-';
  std::string digits;
  int64_t frac = 0;
  bool point = false;
  for (; p < s.size(); ++p) {
    if (is_digit(s[p])) {
      digits.push_back(s[p]);
      if (point) ++frac;
    } else if (s[p] == '.' && !point) {
      point = true;
    } else {
      break;
    }
  }
  if (digits.empty()) return std::nullopt;
  int64_t exp = 0;
  if (p < s.size() && (s[p] == 'e' || s[p] == 'E')) {
    ++p;
    bool eneg = false;
    if (p < s.size() && (s[p] == '+' || s[p] == '-')) eneg = s[p++] == '-';
    const size_t start = p;
    while (p < s.size() && is_digit(s[p])) {
      if (p - start >= 18) return std::nullopt;  // strconv.ParseInt range error
      exp = exp * 10 + (s[p++] - '0');
    }
    if (p == start) return std::nullopt;
    if (eneg) exp = -exp;
  }
  if (p != s.size()) return std::nullopt;
  d.mant.set_str(digits, 10);
  d.exp10 = exp - frac;
  return d;
}

mpz_class pow10(uint64_t n) {
  mpz_class p;
  mpz_ui_pow_ui(p.get_mpz_t(), 10, static_cast<unsigned long>(n));
  return p;
}

// An integer as a canonical number, stripping factors of ten with one GMP call
// (Decimal::normalize divides them out one at a time).
Value integer_value(const mpz_class& i) {
  Decimal d(i, 0);
  if (d.coef != 0) {
    mpz_class ten(10);
    d.exp = static_cast<int64_t>(mpz_remove(d.coef.get_mpz_t(), d.coef.get_mpz_t(), ten.get_mpz_t()));
  }
  return Value::number(d);
}

// units.parse multipliers. "m" is milli as the float64 0.001 that OPA uses.
std::optional<mpq_class> si_multiplier(const std::string& unit) {
  struct Unit {
    std::string_view a, b;
    unsigned long base, power;
  };
  static constexpr Unit kUnits[] = {
      {"", "", 1, 0},        {"k", "K", 1000, 1},   {"ki", "Ki", 1024, 1}, {"M", "M", 1000, 2},   {"mi", "Mi", 1024, 2},
      {"g", "G", 1000, 3},   {"gi", "Gi", 1024, 3}, {"t", "T", 1000, 4},   {"ti", "Ti", 1024, 4}, {"p", "P", 1000, 5},
      {"pi", "Pi", 1024, 5}, {"e", "E", 1000, 6},   {"ei", "Ei", 1024, 6},
  };
  if (unit == "m") return mpq_class(0.001);  // the exact binary value of the double
  for (const Unit& u : kUnits) {
    if (unit != u.a && unit != u.b) continue;
    mpz_class r;
    mpz_ui_pow_ui(r.get_mpz_t(), u.base, u.power);
    return mpq_class(r);
  }
  return std::nullopt;
}

Value units_parse(BuiltinContext&, std::span<const Value> args) {
  std::string s;
  for (char c : arg_string(kParse, args, 0))
    if (c != '"') s.push_back(c);  // OPA drops quotes, for parity with parse_bytes
  if (s.find(' ') != std::string::npos) builtin_error(kParse, "spaces not allowed in resource strings");
  auto split = extract_num_and_unit(s);
  if (!split) builtin_error(kParse, "exponent too large");
  if (split->num.empty()) builtin_error(kParse, "no amount provided");
  // Only the letters after the first are case-insensitive, so "m" (milli)
  // and "M" (mega) stay distinct.
  std::string unit(split->unit);
  if (unit.size() > 1) unit = unit.substr(0, 1) + go_lower(std::string_view(unit).substr(1));
  auto mult = si_multiplier(unit);
  if (!mult) builtin_error(kParse, "unit " + unit + " not recognized");
  auto num = parse_go_decimal(split->num);
  // big.Rat refuses decimal exponents beyond 1e6 (zero is accepted first).
  if (!num || (num->mant != 0 && (num->exp10 > 1000000 || num->exp10 < -1000000)))
    builtin_error(kParse, "could not parse amount to a number");
  mpq_class x(num->neg ? mpz_class(-num->mant) : num->mant);
  if (num->exp10 > 0) x *= mpq_class(pow10(static_cast<uint64_t>(num->exp10)));
  if (num->exp10 < 0) x /= mpq_class(pow10(static_cast<uint64_t>(-num->exp10)));
  x *= *mult;
  if (x.get_den() == 1) return integer_value(x.get_num());
  // Rat.FloatString(10): ten decimals, the last rounded half away from zero.
  const mpz_class scale = pow10(10);
  mpz_class a = abs(x.get_num()) * scale, q, r;
  mpz_tdiv_qr(q.get_mpz_t(), r.get_mpz_t(), a.get_mpz_t(), x.get_den_mpz_t());
  if (2 * r >= x.get_den()) ++q;
  if (sgn(x) < 0) q = -q;
  Decimal d(q, -10);
  d.normalize();
  return Value::number(d);
}

// units.parse_bytes multipliers (the unit is already lower case).
std::optional<uint64_t> byte_multiplier(std::string_view unit) {
  if (unit.empty()) return 1;
  static constexpr std::string_view letters = "kmgtpe";
  const size_t n = letters.find(unit[0]);
  if (n == std::string_view::npos) return std::nullopt;
  uint64_t si = 1, bin = 1;
  for (size_t i = 0; i <= n; ++i) si *= 1000, bin *= 1024;
  const std::string_view rest = unit.substr(1);
  if (rest.empty() || rest == "b") return si;
  if (rest == "i" || rest == "ib") return bin;
  return std::nullopt;
}

Value units_parse_bytes(BuiltinContext&, std::span<const Value> args) {
  std::string s;
  for (char c : go_lower(arg_string(kParseBytes, args, 0)))
    if (c != '"') s.push_back(c);
  if (s.find(' ') != std::string::npos) builtin_error(kParseBytes, "spaces not allowed in resource strings");
  auto split = extract_num_and_unit(s);
  if (!split) builtin_error(kParseBytes, "exponent too large");
  if (split->num.empty()) builtin_error(kParseBytes, "no byte amount provided");
  auto mult = byte_multiplier(split->unit);
  if (!mult) builtin_error(kParseBytes, "byte unit " + std::string(split->unit) + " not recognized");
  auto num = parse_go_decimal(split->num);
  if (!num) builtin_error(kParseBytes, "could not parse byte amount to a number");
  if (num->mant == 0) return Value::integer(0);
  // big.Float.SetString at 64 bits (Go's own rounding steps), times the unit,
  // truncated. Magnitudes far below one byte truncate to 0 without parsing;
  // absurdly large ones are refused rather than computed.
  const auto digits = static_cast<int64_t>(mpz_sizeinbase(num->mant.get_mpz_t(), 10));
  if (digits + num->exp10 + 20 < 0) return Value::integer(0);
  auto f = binf_from_decimal(Decimal(num->neg ? mpz_class(-num->mant) : num->mant, num->exp10));
  if (!f) builtin_error(kParseBytes, "exponent too large");
  const BinFloat product = binf_mul(*f, binf_from_int(mpz_class(static_cast<unsigned long>(*mult))), 64);
  return integer_value(binf_trunc(product));
}

}  // namespace

void register_units(BuiltinRegistry& r) {
  r.add(std::string(kParse), 1, units_parse);
  r.add(std::string(kParseBytes), 1, units_parse_bytes);
}

}  // namespace confidant::rego
