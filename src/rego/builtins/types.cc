// Type builtins: is_number, is_string, ..., type_name.
//
// In OPA v1 the is_* functions are total: they return false (not undefined)
// for values of another type, so `is_string(1, x)` binds x to false.
#include "rego/builtins/builtins.h"

namespace confidant::rego {

namespace {

template <Kind K>
Value is_kind(BuiltinContext&, std::span<const Value> a) {
  return a[0].kind() == K ? Value::true_value() : Value::false_value();
}

Value type_name(BuiltinContext&, std::span<const Value> a) { return Value::string(kind_name(a[0].kind())); }

}  // namespace

void register_types(BuiltinRegistry& r) {
  r.add("is_number", 1, is_kind<Kind::Number>);
  r.add("is_string", 1, is_kind<Kind::String>);
  r.add("is_boolean", 1, is_kind<Kind::Bool>);
  r.add("is_array", 1, is_kind<Kind::Array>);
  r.add("is_set", 1, is_kind<Kind::Set>);
  r.add("is_object", 1, is_kind<Kind::Object>);
  r.add("is_null", 1, is_kind<Kind::Null>);
  r.add("type_name", 1, type_name);
}

}  // namespace confidant::rego
