// Checks on a request before any policy sees it. The guest builds inputs
// from host requests, so a malformed one is hostile or a bug either way; it
// is denied here with a precise reason instead of relying on every policy
// rule to treat a wrong type as a failed match.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "rego/value.h"

namespace confidant::policy {

struct InputLimits {
  size_t max_depth = 64;         // nesting of arrays/objects
  size_t max_nodes = 1'000'000;  // values in total
  size_t max_bytes = 64u << 20;  // string bytes in total
};

// Size, nesting and UTF-8 of every string (keys included). Empty on success,
// else the reason ("invalid input: ...").
std::string check_input_shape(const rego::Value& input, const InputLimits& limits);

// The fields an ACI enforcement point reads, with their types
// (aci-execution-policy.md section 4, Linux guest). Unknown fields are
// allowed and ignored. Empty on success, else the reason.
std::string check_aci_input(std::string_view point, const rego::Value& input);

}  // namespace confidant::policy
