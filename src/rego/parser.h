// Rego parser: source text -> AST (ast.h). Both syntaxes of OPA 1.x:
//   v1 (default): `if` before rule bodies and `contains` for multi-value
//     rules are mandatory; `in`, `every`, `some ... in`, `contains`, `if` are
//     always keywords; `p[x] if {...}` is a single-value ref-head rule
//     (p[x] = true); deprecated v0 forms are errors.
//   v0 (opt in): `p { ... }` and `p[x] { ... }` (partial set) bodies without
//     `if`; keywords only through `import future.keywords[.name]` or
//     `import rego.v1` (which also switches the module to v1 rules).
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "rego/ast.h"
#include "rego/error.h"

namespace confidant::rego {

struct ParseOptions {
  bool v0 = false;  // parse with Rego v0 syntax
  // Bounds that keep hostile input from exhausting the stack or memory.
  int max_depth = 500;  // nesting of terms/bodies
  // Parse `# METADATA` blocks into Module::annotations; malformed ones are parse errors
  // (OPA's ProcessAnnotation, which its loaders and the rego package turn on).
  bool annotations = true;
  bool comments = false;  // keep every comment in Module::comments
};

// Parses a whole module. On failure returns false and appends errors with
// code rego_parse_error and the location (file, row, col).
bool parse_module(std::string file, std::string text, const ParseOptions& opts, Module& out, Errors& errors);

// Parses a query: a body such as `data.x.p[y]; y > 1` or `x := input.a`.
// Expressions may be separated by `;` or newlines. `file` names the source
// in locations (may be empty). The returned holder keeps the file/source
// strings alive for the body's Locations.
struct ParsedQuery {
  std::shared_ptr<const std::string> file;
  std::shared_ptr<const std::string> source;
  Body body;
};
bool parse_query(std::string_view text, const ParseOptions& opts, ParsedQuery& out, Errors& errors,
                 std::string file = "");

// Parses a single term (e.g. an `input_term` of a conformance case such as
// `{"a": {1, 2}}`). The term must be ground (no variables); refs/calls are a
// parse error here.
bool parse_value(std::string_view text, const ParseOptions& opts, Value& out, Errors& errors);

}  // namespace confidant::rego
