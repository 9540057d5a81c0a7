// Builtins OPA deprecated and offers only to Rego v0 (OPA 1.x drops them from v1's
// capabilities): all, any, cast_*, re_match, set_diff and net.cidr_overlap. Deployed v0
// policies may still call them; a v1 module gets "undefined function" (compiler.cc).
#include <string>

#include "rego/builtins/builtins.h"

namespace confidant::rego {

namespace {

const ValueVec& members(std::string_view name, const Value& a) {
  if (a.is_array()) return a.array_items();
  if (a.is_set()) return a.set_items();
  type_error(name, 1, "one of {array, set}", a);
}

Value bi_all(BuiltinContext&, std::span<const Value> a) {
  for (const Value& v : members("all", a[0]))
    if (!v.is_true()) return Value::boolean(false);
  return Value::boolean(true);
}

Value bi_any(BuiltinContext&, std::span<const Value> a) {
  for (const Value& v : members("any", a[0]))
    if (v.is_true()) return Value::boolean(true);
  return Value::boolean(false);
}

Value cast_array(BuiltinContext&, std::span<const Value> a) {
  if (a[0].is_array()) return a[0];
  return Value::array(members("cast_array", a[0]));  // a set's members, in its order
}

Value cast_set(BuiltinContext&, std::span<const Value> a) {
  if (a[0].is_set()) return a[0];
  return Value::set(members("cast_set", a[0]));
}

template <bool (Value::*Is)() const>
Value cast_same(const char* name, const char* kind, std::span<const Value> a) {
  if (!(a[0].*Is)()) type_error(name, 1, kind, a[0]);
  return a[0];
}
Value cast_string(BuiltinContext&, std::span<const Value> a) {
  return cast_same<&Value::is_string>("cast_string", "string", a);
}
Value cast_boolean(BuiltinContext&, std::span<const Value> a) {
  return cast_same<&Value::is_bool>("cast_boolean", "boolean", a);
}
Value cast_null(BuiltinContext&, std::span<const Value> a) { return cast_same<&Value::is_null>("cast_null", "null", a); }
Value cast_object(BuiltinContext&, std::span<const Value> a) {
  return cast_same<&Value::is_object>("cast_object", "object", a);
}

Value set_diff(BuiltinContext&, std::span<const Value> a) {
  if (!a[0].is_set()) type_error("set_diff", 1, "set", a[0]);
  if (!a[1].is_set()) type_error("set_diff", 2, "set", a[1]);
  ValueVec out;
  for (const Value& v : a[0].set_items())
    if (!a[1].has(v)) out.push_back(v);
  return Value::set_sorted(std::move(out));
}

// The current builtin under its old name: same results, errors named as called.
template <const char* Old, const char* Current>
Value alias(BuiltinContext& ctx, std::span<const Value> a) {
  static const BuiltinInfo* target = BuiltinRegistry::global().find(Current);
  try {
    return target->fn(ctx, a);
  } catch (const BuiltinError& e) {
    std::string msg = e.what();
    std::string prefix = std::string(Current) + ":";
    if (msg.compare(0, prefix.size(), prefix) == 0) msg = std::string(Old) + ":" + msg.substr(prefix.size());
    throw BuiltinError(e.code, msg);
  }
}

constexpr char kReMatch[] = "re_match";
constexpr char kRegexMatch[] = "regex.match";
constexpr char kCidrOverlap[] = "net.cidr_overlap";
constexpr char kCidrContains[] = "net.cidr_contains";

}  // namespace

void register_deprecated(BuiltinRegistry& r) {
  r.add_deprecated("all", 1, bi_all);
  r.add_deprecated("any", 1, bi_any);
  r.add_deprecated("cast_array", 1, cast_array);
  r.add_deprecated("cast_set", 1, cast_set);
  r.add_deprecated("cast_string", 1, cast_string);
  r.add_deprecated("cast_boolean", 1, cast_boolean);
  r.add_deprecated("cast_null", 1, cast_null);
  r.add_deprecated("cast_object", 1, cast_object);
  r.add_deprecated("set_diff", 2, set_diff);
  r.add_deprecated("re_match", 2, alias<kReMatch, kRegexMatch>);
  r.add_deprecated("net.cidr_overlap", 2, alias<kCidrOverlap, kCidrContains>);
}

}  // namespace confidant::rego
