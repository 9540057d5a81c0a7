#include "rego/builtins/builtins.h"

namespace confidant::rego {

void type_error(std::string_view builtin, int pos, std::string_view expected, const Value& got) {
  std::string msg(builtin);
  msg += ": operand ";
  msg += std::to_string(pos);
  msg += " must be ";
  msg += expected;
  msg += " but got ";
  msg += kind_name(got.kind());
  throw BuiltinError("eval_type_error", msg);
}

void builtin_error(std::string_view builtin, std::string_view message) {
  std::string msg(builtin);
  msg += ": ";
  msg += message;
  throw BuiltinError("eval_builtin_error", msg);
}

const std::string& arg_string(std::string_view b, std::span<const Value> args, int i) {
  if (!args[static_cast<size_t>(i)].is_string()) type_error(b, i + 1, "string", args[static_cast<size_t>(i)]);
  return args[static_cast<size_t>(i)].str();
}
const Value& arg_number(std::string_view b, std::span<const Value> args, int i) {
  if (!args[static_cast<size_t>(i)].is_number()) type_error(b, i + 1, "number", args[static_cast<size_t>(i)]);
  return args[static_cast<size_t>(i)];
}
int64_t arg_int(std::string_view b, std::span<const Value> args, int i) {
  const Value& v = arg_number(b, args, i);
  int64_t out;
  if (!v.to_int64(out)) {
    std::string msg(b);
    msg += ": operand " + std::to_string(i + 1) + " must be integer but got floating-point number";
    if (v.is_integer()) msg = std::string(b) + ": operand " + std::to_string(i + 1) + " is too large";
    throw BuiltinError("eval_type_error", msg);
  }
  return out;
}
const Value& arg_array(std::string_view b, std::span<const Value> args, int i) {
  if (!args[static_cast<size_t>(i)].is_array()) type_error(b, i + 1, "array", args[static_cast<size_t>(i)]);
  return args[static_cast<size_t>(i)];
}
const Value& arg_object(std::string_view b, std::span<const Value> args, int i) {
  if (!args[static_cast<size_t>(i)].is_object()) type_error(b, i + 1, "object", args[static_cast<size_t>(i)]);
  return args[static_cast<size_t>(i)];
}
const Value& arg_set(std::string_view b, std::span<const Value> args, int i) {
  if (!args[static_cast<size_t>(i)].is_set()) type_error(b, i + 1, "set", args[static_cast<size_t>(i)]);
  return args[static_cast<size_t>(i)];
}
bool arg_bool(std::string_view b, std::span<const Value> args, int i) {
  if (!args[static_cast<size_t>(i)].is_bool()) type_error(b, i + 1, "boolean", args[static_cast<size_t>(i)]);
  return args[static_cast<size_t>(i)].as_bool();
}

}  // namespace confidant::rego
