// Array builtins: array.concat, array.slice, array.reverse, array.flatten.
#include <algorithm>
#include <string>

#include "rego/builtins/builtins.h"

namespace confidant::rego {
namespace {

Value builtin_array_concat(BuiltinContext&, std::span<const Value> args) {
  const Value& a = arg_array("array.concat", args, 0);
  const Value& b = arg_array("array.concat", args, 1);
  if (b.size() == 0) return a;
  if (a.size() == 0) return b;
  ValueVec out;
  out.reserve(a.size() + b.size());
  out.insert(out.end(), a.array_items().begin(), a.array_items().end());
  out.insert(out.end(), b.array_items().begin(), b.array_items().end());
  return Value::array(std::move(out));
}

// OPA's IntOperand: a number that fits a Go int.
int64_t int_operand(std::string_view name, std::span<const Value> args, int i) {
  const Value& v = arg_number(name, args, i);
  int64_t out;
  if (!v.to_int64(out)) {
    throw BuiltinError("eval_type_error", std::string(name) + ": operand " + std::to_string(i + 1) +
                                              " must be integer number but got floating-point number");
  }
  return out;
}

// Out-of-range indices are clamped, never an error: stop to [0, len], start to [0, stop].
Value builtin_array_slice(BuiltinContext&, std::span<const Value> args) {
  const Value& a = arg_array("array.slice", args, 0);
  int64_t start = int_operand("array.slice", args, 1);
  int64_t stop = int_operand("array.slice", args, 2);
  const auto len = static_cast<int64_t>(a.size());
  stop = stop < 0 ? 0 : std::min(stop, len);
  start = start < 0 ? 0 : std::min(start, stop);
  if (start == 0 && stop == len) return a;
  const auto& items = a.array_items();
  return Value::array(ValueVec(items.begin() + start, items.begin() + stop));
}

Value builtin_array_reverse(BuiltinContext&, std::span<const Value> args) {
  const Value& a = arg_array("array.reverse", args, 0);
  if (a.size() < 2) return a;
  return Value::array(ValueVec(a.array_items().rbegin(), a.array_items().rend()));
}

// One level: array members are spliced in, anything else is kept as is.
Value builtin_array_flatten(BuiltinContext&, std::span<const Value> args) {
  const Value& a = arg_array("array.flatten", args, 0);
  size_t n = 0;
  bool nested = false;
  for (const Value& v : a.array_items()) {
    nested |= v.is_array();
    n += v.is_array() ? v.size() : 1;
  }
  if (!nested) return a;
  ValueVec out;
  out.reserve(n);
  for (const Value& v : a.array_items()) {
    if (v.is_array()) {
      out.insert(out.end(), v.array_items().begin(), v.array_items().end());
    } else {
      out.push_back(v);
    }
  }
  return Value::array(std::move(out));
}

}  // namespace

void register_arrays(BuiltinRegistry& r) {
  r.add("array.concat", 2, builtin_array_concat);
  r.add("array.slice", 3, builtin_array_slice);
  r.add("array.reverse", 1, builtin_array_reverse);
  r.add("array.flatten", 1, builtin_array_flatten);
}

}  // namespace confidant::rego
