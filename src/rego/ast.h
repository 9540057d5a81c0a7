// Rego abstract syntax tree, as produced by the parser (parser.h) and
// consumed by the compiler (compiler.h).
//
// The tree mirrors OPA's ast package closely enough that OPA's rules for
// safety, reordering and rule-tree construction carry over:
//   Module  = package path + imports + rules
//   Rule    = head (ref, optional args/key/value) + body + else chain
//   Body    = list of Expr (conjunction)
//   Expr    = term | call | some-decl | some-in | every, optionally negated,
//             with `with` modifiers
//   Term    = scalar | var | ref | array | object | set | comprehension | call
//
// Operators are parsed into calls with OPA's builtin names:
//   =  eq        :=  assign      ==  equal     !=  neq
//   <  lt        <=  lte         >   gt        >=  gte
//   +  plus      -   minus       *   mul       /   div    %  rem
//   &  and       |   or          unary minus on a non-literal: minus(0, x)
//   x in xs      internal.member_2(x, xs)
//   k, v in xs   internal.member_3(k, v, xs)
// Precedence (lowest first): `=` `:=` ; `in` ; `==` `!=` `<` `<=` `>` `>=` ;
// `|` ; `&` ; `+` `-` ; `*` `/` `%` (all left-associative).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "rego/value.h"

namespace confidant::rego {

struct Location {
  const std::string* file = nullptr;  // owned by the Module (or query holder)
  uint32_t row = 0;                   // 1-based
  uint32_t col = 0;                   // 1-based, in bytes
  // Byte range of the source text this node was parsed from (used for the
  // `text` field of opa eval's output and for print/error messages).
  uint32_t offset = 0;
  uint32_t length = 0;
};

struct Term;
struct Expr;
struct Module;
struct Annotations;  // a parsed `# METADATA` block (annotations.h)
using TermPtr = std::shared_ptr<Term>;
using Body = std::vector<Expr>;

enum class TermKind : uint8_t {
  Scalar,       // value: null, boolean, number or string
  Var,          // name ("_" is the wildcard; the compiler renames each one)
  Ref,          // items[0] head (Var, or any term such as a call/array/object); items[1..] operands
  Array,        // items
  Set,          // items
  Object,       // pairs
  ArrayCompr,   // head + body
  SetCompr,     // head + body
  ObjectCompr,  // key + head (the value) + body
  Call,         // items[0] is the operator: a Ref of Vars/strings (e.g. `count`, `data.pkg.f`,
                // `object.get`); items[1..] are the arguments
};

struct Term {
  TermKind kind = TermKind::Scalar;
  Location loc;
  Value value;                                     // Scalar
  std::string name;                                // Var
  std::vector<TermPtr> items;                      // Ref, Array, Set, Call
  std::vector<std::pair<TermPtr, TermPtr>> pairs;  // Object
  TermPtr key;                                     // ObjectCompr key
  TermPtr head;                                    // comprehension head (value for ObjectCompr)
  std::shared_ptr<Body> body;                      // comprehensions

  // Compiler annotations (unused by the parser).
  int32_t slot = -1;           // Var: local variable slot in the enclosing rule/query frame
  bool ground = false;         // no variables, refs or calls: `constant` holds its value
  Value constant;              // value of a ground term
  const void* target = nullptr;  // Call: the resolved builtin or function (compiler-private)
  // Ref `data.a.b...`: the RuleNode its leading string keys reach when that node holds rules
  // and nothing else can answer there (no base document, no nodes below), and the index of
  // the item after it; the evaluator then reads the rule's value directly.
  mutable const void* data_node = nullptr;
  mutable uint32_t data_next = 0;
};

struct With {
  Location loc;
  TermPtr target;  // a Ref: input..., data..., or a function/builtin name
  TermPtr value;
};

enum class ExprKind : uint8_t {
  Term,      // term: a single term that must be defined and not false
  Call,      // term: a Call term (operators included); value is its own result
  SomeDecl,  // some x, y        -> vars (Var terms)
  SomeIn,    // some x in xs / some k, v in xs -> some_key (may be null), some_value, some_domain
  Every,     // every [k,] v in domain { body } -> some_key (may be null), some_value, some_domain, body
};

struct Expr {
  ExprKind kind = ExprKind::Term;
  Location loc;
  bool negated = false;  // `not`
  TermPtr term;          // Term, Call
  std::vector<TermPtr> vars;  // SomeDecl
  TermPtr some_key, some_value, some_domain;  // SomeIn, Every
  std::shared_ptr<Body> body;                 // Every
  std::vector<With> withs;
};

enum class RuleKind : uint8_t {
  Complete,    // p := v, p = v, p if {...}, p {...} (v0), a.b.c := v (ref head), p[k] := v (ref head)
  MultiValue,  // p contains x (v1), p[x] {...} (v0 partial set), a.b contains x
  Function,    // f(x) := v, f(x) { ... }
};

struct Rule {
  Location loc;
  RuleKind kind = RuleKind::Complete;
  bool is_default = false;
  // The head reference relative to the package: ref[0] is a Var (the rule's
  // first name), the rest are string scalars (for `.name`) or any term
  // (for `[t]`). `p` -> [Var p]; `a.b[x]` -> [Var a, "b", Var x].
  // For v0 `p[x] = y { }` (partial object) this is [Var p, x] with value y.
  std::vector<TermPtr> ref;
  std::vector<TermPtr> args;  // Function
  TermPtr key;                // MultiValue: the element term
  TermPtr value;              // Complete/Function value; nullptr means `true`
  bool assign = false;        // head used `:=`
  bool has_if = false;        // head used `if`
  Body body;                  // empty body means true
  std::shared_ptr<Rule> else_rule;  // `else [= v] [if] { ... }` chain (value nullptr -> true)
  std::string metadata_yaml;  // text of a `# METADATA` comment block directly above, if any

  // Compiler annotations.
  int32_t frame_size = 0;    // local variable slots (shared by the else chain)
  uint32_t static_len = 0;   // leading ref components that are fixed names (the rule-tree path)
  const Module* module = nullptr;
};

struct Import {
  Location loc;
  TermPtr path;       // a Ref starting with Var "data", "input", "future" or "rego"
  std::string alias;  // `as x`, empty if none
};

// A source comment, kept only on request (ParseOptions::comments; rego.parse_module shows them).
struct Comment {
  uint32_t row = 0;
  uint32_t col = 0;  // 1-based, in characters (OPA counts runes here)
  std::string text;  // after the `#`, trailing '\r' removed
};

struct Module {
  std::shared_ptr<const std::string> file;    // file name as given (e.g. "policy.rego")
  std::shared_ptr<const std::string> source;  // full text (for `text` locations)
  Location package_loc;
  std::vector<std::string> package;  // without the leading "data": `package a.b` -> {"a", "b"}
  std::vector<Import> imports;
  std::vector<std::shared_ptr<Rule>> rules;
  bool rego_v1 = true;  // the syntax the module was parsed with (v1, or v0 with rego.v1 import)
  // `# METADATA` blocks in source order, each attached to the package, import or rule
  // below it (ParseOptions::annotations).
  std::vector<std::shared_ptr<const Annotations>> annotations;
  std::vector<Comment> comments;  // every comment, in order (ParseOptions::comments)
};

}  // namespace confidant::rego
