// What the Enforcer needs from a compiled policy of either dialect.
#pragma once

#include <string>
#include <string_view>

#include "policy/policy.h"
#include "rego/value.h"

namespace confidant::policy {

// The state carried between calls. Values are immutable and shared, so a
// copy is a snapshot.
struct State {
  rego::Value doc;    // ACI: the metadata collections; Kata: the data document ({"pstate": {...}})
  rego::Value stdio;  // ACI: container ID -> allow_stdio_access decided at create_container
};

class CompiledPolicy {
 public:
  virtual ~CompiledPolicy() = default;
  virtual Dialect dialect() const = 0;
  virtual State initial_state() const = 0;
  // Decides a call against `state`. When the call is allowed, `next` holds
  // the state to commit; when denied, `next` is unspecified.
  virtual void enforce(std::string_view point, const rego::Value& input, const State& state, Decision& decision,
                       State& next) const = 0;
};

// Evaluation options shared by both dialects: limits, print collection.
rego::EvalOptions eval_options(const EnforcerOptions& options, rego::Value input, std::vector<std::string>* prints);

}  // namespace confidant::policy
