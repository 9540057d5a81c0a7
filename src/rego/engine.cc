// The public API (rego.h) over parser, compiler and evaluator.
#include <chrono>

#include "rego/annotations.h"
#include "rego/compiler.h"
#include "rego/eval.h"
#include "rego/parser.h"
#include "rego/rego.h"

namespace confidant::rego {

struct Engine::Impl {
  EngineOptions opts;
  std::vector<std::unique_ptr<Module>> modules;
  Value data = Value::empty_object();
};

Engine::Engine(EngineOptions opts) : impl_(std::make_unique<Impl>()) { impl_->opts = opts; }
Engine::~Engine() = default;

bool Engine::add_module(std::string file, std::string text, Errors& errors, std::optional<bool> v0) {
  ParseOptions po;
  po.v0 = v0.value_or(impl_->opts.v0);
  auto m = std::make_unique<Module>();
  if (!parse_module(std::move(file), std::move(text), po, *m, errors)) return false;
  impl_->modules.push_back(std::move(m));
  return true;
}

namespace {
// Deep-merges b into a; false on a conflict between non-objects.
bool merge(const Value& a, const Value& b, Value& out) {
  if (!a.is_object() || !b.is_object()) {
    if (a.is_defined() && a != b) return false;
    out = b;
    return true;
  }
  ObjectItems items = a.object_items();
  for (const auto& [k, v] : b.object_items()) {
    bool found = false;
    for (auto& kv : items) {
      if (kv.first == k) {
        Value m;
        if (!merge(kv.second, v, m)) return false;
        kv.second = m;
        found = true;
        break;
      }
    }
    if (!found) items.emplace_back(k, v);
  }
  out = Value::object(std::move(items));
  return true;
}
}  // namespace

bool Engine::add_data(const Value& data, Errors& errors, const std::vector<std::string>& path) {
  Value v = data;
  for (auto it = path.rbegin(); it != path.rend(); ++it) v = Value::object({{Value::string(*it), v}});
  Value out;
  if (!merge(impl_->data, v, out)) {
    RegoError e;
    e.code = "rego_compile_error";
    e.message = "conflicting data documents";
    errors.push_back(e);
    return false;
  }
  impl_->data = out;
  return true;
}

std::shared_ptr<const Policy> Engine::compile(Errors& errors) {
  // OPA builds its annotation set (rejecting redeclared package/document annotations)
  // before the other compiler stages.
  std::vector<const Module*> mods;
  for (const auto& m : impl_->modules) mods.push_back(m.get());
  size_t before = errors.size();
  check_annotation_redeclarations(mods, errors);
  if (errors.size() > before) return nullptr;
  // Modules move into the policy; keep copies of nothing (the engine is spent).
  return compile_policy(std::move(impl_->modules), impl_->data, errors);
}

struct Query::Impl {
  std::shared_ptr<const Policy> policy;
  CompiledQuery q;
  std::vector<QueryResult::ExprInfo> exprs;
};

Query::Query(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Query::~Query() = default;

std::unique_ptr<Query> Query::prepare(std::shared_ptr<const Policy> policy, std::string_view query, Errors& errors,
                                      bool v0) {
  ParseOptions po;
  po.v0 = v0;
  ParsedQuery pq;
  if (!parse_query(query, po, pq, errors)) return nullptr;
  auto impl = std::make_unique<Impl>();
  impl->policy = policy;
  for (const auto& e : pq.body) {
    QueryResult::ExprInfo info;
    if (pq.source && e.loc.offset + e.loc.length <= pq.source->size())
      info.text = pq.source->substr(e.loc.offset, e.loc.length);
    info.row = e.loc.row;
    info.col = e.loc.col;
    impl->exprs.push_back(std::move(info));
  }
  impl->q.file = pq.file;
  impl->q.source = pq.source;
  CompileOptions co;
  co.v0 = v0;
  if (!compile_query(*policy, std::move(pq.body), impl->q, errors, co)) return nullptr;
  return std::unique_ptr<Query>(new Query(std::move(impl)));
}

bool Query::eval(const EvalOptions& opts, QueryResult& out, Errors& errors) const {
  out.exprs = impl_->exprs;
  return evaluate_query(*impl_->policy, impl_->q, opts, out, errors);
}

bool Query::eval_value(const EvalOptions& opts, Value& out, Errors& errors) const {
  QueryResult r;  // no rows, no expression texts: only the first value is wanted
  out = Value();
  if (evaluate_query(*impl_->policy, impl_->q, opts, r, errors, &out)) return true;
  out = Value();
  return false;
}

std::vector<std::string> package_rules(const Policy& policy, std::string_view pkg) {
  std::vector<std::string> path;
  for (size_t start = 0; start <= pkg.size();) {
    size_t dot = pkg.find('.', start);
    if (dot == std::string_view::npos) dot = pkg.size();
    path.emplace_back(pkg.substr(start, dot - start));
    start = dot + 1;
  }
  std::vector<std::string> out;
  const RuleNode* n = policy.find(path);
  if (!n) return out;
  for (const auto& [name, child] : n->children)
    if (!child->is_function && (!child->rules.empty() || child->default_rule)) out.push_back(name);
  return out;  // std::map order: sorted
}

bool parse_value_text(std::string_view text, Value& out, Errors& errors) {
  return parse_value(text, ParseOptions{}, out, errors);
}

}  // namespace confidant::rego
