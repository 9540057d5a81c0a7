// base64*, hex.*, urlquery.*, json.{marshal,unmarshal,is_valid,...}, yaml.*
//
// OPA implements these with Go's standard library (encoding/base64,
// encoding/hex, net/url, encoding/json) and sigs.k8s.io/yaml (go-yaml v2, a
// port of libyaml). The Go behaviour is reproduced here byte for byte where
// policies can observe it: padding rules, error messages, JSON escaping (HTML
// characters are escaped by json.Marshal), key order, and YAML 1.1 scalar
// resolution ("yes" is true, "0x10" is 16). YAML is parsed and emitted with
// libyaml itself, so syntax acceptance and output layout match go-yaml.
#include <re2/re2.h>
#include <yaml.h>

#include <charconv>
#include <cmath>
#include <cstring>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "rego/builtins/builtins.h"
#include "rego/number.h"

namespace confidant::rego {
namespace {

// ---------------------------------------------------------------- UTF-8 and Go quoting

struct Rune {
  uint32_t cp;
  size_t width;
};

// Go's utf8.DecodeRuneInString: invalid sequences decode as U+FFFD, width 1.
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

bool invalid_at(std::string_view s, size_t i, Rune r) {
  return r.cp == 0xFFFD && r.width == 1 && static_cast<unsigned char>(s[i]) >= 0x80;
}

bool valid_utf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    if (static_cast<unsigned char>(s[i]) < 0x80) {
      ++i;
      continue;
    }
    Rune r = decode_rune(s, i);
    if (invalid_at(s, i, r)) return false;
    i += r.width;
  }
  return true;
}

// Invalid UTF-8 sequences become U+FFFD, as Go's JSON encoder and decoder do.
std::string sanitize_utf8(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    Rune r = decode_rune(s, i);
    if (invalid_at(s, i, r))
      out += "\xEF\xBF\xBD";
    else
      out.append(s.substr(i, r.width));
    i += r.width;
  }
  return out;
}

Value sanitize_value(const Value& v) {
  switch (v.kind()) {
    case Kind::String: return valid_utf8(v.str()) ? v : Value::string(sanitize_utf8(v.str()));
    case Kind::Array: {
      ValueVec items;
      for (const Value& x : v.array_items()) items.push_back(sanitize_value(x));
      return Value::array(std::move(items));
    }
    case Kind::Object: {
      ObjectItems items;
      for (const auto& [k, x] : v.object_items()) items.emplace_back(sanitize_value(k), sanitize_value(x));
      return Value::object(std::move(items));
    }
    default: return v;
  }
}

// Go's strconv.Quote; printability is approximated (controls, DEL, C1 and
// invalid bytes are escaped).
std::string go_quote(std::string_view s) {
  static const char* hex = "0123456789abcdef";
  std::string out = "\"";
  for (size_t i = 0; i < s.size();) {
    Rune r = decode_rune(s, i);
    auto hex2 = [&](const char* pre, uint32_t v) {
      out += pre;
      out.push_back(hex[(v >> 4) & 15]);
      out.push_back(hex[v & 15]);
    };
    if (invalid_at(s, i, r)) {
      hex2("\\x", static_cast<unsigned char>(s[i]));
    } else if (r.cp == '"' || r.cp == '\\') {
      out.push_back('\\');
      out.push_back(static_cast<char>(r.cp));
    } else if (r.cp == '\a') {
      out += "\\a";
    } else if (r.cp == '\b') {
      out += "\\b";
    } else if (r.cp == '\f') {
      out += "\\f";
    } else if (r.cp == '\n') {
      out += "\\n";
    } else if (r.cp == '\r') {
      out += "\\r";
    } else if (r.cp == '\t') {
      out += "\\t";
    } else if (r.cp == '\v') {
      out += "\\v";
    } else if (r.cp < 0x20 || r.cp == 0x7F) {
      hex2("\\x", r.cp);
    } else if (r.cp >= 0x80 && r.cp < 0xA1) {
      hex2("\\u00", r.cp);
    } else {
      out.append(s.substr(i, r.width));
    }
    i += r.width;
  }
  return out + "\"";
}

[[noreturn]] void operand_error(std::string_view builtin, int pos, std::string_view msg) {
  throw BuiltinError("eval_type_error",
                     std::string(builtin) + ": operand " + std::to_string(pos) + " " + std::string(msg));
}

// ---------------------------------------------------------------- Go json.Marshal

// encoding/json string escaping: HTML-sensitive characters and U+2028/2029
// are escaped, invalid UTF-8 becomes \ufffd.
void append_go_json_string(std::string& out, std::string_view s) {
  static const char* hex = "0123456789abcdef";
  out.push_back('"');
  for (size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        case '\b': out += "\\b"; break;
        case '\f': out += "\\f"; break;
        case '<':
        case '>':
        case '&':
          out += "\\u00";
          out.push_back(hex[c >> 4]);
          out.push_back(hex[c & 15]);
          break;
        default:
          if (c < 0x20) {
            out += "\\u00";
            out.push_back(hex[c >> 4]);
            out.push_back(hex[c & 15]);
          } else {
            out.push_back(static_cast<char>(c));
          }
      }
      ++i;
      continue;
    }
    Rune r = decode_rune(s, i);
    if (invalid_at(s, i, r))
      out += "\\ufffd";
    else if (r.cp == 0x2028)
      out += "\\u2028";
    else if (r.cp == 0x2029)
      out += "\\u2029";
    else
      out.append(s.substr(i, r.width));
    i += r.width;
  }
  out.push_back('"');
}

void append_go_json(std::string& out, const Value& v, std::string_view prefix, std::string_view indent, bool pretty,
                    int depth);

// Object members as Go sees them after ast.JSON: keys as strings (non-string
// keys by their JSON text), sorted bytewise, a later duplicate replacing an
// earlier one.
std::vector<std::pair<std::string, const Value*>> go_object_members(const Value& obj) {
  std::vector<std::pair<std::string, const Value*>> members;
  for (const auto& [k, val] : obj.object_items()) {
    std::string key;
    if (k.is_string())
      key = k.str();
    else
      append_go_json(key, k, "", "", false, 0);  // non-string keys become their JSON text
    members.emplace_back(std::move(key), &val);
  }
  std::stable_sort(members.begin(), members.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<std::pair<std::string, const Value*>> out;
  for (auto& m : members) {
    if (!out.empty() && out.back().first == m.first)
      out.back() = std::move(m);
    else
      out.push_back(std::move(m));
  }
  return out;
}

void append_go_json(std::string& out, const Value& v, std::string_view prefix, std::string_view indent, bool pretty,
                    int depth) {
  auto newline = [&](int level) {
    out.push_back('\n');
    out.append(prefix);
    for (int i = 0; i < level; ++i) out.append(indent);
  };
  switch (v.kind()) {
    case Kind::Undefined:
    case Kind::Null: out += "null"; break;
    case Kind::Bool: out += v.as_bool() ? "true" : "false"; break;
    case Kind::Number: out += v.number_text(); break;
    case Kind::String: append_go_json_string(out, v.str()); break;
    case Kind::Array:
    case Kind::Set: {
      const ValueVec& items = v.is_array() ? v.array_items() : v.set_items();
      out.push_back('[');
      for (size_t i = 0; i < items.size(); ++i) {
        if (i) out.push_back(',');
        if (pretty) newline(depth + 1);
        append_go_json(out, items[i], prefix, indent, pretty, depth + 1);
      }
      if (pretty && !items.empty()) newline(depth);
      out.push_back(']');
      break;
    }
    case Kind::Object: {
      auto members = go_object_members(v);
      out.push_back('{');
      for (size_t i = 0; i < members.size(); ++i) {
        if (i) out.push_back(',');
        if (pretty) newline(depth + 1);
        append_go_json_string(out, members[i].first);
        out += pretty ? ": " : ":";
        append_go_json(out, *members[i].second, prefix, indent, pretty, depth + 1);
      }
      if (pretty && !members.empty()) newline(depth);
      out.push_back('}');
      break;
    }
  }
}

// ---------------------------------------------------------------- Go JSON syntax

// encoding/json's scanner: validates like json.Valid and reports its error
// messages ("invalid character 'x' looking for beginning of value").
class GoJsonScanner {
 public:
  explicit GoJsonScanner(std::string_view s) : s_(s) {}

  // Scans one value starting at the current position. Returns false with
  // err() set; `eof` tells whether the input ended inside the value.
  bool value() {
    enum Ctx : char { kArray, kObjectKey, kObjectValue };
    std::vector<Ctx> stack;
    for (;;) {
      ws();
      if (p_ >= s_.size()) return eof();
      char c = s_[p_];
      // A value.
      if (c == '{') {
        ++p_;
        ws();
        if (p_ >= s_.size()) return eof();
        if (s_[p_] == '}') {
          ++p_;
        } else {
          if (stack.size() >= 10000) return fail("exceeded max depth");
          if (s_[p_] != '"') return bad(s_[p_], "looking for beginning of object key string");
          stack.push_back(kObjectKey);
          if (!string()) return false;
          if (!colon()) return false;
          stack.back() = kObjectValue;
          continue;
        }
      } else if (c == '[') {
        ++p_;
        ws();
        if (p_ >= s_.size()) return eof();
        if (s_[p_] == ']') {
          ++p_;
        } else {
          if (stack.size() >= 10000) return fail("exceeded max depth");
          stack.push_back(kArray);
          continue;
        }
      } else if (c == '"') {
        if (!string()) return false;
      } else if (c == '-' || (c >= '0' && c <= '9')) {
        if (!number()) return false;
      } else if (c == 't' || c == 'f' || c == 'n') {
        if (!literal()) return false;
      } else {
        return bad(c, "looking for beginning of value");
      }
      // After a value: close containers or move to the next element.
      for (;;) {
        if (stack.empty()) return true;
        ws();
        if (p_ >= s_.size()) return eof();
        char d = s_[p_];
        if (stack.back() == kArray) {
          if (d == ',') {
            ++p_;
            break;
          }
          if (d == ']') {
            ++p_;
            stack.pop_back();
            continue;
          }
          return bad(d, "after array element");
        }
        if (d == ',') {
          ++p_;
          ws();
          if (p_ >= s_.size()) return eof();
          if (s_[p_] != '"') return bad(s_[p_], "looking for beginning of object key string");
          if (!string()) return false;
          if (!colon()) return false;
          break;
        }
        if (d == '}') {
          ++p_;
          stack.pop_back();
          continue;
        }
        return bad(d, "after object key:value pair");
      }
    }
  }

  // The whole input is one value (json.Valid).
  bool document() {
    if (!value()) return false;
    ws();
    if (p_ < s_.size()) return bad(s_[p_], "after top-level value");
    return true;
  }

  void ws() {
    while (p_ < s_.size() && (s_[p_] == ' ' || s_[p_] == '\t' || s_[p_] == '\n' || s_[p_] == '\r')) ++p_;
  }
  size_t pos() const { return p_; }
  bool at_eof() const { return eof_; }
  const std::string& err() const { return err_; }

  // Go's quoteChar.
  static std::string quote_char(char c) {
    if (c == '\'') return "'\\''";
    if (c == '"') return "'\"'";
    std::string s;
    uint32_t cp = static_cast<unsigned char>(c);
    if (cp < 0x80) {
      s.push_back(c);
    } else {
      s.push_back(static_cast<char>(0xC0 | (cp >> 6)));
      s.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
    std::string q = go_quote(s);
    return "'" + q.substr(1, q.size() - 2) + "'";
  }

 private:
  bool fail(std::string msg) {
    err_ = std::move(msg);
    return false;
  }
  bool eof() {
    eof_ = true;
    return fail("unexpected end of JSON input");
  }
  bool bad(char c, std::string_view where) {
    return fail("invalid character " + quote_char(c) + " " + std::string(where));
  }
  bool colon() {
    ws();
    if (p_ >= s_.size()) return eof();
    if (s_[p_] != ':') return bad(s_[p_], "after object key");
    ++p_;
    return true;
  }
  bool string() {
    ++p_;
    while (p_ < s_.size()) {
      unsigned char c = static_cast<unsigned char>(s_[p_]);
      if (c == '"') {
        ++p_;
        return true;
      }
      if (c < 0x20) return bad(static_cast<char>(c), "in string literal");
      if (c == '\\') {
        ++p_;
        if (p_ >= s_.size()) return eof();
        char e = s_[p_];
        if (e == 'u') {
          for (int i = 0; i < 4; ++i) {
            ++p_;
            if (p_ >= s_.size()) return eof();
            if (!isxdigit(static_cast<unsigned char>(s_[p_]))) {
              return bad(s_[p_], "in \\u hexadecimal character escape");
            }
          }
        } else if (std::string_view("\"\\/bfnrt").find(e) == std::string_view::npos) {
          return bad(e, "in string escape code");
        }
      }
      ++p_;
    }
    return eof();
  }
  bool digits() {
    size_t s = p_;
    while (p_ < s_.size() && s_[p_] >= '0' && s_[p_] <= '9') ++p_;
    return p_ > s;
  }
  bool number() {
    if (s_[p_] == '-') {
      ++p_;
      if (p_ >= s_.size()) return eof();
      if (!(s_[p_] >= '0' && s_[p_] <= '9')) return bad(s_[p_], "in numeric literal");
    }
    if (s_[p_] == '0')
      ++p_;
    else
      digits();
    if (p_ < s_.size() && s_[p_] == '.') {
      ++p_;
      if (p_ >= s_.size()) return eof();
      if (!digits()) return bad(s_[p_], "after decimal point in numeric literal");
    }
    if (p_ < s_.size() && (s_[p_] == 'e' || s_[p_] == 'E')) {
      ++p_;
      if (p_ < s_.size() && (s_[p_] == '+' || s_[p_] == '-')) ++p_;
      if (p_ >= s_.size()) return eof();
      if (!digits()) return bad(s_[p_], "in exponent of numeric literal");
    }
    return true;
  }
  bool literal() {
    std::string_view word = s_[p_] == 't' ? "true" : s_[p_] == 'f' ? "false" : "null";
    for (size_t i = 1; i < word.size(); ++i) {
      if (p_ + i >= s_.size()) {
        p_ += i;
        return eof();
      }
      if (s_[p_ + i] != word[i]) {
        char c = s_[p_ + i];
        p_ += i;
        return fail("invalid character " + quote_char(c) + " in literal " + std::string(word) + " (expecting " +
                    quote_char(word[i]) + ")");
      }
    }
    p_ += word.size();
    return true;
  }

  std::string_view s_;
  size_t p_ = 0;
  bool eof_ = false;
  std::string err_;
};

// OPA's util.UnmarshalJSON: a json.Decoder (numbers kept exact) that also
// rejects trailing content. Error texts follow the decoder's.
bool go_json_unmarshal(std::string_view text, Value& out, std::string& err) {
  GoJsonScanner sc(text);
  sc.ws();
  if (sc.pos() >= text.size()) {
    err = "EOF";
    return false;
  }
  if (!sc.value()) {
    err = sc.at_eof() ? "unexpected EOF" : sc.err();
    return false;
  }
  size_t end = sc.pos();
  sc.ws();
  if (sc.pos() < text.size()) {
    char c = text[sc.pos()];
    bool token = std::string_view("{}[],:\"-0123456789tfn").find(c) != std::string_view::npos;
    err = token ? "error: invalid character " + GoJsonScanner::quote_char(c) + " after top-level value"
                : "invalid character " + GoJsonScanner::quote_char(c) + " looking for beginning of value";
    return false;
  }
  std::string perr;
  if (!parse_json(text.substr(0, end), out, perr)) {  // only the nesting limit can fail here
    err = perr;
    return false;
  }
  if (!valid_utf8(text)) out = sanitize_value(out);
  return true;
}

// ---------------------------------------------------------------- base64

constexpr std::string_view kStdAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr std::string_view kUrlAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

std::string b64_encode(std::string_view in, std::string_view alphabet, bool pad) {
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 3 <= in.size(); i += 3) {
    uint32_t v = (static_cast<unsigned char>(in[i]) << 16) | (static_cast<unsigned char>(in[i + 1]) << 8) |
                 static_cast<unsigned char>(in[i + 2]);
    out.push_back(alphabet[v >> 18]);
    out.push_back(alphabet[(v >> 12) & 63]);
    out.push_back(alphabet[(v >> 6) & 63]);
    out.push_back(alphabet[v & 63]);
  }
  size_t rest = in.size() - i;
  if (rest) {
    uint32_t v = static_cast<uint32_t>(static_cast<unsigned char>(in[i])) << 16;
    if (rest == 2) v |= static_cast<uint32_t>(static_cast<unsigned char>(in[i + 1])) << 8;
    out.push_back(alphabet[v >> 18]);
    out.push_back(alphabet[(v >> 12) & 63]);
    if (rest == 2) out.push_back(alphabet[(v >> 6) & 63]);
    if (pad) out.append(rest == 2 ? 1 : 2, '=');
  }
  return out;
}

// Go's base64 Encoding.DecodeString with padding (not strict): \r and \n are
// skipped anywhere; errors name the offending input byte.
bool b64_decode(std::string_view src, std::string_view alphabet, std::string& out, std::string& err) {
  int8_t map[256];
  std::memset(map, -1, sizeof map);
  for (size_t i = 0; i < alphabet.size(); ++i) map[static_cast<unsigned char>(alphabet[i])] = static_cast<int8_t>(i);
  auto corrupt = [&](size_t at) {
    err = "illegal base64 data at input byte " + std::to_string(at);
    return false;
  };
  auto is_nl = [](char c) { return c == '\n' || c == '\r'; };
  size_t si = 0;
  while (si < src.size()) {
    uint32_t buf[4] = {0, 0, 0, 0};
    size_t dlen = 4;
    bool trailing_garbage = false;
    for (size_t j = 0; j < 4; ++j) {
      if (si == src.size()) {
        if (j == 0) return true;
        return corrupt(si - j);  // missing padding
      }
      char in = src[si++];
      int8_t v = map[static_cast<unsigned char>(in)];
      if (v >= 0) {
        buf[j] = static_cast<uint32_t>(v);
        continue;
      }
      if (is_nl(in)) {
        --j;
        continue;
      }
      if (in != '=') return corrupt(si - 1);
      // Padding: only after two or three symbols of a quantum.
      if (j < 2) return corrupt(si - 1);
      if (j == 2) {
        while (si < src.size() && is_nl(src[si])) ++si;
        if (si == src.size()) return corrupt(src.size());
        if (src[si] != '=') return corrupt(si - 1);
        ++si;
      }
      while (si < src.size() && is_nl(src[si])) ++si;
      if (si < src.size()) trailing_garbage = true;
      dlen = j;
      break;
    }
    uint32_t val = buf[0] << 18 | buf[1] << 12 | buf[2] << 6 | buf[3];
    char bytes[3] = {static_cast<char>(val >> 16), static_cast<char>(val >> 8), static_cast<char>(val)};
    out.append(bytes, dlen - 1);
    if (trailing_garbage) return corrupt(si);
  }
  return true;
}

Value base64_encode(BuiltinContext&, std::span<const Value> a) {
  return Value::string(b64_encode(arg_string("base64.encode", a, 0), kStdAlphabet, true));
}

Value base64_decode(BuiltinContext&, std::span<const Value> a) {
  std::string out, err;
  if (!b64_decode(arg_string("base64.decode", a, 0), kStdAlphabet, out, err)) builtin_error("base64.decode", err);
  return Value::string(std::move(out));
}

Value base64_is_valid(BuiltinContext&, std::span<const Value> a) {
  if (!a[0].is_string()) return Value::false_value();
  std::string out, err;
  return Value::boolean(b64_decode(a[0].str(), kStdAlphabet, out, err));
}

Value base64url_encode(BuiltinContext&, std::span<const Value> a) {
  return Value::string(b64_encode(arg_string("base64url.encode", a, 0), kUrlAlphabet, true));
}

Value base64url_encode_no_pad(BuiltinContext&, std::span<const Value> a) {
  return Value::string(b64_encode(arg_string("base64url.encode_no_pad", a, 0), kUrlAlphabet, false));
}

Value base64url_decode(BuiltinContext&, std::span<const Value> a) {
  static constexpr std::string_view kName = "base64url.decode";
  std::string s = arg_string(kName, a, 0);
  // Unpadded input is padded first (RFC 7515 appendix C), as OPA does.
  if (s.empty() || s.back() != '=') {
    switch (s.size() % 4) {
      case 0: break;
      case 2: s += "=="; break;
      case 3: s += "="; break;
      default: builtin_error(kName, "illegal base64url string: " + s);
    }
  }
  std::string out, err;
  if (!b64_decode(s, kUrlAlphabet, out, err)) builtin_error(kName, err);
  return Value::string(std::move(out));
}

// ---------------------------------------------------------------- hex

Value hex_encode(BuiltinContext&, std::span<const Value> a) {
  static const char* hex = "0123456789abcdef";
  const std::string& s = arg_string("hex.encode", a, 0);
  std::string out;
  out.reserve(s.size() * 2);
  for (unsigned char c : s) {
    out.push_back(hex[c >> 4]);
    out.push_back(hex[c & 15]);
  }
  return Value::string(std::move(out));
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

Value hex_decode(BuiltinContext&, std::span<const Value> a) {
  static constexpr std::string_view kName = "hex.decode";
  const std::string& s = arg_string(kName, a, 0);
  // Go's InvalidByteError prints the byte with %#U: "U+0067 'g'".
  auto invalid = [&](char c) {
    char buf[16];
    auto b = static_cast<unsigned char>(c);
    snprintf(buf, sizeof buf, "U+%04X", b);
    std::string msg = std::string("encoding/hex: invalid byte: ") + buf;
    bool printable = (b >= 0x20 && b < 0x7F) || (b >= 0xA1 && b != 0xAD);
    if (printable) {
      msg += " '";
      if (b < 0x80) {
        msg.push_back(c);
      } else {
        msg.push_back(static_cast<char>(0xC0 | (b >> 6)));
        msg.push_back(static_cast<char>(0x80 | (b & 0x3F)));
      }
      msg += "'";
    }
    builtin_error(kName, msg);
  };
  std::string out;
  out.reserve(s.size() / 2);
  size_t j = 1;
  for (; j < s.size(); j += 2) {
    int hi = hex_value(s[j - 1]), lo = hex_value(s[j]);
    if (hi < 0) invalid(s[j - 1]);
    if (lo < 0) invalid(s[j]);
    out.push_back(static_cast<char>(hi << 4 | lo));
  }
  if (s.size() % 2 == 1) {
    if (hex_value(s[j - 1]) < 0) invalid(s[j - 1]);
    builtin_error(kName, "encoding/hex: odd length hex string");
  }
  return Value::string(std::move(out));
}

// ---------------------------------------------------------------- urlquery

// net/url QueryEscape: unreserved characters stay, space becomes '+'.
std::string query_escape(std::string_view s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s) {
    if (isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else if (c == ' ') {
      out.push_back('+');
    } else {
      out.push_back('%');
      out.push_back(hex[c >> 4]);
      out.push_back(hex[c & 15]);
    }
  }
  return out;
}

// net/url QueryUnescape.
bool query_unescape(std::string_view s, std::string& out, std::string& err) {
  out.clear();
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    char c = s[i];
    if (c == '%') {
      if (i + 2 >= s.size() || hex_value(s[i + 1]) < 0 || hex_value(s[i + 2]) < 0) {
        err = "invalid URL escape " + go_quote(s.substr(i, 3));
        return false;
      }
      out.push_back(static_cast<char>(hex_value(s[i + 1]) << 4 | hex_value(s[i + 2])));
      i += 3;
    } else {
      out.push_back(c == '+' ? ' ' : c);
      ++i;
    }
  }
  return true;
}

Value urlquery_encode(BuiltinContext&, std::span<const Value> a) {
  return Value::string(query_escape(arg_string("urlquery.encode", a, 0)));
}

Value urlquery_decode(BuiltinContext&, std::span<const Value> a) {
  std::string out, err;
  if (!query_unescape(arg_string("urlquery.decode", a, 0), out, err)) builtin_error("urlquery.decode", err);
  return Value::string(std::move(out));
}

Value urlquery_encode_object(BuiltinContext&, std::span<const Value> a) {
  static constexpr std::string_view kName = "urlquery.encode_object";
  const Value& obj = arg_object(kName, a, 0);
  // url.Values.Encode: keys sorted; a string value replaces, array and set
  // members are appended in order.
  std::string out;
  for (const auto& [key, v] : go_object_members(obj)) {
    std::vector<const Value*> values;
    if (v->is_string()) {
      values.push_back(v);
    } else if (v->is_array() || v->is_set()) {
      for (const Value& x : v->is_array() ? v->array_items() : v->set_items()) {
        if (!x.is_string()) operand_error(kName, 1, "values must be string, array[string], or set[string]");
        values.push_back(&x);
      }
    } else {
      operand_error(kName, 1, "values must be string, array[string], or set[string]");
    }
    for (const Value* x : values) {
      if (!out.empty()) out.push_back('&');
      out += query_escape(key) + "=" + query_escape(x->str());
    }
  }
  return Value::string(std::move(out));
}

Value urlquery_decode_object(BuiltinContext&, std::span<const Value> a) {
  static constexpr std::string_view kName = "urlquery.decode_object";
  std::string_view query = arg_string(kName, a, 0);
  // url.ParseQuery: the first error wins except that a ';' always reports.
  std::map<std::string, ValueVec> params;
  std::string err;
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (pair.find(';') != std::string_view::npos) {
      err = "invalid semicolon separator in query";
      continue;
    }
    if (pair.empty()) continue;
    size_t eq = pair.find('=');
    std::string key, value, e;
    if (!query_unescape(pair.substr(0, eq), key, e) ||
        !query_unescape(eq == std::string_view::npos ? "" : pair.substr(eq + 1), value, e)) {
      if (err.empty()) err = e;
      continue;
    }
    params[key].push_back(Value::string(std::move(value)));
  }
  if (!err.empty()) builtin_error(kName, err);
  ObjectItems items;
  for (auto& [k, v] : params) items.emplace_back(Value::string(k), Value::array(std::move(v)));
  return Value::object(std::move(items));
}

// ---------------------------------------------------------------- json

Value json_marshal(BuiltinContext&, std::span<const Value> a) {
  std::string out;
  append_go_json(out, a[0], "", "", false, 0);
  return Value::string(std::move(out));
}

Value json_marshal_with_options(BuiltinContext&, std::span<const Value> a) {
  static constexpr std::string_view kName = "json.marshal_with_options";
  const Value& opts = arg_object(kName, a, 1);
  std::string indent = "\t", prefix;
  bool implicit_pretty = false, explicit_set = false, pretty = false;
  int idx = 0;
  for (const auto& [k, v] : opts.object_items()) {
    if (!k.is_string()) {
      operand_error(kName, 2,
                    "failed to stringify key " + to_rego(k) + " at index " + std::to_string(idx) + ": operand " +
                        std::to_string(idx) + " must be string but got " + kind_name(k.kind()));
    }
    const std::string& key = k.str();
    if (key == "prefix" || key == "indent") {
      if (!v.is_string()) {
        operand_error(kName, 2,
                      "key " + key + " failed cast to string: operand " + std::to_string(idx) +
                          " must be string but got " + kind_name(v.kind()));
      }
      (key == "prefix" ? prefix : indent) = v.str();
      implicit_pretty = true;
    } else if (key == "pretty") {
      explicit_set = true;
      if (!v.is_bool()) operand_error(kName, 2, "key pretty failed cast to bool");
      pretty = v.as_bool();
    } else {
      operand_error(kName, 2, "object contained unknown key " + key);
    }
    ++idx;
  }
  if (!explicit_set) pretty = implicit_pretty;
  std::string out;
  if (pretty) out = prefix;  // MarshalIndent does not prefix the first line; OPA does
  append_go_json(out, a[0], prefix, indent, pretty, 0);
  return Value::string(std::move(out));
}

Value json_unmarshal(BuiltinContext&, std::span<const Value> a) {
  const std::string& s = arg_string("json.unmarshal", a, 0);
  Value out;
  std::string err;
  if (!go_json_unmarshal(s, out, err)) builtin_error("json.unmarshal", err);
  return out;
}

Value json_is_valid(BuiltinContext&, std::span<const Value> a) {
  if (!a[0].is_string()) return Value::false_value();
  return Value::boolean(GoJsonScanner(a[0].str()).document());
}

// ---------------------------------------------------------------- YAML (go-yaml v2 semantics)

// Go's strconv.FormatFloat(f, 'g', -1, bits).
std::string format_float_g(double f, bool float32) {
  // Go converts to float32 first: a value beyond its range formats as +Inf/-Inf.
  if (float32) f = static_cast<double>(static_cast<float>(f));
  if (std::isnan(f)) return "NaN";
  if (std::isinf(f)) return f > 0 ? "+Inf" : "-Inf";
  char buf[64];
  auto res = float32 ? std::to_chars(buf, buf + sizeof buf, static_cast<float>(f), std::chars_format::scientific)
                     : std::to_chars(buf, buf + sizeof buf, f, std::chars_format::scientific);
  std::string sci(buf, res.ptr);  // "-d.ddde+XX"
  bool neg = sci[0] == '-';
  if (neg) sci.erase(0, 1);
  size_t e = sci.find('e');
  std::string digits = sci.substr(0, e);
  digits.erase(std::remove(digits.begin(), digits.end(), '.'), digits.end());
  int exp = std::stoi(sci.substr(e + 1));
  std::string out = neg ? "-" : "";
  if (digits == "0") return out + "0";
  if (exp < -4 || exp >= 6) {  // shortest %g switches to %e at precision 6
    out += digits.substr(0, 1);
    if (digits.size() > 1) out += "." + digits.substr(1);
    out += exp < 0 ? "e-" : "e+";
    std::string ex = std::to_string(std::abs(exp));
    if (ex.size() < 2) ex = "0" + ex;
    return out + ex;
  }
  if (exp < 0) return out + "0." + std::string(static_cast<size_t>(-exp - 1), '0') + digits;
  if (static_cast<size_t>(exp) + 1 >= digits.size()) {
    return out + digits + std::string(static_cast<size_t>(exp) + 1 - digits.size(), '0');
  }
  return out + digits.substr(0, static_cast<size_t>(exp) + 1) + "." + digits.substr(static_cast<size_t>(exp) + 1);
}

// A resolved YAML scalar (go-yaml's resolve()).
struct Scalar {
  enum Type { kNull, kBool, kInt, kUint, kFloat, kStr, kMerge, kTimestamp } type = kStr;
  bool b = false;
  int64_t i = 0;
  uint64_t u = 0;
  double f = 0;
  std::string s;
};

bool all_digits(std::string_view s, int base) {
  if (s.empty()) return false;
  for (char c : s) {
    int v = hex_value(c);
    if (v < 0 || v >= base) return false;
  }
  return true;
}

// strconv.ParseUint(s, 0, 64) (no sign).
std::optional<uint64_t> parse_uint0(std::string_view s) {
  int base = 10;
  if (s.size() >= 2 && s[0] == '0') {
    char p = static_cast<char>(tolower(static_cast<unsigned char>(s[1])));
    if (p == 'x')
      base = 16, s.remove_prefix(2);
    else if (p == 'o')
      base = 8, s.remove_prefix(2);
    else if (p == 'b')
      base = 2, s.remove_prefix(2);
    else
      base = 8, s.remove_prefix(1);
  }
  if (!all_digits(s, base)) return std::nullopt;
  uint64_t v = 0;
  for (char c : s) {
    auto d = static_cast<uint64_t>(hex_value(c));
    if (v > (UINT64_MAX - d) / static_cast<uint64_t>(base)) return std::nullopt;
    v = v * static_cast<uint64_t>(base) + d;
  }
  return v;
}

// strconv.ParseInt(s, 0, 64).
std::optional<int64_t> parse_int0(std::string_view s) {
  bool neg = false;
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) {
    neg = s[0] == '-';
    s.remove_prefix(1);
  }
  auto u = parse_uint0(s);
  if (!u) return std::nullopt;
  if (neg) {
    if (*u > static_cast<uint64_t>(INT64_MAX) + 1) return std::nullopt;
    return static_cast<int64_t>(0 - *u);
  }
  if (*u > static_cast<uint64_t>(INT64_MAX)) return std::nullopt;
  return static_cast<int64_t>(*u);
}

// Go's time.Parse for go-yaml's timestamp layouts (date, optionally with a
// time separated by 'T', 't' or ' ', and an optional zone).
bool is_yaml_timestamp(std::string_view s) {
  size_t i = 0;
  auto num = [&](size_t min, size_t max, int& v) {
    size_t st = i;
    v = 0;
    while (i < s.size() && i - st < max && isdigit(static_cast<unsigned char>(s[i]))) v = v * 10 + (s[i++] - '0');
    return i - st >= min;
  };
  int y, mo, d;
  if (!num(4, 4, y) || i >= s.size() || s[i++] != '-' || !num(1, 2, mo) || i >= s.size() || s[i++] != '-' ||
      !num(1, 2, d)) {
    return false;
  }
  static const int kDays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (mo < 1 || mo > 12 || d < 1 || d > kDays[mo - 1]) return false;
  if (mo == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0)) return false;
  if (i == s.size()) return true;
  char sep = s[i++];
  if (sep != 'T' && sep != 't' && sep != ' ') return false;
  int h, mi, se;
  if (!num(1, 2, h) || i >= s.size() || s[i++] != ':' || !num(1, 2, mi) || i >= s.size() || s[i++] != ':' ||
      !num(1, 2, se)) {
    return false;
  }
  if (h > 23 || mi > 59 || se > 59) return false;
  if (i < s.size() && s[i] == '.') {
    ++i;
    int frac;
    if (!num(1, 9, frac)) return false;
  }
  if (i == s.size()) return true;
  if (sep == ' ') return false;  // that layout has no zone
  if (s[i] == 'Z' && i + 1 == s.size()) return true;
  if (s[i] != '+' && s[i] != '-') return false;
  ++i;
  int zh, zm;
  return num(2, 2, zh) && i < s.size() && s[i++] == ':' && num(2, 2, zm) && i == s.size() && zh < 24 && zm < 60;
}

const RE2& yaml_float_re() {
  static const RE2 re("[-+]?(\\.[0-9]+|[0-9]+(\\.[0-9]*)?)([eE][-+]?[0-9]+)?");
  return re;
}

bool is_base60_float(std::string_view s) {
  static const RE2 re("[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\\.[0-9_]*)?");
  return RE2::FullMatch(re2::StringPiece(s.data(), s.size()), re);
}

// go-yaml v2 resolve("", s) for an untagged plain scalar.
Scalar resolve_plain(std::string_view in) {
  Scalar r;
  r.s = std::string(in);
  // go-yaml's resolve table: 0 false, 1 true, 2 null, 3 NaN, 4 +Inf, 5 -Inf, 6 merge key.
  static const std::map<std::string_view, int> kMap = {
      {"y", 1},     {"Y", 1},     {"yes", 1},   {"Yes", 1},   {"YES", 1},   {"true", 1},  {"True", 1},  {"TRUE", 1},
      {"on", 1},    {"On", 1},    {"ON", 1},    {"n", 0},     {"N", 0},     {"no", 0},    {"No", 0},    {"NO", 0},
      {"false", 0}, {"False", 0}, {"FALSE", 0}, {"off", 0},   {"Off", 0},   {"OFF", 0},   {"", 2},      {"~", 2},
      {"null", 2},  {"Null", 2},  {"NULL", 2},  {".nan", 3},  {".NaN", 3},  {".NAN", 3},  {".inf", 4},  {".Inf", 4},
      {".INF", 4},  {"+.inf", 4}, {"+.Inf", 4}, {"+.INF", 4}, {"-.inf", 5}, {"-.Inf", 5}, {"-.INF", 5}, {"<<", 6}};
  char c = in.empty() ? 'N' : in[0];
  bool hinted = in.empty() || std::string_view("+-0123456789yYnNtTfFoO~.<").find(c) != std::string_view::npos;
  if (!hinted) return r;
  if (auto it = kMap.find(in); it != kMap.end()) {
    switch (it->second) {
      case 0:
      case 1: r.type = Scalar::kBool, r.b = it->second == 1; break;
      case 2: r.type = Scalar::kNull; break;
      case 3: r.type = Scalar::kFloat, r.f = std::nan(""); break;
      case 4: r.type = Scalar::kFloat, r.f = INFINITY; break;
      case 5: r.type = Scalar::kFloat, r.f = -INFINITY; break;
      case 6: r.type = Scalar::kMerge; break;
    }
    return r;
  }
  auto parse_float = [&](std::string_view t) -> bool {
    std::string z(t);
    if (!z.empty() && z[0] == '+') z.erase(0, 1);
    char* end = nullptr;
    errno = 0;
    double f = strtod(z.c_str(), &end);
    if (errno == ERANGE && std::isinf(f)) return false;  // Go reports overflow as an error
    r.type = Scalar::kFloat;
    r.f = f;
    return true;
  };
  if (c == '.') {
    static const RE2 dot("\\.[0-9]+([eE][-+]?[0-9]+)?");
    if (RE2::FullMatch(re2::StringPiece(in.data(), in.size()), dot)) parse_float(in);
    return r;
  }
  if (c == '+' || c == '-' || (c >= '0' && c <= '9')) {
    if (is_yaml_timestamp(in)) {
      r.type = Scalar::kTimestamp;
      return r;
    }
    std::string plain;
    for (char ch : in) {
      if (ch != '_') plain.push_back(ch);
    }
    if (auto i = parse_int0(plain)) {
      r.type = Scalar::kInt;
      r.i = *i;
    } else if (auto u = plain[0] == '+' || plain[0] == '-' ? std::nullopt : parse_uint0(plain)) {
      r.type = Scalar::kUint;
      r.u = *u;
    } else if (RE2::FullMatch(plain, yaml_float_re())) {
      parse_float(plain);
    }
  }
  return r;
}

std::string yaml_error(const yaml_parser_t& p) {
  // go-yaml's parser.fail(): scanner errors report a 1-based line, parser
  // errors the 0-based one (a long-standing go-yaml quirk).
  size_t line = 0;
  if (p.problem_mark.line != 0) {
    line = p.problem_mark.line;
    if (p.error == YAML_SCANNER_ERROR) ++line;
  } else if (p.context_mark.line != 0) {
    line = p.context_mark.line;
  }
  std::string msg = "yaml: ";
  if (line) msg += "line " + std::to_string(line) + ": ";
  msg += p.problem ? p.problem : "unknown problem parsing YAML content";
  return msg;
}

struct YamlFail {
  std::string msg;
};

// Loads the first document of a YAML stream the way sigs.k8s.io/yaml's
// YAMLToJSON does (go-yaml v2 decoding, then JSON conversion). The rest of
// the stream is still parsed so that syntax errors anywhere are reported.
class YamlLoader {
 public:
  explicit YamlLoader(std::string_view text) {
    yaml_parser_initialize(&p_);
    yaml_parser_set_input_string(&p_, reinterpret_cast<const unsigned char*>(text.data()), text.size());
  }
  ~YamlLoader() {
    if (have_) yaml_event_delete(&ev_);
    yaml_parser_delete(&p_);
  }
  YamlLoader(const YamlLoader&) = delete;
  YamlLoader& operator=(const YamlLoader&) = delete;

  Value load() {
    next();  // STREAM-START
    next();
    Value doc = Value::null();
    if (ev_.type == YAML_DOCUMENT_START_EVENT) {
      next();
      doc = node(0).value;
      next();  // DOCUMENT-END
      while (ev_.type != YAML_STREAM_END_EVENT) next();
    }
    return doc;
  }

 private:
  struct Node {
    Value value;
    Scalar key;  // for scalars: the resolved form (map keys are stringified from it)
    bool is_scalar = false;
    bool is_map = false;
  };

  void next() {
    if (have_) yaml_event_delete(&ev_);
    have_ = yaml_parser_parse(&p_, &ev_) != 0;
    if (!have_) throw YamlFail{yaml_error(p_)};
  }

  static std::string str(const yaml_char_t* s) { return s ? reinterpret_cast<const char*>(s) : ""; }

  // Counts decoded nodes like go-yaml's alias-expansion guard: an alias costs
  // the size of what it refers to.
  void count(size_t n, bool via_alias) {
    decoded_ += n;
    if (via_alias) aliased_ += n;
    if (aliased_ > 100 && decoded_ > 1000) {
      double ratio = static_cast<double>(aliased_) / static_cast<double>(decoded_);
      double allowed = decoded_ <= 400000    ? 0.99
                       : decoded_ >= 4000000 ? 0.10
                                             : 0.99 - 0.89 * (static_cast<double>(decoded_ - 400000) / 3600000.0);
      if (ratio > allowed) throw YamlFail{"yaml: document contains excessive aliasing"};
    }
  }

  Node node(int depth) {
    if (depth > 1000) throw YamlFail{"yaml: exceeded max depth of 1000"};
    Node n;
    std::string anchor;
    size_t before = decoded_;
    switch (ev_.type) {
      case YAML_ALIAS_EVENT: {
        std::string name = str(ev_.data.alias.anchor);
        auto it = anchors_.find(name);
        if (it == anchors_.end()) throw YamlFail{"yaml: unknown anchor '" + name + "' referenced"};
        if (!it->second.second) throw YamlFail{"yaml: anchor '" + name + "' value contains itself"};
        count(sizes_[name], true);
        n = it->second.first;
        next();
        return n;
      }
      case YAML_SCALAR_EVENT: {
        anchor = str(ev_.data.scalar.anchor);
        n = scalar();
        n.is_scalar = true;
        count(1, false);
        next();
        break;
      }
      case YAML_SEQUENCE_START_EVENT: {
        anchor = str(ev_.data.sequence_start.anchor);
        if (!anchor.empty()) anchors_[anchor] = {Node{}, false};
        count(1, false);
        next();
        ValueVec items;
        while (ev_.type != YAML_SEQUENCE_END_EVENT) items.push_back(node(depth + 1).value);
        next();
        n.value = Value::array(std::move(items));
        break;
      }
      case YAML_MAPPING_START_EVENT: {
        anchor = str(ev_.data.mapping_start.anchor);
        if (!anchor.empty()) anchors_[anchor] = {Node{}, false};
        count(1, false);
        next();
        // Later keys replace earlier ones, merged keys included (go-yaml
        // assigns into the same Go map in document order).
        std::vector<std::pair<std::string, Value>> entries;
        while (ev_.type != YAML_MAPPING_END_EVENT) {
          Node k = node(depth + 1);
          Node v = node(depth + 1);
          if (k.is_scalar && k.key.type == Scalar::kMerge) {
            merge(v, entries);
            continue;
          }
          entries.emplace_back(key_string(k), v.value);
        }
        next();
        ObjectItems items;
        for (auto& [k, v] : entries) items.emplace_back(Value::string(k), std::move(v));
        n.value = Value::object(std::move(items));
        n.is_map = true;
        break;
      }
      default: throw YamlFail{"yaml: unexpected event"};
    }
    if (!anchor.empty()) {
      anchors_[anchor] = {n, true};
      sizes_[anchor] = decoded_ - before;
    }
    return n;
  }

  static void merge(const Node& v, std::vector<std::pair<std::string, Value>>& entries) {
    auto add = [&](const Value& m) {
      if (!m.is_object()) throw YamlFail{"yaml: map merge requires map or sequence of maps as the value"};
      for (const auto& [k, x] : m.object_items()) entries.emplace_back(k.str(), x);
    };
    if (v.is_map) {
      add(v.value);
    } else if (v.value.is_array() && !v.is_scalar) {
      // Earlier maps take precedence: apply them last.
      const ValueVec& maps = v.value.array_items();
      for (auto it = maps.rbegin(); it != maps.rend(); ++it) add(*it);
    } else {
      throw YamlFail{"yaml: map merge requires map or sequence of maps as the value"};
    }
  }

  // sigs.k8s.io/yaml turns the decoded Go map keys into JSON object keys.
  static std::string key_string(const Node& k) {
    if (!k.is_scalar) throw YamlFail{"yaml: invalid map key: " + to_json(k.value)};
    const Scalar& s = k.key;
    switch (s.type) {
      case Scalar::kStr:
      case Scalar::kTimestamp: return s.s;
      case Scalar::kInt: return std::to_string(s.i);
      case Scalar::kBool: return s.b ? "true" : "false";
      case Scalar::kFloat: {
        std::string f = format_float_g(s.f, true);
        if (f == "+Inf") return ".inf";
        if (f == "-Inf") return "-.inf";
        if (f == "NaN") return ".nan";
        return f;
      }
      case Scalar::kUint: throw YamlFail{"unsupported map key of type: uint64, key: " + std::to_string(s.u)};
      default: throw YamlFail{"unsupported map key of type: <nil>, key: <nil>"};
    }
  }

  Node scalar() {
    Node n;
    std::string value(reinterpret_cast<const char*>(ev_.data.scalar.value), ev_.data.scalar.length);
    std::string tag = str(ev_.data.scalar.tag);
    static const std::string kTag = "tag:yaml.org,2002:";
    Scalar r;
    if (tag.empty() && !ev_.data.scalar.plain_implicit) {
      r.s = value;  // quoted or block scalar: always a string
    } else if (tag.empty() || tag == kTag + "str" || tag == kTag + "binary" || tag.rfind(kTag, 0) != 0) {
      r.s = value;
      if (tag.empty()) r = resolve_plain(value);
      if (tag == kTag + "binary") {
        std::string bytes, err;
        std::string compact;
        for (char ch : value) {
          if (!isspace(static_cast<unsigned char>(ch))) compact.push_back(ch);
        }
        if (!b64_decode(compact, kStdAlphabet, bytes, err)) {
          throw YamlFail{"yaml: !!binary value contains invalid base64 data"};
        }
        r.s = sanitize_utf8(bytes);
      }
    } else {
      // An explicit standard tag must agree with the resolved type.
      std::string want = tag.substr(kTag.size());
      r = resolve_plain(value);
      std::string got = r.type == Scalar::kNull                             ? "null"
                        : r.type == Scalar::kBool                           ? "bool"
                        : r.type == Scalar::kInt || r.type == Scalar::kUint ? "int"
                        : r.type == Scalar::kFloat                          ? "float"
                        : r.type == Scalar::kTimestamp                      ? "timestamp"
                        : r.type == Scalar::kMerge                          ? "merge"
                                                                            : "str";
      if (want == "float" && got == "int") {
        r.f = r.type == Scalar::kInt ? static_cast<double>(r.i) : static_cast<double>(r.u);
        r.type = Scalar::kFloat;
      } else if (want == "timestamp" && got == "timestamp") {
        r.type = Scalar::kStr;
      } else if (want != got && (want == "null" || want == "bool" || want == "int" || want == "float" ||
                                 want == "timestamp" || want == "merge")) {
        throw YamlFail{"yaml: cannot decode !!" + got + " `" + value + "` as a !!" + want};
      } else if (want != got) {
        r = Scalar{};
        r.s = value;  // other tags (!!map on a scalar, ...) keep the text
      }
    }
    n.key = r;
    switch (r.type) {
      case Scalar::kNull: n.value = Value::null(); break;
      case Scalar::kBool: n.value = Value::boolean(r.b); break;
      case Scalar::kInt: n.value = Value::integer(r.i); break;
      case Scalar::kUint: n.value = Value::number_from_text(std::to_string(r.u)); break;
      case Scalar::kFloat:
        if (std::isnan(r.f) || std::isinf(r.f)) {
          throw YamlFail{std::string("json: unsupported value: ") + format_float_g(r.f, false)};
        }
        n.value = Value::real(r.f);
        break;
      case Scalar::kMerge: n.value = Value::string("<<"); break;
      default: n.value = Value::string(r.s);
    }
    return n;
  }

  yaml_parser_t p_;
  yaml_event_t ev_;
  bool have_ = false;
  std::map<std::string, std::pair<Node, bool>> anchors_;  // bool: complete
  std::map<std::string, size_t> sizes_;
  size_t decoded_ = 0, aliased_ = 0;
};

bool yaml_load(std::string_view text, Value& out, std::string& err) {
  try {
    YamlLoader loader(text);
    out = loader.load();
    return true;
  } catch (const YamlFail& f) {
    err = f.msg;
    return false;
  }
}

// go-yaml v2 map key order ("natural" order: digit runs compare numerically).
bool yaml_key_less(std::string_view a, std::string_view b) {
  std::vector<uint32_t> ar, br;
  for (size_t i = 0; i < a.size();) {
    Rune r = decode_rune(a, i);
    ar.push_back(r.cp);
    i += r.width;
  }
  for (size_t i = 0; i < b.size();) {
    Rune r = decode_rune(b, i);
    br.push_back(r.cp);
    i += r.width;
  }
  auto letter = [](uint32_t c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c >= 0x80; };
  auto digit = [](uint32_t c) { return c >= '0' && c <= '9'; };
  for (size_t i = 0; i < ar.size() && i < br.size(); ++i) {
    if (ar[i] == br[i]) continue;
    bool al = letter(ar[i]), bl = letter(br[i]);
    if (al && bl) return ar[i] < br[i];
    if (al || bl) return bl;
    int64_t an = 0, bn = 0;
    if (ar[i] == '0' || br[i] == '0') {
      for (size_t j = i; j-- > 0 && digit(ar[j]);) {
        if (ar[j] != '0') {
          an = bn = 1;
          break;
        }
      }
    }
    size_t ai = i, bi = i;
    for (; ai < ar.size() && digit(ar[ai]); ++ai) an = an * 10 + (ar[ai] - '0');
    for (; bi < br.size() && digit(br[bi]); ++bi) bn = bn * 10 + (br[bi] - '0');
    if (an != bn) return an < bn;
    if (ai != bi) return ai < bi;
    return ar[i] < br[i];
  }
  return ar.size() < br.size();
}

class YamlEmitter {
 public:
  YamlEmitter() {
    yaml_emitter_initialize(&e_);
    yaml_emitter_set_output(&e_, &YamlEmitter::write, &out_);
    yaml_emitter_set_unicode(&e_, 1);
  }
  ~YamlEmitter() { yaml_emitter_delete(&e_); }
  YamlEmitter(const YamlEmitter&) = delete;
  YamlEmitter& operator=(const YamlEmitter&) = delete;

  std::string dump(const Value& v) {
    yaml_event_t ev;
    yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING);
    emit(ev);
    yaml_document_start_event_initialize(&ev, nullptr, nullptr, nullptr, 1);
    emit(ev);
    node(v);
    yaml_document_end_event_initialize(&ev, 1);
    emit(ev);
    yaml_stream_end_event_initialize(&ev);
    emit(ev);
    yaml_emitter_flush(&e_);
    return out_;
  }

 private:
  static int write(void* data, unsigned char* buf, size_t n) {
    static_cast<std::string*>(data)->append(reinterpret_cast<const char*>(buf), n);
    return 1;
  }
  void emit(yaml_event_t& ev) {
    if (!yaml_emitter_emit(&e_, &ev)) throw YamlFail{std::string("yaml: ") + (e_.problem ? e_.problem : "emit")};
  }
  void scalar(std::string_view s, yaml_scalar_style_t style) {
    yaml_event_t ev;
    yaml_scalar_event_initialize(&ev, nullptr, nullptr, reinterpret_cast<yaml_char_t*>(const_cast<char*>(s.data())),
                                 static_cast<int>(s.size()), 1, 1, style);
    emit(ev);
  }
  // go-yaml's stringv: quote what would resolve to another type.
  void string(std::string_view s) {
    Scalar r = resolve_plain(s);
    bool plain = r.type == Scalar::kStr && !is_base60_float(s);
    if (s.find('\n') != std::string_view::npos)
      scalar(s, YAML_LITERAL_SCALAR_STYLE);
    else
      scalar(s, plain ? YAML_PLAIN_SCALAR_STYLE : YAML_DOUBLE_QUOTED_SCALAR_STYLE);
  }
  void node(const Value& v) {
    yaml_event_t ev;
    switch (v.kind()) {
      case Kind::Undefined:
      case Kind::Null: scalar("null", YAML_PLAIN_SCALAR_STYLE); break;
      case Kind::Bool: scalar(v.as_bool() ? "true" : "false", YAML_PLAIN_SCALAR_STYLE); break;
      case Kind::Number: {
        // The JSON number text is re-read by go-yaml: an int, a float, or
        // (out of range) a string.
        std::string text = v.number_text();
        Scalar r = resolve_plain(text);
        if (r.type == Scalar::kInt)
          scalar(std::to_string(r.i), YAML_PLAIN_SCALAR_STYLE);
        else if (r.type == Scalar::kUint)
          scalar(std::to_string(r.u), YAML_PLAIN_SCALAR_STYLE);
        else if (r.type == Scalar::kFloat)
          scalar(format_float_g(r.f, false), YAML_PLAIN_SCALAR_STYLE);
        else
          string(text);
        break;
      }
      case Kind::String: string(valid_utf8(v.str()) ? v.str() : sanitize_utf8(v.str())); break;
      case Kind::Array:
      case Kind::Set:
        yaml_sequence_start_event_initialize(&ev, nullptr, nullptr, 1, YAML_BLOCK_SEQUENCE_STYLE);
        emit(ev);
        for (const Value& x : v.is_array() ? v.array_items() : v.set_items()) node(x);
        yaml_sequence_end_event_initialize(&ev);
        emit(ev);
        break;
      case Kind::Object: {
        auto members = go_object_members(v);
        for (auto& m : members) {
          if (!valid_utf8(m.first)) m.first = sanitize_utf8(m.first);
        }
        std::stable_sort(members.begin(), members.end(),
                         [](const auto& a, const auto& b) { return yaml_key_less(a.first, b.first); });
        yaml_mapping_start_event_initialize(&ev, nullptr, nullptr, 1, YAML_BLOCK_MAPPING_STYLE);
        emit(ev);
        for (const auto& [k, x] : members) {
          string(k);
          node(*x);
        }
        yaml_mapping_end_event_initialize(&ev);
        emit(ev);
        break;
      }
    }
  }

  yaml_emitter_t e_;
  std::string out_;
};

Value yaml_marshal(BuiltinContext&, std::span<const Value> a) {
  try {
    YamlEmitter em;
    return Value::string(em.dump(a[0]));
  } catch (const YamlFail& f) {
    builtin_error("yaml.marshal", f.msg);
  }
}

Value yaml_unmarshal(BuiltinContext&, std::span<const Value> a) {
  const std::string& s = arg_string("yaml.unmarshal", a, 0);
  Value out;
  std::string err;
  if (!yaml_load(s, out, err)) builtin_error("yaml.unmarshal", err);
  return out;
}

Value yaml_is_valid(BuiltinContext&, std::span<const Value> a) {
  if (!a[0].is_string()) return Value::false_value();
  Value out;
  std::string err;
  return Value::boolean(yaml_load(a[0].str(), out, err));
}

}  // namespace

void register_encoding(BuiltinRegistry& r) {
  r.add("base64.encode", 1, base64_encode);
  r.add("base64.decode", 1, base64_decode);
  r.add("base64.is_valid", 1, base64_is_valid);
  r.add("base64url.encode", 1, base64url_encode);
  r.add("base64url.encode_no_pad", 1, base64url_encode_no_pad);
  r.add("base64url.decode", 1, base64url_decode);
  r.add("hex.encode", 1, hex_encode);
  r.add("hex.decode", 1, hex_decode);
  r.add("urlquery.encode", 1, urlquery_encode);
  r.add("urlquery.decode", 1, urlquery_decode);
  r.add("urlquery.encode_object", 1, urlquery_encode_object);
  r.add("urlquery.decode_object", 1, urlquery_decode_object);
  r.add("json.marshal", 1, json_marshal);
  r.add("json.marshal_with_options", 2, json_marshal_with_options);
  r.add("json.unmarshal", 1, json_unmarshal);
  r.add("json.is_valid", 1, json_is_valid);
  r.add("yaml.marshal", 1, yaml_marshal);
  r.add("yaml.unmarshal", 1, yaml_unmarshal);
  r.add("yaml.is_valid", 1, yaml_is_valid);
}

}  // namespace confidant::rego
