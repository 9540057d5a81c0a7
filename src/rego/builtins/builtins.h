// The builtin function library: registration, the per-evaluation context
// builtins may use, and helpers for OPA-compatible argument errors.
//
// Each topic lives in its own file (strings.cc, regex.cc, numbers.cc, ...)
// and exposes one `register_<topic>(BuiltinRegistry&)` function that
// registry.cc calls. A builtin receives its evaluated arguments and returns
// its result; it returns an undefined Value to make the call undefined, and
// throws BuiltinError for an error (the evaluator turns that into undefined,
// or into an evaluation error in strict mode, as OPA does).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>

#include "rego/value.h"

namespace confidant::rego {

struct Rule;
class Policy;

// Thrown by builtins. `code` is codes::kEvalType for operand type errors and
// codes::kBuiltin otherwise. `message` starts with the builtin's name, as in
// OPA: "count: operand 1 must be one of {array, object, set, string} but got number".
struct BuiltinError : std::runtime_error {
  std::string code;
  BuiltinError(std::string c, const std::string& msg) : std::runtime_error(msg), code(std::move(c)) {}
};

// What a builtin may know about the evaluation that calls it.
class BuiltinContext {
 public:
  int64_t now_ns = 0;        // time.now_ns(): fixed for the whole query
  uint64_t seed = 0;         // for rand.intn (fixed per query through nd_cache)
  bool strict = false;       // strict builtin errors
  Value runtime;             // opa.runtime() document (may be undefined -> {})
  // Results of non-deterministic builtins within one query, keyed by the
  // builtin name plus the JSON of its arguments (rand.intn, uuid.rfc4122...).
  std::map<std::string, Value> nd_cache;
  // The rule whose body is being evaluated (null in the query itself) and the policy it
  // belongs to: what rego.metadata.rule()/chain() describe.
  const Rule* active_rule = nullptr;
  const Policy* policy = nullptr;
  // trace(note) hands its note here when the caller asked for notes; null otherwise.
  std::function<void(std::string_view)> note;
};

using BuiltinFn = Value (*)(BuiltinContext& ctx, std::span<const Value> args);

struct BuiltinInfo {
  std::string name;   // "count", "object.get", "regex.match", ...
  int arity = 0;      // number of arguments (the result is not counted)
  BuiltinFn fn = nullptr;
  bool deterministic = true;
  bool deprecated = false;  // offered to Rego v0 only (OPA 1.x: not in v1's capabilities)
};

class BuiltinRegistry {
 public:
  void add(std::string name, int arity, BuiltinFn fn, bool deterministic = true);
  void add_deprecated(std::string name, int arity, BuiltinFn fn);
  const BuiltinInfo* find(std::string_view name) const;
  const std::unordered_map<std::string, BuiltinInfo>& all() const { return table_; }

  // The process-wide registry holding every builtin.
  static const BuiltinRegistry& global();

 private:
  std::unordered_map<std::string, BuiltinInfo> table_;
};

// --- argument helpers (throw OPA-formatted BuiltinErrors) -------------------

// "NAME: operand POS must be EXPECTED but got KIND" (POS is 1-based).
[[noreturn]] void type_error(std::string_view builtin, int pos, std::string_view expected, const Value& got);
// "NAME: MESSAGE" with code eval_builtin_error.
[[noreturn]] void builtin_error(std::string_view builtin, std::string_view message);

const std::string& arg_string(std::string_view builtin, std::span<const Value> args, int index);
const Value& arg_number(std::string_view builtin, std::span<const Value> args, int index);
// An integral number that fits int64 ("operand N must be integer but got ..." otherwise).
int64_t arg_int(std::string_view builtin, std::span<const Value> args, int index);
const Value& arg_array(std::string_view builtin, std::span<const Value> args, int index);
const Value& arg_object(std::string_view builtin, std::span<const Value> args, int index);
const Value& arg_set(std::string_view builtin, std::span<const Value> args, int index);
bool arg_bool(std::string_view builtin, std::span<const Value> args, int index);

// Topic registration functions (one per file).
void register_comparison(BuiltinRegistry& r);   // comparison.cc: equal, neq, lt, ...
void register_numbers(BuiltinRegistry& r);      // numbers.cc: plus, minus, ..., bits.*, numbers.range
void register_aggregates(BuiltinRegistry& r);   // aggregates.cc: count, sum, max, sort, ...
void register_arrays(BuiltinRegistry& r);       // arrays.cc: array.concat, array.slice, array.reverse
void register_sets(BuiltinRegistry& r);         // sets.cc: and, or, minus on sets, intersection, union
void register_objects(BuiltinRegistry& r);      // objects.cc: object.get, object.union, ...
void register_strings(BuiltinRegistry& r);      // strings.cc: concat, split, sprintf, ...
void register_regex(BuiltinRegistry& r);        // regex.cc: regex.*, glob.*
void register_types(BuiltinRegistry& r);        // types.cc: is_*, type_name
void register_encoding(BuiltinRegistry& r);     // encoding.cc: json.*, base64*, hex, urlquery, yaml
void register_json_ops(BuiltinRegistry& r);     // json_ops.cc: json.patch, json.filter, json.remove, schema
void register_semver(BuiltinRegistry& r);       // semver.cc
void register_units(BuiltinRegistry& r);        // units.cc: units.parse, units.parse_bytes
void register_time(BuiltinRegistry& r);         // time.cc: time.*
void register_net(BuiltinRegistry& r);          // net.cc: net.cidr_*, net.lookup_ip_addr
void register_crypto(BuiltinRegistry& r);       // crypto.cc: crypto.sha*, crypto.hmac.*, ...
void register_misc(BuiltinRegistry& r);         // misc.cc: uuid, rand, opa.runtime, graph.*, ...
void register_http(BuiltinRegistry& r);         // misc.cc: http.send (an error inside the guest)
void register_tokens(BuiltinRegistry& r);       // tokens.cc: io.jwt.*
void register_x509(BuiltinRegistry& r);         // x509.cc: crypto.x509.*, crypto.parse_private_keys
void register_graphql(BuiltinRegistry& r);      // graphql.cc: graphql.*
void register_aws(BuiltinRegistry& r);          // aws.cc: providers.aws.sign_req
void register_rego_meta(BuiltinRegistry& r);     // rego_meta.cc: rego.metadata.*, rego.parse_module
void register_deprecated(BuiltinRegistry& r);    // deprecated.cc: all, any, cast_*, re_match, ... (v0 only)

}  // namespace confidant::rego
