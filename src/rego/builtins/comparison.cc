// Comparison operators. They compare any two values in OPA's total order
// (null < boolean < number < string < array < object < set) and never fail.
#include "rego/builtins/builtins.h"

namespace confidant::rego {
namespace {

Value builtin_equal(BuiltinContext&, std::span<const Value> a) { return Value::boolean(compare(a[0], a[1]) == 0); }
Value builtin_neq(BuiltinContext&, std::span<const Value> a) { return Value::boolean(compare(a[0], a[1]) != 0); }
Value builtin_lt(BuiltinContext&, std::span<const Value> a) { return Value::boolean(compare(a[0], a[1]) < 0); }
Value builtin_lte(BuiltinContext&, std::span<const Value> a) { return Value::boolean(compare(a[0], a[1]) <= 0); }
Value builtin_gt(BuiltinContext&, std::span<const Value> a) { return Value::boolean(compare(a[0], a[1]) > 0); }
Value builtin_gte(BuiltinContext&, std::span<const Value> a) { return Value::boolean(compare(a[0], a[1]) >= 0); }

}  // namespace

void register_comparison(BuiltinRegistry& r) {
  r.add("equal", 2, builtin_equal);
  r.add("neq", 2, builtin_neq);
  r.add("lt", 2, builtin_lt);
  r.add("lte", 2, builtin_lte);
  r.add("gt", 2, builtin_gt);
  r.add("gte", 2, builtin_gte);
}

}  // namespace confidant::rego
