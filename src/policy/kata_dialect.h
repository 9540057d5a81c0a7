// Kata agent policies (`package agent_policy`): every agent request is a
// query of data.agent_policy.<RequestName> with the request as input. A rule
// answers with a boolean, or with {"allowed": bool, "ops": [...]} whose JSON
// Patch operations update the data document (`pstate`) the next requests see
// (kata-agent-policy.md 1.1, 5.1).
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>
#include <string>

#include "policy/aci_dialect.h"
#include "policy/dialect.h"

namespace confidant::policy {

class KataPolicy : public CompiledPolicy {
 public:
  static std::shared_ptr<const KataPolicy> compile(RegoSource policy, const EnforcerOptions& options,
                                                   std::string& error);

  Dialect dialect() const override { return Dialect::kKata; }
  State initial_state() const override;
  void enforce(std::string_view request, const rego::Value& input, const State& state, Decision& decision,
               State& next) const override;

  // AllowRequestsFailingPolicy, read once when the policy is loaded: the
  // policy asks the agent to let denied requests through (debugging).
  bool allow_failing() const { return allow_failing_; }

 private:
  KataPolicy() = default;
  const rego::Query* query_for(std::string_view request, std::string& error) const;

  RegoSource source_;
  EnforcerOptions options_;
  std::shared_ptr<const rego::Policy> compiled_;
  bool allow_failing_ = false;
  mutable std::mutex mu_;
  // Prepared queries by request name.
  struct NameHash {
    using is_transparent = void;  // lookups by string_view, without a string per request
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  mutable std::unordered_map<std::string, std::unique_ptr<rego::Query>, NameHash, std::equal_to<>> queries_;
};

}  // namespace confidant::policy
