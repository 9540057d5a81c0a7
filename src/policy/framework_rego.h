// The framework package (src/policy/framework.rego), built into the binary.
#pragma once

#include <string_view>

namespace confidant::policy {

// The text of framework.rego as it was when this binary was built.
std::string_view framework_rego();

}  // namespace confidant::policy
