#include "rego/value.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "rego/number.h"

namespace confidant::rego {

namespace {

struct StringNode final : detail::Node {
  std::string s;
  explicit StringNode(std::string v) : s(std::move(v)) {}
};
struct DecimalNode final : detail::Node {
  Decimal d;
  explicit DecimalNode(Decimal v) : d(std::move(v)) {}
};
struct ArrayNode final : detail::Node {
  ValueVec items;
  explicit ArrayNode(ValueVec v) : items(std::move(v)) {}
};
struct SetNode final : detail::Node {
  ValueVec items;
  explicit SetNode(ValueVec v) : items(std::move(v)) {}
};
struct ObjectNode final : detail::Node {
  ObjectItems items;
  explicit ObjectNode(ObjectItems v) : items(std::move(v)) {}
};

const ValueVec kNoItems;
const ObjectItems kNoPairs;
const std::string kNoString;

}  // namespace

struct ValueAccess {
  static Value make(Kind k, detail::Node* n, bool big = false) {
    Value v;
    v.kind_ = k;
    v.big_ = big;
    v.u_.p = n;
    return v;
  }
  static const detail::Node* node(const Value& v) { return v.u_.p; }
  static bool big(const Value& v) { return v.big_; }
};

const char* kind_name(Kind k) {
  switch (k) {
    case Kind::Undefined: return "undefined";
    case Kind::Null: return "null";
    case Kind::Bool: return "boolean";
    case Kind::Number: return "number";
    case Kind::String: return "string";
    case Kind::Array: return "array";
    case Kind::Object: return "object";
    case Kind::Set: return "set";
  }
  return "?";
}

Value Value::null() {
  Value v;
  v.kind_ = Kind::Null;
  return v;
}
Value Value::boolean(bool b) {
  Value v;
  v.kind_ = Kind::Bool;
  v.u_.b = b;
  return v;
}
Value Value::integer(int64_t i) {
  Value v;
  v.kind_ = Kind::Number;
  v.u_.i = i;
  return v;
}
Value Value::number(const Decimal& d0) {
  Decimal d = d0;
  d.normalize();
  if (d.exp >= 0 && d.exp <= 18) {
    mpz_class x = d.coef;
    if (d.exp > 0) {
      mpz_class p;
      mpz_ui_pow_ui(p.get_mpz_t(), 10, static_cast<unsigned long>(d.exp));
      x *= p;
    }
    if (mpz_fits_slong_p(x.get_mpz_t())) return integer(mpz_get_si(x.get_mpz_t()));
  }
  return ValueAccess::make(Kind::Number, new DecimalNode(std::move(d)), true);
}
Value Value::real(double d) {
  if (!std::isfinite(d)) return Value();
  if (d == std::trunc(d) && std::fabs(d) < 9.2e18) return integer(static_cast<int64_t>(d));
  auto dec = Decimal::from_double(d);
  if (!dec) return Value();
  return number(*dec);
}
Value Value::number_from_text(std::string_view text) {
  // Fast path: plain integers that fit.
  if (!text.empty() && text.size() <= 18) {
    size_t i = text[0] == '-' ? 1 : 0;
    bool digits = i < text.size();
    for (size_t j = i; j < text.size(); ++j)
      if (text[j] < '0' || text[j] > '9') {
        digits = false;
        break;
      }
    if (digits) {
      int64_t v = 0;
      for (size_t j = i; j < text.size(); ++j) v = v * 10 + (text[j] - '0');
      return integer(i ? -v : v);
    }
  }
  auto d = Decimal::parse(text);
  if (!d) return Value();
  return number(*d);
}
Value Value::string(std::string_view s) { return ValueAccess::make(Kind::String, new StringNode(std::string(s))); }
Value Value::string(std::string&& s) { return ValueAccess::make(Kind::String, new StringNode(std::move(s))); }
Value Value::array(ValueVec items) { return ValueAccess::make(Kind::Array, new ArrayNode(std::move(items))); }
Value Value::set(ValueVec items) {
  std::sort(items.begin(), items.end(), [](const Value& a, const Value& b) { return compare(a, b) < 0; });
  items.erase(std::unique(items.begin(), items.end(), [](const Value& a, const Value& b) { return compare(a, b) == 0; }),
              items.end());
  return set_sorted(std::move(items));
}
Value Value::set_sorted(ValueVec items) { return ValueAccess::make(Kind::Set, new SetNode(std::move(items))); }
Value Value::object(ObjectItems items) {
  std::stable_sort(items.begin(), items.end(),
                   [](const auto& a, const auto& b) { return compare(a.first, b.first) < 0; });
  // Keep the last of equal keys.
  ObjectItems out;
  out.reserve(items.size());
  for (auto& kv : items) {
    if (!out.empty() && compare(out.back().first, kv.first) == 0)
      out.back().second = std::move(kv.second);
    else
      out.push_back(std::move(kv));
  }
  return object_sorted(std::move(out));
}
Value Value::object_sorted(ObjectItems items) {
  return ValueAccess::make(Kind::Object, new ObjectNode(std::move(items)));
}
const Value& Value::empty_object() {
  static const Value v = object_sorted({});
  return v;
}
const Value& Value::empty_set() {
  static const Value v = set_sorted({});
  return v;
}
const Value& Value::empty_array() {
  static const Value v = array(ValueVec{});
  return v;
}
const Value& Value::true_value() {
  static const Value v = boolean(true);
  return v;
}
const Value& Value::false_value() {
  static const Value v = boolean(false);
  return v;
}

bool Value::is_integer() const {
  if (kind_ != Kind::Number) return false;
  if (!big_) return true;
  return static_cast<const DecimalNode*>(u_.p)->d.exp >= 0;
}
bool Value::to_int64(int64_t& out) const {
  if (kind_ != Kind::Number) return false;
  if (!big_) {
    out = u_.i;
    return true;
  }
  return false;  // canonical: a big number never fits int64
}
double Value::to_double() const {
  if (kind_ != Kind::Number) return 0;
  if (!big_) return static_cast<double>(u_.i);
  return static_cast<const DecimalNode*>(u_.p)->d.to_double();
}
Decimal Value::to_decimal() const {
  if (kind_ != Kind::Number) return Decimal();
  if (!big_) return Decimal(u_.i);
  return static_cast<const DecimalNode*>(u_.p)->d;
}
std::string Value::number_text() const {
  if (!big_) return std::to_string(u_.i);
  return static_cast<const DecimalNode*>(u_.p)->d.text();
}
const std::string& Value::str() const {
  if (kind_ != Kind::String) return kNoString;
  return static_cast<const StringNode*>(u_.p)->s;
}
const ValueVec& Value::array_items() const {
  if (kind_ != Kind::Array) return kNoItems;
  return static_cast<const ArrayNode*>(u_.p)->items;
}
const ValueVec& Value::set_items() const {
  if (kind_ != Kind::Set) return kNoItems;
  return static_cast<const SetNode*>(u_.p)->items;
}
const ObjectItems& Value::object_items() const {
  if (kind_ != Kind::Object) return kNoPairs;
  return static_cast<const ObjectNode*>(u_.p)->items;
}
size_t Value::size() const {
  switch (kind_) {
    case Kind::String: return str().size();
    case Kind::Array: return array_items().size();
    case Kind::Set: return set_items().size();
    case Kind::Object: return object_items().size();
    default: return 0;
  }
}
const Value* Value::get(const Value& key) const {
  if (kind_ != Kind::Object) return nullptr;
  if (key.kind() == Kind::String) return get(std::string_view(key.str()));  // no generic compare
  const auto& items = object_items();
  auto it = std::lower_bound(items.begin(), items.end(), key,
                             [](const auto& kv, const Value& k) { return compare(kv.first, k) < 0; });
  if (it != items.end() && compare(it->first, key) == 0) return &it->second;
  return nullptr;
}
const Value* Value::get(std::string_view key) const {
  if (kind_ != Kind::Object) return nullptr;
  const auto& items = object_items();
  // Most objects are small: a scan that rejects on length beats a binary search.
  if (items.size() <= 12) {
    for (const auto& kv : items) {
      if (kv.first.kind_ != Kind::String) continue;
      const std::string& k = static_cast<const StringNode*>(kv.first.u_.p)->s;
      if (k.size() == key.size() && std::memcmp(k.data(), key.data(), key.size()) == 0) return &kv.second;
    }
    return nullptr;
  }
  // Strings sort after null/bool/number keys and before collections.
  auto it = std::lower_bound(items.begin(), items.end(), key, [](const auto& kv, std::string_view k) {
    if (kv.first.kind() != Kind::String) return kv.first.kind() < Kind::String;
    return std::string_view(kv.first.str()) < k;
  });
  if (it != items.end() && it->first.kind() == Kind::String && it->first.str() == key) return &it->second;
  return nullptr;
}
bool Value::has(const Value& member) const {
  if (kind_ != Kind::Set) return false;
  const auto& items = set_items();
  return std::binary_search(items.begin(), items.end(), member,
                            [](const Value& a, const Value& b) { return compare(a, b) < 0; });
}

namespace {
inline size_t mix(size_t h, size_t v) { return h ^ (v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2)); }
}  // namespace

size_t Value::hash() const {
  switch (kind_) {
    case Kind::Undefined: return 0;
    case Kind::Null: return 1;
    case Kind::Bool: return u_.b ? 3 : 2;
    case Kind::Number:
      if (!big_) return std::hash<int64_t>()(u_.i);
      return std::hash<std::string>()(number_text());
    case Kind::String: return std::hash<std::string_view>()(str());
    case Kind::Array: {
      size_t h = 5;
      for (const auto& v : array_items()) h = mix(h, v.hash());
      return h;
    }
    case Kind::Set: {
      size_t h = 7;
      for (const auto& v : set_items()) h = mix(h, v.hash());
      return h;
    }
    case Kind::Object: {
      size_t h = 11;
      for (const auto& [k, v] : object_items()) h = mix(mix(h, k.hash()), v.hash());
      return h;
    }
  }
  return 0;
}

int compare(const Value& a, const Value& b) {
  if (a.kind() != b.kind()) return a.kind() < b.kind() ? -1 : 1;
  switch (a.kind()) {
    case Kind::Undefined:
    case Kind::Null: return 0;
    case Kind::Bool: return a.as_bool() == b.as_bool() ? 0 : (a.as_bool() ? 1 : -1);
    case Kind::Number:
      if (a.is_small_int() && b.is_small_int()) {
        int64_t x = a.small_int(), y = b.small_int();
        return x < y ? -1 : (x > y ? 1 : 0);
      }
      return compare_decimal(a.to_decimal(), b.to_decimal());
    case Kind::String: {
      if (a.node() == b.node()) return 0;
      int c = a.str().compare(b.str());
      return c < 0 ? -1 : (c > 0 ? 1 : 0);
    }
    case Kind::Array:
    case Kind::Set: {
      if (a.node() == b.node()) return 0;
      const auto& x = a.kind() == Kind::Array ? a.array_items() : a.set_items();
      const auto& y = b.kind() == Kind::Array ? b.array_items() : b.set_items();
      size_t n = std::min(x.size(), y.size());
      for (size_t i = 0; i < n; ++i)
        if (int c = compare(x[i], y[i])) return c;
      return x.size() == y.size() ? 0 : (x.size() < y.size() ? -1 : 1);
    }
    case Kind::Object: {
      if (a.node() == b.node()) return 0;
      // OPA compares objects by sorted keys first, then values.
      const auto& x = a.object_items();
      const auto& y = b.object_items();
      size_t n = std::min(x.size(), y.size());
      for (size_t i = 0; i < n; ++i) {
        if (int c = compare(x[i].first, y[i].first)) return c;
        if (int c = compare(x[i].second, y[i].second)) return c;
      }
      return x.size() == y.size() ? 0 : (x.size() < y.size() ? -1 : 1);
    }
  }
  return 0;
}

// ---------------------------------------------------------------- JSON out

void append_json_string(std::string& out, std::string_view s) {
  static const char* hex = "0123456789abcdef";
  out.push_back('"');
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:
        if (c < 0x20) {
          out += "\\u00";
          out.push_back(hex[c >> 4]);
          out.push_back(hex[c & 15]);
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
  }
  out.push_back('"');
}

namespace {

void append_json_impl(std::string& out, const Value& v, int indent, bool pretty) {
  auto nl = [&](int level) {
    if (!pretty) return;
    out.push_back('\n');
    out.append(static_cast<size_t>(level) * 2, ' ');
  };
  switch (v.kind()) {
    case Kind::Undefined: out += "null"; break;  // callers should not ask
    case Kind::Null: out += "null"; break;
    case Kind::Bool: out += v.as_bool() ? "true" : "false"; break;
    case Kind::Number: out += v.number_text(); break;
    case Kind::String: append_json_string(out, v.str()); break;
    case Kind::Array:
    case Kind::Set: {
      const auto& items = v.is_array() ? v.array_items() : v.set_items();
      out.push_back('[');
      for (size_t i = 0; i < items.size(); ++i) {
        if (i) out.push_back(',');
        nl(indent + 1);
        append_json_impl(out, items[i], indent + 1, pretty);
      }
      if (!items.empty()) nl(indent);
      out.push_back(']');
      break;
    }
    case Kind::Object: {
      const auto& items = v.object_items();
      out.push_back('{');
      bool first = true;
      // Non-string keys are rendered as their JSON text; sort the rendered
      // keys so output stays canonical.
      bool all_strings = true;
      for (const auto& kv : items)
        if (!kv.first.is_string()) all_strings = false;
      if (all_strings) {
        for (const auto& [k, val] : items) {
          if (!first) out.push_back(',');
          first = false;
          nl(indent + 1);
          append_json_string(out, k.str());
          out += pretty ? ": " : ":";
          append_json_impl(out, val, indent + 1, pretty);
        }
      } else {
        std::vector<std::pair<std::string, const Value*>> keyed;
        for (const auto& [k, val] : items)
          keyed.emplace_back(k.is_string() ? k.str() : to_json(k), &val);
        std::stable_sort(keyed.begin(), keyed.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
        for (const auto& [k, val] : keyed) {
          if (!first) out.push_back(',');
          first = false;
          nl(indent + 1);
          append_json_string(out, k);
          out += pretty ? ": " : ":";
          append_json_impl(out, *val, indent + 1, pretty);
        }
      }
      if (!items.empty()) nl(indent);
      out.push_back('}');
      break;
    }
  }
}

}  // namespace

void append_json(std::string& out, const Value& v) { append_json_impl(out, v, 0, false); }

std::string to_json(const Value& v, bool pretty) {
  std::string out;
  append_json_impl(out, v, 0, pretty);
  return out;
}

// ---------------------------------------------------------------- Rego text

namespace {
void append_rego_string(std::string& out, std::string_view s) {
  // Go's strconv.Quote-like escaping, which is what OPA's term String() uses.
  // Runs that need no escaping are copied in one go: print() output of large
  // inputs is on the request path of the Kata agent.
  static const char* hex = "0123456789abcdef";
  out.push_back('"');
  // Eight bytes at a time while none needs escaping (control bytes, DEL, '"', '\\').
  constexpr uint64_t kOnes = 0x0101010101010101ull, kHigh = 0x8080808080808080ull;
  auto has_zero = [](uint64_t x) { return (x - kOnes) & ~x & kHigh; };
  size_t run = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if ((i & 7) == 0) {
      while (i + 8 <= s.size()) {
        uint64_t w;
        std::memcpy(&w, s.data() + i, 8);
        uint64_t special = ((w - kOnes * 0x20) & ~w & kHigh) | has_zero(w ^ (kOnes * '"')) |
                           has_zero(w ^ (kOnes * '\\')) | has_zero(w ^ (kOnes * 0x7f));
        if (special) break;
        i += 8;
      }
      if (i >= s.size()) break;
    }
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != 0x7f && c != '"' && c != '\\') continue;
    out.append(s.data() + run, i - run);
    run = i + 1;
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\a': out += "\\a"; break;
      case '\v': out += "\\v"; break;
      default:
        out += "\\x";
        out.push_back(hex[c >> 4]);
        out.push_back(hex[c & 15]);
    }
  }
  out.append(s.data() + run, s.size() - run);
  out.push_back('"');
}
}  // namespace

void append_rego(std::string& out, const Value& v) {
  switch (v.kind()) {
    case Kind::Undefined: out += "undefined"; break;
    case Kind::Null: out += "null"; break;
    case Kind::Bool: out += v.as_bool() ? "true" : "false"; break;
    case Kind::Number: out += v.number_text(); break;
    case Kind::String: append_rego_string(out, v.str()); break;
    case Kind::Array: {
      out.push_back('[');
      bool first = true;
      for (const auto& x : v.array_items()) {
        if (!first) out += ", ";
        first = false;
        append_rego(out, x);
      }
      out.push_back(']');
      break;
    }
    case Kind::Set: {
      if (v.set_items().empty()) {
        out += "set()";
        break;
      }
      out.push_back('{');
      bool first = true;
      for (const auto& x : v.set_items()) {
        if (!first) out += ", ";
        first = false;
        append_rego(out, x);
      }
      out.push_back('}');
      break;
    }
    case Kind::Object: {
      out.push_back('{');
      bool first = true;
      for (const auto& [k, x] : v.object_items()) {
        if (!first) out += ", ";
        first = false;
        append_rego(out, k);
        out += ": ";
        append_rego(out, x);
      }
      out.push_back('}');
      break;
    }
  }
}

std::string to_rego(const Value& v) {
  std::string out;
  append_rego(out, v);
  return out;
}

// ---------------------------------------------------------------- JSON in

namespace {

class JsonParser {
 public:
  JsonParser(std::string_view t, int max_depth) : t_(t), max_depth_(max_depth) {}

  bool parse(Value& out, std::string& err) {
    ws();
    if (!value(out, 0)) {
      err = err_.empty() ? "invalid JSON" : err_;
      err += " at offset " + std::to_string(p_);
      return false;
    }
    ws();
    if (p_ != t_.size()) {
      err = "unexpected trailing data at offset " + std::to_string(p_);
      return false;
    }
    return true;
  }

 private:
  void ws() {
    while (p_ < t_.size() && (t_[p_] == ' ' || t_[p_] == '\n' || t_[p_] == '\r' || t_[p_] == '\t')) ++p_;
  }
  bool fail(const char* m) {
    if (err_.empty()) err_ = m;
    return false;
  }
  bool lit(std::string_view w) {
    if (t_.substr(p_, w.size()) != w) return fail("invalid literal");
    p_ += w.size();
    return true;
  }
  bool value(Value& out, int depth) {
    if (depth > max_depth_) return fail("JSON nested too deeply");
    if (p_ >= t_.size()) return fail("unexpected end of JSON");
    char c = t_[p_];
    switch (c) {
      case 'n':
        if (!lit("null")) return false;
        out = Value::null();
        return true;
      case 't':
        if (!lit("true")) return false;
        out = Value::boolean(true);
        return true;
      case 'f':
        if (!lit("false")) return false;
        out = Value::boolean(false);
        return true;
      case '"': {
        std::string s;
        if (!string(s)) return false;
        out = Value::string(std::move(s));
        return true;
      }
      case '[': {
        ++p_;
        ValueVec items;
        ws();
        if (p_ < t_.size() && t_[p_] == ']') {
          ++p_;
          out = Value::array(std::move(items));
          return true;
        }
        for (;;) {
          ws();
          Value v;
          if (!value(v, depth + 1)) return false;
          items.push_back(std::move(v));
          ws();
          if (p_ >= t_.size()) return fail("unexpected end of JSON");
          if (t_[p_] == ',') {
            ++p_;
            continue;
          }
          if (t_[p_] == ']') {
            ++p_;
            break;
          }
          return fail("expected ',' or ']'");
        }
        out = Value::array(std::move(items));
        return true;
      }
      case '{': {
        ++p_;
        ObjectItems items;
        ws();
        if (p_ < t_.size() && t_[p_] == '}') {
          ++p_;
          out = Value::empty_object();
          return true;
        }
        for (;;) {
          ws();
          if (p_ >= t_.size() || t_[p_] != '"') return fail("expected object key string");
          std::string k;
          if (!string(k)) return false;
          ws();
          if (p_ >= t_.size() || t_[p_] != ':') return fail("expected ':'");
          ++p_;
          ws();
          Value v;
          if (!value(v, depth + 1)) return false;
          items.emplace_back(Value::string(std::move(k)), std::move(v));
          ws();
          if (p_ >= t_.size()) return fail("unexpected end of JSON");
          if (t_[p_] == ',') {
            ++p_;
            continue;
          }
          if (t_[p_] == '}') {
            ++p_;
            break;
          }
          return fail("expected ',' or '}'");
        }
        out = Value::object(std::move(items));
        return true;
      }
      default:
        if (c == '-' || (c >= '0' && c <= '9')) return number(out);
        return fail("unexpected character");
    }
  }
  bool number(Value& out) {
    size_t s = p_;
    if (t_[p_] == '-') ++p_;
    if (p_ >= t_.size()) return fail("invalid number");
    if (t_[p_] == '0') {
      ++p_;
    } else if (t_[p_] >= '1' && t_[p_] <= '9') {
      while (p_ < t_.size() && t_[p_] >= '0' && t_[p_] <= '9') ++p_;
    } else {
      return fail("invalid number");
    }
    if (p_ < t_.size() && t_[p_] == '.') {
      ++p_;
      size_t d = p_;
      while (p_ < t_.size() && t_[p_] >= '0' && t_[p_] <= '9') ++p_;
      if (p_ == d) return fail("invalid number");
    }
    if (p_ < t_.size() && (t_[p_] == 'e' || t_[p_] == 'E')) {
      ++p_;
      if (p_ < t_.size() && (t_[p_] == '+' || t_[p_] == '-')) ++p_;
      size_t d = p_;
      while (p_ < t_.size() && t_[p_] >= '0' && t_[p_] <= '9') ++p_;
      if (p_ == d) return fail("invalid number");
    }
    out = Value::number_from_text(t_.substr(s, p_ - s));
    if (out.is_undefined()) return fail("number out of range");
    return true;
  }
  static void put_utf8(std::string& s, uint32_t cp) {
    if (cp < 0x80) {
      s.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      s.push_back(static_cast<char>(0xC0 | (cp >> 6)));
      s.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
      s.push_back(static_cast<char>(0xE0 | (cp >> 12)));
      s.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      s.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
      s.push_back(static_cast<char>(0xF0 | (cp >> 18)));
      s.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
      s.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      s.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
  }
  bool hex4(uint32_t& v) {
    if (p_ + 4 > t_.size()) return fail("invalid \\u escape");
    v = 0;
    for (int i = 0; i < 4; ++i) {
      char c = t_[p_++];
      v <<= 4;
      if (c >= '0' && c <= '9') v |= static_cast<uint32_t>(c - '0');
      else if (c >= 'a' && c <= 'f') v |= static_cast<uint32_t>(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F') v |= static_cast<uint32_t>(c - 'A' + 10);
      else return fail("invalid \\u escape");
    }
    return true;
  }
  bool string(std::string& s) {
    ++p_;  // opening quote
    for (;;) {
      size_t start = p_;
      while (p_ < t_.size() && t_[p_] != '"' && t_[p_] != '\\' && static_cast<unsigned char>(t_[p_]) >= 0x20) ++p_;
      s.append(t_.data() + start, p_ - start);
      if (p_ >= t_.size()) return fail("unterminated string");
      char c = t_[p_];
      if (c == '"') {
        ++p_;
        return true;
      }
      if (c != '\\') return fail("control character in string");
      ++p_;
      if (p_ >= t_.size()) return fail("unterminated string");
      char e = t_[p_++];
      switch (e) {
        case '"': s.push_back('"'); break;
        case '\\': s.push_back('\\'); break;
        case '/': s.push_back('/'); break;
        case 'b': s.push_back('\b'); break;
        case 'f': s.push_back('\f'); break;
        case 'n': s.push_back('\n'); break;
        case 'r': s.push_back('\r'); break;
        case 't': s.push_back('\t'); break;
        case 'u': {
          uint32_t cp;
          if (!hex4(cp)) return false;
          if (cp >= 0xD800 && cp < 0xDC00 && p_ + 6 <= t_.size() && t_[p_] == '\\' && t_[p_ + 1] == 'u') {
            size_t save = p_;
            p_ += 2;
            uint32_t lo;
            if (hex4(lo) && lo >= 0xDC00 && lo < 0xE000) {
              cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            } else {
              p_ = save;
              cp = 0xFFFD;
            }
          } else if (cp >= 0xD800 && cp < 0xE000) {
            cp = 0xFFFD;
          }
          put_utf8(s, cp);
          break;
        }
        default: return fail("invalid escape in string");
      }
    }
  }

  std::string_view t_;
  size_t p_ = 0;
  int max_depth_;
  std::string err_;
};

}  // namespace

bool parse_json(std::string_view text, Value& out, std::string& error, int max_depth) {
  JsonParser p(text, max_depth);
  return p.parse(out, error);
}

}  // namespace confidant::rego
