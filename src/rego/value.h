// Rego values: immutable, reference-counted, with OPA's total order.
//
// A Value is 16 bytes: a kind tag plus either an inline scalar (bool, int64)
// or a pointer to an immutable heap node shared by every copy. Objects and
// sets keep their members sorted in OPA's order, so equality, comparison,
// lookup and canonical JSON output need no extra work.
//
// Numbers are exact: an int64 inline when the value is an integer that fits,
// otherwise a decimal coef * 10^exp with an arbitrary-precision coefficient
// (see number.h). Every number has one canonical representation, so two
// numbers are equal exactly when they denote the same value (3.5 == 3.50).
#pragma once

#include <atomic>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace confidant::rego {

// Declaration order is OPA's sort order between kinds.
enum class Kind : uint8_t { Undefined, Null, Bool, Number, String, Array, Object, Set };

const char* kind_name(Kind k);  // "null", "boolean", "number", "string", "array", "object", "set"

class Value;
using ValueVec = std::vector<Value>;
using ObjectItems = std::vector<std::pair<Value, Value>>;

namespace detail {
struct Node {
  mutable std::atomic<uint32_t> refs{1};
  virtual ~Node() = default;
};
}  // namespace detail

struct Decimal;  // number.h

class Value {
 public:
  Value() noexcept : kind_(Kind::Undefined), big_(false) { u_.i = 0; }
  Value(const Value& o) noexcept : kind_(o.kind_), big_(o.big_), u_(o.u_) { retain(); }
  Value(Value&& o) noexcept : kind_(o.kind_), big_(o.big_), u_(o.u_) {
    o.kind_ = Kind::Undefined;
    o.big_ = false;
  }
  Value& operator=(const Value& o) noexcept {
    if (this != &o) {
      o.retain();
      release();
      kind_ = o.kind_;
      big_ = o.big_;
      u_ = o.u_;
    }
    return *this;
  }
  Value& operator=(Value&& o) noexcept {
    if (this != &o) {
      release();
      kind_ = o.kind_;
      big_ = o.big_;
      u_ = o.u_;
      o.kind_ = Kind::Undefined;
      o.big_ = false;
    }
    return *this;
  }
  ~Value() { release(); }

  // --- construction ---------------------------------------------------
  static Value undefined() { return Value(); }
  static Value null();
  static Value boolean(bool b);
  static Value integer(int64_t i);
  static Value number(const Decimal& d);  // canonicalises (int64 when it fits)
  static Value real(double d);            // shortest decimal that round-trips; NaN/Inf -> undefined
  // Parses a JSON/Rego number literal exactly ("1e400", "0.10"); undefined if malformed.
  static Value number_from_text(std::string_view text);
  static Value string(std::string_view s);
  static Value string(std::string&& s);
  static Value string(const char* s) { return string(std::string_view(s)); }
  static Value array(ValueVec items);
  static Value array(std::initializer_list<Value> items) { return array(ValueVec(items)); }
  // Sorts and removes duplicates.
  static Value set(ValueVec items);
  // Sorts by key. With duplicate keys the last one wins.
  static Value object(ObjectItems items);
  // Trusted: items already sorted and unique (e.g. produced from another set/object).
  static Value set_sorted(ValueVec items);
  static Value object_sorted(ObjectItems items);
  static const Value& empty_object();
  static const Value& empty_set();
  static const Value& empty_array();
  static const Value& true_value();
  static const Value& false_value();

  // --- inspection -----------------------------------------------------
  Kind kind() const { return kind_; }
  bool is_undefined() const { return kind_ == Kind::Undefined; }
  bool is_defined() const { return kind_ != Kind::Undefined; }
  bool is_null() const { return kind_ == Kind::Null; }
  bool is_bool() const { return kind_ == Kind::Bool; }
  bool is_number() const { return kind_ == Kind::Number; }
  bool is_string() const { return kind_ == Kind::String; }
  bool is_array() const { return kind_ == Kind::Array; }
  bool is_object() const { return kind_ == Kind::Object; }
  bool is_set() const { return kind_ == Kind::Set; }
  bool is_collection() const { return kind_ >= Kind::Array; }
  bool is_true() const { return kind_ == Kind::Bool && u_.b; }
  bool is_false() const { return kind_ == Kind::Bool && !u_.b; }

  bool as_bool() const { return u_.b; }
  // Numbers.
  bool is_small_int() const { return kind_ == Kind::Number && !big_; }
  int64_t small_int() const { return u_.i; }  // only when is_small_int()
  bool is_integer() const;                     // any integral number, however big
  bool to_int64(int64_t& out) const;           // false if not an integer or out of range
  double to_double() const;                    // nearest double (may be +-inf for huge)
  Decimal to_decimal() const;                  // exact
  std::string number_text() const;             // OPA's rendering: "1", "2.5", "1e+400"
  // Strings.
  const std::string& str() const;
  // Collections (members in OPA order for sets and objects).
  const ValueVec& array_items() const;
  const ValueVec& set_items() const;
  const ObjectItems& object_items() const;
  size_t size() const;  // collections and strings (bytes); 0 otherwise
  // Object lookup; nullptr when absent or not an object.
  const Value* get(const Value& key) const;
  const Value* get(std::string_view key) const;
  // Set membership.
  bool has(const Value& member) const;

  size_t hash() const;

  // Identity of the heap node (fast-path equality for shared values).
  const void* node() const { return kind_ >= Kind::String || big_ ? u_.p : nullptr; }

 private:
  friend struct ValueAccess;
  void retain() const noexcept {
    if (has_node()) u_.p->refs.fetch_add(1, std::memory_order_relaxed);
  }
  void release() noexcept {
    if (has_node() && u_.p->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) delete u_.p;
  }
  bool has_node() const noexcept { return kind_ >= Kind::String || big_; }

  Kind kind_;
  bool big_;  // Number held as a heap Decimal
  union U {
    bool b;
    int64_t i;
    detail::Node* p;
  } u_;
};

// OPA's total order: kinds first (null < boolean < number < string < array <
// object < set), then numerically, byte-wise, or element-wise.
int compare(const Value& a, const Value& b);
inline bool operator==(const Value& a, const Value& b) { return compare(a, b) == 0; }
inline bool operator!=(const Value& a, const Value& b) { return compare(a, b) != 0; }
inline bool operator<(const Value& a, const Value& b) { return compare(a, b) < 0; }

struct ValueHash {
  size_t operator()(const Value& v) const { return v.hash(); }
};

// --- text forms --------------------------------------------------------
// Canonical JSON: object keys sorted, sets as sorted arrays, non-string object
// keys rendered as their JSON text. `pretty` indents with two spaces (opa
// eval's pretty output).
std::string to_json(const Value& v, bool pretty = false);
void append_json(std::string& out, const Value& v);
// Rego term syntax as OPA prints it (print, sprintf %v, error messages):
// strings quoted, `{"a": 1}`, `{1, 2}`, `set()` for the empty set.
std::string to_rego(const Value& v);
void append_rego(std::string& out, const Value& v);

// JSON parsing. Numbers are exact. Returns false with a message (byte offset
// included) on malformed input, duplicate handling follows Go: last key wins.
// `max_depth` bounds nesting so hostile input cannot exhaust the stack.
bool parse_json(std::string_view text, Value& out, std::string& error, int max_depth = 1000);

// Escapes a string as a JSON string literal (with quotes).
void append_json_string(std::string& out, std::string_view s);

}  // namespace confidant::rego
