#include "rego/builtins/builtins.h"

namespace confidant::rego {

void BuiltinRegistry::add(std::string name, int arity, BuiltinFn fn, bool deterministic) {
  BuiltinInfo info;
  info.name = name;
  info.arity = arity;
  info.fn = fn;
  info.deterministic = deterministic;
  table_[std::move(name)] = std::move(info);
}

void BuiltinRegistry::add_deprecated(std::string name, int arity, BuiltinFn fn) {
  std::string key = name;
  add(std::move(name), arity, fn);
  table_[key].deprecated = true;
}

const BuiltinInfo* BuiltinRegistry::find(std::string_view name) const {
  auto it = table_.find(std::string(name));
  return it == table_.end() ? nullptr : &it->second;
}

const BuiltinRegistry& BuiltinRegistry::global() {
  static const BuiltinRegistry reg = [] {
    BuiltinRegistry r;
    register_comparison(r);
    register_numbers(r);
    register_aggregates(r);
    register_arrays(r);
    register_sets(r);
    register_objects(r);
    register_strings(r);
    register_regex(r);
    register_types(r);
    register_encoding(r);
    register_json_ops(r);
    register_semver(r);
    register_units(r);
    register_time(r);
    register_net(r);
    register_crypto(r);
    register_misc(r);
    register_http(r);
    register_tokens(r);
    register_x509(r);
    register_graphql(r);
    register_aws(r);
    register_rego_meta(r);
    register_deprecated(r);
    return r;
  }();
  return reg;
}

}  // namespace confidant::rego
