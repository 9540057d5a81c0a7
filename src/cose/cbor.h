// Strict CBOR (RFC 8949) for COSE: a value type, a bounded decoder that
// reports the byte offset of what it rejects, and a deterministic encoder.
//
// Everything decoded here is attacker-controlled. The decoder enforces limits
// on input size, nesting depth and item count, rejects trailing bytes,
// duplicate map keys, invalid UTF-8 in text strings and (by default)
// indefinite lengths and non-shortest integer/length encodings, which COSE
// needs for the bytes it signs to be unambiguous.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace confidant::cose {

enum class CborType : uint8_t { kUnsigned, kNegative, kBytes, kText, kArray, kMap, kTag, kSimple, kFloat };

class CborValue;
using CborArray = std::vector<CborValue>;
using CborMap = std::vector<std::pair<CborValue, CborValue>>;  // in encoding order

class CborValue {
 public:
  CborValue() : CborValue(CborType::kSimple) { u_ = kNull; }

  static constexpr uint64_t kFalse = 20, kTrue = 21, kNull = 22, kUndefined = 23;

  static CborValue integer(int64_t v);
  static CborValue uinteger(uint64_t v);
  static CborValue negative(uint64_t arg);  // the integer -1 - arg
  static CborValue bytes(std::string_view b);
  static CborValue text(std::string_view s);
  static CborValue array(CborArray items);
  static CborValue map(CborMap entries);
  static CborValue tag(uint64_t number, CborValue content);
  static CborValue simple(uint64_t v);
  static CborValue boolean(bool b) { return simple(b ? kTrue : kFalse); }
  static CborValue null() { return simple(kNull); }
  static CborValue floating(double d);

  CborType type() const { return type_; }
  bool is_int() const { return type_ == CborType::kUnsigned || type_ == CborType::kNegative; }
  bool is_bytes() const { return type_ == CborType::kBytes; }
  bool is_text() const { return type_ == CborType::kText; }
  bool is_array() const { return type_ == CborType::kArray; }
  bool is_map() const { return type_ == CborType::kMap; }
  bool is_tag() const { return type_ == CborType::kTag; }
  bool is_null() const { return type_ == CborType::kSimple && u_ == kNull; }
  bool is_bool() const { return type_ == CborType::kSimple && (u_ == kTrue || u_ == kFalse); }

  // The integer when it fits an int64_t.
  std::optional<int64_t> as_int64() const;
  // Unsigned: the value; negative: the argument n of -1-n; tag: its number;
  // simple: its value.
  uint64_t arg() const { return u_; }
  bool as_bool() const { return u_ == kTrue; }
  double as_double() const { return d_; }
  const std::string& str() const { return s_; }       // bytes or text
  const CborArray& items() const { return a_; }       // array
  const CborMap& entries() const { return m_; }       // map
  const CborValue& content() const { return a_[0]; }  // tag

  // Map lookups; null when absent or not a map.
  const CborValue* find(int64_t key) const;
  const CborValue* find(std::string_view text_key) const;
  const CborValue* find(const CborValue& key) const;

  bool operator==(const CborValue& o) const;

 private:
  explicit CborValue(CborType t) : type_(t) {}
  CborType type_;
  uint64_t u_ = 0;
  double d_ = 0;
  std::string s_;
  CborArray a_;
  CborMap m_;
};

struct CborLimits {
  size_t max_input = 16u << 20;   // bytes
  size_t max_depth = 24;          // nested arrays/maps/tags
  size_t max_items = 1u << 16;    // array elements + map entries + tags, all levels
  bool allow_indefinite = false;  // indefinite-length strings, arrays and maps
  bool require_shortest = true;   // integer arguments and lengths in their shortest form
};

// Decodes exactly one item filling `in`. False with "offset N: why" in `error`.
bool cbor_decode(std::string_view in, CborValue& out, std::string& error, const CborLimits& limits = {});

// Decodes one item at the start of `in`; `used` receives its length.
bool cbor_decode_prefix(std::string_view in, CborValue& out, size_t& used, std::string& error,
                        const CborLimits& limits = {});

// Shortest-form encoding; map entries in their stored order; floats as
// 64-bit. Indefinite lengths are never produced.
std::string cbor_encode(const CborValue& v);

// Appends an item head (major type 0..7, argument) in shortest form.
void cbor_append_head(std::string& out, int major, uint64_t arg);

// Diagnostic-notation-like JSON-ish text for humans (byte strings as hex,
// long ones abbreviated).
std::string cbor_diagnostic(const CborValue& v, size_t max_bytes = 64);

}  // namespace confidant::cose
