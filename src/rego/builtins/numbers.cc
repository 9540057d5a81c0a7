// Arithmetic, rounding, ranges and bitwise builtins.
//
// OPA's rule: integer operations are exact at any size; everything else goes
// through Go's big.Float at a 64-bit mantissa. Integers take an int64 fast
// path (overflow detected with __builtin_*_overflow), then exact decimals;
// other numbers use BinFloat (number.h), which reproduces big.Float bit for
// bit so fractional results print with OPA's digits.
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "rego/builtins/builtins.h"
#include "rego/number.h"

namespace confidant::rego {
namespace {

// Exact integer operations on a*10^x and b*10^y align the exponents; gaps
// beyond this (a 415 KB coefficient) are refused rather than allocated.
constexpr int64_t kMaxExponentGap = 1000000;
// numbers.range results beyond this many elements are refused (OPA builds
// them until the query is cancelled; here that would exhaust memory first).
constexpr uint64_t kMaxRange = 10000000;
// bits.lsh results beyond this many bits are refused for the same reason.
constexpr uint64_t kMaxShift = 1u << 22;

[[noreturn]] void too_large(std::string_view name) { builtin_error(name, "number too large"); }

BinFloat to_binf(std::string_view name, const Value& v) {
  auto f = binf_from_decimal(v.to_decimal());
  if (!f) too_large(name);
  return *std::move(f);
}

Value from_binf(std::string_view name, const BinFloat& f) {
  auto d = binf_to_decimal(f);
  if (!d) too_large(name);
  return Value::number(*d);
}

Value from_mpz(const mpz_class& i) {
  if (mpz_fits_slong_p(i.get_mpz_t())) return Value::integer(mpz_get_si(i.get_mpz_t()));
  return Value::number(Decimal(i, 0));
}

// The full integer value of an integral number (exponent bounded by number.cc).
mpz_class to_mpz(std::string_view name, const Value& v) {
  if (v.is_small_int()) return mpz_class(static_cast<long>(v.small_int()));
  auto i = v.to_decimal().to_integer();
  if (!i) too_large(name);
  return *std::move(i);
}

// Two integral decimals scaled to a common power of ten: a = A*10^e, b = B*10^e.
void align(std::string_view name, const Value& x, const Value& y, mpz_class& a, mpz_class& b, int64_t& e) {
  Decimal dx = x.to_decimal(), dy = y.to_decimal();
  if (std::llabs(dx.exp - dy.exp) > kMaxExponentGap) too_large(name);
  e = std::min(dx.exp, dy.exp);
  mpz_class p;
  mpz_ui_pow_ui(p.get_mpz_t(), 10, static_cast<unsigned long>(dx.exp - e));
  a = dx.coef * p;
  mpz_ui_pow_ui(p.get_mpz_t(), 10, static_cast<unsigned long>(dy.exp - e));
  b = dy.coef * p;
}

enum class Op { kPlus, kMinus, kMul };

Value arith(std::string_view name, Op op, const Value& x, const Value& y) {
  if (x.is_small_int() && y.is_small_int()) {
    int64_t r;
    const int64_t a = x.small_int(), b = y.small_int();
    const bool overflow = op == Op::kPlus    ? __builtin_add_overflow(a, b, &r)
                          : op == Op::kMinus ? __builtin_sub_overflow(a, b, &r)
                                             : __builtin_mul_overflow(a, b, &r);
    if (!overflow) return Value::integer(r);
  }
  if (x.is_integer() && y.is_integer()) {
    const Decimal a = x.to_decimal(), b = y.to_decimal();
    if (op == Op::kMul) return Value::number(dec_mul(a, b));
    if (std::llabs(a.exp - b.exp) > kMaxExponentGap) too_large(name);
    return Value::number(op == Op::kPlus ? dec_add(a, b) : dec_sub(a, b));
  }
  const BinFloat a = to_binf(name, x), b = to_binf(name, y);
  return from_binf(name, op == Op::kPlus    ? binf_add(a, b, 64)
                         : op == Op::kMinus ? binf_sub(a, b, 64)
                                            : binf_mul(a, b, 64));
}

Value builtin_plus(BuiltinContext&, std::span<const Value> args) {
  return arith("plus", Op::kPlus, arg_number("plus", args, 0), arg_number("plus", args, 1));
}

Value builtin_mul(BuiltinContext&, std::span<const Value> args) {
  return arith("mul", Op::kMul, arg_number("mul", args, 0), arg_number("mul", args, 1));
}

// Sorted-sequence difference: members of a absent from b.
Value set_difference(const Value& a, const Value& b) {
  const ValueVec& xs = a.set_items();
  const ValueVec& ys = b.set_items();
  if (xs.empty() || ys.empty()) return a;
  ValueVec out;
  out.reserve(xs.size());
  size_t j = 0;
  for (const Value& x : xs) {
    int c = 1;
    while (j < ys.size() && (c = compare(ys[j], x)) < 0) ++j;
    if (j == ys.size() || c != 0) out.push_back(x);
  }
  if (out.size() == xs.size()) return a;
  return Value::set_sorted(std::move(out));
}

// minus is both numeric subtraction and set difference; its errors follow OPA's
// order of checks exactly.
Value builtin_minus(BuiltinContext&, std::span<const Value> args) {
  const Value &x = args[0], &y = args[1];
  if (x.is_number() && y.is_number()) return arith("minus", Op::kMinus, x, y);
  if (x.is_set() && y.is_set()) return set_difference(x, y);
  if (!x.is_number() && !x.is_set()) type_error("minus", 1, "one of {number, set}", x);
  if (y.is_number()) type_error("minus", 2, "set", y);
  type_error("minus", 2, "number", y);
}

bool is_zero(const Value& v) { return v.is_small_int() && v.small_int() == 0; }

Value builtin_div(BuiltinContext&, std::span<const Value> args) {
  const Value& x = arg_number("div", args, 0);
  const Value& y = arg_number("div", args, 1);
  if (is_zero(y)) builtin_error("div", "divide by zero");
  if (x.is_small_int() && y.is_small_int()) {
    const int64_t a = x.small_int(), b = y.small_int();
    if (a == INT64_MIN && b == -1) return from_mpz(-mpz_class(static_cast<long>(a)));
    if (a % b == 0) return Value::integer(a / b);
  } else if (x.is_integer() && y.is_integer()) {
    // Integers that divide give the exact quotient; OPA's float path gives the
    // same whenever the quotient fits its 64-bit mantissa.
    mpz_class a, b, q, r;
    int64_t e;
    align("div", x, y, a, b, e);
    mpz_tdiv_qr(q.get_mpz_t(), r.get_mpz_t(), a.get_mpz_t(), b.get_mpz_t());
    if (r == 0) return from_mpz(q);
  }
  return from_binf("div", binf_quo(to_binf("div", x), to_binf("div", y), 64));
}

// Remainder only exists for integers; it takes the sign of the dividend.
Value builtin_rem(BuiltinContext&, std::span<const Value> args) {
  const Value& x = arg_number("rem", args, 0);
  const Value& y = arg_number("rem", args, 1);
  if (x.is_small_int() && y.is_small_int()) {
    const int64_t a = x.small_int(), b = y.small_int();
    if (b == 0) builtin_error("rem", "modulo by zero");
    return Value::integer(b == -1 ? 0 : a % b);  // INT64_MIN % -1 traps in C++
  }
  if (!x.is_integer() || !y.is_integer()) builtin_error("rem", "modulo on floating-point number");
  if (is_zero(y)) builtin_error("rem", "modulo by zero");
  mpz_class a, b, r;
  int64_t e;
  align("rem", x, y, a, b, e);  // (A*10^e) mod (B*10^e) == (A mod B) * 10^e
  mpz_tdiv_r(r.get_mpz_t(), a.get_mpz_t(), b.get_mpz_t());
  return Value::number(Decimal(r, e));
}

Value negate(const Value& x) {
  if (x.is_small_int() && x.small_int() != INT64_MIN) return Value::integer(-x.small_int());
  Decimal d = x.to_decimal();
  d.coef = -d.coef;
  return Value::number(d);
}

// abs, round, ceil and floor leave integers exact. Fractions take OPA's float
// path, quirks included: its ceil and floor test the sign of the truncated
// value, so in OPA ceil(-0.5) == 1 and floor(-0.5) == 0; reproduced as is.
Value builtin_abs(BuiltinContext&, std::span<const Value> args) {
  const Value& x = arg_number("abs", args, 0);
  if (x.is_integer()) return compare(x, Value::integer(0)) < 0 ? negate(x) : x;
  BinFloat f = to_binf("abs", x);
  f.mant = abs(f.mant);
  return from_binf("abs", f);
}

Value builtin_round(BuiltinContext&, std::span<const Value> args) {
  const Value& x = arg_number("round", args, 0);
  if (x.is_integer()) return x;
  const BinFloat f = to_binf("round", x);
  BinFloat half;  // big.NewFloat(0.5): precision 53
  half.mant = 1;
  half.exp = -1;
  half.prec = 53;
  return from_mpz(binf_trunc(sgn(f.mant) < 0 ? binf_sub(f, half, 64) : binf_add(f, half, 64)));
}

Value builtin_ceil(BuiltinContext&, std::span<const Value> args) {
  const Value& x = arg_number("ceil", args, 0);
  if (x.is_integer()) return x;
  const BinFloat f = to_binf("ceil", x);
  mpz_class i = binf_trunc(f);
  if (!(i < 0 || binf_cmp(f, binf_from_int(i)) == 0)) i += 1;
  return from_mpz(i);
}

Value builtin_floor(BuiltinContext&, std::span<const Value> args) {
  const Value& x = arg_number("floor", args, 0);
  if (x.is_integer()) return x;
  const BinFloat f = to_binf("floor", x);
  mpz_class i = binf_trunc(f);
  if (!(i >= 0 || binf_cmp(f, binf_from_int(i)) == 0)) i -= 1;
  return from_mpz(i);
}

// OPA's BigIntOperand: "must be integer" for non-numbers, a distinct message for fractions.
const Value& int_operand(std::string_view name, std::span<const Value> args, int i) {
  const Value& v = args[static_cast<size_t>(i)];
  if (!v.is_number()) type_error(name, i + 1, "integer", v);
  if (!v.is_integer()) {
    throw BuiltinError("eval_type_error", std::string(name) + ": operand " + std::to_string(i + 1) +
                                              " must be integer number but got floating-point number");
  }
  return v;
}

Value make_range(std::string_view name, const Value& from, const Value& to, const mpz_class& step) {
  int64_t x, y, s;
  if (from.to_int64(x) && to.to_int64(y) && step.fits_slong_p() && (s = step.get_si()) > 0) {
    // Every element lies between x and y, so int64 arithmetic cannot overflow.
    const uint64_t span = x <= y ? static_cast<uint64_t>(y) - static_cast<uint64_t>(x)
                                 : static_cast<uint64_t>(x) - static_cast<uint64_t>(y);
    const uint64_t steps = span / static_cast<uint64_t>(s);
    if (steps >= kMaxRange) builtin_error(name, "range too large");
    ValueVec out;
    out.reserve(steps + 1);
    const int64_t delta = x <= y ? s : -s;
    int64_t v = x;
    for (uint64_t k = 0; k <= steps; ++k) {
      out.push_back(Value::integer(v));
      if (k < steps) v += delta;
    }
    return Value::array(std::move(out));
  }
  const mpz_class a = to_mpz(name, from), b = to_mpz(name, to);
  mpz_class n = abs(b - a) / step + 1;
  if (n > kMaxRange) builtin_error(name, "range too large");
  ValueVec out;
  out.reserve(n.get_ui());
  const mpz_class delta = a <= b ? step : mpz_class(-step);
  mpz_class v = a;
  for (unsigned long k = 0, m = n.get_ui(); k < m; ++k, v += delta) out.push_back(from_mpz(v));
  return Value::array(std::move(out));
}

Value builtin_numbers_range(BuiltinContext&, std::span<const Value> args) {
  const Value& x = int_operand("numbers.range", args, 0);
  const Value& y = int_operand("numbers.range", args, 1);
  return make_range("numbers.range", x, y, mpz_class(1));
}

Value builtin_numbers_range_step(BuiltinContext&, std::span<const Value> args) {
  constexpr std::string_view kName = "numbers.range_step";
  const Value& x = int_operand(kName, args, 0);
  const Value& y = int_operand(kName, args, 1);
  const Value& s = int_operand(kName, args, 2);
  // OPA's error text already starts with the name and gets it prefixed again.
  if (compare(s, Value::integer(0)) <= 0) builtin_error(kName, "numbers.range_step: step must be a positive integer");
  return make_range(kName, x, y, to_mpz(kName, s));
}

// --- bits.* (Go big.Int semantics: two's complement of unbounded width) ------

enum class BitOp { kAnd, kOr, kXor };

template <BitOp op>
Value builtin_bits2(BuiltinContext&, std::span<const Value> args) {
  constexpr std::string_view kName = op == BitOp::kAnd ? "bits.and" : op == BitOp::kOr ? "bits.or" : "bits.xor";
  const Value& x = int_operand(kName, args, 0);
  const Value& y = int_operand(kName, args, 1);
  if (x.is_small_int() && y.is_small_int()) {
    const int64_t a = x.small_int(), b = y.small_int();
    return Value::integer(op == BitOp::kAnd ? (a & b) : op == BitOp::kOr ? (a | b) : (a ^ b));
  }
  const mpz_class a = to_mpz(kName, x), b = to_mpz(kName, y);
  mpz_class r;
  if constexpr (op == BitOp::kAnd) mpz_and(r.get_mpz_t(), a.get_mpz_t(), b.get_mpz_t());
  if constexpr (op == BitOp::kOr) mpz_ior(r.get_mpz_t(), a.get_mpz_t(), b.get_mpz_t());
  if constexpr (op == BitOp::kXor) mpz_xor(r.get_mpz_t(), a.get_mpz_t(), b.get_mpz_t());
  return from_mpz(r);
}

Value builtin_bits_negate(BuiltinContext&, std::span<const Value> args) {
  const Value& x = int_operand("bits.negate", args, 0);
  if (x.is_small_int()) return Value::integer(~x.small_int());
  mpz_class r;
  const mpz_class a = to_mpz("bits.negate", x);
  mpz_com(r.get_mpz_t(), a.get_mpz_t());
  return from_mpz(r);
}

// The shift count as Go reads it: an error when negative, else its low 64 bits
// (big.Int.Uint64), so a count of 2^64 shifts by 0 in OPA too.
uint64_t shift_count(std::string_view name, const Value& v) {
  if (compare(v, Value::integer(0)) < 0) {
    throw BuiltinError("eval_type_error",
                       std::string(name) + ": operand 2 must be an unsigned integer number but got a negative integer");
  }
  if (v.is_small_int()) return static_cast<uint64_t>(v.small_int());
  static_assert(sizeof(unsigned long) == 8, "mpz_get_ui must hold 64 bits");
  mpz_class low;
  mpz_fdiv_r_2exp(low.get_mpz_t(), to_mpz(name, v).get_mpz_t(), 64);
  return low.get_ui();
}

Value builtin_bits_lsh(BuiltinContext&, std::span<const Value> args) {
  const Value& x = int_operand("bits.lsh", args, 0);
  const uint64_t n = shift_count("bits.lsh", int_operand("bits.lsh", args, 1));
  if (x.is_small_int()) {
    const int64_t a = x.small_int();
    if (a == 0) return x;
    if (n < 63 && a >= (INT64_MIN >> n) && a <= (INT64_MAX >> n)) {
      return Value::integer(static_cast<int64_t>(static_cast<uint64_t>(a) << n));
    }
  }
  if (n > kMaxShift) builtin_error("bits.lsh", "shift count too large");
  mpz_class r;
  mpz_mul_2exp(r.get_mpz_t(), to_mpz("bits.lsh", x).get_mpz_t(), static_cast<mp_bitcnt_t>(n));
  return from_mpz(r);
}

Value builtin_bits_rsh(BuiltinContext&, std::span<const Value> args) {
  const Value& x = int_operand("bits.rsh", args, 0);
  const uint64_t n = shift_count("bits.rsh", int_operand("bits.rsh", args, 1));
  if (x.is_small_int()) {  // arithmetic shift: rounds toward negative infinity like big.Int.Rsh
    const int64_t a = x.small_int();
    return Value::integer(n >= 64 ? (a < 0 ? -1 : 0) : a >> n);
  }
  const mpz_class a = to_mpz("bits.rsh", x);
  if (n >= mpz_sizeinbase(a.get_mpz_t(), 2)) return Value::integer(a < 0 ? -1 : 0);
  mpz_class r;
  mpz_fdiv_q_2exp(r.get_mpz_t(), a.get_mpz_t(), static_cast<mp_bitcnt_t>(n));
  return from_mpz(r);
}

}  // namespace

void register_numbers(BuiltinRegistry& r) {
  r.add("plus", 2, builtin_plus);
  r.add("minus", 2, builtin_minus);
  r.add("mul", 2, builtin_mul);
  r.add("div", 2, builtin_div);
  r.add("rem", 2, builtin_rem);
  r.add("abs", 1, builtin_abs);
  r.add("round", 1, builtin_round);
  r.add("ceil", 1, builtin_ceil);
  r.add("floor", 1, builtin_floor);
  r.add("numbers.range", 2, builtin_numbers_range);
  r.add("numbers.range_step", 3, builtin_numbers_range_step);
  r.add("bits.and", 2, builtin_bits2<BitOp::kAnd>);
  r.add("bits.or", 2, builtin_bits2<BitOp::kOr>);
  r.add("bits.xor", 2, builtin_bits2<BitOp::kXor>);
  r.add("bits.negate", 1, builtin_bits_negate);
  r.add("bits.lsh", 2, builtin_bits_lsh);
  r.add("bits.rsh", 2, builtin_bits_rsh);
}

}  // namespace confidant::rego
