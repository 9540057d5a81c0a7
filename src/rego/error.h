// Errors reported by the parser, compiler and evaluator, with OPA's codes.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace confidant::rego {

// OPA's error codes (the `code` field of opa eval's JSON errors).
namespace codes {
inline constexpr const char* kParse = "rego_parse_error";
inline constexpr const char* kCompile = "rego_compile_error";
inline constexpr const char* kType = "rego_type_error";
inline constexpr const char* kUnsafeVar = "rego_unsafe_var_error";
inline constexpr const char* kRecursion = "rego_recursion_error";
inline constexpr const char* kConflict = "eval_conflict_error";
inline constexpr const char* kEvalType = "eval_type_error";
inline constexpr const char* kBuiltin = "eval_builtin_error";
inline constexpr const char* kCancel = "eval_cancel_error";  // limits (steps/time/memory)
inline constexpr const char* kInternal = "eval_internal_error";
}  // namespace codes

struct RegoError {
  std::string code;
  std::string message;
  std::string file;  // may be empty
  uint32_t row = 0;
  uint32_t col = 0;

  // OPA's one-line form: "<file>:<row>: <code>: <message>" (location omitted when unknown).
  std::string to_string() const;
};

using Errors = std::vector<RegoError>;

// Several errors as OPA prints them: one per line, prefixed by a count when more than one.
std::string to_string(const Errors& errs);

}  // namespace confidant::rego
