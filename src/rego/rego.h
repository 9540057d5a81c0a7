// Confidant's Rego engine: the public C++ API.
//
//   Engine eng;                                  // collect modules and data
//   eng.add_module("policy.rego", text, errs);
//   eng.add_data(json_value);
//   auto policy = eng.compile(errs);             // immutable, shareable across threads
//   auto q = Query::prepare(policy, "data.agent_policy.CreateContainerRequest", errs);
//   EvalOptions o; o.input = request;
//   QueryResult r;  q->eval(o, r, errs);         // each eval has its own state
//
// Data flows one way: parse -> compile -> evaluate. Nothing in a compiled
// Policy changes after compile(); evaluations never copy `data`.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "rego/error.h"
#include "rego/value.h"

namespace confidant::rego {

class Policy;  // compiled, immutable (compiler.h)

struct EngineOptions {
  bool v0 = false;  // default syntax for modules added without an explicit choice
};

class Engine {
 public:
  explicit Engine(EngineOptions opts = {});
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Parses and adds a module. `v0` overrides the engine default for this module.
  bool add_module(std::string file, std::string text, Errors& errors, std::optional<bool> v0 = std::nullopt);
  // Merges an object into the base documents (`data`). Conflicting
  // non-object values are an error.
  bool add_data(const Value& data, Errors& errors, const std::vector<std::string>& path = {});

  // Compiles everything added so far. Returns null with errors on failure.
  std::shared_ptr<const Policy> compile(Errors& errors);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

struct EvalLimits {
  uint64_t max_steps = 50'000'000;      // evaluation steps (expressions, unifications, calls)
  uint64_t max_time_ns = 10'000'000'000; // wall time budget, checked every few thousand steps
  uint64_t max_memory = 512ull << 20;   // approximate bytes of values built by the evaluation
  uint32_t max_depth = 1000;            // nested rule/function calls
  // Native stack the evaluation may use (it recurses): keep below the
  // evaluating thread's stack size (8 MiB for the main thread on Linux).
  uint64_t max_stack_bytes = 4ull << 20;
};

// Instrumentation for policy authors (`confidant eval --profile`, `--explain`). Off by
// default; when off it costs one branch per rule body and per expression.
struct EvalTrace {
  bool profile = false;  // time and counts per rule definition
  bool fails = false;    // every expression that failed, with its rule and source text
  bool notes = false;    // trace(msg) calls
};

struct RuleProfile {
  std::string rule;  // "data.pkg.name" (functions too)
  std::string file;
  uint32_t row = 0, col = 0;
  uint64_t num_eval = 0;     // times a body of this definition was entered
  uint64_t num_success = 0;  // of which produced a value
  uint64_t total_ns = 0;     // wall time, including rules it called
  uint64_t self_ns = 0;      // total minus the time of the rules it called
};

struct TraceLine {
  enum class Kind { kFail, kNote } kind = Kind::kFail;
  std::string rule;  // enclosing rule ("" in the query)
  std::string file;
  uint32_t row = 0, col = 0;
  uint32_t depth = 0;  // rule nesting, for indentation
  std::string text;    // the failed expression's source, or the note
};

struct EvalOptions {
  Value input;                  // undefined: no input document
  bool strict_builtin_errors = false;
  EvalLimits limits;
  std::optional<int64_t> now_ns;         // time.now_ns(); default: the wall clock at eval start
  // Receives the lines of `print(...)` calls, already formatted as OPA does:
  // "<file>:<row>: <args>". Null: print output is discarded.
  std::function<void(const std::string&)> print;
  Value runtime;  // opa.runtime() document
  EvalTrace trace;
  // Documents added under data for this evaluation only, by top-level name ({"pstate": {...}}
  // is data.pstate): cheaper than `with data.x as ...`. A name where the policy has rules or
  // base data of its own fails the evaluation.
  Value base_documents;
};

struct QueryResult {
  struct Row {
    std::vector<Value> expressions;                     // one value per top-level query expression
    std::vector<std::pair<std::string, Value>> bindings;  // user variables, sorted by name
  };
  std::vector<Row> rows;
  // Expression texts and locations (same for every row), for opa-eval-style output.
  struct ExprInfo {
    std::string text;
    uint32_t row = 0, col = 0;
  };
  std::vector<ExprInfo> exprs;
  std::vector<RuleProfile> profile;  // EvalTrace::profile: sorted by self time, largest first
  std::vector<TraceLine> trace;      // EvalTrace::fails / notes, in evaluation order
  uint64_t bodies_skipped = 0;       // rule bodies not entered thanks to rule indexing
  bool defined() const { return !rows.empty(); }
};

class Query {
 public:
  // Parses and compiles a query against a policy (the query may refer to
  // data, input and builtins; `v0` selects the query syntax).
  static std::unique_ptr<Query> prepare(std::shared_ptr<const Policy> policy, std::string_view query,
                                        Errors& errors, bool v0 = false);
  ~Query();

  // Evaluates; returns false with errors (code, message, location) on an
  // evaluation error. Thread-safe: a Query may be evaluated concurrently.
  bool eval(const EvalOptions& opts, QueryResult& out, Errors& errors) const;

  // Convenience: the value of the query's first expression in the first row
  // (undefined when the query is undefined). Intended for `data.pkg.rule`.
  bool eval_value(const EvalOptions& opts, Value& out, Errors& errors) const;

  struct Impl;

 private:
  explicit Query(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Parses a Rego term as a value (e.g. conformance `input_term`).
bool parse_value_text(std::string_view text, Value& out, Errors& errors);

// The names of the rules (not functions) defined directly in package `pkg` ("a.b"), sorted:
// the entry points a caller may prepare queries for ahead of time.
std::vector<std::string> package_rules(const Policy& policy, std::string_view pkg);

}  // namespace confidant::rego
