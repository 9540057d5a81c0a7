// Set builtins: the & and | operators (and, or) and the n-ary intersection and
// union. Sets keep their members sorted, so every operation is a linear merge
// that yields an already sorted result. (Set difference is `minus`, numbers.cc.)
#include <string>

#include "rego/builtins/builtins.h"

namespace confidant::rego {
namespace {

Value set_intersect(const Value& a, const Value& b) {
  const ValueVec& xs = a.set_items();
  const ValueVec& ys = b.set_items();
  if (a.node() == b.node() || xs.empty()) return a;
  if (ys.empty()) return b;
  ValueVec out;
  size_t i = 0, j = 0;
  while (i < xs.size() && j < ys.size()) {
    const int c = compare(xs[i], ys[j]);
    if (c == 0) out.push_back(xs[i]);
    i += c <= 0;
    j += c >= 0;
  }
  if (out.size() == xs.size()) return a;
  if (out.size() == ys.size()) return b;
  return Value::set_sorted(std::move(out));
}

Value set_union(const Value& a, const Value& b) {
  const ValueVec& xs = a.set_items();
  const ValueVec& ys = b.set_items();
  if (a.node() == b.node() || ys.empty()) return a;
  if (xs.empty()) return b;
  ValueVec out;
  out.reserve(xs.size() + ys.size());
  size_t i = 0, j = 0;
  while (i < xs.size() && j < ys.size()) {
    const int c = compare(xs[i], ys[j]);
    out.push_back(c <= 0 ? xs[i] : ys[j]);
    i += c <= 0;
    j += c >= 0;
  }
  out.insert(out.end(), xs.begin() + static_cast<ptrdiff_t>(i), xs.end());
  out.insert(out.end(), ys.begin() + static_cast<ptrdiff_t>(j), ys.end());
  if (out.size() == xs.size()) return a;
  if (out.size() == ys.size()) return b;
  return Value::set_sorted(std::move(out));
}

Value builtin_and(BuiltinContext&, std::span<const Value> args) {
  return set_intersect(arg_set("and", args, 0), arg_set("and", args, 1));
}

Value builtin_or(BuiltinContext&, std::span<const Value> args) {
  return set_union(arg_set("or", args, 0), arg_set("or", args, 1));
}

// A member of the set-of-sets operand; OPA reports a bad member as operand 1.
const Value& member_set(std::string_view name, const Value& v) {
  if (!v.is_set()) type_error(name, 1, "set", v);
  return v;
}

Value builtin_intersection(BuiltinContext&, std::span<const Value> args) {
  const Value& sets = arg_set("intersection", args, 0);
  if (sets.size() == 0) return Value::empty_set();
  Value out = member_set("intersection", sets.set_items()[0]);
  for (size_t i = 1; i < sets.size(); ++i) out = set_intersect(out, member_set("intersection", sets.set_items()[i]));
  return out;
}

Value builtin_union(BuiltinContext&, std::span<const Value> args) {
  const Value& sets = arg_set("union", args, 0);
  Value out = Value::empty_set();
  for (const Value& s : sets.set_items()) out = set_union(out, member_set("union", s));
  return out;
}

}  // namespace

void register_sets(BuiltinRegistry& r) {
  r.add("and", 2, builtin_and);
  r.add("or", 2, builtin_or);
  r.add("intersection", 1, builtin_intersection);
  r.add("union", 1, builtin_union);
}

}  // namespace confidant::rego
