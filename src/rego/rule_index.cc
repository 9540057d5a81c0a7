// Rule indexing: which rule bodies can be skipped by looking at the input alone.
//
// OPA indexes rules on equality tests between input/data refs and constants anywhere in the
// body. Here only the leading run of such tests counts: `input.kind == "pod"` (or `=`, either
// side) with a static path and a ground value. A test in that position has no side effect
// and cannot raise an error, so skipping a body whose test fails gives exactly the result,
// print output and errors of evaluating it — the print output of the Kata reference engine
// included, which a test placed after a print() would change. Rules with an else chain are
// not indexed (the else clauses have bodies of their own).
#include <algorithm>

#include "rego/compiler.h"

namespace confidant::rego {

namespace {

// `input.a.b[0]`: the key path, when every step after `input` is a ground string or integer.
bool input_path(const Term& t, std::vector<Value>& path) {
  if (t.kind != TermKind::Ref || t.items.empty()) return false;
  const Term& head = *t.items[0];
  if (head.kind != TermKind::Var || head.slot != kInputSlot) return false;
  path.clear();
  for (size_t i = 1; i < t.items.size(); ++i) {
    const Term& k = *t.items[i];
    if (!k.ground || !(k.constant.is_string() || k.constant.is_number())) return false;
    path.push_back(k.constant);
  }
  return !path.empty();
}

bool ground_value(const Term& t, Value& v) {
  if (!t.ground || t.constant.is_undefined()) return false;
  v = t.constant;
  return true;
}

// An index test: `input.<path> == c`, `c == input.<path>`, or the same with `=`.
bool index_test(const Expr& e, std::vector<Value>& path, Value& value) {
  if (e.kind != ExprKind::Call || e.negated || !e.withs.empty() || !e.term) return false;
  const Term& call = *e.term;
  const auto* target = static_cast<const CallTarget*>(call.target);
  if (!target || call.items.size() != 3) return false;
  bool equality = target->kind == CallTarget::Eq ||
                  (target->kind == CallTarget::Builtin && target->builtin && target->builtin->name == "equal");
  if (!equality) return false;
  const Term& a = *call.items[1];
  const Term& b = *call.items[2];
  return (input_path(a, path) && ground_value(b, value)) || (input_path(b, path) && ground_value(a, value));
}

void index_node(RuleNode* n) {
  n->index_paths.clear();
  n->rule_index.clear();
  // One rule has nothing to choose between; a default rule is never indexed.
  if (n->rules.size() < 2) return;
  std::vector<std::vector<RuleNode::IndexTest>> index(n->rules.size());
  bool any = false;
  for (size_t i = 0; i < n->rules.size(); ++i) {
    const Rule& r = *n->rules[i];
    if (r.else_rule) continue;
    std::vector<Value> path;
    Value value;
    for (const Expr& e : r.body) {
      if (!index_test(e, path, value)) break;
      auto it = std::find(n->index_paths.begin(), n->index_paths.end(), path);
      auto at = static_cast<uint32_t>(it - n->index_paths.begin());
      if (it == n->index_paths.end()) n->index_paths.push_back(path);
      index[i].push_back({at, value});
      any = true;
    }
  }
  if (any) n->rule_index = std::move(index);
}

}  // namespace

void build_rule_index(RuleNode* root) {
  if (!root) return;
  index_node(root);
  for (auto& [name, child] : root->children) build_rule_index(child.get());
}

}  // namespace confidant::rego
