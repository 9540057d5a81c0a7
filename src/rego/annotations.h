// Rego annotations: `# METADATA` comment blocks (YAML) attached to a package,
// rule or import, as OPA's ast/annotations.go and parser.go define them.
//
//   # METADATA
//   # title: My rule
//   # scope: document        (rule | document | package | subpackages)
//   allow if { ... }
//
// The parser turns each block into an Annotations (parse_annotations) and
// attaches it to the first statement that starts below the block's first line;
// the scope defaults to `rule` above a rule (`document` with entrypoint: true) and
// `package` above the package. rego.metadata.chain()/rule() read them
// through AnnotationSet (built lazily from a compiled policy's modules).
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "rego/ast.h"
#include "rego/error.h"
#include "rego/lexer.h"
#include "rego/value.h"

namespace confidant::rego {

class Policy;

struct Annotations {
  Location loc;  // the `# METADATA` line (file, row, col)
  std::string scope, title, description;
  bool entrypoint = false;
  std::vector<std::string> organizations;
  std::vector<std::pair<std::string, std::string>> related_resources;  // (ref, description)
  std::vector<std::pair<std::string, std::string>> authors;            // (name, email)
  Value schemas;  // array of {"path", "schema"|"definition"} objects, or undefined
  Value custom;   // object, or undefined

  // What the block is attached to.
  enum class Target : uint8_t { None, Package, Import, Rule } target = Target::None;
  const Rule* rule = nullptr;  // Target::Rule

  // OPA's Annotations.toObject(): the value rego.metadata.* return.
  Value to_value() const;
};

// Statement starts of a parsed module in source order, for attaching blocks.
struct AnnotatedStatement {
  uint32_t row = 0;
  Annotations::Target kind = Annotations::Target::None;
  const Rule* rule = nullptr;
};

// Parses the blocks of one module. Malformed YAML or fields are reported as
// rego_parse_errors in `content_errors`; scope/attachment problems (checked after
// OPA's other module checks) in `attach_errors`. Blocks that parse are appended to `out`.
void parse_annotations(const std::vector<MetadataBlock>& blocks, const std::vector<AnnotatedStatement>& statements,
                       const std::string* file, std::vector<std::shared_ptr<const Annotations>>& out,
                       Errors& content_errors, Errors& attach_errors);

// Compile-time check across modules (OPA's BuildAnnotationSet): a second `package`
// annotation for one package, or a second `document`/`subpackages` one for one
// path, is a rego_type_error "<scope> annotation redeclared: <file>:<row>".
void check_annotation_redeclarations(const std::vector<const Module*>& modules, Errors& errors);

// rego.metadata.chain() for `rule` (a rule of one of policy's modules): entries
// {"path": [...], "annotations": {...}} from the rule's own blocks outwards.
Value metadata_chain(const Policy& policy, const Rule& rule);
// rego.metadata.rule(): the rule's closest rule-scope block, or {}.
Value metadata_rule(const Policy& policy, const Rule& rule);

}  // namespace confidant::rego
