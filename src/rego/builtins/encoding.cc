#include "rego/builtins/builtins.h"

namespace confidant::rego {

// Placeholder until this topic is written: registers nothing yet.
void register_encoding(BuiltinRegistry&) {}

}  // namespace confidant::rego
