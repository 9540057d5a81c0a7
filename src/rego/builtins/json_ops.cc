// json.filter, json.remove, json.patch, json.verify_schema, json.match_schema
//
// The path and patch semantics follow OPA's topdown/json.go and its EditTree
// (paths address objects by key, arrays by index, sets by member; a failing
// patch makes the call undefined). Schema validation reproduces OPA's vendored
// gojsonschema: the same keywords per draft (4, 6, 7, and the default
// "hybrid" that accepts all), the same error objects and messages, and the
// same scoring used to pick the errors reported for anyOf/oneOf.
#include <arpa/inet.h>
#include <re2/re2.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "rego/builtins/builtins.h"
#include "rego/number.h"

namespace confidant::rego {
namespace {

[[noreturn]] void operand_error(std::string_view builtin, int pos, std::string_view msg) {
  throw BuiltinError("eval_type_error",
                     std::string(builtin) + ": operand " + std::to_string(pos) + " " + std::string(msg));
}

struct ValueLess {
  bool operator()(const Value& a, const Value& b) const { return compare(a, b) < 0; }
};

// ---------------------------------------------------------------- paths

using Path = ValueVec;

// A JSON pointer string ("/a/b~1c", leading slashes optional) or an array of
// path segments. The empty string is the root.
Path parse_path(std::string_view builtin, const Value& p) {
  Path out;
  if (p.is_string()) {
    std::string_view s = p.str();
    if (s.empty()) return out;
    s.remove_prefix(std::min(s.find_first_not_of('/'), s.size()));
    for (;;) {
      size_t slash = s.find('/');
      std::string part(s.substr(0, slash));
      for (size_t i; (i = part.find("~1")) != std::string::npos;) part.replace(i, 2, "/");
      for (size_t i; (i = part.find("~0")) != std::string::npos;) part.replace(i, 2, "~");
      out.push_back(Value::string(std::move(part)));
      if (slash == std::string_view::npos) break;
      s.remove_prefix(slash + 1);
    }
    return out;
  }
  if (p.is_array()) return p.array_items();
  operand_error(builtin, 2,
                std::string("must be one of {set, array} containing string paths or array of path segments but got ") +
                    kind_name(p.kind()));
}

std::vector<Path> parse_paths(std::string_view builtin, const Value& v) {
  if (!v.is_array() && !v.is_set())
    operand_error(builtin, 2, std::string("must be one of {set, array} but got ") + kind_name(v.kind()));
  std::vector<Path> out;
  for (const Value& p : v.is_array() ? v.array_items() : v.set_items()) out.push_back(parse_path(builtin, p));
  return out;
}

// OPA's pathsToObject: a trie of the paths whose leaves are null. A shorter
// path replaces the subtree of a longer one and hides later longer ones.
struct PathTrie {
  bool leaf = false;
  std::map<Value, PathTrie, ValueLess> children;
};

PathTrie paths_to_trie(const std::vector<Path>& paths) {
  PathTrie root;
  for (const Path& path : paths) {
    if (path.empty()) continue;
    PathTrie* node = &root;
    bool done = false;
    for (size_t i = 0; i + 1 < path.size() && !done; ++i) {
      auto it = node->children.find(path[i]);
      if (it == node->children.end()) {
        node = &node->children[path[i]];
      } else if (it->second.leaf) {
        done = true;
      } else {
        node = &it->second;
      }
    }
    if (!done) node->children[path.back()] = PathTrie{true, {}};
  }
  return root;
}

const PathTrie* trie_get(const PathTrie& t, const Value& key) {
  auto it = t.children.find(key);
  return it == t.children.end() ? nullptr : &it->second;
}

// Array elements are addressed by their index as a string ("a/0/b").
Value index_key(size_t i) { return Value::string(std::to_string(i)); }

Value filter_value(const Value& v, const PathTrie& f) {
  if (f.leaf) return v;
  switch (v.kind()) {
    case Kind::Array: {
      ValueVec out;
      const ValueVec& items = v.array_items();
      for (size_t i = 0; i < items.size(); ++i) {
        if (const PathTrie* sub = trie_get(f, index_key(i))) out.push_back(filter_value(items[i], *sub));
      }
      return Value::array(std::move(out));
    }
    case Kind::Set: {
      ValueVec out;
      for (const Value& m : v.set_items()) {
        if (const PathTrie* sub = trie_get(f, m)) out.push_back(filter_value(m, *sub));
      }
      return Value::set(std::move(out));
    }
    case Kind::Object: {
      ObjectItems out;
      for (const auto& [k, x] : v.object_items()) {
        if (const PathTrie* sub = trie_get(f, k)) out.emplace_back(k, filter_value(x, *sub));
      }
      return Value::object_sorted(std::move(out));
    }
    default: return v;
  }
}

// Undefined means "removed".
Value remove_value(const Value& v, const PathTrie* f) {
  if (!f) return v;
  if (f->leaf) return Value();
  switch (v.kind()) {
    case Kind::Array: {
      ValueVec out;
      const ValueVec& items = v.array_items();
      for (size_t i = 0; i < items.size(); ++i) {
        Value x = remove_value(items[i], trie_get(*f, index_key(i)));
        if (x.is_defined()) out.push_back(std::move(x));
      }
      return Value::array(std::move(out));
    }
    case Kind::Set: {
      ValueVec out;
      for (const Value& m : v.set_items()) {
        Value x = remove_value(m, trie_get(*f, m));
        if (x.is_defined()) out.push_back(std::move(x));
      }
      return Value::set(std::move(out));
    }
    case Kind::Object: {
      ObjectItems out;
      for (const auto& [k, x] : v.object_items()) {
        Value y = remove_value(x, trie_get(*f, k));
        if (y.is_defined()) out.emplace_back(k, std::move(y));
      }
      return Value::object_sorted(std::move(out));
    }
    default: return v;
  }
}

Value json_filter(BuiltinContext&, std::span<const Value> a) {
  const Value& obj = arg_object("json.filter", a, 0);
  PathTrie trie = paths_to_trie(parse_paths("json.filter", a[1]));
  return filter_value(obj, trie);
}

Value json_remove(BuiltinContext&, std::span<const Value> a) {
  const Value& obj = arg_object("json.remove", a, 0);
  PathTrie trie = paths_to_trie(parse_paths("json.remove", a[1]));
  return remove_value(obj, &trie);
}

// ---------------------------------------------------------------- json.patch

struct PatchFail {};

// EditTree's toIndex: integers, "-" (one past the end), or a base-10 string
// without leading zeros.
int64_t array_index(const Value& key, size_t len) {
  int64_t i;
  if (key.is_number()) {
    if (!key.to_int64(i)) throw PatchFail{};
    return i;
  }
  if (!key.is_string()) throw PatchFail{};
  std::string_view s = key.str();
  if (s == "-") return static_cast<int64_t>(len);
  std::string_view digits = s;
  bool neg = false;
  if (!digits.empty() && (digits[0] == '+' || digits[0] == '-')) {
    neg = digits[0] == '-';
    digits.remove_prefix(1);
  }
  if (digits.empty() || digits.size() > 18) throw PatchFail{};
  i = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') throw PatchFail{};
    i = i * 10 + (c - '0');
  }
  if (s != "0" && s[0] == '0') throw PatchFail{};
  return neg ? -i : i;
}

// The child of a container (EditTree Unfold); fails when absent.
Value child(const Value& v, const Value& key) {
  switch (v.kind()) {
    case Kind::Object:
      if (const Value* x = v.get(key)) return *x;
      break;
    case Kind::Set:
      if (v.has(key)) return key;
      break;
    case Kind::Array: {
      int64_t i = array_index(key, v.size());
      if (i >= 0 && static_cast<size_t>(i) < v.size()) return v.array_items()[static_cast<size_t>(i)];
      break;
    }
    default: break;
  }
  throw PatchFail{};
}

// Rebuilds `v` with its child at `key` replaced by `x`.
Value with_child(const Value& v, const Value& key, const Value& x) {
  switch (v.kind()) {
    case Kind::Object: {
      ObjectItems items = v.object_items();
      for (auto& [k, y] : items) {
        if (k == key) y = x;
      }
      return Value::object_sorted(std::move(items));
    }
    case Kind::Set: {
      ValueVec items;
      for (const Value& m : v.set_items()) {
        if (m != key) items.push_back(m);
      }
      items.push_back(x);
      return Value::set(std::move(items));
    }
    case Kind::Array: {
      ValueVec items = v.array_items();
      items[static_cast<size_t>(array_index(key, v.size()))] = x;
      return Value::array(std::move(items));
    }
    default: throw PatchFail{};
  }
}

Value get_at(const Value& v, const Path& p, size_t i = 0) {
  return i == p.size() ? v : get_at(child(v, p[i]), p, i + 1);
}

// EditTree Insert (the last segment) below the containers along the path.
Value add_at(const Value& v, const Path& p, const Value& x, size_t i = 0) {
  if (i + 1 < p.size()) return with_child(v, p[i], add_at(child(v, p[i]), p, x, i + 1));
  const Value& key = p[i];
  switch (v.kind()) {
    case Kind::Object: {
      ObjectItems items = v.object_items();
      items.emplace_back(key, x);
      return Value::object(std::move(items));
    }
    case Kind::Set: {
      if (key != x) throw PatchFail{};  // a set member is its own key
      ValueVec items = v.set_items();
      items.push_back(x);
      return Value::set(std::move(items));
    }
    case Kind::Array: {
      int64_t idx = array_index(key, v.size());
      if (idx < 0 || static_cast<size_t>(idx) > v.size()) throw PatchFail{};
      ValueVec items = v.array_items();
      items.insert(items.begin() + idx, x);
      return Value::array(std::move(items));
    }
    default: throw PatchFail{};
  }
}

// EditTree Delete of the last segment.
Value remove_at(const Value& v, const Path& p, size_t i = 0) {
  if (i + 1 < p.size()) return with_child(v, p[i], remove_at(child(v, p[i]), p, i + 1));
  const Value& key = p[i];
  switch (v.kind()) {
    case Kind::Object: {
      if (!v.get(key)) throw PatchFail{};
      ObjectItems items;
      for (const auto& [k, y] : v.object_items()) {
        if (k != key) items.emplace_back(k, y);
      }
      return Value::object_sorted(std::move(items));
    }
    case Kind::Set: {
      if (!v.has(key)) throw PatchFail{};
      ValueVec items;
      for (const Value& m : v.set_items()) {
        if (m != key) items.push_back(m);
      }
      return Value::set_sorted(std::move(items));
    }
    case Kind::Array: {
      int64_t idx = array_index(key, v.size());
      if (idx < 0 || static_cast<size_t>(idx) >= v.size()) throw PatchFail{};
      ValueVec items = v.array_items();
      items.erase(items.begin() + idx);
      return Value::array(std::move(items));
    }
    default: throw PatchFail{};
  }
}

// Applies one operation; an undefined document is a deleted root.
Value apply_op(Value doc, const Value& op) {
  if (!op.is_object()) throw PatchFail{};
  auto attr = [&](const char* name) -> const Value& {
    const Value* v = op.get(name);
    if (!v) throw PatchFail{};
    return *v;
  };
  const Value& opv = attr("op");
  if (!opv.is_string()) throw PatchFail{};
  const std::string& name = opv.str();
  if (name != "add" && name != "remove" && name != "replace" && name != "move" && name != "copy" && name != "test") {
    throw PatchFail{};
  }
  auto path_of = [](const Value& v) {
    if (!v.is_string() && !v.is_array()) throw PatchFail{};
    return parse_path("json.patch", v);
  };
  Path path = path_of(attr("path"));
  Path from;
  if (name == "move" || name == "copy") from = path_of(attr("from"));
  Value value;
  if (name == "add" || name == "replace" || name == "test") value = attr("value");

  auto get = [&](const Path& p) {
    if (doc.is_undefined()) throw PatchFail{};
    return get_at(doc, p);
  };
  auto insert = [&](const Path& p, const Value& x) {
    if (p.empty())
      doc = x;
    else if (doc.is_undefined())
      throw PatchFail{};
    else
      doc = add_at(doc, p, x);
  };
  auto erase = [&](const Path& p) {
    if (doc.is_undefined()) throw PatchFail{};
    doc = p.empty() ? Value() : remove_at(doc, p);
  };
  if (name == "add") {
    insert(path, value);
  } else if (name == "remove") {
    erase(path);
  } else if (name == "replace") {
    erase(path);
    insert(path, value);
  } else if (name == "move") {
    Value chunk = get(from);
    erase(from);
    insert(path, chunk);
  } else if (name == "copy") {
    insert(path, get(from));
  } else if (get(path) != value) {  // test
    throw PatchFail{};
  }
  return doc;
}

Value json_patch(BuiltinContext&, std::span<const Value> a) {
  const Value& ops = arg_array("json.patch", a, 1);
  Value doc = a[0];
  try {
    for (const Value& op : ops.array_items()) doc = apply_op(std::move(doc), op);
  } catch (const PatchFail&) {
    return Value();  // OPA: any patch failure leaves the call undefined
  }
  return doc;
}

// ---------------------------------------------------------------- Go JSON helpers

struct Rune {
  uint32_t cp;
  size_t width;
};

Rune decode_rune(std::string_view s, size_t i) {
  auto b = [&](size_t k) { return static_cast<uint32_t>(static_cast<unsigned char>(s[i + k])); };
  size_t n = s.size() - i;
  auto cont = [&](size_t k) { return k < n && (b(k) & 0xC0) == 0x80; };
  uint32_t c = b(0);
  if (c < 0x80) return {c, 1};
  if (c >= 0xC2 && c <= 0xDF && cont(1)) return {((c & 0x1F) << 6) | (b(1) & 0x3F), 2};
  if (c >= 0xE0 && c <= 0xEF && cont(1) && cont(2)) {
    uint32_t cp = ((c & 0x0F) << 12) | ((b(1) & 0x3F) << 6) | (b(2) & 0x3F);
    if (cp >= 0x800 && (cp < 0xD800 || cp > 0xDFFF)) return {cp, 3};
  }
  if (c >= 0xF0 && c <= 0xF4 && cont(1) && cont(2) && cont(3)) {
    uint32_t cp = ((c & 0x07) << 18) | ((b(1) & 0x3F) << 12) | ((b(2) & 0x3F) << 6) | (b(3) & 0x3F);
    if (cp >= 0x10000 && cp <= 0x10FFFF) return {cp, 4};
  }
  return {0xFFFD, 1};
}

size_t rune_count(std::string_view s) {
  size_t n = 0;
  for (size_t i = 0; i < s.size(); i += decode_rune(s, i).width) ++n;
  return n;
}

std::string sanitize_utf8(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size();) {
    Rune r = decode_rune(s, i);
    if (r.cp == 0xFFFD && r.width == 1 && static_cast<unsigned char>(s[i]) >= 0x80)
      out += "\xEF\xBF\xBD";
    else
      out.append(s.substr(i, r.width));
    i += r.width;
  }
  return out;
}

void append_go_json_string(std::string& out, std::string_view s) {
  static const char* hex = "0123456789abcdef";
  out.push_back('"');
  for (size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      if (c == '"' || c == '\\') {
        out.push_back('\\');
        out.push_back(static_cast<char>(c));
      } else if (c == '\n') {
        out += "\\n";
      } else if (c == '\r') {
        out += "\\r";
      } else if (c == '\t') {
        out += "\\t";
      } else if (c == '\b') {
        out += "\\b";
      } else if (c == '\f') {
        out += "\\f";
      } else if (c < 0x20 || c == '<' || c == '>' || c == '&') {
        out += "\\u00";
        out.push_back(hex[c >> 4]);
        out.push_back(hex[c & 15]);
      } else {
        out.push_back(static_cast<char>(c));
      }
      ++i;
      continue;
    }
    Rune r = decode_rune(s, i);
    if (r.cp == 0xFFFD && r.width == 1)
      out += "\\ufffd";
    else if (r.cp == 0x2028 || r.cp == 0x2029)
      out += r.cp == 0x2028 ? "\\u2028" : "\\u2029";
    else
      out.append(s.substr(i, r.width));
    i += r.width;
  }
  out.push_back('"');
}

// Go's encoding of a float64 in JSON ('f' format, 'e' outside [1e-6, 1e21)).
std::string go_json_float(double f) {
  if (f == 0) return std::signbit(f) ? "-0" : "0";
  if (std::isinf(f)) return "null";  // Go fails to marshal; cannot happen for parsed JSON in practice
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof buf, f, std::chars_format::scientific);
  std::string sci(buf, res.ptr);
  bool neg = sci[0] == '-';
  if (neg) sci.erase(0, 1);
  size_t e = sci.find('e');
  std::string digits = sci.substr(0, e);
  digits.erase(std::remove(digits.begin(), digits.end(), '.'), digits.end());
  int exp = std::stoi(sci.substr(e + 1));
  std::string out = neg ? "-" : "";
  double a = std::fabs(f);
  if (a < 1e-6 || a >= 1e21) {
    out += digits.substr(0, 1);
    if (digits.size() > 1) out += "." + digits.substr(1);
    out += exp < 0 ? "e-" : "e+";
    out += std::to_string(std::abs(exp));  // Go trims "e-07" to "e-7" but keeps "e+21"
    return out;
  }
  if (exp < 0) return out + "0." + std::string(static_cast<size_t>(-exp - 1), '0') + digits;
  if (static_cast<size_t>(exp) + 1 >= digits.size()) {
    return out + digits + std::string(static_cast<size_t>(exp) + 1 - digits.size(), '0');
  }
  return out + digits.substr(0, static_cast<size_t>(exp) + 1) + "." + digits.substr(static_cast<size_t>(exp) + 1);
}

// gojsonschema's marshalWithoutNumber: JSON with numbers as float64, which
// is how enum, const and uniqueItems compare values.
void append_canonical(std::string& out, const Value& v) {
  switch (v.kind()) {
    case Kind::Undefined:
    case Kind::Null: out += "null"; break;
    case Kind::Bool: out += v.as_bool() ? "true" : "false"; break;
    case Kind::Number: out += go_json_float(v.to_double()); break;
    case Kind::String: append_go_json_string(out, v.str()); break;
    case Kind::Array:
    case Kind::Set: {
      out.push_back('[');
      bool first = true;
      for (const Value& x : v.is_array() ? v.array_items() : v.set_items()) {
        if (!first) out.push_back(',');
        first = false;
        append_canonical(out, x);
      }
      out.push_back(']');
      break;
    }
    case Kind::Object: {
      out.push_back('{');
      bool first = true;
      for (const auto& [k, x] : v.object_items()) {  // documents are normalized: keys are strings
        if (!first) out.push_back(',');
        first = false;
        append_go_json_string(out, k.str());
        out.push_back(':');
        append_canonical(out, x);
      }
      out.push_back('}');
      break;
    }
  }
}

std::string canonical(const Value& v) {
  std::string s;
  append_canonical(s, v);
  return s;
}

// What gojsonschema sees of a Rego value: ast.JSON then a JSON round trip
// (sets become arrays, non-string keys their JSON text, invalid UTF-8 U+FFFD).
Value to_json_value(const Value& v) {
  switch (v.kind()) {
    case Kind::String: return Value::string(sanitize_utf8(v.str()));
    case Kind::Array:
    case Kind::Set: {
      ValueVec items;
      for (const Value& x : v.is_array() ? v.array_items() : v.set_items()) items.push_back(to_json_value(x));
      return Value::array(std::move(items));
    }
    case Kind::Object: {
      ObjectItems items;
      for (const auto& [k, x] : v.object_items()) {
        items.emplace_back(Value::string(k.is_string() ? sanitize_utf8(k.str()) : to_json(k)), to_json_value(x));
      }
      return Value::object(std::move(items));
    }
    default: return v;
  }
}

// ---------------------------------------------------------------- JSON Schema: compiled form

constexpr int kDraft4 = 4, kDraft6 = 6, kDraft7 = 7, kHybrid = 1 << 30;

struct SchemaNode {
  int draft = kHybrid;
  std::optional<bool> pass;  // boolean schema
  const SchemaNode* ref = nullptr;
  std::string id;  // resolved base URI for nested $ref
  std::vector<std::string> types;
  std::vector<std::pair<std::string, const SchemaNode*>> properties;
  std::vector<std::tuple<std::string, std::shared_ptr<RE2>, const SchemaNode*>> pattern_properties;
  std::variant<std::monostate, bool, const SchemaNode*> additional_properties, additional_items;
  const SchemaNode* property_names = nullptr;
  std::vector<std::pair<std::string, std::variant<std::vector<std::string>, const SchemaNode*>>> dependencies;
  std::vector<const SchemaNode*> items;
  bool items_single = false;
  std::optional<Decimal> multiple_of, minimum, maximum, exclusive_minimum, exclusive_maximum;
  std::optional<int64_t> min_length, max_length, min_properties, max_properties, min_items, max_items;
  std::shared_ptr<RE2> pattern;
  std::string pattern_source;
  std::string format;
  std::vector<std::string> required;
  bool unique_items = false;
  const SchemaNode* contains = nullptr;
  std::optional<std::string> const_value;
  bool enum_present = false;
  std::vector<std::string> enum_values;
  std::vector<const SchemaNode*> one_of, any_of, all_of;
  const SchemaNode* not_schema = nullptr;
  const SchemaNode *if_schema = nullptr, *then_schema = nullptr, *else_schema = nullptr;
};

struct SchemaError {
  std::string msg;
};

std::string invalid_type(std::string_view expected, std::string_view given) {
  return "Invalid type. Expected: " + std::string(expected) + ", given: " + std::string(given);
}

const std::vector<std::string>& json_types() {
  static const std::vector<std::string> t = {"array", "boolean", "integer", "number", "null", "object", "string"};
  return t;
}

// Splits "uri#fragment".
std::pair<std::string, std::string> split_ref(std::string_view r) {
  size_t h = r.find('#');
  if (h == std::string_view::npos) return {std::string(r), ""};
  return {std::string(r.substr(0, h)), std::string(r.substr(h + 1))};
}

// Resolves a reference against a base URI (enough of RFC 3986 for schemas:
// absolute references, fragments, and relative paths).
std::string resolve_uri(const std::string& base, const std::string& ref) {
  if (ref.find(':') != std::string::npos && ref.find(':') < ref.find('/')) return ref;
  std::string b = split_ref(base).first;
  if (ref.empty()) return b;
  if (ref[0] == '#') return b + ref;
  if (ref[0] == '/') {
    size_t scheme = b.find("://");
    size_t root = scheme == std::string::npos ? std::string::npos : b.find('/', scheme + 3);
    return (root == std::string::npos ? b : b.substr(0, root)) + ref;
  }
  size_t slash = b.rfind('/');
  return (slash == std::string::npos ? "" : b.substr(0, slash + 1)) + ref;
}

std::string percent_decode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && isxdigit(static_cast<unsigned char>(s[i + 1])) &&
        isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      out.push_back(static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16)));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

// Parses a schema document into SchemaNodes the way gojsonschema's
// Schema.parseSchema does, including its error messages.
class SchemaCompiler {
 public:
  const SchemaNode* compile(const Value& doc) {
    root_doc_ = doc;
    if (!doc.is_bool() && !doc.is_object()) throw SchemaError{"schema is invalid"};
    int draft = kHybrid;
    if (doc.is_object()) {
      if (const Value* s = doc.get("$schema")) {
        if (!s->is_string()) throw SchemaError{"$schema must be of type string"};
        std::string url = split_ref(s->str()).first;
        if (url == "http://json-schema.org/draft-04/schema")
          draft = kDraft4;
        else if (url == "http://json-schema.org/draft-06/schema")
          draft = kDraft6;
        else if (url == "http://json-schema.org/draft-07/schema")
          draft = kDraft7;
      }
    }
    root_draft_ = draft;
    collect_ids(doc, "", draft);
    SchemaNode* root = make(draft, "");
    parse(doc, root);
    return root;
  }

 private:
  SchemaNode* make(int draft, std::string id) {
    nodes_.emplace_back();
    nodes_.back().draft = draft;
    nodes_.back().id = std::move(id);
    return &nodes_.back();
  }

  static std::string id_key(int draft, const Value& m) {
    if (draft == kDraft4) return "id";
    if (draft == kHybrid && m.get("id")) return "id";
    return "$id";
  }

  // Registers subschemas that carry an id, so "$ref": "other.json#/x" or
  // "#anchor" can find them without fetching anything.
  void collect_ids(const Value& v, const std::string& base, int draft) {
    if (v.is_object()) {
      std::string b = base;
      if (const Value* id = v.get(id_key(draft, v)); id && id->is_string()) {
        b = resolve_uri(base, id->str());
        auto [doc, frag] = split_ref(b);
        if (frag.empty())
          documents_[doc] = v;
        else
          anchors_[b] = v;
      }
      for (const auto& [k, x] : v.object_items()) {
        if (!(k.is_string() && (k.str() == "enum" || k.str() == "const"))) collect_ids(x, b, draft);
      }
    } else if (v.is_array()) {
      for (const Value& x : v.array_items()) collect_ids(x, base, draft);
    }
  }

  static std::optional<int64_t> must_be_integer(const Value& v) {
    int64_t i;
    if (v.is_number() && v.to_int64(i)) return i;
    return std::nullopt;
  }

  void parse_int_keyword(const Value& m, const char* key, std::optional<int64_t>& out) {
    const Value* v = m.get(key);
    if (!v) return;
    auto i = must_be_integer(*v);
    if (!i) throw SchemaError{std::string(key) + " must be of an integer"};
    if (*i < 0) throw SchemaError{std::string(key) + " must be greater than or equal to 0"};
    out = i;
  }

  const SchemaNode* sub(const Value& v, const SchemaNode* parent) {
    SchemaNode* n = make(parent->draft, parent->id);
    parse(v, n);
    return n;
  }

  // A subschema that must be a schema (object or, from draft 6, boolean);
  // `wrong` is the error for other types.
  const SchemaNode* sub_checked(const Value& v, const SchemaNode* parent, const std::string& wrong) {
    if (!v.is_object() && !v.is_bool()) throw SchemaError{wrong};
    return sub(v, parent);
  }

  std::vector<const SchemaNode*> schema_list(const Value& m, const char* key, const SchemaNode* parent) {
    std::vector<const SchemaNode*> out;
    const Value* v = m.get(key);
    if (!v) return out;
    if (!v->is_array()) throw SchemaError{std::string(key) + " must be of an array"};
    for (const Value& x : v->array_items()) out.push_back(sub(x, parent));
    return out;
  }

  const std::string* get_string(const Value& m, const char* key) {
    const Value* v = m.get(key);
    if (!v) return nullptr;
    if (!v->is_string()) throw SchemaError{invalid_type("string", key)};
    return &v->str();
  }

  std::optional<Decimal> number_keyword(const Value& m, const char* key) {
    const Value* v = m.get(key);
    if (!v) return std::nullopt;
    if (!v->is_number()) throw SchemaError{std::string(key) + " must be of a number"};
    return v->to_decimal();
  }

  // exclusiveMinimum/Maximum: a boolean modifier in draft 4, a number from
  // draft 6; the hybrid default accepts both.
  void exclusive(const Value& m, SchemaNode* s, const char* key, const char* base, std::optional<Decimal>& limit,
                 std::optional<Decimal>& excl) {
    const Value* v = m.get(key);
    if (!v) return;
    bool allow_bool = s->draft == kDraft4 || s->draft == kHybrid;
    bool allow_num = s->draft != kDraft4;
    if (v->is_bool() && allow_bool) {
      if (!limit) throw SchemaError{std::string(key) + " cannot be used without " + base};
      if (v->as_bool()) {
        excl = limit;
        limit.reset();
      }
    } else if (v->is_number() && allow_num) {
      excl = v->to_decimal();
    } else {
      throw SchemaError{invalid_type(s->draft == kDraft4   ? "boolean"
                                     : s->draft == kHybrid ? "boolean/number"
                                                           : "number",
                                     key)};
    }
  }

  void parse(const Value& v, SchemaNode* s) {
    if (s->draft >= kDraft6 && v.is_bool()) {
      s->pass = v.as_bool();
      return;
    }
    if (!v.is_object()) throw SchemaError{"Expected: valid schema, given: Invalid JSON"};
    if (const std::string* id = get_string(v, id_key(s->draft, v).c_str())) s->id = resolve_uri(s->id, *id);
    if (const Value* defs = v.get("definitions")) {
      if (!defs->is_object()) throw SchemaError{invalid_type("array of schemas", "definitions")};
      for (const auto& [k, d] : defs->object_items()) {
        if (!d.is_object() && !d.is_bool()) throw SchemaError{invalid_type("array of schemas", "definitions")};
        sub(d, s);
      }
    }
    get_string(v, "title");
    get_string(v, "description");
    if (const std::string* ref = get_string(v, "$ref")) {
      std::string target = resolve_uri(s->id, *ref);
      auto it = refs_.find(target);
      if (it != refs_.end()) {
        s->ref = it->second;
      } else {
        s->ref = resolve_ref(target, s);
        return;  // gojsonschema stops parsing a schema at a new $ref
      }
    }
    if (const Value* t = v.get("type")) {
      auto add = [&](const std::string& name) {
        const auto& all = json_types();
        if (std::find(all.begin(), all.end(), name) == all.end()) {
          throw SchemaError{"has a primitive type that is NOT VALID -- given: /" + name +
                            "/ Expected valid values are:[array boolean integer number null object string]"};
        }
        if (std::find(s->types.begin(), s->types.end(), name) != s->types.end()) {
          throw SchemaError{name + " type is duplicated"};
        }
        s->types.push_back(name);
      };
      if (t->is_string()) {
        add(t->str());
      } else if (t->is_array()) {
        for (const Value& x : t->array_items()) {
          if (!x.is_string()) throw SchemaError{invalid_type("type", "string/array of strings")};
          add(x.str());
        }
      } else {
        throw SchemaError{invalid_type("type", "string/array of strings")};
      }
    }
    if (const Value* props = v.get("properties")) {
      if (!props->is_object()) throw SchemaError{"properties must be of type object"};
      for (const auto& [k, x] : props->object_items()) s->properties.emplace_back(k.str(), sub(x, s));
    }
    if (const Value* ap = v.get("additionalProperties")) {
      if (ap->is_bool())
        s->additional_properties = ap->as_bool();
      else if (ap->is_object())
        s->additional_properties = sub(*ap, s);
      else
        throw SchemaError{invalid_type("boolean/valid schema", "additionalProperties")};
    }
    if (const Value* pp = v.get("patternProperties")) {
      if (!pp->is_object()) throw SchemaError{invalid_type("valid schema", "patternProperties")};
      for (const auto& [k, x] : pp->object_items()) {
        auto re = std::make_shared<RE2>(k.str(), re2_options());
        if (!re->ok()) throw SchemaError{"Invalid regex pattern '" + k.str() + "'"};
        s->pattern_properties.emplace_back(k.str(), re, sub(x, s));
      }
    }
    if (const Value* pn = v.get("propertyNames"); pn && s->draft >= kDraft6) {
      s->property_names = sub_checked(*pn, s, invalid_type("valid schema", "patternProperties"));
    }
    if (const Value* deps = v.get("dependencies")) {
      if (!deps->is_object()) throw SchemaError{"dependencies must be of type object"};
      for (const auto& [k, x] : deps->object_items()) {
        static const std::string kBadDep = "dependency must be of type schema or array of strings";
        if (x.is_array()) {
          std::vector<std::string> names;
          for (const Value& n : x.array_items()) {
            if (!n.is_string()) throw SchemaError{kBadDep};
            names.push_back(n.str());
          }
          s->dependencies.emplace_back(k.str(), std::move(names));
        } else if (x.is_object() || x.is_bool()) {
          s->dependencies.emplace_back(k.str(), sub(x, s));
        } else {
          throw SchemaError{kBadDep};
        }
      }
    }
    if (const Value* items = v.get("items")) {
      std::string bad = invalid_type("valid schema/array of schemas", "items");
      if (items->is_array()) {
        for (const Value& x : items->array_items()) s->items.push_back(sub_checked(x, s, bad));
      } else if (items->is_object() || items->is_bool()) {
        s->items.push_back(sub(*items, s));
        s->items_single = true;
      } else {
        throw SchemaError{bad};
      }
    }
    if (const Value* ai = v.get("additionalItems")) {
      if (ai->is_bool())
        s->additional_items = ai->as_bool();
      else if (ai->is_object())
        s->additional_items = sub(*ai, s);
      else
        throw SchemaError{invalid_type("boolean/valid schema", "additionalItems")};
    }
    if (const Value* mo = v.get("multipleOf")) {
      if (!mo->is_number()) throw SchemaError{invalid_type("number", "multipleOf")};
      Decimal d = mo->to_decimal();
      if (d.sign() <= 0) throw SchemaError{"multipleOf must be strictly greater than 0"};
      s->multiple_of = d;
    }
    s->minimum = number_keyword(v, "minimum");
    exclusive(v, s, "exclusiveMinimum", "minimum", s->minimum, s->exclusive_minimum);
    s->maximum = number_keyword(v, "maximum");
    exclusive(v, s, "exclusiveMaximum", "maximum", s->maximum, s->exclusive_maximum);
    parse_int_keyword(v, "minLength", s->min_length);
    parse_int_keyword(v, "maxLength", s->max_length);
    if (s->min_length && s->max_length && *s->min_length > *s->max_length) {
      throw SchemaError{"minLength cannot be greater than maxLength"};
    }
    if (const std::string* p = get_string(v, "pattern")) {
      s->pattern = std::make_shared<RE2>(*p, re2_options());
      if (!s->pattern->ok()) throw SchemaError{"pattern must be a valid regex"};
      s->pattern_source = *p;
    }
    if (const std::string* f = get_string(v, "format")) s->format = *f;
    parse_int_keyword(v, "minProperties", s->min_properties);
    parse_int_keyword(v, "maxProperties", s->max_properties);
    if (s->min_properties && s->max_properties && *s->min_properties > *s->max_properties) {
      throw SchemaError{"minProperties cannot be greater than maxProperties"};
    }
    if (const Value* req = v.get("required")) {
      if (!req->is_array()) throw SchemaError{"required must be of an array"};
      for (const Value& x : req->array_items()) {
        if (!x.is_string()) throw SchemaError{invalid_type("string", "required")};
        if (std::find(s->required.begin(), s->required.end(), x.str()) != s->required.end()) {
          throw SchemaError{"required items must be unique"};
        }
        s->required.push_back(x.str());
      }
    }
    parse_int_keyword(v, "minItems", s->min_items);
    parse_int_keyword(v, "maxItems", s->max_items);
    if (const Value* u = v.get("uniqueItems")) {
      if (!u->is_bool()) throw SchemaError{"uniqueItems must be of a boolean"};
      s->unique_items = u->as_bool();
    }
    if (const Value* c = v.get("contains"); c && s->draft >= kDraft6) s->contains = sub(*c, s);
    if (const Value* c = v.get("const"); c && s->draft >= kDraft6) s->const_value = canonical(*c);
    if (const Value* e = v.get("enum")) {
      if (!e->is_array()) throw SchemaError{"enum must be of an array"};
      s->enum_present = true;
      for (const Value& x : e->array_items()) {
        std::string c = canonical(x);
        if (std::find(s->enum_values.begin(), s->enum_values.end(), c) != s->enum_values.end()) {
          throw SchemaError{"enum items must be unique"};
        }
        s->enum_values.push_back(std::move(c));
      }
    }
    s->one_of = schema_list(v, "oneOf", s);
    s->any_of = schema_list(v, "anyOf", s);
    s->all_of = schema_list(v, "allOf", s);
    if (const Value* n = v.get("not")) s->not_schema = sub_checked(*n, s, "not must be of an object");
    if (s->draft >= kDraft7) {
      if (const Value* x = v.get("if")) s->if_schema = sub_checked(*x, s, "if must be of an object");
      if (const Value* x = v.get("then")) s->then_schema = sub_checked(*x, s, "then must be of an object");
      if (const Value* x = v.get("else")) s->else_schema = sub_checked(*x, s, "else must be of an object");
    }
  }

  // Finds the referenced document node and parses it once (a reference pool
  // entry is registered first, so recursive references terminate).
  const SchemaNode* resolve_ref(const std::string& target, const SchemaNode* from) {
    auto [doc_uri, fragment] = split_ref(target);
    const Value* node = nullptr;
    if (auto it = anchors_.find(target); it != anchors_.end()) {
      node = &it->second;
    } else {
      const Value* doc = nullptr;
      std::string root_uri = split_ref(nodes_.front().id).first;
      if (doc_uri.empty() || doc_uri == root_uri)
        doc = &root_doc_;
      else if (auto d = documents_.find(doc_uri); d != documents_.end())
        doc = &d->second;
      if (!doc) throw SchemaError{"unable to load remote reference " + target};
      node = pointer(*doc, percent_decode(fragment));
    }
    SchemaNode* n = make(node == &root_doc_ ? root_draft_ : from->draft, doc_uri.empty() ? from->id : doc_uri);
    refs_[target] = n;
    if (!node->is_object() && !node->is_bool()) throw SchemaError{"valid schema must be of type object"};
    parse(*node, n);
    return n;
  }

  // RFC 6901 JSON pointer lookup (gojsonpointer's error texts).
  static const Value* pointer(const Value& doc, const std::string& ptr) {
    const Value* cur = &doc;
    if (ptr.empty()) return cur;
    if (ptr[0] != '/') throw SchemaError{"JSON pointer must be empty or start with a \"/\""};
    size_t pos = 1;
    for (;;) {
      size_t slash = ptr.find('/', pos);
      std::string tok = ptr.substr(pos, slash == std::string::npos ? std::string::npos : slash - pos);
      for (size_t i; (i = tok.find("~1")) != std::string::npos;) tok.replace(i, 2, "/");
      for (size_t i; (i = tok.find("~0")) != std::string::npos;) tok.replace(i, 2, "~");
      if (cur->is_object()) {
        cur = cur->get(tok);
        if (!cur) throw SchemaError{"Object has no key '" + tok + "'"};
      } else if (cur->is_array()) {
        size_t idx = 0;
        bool ok = !tok.empty() && tok.size() < 10 && tok.find_first_not_of("0123456789") == std::string::npos;
        if (ok) idx = std::stoul(tok);
        if (!ok || idx >= cur->size()) throw SchemaError{"Invalid array index '" + tok + "'"};
        cur = &cur->array_items()[idx];
      } else {
        throw SchemaError{"Invalid token reference '" + tok + "'"};
      }
      if (slash == std::string::npos) return cur;
      pos = slash + 1;
    }
  }

  static const RE2::Options& re2_options() {
    static const RE2::Options o = [] {
      RE2::Options opts;
      opts.set_log_errors(false);
      return opts;
    }();
    return o;
  }

  Value root_doc_;
  int root_draft_ = kHybrid;
  std::deque<SchemaNode> nodes_;  // stable addresses
  std::map<std::string, const SchemaNode*> refs_;
  std::map<std::string, Value> documents_, anchors_;
};

// ---------------------------------------------------------------- JSON Schema: formats

bool matches(const char* pattern, std::string_view s) {
  // Patterns are fixed; compile each once.
  static std::mutex mu;
  static std::map<const char*, std::unique_ptr<RE2>> cache;
  RE2* re;
  {
    std::lock_guard lock(mu);
    auto& slot = cache[pattern];
    if (!slot) slot = std::make_unique<RE2>(pattern);
    re = slot.get();
  }
  return RE2::PartialMatch(re2::StringPiece(s.data(), s.size()), *re);
}

// Go's time.Parse for the RFC 3339 layouts gojsonschema accepts.
bool parse_rfc3339(std::string_view s, bool date, bool time, bool zone_required, bool zone_allowed) {
  size_t i = 0;
  auto num = [&](size_t n, int& v) {
    v = 0;
    for (size_t k = 0; k < n; ++k, ++i) {
      if (i >= s.size() || !isdigit(static_cast<unsigned char>(s[i]))) return false;
      v = v * 10 + (s[i] - '0');
    }
    return true;
  };
  auto lit = [&](char c) { return i < s.size() && s[i++] == c; };
  if (date) {
    int y, m, d;
    if (!num(4, y) || !lit('-') || !num(2, m) || !lit('-') || !num(2, d)) return false;
    static const int kDays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m < 1 || m > 12 || d < 1 || d > kDays[m - 1]) return false;
    if (m == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0)) return false;
    if (time && !lit('T')) return false;
  }
  if (time) {
    int h, mi, se;
    if (!num(2, h) || !lit(':') || !num(2, mi) || !lit(':') || !num(2, se)) return false;
    if (h > 23 || mi > 59 || se > 59) return false;
    if (i < s.size() && s[i] == '.' && i + 1 < s.size() && isdigit(static_cast<unsigned char>(s[i + 1]))) {
      ++i;
      while (i < s.size() && isdigit(static_cast<unsigned char>(s[i]))) ++i;
    }
    if (i < s.size() && zone_allowed) {
      if (s[i] == 'Z') {
        ++i;
      } else if (s[i] == '+' || s[i] == '-') {
        ++i;
        int zh, zm;
        if (!num(2, zh) || !lit(':') || !num(2, zm) || zh > 23 || zm > 59) return false;
      } else {
        return false;
      }
    } else if (zone_required) {
      return false;
    }
  }
  return i == s.size();
}

bool is_email(std::string_view s) {
  // net/mail.ParseAddress, simplified: "Name <addr>" or a bare addr-spec.
  size_t lt = s.rfind('<');
  if (lt != std::string_view::npos) {
    if (s.back() != '>') return false;
    s = s.substr(lt + 1, s.size() - lt - 2);
  }
  return matches(
      "^(?:[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*|\"(?:[^\"\\\\]|\\\\.)*\")@"
      "(?:[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*|\\[[^\\[\\]\\\\]*\\])$",
      s);
}

bool is_ip(std::string_view s, int family) {
  std::string z(s);
  unsigned char buf[16];
  if (family == AF_INET) {
    // Go rejects leading zeros in IPv4 octets.
    if (matches("(^|\\.)0[0-9]", z)) return false;
    return inet_pton(AF_INET, z.c_str(), buf) == 1;
  }
  if (z.find('%') != std::string::npos) return false;
  return inet_pton(AF_INET6, z.c_str(), buf) == 1;
}

bool is_format(const std::string& format, const Value& v) {
  if (!v.is_string()) return true;
  std::string_view s = v.str();
  if (format == "date") return parse_rfc3339(s, true, false, false, false);
  if (format == "time") return parse_rfc3339(s, false, true, false, true);
  if (format == "date-time") {
    return parse_rfc3339(s, false, true, false, true) || parse_rfc3339(s, true, false, false, false) ||
           parse_rfc3339(s, true, true, true, true);
  }
  if (format == "hostname") {
    return s.size() < 256 && matches(
                                 "^([a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9\\-]{0,61}[a-zA-Z0-9])(\\.([a-zA-Z0-9]|"
                                 "[a-zA-Z0-9][a-zA-Z0-9\\-]{0,61}[a-zA-Z0-9]))*$",
                                 s);
  }
  if (format == "email" || format == "idn-email") return is_email(s);
  if (format == "ipv4") return s.find('.') != std::string_view::npos && (is_ip(s, AF_INET) || is_ip(s, AF_INET6));
  if (format == "ipv6") return s.find(':') != std::string_view::npos && is_ip(s, AF_INET6);
  bool has_backslash = s.find('\\') != std::string_view::npos;
  bool uri_chars = !matches("[\\x00-\\x1f\\x7f]", s) && !matches("%(?:[^0-9A-Fa-f]|.[^0-9A-Fa-f]|.?$)", s);
  if (format == "uri" || format == "iri") return uri_chars && !has_backslash && matches("^[A-Za-z][A-Za-z0-9+.-]*:", s);
  if (format == "uri-reference" || format == "iri-reference") return uri_chars && !has_backslash;
  if (format == "uri-template") return uri_chars && !has_backslash && matches("^([^{]*({[^}]*})?)*$", s);
  if (format == "uuid") return matches("^(?i)[a-f0-9]{8}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{12}$", s);
  if (format == "regex") {
    if (s.empty()) return true;
    RE2::Options o;
    o.set_log_errors(false);
    return RE2(re2::StringPiece(s.data(), s.size()), o).ok();
  }
  if (format == "json-pointer") return matches("^(?:/(?:[^~/]|~0|~1)*)*$", s);
  if (format == "relative-json-pointer") return matches("^(?:0|[1-9][0-9]*)(?:#|(?:/(?:[^~/]|~0|~1)*)*)$", s);
  return true;  // unknown formats always pass
}

// ---------------------------------------------------------------- JSON Schema: validation

// big.Float's %v of a schema bound: shortest digits, %e outside [1e-4, 1e6).
std::string format_decimal(Decimal d) {
  if (d.sign() == 0) return "0";
  d.normalize();  // shortest digits
  mpz_class a = abs(d.coef);
  std::string digits = a.get_str();
  int64_t exp10 = static_cast<int64_t>(digits.size()) + d.exp - 1;
  std::string out = d.sign() < 0 ? "-" : "";
  if (exp10 < -4 || exp10 >= 6) {
    out += digits.substr(0, 1);
    if (digits.size() > 1) out += "." + digits.substr(1);
    std::string e = std::to_string(exp10 < 0 ? -exp10 : exp10);
    return out + (exp10 < 0 ? "e-" : "e+") + (e.size() < 2 ? "0" : "") + e;
  }
  if (exp10 < 0) return out + "0." + std::string(static_cast<size_t>(-exp10 - 1), '0') + digits;
  size_t int_digits = static_cast<size_t>(exp10) + 1;
  if (int_digits >= digits.size()) return out + digits + std::string(int_digits - digits.size(), '0');
  return out + digits.substr(0, int_digits) + "." + digits.substr(int_digits);
}

// value / divisor is an integer (exactly, as with big.Rat).
bool is_multiple(const Decimal& v, const Decimal& m) {
  if (v.sign() == 0) return true;
  int64_t e = v.exp - m.exp;
  mpz_class cv = v.coef, cm = m.coef;
  if (e >= 0) {
    if (e > 10000) {  // 10^e has enough 2s and 5s; only the rest of m matters
      while (cm % 2 == 0) cm /= 2;
      while (cm % 5 == 0) cm /= 5;
      return cv % cm == 0;
    }
    mpz_class p;
    mpz_ui_pow_ui(p.get_mpz_t(), 10, static_cast<unsigned long>(e));
    return (cv * p) % cm == 0;
  }
  if (-e > 10000) return false;
  mpz_class p;
  mpz_ui_pow_ui(p.get_mpz_t(), 10, static_cast<unsigned long>(-e));
  return cv % (cm * p) == 0;
}

struct ResultError {
  std::string type, context, desc;
};

struct Result {
  std::vector<ResultError> errors;
  int score = 0;
  bool valid() const { return errors.empty(); }
  void merge(Result&& o) {
    for (auto& e : o.errors) errors.push_back(std::move(e));
    score += o.score;
  }
};

std::string field_of(const std::string& context) {
  static const std::string kRoot = "(root).";
  return context.rfind(kRoot, 0) == 0 ? context.substr(kRoot.size()) : context;
}

class Validator {
 public:
  // Recursion is bounded twice: overall (the stack), and per document value,
  // where only $ref and combinators can nest ({"$ref": "#"} would never end).
  void validate(const SchemaNode* s, const Value& v, Result& r, const std::string& ctx) {
    if (++depth_ > 2000 || ++same_value_ > 100) throw SchemaError{"maximum schema recursion depth exceeded"};
    recursive(s, v, r, ctx);
    --depth_;
    --same_value_;
  }

 private:
  // Validation of a member or element: a new document value.
  void validate_child(const SchemaNode* s, const Value& v, Result& r, const std::string& ctx) {
    int saved = same_value_;
    same_value_ = 0;
    validate(s, v, r, ctx);
    same_value_ = saved;
  }
  Result sub_child(const SchemaNode* s, const Value& v, const std::string& ctx) {
    Result r;
    validate_child(s, v, r, ctx);
    return r;
  }

  static void add(Result& r, const char* type, const std::string& ctx, std::string desc) {
    r.errors.push_back({type, ctx, std::move(desc)});
    r.score -= 2;
  }

  Result sub(const SchemaNode* s, const Value& v, const std::string& ctx) {
    Result r;
    validate(s, v, r, ctx);
    return r;
  }

  static std::string types_string(const SchemaNode* s) {
    if (s->types.size() == 1) return s->types[0];
    std::string out = "[";
    for (size_t i = 0; i < s->types.size(); ++i) out += (i ? "," : "") + s->types[i];
    return out + "]";
  }

  bool typed(const SchemaNode* s) const { return !s->types.empty(); }
  static bool has_type(const SchemaNode* s, const char* t) {
    return std::find(s->types.begin(), s->types.end(), t) != s->types.end();
  }

  void recursive(const SchemaNode* s, const Value& v, Result& r, const std::string& ctx) {
    if (s->pass) {
      if (!*s->pass) add(r, "false", ctx, "False always fails validation");
      return;
    }
    if (s->ref) {
      validate(s->ref, v, r, ctx);
      return;
    }
    auto type_error = [&](const char* given) {
      add(r, "invalid_type", ctx, "Invalid type. Expected: " + types_string(s) + ", given: " + given);
    };
    switch (v.kind()) {
      case Kind::Null:
        if (typed(s) && !has_type(s, "null")) return type_error("null");
        schema(s, v, r, ctx);
        common(s, v, r, ctx);
        break;
      case Kind::Number: {
        bool is_int = v.is_integer();
        if (typed(s) && !(has_type(s, "number") || (is_int && has_type(s, "integer")))) {
          return type_error(is_int ? "integer" : "number");
        }
        schema(s, v, r, ctx);
        number(s, v, r, ctx);
        common(s, v, r, ctx);
        break;
      }
      case Kind::Array:
        if (typed(s) && !has_type(s, "array")) return type_error("array");
        schema(s, v, r, ctx);
        array(s, v, r, ctx);
        common(s, v, r, ctx);
        break;
      case Kind::Object:
        if (typed(s) && !has_type(s, "object")) return type_error("object");
        schema(s, v, r, ctx);
        object(s, v, r, ctx);
        common(s, v, r, ctx);
        for (const auto& [name, ps] : s->properties) {
          if (const Value* x = v.get(name)) validate_child(ps, *x, r, ctx + "." + name);
        }
        break;
      case Kind::Bool:
        if (typed(s) && !has_type(s, "boolean")) return type_error("boolean");
        schema(s, v, r, ctx);
        common(s, v, r, ctx);
        break;
      case Kind::String:
        if (typed(s) && !has_type(s, "string")) return type_error("string");
        schema(s, v, r, ctx);
        common(s, v, r, ctx);
        string(s, v, r, ctx);
        break;
      default: break;
    }
    ++r.score;
  }

  void schema(const SchemaNode* s, const Value& v, Result& r, const std::string& ctx) {
    if (!s->any_of.empty()) {
      bool ok = false;
      std::optional<Result> best;
      for (const SchemaNode* x : s->any_of) {
        Result sr = sub(x, v, ctx);
        if (sr.valid()) {
          ok = true;
          break;
        }
        if (!best || sr.score > best->score) best = std::move(sr);
      }
      if (!ok) {
        add(r, "number_any_of", ctx, "Must validate at least one schema (anyOf)");
        if (best) r.merge(std::move(*best));
      }
    }
    if (!s->one_of.empty()) {
      int n = 0;
      std::optional<Result> best;
      for (const SchemaNode* x : s->one_of) {
        Result sr = sub(x, v, ctx);
        if (sr.valid())
          ++n;
        else if (n == 0 && (!best || sr.score > best->score))
          best = std::move(sr);
      }
      if (n != 1) {
        add(r, "number_one_of", ctx, "Must validate one and only one schema (oneOf)");
        if (n == 0 && best) r.merge(std::move(*best));
      }
    }
    if (!s->all_of.empty()) {
      size_t n = 0;
      for (const SchemaNode* x : s->all_of) {
        Result sr = sub(x, v, ctx);
        if (sr.valid()) ++n;
        r.merge(std::move(sr));
      }
      if (n != s->all_of.size()) add(r, "number_all_of", ctx, "Must validate all the schemas (allOf)");
    }
    if (s->not_schema && sub(s->not_schema, v, ctx).valid()) {
      add(r, "number_not", ctx, "Must not validate the schema (not)");
    }
    if (!s->dependencies.empty() && v.is_object()) {
      for (const auto& [k, x] : v.object_items()) {
        for (const auto& [name, dep] : s->dependencies) {
          if (name != k.str()) continue;
          if (const auto* names = std::get_if<std::vector<std::string>>(&dep)) {
            for (const std::string& n : *names) {
              if (!v.get(n)) add(r, "missing_dependency", ctx, "Has a dependency on " + n);
            }
          } else {
            validate(std::get<const SchemaNode*>(dep), v, r, ctx);
          }
        }
      }
    }
    if (s->if_schema) {
      bool if_ok = sub(s->if_schema, v, ctx).valid();
      if (s->then_schema && if_ok) {
        Result t = sub(s->then_schema, v, ctx);
        if (!t.valid()) {
          add(r, "condition_then", ctx, "Must validate \"then\" as \"if\" was valid");
          r.merge(std::move(t));
        }
      }
      if (s->else_schema && !if_ok) {
        Result e = sub(s->else_schema, v, ctx);
        if (!e.valid()) {
          add(r, "condition_else", ctx, "Must validate \"else\" as \"if\" was not valid");
          r.merge(std::move(e));
        }
      }
    }
    ++r.score;
  }

  void common(const SchemaNode* s, const Value& v, Result& r, const std::string& ctx) {
    if (s->const_value && canonical(v) != *s->const_value) {
      add(r, "const", ctx, field_of(ctx) + " does not match: " + *s->const_value);
    }
    if (s->enum_present) {
      std::string c = canonical(v);
      if (std::find(s->enum_values.begin(), s->enum_values.end(), c) == s->enum_values.end()) {
        std::string allowed;
        for (size_t i = 0; i < s->enum_values.size(); ++i) allowed += (i ? ", " : "") + s->enum_values[i];
        if (s->enum_values.empty()) allowed = "(none)";
        add(r, "enum", ctx, field_of(ctx) + " must be one of the following: " + allowed);
      }
    }
    if (!s->format.empty() && !is_format(s->format, v)) {
      add(r, "format", ctx, "Does not match format '" + s->format + "'");
    }
    ++r.score;
  }

  void array(const SchemaNode* s, const Value& v, Result& r, const std::string& ctx) {
    const ValueVec& items = v.array_items();
    auto at = [&](size_t i) { return ctx + "." + std::to_string(i); };
    if (s->items_single) {
      for (size_t i = 0; i < items.size(); ++i) r.merge(sub_child(s->items[0], items[i], at(i)));
    } else if (!s->items.empty()) {
      for (size_t i = 0; i < s->items.size() && i < items.size(); ++i) r.merge(sub_child(s->items[i], items[i], at(i)));
      if (s->items.size() < items.size()) {
        if (const bool* b = std::get_if<bool>(&s->additional_items)) {
          if (!*b) add(r, "array_no_additional_items", ctx, "No additional items allowed on array");
        } else if (const auto* as = std::get_if<const SchemaNode*>(&s->additional_items)) {
          for (size_t i = s->items.size(); i < items.size(); ++i) r.merge(sub_child(*as, items[i], at(i)));
        }
      }
    }
    auto n = static_cast<int64_t>(items.size());
    if (s->min_items && n < *s->min_items) {
      add(r, "array_min_items", ctx, "Array must have at least " + std::to_string(*s->min_items) + " items");
    }
    if (s->max_items && n > *s->max_items) {
      add(r, "array_max_items", ctx, "Array must have at most " + std::to_string(*s->max_items) + " items");
    }
    if (s->unique_items) {
      std::map<std::string, size_t> seen;
      for (size_t j = 0; j < items.size(); ++j) {
        std::string c = canonical(items[j]);
        if (auto it = seen.find(c); it != seen.end()) {
          add(r, "unique", ctx,
              "array items[" + std::to_string(it->second) + "," + std::to_string(j) + "] must be unique");
        }
        seen[c] = j;
      }
    }
    if (s->contains) {
      bool found = false;
      std::optional<Result> best;
      for (size_t i = 0; i < items.size(); ++i) {
        Result sr = sub_child(s->contains, items[i], at(i));
        if (sr.valid()) {
          found = true;
          break;
        }
        if (!best || sr.score > best->score) best = std::move(sr);
      }
      if (!found) {
        add(r, "contains", ctx, "At least one of the items must match");
        if (best) r.merge(std::move(*best));
      }
    }
    ++r.score;
  }

  void object(const SchemaNode* s, const Value& v, Result& r, const std::string& ctx) {
    auto n = static_cast<int64_t>(v.size());
    if (s->min_properties && n < *s->min_properties) {
      add(r, "array_min_properties", ctx, "Must have at least " + std::to_string(*s->min_properties) + " properties");
    }
    if (s->max_properties && n > *s->max_properties) {
      add(r, "array_max_properties", ctx, "Must have at most " + std::to_string(*s->max_properties) + " properties");
    }
    for (const std::string& req : s->required) {
      if (v.get(req))
        ++r.score;
      else
        add(r, "required", ctx, req + " is required");
    }
    for (const auto& [k, x] : v.object_items()) {
      const std::string& key = k.str();
      bool found =
          std::any_of(s->properties.begin(), s->properties.end(), [&](const auto& p) { return p.first == key; });
      bool pattern_match = false;
      for (const auto& [src, re, ps] : s->pattern_properties) {
        if (RE2::PartialMatch(key, *re)) {
          pattern_match = true;
          r.merge(sub_child(ps, x, ctx + "." + key));
        }
      }
      if (pattern_match) ++r.score;
      if (found || pattern_match) continue;
      if (const bool* b = std::get_if<bool>(&s->additional_properties)) {
        if (!*b) add(r, "additional_property_not_allowed", ctx, "Additional property " + key + " is not allowed");
      } else if (const auto* as = std::get_if<const SchemaNode*>(&s->additional_properties)) {
        r.merge(sub_child(*as, x, ctx + "." + key));
      }
    }
    if (s->property_names) {
      for (const auto& [k, x] : v.object_items()) {
        Result sr = sub_child(s->property_names, k, ctx);
        if (!sr.valid()) {
          add(r, "invalid_property_name", ctx, "Property name of \"" + k.str() + "\" does not match");
          r.merge(std::move(sr));
        }
      }
    }
    ++r.score;
  }

  void string(const SchemaNode* s, const Value& v, Result& r, const std::string& ctx) {
    const std::string& str = v.str();
    if (s->min_length || s->max_length) {
      auto n = static_cast<int64_t>(rune_count(str));
      if (s->min_length && n < *s->min_length) {
        add(r, "string_gte", ctx, "String length must be greater than or equal to " + std::to_string(*s->min_length));
      }
      if (s->max_length && n > *s->max_length) {
        add(r, "string_lte", ctx, "String length must be less than or equal to " + std::to_string(*s->max_length));
      }
    }
    if (s->pattern && !RE2::PartialMatch(str, *s->pattern)) {
      add(r, "pattern", ctx, "Does not match pattern '" + s->pattern_source + "'");
    }
    ++r.score;
  }

  void number(const SchemaNode* s, const Value& v, Result& r, const std::string& ctx) {
    Decimal d = v.to_decimal();
    if (s->multiple_of && !is_multiple(d, *s->multiple_of)) {
      add(r, "multiple_of", ctx, "Must be a multiple of " + format_decimal(*s->multiple_of));
    }
    if (s->maximum && compare_decimal(d, *s->maximum) > 0) {
      add(r, "number_lte", ctx, "Must be less than or equal to " + format_decimal(*s->maximum));
    }
    if (s->exclusive_maximum && compare_decimal(d, *s->exclusive_maximum) >= 0) {
      add(r, "number_lt", ctx, "Must be less than " + format_decimal(*s->exclusive_maximum));
    }
    if (s->minimum && compare_decimal(d, *s->minimum) < 0) {
      add(r, "number_gte", ctx, "Must be greater than or equal to " + format_decimal(*s->minimum));
    }
    if (s->exclusive_minimum && compare_decimal(d, *s->exclusive_minimum) <= 0) {
      add(r, "number_gt", ctx, "Must be greater than " + format_decimal(*s->exclusive_minimum));
    }
    ++r.score;
  }

  int depth_ = 0, same_value_ = 0;
};

// A document or schema operand: a JSON string, an object or an array.
Value schema_operand(const Value& v, std::string& err) {
  if (v.is_string()) {
    Value out;
    std::string perr;
    if (!parse_json(v.str(), out, perr)) {
      err = "invalid JSON string";
      return Value();
    }
    return to_json_value(out);
  }
  if (v.is_object() || v.is_array()) return to_json_value(v);
  err = "wrong type, expected string or object";
  return Value();
}

Value json_verify_schema(BuiltinContext&, std::span<const Value> a) {
  std::string err;
  Value schema = schema_operand(a[0], err);
  if (err.empty()) {
    try {
      SchemaCompiler().compile(schema);
    } catch (const SchemaError& e) {
      err = e.msg;
    }
  }
  if (!err.empty()) return Value::array({Value::false_value(), Value::string("jsonschema: " + err)});
  return Value::array({Value::true_value(), Value::null()});
}

Value json_match_schema(BuiltinContext&, std::span<const Value> a) {
  static constexpr std::string_view kName = "json.match_schema";
  std::string err;
  Value doc = schema_operand(a[0], err);
  if (!err.empty()) builtin_error(kName, err);
  Value schema = schema_operand(a[1], err);
  if (!err.empty()) builtin_error(kName, err);
  Result result;
  try {
    SchemaCompiler compiler;
    const SchemaNode* root = compiler.compile(schema);
    Validator().validate(root, doc, result, "(root)");
  } catch (const SchemaError& e) {
    builtin_error(kName, e.msg);
  }
  ValueVec errors;
  for (const ResultError& e : result.errors) {
    std::string field = field_of(e.context);
    errors.push_back(Value::object({{Value::string("error"), Value::string(field + ": " + e.desc)},
                                    {Value::string("type"), Value::string(e.type)},
                                    {Value::string("field"), Value::string(field)},
                                    {Value::string("desc"), Value::string(e.desc)}}));
  }
  return Value::array({Value::boolean(result.valid()), Value::array(std::move(errors))});
}

}  // namespace

void register_json_ops(BuiltinRegistry& r) {
  r.add("json.filter", 2, json_filter);
  r.add("json.remove", 2, json_remove);
  r.add("json.patch", 2, json_patch);
  r.add("json.verify_schema", 1, json_verify_schema);
  r.add("json.match_schema", 2, json_match_schema);
}

}  // namespace confidant::rego
