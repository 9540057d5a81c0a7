// rego.metadata.chain(), rego.metadata.rule(), rego.parse_module and the METADATA
// annotations behind them. Expected values follow OPA: its conformance cases
// (v1/regometadatachain, v1/regoparsemodule), the policy reference examples and
// the JSON of ast/marshal_test.go.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "rego/rego.h"

using namespace confidant::rego;

namespace {

struct Outcome {
  bool ok = false;
  Value value;
  std::string error;  // code: message (first error), with its row when known
};

Outcome eval(const std::vector<std::pair<std::string, std::string>>& modules, const std::string& query,
             const std::string& input_json = "", bool strict = false) {
  Outcome r;
  Engine eng;
  Errors errs;
  auto fail = [&] {
    r.error = errs[0].code + ": " + errs[0].message;
    if (errs[0].row) r.error = std::to_string(errs[0].row) + ": " + r.error;
    return r;
  };
  for (const auto& [file, text] : modules)
    if (!eng.add_module(file, text, errs)) return fail();
  auto p = eng.compile(errs);
  if (!p) return fail();
  auto q = Query::prepare(p, query, errs);
  if (!q) return fail();
  EvalOptions o;
  o.strict_builtin_errors = strict;
  if (!input_json.empty()) {
    std::string err;
    EXPECT_TRUE(parse_json(input_json, o.input, err)) << err;
  }
  if (!q->eval_value(o, r.value, errs)) return fail();
  r.ok = true;
  return r;
}
Outcome eval(const std::string& module, const std::string& query, const std::string& input_json = "") {
  return eval({{"test.rego", module}}, query, input_json);
}

std::string J(const Outcome& r) { return r.ok ? (r.value.is_defined() ? to_json(r.value) : "undefined") : r.error; }
// Canonical JSON of a JSON text, for comparisons that show readable diffs.
std::string C(const std::string& json) {
  Value v;
  std::string err;
  EXPECT_TRUE(parse_json(json, v, err)) << err << " in " << json;
  return to_json(v);
}

// rego.parse_module(file, src) through a query; the JSON of the module, or the error.
std::string parse(const std::string& src, const std::string& file = "x.rego") {
  Value args = Value::array({Value::string(file), Value::string(src)});
  std::string query =
      "x := rego.parse_module(" + to_json(args.array_items()[0]) + ", " + to_json(args.array_items()[1]) + ")";
  Engine eng;
  Errors errs;
  auto p = eng.compile(errs);
  auto q = Query::prepare(p, query, errs);
  if (!q) return "prepare: " + errs[0].message;
  EvalOptions o;
  o.strict_builtin_errors = true;
  QueryResult res;
  if (!q->eval(o, res, errs)) return errs[0].code + ": " + errs[0].message;
  return res.rows.empty() ? "undefined" : to_json(res.rows[0].bindings[0].second);
}
// Just the rules (or another top-level member) of a parsed module.
std::string member(const std::string& src, const char* key) {
  std::string out = parse(src);
  Value v;
  std::string err;
  if (!parse_json(out, v, err)) return out;
  const Value* m = v.get(key);
  return m ? to_json(*m) : "absent";
}

const char* kTrue = R"({"type": "boolean", "value": true})";
std::string var(const char* n) { return std::string(R"({"type": "var", "value": ")") + n + "\"}"; }
std::string str(const char* s) { return std::string(R"({"type": "string", "value": ")") + s + "\"}"; }
std::string num(const char* n) { return std::string(R"({"type": "number", "value": )") + n + "}"; }
std::string ref(std::initializer_list<std::string> items) {
  std::string s = R"({"type": "ref", "value": [)";
  bool first = true;
  for (const auto& i : items) s += (first ? "" : ", ") + i, first = false;
  return s + "]}";
}

}  // namespace

// ------------------------------------------------------------ rego.metadata.chain

TEST(RegoMetaChain, ConformanceSimple) {
  Outcome r = eval(R"(# METADATA
# description: The Rego test suite
package testing

# METADATA
# title: Testing annotations
# authors:
# - The OPA contributors
p := x if {
	x := rego.metadata.chain()
}
)",
                   "data.testing.p");
  EXPECT_EQ(J(r), C(R"([
    {"annotations": {"authors": [{"name": "The OPA contributors"}], "scope": "rule", "title": "Testing annotations"},
     "path": ["testing", "p"]},
    {"annotations": {"description": "The Rego test suite", "scope": "package"}, "path": ["testing"]}])"));
}

TEST(RegoMetaChain, ConformanceRuleMixedScope) {
  Outcome r = eval(R"(# METADATA
# description: The Rego test suite
package testing

# METADATA
# scope: document
# title: Testing annotations
# authors:
# - The OPA contributors
p := "foo" if {
	false
}

# METADATA
# title: Another annotation
p := x if {
	x := rego.metadata.chain()
}
)",
                   "data.testing.p");
  EXPECT_EQ(J(r), C(R"([
    {"annotations": {"scope": "rule", "title": "Another annotation"}, "path": ["testing", "p"]},
    {"annotations": {"authors": [{"name": "The OPA contributors"}], "scope": "document", "title": "Testing annotations"},
     "path": ["testing", "p"]},
    {"annotations": {"description": "The Rego test suite", "scope": "package"}, "path": ["testing"]}])"));
}

TEST(RegoMetaChain, ConformancePackageSpanningModules) {
  Outcome r = eval({{"a.rego",
                     "# METADATA\n# description: A set of package annotations seen across multiple modules\n"
                     "package testing\n"},
                    {"b.rego", "package testing\n\np := rego.metadata.chain()\n"}},
                   "data.testing.p");
  EXPECT_EQ(J(r), C(R"([{"path": ["testing", "p"]},
    {"annotations": {"description": "A set of package annotations seen across multiple modules", "scope": "package"},
     "path": ["testing"]}])"));
}

// Every scope in OPA's order: the rule's blocks closest first, document, package,
// then subpackages from the nearest package outwards.
TEST(RegoMetaChain, AllScopesInOrder) {
  Outcome r = eval({{"root.rego", "# METADATA\n# scope: subpackages\n# title: root\npackage a\n"},
                    {"mid.rego", "# METADATA\n# scope: subpackages\n# title: mid\npackage a.b\n"},
                    {"leaf.rego", R"(# METADATA
# title: pkg
package a.b.c

# METADATA
# scope: document
# title: doc
q := 1

# METADATA
# title: far

# METADATA
# title: near
q := 1 if rego.metadata.chain()[0].annotations.title == "near"

r := rego.metadata.chain()
)"}},
                   "data.a.b.c.r");
  EXPECT_EQ(J(r), C(R"([{"path": ["a", "b", "c", "r"]},
    {"annotations": {"scope": "package", "title": "pkg"}, "path": ["a", "b", "c"]},
    {"annotations": {"scope": "subpackages", "title": "mid"}, "path": ["a", "b"]},
    {"annotations": {"scope": "subpackages", "title": "root"}, "path": ["a"]}])"));

  // The rule with two blocks: both of its own, nearest first, then the document block.
  r = eval({{"leaf.rego", R"(package a

# METADATA
# scope: document
# title: doc
q := 1 if false

# METADATA
# title: far

# METADATA
# title: near
q := rego.metadata.chain() if false
q := [c.annotations.title | some c in rego.metadata.chain()] if true
)"}},
           "data.a.q");
  EXPECT_EQ(J(r), "[\"doc\"]") << "a rule without blocks of its own";
}

TEST(RegoMetaChain, RuleWithTwoOwnBlocks) {
  Outcome r = eval(R"(package a

# METADATA
# scope: document
# title: doc
q := 2 if false

# METADATA
# title: far

# METADATA
# title: near
q := [c.annotations.title | some c in rego.metadata.chain()]
)",
                   "data.a.q");
  EXPECT_EQ(J(r), R"(["near","far","doc"])");
}

// Ref heads: the path is the ground prefix of package + head, as strings.
TEST(RegoMetaChain, RefHeadPaths) {
  Outcome r = eval(R"(package a

# METADATA
# title: t
b.c[x] := rego.metadata.chain()[0].path if some x in ["k"]

d[1] := rego.metadata.chain()[0].path
)",
                   "data.a");
  EXPECT_EQ(J(r), C(R"({"b": {"c": {"k": ["a", "b", "c"]}}, "d": {"1": ["a", "d", "1"]}})"));
}

TEST(RegoMetaChain, QueryIsAnError) {
  Outcome r = eval({{"t.rego", "package t\n"}}, "x := rego.metadata.chain()", "", /*strict=*/true);
  EXPECT_EQ(
      r.error,
      "1: eval_builtin_error: rego.metadata.chain: the rego.metadata.chain function must only be called within the "
      "scope of a rule");
  r = eval({{"t.rego", "package t\n"}}, "x := rego.metadata.rule()", "", /*strict=*/true);
  EXPECT_EQ(r.error,
            "1: eval_builtin_error: rego.metadata.rule: the rego.metadata.rule function must only be called within the "
            "scope of a rule");
  // Not strict: undefined, as any failing builtin.
  EXPECT_EQ(J(eval("package t\n", "x := rego.metadata.chain()")), "undefined");
}

// ------------------------------------------------------------ rego.metadata.rule

// The policy reference example (policy-reference/_examples/rego/example).
TEST(RegoMetaRule, PolicyReferenceExample) {
  const char* policy = R"(package example

# METADATA
# title: Deny invalid numbers
# description: Numbers may not be higher than 5
# custom:
#  severity: MEDIUM
deny contains format(rego.metadata.rule()) if {
	input.number > 5
}

# METADATA
# title: Deny non-admin subjects
# description: Subject must have the 'admin' role
# custom:
#  severity: HIGH
deny contains format(rego.metadata.rule()) if {
	input.subject.role != "admin"
}

format(meta) := {"severity": meta.custom.severity, "reason": meta.description}
)";
  Outcome r =
      eval(policy, "data.example.deny", R"({"number": 11, "subject": {"name": "John Doe", "role": "customer"}})");
  EXPECT_EQ(J(r), C(R"([{"reason": "Numbers may not be higher than 5", "severity": "MEDIUM"},
                        {"reason": "Subject must have the 'admin' role", "severity": "HIGH"}])"));
}

TEST(RegoMetaRule, RuleScopeOnly) {
  Outcome r = eval(R"(# METADATA
# title: pkg
package a

p := rego.metadata.rule()

# METADATA
# scope: document
# title: doc
q := rego.metadata.rule()

# METADATA
# title: fn
# entrypoint: false
# organizations: [Acme]
f(x) := [x, rego.metadata.rule()]

r := f(1)
)",
                   "data.a");
  EXPECT_EQ(J(r), C(R"({"p": {}, "q": {}, "r": [1, {"organizations": ["Acme"], "scope": "rule", "title": "fn"}]})"));
}

// Every field, in the shapes OPA's toObject gives them.
TEST(RegoMetaRule, AllFields) {
  Outcome r = eval(R"(package a

# METADATA
# title: My rule
# description: |
#   Line one
# related_resources:
# - https://example.com/a
# - ref: https://example.com/b
#   description: B
# authors:
# - Jane Doe <jane@example.com>
# - name: John
# - email: x@example.com
# - <only@example.com>
# organizations:
# - Acme Corp.
# schemas:
# - input: schema.input
# - input.x: {"type": "string"}
# entrypoint: true
# unknown_key: ignored
# custom:
#   severity: 3
#   flags: [yes, true, null, 1.5]
#   nested: {a: {b: c}}
p := rego.metadata.chain()[1].annotations
)",
                   "data.a.p");
  EXPECT_EQ(J(r), C(R"({
    "scope": "document", "title": "My rule", "description": "Line one\n", "entrypoint": true,
    "related_resources": [{"ref": "https://example.com/a"}, {"ref": "https://example.com/b", "description": "B"}],
    "authors": [{"name": "Jane Doe", "email": "jane@example.com"}, {"name": "John"}, {"email": "x@example.com"},
                {"email": "only@example.com"}],
    "organizations": ["Acme Corp."],
    "schemas": [{"path": ["input"], "schema": ["schema", "input"]},
                {"path": ["input", "x"], "definition": {"type": "string"}}],
    "custom": {"severity": 3, "flags": ["yes", true, null, 1.5], "nested": {"a": {"b": "c"}}}})"));
}

// Only comments at column 1 form a block (OPA's IsMetadataComment / blockBuster).
TEST(RegoMetaRule, BlockBoundaries) {
  Outcome r = eval(R"(package a

  # METADATA
  # title: indented, ignored
p := rego.metadata.rule()

# METADATA
# title: first
# METADATA
# title: second
q := [a.annotations.title | some a in rego.metadata.chain()]
)",
                   "data.a");
  EXPECT_EQ(J(r), C(R"({"p": {}, "q": ["second", "first"]})"));
}

// ------------------------------------------------------------ annotation errors

TEST(RegoMetaErrors, Scopes) {
  EXPECT_EQ(J(eval("package a\n\n# METADATA\n# scope: blah\np := 1\n", "data.a")),
            "3: rego_parse_error: invalid annotation scope 'blah'. Use one of 'rule', 'document', 'package', or "
            "'subpackages'");
  EXPECT_EQ(J(eval("package a\n\n# METADATA\n# scope: package\np := 1\n", "data.a")),
            "3: rego_parse_error: annotation scope 'package' must be applied to package (have rule)");
  EXPECT_EQ(J(eval("# METADATA\n# scope: rule\npackage a\n", "data.a")),
            "1: rego_parse_error: annotation scope 'rule' must be applied to rule (have package)");
  EXPECT_EQ(J(eval("package a\n\n# METADATA\n# title: x\nimport input.x\n", "data.a")),
            "3: rego_parse_error: invalid annotation scope 'import'. Use one of 'rule', 'document', 'package', or "
            "'subpackages'");
  EXPECT_EQ(J(eval("package a\n\np := 1\n\n# METADATA\n# scope: document\n", "data.a")),
            "5: rego_parse_error: annotation scope 'document' must be applied to rule");
  EXPECT_EQ(J(eval("package a\n\n# METADATA\n# entrypoint: true\n# scope: rule\np := 1\n", "data.a")),
            "3: rego_parse_error: annotation entrypoint applied to non-document or package scope 'rule'");
}

TEST(RegoMetaErrors, Content) {
  EXPECT_EQ(J(eval("package a\n\n# METADATA\n# title: [x\np := 1\n", "data.a")),
            "4: rego_parse_error: yaml: line 1: did not find expected ',' or ']'");
  EXPECT_EQ(J(eval("package a\n\n# METADATA\n# entrypoint: yes\np := 1\n", "data.a")),
            "4: rego_parse_error: yaml: unmarshal errors:\n  line 1: cannot unmarshal !!str `yes` into bool");
  EXPECT_EQ(J(eval("package a\n\n# METADATA\n# title: a\n# title: b\np := 1\n", "data.a")),
            "5: rego_parse_error: yaml: unmarshal errors:\n  line 2: mapping key \"title\" already defined at line 1");
  EXPECT_EQ(J(eval("package a\n\n# METADATA\n# authors: [42]\np := 1\n", "data.a")),
            "3: rego_parse_error: invalid author definition %!s(int=42): invalid value type, must be string or map");
  EXPECT_EQ(J(eval("package a\n\n# METADATA\n# related_resources: [{description: d}]\np := 1\n", "data.a")),
            "3: rego_parse_error: invalid related-resource definition map[description:d]: 'ref' value required in "
            "object");
  EXPECT_EQ(J(eval("package a\n\n# METADATA\n#   \np := 1\n", "data.a")),
            "3: rego_parse_error: expected METADATA block, found whitespace");
  EXPECT_EQ(J(eval("package a\n\n# METADATA\n# custom: {a: {1: x}}\np := 1\n", "data.a")),
            "3: rego_parse_error: invalid map key type(s): ");
}

TEST(RegoMetaErrors, Redeclared) {
  Outcome r =
      eval({{"a.rego", "# METADATA\n# title: a\npackage p\n"}, {"b.rego", "\n# METADATA\n# title: b\npackage p\n"}},
           "data.p");
  EXPECT_EQ(r.error, "2: rego_type_error: package annotation redeclared: a.rego:1");
  r = eval(R"(package p

# METADATA
# scope: document
q := 1 if false

# METADATA
# scope: document
q := 2
)",
           "data.p");
  EXPECT_EQ(r.error, "7: rego_type_error: document annotation redeclared: test.rego:3");
}

// ------------------------------------------------------------ rego.parse_module

// OPA's ast/marshal_test.go: `allow if { true }` and its comment.
TEST(RegoParseModule, MarshalTestRule) {
  std::string out = parse("package foo\n\n# comment\n\nallow if { true }\n", "example.rego");
  EXPECT_EQ(out, C(R"({
    "package": {"path": [{"type": "var", "value": "data"}, {"type": "string", "value": "foo"}]},
    "rules": [{"body": [{"index": 0, "terms": {"type": "boolean", "value": true}}],
               "head": {"name": "allow", "value": {"type": "boolean", "value": true},
                        "ref": [{"type": "var", "value": "allow"}]}}],
    "comments": [{"Text": "IGNvbW1lbnQ=", "Location": {"file": "example.rego", "row": 3, "col": 1}}]})"));
}

// OPA's TestRuleHeadRefWithTermLocations (locations off): a ref head with a variable.
TEST(RegoParseModule, RefHeadContains) {
  EXPECT_EQ(
      member("package test\n\nimport rego.v1\n\nref.head[rule].test contains \"value\" if {\n\trule := \"rule\"\n}",
             "rules"),
      C("[{\"head\": {\"key\": " + str("value") + ", \"ref\": [" + var("ref") + ", " + str("head") + ", " +
        var("rule") + ", " + str("test") + "]}, \"body\": [{\"index\": 0, \"terms\": [" + ref({var("assign")}) + ", " +
        var("rule") + ", " + str("rule") + "]}]}]"));
  EXPECT_EQ(member("package test\n\nimport rego.v1\n", "imports"),
            C("[{\"path\": " + ref({var("rego"), str("v1")}) + "}]"));
}

TEST(RegoParseModule, Heads) {
  auto head = [](const std::string& rule) {
    std::string rules = member("package p\n" + rule + "\n", "rules");
    Value v;
    std::string err;
    if (!parse_json(rules, v, err)) return rules;
    return to_json(*v.array_items()[0].get("head"));
  };
  const std::string p = var("p"), x = var("x");
  EXPECT_EQ(head("p := 1"),
            C("{\"assign\": true, \"name\": \"p\", \"ref\": [" + p + "], \"value\": " + num("1") + "}"));
  EXPECT_EQ(head("p = 1"), C("{\"name\": \"p\", \"ref\": [" + p + "], \"value\": " + num("1") + "}"));
  EXPECT_EQ(head("p if true"), C("{\"name\": \"p\", \"ref\": [" + p + "], \"value\": " + kTrue + "}"));
  EXPECT_EQ(head("p contains x if x := 1"), C("{\"key\": " + x + ", \"name\": \"p\", \"ref\": [" + p + "]}"));
  EXPECT_EQ(head("p[x] := 1 if x := 2"), C("{\"assign\": true, \"key\": " + x + ", \"name\": \"p\", \"ref\": [" + p +
                                           ", " + x + "], \"value\": " + num("1") + "}"));
  EXPECT_EQ(head("p[x] if x := 2"),
            C("{\"key\": " + x + ", \"ref\": [" + p + ", " + x + "], \"value\": " + kTrue + "}"));
  EXPECT_EQ(head("p.q if true"), C("{\"ref\": [" + p + ", " + str("q") + "], \"value\": " + kTrue + "}"));
  EXPECT_EQ(head("p.q := 1"), C("{\"assign\": true, \"key\": " + str("q") + ", \"name\": \"p\", \"ref\": [" + p + ", " +
                                str("q") + "], \"value\": " + num("1") + "}"));
  EXPECT_EQ(head("a.b.c := 1"), C("{\"assign\": true, \"ref\": [" + var("a") + ", " + str("b") + ", " + str("c") +
                                  "], \"value\": " + num("1") + "}"));
  EXPECT_EQ(head("f(x, _) := x"), C("{\"args\": [" + x + ", " + var("$0") +
                                    "], \"assign\": true, \"name\": \"f\", "
                                    "\"ref\": [" +
                                    var("f") + "], \"value\": " + x + "}"));
  EXPECT_EQ(head("f(x) if x > 1"),
            C("{\"args\": [" + x + "], \"name\": \"f\", \"ref\": [" + var("f") + "], \"value\": " + kTrue + "}"));
}

TEST(RegoParseModule, DefaultAndElse) {
  std::string rules = member(R"(package p
default allow := false
f(_) := 1 if { false } else := 2 if { true } else = 3
g(x) := 1 if x else if true
)",
                             "rules");
  const std::string f = "[" + var("f") + "]";
  const std::string trueBody = "[{\"index\": 0, \"terms\": " + std::string(kTrue) + "}]";
  EXPECT_EQ(rules,
            C("[{\"default\": true, \"body\": " + trueBody +
              ", \"head\": {\"assign\": true, \"name\": \"allow\", "
              "\"ref\": [" +
              var("allow") +
              "], \"value\": {\"type\": \"boolean\", \"value\": false}}},"
              "{\"body\": [{\"index\": 0, \"terms\": {\"type\": \"boolean\", \"value\": false}}],"
              " \"head\": {\"args\": [" +
              var("$0") + "], \"assign\": true, \"name\": \"f\", \"ref\": " + f + ", \"value\": " + num("1") +
              "},"
              " \"else\": {\"body\": " +
              trueBody + ", \"head\": {\"args\": [" + var("$1") +
              "], \"assign\": true, \"name\": \"f\", \"ref\": " + f + ", \"value\": " + num("2") +
              "},"
              "  \"else\": {\"body\": " +
              trueBody + ", \"head\": {\"args\": [" + var("$2") + "], \"name\": \"f\", \"ref\": " + f +
              ", \"value\": " + num("3") +
              "}}}},"
              "{\"body\": [{\"index\": 0, \"terms\": " +
              var("x") +
              "}],"
              " \"head\": {\"args\": [" +
              var("x") + "], \"assign\": true, \"name\": \"g\", \"ref\": [" + var("g") + "], \"value\": " + num("1") +
              "},"
              " \"else\": {\"body\": " +
              trueBody + ", \"head\": {\"args\": [" + var("x") + "], \"assign\": true, \"name\": \"g\", \"ref\": [" +
              var("g") + "], \"value\": " + kTrue + "}}}]"));
}

TEST(RegoParseModule, BodyExpressions) {
  std::string rules = member(R"(package p
p if {
	some x, y
	some k, v in input.xs
	not input.deny
	count(input.a) > 1 with input as {"b": 1, "a": [1]}
	every z in [1] { z == 1 }
	s := {3, 1, _, 2, 1}
	o := {"b": _, "a": [_]}
	c := [q | q := input.xs[_]]
	object.get(input, "k", null) == null
}
)",
                             "rules");
  Value v;
  std::string err;
  ASSERT_TRUE(parse_json(rules, v, err)) << rules;
  const Value& body = *v.array_items()[0].get("body");
  auto expr = [&](size_t i) { return to_json(body.array_items()[i]); };
  EXPECT_EQ(expr(0), C("{\"index\": 0, \"terms\": {\"symbols\": [" + var("x") + ", " + var("y") + "]}}"));
  const std::string input_xs = ref({var("input"), str("xs")});
  EXPECT_EQ(expr(1),
            C("{\"index\": 1, \"terms\": {\"symbols\": [{\"type\": \"call\", \"value\": [" +
              ref({var("internal"), str("member_3")}) + ", " + var("k") + ", " + var("v") + ", " + input_xs + "]}]}}"));
  EXPECT_EQ(expr(2), C("{\"index\": 2, \"negated\": true, \"terms\": " + ref({var("input"), str("deny")}) + "}"));
  EXPECT_EQ(
      expr(3),
      C("{\"index\": 3, \"terms\": [" + ref({var("gt")}) + ", {\"type\": \"call\", \"value\": [" + ref({var("count")}) +
        ", " + ref({var("input"), str("a")}) + "]}, " + num("1") + "], \"with\": [{\"target\": " + var("input") +
        ", \"value\": {\"type\": \"object\", \"value\": [[" + str("a") + ", {\"type\": \"array\", \"value\": [" +
        num("1") + "]}], [" + str("b") + ", " + num("1") + "]]}}]}"));
  EXPECT_EQ(expr(4), C("{\"index\": 4, \"terms\": {\"key\": null, \"value\": " + var("z") +
                       ", \"domain\": {\"type\": \"array\", \"value\": [" + num("1") +
                       "]}, \"body\": [{\"index\": 0, "
                       "\"terms\": [" +
                       ref({var("equal")}) + ", " + var("z") + ", " + num("1") + "]}]}}"));
  // Sets sorted and deduplicated, numbers before variables; wildcards numbered in source order.
  EXPECT_EQ(expr(5), C("{\"index\": 5, \"terms\": [" + ref({var("assign")}) + ", " + var("s") +
                       ", {\"type\": \"set\", \"value\": [" + num("1") + ", " + num("2") + ", " + num("3") + ", " +
                       var("$0") + "]}]}"));
  EXPECT_EQ(expr(6), C("{\"index\": 6, \"terms\": [" + ref({var("assign")}) + ", " + var("o") +
                       ", {\"type\": \"object\", \"value\": [[" + str("a") + ", {\"type\": \"array\", \"value\": [" +
                       var("$2") + "]}], [" + str("b") + ", " + var("$1") + "]]}]}"));
  EXPECT_EQ(expr(7), C("{\"index\": 7, \"terms\": [" + ref({var("assign")}) + ", " + var("c") +
                       ", {\"type\": \"arraycomprehension\", \"value\": {\"term\": " + var("q") +
                       ", \"body\": [{\"index\": 0, \"terms\": [" + ref({var("assign")}) + ", " + var("q") + ", " +
                       ref({var("input"), str("xs"), var("$3")}) + "]}]}}]}"));
  EXPECT_EQ(expr(8), C("{\"index\": 8, \"terms\": [" + ref({var("equal")}) + ", {\"type\": \"call\", \"value\": [" +
                       ref({var("object"), str("get")}) + ", " + var("input") + ", " + str("k") +
                       ", {\"type\": \"null\", \"value\": null}]}, {\"type\": \"null\", \"value\": null}]}"));
}

// OPA's conformance case regoparsemodule/error, and other parse errors.
TEST(RegoParseModule, Errors) {
  EXPECT_EQ(parse("package foo."),
            "eval_builtin_error: rego.parse_module: 1 error occurred: x.rego:1: rego_parse_error: unexpected eof "
            "token: expected identifier");
  EXPECT_EQ(parse(""),
            "eval_builtin_error: rego.parse_module: 1 error occurred: x.rego:0: rego_parse_error: empty module");
  EXPECT_EQ(parse("package a\np { true }\n"),
            "eval_builtin_error: rego.parse_module: 1 error occurred: x.rego:2: rego_parse_error: `if` keyword is "
            "required before rule body");
  EXPECT_EQ(parse("", ""),
            "eval_builtin_error: rego.parse_module: 1 error occurred: 0:0: rego_parse_error: empty module")
      << "no file name: row:col";
}

TEST(RegoParseModule, TypeErrors) {
  Engine eng;
  Errors errs;
  auto p = eng.compile(errs);
  auto q = Query::prepare(p, "x := rego.parse_module(1, \"package a\")", errs);
  ASSERT_TRUE(q);
  EvalOptions o;
  o.strict_builtin_errors = true;
  QueryResult res;
  EXPECT_FALSE(q->eval(o, res, errs));
  EXPECT_EQ(errs.back().message, "rego.parse_module: operand 1 must be string but got number");
}

// METADATA blocks are plain comments for rego.parse_module (OPA's ParseModule does not
// process annotations), so even malformed ones parse.
TEST(RegoParseModule, MetadataStaysComments) {
  std::string out = member("# METADATA\n# scope: nonsense\npackage a\n", "comments");
  EXPECT_EQ(out, C(R"([{"Text": "IE1FVEFEQVRB", "Location": {"file": "x.rego", "row": 1, "col": 1}},
                       {"Text": "IHNjb3BlOiBub25zZW5zZQ==", "Location": {"file": "x.rego", "row": 2, "col": 1}}])"));
  EXPECT_EQ(member("package a\n", "annotations"), "absent");
  EXPECT_EQ(member("package a\n", "rules"), "absent");
  // Comment columns count characters; an empty comment has empty text; '\r' is dropped.
  EXPECT_EQ(member("package a # é\r\np := \"é\" #\n", "comments"),
            C(R"([{"Text": "IMOp", "Location": {"file": "x.rego", "row": 1, "col": 11}},
                  {"Text": "", "Location": {"file": "x.rego", "row": 2, "col": 10}}])"));
}

// Hostile input: nesting beyond the parser's limit is a parse error, not a crash.
TEST(RegoParseModule, DeepNesting) {
  std::string deep = "package a\np := " + std::string(100000, '[') + std::string(100000, ']') + "\n";
  std::string out = parse(deep);
  EXPECT_EQ(out.rfind("eval_builtin_error: rego.parse_module: ", 0), 0u) << out.substr(0, 200);
  EXPECT_NE(out.find("x.rego:2: rego_parse_error: max parsing recursion depth exceeded"), std::string::npos);
  // Within the limit it converts.
  std::string ok = "package a\np := " + std::string(200, '[') + std::string(200, ']') + "\n";
  EXPECT_EQ(parse(ok).rfind("{\"package\"", 0), 0u);
}

// Hostile blocks: nesting and alias expansion are bounded, never a crash.
TEST(RegoMetaErrors, HostileYaml) {
  std::string deep =
      "package a\n\n# METADATA\n# custom: {x: " + std::string(5000, '[') + std::string(5000, ']') + "}\np := 1\n";
  EXPECT_EQ(J(eval(deep, "data.a")), "4: rego_parse_error: yaml: exceeded max depth of 200");
  std::string bomb = "package a\n\n# METADATA\n# custom:\n#   a: &a [x, x, x, x, x, x, x, x, x, x]\n";
  for (char c = 'b'; c <= 'i'; ++c)
    bomb += std::string("#   ") + c + ": &" + c + " [*" + static_cast<char>(c - 1) + ", *" + static_cast<char>(c - 1) +
            ", *" + static_cast<char>(c - 1) + ", *" + static_cast<char>(c - 1) + ", *" + static_cast<char>(c - 1) +
            ", *" + static_cast<char>(c - 1) + ", *" + static_cast<char>(c - 1) + ", *" + static_cast<char>(c - 1) +
            ", *" + static_cast<char>(c - 1) + ", *" + static_cast<char>(c - 1) + "]\n";
  bomb += "p := 1\n";
  EXPECT_EQ(J(eval(bomb, "data.a")).substr(0, 70), "4: rego_parse_error: yaml: document contains excessive aliasing");
}

namespace {

// An else branch is a rule of its own to OPA: no annotations of the rule it follows.
TEST(RegoMetaRule, ElseBranchHasNoRuleAnnotations) {
  const char* m = R"(package x

# METADATA
# title: first
p := rego.metadata.rule() if {
  input.first
} else := rego.metadata.rule()

# METADATA
# title: f
f(a) := rego.metadata.rule() if {
  a == 1
} else := rego.metadata.rule()
)";
  EXPECT_EQ(J(eval(m, "data.x.p", R"({"first": true})")), R"({"scope":"rule","title":"first"})");
  EXPECT_EQ(J(eval(m, "data.x.p", R"({"first": false})")), "{}");
  EXPECT_EQ(J(eval(m, "data.x.f(1)")), R"({"scope":"rule","title":"f"})");
  EXPECT_EQ(J(eval(m, "data.x.f(2)")), "{}");
}

}  // namespace
