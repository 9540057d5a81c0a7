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
  // Integers print in full (RSA moduli have hundreds of digits), unless they
  // are mostly trailing zeros from an exponent literal such as 1e400.
  if (exp >= 0 && (exp <= 20 || adjusted < 21)) {
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

// --- Go math/big.Float emulation -------------------------------------------

namespace {

size_t bit_length(const mpz_class& a) { return a == 0 ? 0 : mpz_sizeinbase(a.get_mpz_t(), 2); }

// Rounds x.mant to x.prec significant bits, to nearest even, as Float.round
// does. `sticky` says the exact value has nonzero bits below x.mant (callers
// pass it only with at least prec + 2 bits in x.mant).
void binf_round(BinFloat& x, bool sticky) {
  const size_t bits = bit_length(x.mant);
  if (bits <= x.prec) return;
  const bool neg = sgn(x.mant) < 0;
  mpz_class a = abs(x.mant);
  mp_bitcnt_t shift = bits - x.prec;
  const bool half = mpz_tstbit(a.get_mpz_t(), shift - 1);
  const bool rest = sticky || mpz_scan1(a.get_mpz_t(), 0) < shift - 1;
  mpz_tdiv_q_2exp(a.get_mpz_t(), a.get_mpz_t(), shift);
  if (half && (rest || mpz_odd_p(a.get_mpz_t()))) {
    a += 1;
    if (bit_length(a) > x.prec) {  // carried into a new bit: 0b1000...0
      mpz_tdiv_q_2exp(a.get_mpz_t(), a.get_mpz_t(), 1);
      ++shift;
    }
  }
  x.mant = neg ? mpz_class(-a) : a;
  x.exp += static_cast<int64_t>(shift);
}

BinFloat binf_zero(uint32_t prec) {
  BinFloat z;
  z.prec = prec;
  return z;
}

// Float.pow5 on a Float of precision 128: exact up to 5^27, then repeated
// squaring with intermediate rounding (which Go's parser inherits).
BinFloat go_pow5(uint64_t n) {
  BinFloat z = binf_zero(128);
  if (n <= 27) {
    mpz_ui_pow_ui(z.mant.get_mpz_t(), 5, static_cast<unsigned long>(n));
    return z;
  }
  mpz_ui_pow_ui(z.mant.get_mpz_t(), 5, 27);
  n -= 27;
  BinFloat f = binf_zero(192);
  f.mant = 5;
  while (n > 0) {
    if (n & 1) z = binf_mul(z, f, 128);
    f = binf_mul(f, f, 192);
    n >>= 1;
  }
  return z;
}

// Go's math/big decimal: value = 0.mant * 10^exp, mant without trailing zeros.
struct GoDecimal {
  std::string mant;
  int64_t exp = 0;
  char at(size_t i) const { return i < mant.size() ? mant[i] : '0'; }
};

// decimal.init: the exact decimal expansion of m * 2^shift (m > 0).
GoDecimal go_decimal(mpz_class m, int64_t shift) {
  GoDecimal d;
  if (shift < 0) {  // drop trailing zero bits first: fewer digits to produce
    const int64_t tz = static_cast<int64_t>(mpz_scan1(m.get_mpz_t(), 0));
    const int64_t s = std::min(tz, -shift);
    mpz_tdiv_q_2exp(m.get_mpz_t(), m.get_mpz_t(), static_cast<mp_bitcnt_t>(s));
    shift += s;
  }
  int64_t e10 = 0;
  if (shift > 0) {
    mpz_mul_2exp(m.get_mpz_t(), m.get_mpz_t(), static_cast<mp_bitcnt_t>(shift));
  } else if (shift < 0) {  // m / 2^k == m * 5^k / 10^k
    mpz_class p;
    mpz_ui_pow_ui(p.get_mpz_t(), 5, static_cast<unsigned long>(-shift));
    m *= p;
    e10 = shift;
  }
  d.mant = m.get_str();
  d.exp = static_cast<int64_t>(d.mant.size()) + e10;
  while (!d.mant.empty() && d.mant.back() == '0') d.mant.pop_back();
  return d;
}

void go_round_up(GoDecimal& x, size_t n) {
  if (n >= x.mant.size()) return;
  while (n > 0 && x.mant[n - 1] >= '9') --n;
  if (n == 0) {  // all nines: becomes 1 with a larger exponent
    x.mant = "1";
    ++x.exp;
    return;
  }
  ++x.mant[n - 1];
  x.mant.resize(n);
}

void go_round_down(GoDecimal& x, size_t n) {
  if (n >= x.mant.size()) return;
  x.mant.resize(n);
  while (!x.mant.empty() && x.mant.back() == '0') x.mant.pop_back();
  if (x.mant.empty()) x.exp = 0;
}

void go_round(GoDecimal& x, size_t n) {
  if (n >= x.mant.size()) return;
  bool up;
  if (x.mant[n] == '5' && n + 1 == x.mant.size()) {
    up = n > 0 && ((x.mant[n - 1] - '0') & 1) != 0;  // exactly halfway: to even
  } else {
    up = x.mant[n] >= '5';
  }
  if (up) {
    go_round_up(x, n);
  } else {
    go_round_down(x, n);
  }
}

}  // namespace

std::optional<BinFloat> binf_from_decimal(const Decimal& d, uint32_t prec) {
  if (d.coef == 0) return binf_zero(prec);
  // 10^e needs about 3.33 * e bits of exponent.
  if (d.exp > kMaxBinaryExponent / 4 || d.exp < -kMaxBinaryExponent / 4) return std::nullopt;
  // Go scans the digits into an unrounded mantissa, applies 2^e exactly and
  // then multiplies or divides once by 5^|e|, rounding to prec.
  BinFloat z = binf_zero(prec);
  z.mant = d.coef;
  z.exp = d.exp;
  if (d.exp == 0) {
    binf_round(z, false);
    return z;
  }
  BinFloat p = go_pow5(static_cast<uint64_t>(d.exp < 0 ? -d.exp : d.exp));
  return d.exp < 0 ? binf_quo(z, p, prec) : binf_mul(z, p, prec);
}

BinFloat binf_from_int(const mpz_class& i) {
  BinFloat z = binf_zero(static_cast<uint32_t>(std::max<size_t>(64, bit_length(i))));
  z.mant = i;
  return z;
}

BinFloat binf_add(const BinFloat& x, const BinFloat& y, uint32_t prec) {
  BinFloat r = binf_zero(prec);
  if (x.mant == 0 || y.mant == 0) {
    const BinFloat& nz = x.mant == 0 ? y : x;
    r.mant = nz.mant;
    r.exp = nz.exp;
  } else {
    // Exact sum at the smaller exponent, then one rounding.
    r.exp = std::min(x.exp, y.exp);
    mpz_class a, b;
    mpz_mul_2exp(a.get_mpz_t(), x.mant.get_mpz_t(), static_cast<mp_bitcnt_t>(x.exp - r.exp));
    mpz_mul_2exp(b.get_mpz_t(), y.mant.get_mpz_t(), static_cast<mp_bitcnt_t>(y.exp - r.exp));
    r.mant = a + b;
    if (r.mant == 0) r.exp = 0;
  }
  binf_round(r, false);
  return r;
}

BinFloat binf_sub(const BinFloat& x, const BinFloat& y, uint32_t prec) {
  BinFloat ny = y;
  ny.mant = -y.mant;
  return binf_add(x, ny, prec);
}

BinFloat binf_mul(const BinFloat& x, const BinFloat& y, uint32_t prec) {
  BinFloat r = binf_zero(prec);
  if (x.mant == 0 || y.mant == 0) return r;
  r.mant = x.mant * y.mant;
  r.exp = x.exp + y.exp;
  binf_round(r, false);
  return r;
}

BinFloat binf_quo(const BinFloat& x, const BinFloat& y, uint32_t prec) {
  BinFloat r = binf_zero(prec);
  if (x.mant == 0) return r;
  // A quotient of at least prec + 2 bits plus a sticky remainder rounds
  // exactly like the infinitely precise one.
  mpz_class a = abs(x.mant), b = abs(y.mant), q, rem;
  int64_t s =
      static_cast<int64_t>(prec) + 3 + static_cast<int64_t>(bit_length(b)) - static_cast<int64_t>(bit_length(a));
  if (s < 0) s = 0;
  mpz_mul_2exp(a.get_mpz_t(), a.get_mpz_t(), static_cast<mp_bitcnt_t>(s));
  mpz_tdiv_qr(q.get_mpz_t(), rem.get_mpz_t(), a.get_mpz_t(), b.get_mpz_t());
  r.mant = sgn(x.mant) * sgn(y.mant) < 0 ? mpz_class(-q) : q;
  r.exp = x.exp - y.exp - s;
  binf_round(r, rem != 0);
  return r;
}

mpz_class binf_trunc(const BinFloat& x) {
  mpz_class r;
  if (x.exp >= 0) {
    mpz_mul_2exp(r.get_mpz_t(), x.mant.get_mpz_t(), static_cast<mp_bitcnt_t>(x.exp));
  } else {
    mpz_tdiv_q_2exp(r.get_mpz_t(), x.mant.get_mpz_t(), static_cast<mp_bitcnt_t>(-x.exp));
  }
  return r;
}

int binf_cmp(const BinFloat& x, const BinFloat& y) {
  const int sx = sgn(x.mant), sy = sgn(y.mant);
  if (sx != sy || sx == 0) return sx < sy ? -1 : (sx > sy ? 1 : 0);
  const int64_t e = std::min(x.exp, y.exp);
  mpz_class a, b;
  mpz_mul_2exp(a.get_mpz_t(), x.mant.get_mpz_t(), static_cast<mp_bitcnt_t>(x.exp - e));
  mpz_mul_2exp(b.get_mpz_t(), y.mant.get_mpz_t(), static_cast<mp_bitcnt_t>(y.exp - e));
  const int c = cmp(a, b);
  return c < 0 ? -1 : (c > 0 ? 1 : 0);
}

std::optional<Decimal> binf_to_decimal(const BinFloat& x) {
  if (x.mant == 0) return Decimal();
  if (x.exp > kMaxBinaryExponent || x.exp < -kMaxBinaryExponent) return std::nullopt;
  const mpz_class m = abs(x.mant);
  GoDecimal d = go_decimal(m, x.exp);

  // roundShortest: every decimal within half an ulp of x (inclusive when the
  // mantissa is even) reads back as x; keep the fewest digits that stay inside.
  // mant2 has prec + 1 bits, its lowest bit worth half an ulp.
  const int64_t s = static_cast<int64_t>(bit_length(m)) - static_cast<int64_t>(x.prec) - 1;
  mpz_class mant2;
  if (s < 0) {
    mpz_mul_2exp(mant2.get_mpz_t(), m.get_mpz_t(), static_cast<mp_bitcnt_t>(-s));
  } else {
    mpz_tdiv_q_2exp(mant2.get_mpz_t(), m.get_mpz_t(), static_cast<mp_bitcnt_t>(s));
  }
  const int64_t exp2 = x.exp + s;
  const GoDecimal lower = go_decimal(mant2 - 1, exp2);
  const GoDecimal upper = go_decimal(mant2 + 1, exp2);
  const bool inclusive = mpz_tstbit(mant2.get_mpz_t(), 1) == 0;
  for (size_t i = 0; i < d.mant.size(); ++i) {
    const char c = d.mant[i], l = lower.at(i), u = upper.at(i);
    const bool okdown = l != c || (inclusive && i + 1 == lower.mant.size());
    const bool okup = c != u && (inclusive || c + 1 < u || i + 1 < upper.mant.size());
    if (okdown && okup) {
      go_round(d, i + 1);
      break;
    }
    if (okdown) {
      go_round_down(d, i + 1);
      break;
    }
    if (okup) {
      go_round_up(d, i + 1);
      break;
    }
  }
  if (d.mant.empty()) return Decimal();
  Decimal out;
  out.coef.set_str(d.mant, 10);
  if (sgn(x.mant) < 0) out.coef = -out.coef;
  out.exp = d.exp - static_cast<int64_t>(d.mant.size());
  return out;
}

}  // namespace confidant::rego
