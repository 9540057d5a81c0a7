#include "rego/parser.h"

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

using namespace confidant::rego;
namespace fs = std::filesystem;

namespace {

// --- a compact printer so tests can compare whole trees as text ------------------

std::string P(const TermPtr& t);
std::string P(const Body& b);

std::string P(const Expr& e) {
  std::string s = e.negated ? "not " : "";
  switch (e.kind) {
    case ExprKind::Term:
    case ExprKind::Call: s += P(e.term); break;
    case ExprKind::SomeDecl:
      s += "some ";
      for (size_t i = 0; i < e.vars.size(); ++i) s += (i ? ", " : "") + P(e.vars[i]);
      break;
    case ExprKind::SomeIn:
    case ExprKind::Every:
      s += e.kind == ExprKind::SomeIn ? "some " : "every ";
      if (e.some_key) s += P(e.some_key) + ", ";
      s += P(e.some_value) + " in " + P(e.some_domain);
      if (e.body) s += " { " + P(*e.body) + " }";
      break;
  }
  for (const auto& w : e.withs) s += " with " + P(w.target) + " as " + P(w.value);
  return s;
}

std::string P(const Body& b) {
  std::string s;
  for (size_t i = 0; i < b.size(); ++i) s += (i ? "; " : "") + P(b[i]);
  return s;
}

std::string list(const std::vector<TermPtr>& v, size_t from = 0) {
  std::string s;
  for (size_t i = from; i < v.size(); ++i) s += (i > from ? ", " : "") + P(v[i]);
  return s;
}

std::string P(const TermPtr& t) {
  if (!t) return "<null>";
  switch (t->kind) {
    case TermKind::Scalar: return to_rego(t->value);
    case TermKind::Var: return t->name;
    case TermKind::Ref: {
      std::string s = P(t->items[0]);
      for (size_t i = 1; i < t->items.size(); ++i) s += "[" + P(t->items[i]) + "]";
      return s;
    }
    case TermKind::Call: {
      const Term& op = *t->items[0];
      std::string s = op.items[0]->name;
      for (size_t i = 1; i < op.items.size(); ++i) s += "." + op.items[i]->value.str();
      return s + "(" + list(t->items, 1) + ")";
    }
    case TermKind::Array: return "[" + list(t->items) + "]";
    case TermKind::Set: return t->items.empty() ? "set()" : "{" + list(t->items) + "}";
    case TermKind::Object: {
      std::string s = "{";
      for (size_t i = 0; i < t->pairs.size(); ++i)
        s += (i ? ", " : "") + P(t->pairs[i].first) + ": " + P(t->pairs[i].second);
      return s + "}";
    }
    case TermKind::ArrayCompr: return "[" + P(t->head) + " | " + P(*t->body) + "]";
    case TermKind::SetCompr: return "{" + P(t->head) + " | " + P(*t->body) + "}";
    case TermKind::ObjectCompr: return "{" + P(t->key) + ": " + P(t->head) + " | " + P(*t->body) + "}";
  }
  return "?";
}

const char* kind(RuleKind k) {
  switch (k) {
    case RuleKind::Complete: return "complete";
    case RuleKind::MultiValue: return "multi";
    case RuleKind::Function: return "func";
  }
  return "?";
}

// "complete p = 1 :- body" style, with else branches appended.
std::string P(const Rule& r) {
  std::string s = std::string(r.is_default ? "default " : "") + kind(r.kind) + " " + list(r.ref);
  if (!r.args.empty()) s += "(" + list(r.args) + ")";
  if (r.key) s += " contains " + P(r.key);
  if (r.value) s += (r.assign ? " := " : " = ") + P(r.value);
  if (r.has_if) s += " if";
  if (!r.body.empty()) s += " { " + P(r.body) + " }";
  if (r.else_rule) s += " ELSE " + P(*r.else_rule);
  return s;
}

struct Parsed {
  bool ok = false;
  Module m;
  Errors errs;
  std::string err() const { return errs.empty() ? "" : errs[0].message; }
  std::string rules() const {
    std::string s;
    for (const auto& r : m.rules) s += (s.empty() ? "" : "\n") + P(*r);
    return s;
  }
};

Parsed mod(const std::string& text, bool v0 = false) {
  Parsed p;
  ParseOptions o;
  o.v0 = v0;
  p.ok = parse_module("test.rego", text, o, p.m, p.errs);
  return p;
}

// Rules of a module "package t\n" + body.
std::string rules(const std::string& body, bool v0 = false) {
  Parsed p = mod("package t\n" + body, v0);
  EXPECT_TRUE(p.ok) << body << "\n" << to_string(p.errs);
  return p.rules();
}
std::string rules0(const std::string& body) { return rules(body, true); }

std::string query(const std::string& q, bool v0 = false) {
  ParsedQuery pq;
  Errors errs;
  ParseOptions o;
  o.v0 = v0;
  EXPECT_TRUE(parse_query(q, o, pq, errs)) << q << "\n" << to_string(errs);
  return P(pq.body);
}

// First error as "row:col: message".
std::string mod_error(const std::string& text, bool v0 = false) {
  Parsed p = mod(text, v0);
  EXPECT_FALSE(p.ok) << text;
  if (p.errs.empty()) return "<no error>";
  EXPECT_EQ(p.errs[0].code, "rego_parse_error");
  EXPECT_EQ(p.errs[0].file, "test.rego");
  return std::to_string(p.errs[0].row) + ":" + std::to_string(p.errs[0].col) + ": " + p.errs[0].message;
}

std::string query_error(const std::string& q, bool v0 = false) {
  ParsedQuery pq;
  Errors errs;
  ParseOptions o;
  o.v0 = v0;
  EXPECT_FALSE(parse_query(q, o, pq, errs)) << q;
  if (errs.empty()) return "<no error>";
  return std::to_string(errs[0].row) + ":" + std::to_string(errs[0].col) + ": " + errs[0].message;
}

fs::path shared_dir() {
  if (const char* env = std::getenv("CONFIDANT_SHARED")) return env;
  return CONFIDANT_SHARED_DIR;  // resolved by CMake (see the top-level CMakeLists.txt)
}

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

// --- modules, packages, imports ------------------------------------------------------

TEST(Parser, PackageAndImports) {
  const std::string text =
      "package a.b[\"c-d\"]\nimport data.x.y\nimport input.a as b\nimport future.keywords.in\nimport rego.v1\n";
  Parsed p = mod(text);
  ASSERT_TRUE(p.ok) << to_string(p.errs);
  EXPECT_EQ(p.m.package, (std::vector<std::string>{"a", "b", "c-d"}));
  EXPECT_EQ(p.m.package_loc.row, 1u);
  ASSERT_EQ(p.m.imports.size(), 4u);
  EXPECT_EQ(P(p.m.imports[0].path), "data[\"x\"][\"y\"]");
  EXPECT_EQ(p.m.imports[1].alias, "b");
  EXPECT_EQ(P(p.m.imports[1].path), "input[\"a\"]");
  EXPECT_EQ(p.m.imports[0].loc.row, 2u);
  EXPECT_EQ(p.m.imports[0].loc.length, std::string("import data.x.y").size());
  EXPECT_TRUE(p.m.rego_v1);
  EXPECT_EQ(*p.m.file, "test.rego");
  EXPECT_EQ(*p.m.source, text);

  Parsed single = mod("package p\nimport input\n");
  ASSERT_TRUE(single.ok);
  EXPECT_EQ(single.m.imports[0].path->kind, TermKind::Ref);
  EXPECT_EQ(P(single.m.imports[0].path), "input");
}

TEST(Parser, ModuleLevelErrors) {
  EXPECT_EQ(mod_error(""), "0:0: empty module");
  EXPECT_EQ(mod_error("# just a comment\n"), "0:0: empty module");
  EXPECT_EQ(mod_error("p := 1\n"), "1:1: package expected");
  EXPECT_EQ(mod_error("package a\npackage b\n"), "2:1: unexpected package");
  EXPECT_EQ(mod_error("package a.b[x]\n"), "1:13: unexpected var token: expecting string");
  EXPECT_EQ(mod_error("package a\nimport foo.bar\n"),
            "2:8: unexpected import path, must begin with one of: {data, future, input, rego}, got: foo");
  EXPECT_EQ(mod_error("package a\nimport data.x[y]\n"), "2:15: unexpected var token: expecting string");
  EXPECT_EQ(mod_error("package a\nimport future.keywords.foo\n", true),
            "2:8: unexpected keyword, must be one of [contains every if in not]");
  EXPECT_EQ(mod_error("package a\nimport future.stuff\n", true), "2:8: invalid import, must be `future.keywords`");
  EXPECT_EQ(mod_error("package a\nimport rego.v3\n"), "2:8: invalid import `rego.v3`, must be `rego.v1`");
  EXPECT_EQ(mod_error("package a\nimport data.x as 1\n"), "2:18: unexpected number token: expected var");
  EXPECT_EQ(mod_error("package a\nimport data.x.in\n"),
            "2:15: unexpected import path, must not end with a keyword, got: in");
  EXPECT_EQ(mod_error("package a\nx\n"), "2:1: var cannot be used for rule name");
  EXPECT_EQ(mod_error("package a\n1 = x\n"), "2:1: number cannot be used for rule name");
  EXPECT_EQ(mod_error("package a\n\"s\"\n"), "2:1: string cannot be used for rule name");
  EXPECT_EQ(mod_error("package a\nnot p\n"), "2:1: negated expressions cannot be used for rule head");
  EXPECT_EQ(mod_error("package a\nx == 1\n"), "2:3: unexpected equal token");
  EXPECT_EQ(mod_error("package a\nx.y == 1\n"), "2:1: rule name conflicts with built-in function");
  EXPECT_EQ(mod_error("package a\np := 1 with input as 2\n"),
            "2:1: expressions using with keyword cannot be used for rule head");
  // Both statement errors are reported (parsing goes on after them).
  Parsed two = mod("package a\nx\ny\n");
  ASSERT_EQ(two.errs.size(), 2u);
  EXPECT_EQ(two.errs[1].row, 3u);
}

TEST(Parser, MetadataComments) {
  Parsed p =
      mod("package t\n\n# METADATA\n# title: My rule\n# description: |\n#   text\np := 1\n\n# plain comment\nq := 2\n");
  ASSERT_TRUE(p.ok) << to_string(p.errs);
  ASSERT_EQ(p.m.rules.size(), 2u);
  EXPECT_EQ(p.m.rules[0]->metadata_yaml, "title: My rule\ndescription: |\n  text\n");
  EXPECT_EQ(p.m.rules[1]->metadata_yaml, "");
}

// --- rule heads ------------------------------------------------------------------

TEST(Parser, CompleteRules) {
  EXPECT_EQ(rules("p := 1"), "complete p := 1");
  EXPECT_EQ(rules("p = 1"), "complete p = 1");
  EXPECT_EQ(rules("p if { true }"), "complete p if { true }");
  EXPECT_EQ(rules("p := v if { v := 2 }"), "complete p := v if { assign(v, 2) }");
  EXPECT_EQ(rules("p if x > 1"), "complete p if { gt(x, 1) }");
  EXPECT_EQ(rules("p := 1 if not q"), "complete p := 1 if { not q }");
  EXPECT_EQ(rules("p if {}"), "complete p if { {} }");  // as OPA: an empty object literal
  EXPECT_EQ(rules("p if {x | x := 1}"), "complete p if { {x | assign(x, 1)} }");
  EXPECT_EQ(rules("p if {1, 2} == x"), "complete p if { equal({1, 2}, x) }");
  EXPECT_EQ(rules("p if { x; y }"), "complete p if { x; y }");
  EXPECT_EQ(rules0("p { true }"), "complete p { true }");
  EXPECT_EQ(rules0("p = 7 { true }"), "complete p = 7 { true }");
  EXPECT_EQ(rules0("p := 7 { true }"), "complete p := 7 { true }");
  EXPECT_EQ(rules("p := {\"a\": [1, 2]}"), "complete p := {\"a\": [1, 2]}");
  EXPECT_EQ(rules("p := 1 + 2 * 3"), "complete p := plus(1, mul(2, 3))");
}

TEST(Parser, RefHeads) {
  EXPECT_EQ(rules("a.b.c := 1"), "complete a, \"b\", \"c\" := 1");
  EXPECT_EQ(rules("a.b[c] := d if { c := 1; d := 2 }"), "complete a, \"b\", c := d if { assign(c, 1); assign(d, 2) }");
  EXPECT_EQ(rules("p[x] if { x := 1 }"), "complete p, x if { assign(x, 1) }");
  EXPECT_EQ(rules("p[x] := 2 if { x := 1 }"), "complete p, x := 2 if { assign(x, 1) }");
  EXPECT_EQ(rules("a.b.c if true"), "complete a, \"b\", \"c\" if { true }");
  EXPECT_EQ(rules0("p[k] = v { k := 1; v := 2 }"), "complete p, k = v { assign(k, 1); assign(v, 2) }");
  EXPECT_EQ(rules0("p[k] = v"), "complete p, k = v");
  EXPECT_EQ(rules("p[\"a\"] := 1"), "complete p, \"a\" := 1");
  EXPECT_EQ(rules("a.if.b := 1"), "complete a, \"if\", \"b\" := 1");  // keywords are fine after a dot
  EXPECT_EQ(rules0("p.q.r"), "complete p, \"q\", \"r\"");
}

TEST(Parser, MultiValueRules) {
  EXPECT_EQ(rules("p contains x if { x := 1 }"), "multi p contains x if { assign(x, 1) }");
  EXPECT_EQ(rules("p contains 1"), "multi p contains 1");
  EXPECT_EQ(rules("a.b contains x if some x in [1]"), "multi a, \"b\" contains x if { some x in [1] }");
  EXPECT_EQ(rules("p contains {\"k\": x} if x := 1"), "multi p contains {\"k\": x} if { assign(x, 1) }");
  EXPECT_EQ(rules0("p[x] { x := 1 }"), "multi p contains x { assign(x, 1) }");
  EXPECT_EQ(rules0("p.q { true }"), "multi p contains \"q\" { true }");
  EXPECT_EQ(rules0("p[x]"), "multi p contains x");
  EXPECT_EQ(rules0("import future.keywords.contains\nimport future.keywords.if\np contains x if { x := 1 }"),
            "multi p contains x if { assign(x, 1) }");
}

TEST(Parser, Functions) {
  EXPECT_EQ(rules("f(x, y) := z if { z := x + y }"), "func f(x, y) := z if { assign(z, plus(x, y)) }");
  EXPECT_EQ(rules("f(x) if { x > 1 }"), "func f(x) if { gt(x, 1) }");
  EXPECT_EQ(rules0("f(x) { x > 1 }"), "func f(x) { gt(x, 1) }");
  EXPECT_EQ(rules0("f(x) = y { y := x }"), "func f(x) = y { assign(y, x) }");
  EXPECT_EQ(rules("f(x) := x"), "func f(x) := x");
  EXPECT_EQ(rules("f([a, b], {\"k\": v}) := a"), "func f([a, b], {\"k\": v}) := a");
  EXPECT_EQ(rules("a.b.f(x) := 1"), "func a, \"b\", \"f\"(x) := 1");
  EXPECT_EQ(rules("f(_) := 1"), "func f(_) := 1");
  EXPECT_EQ(rules("f(x)"), "func f(x)");  // OPA: a function that is true
}

TEST(Parser, DefaultRules) {
  EXPECT_EQ(rules("default p := 1"), "default complete p := 1");
  EXPECT_EQ(rules0("default p = 1"), "default complete p = 1");
  EXPECT_EQ(rules("default f(_) := false"), "default func f(_) := false");
  EXPECT_EQ(rules("default f(_, _) := false"), "default func f(_, _) := false");
  EXPECT_EQ(rules("default p := {\"a\": [x | x := 1]}"), "default complete p := {\"a\": [x | assign(x, 1)]}");
  EXPECT_EQ(rules("default a.b := 1"), "default complete a, \"b\" := 1");
  EXPECT_EQ(mod_error("package a\ndefault p := x\n"), "2:1: illegal default rule (value cannot contain var)");
  EXPECT_EQ(mod_error("package a\ndefault p := input.x\n"), "2:1: illegal default rule (value cannot contain ref)");
  EXPECT_EQ(mod_error("package a\ndefault p := count(x)\n"), "2:1: illegal default rule (value cannot contain call)");
  EXPECT_EQ(mod_error("package a\ndefault f(1) := 1\n"), "2:1: illegal default rule (arguments cannot contain number)");
  EXPECT_EQ(mod_error("package a\ndefault f(x, x) := 1\n"),
            "2:1: illegal default rule (arguments cannot be repeated x)");
  EXPECT_EQ(mod_error("package a\ndefault p contains 1\n"), "2:1: illegal default rule (must have a value)");
}

TEST(Parser, ElseChains) {
  EXPECT_EQ(rules("p := 1 if { false } else := 2 if { true } else = 3"),
            "complete p := 1 if { false } ELSE complete p := 2 if { true } ELSE complete p = 3");
  EXPECT_EQ(rules0("p = 1 { false } else { true }"), "complete p = 1 { false } ELSE complete p { true }");
  EXPECT_EQ(rules("f(x) := 1 if x > 0 else := 2"), "func f(x) := 1 if { gt(x, 0) } ELSE func f(x) := 2");
  EXPECT_EQ(rules("p := 1 if false else := 2 if true"),
            "complete p := 1 if { false } ELSE complete p := 2 if { true }");
  EXPECT_EQ(rules("p[\"a\"] := 1 if false else := 2"),
            "complete p, \"a\" := 1 if { false } ELSE complete p, \"a\" := 2");
  Parsed p = mod("package t\nf(x) := 1 if { x } else := 2\n");
  ASSERT_TRUE(p.ok);
  const Rule& e = *p.m.rules[0]->else_rule;
  EXPECT_TRUE(e.assign);
  EXPECT_NE(e.args[0].get(), p.m.rules[0]->args[0].get());  // own copy of the head
  EXPECT_EQ(e.loc.row, 2u);
  EXPECT_EQ(e.loc.col, 20u);
  EXPECT_EQ(mod_error("package a\np[x] := 1 if { x := 1 } else := 2\n"),
            "2:25: else keyword cannot be used on rules with variables in head");
  EXPECT_EQ(mod_error("package a\np[x] { x := 1 } else { true }\n", true),
            "2:17: else keyword cannot be used on multi-value rules");
  EXPECT_EQ(mod_error("package a\np := 1 if { x } else\n"),
            "3:1: unexpected eof token: expected else value term or rule body");
  EXPECT_EQ(mod_error("package a\np := 1 if { x } else := 2 { y } { z }\n"), "2:33: expected else keyword");
}

TEST(Parser, MultipleBodiesV0) {
  Parsed p = mod("package t\np { a } { b }\nf(x) = 1 { a } { b }\n", true);
  ASSERT_TRUE(p.ok) << to_string(p.errs);
  EXPECT_EQ(p.rules(), "complete p { a }\ncomplete p { b }\nfunc f(x) = 1 { a }\nfunc f(x) = 1 { b }");
  EXPECT_EQ(p.m.rules[1]->loc.col, 9u);
  EXPECT_NE(p.m.rules[2]->ref[0].get(), p.m.rules[3]->ref[0].get());
}

TEST(Parser, V1RulesRequireKeywords) {
  EXPECT_EQ(mod_error("package a\n\np { true }\n"), "3:1: `if` keyword is required before rule body");
  EXPECT_EQ(mod_error("package a\nf(x) { true }\n"), "2:1: `if` keyword is required before function body");
  EXPECT_EQ(mod_error("package a\nimport rego.v1\np { true }\n", true),
            "3:1: `if` keyword is required before rule body");
  EXPECT_EQ(mod_error("package a\np := 1 if { false } else = 2 { true }\n"),
            "2:21: `if` keyword is required before rule body");
  EXPECT_EQ(mod_error("package a\na.b.c\n"), "2:1: rule must have value assignment and/or body declaration");
  EXPECT_EQ(mod_error("package a\np[x]\n"), "2:1: `contains` keyword is required for partial set rules");
  Parsed both = mod("package a\np[x] { x = 1 }\n");
  ASSERT_EQ(both.errs.size(), 2u);
  EXPECT_EQ(both.errs[0].message, "`if` keyword is required before rule body");
  EXPECT_EQ(both.errs[1].message, "`contains` keyword is required for partial set rules");
  // Default rules and bodiless rules need no `if`.
  EXPECT_TRUE(mod("package a\ndefault p := 1\np := 2\nq contains 1\n").ok);
  // A syntax error wins over v1 rule errors (as in OPA).
  EXPECT_EQ(mod_error("package a\np { true }\nq := }\n"), "3:6: unexpected } token");
}

TEST(Parser, ImprovedNot) {
  // `not { body }` and the OPA 1.17 `not` are written as `not [true | body][0]`.
  EXPECT_EQ(rules("import future.keywords.not\np if { not { input.a; input.b } }"),
            "complete p if { not [true | input[\"a\"]; input[\"b\"]][0] }");
  EXPECT_EQ(rules("import future.keywords.not\np if { not input.x + input.y == input.z }"),
            "complete p if { not [true | equal(plus(input[\"x\"], input[\"y\"]), input[\"z\"])][0] }");
  EXPECT_EQ(rules("import future.keywords.not\np if { not input.denied; not f(x) with input as 1 }"),
            "complete p if { not input[\"denied\"]; not [true | f(x)][0] with input as 1 }");
  EXPECT_EQ(rules("import rego.v2\np if { not {\n x := 1\n x > 2\n } }"),
            "complete p if { not [true | assign(x, 1); gt(x, 2)][0] }");
  EXPECT_EQ(rules("import future.keywords.not\np if { not {1} == x }"),
            "complete p if { not [true | equal({1}, x)][0] }");
  // Without the import `not {1}` negates a set, and calls stay as they are.
  EXPECT_EQ(rules("p if { not {1}; not f(x) }"), "complete p if { not {1}; not f(x) }");
  Parsed p = mod("package t\nimport future.keywords.not\np if { not { x } }\n");
  ASSERT_TRUE(p.ok);
  const Expr& e = p.m.rules[0]->body[0];
  EXPECT_EQ(e.loc.length, std::string("not { x }").size());
  EXPECT_EQ(e.term->items[0]->kind, TermKind::ArrayCompr);
}

TEST(Parser, V0Keywords) {
  // Without imports `in`, `if`, `contains` and `every` are names in v0.
  EXPECT_EQ(rules0("p { in := 1; contains := 2; every := 3 }"),
            "complete p { assign(in, 1); assign(contains, 2); assign(every, 3) }");
  EXPECT_EQ(rules0("import future.keywords.in\np { 1 in [1] }"), "complete p { internal.member_2(1, [1]) }");
  EXPECT_EQ(rules0("import future.keywords\np contains x if { some x in [1] }"),
            "multi p contains x if { some x in [1] }");
  // every imports in as well.
  EXPECT_EQ(rules0("import future.keywords.every\np { every x in [1] { x > 0 }; 1 in [1] }"),
            "complete p { every x in [1] { gt(x, 0) }; internal.member_2(1, [1]) }");
  Parsed p = mod("package a\nimport rego.v1\np if { 1 in [1] }\n", true);
  ASSERT_TRUE(p.ok) << to_string(p.errs);
  EXPECT_TRUE(p.m.rego_v1);
  EXPECT_FALSE(mod("package a\np { true }\n", true).m.rego_v1);
  // `contains` is the builtin outside rule heads even where it is a keyword.
  EXPECT_EQ(rules("p if contains(\"abc\", \"b\")"), "complete p if { contains(\"abc\", \"b\") }");
}

// --- expressions -------------------------------------------------------------------

TEST(Parser, Operators) {
  EXPECT_EQ(query("x := 1 + 2 * 3 - 4 / 5 % 6"), "assign(x, minus(plus(1, mul(2, 3)), rem(div(4, 5), 6)))");
  EXPECT_EQ(query("(1 + 2) * 3"), "mul(plus(1, 2), 3)");
  EXPECT_EQ(query("a | b & c"), "or(a, and(b, c))");
  EXPECT_EQ(query("a == b"), "equal(a, b)");
  EXPECT_EQ(query("a != b; a < b; a <= b; a > b; a >= b"), "neq(a, b); lt(a, b); lte(a, b); gt(a, b); gte(a, b)");
  EXPECT_EQ(query("a + 1 == b | c"), "equal(plus(a, 1), or(b, c))");
  EXPECT_EQ(query("x = f(y)"), "eq(x, f(y))");
  EXPECT_EQ(query("x in xs"), "internal.member_2(x, xs)");
  EXPECT_EQ(query("k, v in xs"), "internal.member_3(k, v, xs)");
  EXPECT_EQ(query("x := 1 in [1] == true"), "assign(x, internal.member_2(1, equal([1], true)))");
  EXPECT_EQ(query("a in b in c"), "internal.member_2(internal.member_2(a, b), c)");
  EXPECT_EQ(query("1 - 1"), "minus(1, 1)");
  EXPECT_EQ(query("x -1"), "minus(x, 1)");
  EXPECT_EQ(query("[-1, - 2, -x, -x.y, -1.5e3]"), "[-1, -2, minus(0, x), minus(0, x[\"y\"]), -1500]");
  EXPECT_EQ(query("1 - -1"), "minus(1, -1)");
  EXPECT_EQ(query("a == b == c"), "equal(equal(a, b), c)");
}

TEST(Parser, ExprKinds) {
  ParsedQuery q;
  Errors errs;
  ASSERT_TRUE(parse_query("x := 1; f(x); x; x == 1; (f(x)); not g(x)", {}, q, errs));
  ASSERT_EQ(q.body.size(), 6u);
  EXPECT_EQ(q.body[0].kind, ExprKind::Call);
  EXPECT_EQ(q.body[1].kind, ExprKind::Call);
  EXPECT_EQ(q.body[2].kind, ExprKind::Term);
  EXPECT_EQ(q.body[3].kind, ExprKind::Call);
  EXPECT_EQ(q.body[4].kind, ExprKind::Call);
  EXPECT_EQ(q.body[5].kind, ExprKind::Call);
  EXPECT_TRUE(q.body[5].negated);
  const Term& op = *q.body[0].term->items[0];
  EXPECT_EQ(op.kind, TermKind::Ref);
  ASSERT_EQ(op.items.size(), 1u);
  EXPECT_EQ(op.items[0]->name, "assign");
  const Term& member = *q.body[0].term;
  EXPECT_EQ(member.items.size(), 3u);
}

TEST(Parser, SomeAndEvery) {
  EXPECT_EQ(query("some x, y"), "some x, y");
  EXPECT_EQ(query("some x in xs"), "some x in xs");
  EXPECT_EQ(query("some k, v in xs"), "some k, v in xs");
  EXPECT_EQ(query("some [a, b] in [[1, 2]]"), "some [a, b] in [[1, 2]]");
  EXPECT_EQ(query("some x in xs with input as 1"), "some x in xs with input as 1");
  EXPECT_EQ(query("every x in xs { x > 1 }"), "every x in xs { gt(x, 1) }");
  EXPECT_EQ(query("every k, v in xs { k == v; true }"), "every k, v in xs { equal(k, v); true }");
  EXPECT_EQ(query("some x\nx := 1"), "some x; assign(x, 1)");
  EXPECT_EQ(query_error("not some x in xs"), "1:5: unexpected some keyword: illegal negation of 'some'");
  EXPECT_EQ(query_error("every x in xs"), "1:14: unexpected eof token: missing body");
  EXPECT_EQ(query_error("every 1 in xs { true }"), "1:15: unexpected { token: expected value to be a variable");
  EXPECT_EQ(query_error("every x { true }"), "1:9: unexpected { token: expected `x[, y] in xs { ... }` expression");
  EXPECT_EQ(query_error("some 1"), "1:6: unexpected number token: expected var");
  // In v0 without imports `in` is a name: as in OPA a query is then three expressions.
  EXPECT_EQ(query("some x in xs", true), "some x; in; xs");
}

TEST(Parser, WithModifiers) {
  EXPECT_EQ(query("data.p with input.a as 1 with data.x as y"),
            "data[\"p\"] with input[\"a\"] as 1 with data[\"x\"] as y");
  ParsedQuery q;
  Errors errs;
  ASSERT_TRUE(parse_query("p with input as {\"a\": 1} with count as mock", {}, q, errs));
  ASSERT_EQ(q.body[0].withs.size(), 2u);
  EXPECT_EQ(q.body[0].withs[0].target->kind, TermKind::Ref);  // bare `input` becomes a ref
  EXPECT_EQ(P(q.body[0].withs[1].target), "count");
  EXPECT_EQ(q.body[0].loc.length, q.source->size());
  EXPECT_EQ(query_error("p with 1 as 2"), "1:8: unexpected number token: expected ident");
  EXPECT_EQ(query_error("p with input 2"), "1:14: unexpected number token: expected as keyword");
}

// --- terms -------------------------------------------------------------------

TEST(Parser, Scalars) {
  EXPECT_EQ(query("null; true; false"), "null; true; false");
  EXPECT_EQ(query("[0, 1, 1.5, 1e3, 2.5E-1, 0.1e1, 1e+2, .5, -.5]"), "[0, 1, 1.5, 1000, 0.25, 1, 100, 0.5, -0.5]");
  ParsedQuery q;
  Errors errs;
  ASSERT_TRUE(parse_query("123456789012345678901234567890.000000000000000000001", {}, q, errs));
  EXPECT_EQ(q.body[0].term->value, Value::number_from_text("123456789012345678901234567890.000000000000000000001"));
  EXPECT_EQ(query_error("01"), "1:1: unexpected number token: expected number without leading zero");
  EXPECT_EQ(query_error("1."), "1:1: expected fraction");
  EXPECT_EQ(query_error("1e"), "1:1: expected exponent");
  EXPECT_EQ(query_error("1x"), "1:1: illegal number format");
  EXPECT_EQ(query_error("1e999999"), "1:1: number too big");
}

TEST(Parser, Strings) {
  Value v;
  Errors errs;
  ASSERT_TRUE(parse_value(R"("a\"b\\c\/d\b\f\n\r\t\u0041\u00e9\ud83d\ude00")", {}, v, errs)) << to_string(errs);
  EXPECT_EQ(v.str(), "a\"b\\c/d\b\f\n\r\tA\xC3\xA9\xF0\x9F\x98\x80");
  ASSERT_TRUE(parse_value(R"("\ud83d")", {}, v, errs));
  EXPECT_EQ(v.str(), "\xEF\xBF\xBD");  // lone surrogate -> U+FFFD, as Go does
  ASSERT_TRUE(parse_value("`raw \\n\nline`", {}, v, errs));
  EXPECT_EQ(v.str(), "raw \\n\nline");
  ASSERT_TRUE(parse_value("\"bad \xff utf8\"", {}, v, errs));
  EXPECT_EQ(v.str(), "bad \xff utf8");
  EXPECT_EQ(query_error("\"abc"), "1:1: non-terminated string");
  EXPECT_EQ(query_error("\"a\nb\""), "1:1: non-terminated string");
  EXPECT_EQ(query_error("`abc"), "1:1: non-terminated string");
  EXPECT_EQ(query_error(R"("\q")"), "1:1: illegal escape sequence");
  EXPECT_EQ(query_error(R"("\u12x4")"), "1:1: illegal string literal: \"\\u12x4\"");
}

TEST(Parser, Refs) {
  EXPECT_EQ(query("a.b[c][\"d\"][0]"), "a[\"b\"][c][\"d\"][0]");
  EXPECT_EQ(query("[1, 2][0]"), "[1, 2][0]");
  EXPECT_EQ(query("f(x).y"), "f(x)[\"y\"]");
  EXPECT_EQ(query("{\"a\": 1}.a"), "{\"a\": 1}[\"a\"]");
  EXPECT_EQ(query("object.get(x, \"a\", 1)"), "object.get(x, \"a\", 1)");
  EXPECT_EQ(query("data.lib.f(x)[0].z"), "data.lib.f(x)[0][\"z\"]");
  EXPECT_EQ(query("input.in.default.not"), "input[\"in\"][\"default\"][\"not\"]");
  EXPECT_EQ(query("x[_]"), "x[_]");
  EXPECT_EQ(query("a [0]"), "a; [0]");  // a blank ends a ref
  EXPECT_EQ(query("a[k, v in x]"), "a[internal.member_3(k, v, x)]");
  ParsedQuery q;
  Errors errs;
  ASSERT_TRUE(parse_query("data.x.f(1)", {}, q, errs));
  const Term& call = *q.body[0].term;
  ASSERT_EQ(call.kind, TermKind::Call);
  const Term& op = *call.items[0];
  ASSERT_EQ(op.items.size(), 3u);
  EXPECT_EQ(op.items[0]->kind, TermKind::Var);
  EXPECT_EQ(op.items[2]->value.str(), "f");
  EXPECT_EQ(query_error("x. y"), "1:3: unexpected whitespace token: expected identifier");
  EXPECT_EQ(query_error("x[1"), "1:4: unexpected eof token: expected ]");
  EXPECT_EQ(query_error("\"s\".x"), "1:1: illegal ref (head cannot be string)");
}

TEST(Parser, Collections) {
  EXPECT_EQ(query("[]; [1]; [1, 2,]; [, 1]"), "[]; [1]; [1, 2]; [1]");
  EXPECT_EQ(query("{}"), "{}");
  EXPECT_EQ(query("{1}; {1, 2}; set()"), "{1}; {1, 2}; set()");
  EXPECT_EQ(query("{\"a\": 1, \"b\": [x]}; {1 + 1: 2}"), "{\"a\": 1, \"b\": [x]}; {plus(1, 1): 2}");
  EXPECT_EQ(query("[x | x := 1]"), "[x | assign(x, 1)]");
  EXPECT_EQ(query("{x | x := 1; y}"), "{x | assign(x, 1); y}");
  EXPECT_EQ(query("{k: v | k := 1\n v := 2}"), "{k: v | assign(k, 1); assign(v, 2)}");
  EXPECT_EQ(query("{a + 1: b | true}"), "{plus(a, 1): b | true}");
  EXPECT_EQ(query("[a, b | c]"), "[a, or(b, c)]");
  EXPECT_EQ(query("[1 + 2, x in y]"), "[plus(1, 2), internal.member_2(x, y)]");
  EXPECT_EQ(query("{, a | b}"), "{or(a, b)}");
  EXPECT_EQ(query("[x | some x in [1,\n 2]\n x > 1\n]"), "[x | some x in [1, 2]; gt(x, 1)]");
  ParsedQuery q;
  Errors errs;
  ASSERT_TRUE(parse_query("set()", {}, q, errs));
  EXPECT_EQ(q.body[0].term->kind, TermKind::Set);
  EXPECT_EQ(q.body[0].kind, ExprKind::Term);
  EXPECT_EQ(query_error("[1 2]"), "1:4: unexpected number token: expected \",\" or \"]\"");
  EXPECT_EQ(query_error("{1 2}"), "1:4: unexpected number token: non-terminated set");
  EXPECT_EQ(query_error("{\"a\": 1 2}"), "1:9: unexpected number token: non-terminated object");
  EXPECT_EQ(query_error("[x | ]"), "1:6: found empty body");
  EXPECT_EQ(query_error("(1 + 2"), "1:7: non-terminated expression");
}

TEST(Parser, Queries) {
  EXPECT_EQ(query("data.test.p = x"), "eq(data[\"test\"][\"p\"], x)");
  EXPECT_EQ(query("x := 1; y := x + 1"), "assign(x, 1); assign(y, plus(x, 1))");
  EXPECT_EQ(query("x := 1\ny := 2\n\n# comment\nz := 3"), "assign(x, 1); assign(y, 2); assign(z, 3)");
  EXPECT_EQ(query(""), "");
  EXPECT_EQ(query_error("x := 1;"), "1:8: unexpected eof token");
  EXPECT_EQ(query_error("x := "), "1:6: unexpected eof token");
  EXPECT_EQ(query_error("x ! y"), "1:3: illegal ! character");
  EXPECT_EQ(query_error("x @ y"), "1:3: illegal token");
  // v1 keywords are always on in v1 queries, off in v0.
  EXPECT_EQ(query("x in [1]"), "internal.member_2(x, [1])");
}

TEST(Parser, ParseValue) {
  auto val = [](const std::string& s) {
    Value v;
    Errors errs;
    EXPECT_TRUE(parse_value(s, {}, v, errs)) << s << to_string(errs);
    return to_json(v);
  };
  EXPECT_EQ(val("{\"x\": {\"a\", {\"x\": 1}, {\"y\": 2}}}"), "{\"x\":[\"a\",{\"x\":1},{\"y\":2}]}");
  EXPECT_EQ(val("[-1, 2.5, null, true, set()]"), "[-1,2.5,null,true,[]]");
  EXPECT_EQ(val("{ \"a\": {\"b\"}, }"), "{\"a\":[\"b\"]}");
  EXPECT_EQ(val("-7"), "-7");
  Value v;
  Errors errs;
  EXPECT_FALSE(parse_value("{\"a\": x}", {}, v, errs));
  ASSERT_FALSE(errs.empty());
  EXPECT_EQ(errs[0].code, "rego_parse_error");
  EXPECT_EQ(errs[0].message, "expected ground term, found var");
  EXPECT_FALSE(parse_value("1 + 2", {}, v, errs));
  EXPECT_FALSE(parse_value("[1] 2", {}, v, errs));
  EXPECT_FALSE(parse_value("input.x", {}, v, errs));
  EXPECT_FALSE(parse_value("", {}, v, errs));
}

// --- locations ---------------------------------------------------------------------

TEST(Parser, Locations) {
  std::string src = "package t\n\np := x if {\n  x := 1 +\n    2\n  not q with input as 3\n}\n";
  Parsed p = mod(src);
  ASSERT_TRUE(p.ok) << to_string(p.errs);
  const Rule& r = *p.m.rules[0];
  EXPECT_EQ(r.loc.file, p.m.file.get());
  EXPECT_EQ(r.loc.row, 3u);
  EXPECT_EQ(r.loc.col, 1u);
  EXPECT_EQ(src.substr(r.loc.offset, r.loc.length), src.substr(11, src.size() - 12));
  const Expr& e0 = r.body[0];
  EXPECT_EQ(e0.loc.row, 4u);
  EXPECT_EQ(e0.loc.col, 3u);
  EXPECT_EQ(src.substr(e0.loc.offset, e0.loc.length), "x := 1 +\n    2");
  const Term& plus = *e0.term->items[2];
  EXPECT_EQ(src.substr(plus.loc.offset, plus.loc.length), "1 +\n    2");
  EXPECT_EQ(plus.loc.col, 8u);
  EXPECT_EQ(plus.items[2]->loc.row, 5u);
  EXPECT_EQ(plus.items[2]->loc.col, 5u);
  const Expr& e1 = r.body[1];
  EXPECT_EQ(src.substr(e1.loc.offset, e1.loc.length), "not q with input as 3");
  EXPECT_EQ(e1.term->loc.col, 7u);
  EXPECT_EQ(r.value->loc.col, 6u);
  EXPECT_EQ(r.ref[0]->loc.col, 1u);
  EXPECT_EQ(r.ref[0]->loc.file, p.m.file.get());

  ParsedQuery q;
  Errors errs;
  ASSERT_TRUE(parse_query("a.b.c(2)", {}, q, errs, "q.rego"));
  const Term& call = *q.body[0].term;
  EXPECT_EQ(call.loc.length, 8u);
  EXPECT_EQ(*call.loc.file, "q.rego");
  EXPECT_EQ(call.items[0]->loc.length, 5u);  // the operator a.b.c
  EXPECT_EQ(query_error("a.b[1].c(2)"), "1:9: unexpected ( token: expected a function name before (");
}

TEST(Parser, ErrorLocations) {
  EXPECT_EQ(mod_error("package a\np if {\n  x := 1\n"), "4:1: unexpected eof token");
  EXPECT_EQ(mod_error("package a\np if {\n  x := 1 }\n}\n"), "4:1: unexpected } token");
  EXPECT_EQ(mod_error("package a\np := := 1\n"), "2:6: unexpected assign token");
  Parsed two = mod("package a\np := := 1\n");
  ASSERT_EQ(two.errs.size(), 2u);
  EXPECT_EQ(two.errs[1].message, "unexpected assign token: expected rule value term (e.g., p := <VALUE> { ... })");
  EXPECT_EQ(mod_error("package a\np if {\n  x := 1 y := 2\n}\n"),
            "3:10: unexpected identifier token: expected \\n or ; or }");
  EXPECT_EQ(rules("p if { }"), "complete p if { {} }");  // as in OPA: `{ }` is an empty object here
  EXPECT_EQ(mod_error("package a\np { }\n", true), "2:5: found empty body");
  EXPECT_EQ(mod_error("package a\nf() := 1\n"), "2:2: rule argument list must take at least one argument");
  EXPECT_EQ(mod_error("package a\nf(x) contains 1\n"),
            "2:6: unexpected contains keyword: the contains keyword can only be used with multi-value rule "
            "definitions (e.g., f contains <VALUE> { ... })");
  EXPECT_EQ(mod_error("package a\np if {\n\tx := \"a\" + `b\n}\n"), "3:13: non-terminated string");
  EXPECT_EQ(mod_error("package a\np contains\n"), "3:1: unexpected eof token");
}

// --- robustness -------------------------------------------------------------------

TEST(Parser, DepthLimit) {
  std::string deep(100000, '[');
  EXPECT_EQ(query_error(deep), "1:501: max parsing recursion depth exceeded");
  EXPECT_EQ(query_error(std::string(100000, '(')), "1:501: max parsing recursion depth exceeded");
  EXPECT_EQ(query_error(std::string(100000, '-') + "x"), "1:501: max parsing recursion depth exceeded");
  std::string nested_bodies;
  for (int i = 0; i < 2000; ++i) nested_bodies += "[x | ";
  EXPECT_NE(query_error(nested_bodies).find("max parsing recursion depth exceeded"), std::string::npos);
  // Exactly at the limit is fine.
  ParseOptions o;
  o.max_depth = 50;
  ParsedQuery q;
  Errors errs;
  EXPECT_TRUE(parse_query(std::string(49, '[') + std::string(49, ']'), o, q, errs)) << to_string(errs);
  EXPECT_FALSE(parse_query(std::string(51, '[') + std::string(51, ']'), o, q, errs));
  // Long else chains are bounded too (they nest in the AST).
  std::string chain = "package a\np := 0 if false";
  for (int i = 0; i < 600; ++i) chain += " else := 1 if false";
  EXPECT_NE(mod_error(chain).find("max parsing recursion depth exceeded"), std::string::npos);
}

TEST(Parser, HostileInputDoesNotCrash) {
  const char* samples[] = {
      "",
      "\0",
      "package",
      "package a\np[",
      "package a\np[x] {",
      "package a\np := {",
      "{{{{",
      "}}}}",
      "[,]",
      "package a\nimport",
      "package a\nimport data.",
      "package a\ndefault",
      "package a\np if",
      "package a\np else",
      "\"\\u",
      "`",
      "#",
      "1e",
      "-",
      ".",
      "a.",
      "f(",
      "f(1,",
      "x := [1 | ",
      "{1: }",
      "package a\np := 1 else := 2",
      "package a\np if { every }",
      "package a\np if { some }",
      "package a\np if { not }",
      "x with",
      "x with y as",
      "\xef\xbb\xbfpackage a\np := 1",
      "package a\n\xff\xfe",
      "package a\np := \"\\ud800\\u\"",
  };
  for (const char* s : samples) {
    for (bool v0 : {false, true}) {
      Module m;
      Errors errs;
      ParseOptions o;
      o.v0 = v0;
      parse_module("x.rego", s, o, m, errs);
      ParsedQuery q;
      parse_query(s, o, q, errs);
      Value v;
      parse_value(s, o, v, errs);
    }
  }
  // Random bytes drawn from Rego's alphabet.
  const std::string alphabet = "abcxyz_019.,;:=!<>+-*/%&|()[]{}\"`\\# \n\tinfsomeveryifcontainsnotwithas";
  uint64_t seed = 12345;
  for (int n = 0; n < 3000; ++n) {
    std::string s = n % 2 ? "package a\n" : "";
    int len = 1 + n % 60;
    for (int i = 0; i < len; ++i) {
      seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
      s += alphabet[(seed >> 33) % alphabet.size()];
    }
    Module m;
    Errors errs;
    ParseOptions o;
    o.v0 = n % 3 == 0;
    parse_module("x.rego", s, o, m, errs);
    ParsedQuery q;
    parse_query(s, o, q, errs);
  }
}

TEST(Parser, LargeInputsAreLinear) {
  // A long flat array, a long chain of operators, many rules.
  std::string arr = "x := [";
  for (int i = 0; i < 200000; ++i) arr += "1, ";
  arr += "1]";
  ParsedQuery q;
  Errors errs;
  ASSERT_TRUE(parse_query(arr, {}, q, errs));
  EXPECT_EQ(q.body[0].term->items[2]->items.size(), 200001u);
  // Operator chains nest the tree (left-deep), so they are bounded like brackets.
  std::string sum = "x := 1";
  for (int i = 0; i < 400; ++i) sum += " + 1 * 2";
  ASSERT_TRUE(parse_query(sum, {}, q, errs));
  for (int i = 0; i < 100000; ++i) sum += " + 1";
  EXPECT_FALSE(parse_query(sum, {}, q, errs));
  EXPECT_EQ(errs.back().message, "max parsing recursion depth exceeded");
  std::string members = "x";
  for (int i = 0; i < 100000; ++i) members += " in x";
  EXPECT_FALSE(parse_query(members, {}, q, errs));
  std::string many = "package a\n";
  for (int i = 0; i < 20000; ++i) many += "p" + std::to_string(i) + " if { input.x == " + std::to_string(i) + " }\n";
  Module m;
  ASSERT_TRUE(parse_module("m.rego", many, {}, m, errs));
  EXPECT_EQ(m.rules.size(), 20000u);
  // Failing speculative parses inside each other stay linear.
  std::string nested;
  for (int i = 0; i < 400; ++i) nested += "(a, ";
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_FALSE(parse_query(nested, {}, q, errs));
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(1));
}

// --- real policies ---------------------------------------------------------------------

TEST(Corpus, KataPoliciesParseInV0) {
  fs::path dir = shared_dir() / "corpus" / "kata";
  ASSERT_TRUE(fs::exists(dir)) << dir;
  int count = 0;
  for (const auto& entry : fs::directory_iterator(dir)) {
    fs::path file = entry.path() / "policy.rego";
    if (!fs::exists(file)) continue;
    std::string text = read_file(file);
    ParseOptions o;
    o.v0 = true;
    Module m;
    Errors errs;
    auto t0 = std::chrono::steady_clock::now();
    bool ok = parse_module("policy.rego", text, o, m, errs);
    auto us = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - t0).count();
    EXPECT_TRUE(ok) << file << "\n" << to_string(errs);
    EXPECT_EQ(m.package, std::vector<std::string>{"agent_policy"});
    EXPECT_GT(m.rules.size(), 50u);
    EXPECT_FALSE(m.rego_v1);
    std::cout << "  " << entry.path().filename().string() << ": " << text.size() << " bytes, " << m.rules.size()
              << " rules, " << us << " us\n";
    // Not v1: the same text must be rejected by the v1 parser.
    Module m1;
    Errors errs1;
    EXPECT_FALSE(parse_module("policy.rego", text, {}, m1, errs1));
    ++count;
  }
  EXPECT_EQ(count, 8);
}

TEST(Corpus, AciPoliciesParse) {
  fs::path dir = shared_dir() / "corpus" / "aci";
  if (!fs::exists(dir)) GTEST_SKIP() << dir;
  int count = 0;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() != ".rego") continue;
    std::string text = read_file(entry.path());
    for (bool v0 : {true, false}) {
      ParseOptions o;
      o.v0 = v0;
      Module m;
      Errors errs;
      bool ok = parse_module(entry.path().filename().string(), text, o, m, errs);
      if (v0) {
        EXPECT_TRUE(ok) << entry.path() << "\n" << to_string(errs);
      }
    }
    ++count;
  }
  std::cout << "  " << count << " ACI policies parsed\n";
}

TEST(Corpus, ParsingIsFast) {
  fs::path file = shared_dir() / "corpus" / "kata" / "pod-cm2" / "policy.rego";
  if (!fs::exists(file)) GTEST_SKIP();
  std::string text = read_file(file);
  ParseOptions o;
  o.v0 = true;
  const int n = 20;
  auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < n; ++i) {
    Module m;
    Errors errs;
    ASSERT_TRUE(parse_module("policy.rego", text, o, m, errs));
  }
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - t0).count() / n;
  std::cout << "  " << text.size() << " bytes in " << us << " us per parse\n";
}

TEST(Corpus, ConformanceModulesParseInV1) {
  fs::path dir = shared_dir() / "conformance" / "opa" / "v1";
  ASSERT_TRUE(fs::exists(dir)) << dir;
  int files = 0, cases = 0, modules = 0, queries = 0, inputs = 0, expected_failures = 0;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    if (!entry.is_regular_file() || entry.path().extension() != ".yaml") continue;
    ++files;
    YAML::Node root = YAML::LoadFile(entry.path().string());
    for (const auto& c : root["cases"]) {
      ++cases;
      std::string note = c["note"].as<std::string>("");
      bool parse_error_expected =
          c["want_error"] && c["want_error"].as<std::string>("").find("rego_parse_error") != std::string::npos;
      bool all_ok = true;
      if (c["modules"]) {
        int i = 0;
        for (const auto& mn : c["modules"]) {
          Module m;
          Errors errs;
          std::string name = "test-" + std::to_string(i++) + ".rego";
          bool ok = parse_module(name, mn.as<std::string>(), {}, m, errs);
          all_ok = all_ok && ok;
          if (!parse_error_expected) {
            EXPECT_TRUE(ok) << note << " " << name << "\n" << to_string(errs);
          }
          ++modules;
        }
      }
      if (c["query"]) {
        ParsedQuery q;
        Errors errs;
        bool ok = parse_query(c["query"].as<std::string>(), {}, q, errs);
        EXPECT_TRUE(ok) << note << " query\n" << to_string(errs);
        ++queries;
      }
      if (c["input_term"]) {
        Value v;
        Errors errs;
        EXPECT_TRUE(parse_value(c["input_term"].as<std::string>(), {}, v, errs)) << note << "\n" << to_string(errs);
        ++inputs;
      }
      if (parse_error_expected) {
        EXPECT_FALSE(all_ok) << note << ": a parse error was expected";
        ++expected_failures;
      }
    }
  }
  std::cout << "  " << files << " files, " << cases << " cases, " << modules << " modules, " << queries << " queries, "
            << inputs << " input terms parsed; " << expected_failures << " cases expect a parse error\n";
  EXPECT_GT(modules, 1000);
}
