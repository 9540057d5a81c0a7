// Aggregates over collections: count, sum, product, max, min, sort.
//
// sum and product follow OPA: exact when every element is an integer (int64
// fast path, then exact decimals), otherwise Go big.Float accumulation
// (number.h BinFloat) with OPA's precisions: 64 bits for sum, 53 for product
// (its accumulator starts as big.NewFloat(1), a float64-precision value).
#include <algorithm>
#include <cstdlib>
#include <string>

#include "rego/builtins/builtins.h"
#include "rego/number.h"

namespace confidant::rego {
namespace {

// As in numbers.cc: exact integer sums align exponents; absurd gaps are refused.
constexpr int64_t kMaxExponentGap = 1000000;

// Code points as Go's []rune(s) counts them: each byte of an invalid UTF-8
// sequence counts as one (replacement) rune.
size_t count_runes(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const size_t n = s.size();
  size_t runes = 0;
  for (size_t i = 0; i < n; ++runes) {
    const unsigned char c = p[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    auto cont = [&](size_t k, unsigned char lo = 0x80, unsigned char hi = 0xBF) {
      return i + k < n && p[i + k] >= lo && p[i + k] <= hi;
    };
    size_t len = 1;
    if (c >= 0xC2 && c <= 0xDF) {
      if (cont(1)) len = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
      const unsigned char lo = c == 0xE0 ? 0xA0 : 0x80, hi = c == 0xED ? 0x9F : 0xBF;
      if (cont(1, lo, hi) && cont(2)) len = 3;
    } else if (c >= 0xF0 && c <= 0xF4) {
      const unsigned char lo = c == 0xF0 ? 0x90 : 0x80, hi = c == 0xF4 ? 0x8F : 0xBF;
      if (cont(1, lo, hi) && cont(2) && cont(3)) len = 4;
    }
    i += len;
  }
  return runes;
}

Value builtin_count(BuiltinContext&, std::span<const Value> args) {
  const Value& a = args[0];
  switch (a.kind()) {
    case Kind::Array:
    case Kind::Object:
    case Kind::Set: return Value::integer(static_cast<int64_t>(a.size()));
    case Kind::String: return Value::integer(static_cast<int64_t>(count_runes(a.str())));
    default: type_error("count", 1, "one of {array, object, set, string}", a);
  }
}

// The members of an array or set operand ("one of {set, array}" otherwise).
const ValueVec& members(std::string_view name, const Value& a) {
  if (a.is_array()) return a.array_items();
  if (a.is_set()) return a.set_items();
  type_error(name, 1, "one of {set, array}", a);
}

bool all_integers(const ValueVec& items) {
  for (const Value& v : items)
    if (!v.is_integer()) return false;  // false for non-numbers too
  return true;
}

// The float path: every element must be a number ("array of numbers").
BinFloat element_binf(std::string_view name, const Value& coll, const Value& v) {
  if (!v.is_number()) {
    const char* k = kind_name(coll.kind());
    throw BuiltinError("eval_type_error", std::string(name) + ": operand 1 must be " + k + " of numbers but got " + k +
                                              " containing " + kind_name(v.kind()));
  }
  auto f = binf_from_decimal(v.to_decimal());
  if (!f) builtin_error(name, "number too large");
  return *std::move(f);
}

Value float_result(std::string_view name, const BinFloat& f) {
  auto d = binf_to_decimal(f);
  if (!d) builtin_error(name, "number too large");
  return Value::number(*d);
}

Value builtin_sum(BuiltinContext&, std::span<const Value> args) {
  const ValueVec& items = members("sum", args[0]);
  int64_t acc = 0;
  size_t i = 0;
  for (int64_t next; i < items.size(); ++i, acc = next) {
    if (!items[i].is_small_int() || __builtin_add_overflow(acc, items[i].small_int(), &next)) break;
  }
  if (i == items.size()) return Value::integer(acc);
  if (all_integers(items)) {  // exact, continuing from the int64 prefix
    Decimal sum(acc);
    for (; i < items.size(); ++i) {
      const Decimal d = items[i].to_decimal();
      if (std::llabs(sum.exp - d.exp) > kMaxExponentGap) builtin_error("sum", "number too large");
      sum = dec_add(sum, d);
    }
    return Value::number(sum);
  }
  BinFloat sum;
  for (const Value& v : items) sum = binf_add(sum, element_binf("sum", args[0], v), 64);
  return float_result("sum", sum);
}

Value builtin_product(BuiltinContext&, std::span<const Value> args) {
  const ValueVec& items = members("product", args[0]);
  int64_t acc = 1;
  size_t i = 0;
  for (int64_t next; i < items.size(); ++i, acc = next) {
    if (!items[i].is_small_int() || __builtin_mul_overflow(acc, items[i].small_int(), &next)) break;
  }
  if (i == items.size()) return Value::integer(acc);
  if (all_integers(items)) {
    Decimal product(acc);
    for (; i < items.size(); ++i) product = dec_mul(product, items[i].to_decimal());
    return Value::number(product);
  }
  BinFloat product;  // big.NewFloat(1): precision 53 for the whole product
  product.mant = 1;
  product.prec = 53;
  for (const Value& v : items) product = binf_mul(product, element_binf("product", args[0], v), 53);
  return float_result("product", product);
}

// Sets are sorted, so their extremes are their ends. Empty: undefined.
Value builtin_max(BuiltinContext&, std::span<const Value> args) {
  const ValueVec& items = members("max", args[0]);
  if (items.empty()) return Value();
  if (args[0].is_set()) return items.back();
  const Value* best = &items[0];
  for (const Value& v : items)
    if (compare(v, *best) > 0) best = &v;
  return *best;
}

Value builtin_min(BuiltinContext&, std::span<const Value> args) {
  const ValueVec& items = members("min", args[0]);
  if (items.empty()) return Value();
  if (args[0].is_set()) return items.front();
  const Value* best = &items[0];
  for (const Value& v : items)
    if (compare(v, *best) < 0) best = &v;
  return *best;
}

Value builtin_sort(BuiltinContext&, std::span<const Value> args) {
  const Value& a = args[0];
  const ValueVec& items = members("sort", a);
  if (a.is_set()) return Value::array(items);  // already in order
  if (std::is_sorted(items.begin(), items.end(), [](const Value& x, const Value& y) { return compare(x, y) < 0; })) {
    return a;
  }
  ValueVec sorted = items;
  std::stable_sort(sorted.begin(), sorted.end(), [](const Value& x, const Value& y) { return compare(x, y) < 0; });
  return Value::array(std::move(sorted));
}

}  // namespace

void register_aggregates(BuiltinRegistry& r) {
  r.add("count", 1, builtin_count);
  r.add("sum", 1, builtin_sum);
  r.add("product", 1, builtin_product);
  r.add("max", 1, builtin_max);
  r.add("min", 1, builtin_min);
  r.add("sort", 1, builtin_sort);
}

}  // namespace confidant::rego
