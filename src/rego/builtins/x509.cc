// crypto.x509.* and crypto.parse_private_keys on OpenSSL 3 (EVP and X509
// APIs only).
//
// OPA returns Go structures marshalled to JSON (x509.Certificate,
// x509.CertificateRequest, tls.Certificate, rsa/ecdsa/ed25519 private keys),
// so this file rebuilds those shapes: byte slices as base64, big integers as
// numbers, nil slices as null, enums as Go's integers, OIDs as integer
// arrays. Inputs are PEM or base64 (of PEM or DER), decoded with Go's
// encoding/pem rules.
//
// Known approximations (documented in the tests): URIs are split with a
// simplified net/url parser; CSR Attributes decode only simple values;
// parse errors use Go's texts for the common cases ("x509: malformed
// certificate") rather than every ASN.1 detail; chain verification is
// OpenSSL's (trust anchored at the first certificate, as Go's roots pool)
// plus Go's extended-key-usage rule.
#include <arpa/inet.h>
#include <openssl/asn1.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <ctime>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "rego/builtins/builtins.h"

namespace confidant::rego {

void register_x509(BuiltinRegistry& r);

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
using Bn = std::unique_ptr<BIGNUM, Free<BN_free>>;
using X509Ptr = std::unique_ptr<X509, Free<X509_free>>;
using ReqPtr = std::unique_ptr<X509_REQ, Free<X509_REQ_free>>;
using Store = std::unique_ptr<X509_STORE, Free<X509_STORE_free>>;
using StoreCtx = std::unique_ptr<X509_STORE_CTX, Free<X509_STORE_CTX_free>>;
using P8 = std::unique_ptr<PKCS8_PRIV_KEY_INFO, Free<PKCS8_PRIV_KEY_INFO_free>>;
void free_x509_stack(STACK_OF(X509) * s) { sk_X509_free(s); }
using X509Stack = std::unique_ptr<STACK_OF(X509), Free<free_x509_stack>>;
void free_gens(GENERAL_NAMES* g) { GENERAL_NAMES_free(g); }
using Gens = std::unique_ptr<GENERAL_NAMES, Free<free_gens>>;
void free_exts(STACK_OF(X509_EXTENSION) * s) { sk_X509_EXTENSION_pop_free(s, X509_EXTENSION_free); }
using Exts = std::unique_ptr<STACK_OF(X509_EXTENSION), Free<free_exts>>;

const unsigned char* u8(std::string_view s) { return reinterpret_cast<const unsigned char*>(s.data()); }
std::string_view sv(const ASN1_STRING* s) {
  return s ? std::string_view(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)), ASN1_STRING_length(s))
           : std::string_view();
}

struct Fail : std::runtime_error {
  using std::runtime_error::runtime_error;
};

template <class F>
Value guarded(std::string_view name, F&& body) {
  try {
    return body();
  } catch (const Fail& e) {
    ERR_clear_error();
    builtin_error(name, e.what());
  }
}

// ---------------------------------------------------------------- base64 and PEM (Go's rules)

constexpr std::string_view kStdAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr std::string_view kUrlAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

std::string b64_encode(std::string_view in, std::string_view alphabet = kStdAlphabet, bool pad = true) {
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

// Go's StdEncoding.DecodeString: \r and \n are skipped; errors name the byte.
bool b64_decode(std::string_view src, std::string& out, std::string& err) {
  int8_t map[256];
  std::memset(map, -1, sizeof map);
  for (size_t i = 0; i < kStdAlphabet.size(); ++i)
    map[static_cast<unsigned char>(kStdAlphabet[i])] = static_cast<int8_t>(i);
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
        return corrupt(si - j);
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

std::string b64_decode_or_fail(std::string_view s) {
  std::string out, err;
  if (!b64_decode(s, out, err)) throw Fail(err);
  return out;
}

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

// encoding/pem.Decode: the first block, `rest_out` what follows it (all of
// `data` when there is none).
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
    if (!b64_decode(b64, block.bytes, err)) continue;
    rest_out = get_line(rest.substr(end_index + 9)).second;
    return block;
  }
}

std::string pem_encode(std::string_view type, std::string_view der) {
  std::string b64 = b64_encode(der), out = "-----BEGIN " + std::string(type) + "-----\n";
  for (size_t i = 0; i < b64.size(); i += 64) out += b64.substr(i, 64) + "\n";
  return out + "-----END " + std::string(type) + "-----\n";
}

// ---------------------------------------------------------------- DER

struct Tlv {
  unsigned char tag = 0;
  std::string_view full, content;
};

// Reads one DER element from the front of `s`.
bool read_tlv(std::string_view& s, Tlv& out) {
  if (s.size() < 2) return false;
  unsigned char tag = static_cast<unsigned char>(s[0]), l = static_cast<unsigned char>(s[1]);
  if ((tag & 0x1f) == 0x1f) return false;
  size_t hdr = 2, len = l;
  if (l & 0x80) {
    size_t n = l & 0x7f;
    if (n == 0 || n > 4 || s.size() < 2 + n) return false;
    len = 0;
    for (size_t i = 0; i < n; ++i) len = len << 8 | static_cast<unsigned char>(s[2 + i]);
    hdr += n;
  }
  if (s.size() - hdr < len) return false;
  out = Tlv{tag, s.substr(0, hdr + len), s.substr(hdr, len)};
  s.remove_prefix(hdr + len);
  return true;
}

std::vector<Tlv> children(std::string_view content) {
  std::vector<Tlv> out;
  Tlv t;
  while (!content.empty() && read_tlv(content, t)) out.push_back(t);
  return out;
}

// OID content bytes -> arcs ("2", "5", "4", "3"); empty if malformed.
std::vector<std::string> oid_arcs(std::string_view der) {
  std::vector<std::string> arcs;
  uint64_t v = 0;
  bool first = true;
  for (size_t i = 0; i < der.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(der[i]);
    if (v > (UINT64_MAX >> 7)) return {};
    v = v << 7 | (c & 0x7f);
    if (c & 0x80) continue;
    if (first) {
      uint64_t a = v < 40 ? 0 : v < 80 ? 1 : 2;
      arcs.push_back(std::to_string(a));
      arcs.push_back(std::to_string(v - 40 * a));
      first = false;
    } else {
      arcs.push_back(std::to_string(v));
    }
    v = 0;
  }
  if (!der.empty() && (static_cast<unsigned char>(der.back()) & 0x80)) return {};
  return arcs;
}

std::string join_arcs(const std::vector<std::string>& arcs) {
  std::string s;
  for (const std::string& a : arcs) s += (s.empty() ? "" : ".") + a;
  return s;
}

Value arcs_value(const std::vector<std::string>& arcs) {
  ValueVec v;
  for (const std::string& a : arcs) v.push_back(Value::number_from_text(a));
  return Value::array(std::move(v));
}

std::string obj_der(const ASN1_OBJECT* obj) {
  const unsigned char* data = OBJ_get0_data(obj);
  return data ? std::string(reinterpret_cast<const char*>(data), OBJ_length(obj)) : std::string();
}
Value oid_value(const ASN1_OBJECT* obj) { return arcs_value(oid_arcs(obj_der(obj))); }
std::string oid_text(const ASN1_OBJECT* obj) { return join_arcs(oid_arcs(obj_der(obj))); }

// ---------------------------------------------------------------- Go value helpers

Value S(std::string_view s) { return Value::string(s); }
Value bytes_value(std::string_view b) { return Value::string(b64_encode(b)); }  // []byte
Value bytes_or_null(std::string_view b) { return b.empty() ? Value::null() : bytes_value(b); }
Value strings_or_null(const std::vector<std::string>& v) {
  if (v.empty()) return Value::null();
  ValueVec out;
  for (const std::string& s : v) out.push_back(S(s));
  return Value::array(std::move(out));
}
Value list_or_null(ValueVec v) { return v.empty() ? Value::null() : Value::array(std::move(v)); }

Value bn_value(const BIGNUM* bn) {
  if (!bn) return Value::null();
  char* dec = BN_bn2dec(bn);
  Value v = dec ? Value::number_from_text(dec) : Value::null();
  OPENSSL_free(dec);
  return v;
}

Value bn_param(const EVP_PKEY* k, const char* name) {
  BIGNUM* bn = nullptr;
  if (EVP_PKEY_get_bn_param(k, name, &bn) != 1) return Value::null();
  Bn owned(bn);
  return bn_value(bn);
}

// time.Time as JSON (RFC 3339, UTC).
Value time_value(const ASN1_TIME* t) {
  struct tm tm {};
  if (!t || ASN1_TIME_to_tm(t, &tm) != 1) return Value::null();
  char buf[40];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec);
  return S(buf);
}

// net.IP's String (MarshalText): IPv4 and v4-mapped IPv6 as dotted quads,
// other IPv6 with the longest run of two or more zero groups compressed.
std::string ip_string(std::string_view b) {
  auto v4 = [](const unsigned char* p) {
    return std::to_string(p[0]) + "." + std::to_string(p[1]) + "." + std::to_string(p[2]) + "." + std::to_string(p[3]);
  };
  const unsigned char* p = u8(b);
  if (b.size() == 4) return v4(p);
  if (b.size() != 16) return "?";
  static const unsigned char kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (std::memcmp(p, kMapped, 12) == 0) return v4(p + 12);
  int best = -1, best_len = 0;
  for (int i = 0; i < 8;) {
    int j = i;
    while (j < 8 && p[2 * j] == 0 && p[2 * j + 1] == 0) ++j;
    if (j - i > best_len && j - i >= 2) best = i, best_len = j - i;
    i = j == i ? i + 1 : j;
  }
  std::string s;
  char buf[8];
  for (int i = 0; i < 8; ++i) {
    if (i == best) {
      s += "::";
      i += best_len - 1;
      continue;
    }
    if (!s.empty() && s.back() != ':') s += ':';
    std::snprintf(buf, sizeof buf, "%x", p[2 * i] << 8 | p[2 * i + 1]);
    s += buf;
  }
  return s;
}

// ---------------------------------------------------------------- net/url (simplified)

bool path_char_ok(unsigned char c) { return std::isalnum(c) || std::strchr("-_.~$&+,/:;=@", c) != nullptr; }

std::string unescape(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      out.push_back(static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16)));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

std::string escape_path(std::string_view s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (path_char_ok(c)) {
      out.push_back(static_cast<char>(c));
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

// A *url.URL as Go marshals it (struct fields; User is {} when present).
Value url_value(std::string_view raw) {
  std::string scheme, opaque, host, path, raw_path, query, fragment;
  bool user = false, force_query = false;
  std::string_view rest = raw;
  if (size_t h = rest.find('#'); h != std::string_view::npos) {
    fragment = unescape(rest.substr(h + 1));
    rest = rest.substr(0, h);
  }
  if (size_t c = rest.find(':');
      c != std::string_view::npos && c > 0 && std::isalpha(static_cast<unsigned char>(rest[0])) &&
      std::all_of(rest.begin(), rest.begin() + static_cast<long>(c), [](char ch) {
        return std::isalnum(static_cast<unsigned char>(ch)) || ch == '+' || ch == '-' || ch == '.';
      })) {
    scheme = std::string(rest.substr(0, c));
    std::transform(scheme.begin(), scheme.end(), scheme.begin(), [](unsigned char ch) { return std::tolower(ch); });
    rest = rest.substr(c + 1);
  }
  if (size_t q = rest.find('?'); q != std::string_view::npos) {
    query = std::string(rest.substr(q + 1));
    force_query = query.empty();
    rest = rest.substr(0, q);
  }
  if (!scheme.empty() && !rest.starts_with("/")) {
    opaque = std::string(rest);
  } else {
    if (rest.starts_with("//")) {
      rest.remove_prefix(2);
      size_t slash = rest.find('/');
      std::string_view authority = rest.substr(0, slash);
      rest = slash == std::string_view::npos ? std::string_view() : rest.substr(slash);
      if (size_t at = authority.rfind('@'); at != std::string_view::npos) {
        user = true;
        authority = authority.substr(at + 1);
      }
      host = unescape(authority);
    }
    path = unescape(rest);
    if (escape_path(path) != rest) raw_path = std::string(rest);
  }
  return Value::object({{S("Scheme"), S(scheme)},
                        {S("Opaque"), S(opaque)},
                        {S("User"), user ? Value::empty_object() : Value::null()},
                        {S("Host"), S(host)},
                        {S("Path"), S(path)},
                        {S("RawPath"), S(raw_path)},
                        {S("OmitHost"), Value::false_value()},
                        {S("ForceQuery"), Value::boolean(force_query)},
                        {S("RawQuery"), S(query)},
                        {S("Fragment"), S(fragment)},
                        {S("RawFragment"), S("")}});
}

// ---------------------------------------------------------------- names, keys, algorithms

// pkix.Name after FillFromRDNSequence.
Value name_value(const X509_NAME* n) {
  std::vector<std::string> country, org, ou, locality, province, street, postal;
  std::string serial, cn;
  ValueVec names;
  for (int i = 0; n && i < X509_NAME_entry_count(n); ++i) {
    const X509_NAME_ENTRY* e = X509_NAME_get_entry(n, i);
    std::vector<std::string> arcs = oid_arcs(obj_der(X509_NAME_ENTRY_get_object(e)));
    unsigned char* utf8 = nullptr;
    int len = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(e));
    std::string value = len >= 0 ? std::string(reinterpret_cast<char*>(utf8), static_cast<size_t>(len)) : "";
    OPENSSL_free(utf8);
    names.push_back(Value::object({{S("Type"), arcs_value(arcs)}, {S("Value"), S(value)}}));
    if (arcs.size() != 4 || arcs[0] != "2" || arcs[1] != "5" || arcs[2] != "4") continue;
    int t = std::atoi(arcs[3].c_str());
    switch (t) {
      case 3: cn = value; break;
      case 5: serial = value; break;
      case 6: country.push_back(value); break;
      case 7: locality.push_back(value); break;
      case 8: province.push_back(value); break;
      case 9: street.push_back(value); break;
      case 10: org.push_back(value); break;
      case 11: ou.push_back(value); break;
      case 17: postal.push_back(value); break;
      default: break;
    }
  }
  return Value::object({{S("Country"), strings_or_null(country)},
                        {S("Organization"), strings_or_null(org)},
                        {S("OrganizationalUnit"), strings_or_null(ou)},
                        {S("Locality"), strings_or_null(locality)},
                        {S("Province"), strings_or_null(province)},
                        {S("StreetAddress"), strings_or_null(street)},
                        {S("PostalCode"), strings_or_null(postal)},
                        {S("SerialNumber"), S(serial)},
                        {S("CommonName"), S(cn)},
                        {S("Names"), list_or_null(std::move(names))},
                        {S("ExtraNames"), Value::null()}});
}

// x509.PublicKeyAlgorithm from the SubjectPublicKeyInfo algorithm OID.
int public_key_algorithm(const std::string& oid) {
  if (oid == "1.2.840.113549.1.1.1") return 1;  // RSA
  if (oid == "1.2.840.10040.4.1") return 2;     // DSA
  if (oid == "1.2.840.10045.2.1") return 3;     // ECDSA
  if (oid == "1.3.101.112") return 4;           // Ed25519
  return 0;
}

// x509.SignatureAlgorithm from a DER AlgorithmIdentifier.
int signature_algorithm(std::string_view algid) {
  Tlv seq, oid;
  if (!read_tlv(algid, seq) || !read_tlv(seq.content, oid) || oid.tag != 0x06) return 0;
  std::string o = join_arcs(oid_arcs(oid.content));
  static const std::pair<const char*, int> kMap[] = {
      {"1.2.840.113549.1.1.2", 1},  {"1.2.840.113549.1.1.4", 2},  {"1.2.840.113549.1.1.5", 3},
      {"1.3.14.3.2.29", 3},         {"1.2.840.113549.1.1.11", 4}, {"1.2.840.113549.1.1.12", 5},
      {"1.2.840.113549.1.1.13", 6}, {"1.2.840.10040.4.3", 7},     {"2.16.840.1.101.3.4.3.2", 8},
      {"1.2.840.10045.4.1", 9},     {"1.2.840.10045.4.3.2", 10},  {"1.2.840.10045.4.3.3", 11},
      {"1.2.840.10045.4.3.4", 12},  {"1.3.101.112", 16},
  };
  for (auto [k, v] : kMap)
    if (o == k) return v;
  if (o != "1.2.840.113549.1.1.10") return 0;
  // RSASSA-PSS: the hash is in the parameters ([0] hashAlgorithm).
  Tlv params, field, hash_seq, hash_oid;
  if (!read_tlv(seq.content, params)) return 0;
  std::string_view p = params.content;
  while (read_tlv(p, field)) {
    if (field.tag != 0xA0) continue;
    std::string_view f = field.content;
    if (!read_tlv(f, hash_seq) || !read_tlv(hash_seq.content, hash_oid)) return 0;
    std::string h = join_arcs(oid_arcs(hash_oid.content));
    return h == "2.16.840.1.101.3.4.2.1"   ? 13
           : h == "2.16.840.1.101.3.4.2.2" ? 14
           : h == "2.16.840.1.101.3.4.2.3" ? 15
                                           : 0;
  }
  return 0;  // SHA-1 PSS is not one of Go's algorithms
}

// The public key as Go marshals *rsa.PublicKey, *ecdsa.PublicKey, ed25519.PublicKey, *dsa.PublicKey.
Value public_key_value(const EVP_PKEY* k, int alg) {
  if (!k) return Value::null();
  switch (alg) {
    case 1:
      return Value::object(
          {{S("N"), bn_param(k, OSSL_PKEY_PARAM_RSA_N)}, {S("E"), bn_param(k, OSSL_PKEY_PARAM_RSA_E)}});
    case 2:
      return Value::object({{S("Parameters"), Value::object({{S("P"), bn_param(k, OSSL_PKEY_PARAM_FFC_P)},
                                                             {S("Q"), bn_param(k, OSSL_PKEY_PARAM_FFC_Q)},
                                                             {S("G"), bn_param(k, OSSL_PKEY_PARAM_FFC_G)}})},
                            {S("Y"), bn_param(k, OSSL_PKEY_PARAM_PUB_KEY)}});
    case 3:
      // The elliptic.Curve has no exported fields: {}.
      return Value::object({{S("Curve"), Value::empty_object()},
                            {S("X"), bn_param(k, OSSL_PKEY_PARAM_EC_PUB_X)},
                            {S("Y"), bn_param(k, OSSL_PKEY_PARAM_EC_PUB_Y)}});
    case 4: {
      unsigned char raw[32];
      size_t len = sizeof raw;
      if (EVP_PKEY_get_raw_public_key(k, raw, &len) != 1) return Value::null();
      return bytes_value(std::string_view(reinterpret_cast<char*>(raw), len));
    }
    default: return Value::null();
  }
}

// The SubjectPublicKeyInfo's algorithm OID.
std::string spki_oid(std::string_view spki) {
  Tlv seq, alg, oid;
  if (!read_tlv(spki, seq) || !read_tlv(seq.content, alg) || !read_tlv(alg.content, oid)) return "";
  return join_arcs(oid_arcs(oid.content));
}

// ---------------------------------------------------------------- subject alternative names

struct Sans {
  std::vector<std::string> dns, email, uris;
  ValueVec ips;
};

void collect_sans(const GENERAL_NAMES* gens, Sans& out) {
  for (int i = 0; gens && i < sk_GENERAL_NAME_num(gens); ++i) {
    const GENERAL_NAME* g = sk_GENERAL_NAME_value(gens, i);
    switch (g->type) {
      case GEN_DNS: out.dns.emplace_back(sv(g->d.dNSName)); break;
      case GEN_EMAIL: out.email.emplace_back(sv(g->d.rfc822Name)); break;
      case GEN_URI: out.uris.emplace_back(sv(g->d.uniformResourceIdentifier)); break;
      case GEN_IPADD: {
        std::string_view ip = sv(g->d.iPAddress);
        if (ip.size() == 4 || ip.size() == 16) out.ips.push_back(S(ip_string(ip)));
        break;
      }
      default: break;
    }
  }
}

void add_sans(ObjectItems& items, const Sans& s) {
  ValueVec uris;
  for (const std::string& u : s.uris) uris.push_back(url_value(u));
  items.emplace_back(S("DNSNames"), strings_or_null(s.dns));
  items.emplace_back(S("EmailAddresses"), strings_or_null(s.email));
  items.emplace_back(S("IPAddresses"), list_or_null(s.ips));
  items.emplace_back(S("URIs"), list_or_null(std::move(uris)));
}

Value extension_value(const X509_EXTENSION* e) {
  return Value::object({{S("Id"), oid_value(X509_EXTENSION_get_object(const_cast<X509_EXTENSION*>(e)))},
                        {S("Critical"), Value::boolean(X509_EXTENSION_get_critical(e) > 0)},
                        {S("Value"), bytes_value(sv(X509_EXTENSION_get_data(const_cast<X509_EXTENSION*>(e))))}});
}

// ---------------------------------------------------------------- certificates

// Go's ExtKeyUsage values by OID.
int ext_key_usage(const std::string& oid) {
  static const std::pair<const char*, int> kMap[] = {
      {"2.5.29.37.0", 0},
      {"1.3.6.1.5.5.7.3.1", 1},
      {"1.3.6.1.5.5.7.3.2", 2},
      {"1.3.6.1.5.5.7.3.3", 3},
      {"1.3.6.1.5.5.7.3.4", 4},
      {"1.3.6.1.5.5.7.3.5", 5},
      {"1.3.6.1.5.5.7.3.6", 6},
      {"1.3.6.1.5.5.7.3.7", 7},
      {"1.3.6.1.5.5.7.3.8", 8},
      {"1.3.6.1.5.5.7.3.9", 9},
      {"1.3.6.1.4.1.311.10.3.3", 10},
      {"2.16.840.1.113730.4.1", 11},
      {"1.3.6.1.4.1.311.2.1.22", 12},
      {"1.3.6.1.4.1.311.61.1.1", 13},
  };
  for (auto [k, v] : kMap)
    if (oid == k) return v;
  return -1;
}

struct CertInfo {
  std::vector<int> ext_key_usage;
  bool has_unknown_eku = false;
};

CertInfo cert_info(X509* x) {
  CertInfo info;
  auto* eku = static_cast<EXTENDED_KEY_USAGE*>(X509_get_ext_d2i(x, NID_ext_key_usage, nullptr, nullptr));
  for (int i = 0; eku && i < sk_ASN1_OBJECT_num(eku); ++i) {
    int u = ext_key_usage(oid_text(sk_ASN1_OBJECT_value(eku, i)));
    if (u >= 0) {
      info.ext_key_usage.push_back(u);
    } else {
      info.has_unknown_eku = true;
    }
  }
  sk_ASN1_OBJECT_pop_free(eku, ASN1_OBJECT_free);
  return info;
}

// x509.Certificate as JSON, plus OPA's URIStrings when `uri_strings`.
Value certificate_value(X509* x, bool uri_strings) {
  ObjectItems it;
  int der_len = i2d_X509(x, nullptr);
  std::string der(static_cast<size_t>(std::max(der_len, 0)), '\0');
  unsigned char* dp = reinterpret_cast<unsigned char*>(der.data());
  if (der_len > 0) i2d_X509(x, &dp);
  // Raw sections straight from the DER: Certificate ::= SEQ { tbs, sigAlg, sig }.
  std::string_view tbs, issuer, subject, spki, sig_alg;
  {
    std::string_view d = der;
    Tlv cert;
    if (read_tlv(d, cert)) {
      std::vector<Tlv> top = children(cert.content);
      if (top.size() >= 2) {
        tbs = top[0].full;
        sig_alg = top[1].full;
        std::vector<Tlv> f = children(top[0].content);
        size_t i = !f.empty() && f[0].tag == 0xA0 ? 1 : 0;  // optional [0] version
        if (f.size() >= i + 6) {
          issuer = f[i + 2].full;
          subject = f[i + 4].full;
          spki = f[i + 5].full;
        }
      }
    }
  }
  it.emplace_back(S("Raw"), bytes_value(der));
  it.emplace_back(S("RawTBSCertificate"), bytes_value(tbs));
  it.emplace_back(S("RawSubjectPublicKeyInfo"), bytes_value(spki));
  it.emplace_back(S("RawSubject"), bytes_value(subject));
  it.emplace_back(S("RawIssuer"), bytes_value(issuer));
  const ASN1_BIT_STRING* sig = nullptr;
  X509_get0_signature(&sig, nullptr, x);
  it.emplace_back(S("Signature"), bytes_value(sv(sig)));
  it.emplace_back(S("SignatureAlgorithm"), Value::integer(signature_algorithm(sig_alg)));
  int pk_alg = public_key_algorithm(spki_oid(spki));
  it.emplace_back(S("PublicKeyAlgorithm"), Value::integer(pk_alg));
  it.emplace_back(S("PublicKey"), public_key_value(X509_get0_pubkey(x), pk_alg));
  it.emplace_back(S("Version"), Value::integer(X509_get_version(x) + 1));
  Bn serial(ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), nullptr));
  it.emplace_back(S("SerialNumber"), bn_value(serial.get()));
  it.emplace_back(S("Issuer"), name_value(X509_get_issuer_name(x)));
  it.emplace_back(S("Subject"), name_value(X509_get_subject_name(x)));
  it.emplace_back(S("NotBefore"), time_value(X509_get0_notBefore(x)));
  it.emplace_back(S("NotAfter"), time_value(X509_get0_notAfter(x)));

  // Key usage: OpenSSL's KU_* bits -> Go's KeyUsage (bit i of the ASN.1 BIT STRING is 1<<i).
  uint32_t ku = X509_get_key_usage(x);
  int64_t go_ku = 0;
  if (ku != UINT32_MAX) {
    static const std::pair<uint32_t, int> kBits[] = {
        {KU_DIGITAL_SIGNATURE, 0}, {KU_NON_REPUDIATION, 1}, {KU_KEY_ENCIPHERMENT, 2},
        {KU_DATA_ENCIPHERMENT, 3}, {KU_KEY_AGREEMENT, 4},   {KU_KEY_CERT_SIGN, 5},
        {KU_CRL_SIGN, 6},          {KU_ENCIPHER_ONLY, 7},   {KU_DECIPHER_ONLY, 8}};
    for (auto [bit, shift] : kBits)
      if (ku & bit) go_ku |= int64_t{1} << shift;
  }
  it.emplace_back(S("KeyUsage"), Value::integer(go_ku));

  // Extensions, and the critical ones Go does not process.
  ValueVec exts, unhandled;
  static const char* kHandled[] = {"2.5.29.14", "2.5.29.15", "2.5.29.17",        "2.5.29.19", "2.5.29.30",
                                   "2.5.29.31", "2.5.29.32", "2.5.29.33",        "2.5.29.35", "2.5.29.36",
                                   "2.5.29.37", "2.5.29.54", "1.3.6.1.5.5.7.1.1"};
  Sans sans;
  Gens san_gens(static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(x, NID_subject_alt_name, nullptr, nullptr)));
  collect_sans(san_gens.get(), sans);
  bool san_empty = sans.dns.empty() && sans.email.empty() && sans.uris.empty() && sans.ips.empty();
  const STACK_OF(X509_EXTENSION)* ext_stack = X509_get0_extensions(x);
  for (int i = 0; i < sk_X509_EXTENSION_num(ext_stack); ++i) {
    const X509_EXTENSION* e = sk_X509_EXTENSION_value(ext_stack, i);
    exts.push_back(extension_value(e));
    if (X509_EXTENSION_get_critical(e) <= 0) continue;
    ASN1_OBJECT* obj = X509_EXTENSION_get_object(const_cast<X509_EXTENSION*>(e));
    std::string oid = oid_text(obj);
    bool handled = std::any_of(std::begin(kHandled), std::end(kHandled), [&](const char* h) { return oid == h; });
    if (oid == "2.5.29.17" && san_empty) handled = false;  // a SAN with no name types Go knows
    if (!handled) unhandled.push_back(oid_value(obj));
  }
  it.emplace_back(S("Extensions"), list_or_null(std::move(exts)));
  it.emplace_back(S("ExtraExtensions"), Value::null());
  it.emplace_back(S("UnhandledCriticalExtensions"), list_or_null(std::move(unhandled)));

  ValueVec eku, unknown_eku;
  auto* eku_stack = static_cast<EXTENDED_KEY_USAGE*>(X509_get_ext_d2i(x, NID_ext_key_usage, nullptr, nullptr));
  for (int i = 0; eku_stack && i < sk_ASN1_OBJECT_num(eku_stack); ++i) {
    const ASN1_OBJECT* o = sk_ASN1_OBJECT_value(eku_stack, i);
    int u = ext_key_usage(oid_text(o));
    if (u >= 0) {
      eku.push_back(Value::integer(u));
    } else {
      unknown_eku.push_back(oid_value(o));
    }
  }
  sk_ASN1_OBJECT_pop_free(eku_stack, ASN1_OBJECT_free);
  it.emplace_back(S("ExtKeyUsage"), list_or_null(std::move(eku)));
  it.emplace_back(S("UnknownExtKeyUsage"), list_or_null(std::move(unknown_eku)));

  // Basic constraints: MaxPathLen is -1 when the extension omits it.
  auto* bc = static_cast<BASIC_CONSTRAINTS*>(X509_get_ext_d2i(x, NID_basic_constraints, nullptr, nullptr));
  int64_t max_path = 0;
  if (bc) {
    max_path = -1;
    if (bc->pathlen && !ASN1_INTEGER_get_int64(&max_path, bc->pathlen)) max_path = -1;
  }
  it.emplace_back(S("BasicConstraintsValid"), Value::boolean(bc != nullptr));
  it.emplace_back(S("IsCA"), Value::boolean(bc && bc->ca));
  it.emplace_back(S("MaxPathLen"), Value::integer(max_path));
  it.emplace_back(S("MaxPathLenZero"), Value::boolean(bc && max_path == 0));
  BASIC_CONSTRAINTS_free(bc);

  it.emplace_back(S("SubjectKeyId"), bytes_or_null(sv(X509_get0_subject_key_id(x))));
  it.emplace_back(S("AuthorityKeyId"), bytes_or_null(sv(X509_get0_authority_key_id(x))));

  std::vector<std::string> ocsp, issuers;
  auto* aia = static_cast<AUTHORITY_INFO_ACCESS*>(X509_get_ext_d2i(x, NID_info_access, nullptr, nullptr));
  for (int i = 0; aia && i < sk_ACCESS_DESCRIPTION_num(aia); ++i) {
    const ACCESS_DESCRIPTION* ad = sk_ACCESS_DESCRIPTION_value(aia, i);
    if (ad->location->type != GEN_URI) continue;
    int nid = OBJ_obj2nid(ad->method);
    if (nid == NID_ad_OCSP) ocsp.emplace_back(sv(ad->location->d.uniformResourceIdentifier));
    if (nid == NID_ad_ca_issuers) issuers.emplace_back(sv(ad->location->d.uniformResourceIdentifier));
  }
  AUTHORITY_INFO_ACCESS_free(aia);
  it.emplace_back(S("OCSPServer"), strings_or_null(ocsp));
  it.emplace_back(S("IssuingCertificateURL"), strings_or_null(issuers));

  add_sans(it, sans);

  // Name constraints.
  int nc_crit = 0;
  auto* nc = static_cast<NAME_CONSTRAINTS*>(X509_get_ext_d2i(x, NID_name_constraints, &nc_crit, nullptr));
  std::vector<std::string> dns[2], email[2], uri[2];
  ValueVec ips[2];
  for (int side = 0; nc && side < 2; ++side) {
    STACK_OF(GENERAL_SUBTREE)* trees = side == 0 ? nc->permittedSubtrees : nc->excludedSubtrees;
    for (int i = 0; trees && i < sk_GENERAL_SUBTREE_num(trees); ++i) {
      const GENERAL_NAME* g = sk_GENERAL_SUBTREE_value(trees, i)->base;
      if (g->type == GEN_DNS) dns[side].emplace_back(sv(g->d.dNSName));
      if (g->type == GEN_EMAIL) email[side].emplace_back(sv(g->d.rfc822Name));
      if (g->type == GEN_URI) uri[side].emplace_back(sv(g->d.uniformResourceIdentifier));
      if (g->type == GEN_IPADD) {
        std::string_view b = sv(g->d.iPAddress);
        if (b.size() != 8 && b.size() != 32) continue;
        size_t half = b.size() / 2;
        ips[side].push_back(
            Value::object({{S("IP"), S(ip_string(b.substr(0, half)))}, {S("Mask"), bytes_value(b.substr(half))}}));
      }
    }
  }
  NAME_CONSTRAINTS_free(nc);
  it.emplace_back(S("PermittedDNSDomainsCritical"), Value::boolean(nc_crit > 0));
  it.emplace_back(S("PermittedDNSDomains"), strings_or_null(dns[0]));
  it.emplace_back(S("ExcludedDNSDomains"), strings_or_null(dns[1]));
  it.emplace_back(S("PermittedIPRanges"), list_or_null(ips[0]));
  it.emplace_back(S("ExcludedIPRanges"), list_or_null(ips[1]));
  it.emplace_back(S("PermittedEmailAddresses"), strings_or_null(email[0]));
  it.emplace_back(S("ExcludedEmailAddresses"), strings_or_null(email[1]));
  it.emplace_back(S("PermittedURIDomains"), strings_or_null(uri[0]));
  it.emplace_back(S("ExcludedURIDomains"), strings_or_null(uri[1]));

  std::vector<std::string> crl;
  auto* dps = static_cast<CRL_DIST_POINTS*>(X509_get_ext_d2i(x, NID_crl_distribution_points, nullptr, nullptr));
  for (int i = 0; dps && i < sk_DIST_POINT_num(dps); ++i) {
    const DIST_POINT* dp_i = sk_DIST_POINT_value(dps, i);
    if (!dp_i->distpoint || dp_i->distpoint->type != 0) continue;
    const GENERAL_NAMES* full = dp_i->distpoint->name.fullname;
    for (int j = 0; j < sk_GENERAL_NAME_num(full); ++j) {
      const GENERAL_NAME* g = sk_GENERAL_NAME_value(full, j);
      if (g->type == GEN_URI) crl.emplace_back(sv(g->d.uniformResourceIdentifier));
    }
  }
  CRL_DIST_POINTS_free(dps);
  it.emplace_back(S("CRLDistributionPoints"), strings_or_null(crl));

  ValueVec policy_ids, policies;
  auto* pols = static_cast<CERTIFICATEPOLICIES*>(X509_get_ext_d2i(x, NID_certificate_policies, nullptr, nullptr));
  for (int i = 0; pols && i < sk_POLICYINFO_num(pols); ++i) {
    const ASN1_OBJECT* o = sk_POLICYINFO_value(pols, i)->policyid;
    policy_ids.push_back(oid_value(o));
    policies.push_back(S(oid_text(o)));  // x509.OID marshals as dotted text
  }
  CERTIFICATEPOLICIES_free(pols);
  it.emplace_back(S("PolicyIdentifiers"), list_or_null(std::move(policy_ids)));
  it.emplace_back(S("Policies"), list_or_null(std::move(policies)));
  // Go 1.24's policy-constraint fields; left at their zero values.
  it.emplace_back(S("InhibitAnyPolicy"), Value::integer(0));
  it.emplace_back(S("InhibitAnyPolicyZero"), Value::false_value());
  it.emplace_back(S("InhibitPolicyMapping"), Value::integer(0));
  it.emplace_back(S("InhibitPolicyMappingZero"), Value::false_value());
  it.emplace_back(S("RequireExplicitPolicy"), Value::integer(0));
  it.emplace_back(S("RequireExplicitPolicyZero"), Value::false_value());
  it.emplace_back(S("PolicyMappings"), Value::null());

  if (uri_strings) it.emplace_back(S("URIStrings"), strings_or_null(sans.uris));
  return Value::object(std::move(it));
}

// x509.ParseCertificates: concatenated DER certificates.
std::vector<X509Ptr> parse_der_certs(std::string_view der) {
  std::vector<X509Ptr> out;
  while (!der.empty()) {
    const unsigned char* p = u8(der);
    X509Ptr c(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
    if (!c) throw Fail("x509: malformed certificate");
    der.remove_prefix(static_cast<size_t>(p - u8(der)));
    out.push_back(std::move(c));
  }
  return out;
}

std::vector<X509Ptr> certs_from_pem(std::string_view pem) {
  std::string der;
  std::string_view rest = pem;
  while (!rest.empty()) {
    auto block = pem_decode(rest, rest);
    if (!block) break;
    if (block->type != "CERTIFICATE") throw Fail("PEM block type is '" + block->type + "', expected CERTIFICATE");
    der += block->bytes;
  }
  return parse_der_certs(der);
}

// OPA's getX509CertsFromString: PEM, base64 of PEM, or base64 of DER.
std::vector<X509Ptr> certs_from_string(const std::string& s) {
  if (s.starts_with("-----BEGIN")) return certs_from_pem(s);
  std::string decoded = b64_decode_or_fail(s);
  if (decoded.starts_with("-----BEGIN")) return certs_from_pem(decoded);
  return parse_der_certs(decoded);
}

Value certificates_value(const std::vector<X509*>& certs, bool uri_strings) {
  ValueVec out;
  for (X509* c : certs) out.push_back(certificate_value(c, uri_strings));
  return Value::array(std::move(out));
}

// ---------------------------------------------------------------- chain verification

struct VerifyOptions {
  std::string dns_name;
  std::optional<int64_t> current_time_ns;
  std::vector<int> key_usages;
};

// Go's checkChainForKeyUsage: walking from the root, every certificate with
// an EKU extension crosses out the requested usages it lacks.
bool chain_has_key_usage(STACK_OF(X509) * chain, std::vector<int> usages) {
  size_t remaining = usages.size();
  for (int i = sk_X509_num(chain) - 1; i >= 0; --i) {
    CertInfo info = cert_info(sk_X509_value(chain, i));
    if (info.ext_key_usage.empty() && !info.has_unknown_eku) continue;
    if (std::find(info.ext_key_usage.begin(), info.ext_key_usage.end(), 0) != info.ext_key_usage.end()) continue;
    for (int& u : usages) {
      if (u < 0) continue;
      if (std::find(info.ext_key_usage.begin(), info.ext_key_usage.end(), u) != info.ext_key_usage.end()) continue;
      u = -1;
      if (--remaining == 0) return false;
    }
  }
  return true;
}

// OPA's verifyX509CertificateChain: certs[0] is the root, the last the leaf,
// the rest intermediates. Returns the verified chain, leaf first.
std::optional<std::vector<X509*>> verify_chain(const std::vector<X509Ptr>& certs, const VerifyOptions& o,
                                               int64_t now_ns) {
  if (certs.size() < 2) return std::nullopt;
  Store store(X509_STORE_new());
  X509Stack untrusted(sk_X509_new_null());
  StoreCtx ctx(X509_STORE_CTX_new());
  if (!store || !untrusted || !ctx || X509_STORE_add_cert(store.get(), certs[0].get()) != 1) return std::nullopt;
  for (size_t i = 1; i + 1 < certs.size(); ++i) sk_X509_push(untrusted.get(), certs[i].get());
  if (X509_STORE_CTX_init(ctx.get(), store.get(), certs.back().get(), untrusted.get()) != 1) return std::nullopt;
  X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(ctx.get());
  // The root pool is a trust anchor whether or not it is self-signed.
  X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_PARTIAL_CHAIN);
  int64_t t = o.current_time_ns ? *o.current_time_ns : now_ns;
  X509_VERIFY_PARAM_set_time(param, static_cast<time_t>(t / 1000000000 - (t % 1000000000 < 0 ? 1 : 0)));
  if (!o.dns_name.empty()) {
    std::string host = o.dns_name;
    if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    unsigned char ipbuf[16];
    bool is_ip = inet_pton(AF_INET, host.c_str(), ipbuf) == 1 || inet_pton(AF_INET6, host.c_str(), ipbuf) == 1;
    if (is_ip) {
      X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str());
    } else {
      if (host.back() == '.') host.pop_back();
      // Go matches SANs only, never the subject's common name.
      X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NEVER_CHECK_SUBJECT);
      X509_VERIFY_PARAM_set1_host(param, host.c_str(), host.size());
    }
  }
  int ok = X509_verify_cert(ctx.get());
  ERR_clear_error();
  if (ok != 1) return std::nullopt;
  STACK_OF(X509)* chain = X509_STORE_CTX_get0_chain(ctx.get());
  // Go's default usage is server authentication; "any" disables the check.
  std::vector<int> usages = o.key_usages.empty() ? std::vector<int>{1} : o.key_usages;
  if (std::find(usages.begin(), usages.end(), 0) == usages.end() && !chain_has_key_usage(chain, usages))
    return std::nullopt;
  // Hand back our own objects, which outlive the verification context.
  std::vector<X509*> out;
  for (int i = 0; i < sk_X509_num(chain); ++i) {
    X509* c = sk_X509_value(chain, i);
    auto it = std::find_if(certs.begin(), certs.end(), [&](const X509Ptr& p) { return X509_cmp(p.get(), c) == 0; });
    if (it == certs.end()) return std::nullopt;  // cannot happen: the chain is built from `certs` only
    out.push_back(it->get());
  }
  return out;
}

const std::pair<const char*, int> kKeyUsageNames[] = {
    {"KeyUsageAny", 0},
    {"KeyUsageServerAuth", 1},
    {"KeyUsageClientAuth", 2},
    {"KeyUsageCodeSigning", 3},
    {"KeyUsageEmailProtection", 4},
    {"KeyUsageIPSECEndSystem", 5},
    {"KeyUsageIPSECTunnel", 6},
    {"KeyUsageIPSECUser", 7},
    {"KeyUsageTimeStamping", 8},
    {"KeyUsageOCSPSigning", 9},
    {"KeyUsageMicrosoftServerGatedCrypto", 10},
    {"KeyUsageNetscapeServerGatedCrypto", 11},
    {"KeyUsageMicrosoftCommercialCodeSigning", 12},
    {"KeyUsageMicrosoftKernelCodeSigning", 13},
};

// OPA's extractVerifyOpts.
VerifyOptions verify_options(const Value& obj) {
  VerifyOptions o;
  for (const auto& [k, v] : obj.object_items()) {
    if (!k.is_string()) continue;
    const std::string& key = k.str();
    if (key == "DNSName") {
      if (!v.is_string()) throw Fail("'DNSName' should be a string");
      o.dns_name = v.str();
      o.dns_name.erase(0, o.dns_name.find_first_not_of('"'));
      o.dns_name.erase(o.dns_name.find_last_not_of('"') + 1);
    } else if (key == "CurrentTime") {
      if (!v.is_number()) throw Fail("'CurrentTime' should be a number");
      int64_t ns;
      if (!v.to_int64(ns)) throw Fail("'CurrentTime' should be a valid int64 number");
      o.current_time_ns = ns;
    } else if (key == "MaxConstraintComparisons") {
      // Accepted for compatibility; OpenSSL bounds name-constraint work itself.
      if (!v.is_number()) throw Fail("'MaxConstraintComparisons' should be a number");
      int64_t n;
      if (!v.to_int64(n)) throw Fail("'MaxConstraintComparisons' should be a valid number");
    } else if (key == "KeyUsages") {
      if (!v.is_array() && !v.is_set()) throw Fail("'KeyUsages' should be an Array or Set");
      std::vector<std::string> invalid;
      for (const Value& u : v.is_array() ? v.array_items() : v.set_items()) {
        if (!u.is_string()) continue;
        std::string name = u.str();
        name.erase(0, name.find_first_not_of('"'));
        name.erase(name.find_last_not_of('"') + 1);
        auto it = std::find_if(std::begin(kKeyUsageNames), std::end(kKeyUsageNames),
                               [&](const auto& p) { return name == p.first; });
        if (it == std::end(kKeyUsageNames)) {
          invalid.push_back(name);
        } else {
          o.key_usages.push_back(it->second);
        }
      }
      if (!invalid.empty()) {
        std::string list;
        for (const std::string& s : invalid) list += (list.empty() ? "" : " ") + s;
        throw Fail("invalid entries for 'KeyUsages' found: [" + list + "]");
      }
    } else {
      throw Fail("invalid key option");
    }
  }
  return o;
}

int64_t wall_clock_ns(const BuiltinContext& ctx) {
  if (ctx.now_ns != 0) return ctx.now_ns;
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// ---------------------------------------------------------------- private keys

enum class KeyFormat { kPkcs1, kPkcs8, kEc };

// Which private-key structure the DER holds, by the type of its second element.
std::optional<KeyFormat> sniff_key(std::string_view der) {
  Tlv seq;
  if (!read_tlv(der, seq) || seq.tag != 0x30) return std::nullopt;
  std::vector<Tlv> f = children(seq.content);
  if (f.size() < 2 || f[0].tag != 0x02) return std::nullopt;
  if (f[1].tag == 0x02) return KeyFormat::kPkcs1;
  if (f[1].tag == 0x30) return KeyFormat::kPkcs8;
  if (f[1].tag == 0x04) return KeyFormat::kEc;
  return std::nullopt;
}

// x509.ParsePKCS1PrivateKey / ParsePKCS8PrivateKey / ParseECPrivateKey.
PKey parse_private_key(std::string_view der, KeyFormat want) {
  std::optional<KeyFormat> got = sniff_key(der);
  if (got && *got != want) {
    const char* use = *got == KeyFormat::kPkcs1   ? "ParsePKCS1PrivateKey"
                      : *got == KeyFormat::kPkcs8 ? "ParsePKCS8PrivateKey"
                                                  : "ParseECPrivateKey";
    throw Fail(std::string("x509: failed to parse private key (use ") + use + " instead for this key format)");
  }
  const unsigned char* p = u8(der);
  long len = static_cast<long>(der.size());
  PKey key;
  if (got && want == KeyFormat::kPkcs8) {
    P8 p8(d2i_PKCS8_PRIV_KEY_INFO(nullptr, &p, len));
    if (p8) key.reset(EVP_PKCS82PKEY(p8.get()));
    // Go's ParsePKCS8PrivateKey knows RSA, ECDSA, Ed25519 and X25519 only.
    int id = key ? EVP_PKEY_get_base_id(key.get()) : 0;
    if (key && id != EVP_PKEY_RSA && id != EVP_PKEY_EC && id != EVP_PKEY_ED25519 && id != EVP_PKEY_X25519) key.reset();
    if (p8 && !key) {
      const ASN1_OBJECT* alg = nullptr;
      PKCS8_pkey_get0(&alg, nullptr, nullptr, nullptr, p8.get());
      throw Fail("x509: PKCS#8 wrapping contained private key with unknown algorithm: " + oid_text(alg));
    }
  } else if (got) {
    key.reset(d2i_PrivateKey(want == KeyFormat::kPkcs1 ? EVP_PKEY_RSA : EVP_PKEY_EC, nullptr, &p, len));
  }
  ERR_clear_error();
  if (!key) {
    throw Fail(want == KeyFormat::kEc ? "x509: failed to parse EC private key: asn1: structure error"
                                      : "asn1: structure error: tags don't match");
  }
  return key;
}

// A private key as Go marshals *rsa.PrivateKey, *ecdsa.PrivateKey, ed25519.PrivateKey.
Value private_key_value(const EVP_PKEY* k) {
  switch (EVP_PKEY_get_base_id(k)) {
    case EVP_PKEY_RSA:
      return Value::object(
          {{S("N"), bn_param(k, OSSL_PKEY_PARAM_RSA_N)},
           {S("E"), bn_param(k, OSSL_PKEY_PARAM_RSA_E)},
           {S("D"), bn_param(k, OSSL_PKEY_PARAM_RSA_D)},
           {S("Primes"),
            Value::array({bn_param(k, OSSL_PKEY_PARAM_RSA_FACTOR1), bn_param(k, OSSL_PKEY_PARAM_RSA_FACTOR2)})},
           {S("Precomputed"), Value::object({{S("Dp"), bn_param(k, OSSL_PKEY_PARAM_RSA_EXPONENT1)},
                                             {S("Dq"), bn_param(k, OSSL_PKEY_PARAM_RSA_EXPONENT2)},
                                             {S("Qinv"), bn_param(k, OSSL_PKEY_PARAM_RSA_COEFFICIENT1)},
                                             {S("CRTValues"), Value::empty_array()}})}});
    case EVP_PKEY_EC:
      return Value::object({{S("Curve"), Value::empty_object()},
                            {S("X"), bn_param(k, OSSL_PKEY_PARAM_EC_PUB_X)},
                            {S("Y"), bn_param(k, OSSL_PKEY_PARAM_EC_PUB_Y)},
                            {S("D"), bn_param(k, OSSL_PKEY_PARAM_PRIV_KEY)}});
    case EVP_PKEY_ED25519: {
      // ed25519.PrivateKey is seed || public key.
      unsigned char seed[32], pub[32];
      size_t sl = sizeof seed, pl = sizeof pub;
      if (EVP_PKEY_get_raw_private_key(k, seed, &sl) != 1 || EVP_PKEY_get_raw_public_key(k, pub, &pl) != 1)
        return Value::null();
      return bytes_value(std::string(reinterpret_cast<char*>(seed), sl) +
                         std::string(reinterpret_cast<char*>(pub), pl));
    }
    default: return Value::empty_object();  // e.g. *ecdh.PrivateKey: no exported fields
  }
}

std::string bn_bytes(const EVP_PKEY* k, const char* name) {
  BIGNUM* bn = nullptr;
  if (EVP_PKEY_get_bn_param(k, name, &bn) != 1) return "";
  Bn owned(bn);
  std::string out(static_cast<size_t>(BN_num_bytes(bn)), '\0');
  BN_bn2bin(bn, reinterpret_cast<unsigned char*>(out.data()));
  return out;
}

// OPA's internal jwk.New(key) marshalled: full JWK for RSA; its EC key type
// carries only "kty".
Value private_key_jwk(const EVP_PKEY* k) {
  switch (EVP_PKEY_get_base_id(k)) {
    case EVP_PKEY_RSA: {
      auto f = [&](const char* p) { return S(b64_encode(bn_bytes(k, p), kUrlAlphabet, false)); };
      return Value::object({{S("kty"), S("RSA")},
                            {S("n"), f(OSSL_PKEY_PARAM_RSA_N)},
                            {S("e"), f(OSSL_PKEY_PARAM_RSA_E)},
                            {S("d"), f(OSSL_PKEY_PARAM_RSA_D)},
                            {S("p"), f(OSSL_PKEY_PARAM_RSA_FACTOR1)},
                            {S("q"), f(OSSL_PKEY_PARAM_RSA_FACTOR2)},
                            {S("dp"), f(OSSL_PKEY_PARAM_RSA_EXPONENT1)},
                            {S("dq"), f(OSSL_PKEY_PARAM_RSA_EXPONENT2)},
                            {S("qi"), f(OSSL_PKEY_PARAM_RSA_COEFFICIENT1)}});
    }
    case EVP_PKEY_EC: return Value::object({{S("kty"), S("EC")}});
    case EVP_PKEY_ED25519: throw Fail("invalid key type ed25519.PrivateKey");
    default: throw Fail("invalid key type");
  }
}

// OPA's getPrivateKeysFromPEMData: every RSA/PKCS#8/EC private key block.
std::vector<PKey> private_keys_from_pem(const std::string& input) {
  std::string text = input, decoded, err;
  if (b64_decode(input, decoded, err)) text = decoded;
  std::vector<PKey> keys;
  std::string_view rest = text;
  while (!rest.empty()) {
    size_t before = rest.size();
    auto block = pem_decode(rest, rest);
    if (!block || rest.size() == before) break;
    if (block->type == "RSA PRIVATE KEY") {
      keys.push_back(parse_private_key(block->bytes, KeyFormat::kPkcs1));
    } else if (block->type == "PRIVATE KEY") {
      keys.push_back(parse_private_key(block->bytes, KeyFormat::kPkcs8));
    } else if (block->type == "EC PRIVATE KEY") {
      keys.push_back(parse_private_key(block->bytes, KeyFormat::kEc));
    }
  }
  return keys;
}

// crypto/tls's parsePrivateKey: PKCS#1, then PKCS#8, then SEC 1.
PKey tls_private_key(std::string_view der) {
  std::optional<KeyFormat> f = sniff_key(der);
  if (f) {
    try {
      PKey k = parse_private_key(der, *f);
      int id = EVP_PKEY_get_base_id(k.get());
      if (*f == KeyFormat::kPkcs8 && id != EVP_PKEY_RSA && id != EVP_PKEY_EC && id != EVP_PKEY_ED25519)
        throw Fail("tls: found unknown private key type in PKCS#8 wrapping");
      return k;
    } catch (const Fail& e) {
      if (std::string(e.what()).starts_with("tls:")) throw;
    }
  }
  throw Fail("tls: failed to parse private key");
}

std::string join_types(const std::vector<std::string>& types) {
  std::string s = "[";
  for (size_t i = 0; i < types.size(); ++i) s += (i ? " " : "") + types[i];
  return s + "]";
}

// ---------------------------------------------------------------- builtins

Value parse_certificates(BuiltinContext&, std::span<const Value> args) {
  static constexpr std::string_view kName = "crypto.x509.parse_certificates";
  const std::string& input = arg_string(kName, args, 0);
  return guarded(kName, [&] {
    std::vector<X509Ptr> certs = certs_from_string(input);
    std::vector<X509*> raw;
    for (const X509Ptr& c : certs) raw.push_back(c.get());
    return certificates_value(raw, true);
  });
}

Value verify_result(const std::string& input, const Value* options, int64_t now, bool uri_strings) {
  const Value invalid = Value::array({Value::false_value(), Value::empty_array()});
  std::vector<X509Ptr> certs;
  try {
    certs = certs_from_string(input);
  } catch (const Fail&) {
    return invalid;
  }
  // Options are read only once the certificates parse, as in OPA.
  VerifyOptions o = options ? verify_options(*options) : VerifyOptions{};
  auto chain = verify_chain(certs, o, now);
  if (!chain) return invalid;
  return Value::array({Value::true_value(), certificates_value(*chain, uri_strings)});
}

Value parse_and_verify_certificates(BuiltinContext& ctx, std::span<const Value> args) {
  static constexpr std::string_view kName = "crypto.x509.parse_and_verify_certificates";
  const std::string& input = arg_string(kName, args, 0);
  return guarded(kName, [&] { return verify_result(input, nullptr, wall_clock_ns(ctx), true); });
}

Value parse_and_verify_certificates_with_options(BuiltinContext& ctx, std::span<const Value> args) {
  static constexpr std::string_view kName = "crypto.x509.parse_and_verify_certificates_with_options";
  const std::string& input = arg_string(kName, args, 0);
  const Value& options = arg_object(kName, args, 1);
  // OPA returns the bare x509.Certificate here, without URIStrings.
  return guarded(kName, [&] { return verify_result(input, &options, wall_clock_ns(ctx), false); });
}

Value parse_certificate_request(BuiltinContext&, std::span<const Value> args) {
  static constexpr std::string_view kName = "crypto.x509.parse_certificate_request";
  const std::string& input = arg_string(kName, args, 0);
  return guarded(kName, [&] {
    std::string bytes = input;
    if (!input.starts_with("-----BEGIN CERTIFICATE REQUEST-----")) bytes = b64_decode_or_fail(input);
    std::string_view rest;
    if (auto block = pem_decode(bytes, rest)) {
      if (block->type != "CERTIFICATE REQUEST") throw Fail("invalid PEM-encoded certificate signing request");
      bytes = block->bytes;
    }
    const unsigned char* p = u8(bytes);
    ReqPtr req(d2i_X509_REQ(nullptr, &p, static_cast<long>(bytes.size())));
    if (!req) throw Fail("asn1: structure error: tags don't match");
    if (p != u8(bytes) + bytes.size()) throw Fail("asn1: syntax error: trailing data");
    std::string_view der = std::string_view(bytes).substr(0, static_cast<size_t>(p - u8(bytes)));
    // CertificationRequest ::= SEQ { info SEQ { version, subject, spki, [0] attributes }, sigAlg, sig }.
    std::string_view info, subject, spki, sig_alg, attrs;
    {
      std::string_view d = der;
      Tlv top;
      if (read_tlv(d, top)) {
        std::vector<Tlv> parts = children(top.content);
        if (parts.size() >= 2) {
          info = parts[0].full;
          sig_alg = parts[1].full;
          std::vector<Tlv> f = children(parts[0].content);
          if (f.size() >= 3) {
            subject = f[1].full;
            spki = f[2].full;
          }
          if (f.size() >= 4 && f[3].tag == 0xA0) attrs = f[3].content;
        }
      }
    }
    ObjectItems it;
    it.emplace_back(S("Raw"), bytes_value(der));
    it.emplace_back(S("RawTBSCertificateRequest"), bytes_value(info));
    it.emplace_back(S("RawSubjectPublicKeyInfo"), bytes_value(spki));
    it.emplace_back(S("RawSubject"), bytes_value(subject));
    it.emplace_back(S("Version"), Value::integer(X509_REQ_get_version(req.get())));
    const ASN1_BIT_STRING* sig = nullptr;
    X509_REQ_get0_signature(req.get(), &sig, nullptr);
    it.emplace_back(S("Signature"), bytes_value(sv(sig)));
    it.emplace_back(S("SignatureAlgorithm"), Value::integer(signature_algorithm(sig_alg)));
    int pk_alg = public_key_algorithm(spki_oid(spki));
    it.emplace_back(S("PublicKeyAlgorithm"), Value::integer(pk_alg));
    it.emplace_back(S("PublicKey"), public_key_value(X509_REQ_get0_pubkey(req.get()), pk_alg));
    it.emplace_back(S("Subject"), name_value(X509_REQ_get_subject_name(req.get())));
    // Attributes (deprecated in Go): SEQUENCE-of-SEQUENCE values only, such
    // as the extension request; each inner pair is {Type, Value}.
    ValueVec attributes;
    for (const Tlv& attr : children(attrs)) {
      std::vector<Tlv> f = children(attr.content);
      if (f.size() != 2 || f[0].tag != 0x06 || f[1].tag != 0x31) continue;
      ValueVec sets;
      bool ok = true;
      for (const Tlv& seq : children(f[1].content)) {
        if (seq.tag != 0x30) {
          ok = false;
          break;
        }
        ValueVec pairs;
        for (const Tlv& pair : children(seq.content)) {
          std::vector<Tlv> pv = children(pair.content);
          if (pair.tag != 0x30 || pv.size() < 2 || pv[0].tag != 0x06) {
            ok = false;
            break;
          }
          const Tlv& v = pv[1];
          Value val = v.tag == 0x01   ? Value::boolean(!v.content.empty() && v.content[0] != 0)
                      : v.tag == 0x04 ? bytes_value(v.content)
                                      : S(v.content);
          pairs.push_back(Value::object({{S("Type"), arcs_value(oid_arcs(pv[0].content))}, {S("Value"), val}}));
        }
        if (!ok) break;
        sets.push_back(Value::array(std::move(pairs)));
      }
      if (!ok) continue;
      attributes.push_back(Value::object(
          {{S("Type"), arcs_value(oid_arcs(f[0].content))}, {S("Value"), Value::array(std::move(sets))}}));
    }
    it.emplace_back(S("Attributes"), list_or_null(std::move(attributes)));
    Exts exts(X509_REQ_get_extensions(req.get()));
    ValueVec ext_values;
    Sans sans;
    for (int i = 0; exts && i < sk_X509_EXTENSION_num(exts.get()); ++i) {
      X509_EXTENSION* e = sk_X509_EXTENSION_value(exts.get(), i);
      ext_values.push_back(extension_value(e));
      if (OBJ_obj2nid(X509_EXTENSION_get_object(e)) == NID_subject_alt_name) {
        Gens g(static_cast<GENERAL_NAMES*>(X509V3_EXT_d2i(e)));
        collect_sans(g.get(), sans);
      }
    }
    ERR_clear_error();
    it.emplace_back(S("Extensions"), list_or_null(std::move(ext_values)));
    it.emplace_back(S("ExtraExtensions"), Value::null());
    add_sans(it, sans);
    return Value::object(std::move(it));
  });
}

Value parse_keypair(BuiltinContext&, std::span<const Value> args) {
  static constexpr std::string_view kName = "crypto.x509.parse_keypair";
  std::string cert_pem = arg_string(kName, args, 0);
  std::string key_pem = arg_string(kName, args, 1);
  return guarded(kName, [&] {
    // Base64 input is decoded; bare DER is wrapped as PEM (OPA's getTLSx509KeyPairFromString).
    if (!cert_pem.starts_with("-----BEGIN ")) cert_pem = b64_decode_or_fail(cert_pem);
    if (!key_pem.starts_with("-----BEGIN ")) key_pem = b64_decode_or_fail(key_pem);
    if (!cert_pem.starts_with("-----BEGIN ")) cert_pem = pem_encode("CERTIFICATE", cert_pem);
    if (!key_pem.starts_with("-----BEGIN")) key_pem = pem_encode("PRIVATE KEY", key_pem);
    // tls.X509KeyPair.
    std::vector<std::string> ders, skipped;
    std::string_view rest = cert_pem;
    while (auto block = pem_decode(rest, rest)) {
      if (block->type == "CERTIFICATE") {
        ders.push_back(std::move(block->bytes));
      } else {
        skipped.push_back(block->type);
      }
    }
    if (ders.empty()) {
      if (skipped.empty()) throw Fail("tls: failed to find any PEM data in certificate input");
      if (skipped.size() == 1 && skipped[0].ends_with("PRIVATE KEY"))
        throw Fail(
            "tls: failed to find certificate PEM data in certificate input, but did find a private key; PEM inputs may "
            "have been switched");
      throw Fail(
          "tls: failed to find \"CERTIFICATE\" PEM block in certificate input after skipping PEM blocks of the "
          "following types: " +
          join_types(skipped));
    }
    skipped.clear();
    rest = key_pem;
    std::optional<PemBlock> key_block;
    for (;;) {
      key_block = pem_decode(rest, rest);
      if (!key_block) {
        if (skipped.empty()) throw Fail("tls: failed to find any PEM data in key input");
        if (skipped.size() == 1 && skipped[0] == "CERTIFICATE")
          throw Fail("tls: found a certificate rather than a key in the PEM for the private key");
        throw Fail(
            "tls: failed to find PEM block with type ending in \"PRIVATE KEY\" in key input after skipping PEM blocks "
            "of the following types: " +
            join_types(skipped));
      }
      if (key_block->type == "PRIVATE KEY" || key_block->type.ends_with(" PRIVATE KEY")) break;
      skipped.push_back(key_block->type);
    }
    const unsigned char* p = u8(ders[0]);
    X509Ptr leaf(d2i_X509(nullptr, &p, static_cast<long>(ders[0].size())));
    if (!leaf) throw Fail("x509: malformed certificate");
    if (p != u8(ders[0]) + ders[0].size()) throw Fail("x509: trailing data");
    PKey key = tls_private_key(key_block->bytes);
    EVP_PKEY* pub = X509_get0_pubkey(leaf.get());
    int pub_id = pub ? EVP_PKEY_get_base_id(pub) : 0;
    if (pub_id != EVP_PKEY_RSA && pub_id != EVP_PKEY_EC && pub_id != EVP_PKEY_ED25519)
      throw Fail("tls: unknown public key algorithm");
    if (EVP_PKEY_get_base_id(key.get()) != pub_id) throw Fail("tls: private key type does not match public key type");
    if (EVP_PKEY_eq(pub, key.get()) != 1) throw Fail("tls: private key does not match public key");
    ERR_clear_error();
    ValueVec chain;
    for (const std::string& d : ders) chain.push_back(bytes_value(d));
    return Value::object({{S("Certificate"), Value::array(std::move(chain))},
                          {S("PrivateKey"), private_key_value(key.get())},
                          {S("SupportedSignatureAlgorithms"), Value::null()},
                          {S("OCSPStaple"), Value::null()},
                          {S("SignedCertificateTimestamps"), Value::null()},
                          {S("Leaf"), certificate_value(leaf.get(), false)}});
  });
}

Value parse_rsa_private_key(BuiltinContext&, std::span<const Value> args) {
  static constexpr std::string_view kName = "crypto.x509.parse_rsa_private_key";
  const std::string& input = arg_string(kName, args, 0);
  return guarded(kName, [&] {
    if (input.empty()) throw Fail("input PEM data was empty");
    std::string pem = input.starts_with("-----BEGIN") ? input : b64_decode_or_fail(input);
    std::vector<PKey> keys = private_keys_from_pem(pem);
    if (keys.empty()) return Value::null();
    return private_key_jwk(keys[0].get());
  });
}

Value parse_private_keys(BuiltinContext&, std::span<const Value> args) {
  static constexpr std::string_view kName = "crypto.parse_private_keys";
  const std::string& input = arg_string(kName, args, 0);
  return guarded(kName, [&] {
    if (input.empty()) return Value::null();
    ValueVec out;
    for (const PKey& k : private_keys_from_pem(input)) out.push_back(private_key_value(k.get()));
    return Value::array(std::move(out));
  });
}

}  // namespace

void register_x509(BuiltinRegistry& r) {
  r.add("crypto.x509.parse_certificates", 1, parse_certificates);
  r.add("crypto.x509.parse_and_verify_certificates", 1, parse_and_verify_certificates);
  r.add("crypto.x509.parse_and_verify_certificates_with_options", 2, parse_and_verify_certificates_with_options);
  r.add("crypto.x509.parse_certificate_request", 1, parse_certificate_request);
  r.add("crypto.x509.parse_keypair", 2, parse_keypair);
  r.add("crypto.x509.parse_rsa_private_key", 1, parse_rsa_private_key);
  r.add("crypto.parse_private_keys", 1, parse_private_keys);
}

}  // namespace confidant::rego
