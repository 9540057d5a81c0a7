// The ACI enforcement points: when each entered the policy API, and what a
// policy written for an older API gets when it does not define the point.
// The guest's API version is the newest version in this table (0.12.0).
#pragma once

#include <span>
#include <string_view>

#include "rego/value.h"

namespace confidant::policy {

inline constexpr std::string_view kGuestApiVersion = "0.12.0";
inline constexpr std::string_view kFrameworkVersion = "0.5.0";

struct EnforcementPoint {
  std::string_view name;
  std::string_view introduced;  // API version
  // Result for a policy whose api_version predates the point (JSON object).
  std::string_view defaults;
  // Points a policy may leave out even when its API is new enough: the
  // framework decides them (read-write device mounts).
  bool use_framework = false;
};

// Every point, in the order of the API table.
std::span<const EnforcementPoint> enforcement_points();

// The point named `name`, or nullptr.
const EnforcementPoint* find_enforcement_point(std::string_view name);

// The point's default result as a value (parsed once).
const rego::Value& default_result(const EnforcementPoint& point);

}  // namespace confidant::policy
