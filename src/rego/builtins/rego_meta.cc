// rego.metadata.chain(), rego.metadata.rule() and rego.parse_module(filename, source).
//
// OPA rewrites the two metadata calls at compile time into constants of the
// enclosing rule, so in a query (no enclosing rule) they reach the evaluator and
// fail: "the rego.metadata.chain function must only be called within the scope of
// a rule". Here they read BuiltinContext::active_rule and compute the same values
// from the policy's annotations (cached per query: the answer depends only on the rule).
// They are registered as non-deterministic so that nothing folds them without a rule.
//
// rego.parse_module parses Rego v1, as OPA 1.x's ast.ParseModule does, without
// processing METADATA blocks (OPA's default ParserOptions): they stay plain comments.
#include <cstdio>

#include "rego/annotations.h"
#include "rego/ast_json.h"
#include "rego/builtins/builtins.h"
#include "rego/parser.h"

namespace confidant::rego {
namespace {

template <Value (*Compute)(const Policy&, const Rule&)>
Value metadata(BuiltinContext& ctx, const char* name) {
  if (!ctx.active_rule || !ctx.policy)
    builtin_error(name, std::string("the ") + name + " function must only be called within the scope of a rule");
  char key[96];
  std::snprintf(key, sizeof key, "%s#%p", name, static_cast<const void*>(ctx.active_rule));
  if (auto it = ctx.nd_cache.find(key); it != ctx.nd_cache.end()) return it->second;
  Value v = Compute(*ctx.policy, *ctx.active_rule);
  ctx.nd_cache.emplace(key, v);
  return v;
}

Value metadata_chain_fn(BuiltinContext& ctx, std::span<const Value>) {
  return metadata<metadata_chain>(ctx, "rego.metadata.chain");
}
Value metadata_rule_fn(BuiltinContext& ctx, std::span<const Value>) {
  return metadata<metadata_rule>(ctx, "rego.metadata.rule");
}

// ast.Error.Error(): "<file>:<row>: <code>: <msg>", or "<row>:<col>: ..." without a file name.
std::string opa_error_text(const RegoError& e) {
  std::string where =
      e.file.empty() ? std::to_string(e.row) + ":" + std::to_string(e.col) : e.file + ":" + std::to_string(e.row);
  return where + ": " + e.code + ": " + e.message;
}

Value parse_module_fn(BuiltinContext&, std::span<const Value> args) {
  const std::string& file = arg_string("rego.parse_module", args, 0);
  const std::string& source = arg_string("rego.parse_module", args, 1);
  ParseOptions opts;
  opts.annotations = false;
  opts.comments = true;
  Module m;
  Errors errs;
  if (!parse_module(file, source, opts, m, errs)) {
    // ast.Errors.Error()
    std::string msg;
    if (errs.size() == 1) {
      msg = "1 error occurred: " + opa_error_text(errs[0]);
    } else {
      msg = std::to_string(errs.size()) + " errors occurred:";
      for (const auto& e : errs) msg += "\n" + opa_error_text(e);
    }
    builtin_error("rego.parse_module", msg);
  }
  return module_to_json(m);
}

}  // namespace

void register_rego_meta(BuiltinRegistry& r) {
  r.add("rego.metadata.chain", 0, metadata_chain_fn, /*deterministic=*/false);
  r.add("rego.metadata.rule", 0, metadata_rule_fn, /*deterministic=*/false);
  r.add("rego.parse_module", 2, parse_module_fn);
}

}  // namespace confidant::rego
