// io.jwt.*: JWT/JWS decoding, verification and signing on OpenSSL 3 (EVP
// APIs only).
//
// Follows OPA v1's topdown/tokens.go: the same checks in the same order and
// the same error texts (Go's encoding/json syntax errors included), with the
// JWK handling OPA gets from lestrrat-go/jwx. Tokens use the JWS compact
// serialization; JWE is rejected. ECDSA signatures are JOSE's raw r||s, not
// DER. Keys for verification come from a PEM certificate, a PEM public key
// or a JWK/JWKS; keys for signing come from a JWK.
//
// Deliberate differences: OPA's optional inter-query token cache is not
// implemented (it is off by default); JWK parse errors do not reproduce
// jwx's wording word for word.
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/param_build.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "rego/builtins/builtins.h"

namespace confidant::rego {

void register_tokens(BuiltinRegistry& r);

namespace {

// ---------------------------------------------------------------- OpenSSL RAII

template <auto F>
struct Free {
  template <class T>
  void operator()(T* p) const {
    F(p);
  }
};
using PKey = std::unique_ptr<EVP_PKEY, Free<EVP_PKEY_free>>;
using MdCtx = std::unique_ptr<EVP_MD_CTX, Free<EVP_MD_CTX_free>>;
using PKeyCtx = std::unique_ptr<EVP_PKEY_CTX, Free<EVP_PKEY_CTX_free>>;
using Bn = std::unique_ptr<BIGNUM, Free<BN_free>>;
using X509Ptr = std::unique_ptr<X509, Free<X509_free>>;
using ParamBld = std::unique_ptr<OSSL_PARAM_BLD, Free<OSSL_PARAM_BLD_free>>;
using Params = std::unique_ptr<OSSL_PARAM, Free<OSSL_PARAM_free>>;
using EcSig = std::unique_ptr<ECDSA_SIG, Free<ECDSA_SIG_free>>;

const unsigned char* u8(std::string_view s) { return reinterpret_cast<const unsigned char*>(s.data()); }

// A failure inside a builtin; the builtin reports it as "NAME: message".
struct Fail : std::runtime_error {
  using std::runtime_error::runtime_error;
};

template <class F>
Value guarded(std::string_view name, F&& body) {
  try {
    return body();
  } catch (const Fail& e) {
    ERR_clear_error();  // never leave OpenSSL errors behind for unrelated callers
    builtin_error(name, e.what());
  }
}

// ---------------------------------------------------------------- base64 (Go's encoding/base64)

constexpr std::string_view kStdAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr std::string_view kUrlAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

std::string b64_encode(std::string_view in, std::string_view alphabet, bool pad) {
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  for (size_t i = 0; i < in.size(); i += 3) {
    size_t n = std::min<size_t>(3, in.size() - i);
    uint32_t v = static_cast<uint32_t>(static_cast<unsigned char>(in[i])) << 16;
    if (n > 1) v |= static_cast<uint32_t>(static_cast<unsigned char>(in[i + 1])) << 8;
    if (n > 2) v |= static_cast<unsigned char>(in[i + 2]);
    for (size_t j = 0; j < 4; ++j) {
      if (j <= n) {
        out.push_back(alphabet[(v >> (18 - 6 * j)) & 63]);
      } else if (pad) {
        out.push_back('=');
      }
    }
  }
  return out;
}

// Go's Encoding.DecodeString with padding (not strict): \r and \n are skipped
// anywhere; errors name the offending input byte.
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
      if (in != '=' || j < 2) return corrupt(si - 1);
      if (j == 2) {  // "==" expected
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

// OPA's base64url.decode, which the token builtins call: unpadded input is
// padded first (RFC 7515 appendix C).
bool b64url_opa(std::string s, std::string& out, std::string& err) {
  if (s.empty() || s.back() != '=') {
    switch (s.size() % 4) {
      case 0: break;
      case 2: s += "=="; break;
      case 3: s += "="; break;
      default: err = "illegal base64url string: " + s; return false;
    }
  }
  return b64_decode(s, kUrlAlphabet, out, err);
}

// JWK members: base64url without padding, but like jwx also accept padding
// and the standard alphabet.
bool b64_lenient(std::string_view s, std::string& out) {
  while (!s.empty() && s.back() == '=') s.remove_suffix(1);
  bool std_alpha = s.find_first_of("+/") != std::string_view::npos;
  std::string padded(s);
  padded.append((4 - padded.size() % 4) % 4, '=');
  std::string err;
  return b64_decode(padded, std_alpha ? kStdAlphabet : kUrlAlphabet, out, err);
}

std::string to_hex(std::string_view s) {
  static const char* hex = "0123456789abcdef";
  std::string out;
  out.reserve(2 * s.size());
  for (unsigned char c : s) {
    out.push_back(hex[c >> 4]);
    out.push_back(hex[c & 15]);
  }
  return out;
}

// ---------------------------------------------------------------- UTF-8

// Length of the valid UTF-8 sequence at s[i] (its code point in `cp`), or 0.
size_t utf8_seq(std::string_view s, size_t i, uint32_t& cp) {
  unsigned char c = static_cast<unsigned char>(s[i]);
  if (c < 0x80) {
    cp = c;
    return 1;
  }
  size_t n = c >= 0xF5 ? 0 : c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 ? 2 : 0;
  if (n == 0 || i + n > s.size()) return 0;
  cp = n == 4 ? c & 7 : n == 3 ? c & 15 : c & 31;
  for (size_t k = 1; k < n; ++k) {
    unsigned char cc = static_cast<unsigned char>(s[i + k]);
    if ((cc & 0xC0) != 0x80) return 0;
    cp = cp << 6 | (cc & 0x3F);
  }
  bool overlong = (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000);
  if (overlong || (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF) return 0;
  return n;
}

// Go's json decoding turns invalid UTF-8 in strings into U+FFFD.
std::string fix_utf8(std::string_view s) {
  std::string out;
  uint32_t cp;
  for (size_t i = 0; i < s.size();) {
    size_t n = utf8_seq(s, i, cp);
    if (n == 0) {
      out += "\xEF\xBF\xBD";
      ++i;
    } else {
      out.append(s.substr(i, n));
      i += n;
    }
  }
  return out;
}

Value fix_utf8(const Value& v) {
  switch (v.kind()) {
    case Kind::String: return Value::string(fix_utf8(v.str()));
    case Kind::Array: {
      ValueVec items;
      for (const Value& e : v.array_items()) items.push_back(fix_utf8(e));
      return Value::array(std::move(items));
    }
    case Kind::Object: {
      ObjectItems items;
      for (const auto& [k, e] : v.object_items()) items.emplace_back(fix_utf8(k), fix_utf8(e));
      return Value::object(std::move(items));
    }
    default: return v;
  }
}

// ---------------------------------------------------------------- Go's encoding/json syntax

// Go's quoteChar for the byte `c` (a rune U+0000..U+00FF in Go's eyes).
std::string go_quote_char(unsigned char c) {
  if (c == '\'') return "'\\''";
  if (c == '"') return "'\"'";
  static const char* hex = "0123456789abcdef";
  std::string s = "'";
  switch (c) {
    case '\a': s += "\\a"; break;
    case '\b': s += "\\b"; break;
    case '\f': s += "\\f"; break;
    case '\n': s += "\\n"; break;
    case '\r': s += "\\r"; break;
    case '\t': s += "\\t"; break;
    case '\v': s += "\\v"; break;
    case '\\': s += "\\\\"; break;
    default:
      if (c < 0x20 || c == 0x7f) {
        s += "\\x";
        s += hex[c >> 4];
        s += hex[c & 15];
      } else if (c < 0x80) {
        s += static_cast<char>(c);
      } else if (c < 0xa1 || c == 0xad) {  // not printable: \u00XX
        s += "\\u00";
        s += hex[c >> 4];
        s += hex[c & 15];
      } else {  // Latin-1 letter, printed as UTF-8
        s += static_cast<char>(0xC0 | (c >> 6));
        s += static_cast<char>(0x80 | (c & 0x3F));
      }
  }
  return s + "'";
}

// encoding/json's scanner: validates one value and reports Go's messages
// ("invalid character 'x' looking for beginning of value"). Iterative, so
// hostile nesting cannot exhaust the stack.
class GoJsonScan {
 public:
  explicit GoJsonScan(std::string_view s) : s_(s) {}

  bool value() {
    std::vector<char> stack;  // '[' or '{' of the open containers
    for (;;) {
      ws();
      if (p_ >= s_.size()) return at_eof();
      char c = s_[p_];
      if (c == '{' || c == '[') {
        ++p_;
        ws();
        if (p_ >= s_.size()) return at_eof();
        if (s_[p_] == (c == '{' ? '}' : ']')) {
          ++p_;
        } else {
          if (stack.size() >= 10000) return fail("exceeded max depth");
          stack.push_back(c);
          if (c == '{' && !key()) return false;
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
      // After a value: close containers or move on to the next element.
      for (;;) {
        if (stack.empty()) return true;
        ws();
        if (p_ >= s_.size()) return at_eof();
        char d = s_[p_++];
        bool obj = stack.back() == '{';
        if (d == ',') {
          if (obj && !key()) return false;
          break;
        }
        if (d != (obj ? '}' : ']')) return bad(d, obj ? "after object key:value pair" : "after array element");
        stack.pop_back();
      }
    }
  }

  // json.Valid: exactly one value.
  bool document() {
    if (!value()) return false;
    ws();
    return p_ >= s_.size() || bad(s_[p_], "after top-level value");
  }

  void ws() {
    while (p_ < s_.size() && (s_[p_] == ' ' || s_[p_] == '\t' || s_[p_] == '\n' || s_[p_] == '\r')) ++p_;
  }
  size_t pos() const { return p_; }
  bool eof() const { return eof_; }
  const std::string& err() const { return err_; }

 private:
  bool fail(std::string msg) {
    err_ = std::move(msg);
    return false;
  }
  bool at_eof() {
    eof_ = true;
    return fail("unexpected end of JSON input");
  }
  bool bad(char c, std::string_view where) {
    return fail("invalid character " + go_quote_char(static_cast<unsigned char>(c)) + " " + std::string(where));
  }
  bool key() {
    ws();
    if (p_ >= s_.size()) return at_eof();
    if (s_[p_] != '"') return bad(s_[p_], "looking for beginning of object key string");
    if (!string()) return false;
    ws();
    if (p_ >= s_.size()) return at_eof();
    if (s_[p_] != ':') return bad(s_[p_], "after object key");
    ++p_;
    return true;
  }
  bool string() {
    for (++p_; p_ < s_.size(); ++p_) {
      unsigned char c = static_cast<unsigned char>(s_[p_]);
      if (c == '"') {
        ++p_;
        return true;
      }
      if (c < 0x20) return bad(static_cast<char>(c), "in string literal");
      if (c != '\\') continue;
      if (++p_ >= s_.size()) return at_eof();
      char e = s_[p_];
      if (e == 'u') {
        for (int i = 0; i < 4; ++i) {
          if (++p_ >= s_.size()) return at_eof();
          if (!isxdigit(static_cast<unsigned char>(s_[p_]))) return bad(s_[p_], "in \\u hexadecimal character escape");
        }
      } else if (std::string_view("\"\\/bfnrt").find(e) == std::string_view::npos) {
        return bad(e, "in string escape code");
      }
    }
    return at_eof();
  }
  bool digits() {
    size_t start = p_;
    while (p_ < s_.size() && s_[p_] >= '0' && s_[p_] <= '9') ++p_;
    return p_ > start;
  }
  bool number() {
    if (s_[p_] == '-') {
      if (++p_ >= s_.size()) return at_eof();
      if (s_[p_] < '0' || s_[p_] > '9') return bad(s_[p_], "in numeric literal");
    }
    if (s_[p_] == '0') {
      ++p_;
    } else {
      digits();
    }
    if (p_ < s_.size() && s_[p_] == '.') {
      if (++p_ >= s_.size()) return at_eof();
      if (!digits()) return bad(s_[p_], "after decimal point in numeric literal");
    }
    if (p_ < s_.size() && (s_[p_] == 'e' || s_[p_] == 'E')) {
      ++p_;
      if (p_ < s_.size() && (s_[p_] == '+' || s_[p_] == '-')) ++p_;
      if (p_ >= s_.size()) return at_eof();
      if (!digits()) return bad(s_[p_], "in exponent of numeric literal");
    }
    return true;
  }
  bool literal() {
    std::string_view word = s_[p_] == 't' ? "true" : s_[p_] == 'f' ? "false" : "null";
    for (size_t i = 1; i < word.size(); ++i) {
      if (p_ + i >= s_.size()) return at_eof();
      if (s_[p_ + i] != word[i]) {
        char c = s_[p_ + i];
        p_ += i;
        return fail("invalid character " + go_quote_char(static_cast<unsigned char>(c)) + " in literal " +
                    std::string(word) + " (expecting " + go_quote_char(static_cast<unsigned char>(word[i])) + ")");
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

bool go_json_valid(std::string_view s) { return GoJsonScan(s).document(); }

// OPA's util.UnmarshalJSON (a json.Decoder that rejects trailing content),
// with its error texts.
bool go_unmarshal(std::string_view text, Value& out, std::string& err) {
  GoJsonScan sc(text);
  sc.ws();
  if (sc.pos() >= text.size()) {
    err = "EOF";
    return false;
  }
  if (!sc.value()) {
    err = sc.eof() ? "unexpected EOF" : sc.err();
    return false;
  }
  size_t end = sc.pos();
  sc.ws();
  if (sc.pos() < text.size()) {
    char c = text[sc.pos()];
    bool token = std::string_view("{}[],:\"-0123456789tfn").find(c) != std::string_view::npos;
    err = token
              ? "error: invalid character " + go_quote_char(static_cast<unsigned char>(c)) + " after top-level value"
              : "invalid character " + go_quote_char(static_cast<unsigned char>(c)) + " looking for beginning of value";
    return false;
  }
  if (!parse_json(text.substr(0, end), out, err)) return false;
  if (fix_utf8(text) != text) out = fix_utf8(out);  // rare: rebuild only when needed
  return true;
}

// OPA's extractJSONObject.
Value extract_object(std::string_view s) {
  Value v;
  std::string err;
  if (!go_unmarshal(s, v, err)) throw Fail("invalid JSON: " + err);
  if (!v.is_object()) throw Fail("decoded JSON type was not an Object");
  return v;
}

// json.Marshal of ast.JSON(v): compact, object keys sorted, HTML-escaped
// strings, invalid UTF-8 replaced (what OPA signs in io.jwt.encode_sign).
void go_marshal_string(std::string& out, std::string_view s) {
  static const char* hex = "0123456789abcdef";
  out.push_back('"');
  uint32_t cp;
  for (size_t i = 0; i < s.size();) {
    size_t n = utf8_seq(s, i, cp);
    if (n == 0) {
      out += "\\ufffd";
      ++i;
      continue;
    }
    i += n;
    switch (cp) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case 0x2028: out += "\\u2028"; break;
      case 0x2029: out += "\\u2029"; break;
      default:
        if (cp < 0x20 || cp == '<' || cp == '>' || cp == '&') {
          out += "\\u00";
          out.push_back(hex[cp >> 4]);
          out.push_back(hex[cp & 15]);
        } else {
          out.append(s.substr(i - n, n));
        }
    }
  }
  out.push_back('"');
}

void go_marshal(std::string& out, const Value& v) {
  switch (v.kind()) {
    case Kind::Null: out += "null"; break;
    case Kind::Bool: out += v.as_bool() ? "true" : "false"; break;
    case Kind::Number: out += v.number_text(); break;
    case Kind::String: go_marshal_string(out, v.str()); break;
    case Kind::Array:
    case Kind::Set: {
      out.push_back('[');
      const ValueVec& items = v.is_array() ? v.array_items() : v.set_items();
      for (size_t i = 0; i < items.size(); ++i) {
        if (i) out.push_back(',');
        go_marshal(out, items[i]);
      }
      out.push_back(']');
      break;
    }
    case Kind::Object: {
      // Non-string keys become their JSON text (ast.JSON); Go sorts the keys.
      std::vector<std::pair<std::string, const Value*>> members;
      for (const auto& [k, val] : v.object_items()) members.emplace_back(k.is_string() ? k.str() : to_json(k), &val);
      std::stable_sort(members.begin(), members.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
      out.push_back('{');
      for (size_t i = 0; i < members.size(); ++i) {
        if (i) out.push_back(',');
        go_marshal_string(out, members[i].first);
        out.push_back(':');
        go_marshal(out, *members[i].second);
      }
      out.push_back('}');
      break;
    }
    case Kind::Undefined: out += "null"; break;
  }
}

// ---------------------------------------------------------------- PEM (Go's encoding/pem.Decode)

struct PemBlock {
  std::string type;
  std::string bytes;
};

std::pair<std::string_view, std::string_view> get_line(std::string_view d) {
  size_t i = d.find('\n'), j;
  if (i == std::string_view::npos) {
    i = j = d.size();
  } else {
    j = i + 1;
    if (i > 0 && d[i - 1] == '\r') --i;
  }
  std::string_view line = d.substr(0, i);
  while (!line.empty() && (line.back() == ' ' || line.back() == '\t')) line.remove_suffix(1);
  return {line, d.substr(j)};
}

// The first PEM block in `data`; `rest` gets what follows it (or all of
// `data` when there is no block), exactly as pem.Decode.
std::optional<PemBlock> pem_decode(std::string_view data, std::string_view& rest_out) {
  rest_out = data;
  std::string_view rest = data;
  for (;;) {
    if (rest.starts_with("-----BEGIN ")) {
      rest.remove_prefix(11);
    } else if (size_t k = rest.find("\n-----BEGIN "); k != std::string_view::npos) {
      rest.remove_prefix(k + 12);
    } else {
      return std::nullopt;
    }
    auto [type_line, after_type] = get_line(rest);
    rest = after_type;
    if (!type_line.ends_with("-----")) continue;
    type_line.remove_suffix(5);
    bool headers = false;
    for (;;) {
      if (rest.empty()) return std::nullopt;
      auto [line, next] = get_line(rest);
      if (line.find(':') == std::string_view::npos) break;
      headers = true;
      rest = next;
    }
    size_t end_index, trailer_at;
    if (!headers && rest.starts_with("-----END ")) {
      end_index = 0;
      trailer_at = 9;
    } else {
      end_index = rest.find("\n-----END ");
      if (end_index == std::string_view::npos) continue;
      trailer_at = end_index + 10;
    }
    std::string_view trailer = rest.substr(trailer_at);
    size_t trailer_len = type_line.size() + 5;
    if (trailer.size() < trailer_len) continue;
    std::string_view rest_of_end_line = trailer.substr(trailer_len);
    trailer = trailer.substr(0, trailer_len);
    if (!trailer.starts_with(type_line) || !trailer.ends_with("-----")) continue;
    if (!get_line(rest_of_end_line).first.empty()) continue;
    std::string b64;
    for (char c : rest.substr(0, end_index))
      if (c != ' ' && c != '\t') b64.push_back(c);
    PemBlock block{std::string(type_line), {}};
    std::string err;
    if (!b64_decode(b64, kStdAlphabet, block.bytes, err)) continue;
    rest_out = get_line(rest.substr(end_index + 9)).second;
    return block;
  }
}

// ---------------------------------------------------------------- algorithms

enum class Fam { kHmac, kRsa, kPss, kEcdsa, kEddsa };

struct Alg {
  const char* name;
  Fam fam;
  const EVP_MD* (*md)();  // nullptr for EdDSA (signs the message itself)
};

const Alg kAlgs[] = {
    {"HS256", Fam::kHmac, EVP_sha256},  {"HS384", Fam::kHmac, EVP_sha384},  {"HS512", Fam::kHmac, EVP_sha512},
    {"RS256", Fam::kRsa, EVP_sha256},   {"RS384", Fam::kRsa, EVP_sha384},   {"RS512", Fam::kRsa, EVP_sha512},
    {"PS256", Fam::kPss, EVP_sha256},   {"PS384", Fam::kPss, EVP_sha384},   {"PS512", Fam::kPss, EVP_sha512},
    {"ES256", Fam::kEcdsa, EVP_sha256}, {"ES384", Fam::kEcdsa, EVP_sha384}, {"ES512", Fam::kEcdsa, EVP_sha512},
    {"EdDSA", Fam::kEddsa, nullptr},
};

const Alg* find_alg(std::string_view name) {
  for (const Alg& a : kAlgs)
    if (name == a.name) return &a;
  return nullptr;
}

// A key from a certificate, a PEM public key or a JWK.
struct Key {
  PKey pkey;           // asymmetric keys
  std::string secret;  // "oct" JWKs
  bool symmetric = false;
  bool is_private = false;
  std::string alg, kid;  // from a JWK, possibly empty
};

bool fits(const Key& k, Fam fam) {
  if (fam == Fam::kHmac) return k.symmetric;
  if (k.symmetric || !k.pkey) return false;
  int id = EVP_PKEY_get_base_id(k.pkey.get());
  switch (fam) {
    case Fam::kRsa:
    case Fam::kPss: return id == EVP_PKEY_RSA;
    case Fam::kEcdsa: return id == EVP_PKEY_EC;
    case Fam::kEddsa: return id == EVP_PKEY_ED25519;
    default: return false;
  }
}

std::string hmac(const Alg& a, std::string_view key, std::string_view msg) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  static const unsigned char kEmpty = 0;  // some OpenSSL 3 releases reject a null key pointer
  const void* k = key.empty() ? static_cast<const void*>(&kEmpty) : key.data();
  if (!HMAC(a.md(), k, static_cast<int>(key.size()), u8(msg), msg.size(), out, &len)) throw Fail("hmac failed");
  return std::string(reinterpret_cast<char*>(out), len);
}

bool set_pss(EVP_PKEY_CTX* pctx, int saltlen) {
  return EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1 &&
         EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, saltlen) == 1;
}

// JWS ECDSA signatures are r||s; like Go's verifyES the split is at half the
// length, whatever the curve.
std::string ecdsa_raw_to_der(std::string_view sig) {
  size_t n = sig.size() / 2;
  EcSig es(ECDSA_SIG_new());
  BIGNUM* r = BN_bin2bn(u8(sig), static_cast<int>(n), nullptr);
  BIGNUM* s = BN_bin2bn(u8(sig) + n, static_cast<int>(sig.size() - n), nullptr);
  if (!es || !r || !s || ECDSA_SIG_set0(es.get(), r, s) != 1) {
    BN_free(r);
    BN_free(s);
    return {};
  }
  int len = i2d_ECDSA_SIG(es.get(), nullptr);
  if (len <= 0) return {};
  std::string der(static_cast<size_t>(len), '\0');
  unsigned char* p = reinterpret_cast<unsigned char*>(der.data());
  i2d_ECDSA_SIG(es.get(), &p);
  return der;
}

// Verifies `sig` over `msg` with an asymmetric key. Any failure, malformed
// signature included, is just "not verified".
bool pkey_verify(EVP_PKEY* key, const Alg& a, std::string_view msg, std::string_view sig) {
  std::string der;
  if (a.fam == Fam::kEcdsa) {
    der = ecdsa_raw_to_der(sig);
    if (der.empty()) return false;
    sig = der;
  }
  MdCtx ctx(EVP_MD_CTX_new());
  EVP_PKEY_CTX* pctx = nullptr;
  bool ok = ctx && EVP_DigestVerifyInit(ctx.get(), &pctx, a.md ? a.md() : nullptr, nullptr, key) == 1 &&
            (a.fam != Fam::kPss || set_pss(pctx, RSA_PSS_SALTLEN_AUTO)) &&
            EVP_DigestVerify(ctx.get(), u8(sig), sig.size(), u8(msg), msg.size()) == 1;
  ERR_clear_error();
  return ok;
}

bool verify_with(const Key& k, const Alg& a, std::string_view msg, std::string_view sig) {
  if (!fits(k, a.fam)) return false;
  if (a.fam == Fam::kHmac) {
    std::string mac = hmac(a, k.secret, msg);
    return mac.size() == sig.size() && CRYPTO_memcmp(mac.data(), sig.data(), sig.size()) == 0;
  }
  return pkey_verify(k.pkey.get(), a, msg, sig);
}

std::string sign_with(const Key& k, const Alg& a, std::string_view msg) {
  if (!fits(k, a.fam) || (a.fam != Fam::kHmac && !k.is_private))
    throw Fail(std::string("jwsbb.Sign: invalid key type for algorithm ") + a.name);
  if (a.fam == Fam::kHmac) return hmac(a, k.secret, msg);
  MdCtx ctx(EVP_MD_CTX_new());
  EVP_PKEY_CTX* pctx = nullptr;
  size_t len = 0;
  if (!ctx || EVP_DigestSignInit(ctx.get(), &pctx, a.md ? a.md() : nullptr, nullptr, k.pkey.get()) != 1 ||
      (a.fam == Fam::kPss && !set_pss(pctx, RSA_PSS_SALTLEN_DIGEST)) ||
      EVP_DigestSign(ctx.get(), nullptr, &len, u8(msg), msg.size()) != 1)
    throw Fail("failed to sign payload");
  std::string sig(len, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len, u8(msg), msg.size()) != 1)
    throw Fail("failed to sign payload");
  sig.resize(len);
  if (a.fam != Fam::kEcdsa) return sig;
  // DER -> r||s, each padded to the size of the curve order.
  const unsigned char* p = u8(sig);
  EcSig es(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(sig.size())));
  int bits = EVP_PKEY_get_bits(k.pkey.get());
  if (!es || bits <= 0) throw Fail("failed to sign payload");
  size_t n = (static_cast<size_t>(bits) + 7) / 8;
  std::string raw(2 * n, '\0');
  unsigned char* out = reinterpret_cast<unsigned char*>(raw.data());
  if (BN_bn2binpad(ECDSA_SIG_get0_r(es.get()), out, static_cast<int>(n)) < 0 ||
      BN_bn2binpad(ECDSA_SIG_get0_s(es.get()), out + n, static_cast<int>(n)) < 0)
    throw Fail("failed to sign payload");
  return raw;
}

// ---------------------------------------------------------------- JWK

const std::string* member_str(const Value& obj, std::string_view name) {
  const Value* v = obj.get(name);
  return v && v->is_string() ? &v->str() : nullptr;
}

// A base64url member as bytes; `required` members must be present.
std::optional<std::string> member_bytes(const Value& jwk, std::string_view name, bool required) {
  const Value* v = jwk.get(name);
  if (!v) {
    if (required) throw Fail("failed to parse JWK: required field " + std::string(name) + " is missing");
    return std::nullopt;
  }
  std::string out;
  if (!v->is_string() || !b64_lenient(v->str(), out))
    throw Fail("failed to parse JWK: failed to decode field " + std::string(name));
  return out;
}

void push_bn(OSSL_PARAM_BLD* bld, const char* param, const std::string& bytes, std::vector<Bn>& keep) {
  keep.emplace_back(BN_bin2bn(u8(bytes), static_cast<int>(bytes.size()), nullptr));
  if (!keep.back() || OSSL_PARAM_BLD_push_BN(bld, param, keep.back().get()) != 1) throw Fail("failed to build key");
}

PKey from_params(const char* type, OSSL_PARAM_BLD* bld, bool priv) {
  Params params(OSSL_PARAM_BLD_to_param(bld));
  PKeyCtx ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  EVP_PKEY* out = nullptr;
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &out, priv ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY, params.get()) != 1)
    throw Fail(std::string("failed to parse JWK: invalid ") + type + " key");
  return PKey(out);
}

Key jwk_rsa(const Value& jwk) {
  Key k;
  std::string n = *member_bytes(jwk, "n", true), e = *member_bytes(jwk, "e", true);
  auto d = member_bytes(jwk, "d", false);
  ParamBld bld(OSSL_PARAM_BLD_new());
  std::vector<Bn> keep;
  if (!bld) throw Fail("failed to build key");
  push_bn(bld.get(), OSSL_PKEY_PARAM_RSA_N, n, keep);
  push_bn(bld.get(), OSSL_PKEY_PARAM_RSA_E, e, keep);
  if (d) {
    push_bn(bld.get(), OSSL_PKEY_PARAM_RSA_D, *d, keep);
    // The CRT parameters only help when all of them are present; without
    // them OpenSSL signs with d alone.
    auto p = member_bytes(jwk, "p", false), q = member_bytes(jwk, "q", false);
    auto dp = member_bytes(jwk, "dp", false), dq = member_bytes(jwk, "dq", false), qi = member_bytes(jwk, "qi", false);
    if (p && q && dp && dq && qi) {
      push_bn(bld.get(), OSSL_PKEY_PARAM_RSA_FACTOR1, *p, keep);
      push_bn(bld.get(), OSSL_PKEY_PARAM_RSA_FACTOR2, *q, keep);
      push_bn(bld.get(), OSSL_PKEY_PARAM_RSA_EXPONENT1, *dp, keep);
      push_bn(bld.get(), OSSL_PKEY_PARAM_RSA_EXPONENT2, *dq, keep);
      push_bn(bld.get(), OSSL_PKEY_PARAM_RSA_COEFFICIENT1, *qi, keep);
    }
  }
  k.pkey = from_params("RSA", bld.get(), d.has_value());
  k.is_private = d.has_value();
  return k;
}

Key jwk_ec(const Value& jwk) {
  const std::string* crv = member_str(jwk, "crv");
  struct Curve {
    const char *jose, *ossl;
    size_t size;
  };
  static const Curve kCurves[] = {{"P-256", "prime256v1", 32}, {"P-384", "secp384r1", 48}, {"P-521", "secp521r1", 66}};
  const Curve* c = nullptr;
  for (const Curve& cc : kCurves)
    if (crv && *crv == cc.jose) c = &cc;
  if (!c) throw Fail("failed to parse JWK: invalid curve name " + (crv ? *crv : std::string()));
  std::string x = *member_bytes(jwk, "x", true), y = *member_bytes(jwk, "y", true);
  auto d = member_bytes(jwk, "d", false);
  if (x.size() > c->size || y.size() > c->size) throw Fail("failed to parse JWK: invalid EC point");
  // Uncompressed point: 04 || X || Y, each left-padded to the field size.
  std::string point(1, '\x04');
  point.append(c->size - x.size(), '\0').append(x).append(c->size - y.size(), '\0').append(y);
  ParamBld bld(OSSL_PARAM_BLD_new());
  std::vector<Bn> keep;
  if (!bld || OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, c->ossl, 0) != 1 ||
      OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size()) != 1)
    throw Fail("failed to build key");
  if (d) push_bn(bld.get(), OSSL_PKEY_PARAM_PRIV_KEY, *d, keep);
  Key k;
  k.pkey = from_params("EC", bld.get(), d.has_value());
  k.is_private = d.has_value();
  return k;
}

Key jwk_okp(const Value& jwk) {
  const std::string* crv = member_str(jwk, "crv");
  if (!crv || *crv != "Ed25519") throw Fail("failed to parse JWK: unsupported OKP curve " + (crv ? *crv : ""));
  std::string x = *member_bytes(jwk, "x", true);
  auto d = member_bytes(jwk, "d", false);
  Key k;
  if (d) {
    if (d->size() != 32) throw Fail("failed to parse JWK: invalid Ed25519 private key");
    k.pkey.reset(EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr, u8(*d), d->size()));
    k.is_private = true;
  } else {
    if (x.size() != 32) throw Fail("failed to parse JWK: invalid Ed25519 public key");
    k.pkey.reset(EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, u8(x), x.size()));
  }
  if (!k.pkey) throw Fail("failed to parse JWK: invalid Ed25519 key");
  return k;
}

Key jwk_key(const Value& jwk) {
  if (!jwk.is_object()) throw Fail("failed to parse JWK: key is not a JSON object");
  const std::string* kty = member_str(jwk, "kty");
  if (!kty) throw Fail("failed to parse JWK: invalid key type from JSON ()");
  Key k;
  if (*kty == "RSA") {
    k = jwk_rsa(jwk);
  } else if (*kty == "EC") {
    k = jwk_ec(jwk);
  } else if (*kty == "OKP") {
    k = jwk_okp(jwk);
  } else if (*kty == "oct") {
    k.secret = *member_bytes(jwk, "k", true);
    k.symmetric = true;
  } else {
    throw Fail("failed to parse JWK: invalid key type from JSON (" + *kty + ")");
  }
  if (const std::string* alg = member_str(jwk, "alg")) k.alg = *alg;
  if (const std::string* kid = member_str(jwk, "kid")) k.kid = *kid;
  return k;
}

// A JWK or a JWK set ({"keys": [...]}), as jwk.Parse.
std::vector<Key> parse_jwks(std::string_view text) {
  Value v;
  std::string err;
  if (!go_unmarshal(text, v, err)) throw Fail("failed to parse JWK: " + err);
  if (!v.is_object()) throw Fail("failed to parse JWK: not a JSON object");
  std::vector<Key> keys;
  if (const Value* set = v.get("keys")) {
    if (!set->is_array()) throw Fail("failed to parse JWK set: keys must be an array");
    for (const Value& item : set->array_items()) keys.push_back(jwk_key(item));
  } else {
    keys.push_back(jwk_key(v));
  }
  return keys;
}

// OPA's getKeysFromCertOrJWK: a PEM certificate, a PEM public key, or JWK(S).
std::vector<Key> keys_from_cert_or_jwk(std::string_view text) {
  std::string_view rest;
  if (auto block = pem_decode(text, rest)) {
    if (!rest.empty()) throw Fail("extra data after a PEM certificate block");
    const unsigned char* p = u8(block->bytes);
    const unsigned char* end = p + block->bytes.size();
    Key k;
    if (block->type == "CERTIFICATE") {
      X509Ptr cert(d2i_X509(nullptr, &p, static_cast<long>(block->bytes.size())));
      if (!cert) throw Fail("failed to parse a PEM certificate: x509: malformed certificate");
      if (p != end) throw Fail("failed to parse a PEM certificate: x509: trailing data");
      k.pkey.reset(X509_get_pubkey(cert.get()));
      if (!k.pkey) throw Fail("failed to parse a PEM certificate: x509: unsupported public key");
    } else if (block->type == "PUBLIC KEY") {
      k.pkey.reset(d2i_PUBKEY(nullptr, &p, static_cast<long>(block->bytes.size())));
      if (!k.pkey) throw Fail("failed to parse a PEM public key: x509: malformed public key");
      if (p != end) throw Fail("failed to parse a PEM public key: x509: trailing data after ASN.1 of public-key");
    } else {
      throw Fail("failed to extract a Key from the PEM certificate");
    }
    std::vector<Key> keys;
    keys.push_back(std::move(k));
    return keys;
  }
  std::vector<Key> keys;
  try {
    keys = parse_jwks(text);
  } catch (const Fail& e) {
    throw Fail(std::string("failed to parse a JWK key (set): ") + e.what());
  }
  // Keys naming an algorithm OPA does not know are skipped.
  std::erase_if(keys, [](const Key& k) { return !k.alg.empty() && !find_alg(k.alg); });
  return keys;
}

// ---------------------------------------------------------------- token structure

struct Token {
  std::string header, payload, signature;  // the three base64url sections
};

// OPA's decodeJWT.
Token split_token(const std::string& s) {
  if (s.find('.') == std::string::npos) throw Fail("encoded JWT had no period separators");
  size_t dots = static_cast<size_t>(std::count(s.begin(), s.end(), '.'));
  if (dots != 2) throw Fail("encoded JWT must have 3 sections, found " + std::to_string(dots + 1));
  size_t a = s.find('.'), b = s.find('.', a + 1);
  return Token{s.substr(0, a), s.substr(a + 1, b - a - 1), s.substr(b + 1)};
}

Value decode_header(const Token& t) {
  std::string h, err;
  if (!b64url_opa(t.header, h, err)) throw Fail("JWT header had invalid encoding: " + err);
  Value obj;
  try {
    obj = extract_object(h);
  } catch (const Fail& e) {
    throw Fail(std::string("bad JWT header: ") + e.what());
  }
  // JWE (RFC 7516 section 9) is not supported.
  if (obj.get("enc")) throw Fail("JWT is a JWE object, which is not supported");
  return obj;
}

std::string decode_payload(const Token& t) {
  std::string p, err;
  if (!b64url_opa(t.payload, p, err)) throw Fail("JWT payload had invalid encoding: " + err);
  return p;
}

std::string decode_signature(const Token& t) {
  std::string s, err;
  if (!b64url_opa(t.signature, s, err)) throw Fail(err);
  return s;
}

// The JOSE header fields OPA interprets (parseTokenHeader).
struct Header {
  std::string alg, kid, typ, cty;
  std::set<std::string> crit;
  std::vector<std::string> unknown;

  // RFC 7515: alg must be present and every critical parameter understood.
  bool valid() const {
    if (alg.empty()) return false;
    return std::none_of(unknown.begin(), unknown.end(), [&](const std::string& u) { return crit.count(u) > 0; });
  }
};

Header parse_header(const Value& h) {
  Header out;
  for (const auto& [k, v] : h.object_items()) {
    const std::string& name = k.str();  // keys of a decoded JSON object are strings
    std::string* field = name == "alg"   ? &out.alg
                         : name == "kid" ? &out.kid
                         : name == "typ" ? &out.typ
                         : name == "cty" ? &out.cty
                                         : nullptr;
    if (field) {
      if (!v.is_string()) throw Fail(name + ": must be a string");
      *field = v.str();
    } else if (name == "crit") {
      if (!v.is_array()) throw Fail("crit: must be a list");
      // OPA stops at the first non-string element without complaint.
      for (const Value& e : v.array_items()) {
        if (!e.is_string()) break;
        out.crit.insert(e.str());
      }
      if (out.crit.empty()) throw Fail("crit: must be a nonempty list");
    } else {
      out.unknown.push_back(name);
    }
  }
  return out;
}

// ---------------------------------------------------------------- io.jwt.decode

Value decode_token(const std::string& jwt) {
  Token t = split_token(jwt);
  Value header = decode_header(t);
  std::string payload = decode_payload(t);
  // A nested token (cty JWT) is decoded instead; jwt.io quotes it.
  const Value* cty = header.get("cty");
  if (cty && cty->is_string() && cty->str() == "JWT") {
    size_t b = payload.find_first_not_of("\"'");
    size_t e = payload.find_last_not_of("\"'");
    return decode_token(b == std::string::npos ? std::string() : payload.substr(b, e - b + 1));
  }
  Value obj = extract_object(payload);
  std::string sig, err;
  if (!b64url_opa(t.signature, sig, err)) throw Fail("JWT signature had invalid encoding: " + err);
  return Value::array({header, obj, Value::string(to_hex(sig))});
}

Value jwt_decode(BuiltinContext&, std::span<const Value> args) {
  static constexpr std::string_view kName = "io.jwt.decode";
  const std::string& jwt = arg_string(kName, args, 0);
  return guarded(kName, [&] { return decode_token(jwt); });
}

// ---------------------------------------------------------------- io.jwt.verify_*

// verify_{rs,ps,es}*, verify_eddsa: the builtin fixes the algorithm; keys
// that name another one in their JWK are skipped.
template <size_t I>
Value jwt_verify_asym(BuiltinContext&, std::span<const Value> args) {
  static constexpr const char* kNames[] = {
      "",
      "",
      "",
      "io.jwt.verify_rs256",
      "io.jwt.verify_rs384",
      "io.jwt.verify_rs512",
      "io.jwt.verify_ps256",
      "io.jwt.verify_ps384",
      "io.jwt.verify_ps512",
      "io.jwt.verify_es256",
      "io.jwt.verify_es384",
      "io.jwt.verify_es512",
      "io.jwt.verify_eddsa",
  };
  const std::string_view name = kNames[I];
  const Alg& alg = kAlgs[I];
  const std::string& jwt = arg_string(name, args, 0);
  return guarded(name, [&] {
    Token t = split_token(jwt);
    const std::string& key_text = arg_string(name, args, 1);
    std::vector<Key> keys = keys_from_cert_or_jwk(key_text);
    std::string sig = decode_signature(t);
    Header header = parse_header(decode_header(t));
    std::string input = t.header + "." + t.payload;
    // OPA's verification callbacks accept public keys only.
    auto try_key = [&](const Key& k) { return !k.is_private && verify_with(k, alg, input, sig); };
    if (!header.kid.empty()) {
      for (const Key& k : keys)
        if (k.kid == header.kid) return Value::boolean(try_key(k));
    }
    for (const Key& k : keys) {
      if (!k.alg.empty() && k.alg != header.alg) continue;
      if (try_key(k)) return Value::true_value();
    }
    return Value::false_value();
  });
}

template <size_t I>
Value jwt_verify_hs(BuiltinContext&, std::span<const Value> args) {
  static constexpr const char* kNames[] = {"io.jwt.verify_hs256", "io.jwt.verify_hs384", "io.jwt.verify_hs512"};
  const std::string_view name = kNames[I];
  const std::string& jwt = arg_string(name, args, 0);
  const std::string& secret = arg_string(name, args, 1);
  return guarded(name, [&] {
    Token t = split_token(jwt);
    std::string mac = hmac(kAlgs[I], secret, t.header + "." + t.payload);
    std::string sig = decode_signature(t);
    return Value::boolean(mac.size() == sig.size() && CRYPTO_memcmp(mac.data(), sig.data(), sig.size()) == 0);
  });
}

// ---------------------------------------------------------------- io.jwt.decode_verify

struct Constraints {
  std::string secret, alg, iss, aud;
  std::optional<std::vector<Key>> keys;
  double time = -1;  // nanoseconds
};

double constraint_time(const Value& v) {
  if (!v.is_number()) throw Fail("token time constraint: must be a number");
  double t = v.to_double();
  if (t < 0) throw Fail("token time constraint: must not be negative");
  return t;
}

Constraints parse_constraints(const Value& obj, int64_t now_ns) {
  Constraints c;
  for (const auto& kv : obj.object_items()) {
    // Plain references, not structured bindings: clang 14 (the fuzzing
    // compiler) cannot capture those in the lambda below.
    const Value& k = kv.first;
    const Value& v = kv.second;
    std::string name = k.is_string() ? k.str() : to_rego(k);
    auto str = [&](std::string& where) {
      if (!v.is_string()) throw Fail(name + " constraint: must be a string");
      where = v.str();
    };
    if (name == "cert") {
      if (!v.is_string()) throw Fail("cert constraint: must be a string");
      c.keys = keys_from_cert_or_jwk(v.str());
    } else if (name == "secret") {
      str(c.secret);
    } else if (name == "alg") {
      str(c.alg);
    } else if (name == "iss") {
      str(c.iss);
    } else if (name == "aud") {
      str(c.aud);
    } else if (name == "time") {
      c.time = constraint_time(v);
    } else {
      throw Fail("unknown token validation constraint: " + name);
    }
  }
  if (c.time == -1) c.time = constraint_time(Value::integer(now_ns));
  int key_constraints = (c.keys ? 1 : 0) + (c.secret.empty() ? 0 : 1);
  if (key_constraints > 1) throw Fail("duplicate key constraints");
  if (key_constraints < 1) throw Fail("no key constraint");
  return c;
}

// The signature check of decode_verify: the algorithm comes from the header.
bool constraints_verify(const Constraints& c, const Header& h, const std::string& input, const std::string& sig) {
  const Alg* alg = find_alg(h.alg);
  if (!alg) return false;
  if (c.keys) {
    if (!h.kid.empty()) {
      for (const Key& k : *c.keys)
        if (k.kid == h.kid) return verify_with(k, *alg, input, sig);
    }
    for (const Key& k : *c.keys) {
      if (!k.alg.empty() && k.alg != h.alg) continue;
      if (verify_with(k, *alg, input, sig)) return true;
    }
    return false;
  }
  Key secret;
  secret.secret = c.secret;
  secret.symmetric = true;
  return verify_with(secret, *alg, input, sig);
}

bool valid_audience(const Value& aud, const std::string& want) {
  if (aud.is_string()) return aud.str() == want;
  if (!aud.is_array()) return false;
  return std::any_of(aud.array_items().begin(), aud.array_items().end(),
                     [&](const Value& e) { return e.is_string() && e.str() == want; });
}

Value jwt_decode_verify(BuiltinContext& ctx, std::span<const Value> args) {
  static constexpr std::string_view kName = "io.jwt.decode_verify";
  const std::string& jwt = arg_string(kName, args, 0);
  const Value& constraints = arg_object(kName, args, 1);
  return guarded(kName, [&] {
    const Value unverified = Value::array({Value::false_value(), Value::empty_object(), Value::empty_object()});
    Constraints c = parse_constraints(constraints, ctx.now_ns);
    std::string current = jwt, payload_text;
    Value header_obj;
    for (;;) {
      Token t = split_token(current);
      header_obj = decode_header(t);
      Header h = parse_header(header_obj);
      if (!h.valid()) return unverified;
      if (!c.alg.empty() && c.alg != h.alg) return unverified;
      std::string sig = decode_signature(t);
      if (!constraints_verify(c, h, t.header + "." + t.payload, sig)) return unverified;
      payload_text = decode_payload(t);
      // A nested token (cty JWT, any case) is verified in turn.
      if (h.cty.size() == 3 && std::equal(h.cty.begin(), h.cty.end(), "JWT", [](char a, char b) {
            return std::toupper(static_cast<unsigned char>(a)) == b;
          })) {
        current = payload_text;
        continue;
      }
      break;
    }
    Value payload = extract_object(payload_text);
    // Registered claims (RFC 7519 section 4.1).
    if (!c.iss.empty()) {
      const Value* iss = payload.get("iss");
      if (!iss || !iss->is_string() || iss->str() != c.iss) return unverified;
    }
    if (const Value* aud = payload.get("aud")) {
      if (!valid_audience(*aud, c.aud)) return unverified;
    } else if (!c.aud.empty()) {
      return unverified;
    }
    // The time constraint is in nanoseconds, exp and nbf in seconds.
    Value now = Value::real(c.time / 1e9);
    if (const Value* exp = payload.get("exp")) {
      if (!exp->is_number()) throw Fail("exp value must be a number");
      if (compare(now, *exp) >= 0) return unverified;
    }
    if (const Value* nbf = payload.get("nbf")) {
      if (!nbf->is_number()) throw Fail("nbf value must be a number");
      if (compare(now, *nbf) < 0) return unverified;
    }
    return Value::array({Value::true_value(), header_obj, payload});
  });
}

// ---------------------------------------------------------------- io.jwt.encode_sign*

Value encode_sign(std::string_view header, std::string_view payload, std::string_view jwk) {
  std::vector<Key> keys = parse_jwks(jwk);
  if (keys.empty()) throw Fail("no keys found in JWK set");
  // The alg header, read the way jwx's fastjson-based header parser does.
  GoJsonScan sc(header);
  sc.ws();
  bool blank = sc.pos() >= header.size();
  if (blank || !sc.document())
    throw Fail("missing or invalid 'alg' header: cannot parse JSON: " +
               (blank ? std::string("cannot parse empty string") : sc.err()));
  Value hdr;
  std::string err;
  parse_json(header, hdr, err);
  const std::string* alg_name = hdr.is_object() ? member_str(hdr, "alg") : nullptr;
  if (!alg_name || alg_name->empty()) throw Fail("unsupported signature algorithm");
  const Alg* alg = find_alg(*alg_name);
  if (!alg) throw Fail("unknown JWS algorithm: " + *alg_name);
  const std::string* typ = member_str(hdr, "typ");
  if (typ && *typ == "JWT" && !go_json_valid(payload)) throw Fail("type is JWT but payload is not JSON");
  std::string input = b64_encode(header, kUrlAlphabet, false) + "." + b64_encode(payload, kUrlAlphabet, false);
  std::string sig = sign_with(keys[0], *alg, input);
  return Value::string(input + "." + b64_encode(sig, kUrlAlphabet, false));
}

Value jwt_encode_sign(BuiltinContext&, std::span<const Value> args) {
  static constexpr std::string_view kName = "io.jwt.encode_sign";
  std::string parts[3];
  for (int i = 0; i < 3; ++i) go_marshal(parts[i], arg_object(kName, args, i));
  return guarded(kName, [&] { return encode_sign(parts[0], parts[1], parts[2]); });
}

Value jwt_encode_sign_raw(BuiltinContext&, std::span<const Value> args) {
  static constexpr std::string_view kName = "io.jwt.encode_sign_raw";
  const std::string& jwk = arg_string(kName, args, 2);
  const std::string& header = arg_string(kName, args, 0);
  const std::string& payload = arg_string(kName, args, 1);
  return guarded(kName, [&] { return encode_sign(header, payload, jwk); });
}

}  // namespace

void register_tokens(BuiltinRegistry& r) {
  r.add("io.jwt.decode", 1, jwt_decode);
  r.add("io.jwt.decode_verify", 2, jwt_decode_verify);
  r.add("io.jwt.verify_hs256", 2, jwt_verify_hs<0>);
  r.add("io.jwt.verify_hs384", 2, jwt_verify_hs<1>);
  r.add("io.jwt.verify_hs512", 2, jwt_verify_hs<2>);
  r.add("io.jwt.verify_rs256", 2, jwt_verify_asym<3>);
  r.add("io.jwt.verify_rs384", 2, jwt_verify_asym<4>);
  r.add("io.jwt.verify_rs512", 2, jwt_verify_asym<5>);
  r.add("io.jwt.verify_ps256", 2, jwt_verify_asym<6>);
  r.add("io.jwt.verify_ps384", 2, jwt_verify_asym<7>);
  r.add("io.jwt.verify_ps512", 2, jwt_verify_asym<8>);
  r.add("io.jwt.verify_es256", 2, jwt_verify_asym<9>);
  r.add("io.jwt.verify_es384", 2, jwt_verify_asym<10>);
  r.add("io.jwt.verify_es512", 2, jwt_verify_asym<11>);
  r.add("io.jwt.verify_eddsa", 2, jwt_verify_asym<12>);
  // Signatures with ECDSA and RSA-PSS are randomized, as in OPA.
  r.add("io.jwt.encode_sign", 3, jwt_encode_sign, false);
  r.add("io.jwt.encode_sign_raw", 3, jwt_encode_sign_raw, false);
}

}  // namespace confidant::rego
