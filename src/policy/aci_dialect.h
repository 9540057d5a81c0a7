// Confidential ACI policies: the user policy (`package policy`) compiled
// with the framework package and the guest's static data, and the guest's
// algorithm around each query (aci-execution-policy.md 1.3): query the point,
// apply the result's metadata, fill in defaults for points newer than the
// policy's API version, require a boolean `allowed`, and on denial ask the
// policy for its reason.
#pragma once

#include <array>
#include <memory>
#include <string>
#include <vector>

#include "policy/api_table.h"
#include "policy/dialect.h"
#include "rego/rego.h"

namespace confidant::policy {

// Rego text plus how to parse it.
struct RegoSource {
  std::string file;  // name used in locations and print() output
  std::string text;
  bool v0 = false;
};

class AciPolicy : public CompiledPolicy {
 public:
  // Compiles `policy` (which must be `package policy`) with the framework
  // and `fragments` (fragment modules kept loaded). Null with `error` on failure.
  static std::shared_ptr<const AciPolicy> compile(RegoSource policy, std::vector<RegoSource> fragments,
                                                  const EnforcerOptions& options, std::string& error);

  Dialect dialect() const override { return Dialect::kAci; }
  State initial_state() const override;
  void enforce(std::string_view point, const rego::Value& input, const State& state, Decision& decision,
               State& next) const override;

  // This policy with one more fragment module loaded.
  std::shared_ptr<const AciPolicy> with_fragment(RegoSource fragment, std::string& error) const;

  const std::string& api_version() const { return api_version_; }

 private:
  struct PointQueries {
    std::unique_ptr<rego::Query> policy;     // data.policy.<point>
    std::unique_ptr<rego::Query> framework;  // data.framework.<point> (use_framework points)
    bool available = false;                  // policy api_version >= point introduced
  };

  AciPolicy() = default;
  bool prepare(std::string& error);
  // Evaluates one prepared query against the request and the state.
  bool eval(const rego::Query& q, const rego::Value& input, const rego::Value& metadata, rego::Value& out,
            std::vector<std::string>& prints, std::string& error) const;
  void deny_with_error(const rego::Value& input, const std::string& error, Decision& d) const;
  void deny_with_reason(std::string_view point, const rego::Value& input, const rego::Value& metadata,
                        Decision& d) const;
  // The guest's use of the result keys (1.4); false with `error` when a key is malformed.
  bool interpret(std::string_view point, const rego::Value& input, const State& state, Decision& d, State& next,
                 std::string& error) const;

  RegoSource source_;
  std::vector<RegoSource> fragments_;
  EnforcerOptions options_;
  std::shared_ptr<const rego::Policy> compiled_;
  std::string api_version_;           // empty: the policy defines none
  std::string api_version_error_;     // set when api_version is unusable
  rego::Value static_values_;         // data.framework.policy_static, computed once
  std::vector<PointQueries> points_;  // indexed like enforcement_points()
  std::unique_ptr<rego::Query> reason_;
};

// The namespace a fragment's first line declares (`package <name>`), or ""
// with `error` when the line is missing, malformed or a reserved name.
std::string fragment_namespace(const std::string& text, std::string& error);

// The fragment text as loaded for one parameter object: the text plus
// `__fragment_parameters` and the `parameter(name)` helper.
std::string fragment_module_text(const std::string& text, const std::string& ns, const rego::Value& parameters);

}  // namespace confidant::policy
