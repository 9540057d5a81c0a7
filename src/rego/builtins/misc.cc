// uuid.rfc4122, uuid.parse, rand.intn, opa.runtime, graph.reachable and
// graph.reachable_paths.
//
// uuid.rfc4122 and rand.intn are non-deterministic: like OPA they cache their
// result per query (in BuiltinContext::nd_cache), so the same arguments give
// the same answer within one query.
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "rego/builtins/builtins.h"

namespace confidant::rego {
namespace {

// Random bytes for one non-deterministic call. With a query seed they are
// derived from it and the call's cache key (SHA-256 in counter mode), so a
// query replays identically from its seed; without one they come from
// OpenSSL's CSPRNG.
void query_random(const BuiltinContext& ctx, const std::string& key, unsigned char* out, size_t n) {
  if (ctx.seed == 0) {
    if (RAND_bytes(out, static_cast<int>(n)) != 1) throw BuiltinError("eval_builtin_error", "random source failed");
    return;
  }
  for (uint32_t counter = 0; n > 0; ++counter) {
    std::string block(reinterpret_cast<const char*>(&ctx.seed), sizeof ctx.seed);
    block.append(reinterpret_cast<const char*>(&counter), sizeof counter);
    block += key;
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_Digest(block.data(), block.size(), digest, &len, EVP_sha256(), nullptr);
    const size_t take = std::min<size_t>(n, len);
    std::memcpy(out, digest, take);
    out += take;
    n -= take;
  }
}

std::string cache_key(std::string_view name, std::span<const Value> args) {
  std::string key(name);
  key += to_json(Value::array(ValueVec(args.begin(), args.end())));
  return key;
}

const char* const kHex = "0123456789abcdef";

// ------------------------------------------------------------------- uuid

// A random version 4 UUID. OPA does not type-check the operand at run time:
// any value works as the cache key.
Value uuid_rfc4122(BuiltinContext& ctx, std::span<const Value> args) {
  const std::string key = cache_key("uuid.rfc4122", args);
  if (auto it = ctx.nd_cache.find(key); it != ctx.nd_cache.end()) return it->second;
  unsigned char b[16];
  query_random(ctx, key, b, sizeof b);
  b[8] = static_cast<unsigned char>((b[8] & 0x3f) | 0x80);  // RFC 4122 variant
  b[6] = static_cast<unsigned char>((b[6] & 0x0f) | 0x40);  // version 4
  std::string s;
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) s.push_back('-');
    s.push_back(kHex[b[i] >> 4]);
    s.push_back(kHex[b[i] & 15]);
  }
  Value out = Value::string(s);
  ctx.nd_cache.emplace(key, out);
  return out;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// google/uuid's Parse: 36 characters with dashes, optionally in "urn:uuid:"
// or any one-character wrapping ("{...}"), or 32 bare hex digits.
bool parse_uuid(std::string_view s, unsigned char (&u)[16]) {
  auto byte_at = [&](size_t i, unsigned char& out) {
    const int hi = hex_value(s[i]), lo = hex_value(s[i + 1]);
    if (hi < 0 || lo < 0) return false;
    out = static_cast<unsigned char>(hi << 4 | lo);
    return true;
  };
  if (s.size() == 32) {
    for (size_t i = 0; i < 16; ++i)
      if (!byte_at(2 * i, u[i])) return false;
    return true;
  }
  if (s.size() == 45) {
    std::string prefix(s.substr(0, 9));
    for (char& c : prefix) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (prefix != "urn:uuid:") return false;
    s = s.substr(9);
  } else if (s.size() == 38) {
    s = s.substr(1);  // the wrapping characters themselves are not checked
  } else if (s.size() != 36) {
    return false;
  }
  if (s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-') return false;
  static constexpr size_t kPos[16] = {0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34};
  for (size_t i = 0; i < 16; ++i)
    if (!byte_at(kPos[i], u[i])) return false;
  return true;
}

// The fields OPA reports: version and variant, plus for versions 1 and 2 the
// timestamp (ns since the Unix epoch), node id, MAC flags and clock sequence,
// and for version 2 the DCE id and domain.
Value uuid_parse(BuiltinContext&, std::span<const Value> args) {
  const std::string& s = arg_string("uuid.parse", args, 0);
  unsigned char u[16];
  if (!parse_uuid(s, u)) return Value();  // undefined, not an error
  const int version = u[6] >> 4;
  const char* variant = (u[8] & 0xc0) == 0x80   ? "RFC4122"
                        : (u[8] & 0xe0) == 0xc0 ? "Microsoft"
                        : (u[8] & 0xe0) == 0xe0 ? "Future"
                                                : "Reserved";
  ObjectItems o = {{Value::string("version"), Value::integer(version)},
                   {Value::string("variant"), Value::string(variant)}};
  if (version == 1 || version == 2) {
    auto be = [&](int from, int n) {
      uint64_t v = 0;
      for (int i = from; i < from + n; ++i) v = v << 8 | u[i];
      return v;
    };
    // 100-ns intervals since 1582-10-15, converted as Go does (int64 wrap included).
    const uint64_t t = be(0, 4) | be(4, 2) << 32 | (be(6, 2) & 0xfff) << 48;
    const int64_t since_unix = static_cast<int64_t>(t - 122192928000000000ULL);
    const int64_t nsec = since_unix % 10000000 * 100;
    const int64_t sec = since_unix / 10000000;
    const auto ns = static_cast<int64_t>(static_cast<uint64_t>(sec) * 1000000000ULL + static_cast<uint64_t>(nsec));
    std::string node;
    for (int i = 10; i < 16; ++i) {
      if (i > 10) node.push_back('-');
      node.push_back(kHex[u[i] >> 4]);
      node.push_back(kHex[u[i] & 15]);
    }
    const unsigned char b = u[10];
    const char* mac = (b & 3) == 3 ? "local:multicast"
                      : (b & 1)    ? "global:multicast"
                      : (b & 2)    ? "local:unicast"
                                   : "global:unicast";
    o.emplace_back(Value::string("time"), Value::integer(ns));
    o.emplace_back(Value::string("nodeid"), Value::string(node));
    o.emplace_back(Value::string("macvariables"), Value::string(mac));
    o.emplace_back(Value::string("clocksequence"), Value::integer(static_cast<int64_t>(be(8, 2) & 0x3fff)));
    if (version == 2) {
      static const char* kDomains[] = {"Person", "Group", "Org"};
      o.emplace_back(Value::string("id"), Value::integer(static_cast<int64_t>(be(0, 4))));
      o.emplace_back(Value::string("domain"),
                     Value::string(u[9] < 3 ? std::string(kDomains[u[9]]) : "Domain" + std::to_string(u[9])));
    }
  }
  return Value::object(std::move(o));
}

// ------------------------------------------------------------------- rand

Value rand_intn(BuiltinContext& ctx, std::span<const Value> args) {
  static constexpr std::string_view kName = "rand.intn";
  const std::string& str = arg_string(kName, args, 0);
  const Value& nv = arg_number(kName, args, 1);
  int64_t n;
  if (!nv.to_int64(n)) {
    throw BuiltinError("eval_type_error",
                       std::string(kName) + ": operand 2 must be integer number but got floating-point number");
  }
  if (n == 0) return Value::integer(0);
  if (n == INT64_MIN) builtin_error(kName, "invalid argument to Intn");  // Go's Intn panics on -n overflow
  if (n < 0) n = -n;
  // OPA keys the cache on the string and |n|.
  std::string key = "rand.intn/";
  key += to_json(Value::string(str));
  key += "/" + std::to_string(n);
  if (auto it = ctx.nd_cache.find(key); it != ctx.nd_cache.end()) return it->second;
  // Uniform in [0, n): reject draws from the incomplete top interval.
  const auto un = static_cast<uint64_t>(n);
  const uint64_t limit = UINT64_MAX - UINT64_MAX % un;
  uint64_t r;
  std::string draw_key = key;
  do {
    query_random(ctx, draw_key, reinterpret_cast<unsigned char*>(&r), sizeof r);
    draw_key += '+';  // a fresh draw if rejected
  } while (r >= limit);
  Value out = Value::integer(static_cast<int64_t>(r % un));
  ctx.nd_cache.emplace(key, out);
  return out;
}

// ------------------------------------------------------------- opa.runtime

// Go's %T of a JSON value decoded into interface{}.
std::string go_type_name(const Value& v) {
  switch (v.kind()) {
    case Kind::Null: return "<nil>";
    case Kind::Bool: return "bool";
    case Kind::Number: return "json.Number";
    case Kind::String: return "string";
    case Kind::Object: return "map[string]interface {}";
    default: return "[]interface {}";
  }
}

Value without_keys(std::string_view builtin, const Value& v, std::initializer_list<std::string_view> keys) {
  if (!v.is_object()) builtin_error(builtin, "type assertion error");
  ObjectItems items;
  for (const auto& [k, x] : v.object_items()) {
    bool drop = false;
    for (std::string_view key : keys) drop = drop || (k.is_string() && k.str() == key);
    if (!drop) items.emplace_back(k, x);
  }
  return Value::object_sorted(std::move(items));
}

// The runtime document, with secrets removed from its "config" as OPA does:
// service credentials and the key material of "keys".
Value opa_runtime(BuiltinContext& ctx, std::span<const Value>) {
  static constexpr std::string_view kName = "opa.runtime";
  if (ctx.runtime.is_undefined()) return Value::empty_object();
  const Value* config = ctx.runtime.get("config");
  if (config == nullptr || !config->is_object()) return ctx.runtime;
  ObjectItems cfg;
  for (const auto& [k, v] : config->object_items()) {
    Value x = v;
    if (k.is_string() && k.str() == "services" && !v.is_null()) {
      if (v.is_array()) {
        ValueVec services;
        for (const Value& s : v.array_items()) services.push_back(without_keys(kName, s, {"credentials"}));
        x = Value::array(std::move(services));
      } else if (v.is_object()) {
        ObjectItems services;
        for (const auto& [name, s] : v.object_items())
          services.emplace_back(name, without_keys(kName, s, {"credentials"}));
        x = Value::object_sorted(std::move(services));
      } else {
        builtin_error(kName, "illegal service config type: " + go_type_name(v));
      }
    } else if (k.is_string() && k.str() == "keys" && !v.is_null()) {
      if (!v.is_object()) builtin_error(kName, "illegal keys config type: " + go_type_name(v));
      ObjectItems keys;
      for (const auto& [name, s] : v.object_items())
        keys.emplace_back(name, without_keys(kName, s, {"key", "private_key"}));
      x = Value::object_sorted(std::move(keys));
    }
    cfg.emplace_back(k, std::move(x));
  }
  ObjectItems doc;
  for (const auto& [k, v] : ctx.runtime.object_items())
    doc.emplace_back(k, k.is_string() && k.str() == "config" ? Value::object_sorted(std::move(cfg)) : v);
  return Value::object_sorted(std::move(doc));
}

// ------------------------------------------------------------------ graph

// Vertex collections are arrays or sets; anything else has no vertices.
const ValueVec& vertices(const Value& v) {
  static const ValueVec kNone;
  return v.is_array() ? v.array_items() : v.is_set() ? v.set_items() : kNone;
}

const ValueVec& initial_vertices(std::string_view builtin, std::span<const Value> args) {
  arg_object(builtin, args, 0);
  if (!args[1].is_array() && !args[1].is_set()) type_error(builtin, 2, "{array, set}", args[1]);
  return vertices(args[1]);
}

// Every vertex reachable from the initial ones (those present in the graph).
Value graph_reachable(BuiltinContext&, std::span<const Value> args) {
  const ValueVec& initial = initial_vertices("graph.reachable", args);
  const Value& graph = args[0];
  std::set<Value> reached;
  std::vector<Value> queue(initial.begin(), initial.end());
  for (size_t i = 0; i < queue.size(); ++i) {
    const Value node = queue[i];
    if (reached.count(node)) continue;  // already expanded
    const Value* edges = graph.get(node);
    if (edges == nullptr) continue;
    for (const Value& n : vertices(*edges))
      if (!reached.count(n)) queue.push_back(n);
    reached.insert(node);
  }
  return Value::set_sorted(ValueVec(reached.begin(), reached.end()));
}

// Every path from an initial vertex, each ending at a leaf, at an edge back
// into the path, or before a vertex missing from the graph (OPA's
// pathBuilder). Walked depth-first with an explicit stack and backtracking,
// so deep graphs neither exhaust the stack nor copy the path at every step.
Value graph_reachable_paths(BuiltinContext&, std::span<const Value> args) {
  const ValueVec& initial = initial_vertices("graph.reachable_paths", args);
  const Value& graph = args[0];
  std::set<Value> result;
  ValueVec path;
  std::map<Value, int> on_path;  // counts: a self-loop at the start visits a vertex twice
  struct Frame {
    const ValueVec* edges;
    size_t next = 0;
  };
  std::vector<Frame> frames;
  auto emit = [&] { result.insert(Value::array(path)); };
  // pathBuilder's entry: extend the path with root unless it is missing or a leaf.
  auto enter = [&](const Value& root) {
    const Value* edges = graph.get(root);
    if (edges == nullptr) return emit();
    path.push_back(root);
    const ValueVec& next = vertices(*edges);
    if (next.empty()) {
      emit();
      path.pop_back();
      return;
    }
    ++on_path[root];
    frames.push_back(Frame{&next});
  };
  for (const Value& node : initial) {
    const Value* edges = graph.get(node);
    if (edges == nullptr) continue;
    if (vertices(*edges).empty()) {
      result.insert(Value::array({node}));
      continue;
    }
    path = {node};
    on_path = {{node, 1}};
    for (const Value& first : vertices(*edges)) {
      enter(first);
      while (!frames.empty()) {
        Frame& f = frames.back();
        if (f.next == f.edges->size()) {
          frames.pop_back();
          if (--on_path[path.back()] == 0) on_path.erase(path.back());
          path.pop_back();
          continue;
        }
        const Value& n = (*f.edges)[f.next++];
        if (on_path.count(n)) {
          emit();  // cycle: commit the path so far
        } else {
          enter(n);
        }
      }
    }
  }
  return Value::set_sorted(ValueVec(result.begin(), result.end()));
}

}  // namespace

namespace {
// trace(note): always true; the note reaches `confidant eval --explain=notes` (or any
// caller that asked for notes). Not deterministic, so the compiler never folds it away.
Value trace_note(BuiltinContext& ctx, std::span<const Value> args) {
  const std::string& note = arg_string("trace", args, 0);
  if (ctx.note) ctx.note(note);
  return Value::true_value();
}
}  // namespace

void register_misc(BuiltinRegistry& r) {
  r.add("trace", 1, trace_note, /*deterministic=*/false);
  r.add("uuid.rfc4122", 1, uuid_rfc4122, /*deterministic=*/false);
  r.add("uuid.parse", 1, uuid_parse);
  r.add("rand.intn", 2, rand_intn, /*deterministic=*/false);
  r.add("opa.runtime", 0, opa_runtime, /*deterministic=*/false);
  r.add("graph.reachable", 2, graph_reachable);
  r.add("graph.reachable_paths", 2, graph_reachable_paths);
}

}  // namespace confidant::rego

namespace confidant::rego {

namespace {
// A confidential guest has no business making network calls on the policy's
// behalf: the host controls the network. http.send is a clear error here.
Value http_send(BuiltinContext&, std::span<const Value>) {
  builtin_error("http.send", "network requests are not available inside the guest");
}
}  // namespace

void register_http(BuiltinRegistry& r) { r.add("http.send", 1, http_send, /*deterministic=*/false); }

}  // namespace confidant::rego
