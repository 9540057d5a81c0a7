// Compiler: modules -> an immutable Policy the evaluator runs.
//
// Passes, in order (as OPA's ast/compile.go, much condensed):
//   1. rule tree: every rule is filed under data.<package>.<static part of its head>
//   2. name resolution: each variable becomes a frame slot (local) or a
//      reference to input/data (rules, imports); calls bind to builtins or
//      functions
//   3. safety: bodies are reordered so variables are bound before use;
//      variables that can never be bound are rego_unsafe_var_errors
//   4. recursion check over the rule dependency graph
//   5. constant folding of ground terms
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "rego/ast.h"
#include "rego/builtins/builtins.h"
#include "rego/error.h"

namespace confidant::rego {

// A node of the rule tree: a name under data with the rules defined there.
struct RuleNode {
  uint32_t id = 0;  // dense, < Policy::node_count: indexes per-evaluation tables (memo)
  std::string name;
  std::vector<std::string> path;  // from the data root, e.g. {"agent_policy", "CreateContainerRequest"}
  std::map<std::string, std::unique_ptr<RuleNode>> children;
  std::vector<std::shared_ptr<Rule>> rules;  // non-default rules whose static head ends here
  std::shared_ptr<Rule> default_rule;
  bool is_function = false;
  bool multi_value = false;  // `contains` / v0 partial set
  bool dynamic = false;      // some rule has key terms after the static part (partial object / ref head)
  // Every rule (and else branch) yields the same ground value (e.g. `allow if {...}` many
  // times, or a function whose definitions all return true): evaluation may stop at the
  // first success without conflict checks. Complete rules stop inside a body always;
  // across definitions (and functions at all) only when no one observes the difference
  // (Evaluator::early_exit_: no print output, no trace), as OPA's early exit does.
  bool single_value = false;
  bool has_rules_below = false;  // this node or a descendant has rules
  std::string display;           // "data.a.b" for messages
  // Rule indexing (rule_index.cc): rules[i] whose body starts with `input.<path> == <constant>`
  // tests is skipped, body unentered, when the input disagrees. Empty when no rule qualifies.
  struct IndexTest {
    uint32_t path;  // into index_paths
    Value value;
  };
  std::vector<std::vector<Value>> index_paths;       // distinct input paths the tests read
  std::vector<std::vector<IndexTest>> rule_index;    // per rules[i] (empty: always evaluated)
};

// Fills RuleNode::index_paths/rule_index for every node below `root` (after compilation).
void build_rule_index(RuleNode* root);

class Policy {
 public:
  Value data = Value::empty_object();  // base documents
  std::unique_ptr<RuleNode> root;
  std::vector<std::unique_ptr<Module>> modules;
  uint32_t node_count = 0;  // RuleNodes in the tree (their ids are 0..node_count-1)

  // Node at a path (nullptr when no rule is defined there or below).
  const RuleNode* find(const std::vector<std::string>& path) const;
};

// Slots of the two root documents in resolved Var terms.
constexpr int32_t kInputSlot = -2;
constexpr int32_t kDataSlot = -3;

struct CompileOptions {
  const BuiltinRegistry* builtins = nullptr;  // default: the global registry
  bool v0 = false;                            // queries: parsed as Rego v0 (deprecated builtins allowed)
};

// Takes ownership of the modules. Returns null and fills errors on failure.
std::shared_ptr<Policy> compile_policy(std::vector<std::unique_ptr<Module>> modules, Value data, Errors& errors,
                                       const CompileOptions& opts = {});

// What the compiler resolved a Call's operator to (Term::target).
struct CallTarget {
  enum Kind { Builtin, Function, Print, Walk, Eq, Assign, Member2, Member3 } kind = Builtin;
  const BuiltinInfo* builtin = nullptr;
  const RuleNode* function = nullptr;
  std::string name;  // as written / full path, for messages and `with` mocking
  int arity = 0;
  std::string print_prefix;  // Print: "<file>:<row>: ", the start of each line it prints
};

// A compiled query body: its own frame, resolved against a policy.
struct CompiledQuery {
  std::shared_ptr<const std::string> file, source;
  Body body;
  int32_t frame_size = 0;
  std::vector<std::pair<std::string, int32_t>> user_vars;  // reported bindings, sorted by name
  std::vector<std::unique_ptr<CallTarget>> targets;
};

bool compile_query(const Policy& policy, Body body, CompiledQuery& out, Errors& errors,
                   const CompileOptions& opts = {});



}  // namespace confidant::rego
