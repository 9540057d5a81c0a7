// Top-down evaluator: runs a compiled query against a compiled policy.
//
// Evaluation is backtracking search in continuation-passing style (as OPA's
// topdown): each expression calls its continuation once per solution, and a
// continuation returns true to stop the search early. Variables live in
// per-call frames; bindings are undone through a trail when backtracking.
// Virtual documents (rule values) are memoised for the query; `with`
// modifiers get a fresh memo scope.
#pragma once

#include "rego/compiler.h"
#include "rego/rego.h"

namespace confidant::rego {

// Evaluates `q` and appends one row per solution. Errors (conflicts, strict
// builtin errors, limits) end the evaluation and are returned in `errors`.
bool evaluate_query(const Policy& policy, const CompiledQuery& q, const EvalOptions& opts, QueryResult& out,
                    Errors& errors,
                    Value* first = nullptr);

}  // namespace confidant::rego
