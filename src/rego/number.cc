#include "rego/number.h"

#include <charconv>
#include <cmath>
#include <cstdlib>

namespace confidant::rego {

namespace {
// Exponents beyond this are refused at parse time: they would make exact
// arithmetic allocate absurd amounts of memory (hostile input).
constexpr int64_t kMaxExponent = 100000;

mpz_class pow10(uint64_t n) {
  mpz_class p;
  mpz_ui_pow_ui(p.get_mpz_t(), 10, static_cast<unsigned long>(n));
  return p;
}
}  // namespace

void Decimal::normalize() {
  if (coef == 0) {
    exp = 0;
    return;
  }
  // Strip trailing zeros.
  while (mpz_divisible_ui_p(coef.get_mpz_t(), 10)) {
    mpz_divexact_ui(coef.get_mpz_t(), coef.get_mpz_t(), 10);
    ++exp;
  }
}

std::optional<mpz_class> Decimal::to_integer() const {
  if (exp < 0) return std::nullopt;
  if (exp > kMaxExponent) return std::nullopt;
  return coef * pow10(static_cast<uint64_t>(exp));
}

double Decimal::to_double() const {
  std::string s = coef.get_str();
  s += 'e';
  s += std::to_string(exp);
  return std::strtod(s.c_str(), nullptr);
}

std::string Decimal::text() const {
  if (coef == 0) return "0";
  std::string digits = coef.get_str();
  bool neg = digits[0] == '-';
  if (neg) digits.erase(0, 1);
  const int64_t n = static_cast<int64_t>(digits.size());
  const int64_t adjusted = n + exp - 1;  // exponent in d.ddd e+adjusted form
  std::string out = neg ? "-" : "";
  if (exp >= 0 && adjusted < 64) {
    out += digits;
    out.append(static_cast<size_t>(exp), '0');
    return out;
  }
  if (exp < 0 && adjusted >= -7) {
    if (adjusted >= 0) {
      out += digits.substr(0, static_cast<size_t>(n + exp));
      out += '.';
      out += digits.substr(static_cast<size_t>(n + exp));
    } else {
      out += "0.";
      out.append(static_cast<size_t>(-adjusted - 1), '0');
      out += digits;
    }
    return out;
  }
  out += digits[0];
  if (n > 1) {
    out += '.';
    out += digits.substr(1);
  }
  out += 'e';
  out += adjusted >= 0 ? "+" : "-";
  out += std::to_string(adjusted >= 0 ? adjusted : -adjusted);
  return out;
}

std::optional<Decimal> Decimal::parse(std::string_view t) {
  size_t p = 0;
  bool neg = false;
  if (p < t.size() && (t[p] == '-' || t[p] == '+')) {
    neg = t[p] == '-';
    ++p;
  }
  std::string digits;
  int64_t exp = 0;
  bool any = false;
  while (p < t.size() && t[p] >= '0' && t[p] <= '9') {
    digits += t[p++];
    any = true;
  }
  if (p < t.size() && t[p] == '.') {
    ++p;
    while (p < t.size() && t[p] >= '0' && t[p] <= '9') {
      digits += t[p++];
      --exp;
      any = true;
    }
  }
  if (!any) return std::nullopt;
  if (p < t.size() && (t[p] == 'e' || t[p] == 'E')) {
    ++p;
    bool eneg = false;
    if (p < t.size() && (t[p] == '+' || t[p] == '-')) {
      eneg = t[p] == '-';
      ++p;
    }
    int64_t e = 0;
    bool edig = false;
    while (p < t.size() && t[p] >= '0' && t[p] <= '9') {
      if (e < 10 * kMaxExponent) e = e * 10 + (t[p] - '0');
      ++p;
      edig = true;
    }
    if (!edig) return std::nullopt;
    exp += eneg ? -e : e;
  }
  if (p != t.size()) return std::nullopt;
  if (exp > kMaxExponent || exp < -kMaxExponent) return std::nullopt;
  Decimal d;
  size_t nz = digits.find_first_not_of('0');
  if (nz == std::string::npos) return Decimal();
  d.coef.set_str(digits.substr(nz), 10);
  if (neg) d.coef = -d.coef;
  d.exp = exp;
  d.normalize();
  return d;
}

std::optional<Decimal> Decimal::from_double(double v) {
  if (!std::isfinite(v)) return std::nullopt;
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  if (r.ec != std::errc()) return std::nullopt;
  return parse(std::string_view(buf, static_cast<size_t>(r.ptr - buf)));
}

int compare_decimal(const Decimal& a, const Decimal& b) {
  int sa = a.sign(), sb = b.sign();
  if (sa != sb) return sa < sb ? -1 : 1;
  if (sa == 0) return 0;
  int c;
  if (a.exp == b.exp) {
    c = cmp(a.coef, b.coef);
  } else if (a.exp > b.exp) {
    c = cmp(a.coef * pow10(static_cast<uint64_t>(a.exp - b.exp)), b.coef);
  } else {
    c = cmp(a.coef, b.coef * pow10(static_cast<uint64_t>(b.exp - a.exp)));
  }
  return c < 0 ? -1 : (c > 0 ? 1 : 0);
}

Decimal dec_add(const Decimal& a, const Decimal& b) {
  Decimal r;
  if (a.exp == b.exp) {
    r = Decimal(a.coef + b.coef, a.exp);
  } else if (a.exp > b.exp) {
    r = Decimal(a.coef * pow10(static_cast<uint64_t>(a.exp - b.exp)) + b.coef, b.exp);
  } else {
    r = Decimal(a.coef + b.coef * pow10(static_cast<uint64_t>(b.exp - a.exp)), a.exp);
  }
  r.normalize();
  return r;
}

Decimal dec_sub(const Decimal& a, const Decimal& b) {
  Decimal nb(-b.coef, b.exp);
  return dec_add(a, nb);
}

Decimal dec_mul(const Decimal& a, const Decimal& b) {
  Decimal r(a.coef * b.coef, a.exp + b.exp);
  r.normalize();
  return r;
}

}  // namespace confidant::rego
