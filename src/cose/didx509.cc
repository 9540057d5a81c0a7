#include "cose/didx509.h"

#include <openssl/core_names.h>
#include <openssl/objects.h>
#include <openssl/x509v3.h>

#include <nlohmann/json.hpp>
#include <set>

#include "cose/x509_chain.h"

namespace confidant::cose {

namespace {

std::vector<std::string_view> split(std::string_view s, std::string_view sep) {
  std::vector<std::string_view> out;
  size_t at = 0;
  while (true) {
    size_t next = s.find(sep, at);
    if (next == std::string_view::npos) {
      out.push_back(s.substr(at));
      return out;
    }
    out.push_back(s.substr(at, next - at));
    at = next + sep.size();
  }
}

bool is_dotted_oid(std::string_view s) {
  if (s.empty()) return false;
  size_t arcs = 0;
  for (auto part : split(s, ".")) {
    if (part.empty() || part.size() > 20) return false;
    for (char c : part)
      if (c < '0' || c > '9') return false;
    ++arcs;
  }
  return arcs >= 2;
}

// The subject keys the method names; anything else must be a dotted OID.
const char* subject_key_oid(std::string_view key) {
  static const std::pair<const char*, const char*> kKeys[] = {
      {"CN", "2.5.4.3"},  {"L", "2.5.4.7"}, {"ST", "2.5.4.8"},     {"O", "2.5.4.10"},
      {"OU", "2.5.4.11"}, {"C", "2.5.4.6"}, {"STREET", "2.5.4.9"},
  };
  for (const auto& [k, oid] : kKeys)
    if (key == k) return oid;
  return nullptr;
}

std::string oid_text(const ASN1_OBJECT* obj) {
  char buf[128];
  int n = OBJ_obj2txt(buf, sizeof buf, obj, 1);
  if (n <= 0 || static_cast<size_t>(n) >= sizeof buf) return {};
  return std::string(buf, static_cast<size_t>(n));
}

std::string asn1_utf8(const ASN1_STRING* s) {
  unsigned char* out = nullptr;
  int n = ASN1_STRING_to_UTF8(&out, s);
  if (n < 0) return {};
  std::string r(reinterpret_cast<char*>(out), static_cast<size_t>(n));
  OPENSSL_free(out);
  return r;
}

struct GeneralNamesFree {
  void operator()(GENERAL_NAMES* p) const { GENERAL_NAMES_free(p); }
};
struct EkuFree {
  void operator()(EXTENDED_KEY_USAGE* p) const { sk_ASN1_OBJECT_pop_free(p, ASN1_OBJECT_free); }
};
struct BnFree {
  void operator()(BIGNUM* p) const { BN_free(p); }
};

std::string bn_bytes(const BIGNUM* bn, size_t width = 0) {
  size_t n = width ? width : static_cast<size_t>(BN_num_bytes(bn));
  std::string out(n, '\0');
  if (BN_bn2binpad(bn, reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) < 0) return {};
  return out;
}

}  // namespace

std::string did_percent_encode(std::string_view s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
        c == '_') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(hex[c >> 4]);
      out.push_back(hex[c & 15]);
    }
  }
  return out;
}

bool did_percent_decode(std::string_view s, std::string& out) {
  out.clear();
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out.push_back(s[i]);
      continue;
    }
    std::string byte;
    if (i + 2 >= s.size() || !from_hex(s.substr(i + 1, 2), byte)) return false;
    out += byte;
    i += 2;
  }
  return true;
}

bool parse_did_x509(std::string_view did, DidX509& out, std::string& error) {
  out = DidX509();
  constexpr std::string_view kPrefix = "did:x509:";
  if (did.size() > 8192) {
    error = "DID is too long.";
    return false;
  }
  if (!did.starts_with(kPrefix)) {
    error = "DID prefix is invalid.";
    return false;
  }
  // A fragment names a key of the document: it is dropped. Paths and
  // queries would address something the method does not define.
  if (size_t hash = did.find('#'); hash != std::string_view::npos) did = did.substr(0, hash);
  if (did.find('/') != std::string_view::npos) {
    error = "DID URL paths are not supported.";
    return false;
  }
  if (did.find('?') != std::string_view::npos) {
    error = "DID URL queries are not supported.";
    return false;
  }
  out.did = did;
  auto parts = split(did.substr(kPrefix.size()), "::");
  auto head = split(parts[0], ":");
  if (head.size() != 3) {
    error = "DID must have the form did:x509:0:<alg>:<fingerprint>.";
    return false;
  }
  if (head[0] != "0") {
    error = "DID method version is not supported.";
    return false;
  }
  size_t digest_len = head[1] == "sha256" ? 32 : head[1] == "sha384" ? 48 : head[1] == "sha512" ? 64 : 0;
  if (!digest_len) {
    error = "Fingerprint algorithm is not supported.";
    return false;
  }
  out.hash_alg = head[1];
  if (!base64url_decode(head[2], out.fingerprint) || out.fingerprint.size() != digest_len) {
    error = "Fingerprint is not a base64url " + out.hash_alg + " digest.";
    return false;
  }
  if (parts.size() < 2) {
    error = "DID must contain at least one predicate.";
    return false;
  }
  for (size_t i = 1; i < parts.size(); ++i) {
    std::string_view p = parts[i];
    size_t colon = p.find(':');
    std::string_view name = p.substr(0, colon);
    std::string_view rest = colon == std::string_view::npos ? std::string_view() : p.substr(colon + 1);
    DidPredicate pred;
    if (name == "subject") {
      pred.kind = DidPredicate::Kind::kSubject;
      auto kv = split(rest, ":");
      if (colon == std::string_view::npos || kv.size() % 2 != 0) {
        error = "Subject predicate requires key-value pairs.";
        return false;
      }
      std::set<std::string_view> seen;
      for (size_t k = 0; k < kv.size(); k += 2) {
        if (!subject_key_oid(kv[k]) && !is_dotted_oid(kv[k])) {
          error = "Subject predicate contains an unknown key.";
          return false;
        }
        if (!seen.insert(kv[k]).second) {
          error = "Subject predicate contains duplicate fields.";
          return false;
        }
        std::string value;
        if (!did_percent_decode(kv[k + 1], value)) {
          error = "Subject predicate value is not correctly percent-encoded.";
          return false;
        }
        pred.subject.emplace_back(std::string(kv[k]), std::move(value));
      }
    } else if (name == "san") {
      pred.kind = DidPredicate::Kind::kSan;
      auto tv = split(rest, ":");
      if (colon == std::string_view::npos || tv.size() != 2) {
        error = "SAN predicate requires exactly one type and value.";
        return false;
      }
      if (tv[0] != "email" && tv[0] != "dns" && tv[0] != "uri") {
        error = "SAN predicate type is not supported.";
        return false;
      }
      pred.san_type = tv[0];
      if (!did_percent_decode(tv[1], pred.value)) {
        error = "SAN predicate value is not correctly percent-encoded.";
        return false;
      }
    } else if (name == "eku") {
      pred.kind = DidPredicate::Kind::kEku;
      if (!is_dotted_oid(rest)) {
        error = "EKU predicate value is not an OID.";
        return false;
      }
      pred.value = rest;
    } else if (name == "fulcio-issuer") {
      pred.kind = DidPredicate::Kind::kFulcioIssuer;
      if (colon == std::string_view::npos || rest.empty() || rest.find(':') != std::string_view::npos ||
          !did_percent_decode(rest, pred.value)) {
        error = "Fulcio issuer predicate value is not correctly percent-encoded.";
        return false;
      }
    } else {
      error = "DID contains an unknown predicate.";
      return false;
    }
    out.predicates.push_back(std::move(pred));
  }
  return true;
}

bool public_key_jwk(EVP_PKEY* key, std::string& jwk_json, std::string& error) {
  nlohmann::ordered_json j;
  int id = EVP_PKEY_get_base_id(key);
  if (id == EVP_PKEY_EC) {
    char group[64];
    size_t glen = 0;
    if (!EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group, &glen)) {
      error = "cannot read the EC curve";
      return false;
    }
    std::string g(group, glen);
    const char* crv = g == "prime256v1" || g == "P-256"  ? "P-256"
                      : g == "secp384r1" || g == "P-384" ? "P-384"
                      : g == "secp521r1" || g == "P-521" ? "P-521"
                      : g == "secp256k1"                 ? "secp256k1"
                                                         : nullptr;
    if (!crv) {
      error = "unsupported EC curve " + g;
      return false;
    }
    BIGNUM *x = nullptr, *y = nullptr;
    EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_EC_PUB_X, &x);
    EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_EC_PUB_Y, &y);
    std::unique_ptr<BIGNUM, BnFree> xo(x), yo(y);
    if (!x || !y) {
      error = "cannot read the EC public point";
      return false;
    }
    size_t width = static_cast<size_t>((EVP_PKEY_get_bits(key) + 7) / 8);
    j["kty"] = "EC";
    j["crv"] = crv;
    j["x"] = base64url_encode(bn_bytes(x, width));
    j["y"] = base64url_encode(bn_bytes(y, width));
  } else if (id == EVP_PKEY_RSA || id == EVP_PKEY_RSA_PSS) {
    BIGNUM *n = nullptr, *e = nullptr;
    EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_N, &n);
    EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_E, &e);
    std::unique_ptr<BIGNUM, BnFree> no(n), eo(e);
    if (!n || !e) {
      error = "cannot read the RSA public key";
      return false;
    }
    j["kty"] = "RSA";
    j["n"] = base64url_encode(bn_bytes(n));
    j["e"] = base64url_encode(bn_bytes(e));
  } else if (id == EVP_PKEY_ED25519 || id == EVP_PKEY_ED448) {
    unsigned char raw[64];
    size_t len = sizeof raw;
    if (!EVP_PKEY_get_raw_public_key(key, raw, &len)) {
      error = "cannot read the EdDSA public key";
      return false;
    }
    j["kty"] = "OKP";
    j["crv"] = id == EVP_PKEY_ED25519 ? "Ed25519" : "Ed448";
    j["x"] = base64url_encode(std::string_view(reinterpret_cast<char*>(raw), len));
  } else {
    error = "unsupported leaf key type";
    return false;
  }
  jwk_json = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return true;
}

namespace {

struct LeafSan {
  std::string type, value;
};

// SANs of the leaf in predicate form. Directory names are skipped (no
// predicate can name them, and Microsoft's ContainerPlat leaf carries one);
// any other type makes the leaf unusable, as the did-x509 vectors require.
bool leaf_sans(X509* leaf, std::vector<LeafSan>& out, std::string& error) {
  std::unique_ptr<GENERAL_NAMES, GeneralNamesFree> names(
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(leaf, NID_subject_alt_name, nullptr, nullptr)));
  if (!names) return true;
  for (int i = 0; i < sk_GENERAL_NAME_num(names.get()); ++i) {
    const GENERAL_NAME* n = sk_GENERAL_NAME_value(names.get(), i);
    switch (n->type) {
      case GEN_EMAIL: out.push_back({"email", asn1_utf8(n->d.rfc822Name)}); break;
      case GEN_DNS: out.push_back({"dns", asn1_utf8(n->d.dNSName)}); break;
      case GEN_URI: out.push_back({"uri", asn1_utf8(n->d.uniformResourceIdentifier)}); break;
      case GEN_DIRNAME: break;
      default: error = "Certificate contains an unsupported SAN type."; return false;
    }
  }
  return true;
}

bool subject_matches(X509* leaf, const DidPredicate& p, std::string& error) {
  X509_NAME* name = X509_get_subject_name(leaf);
  std::vector<std::pair<std::string, std::string>> attrs;
  std::set<std::string> seen;
  for (int i = 0; i < X509_NAME_entry_count(name); ++i) {
    X509_NAME_ENTRY* e = X509_NAME_get_entry(name, i);
    std::string oid = oid_text(X509_NAME_ENTRY_get_object(e));
    if (!seen.insert(oid).second) {
      error = "Certificate name contains duplicate attributes.";
      return false;
    }
    attrs.emplace_back(oid, asn1_utf8(X509_NAME_ENTRY_get_data(e)));
  }
  for (const auto& [key, value] : p.subject) {
    const char* known = subject_key_oid(key);
    std::string oid = known ? known : key;
    bool found = false;
    for (const auto& a : attrs)
      if (a.first == oid && a.second == value) found = true;
    if (!found) {
      error = "Subject predicate does not match the certificate.";
      return false;
    }
  }
  return true;
}

bool eku_matches(X509* leaf, const DidPredicate& p, std::string& error) {
  std::unique_ptr<EXTENDED_KEY_USAGE, EkuFree> eku(
      static_cast<EXTENDED_KEY_USAGE*>(X509_get_ext_d2i(leaf, NID_ext_key_usage, nullptr, nullptr)));
  if (!eku) {
    error = "Certificate does not contain an EKU extension.";
    return false;
  }
  for (int i = 0; i < sk_ASN1_OBJECT_num(eku.get()); ++i)
    if (oid_text(sk_ASN1_OBJECT_value(eku.get(), i)) == p.value) return true;
  error = "EKU predicate does not match the certificate.";
  return false;
}

// Fulcio's issuer: 1.3.6.1.4.1.57264.1.1 holds the URL as raw bytes, the
// newer 1.3.6.1.4.1.57264.1.8 as a DER UTF8String.
bool fulcio_issuer(X509* leaf, std::string& issuer) {
  for (int i = 0; i < X509_get_ext_count(leaf); ++i) {
    X509_EXTENSION* ext = X509_get_ext(leaf, i);
    std::string oid = oid_text(X509_EXTENSION_get_object(ext));
    const ASN1_OCTET_STRING* data = X509_EXTENSION_get_data(ext);
    std::string_view raw(reinterpret_cast<const char*>(ASN1_STRING_get0_data(data)),
                         static_cast<size_t>(ASN1_STRING_length(data)));
    if (oid == "1.3.6.1.4.1.57264.1.8") {
      const auto* p = reinterpret_cast<const unsigned char*>(raw.data());
      ASN1_UTF8STRING* s = d2i_ASN1_UTF8STRING(nullptr, &p, static_cast<long>(raw.size()));
      if (!s) continue;
      issuer.assign(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                    static_cast<size_t>(ASN1_STRING_length(s)));
      ASN1_UTF8STRING_free(s);
      return true;
    }
    if (oid == "1.3.6.1.4.1.57264.1.1") {
      issuer = raw;
      return true;
    }
  }
  return false;
}

std::string digest_named(const std::string& alg, std::string_view data) {
  return alg == "sha256" ? sha256(data) : alg == "sha384" ? sha384(data) : sha512(data);
}

}  // namespace

bool resolve_did_x509(std::string_view did, const std::vector<Cert>& chain, std::string& document_json,
                      std::string& error) {
  DidX509 d;
  if (!parse_did_x509(did, d, error)) return false;
  if (chain.size() < 2) {
    error = "Certificate chain must contain at least two certificates.";
    return false;
  }
  ChainOptions options;  // validity periods are not part of resolution
  options.exact_path = true;
  std::string why;
  int code = 0;
  if (!verify_chain(chain, options, why, &code)) {
    error = code == kChainNotExact ? "Supplied chain does not match the verified chain."
                                   : "Certificate chain verification failed: " + why + ".";
    return false;
  }
  bool fingerprint_found = false;
  for (size_t i = 1; i < chain.size() && !fingerprint_found; ++i)
    fingerprint_found = digest_named(d.hash_alg, cert_der(chain[i].get())) == d.fingerprint;
  if (!fingerprint_found) {
    error = "CA fingerprint does not match the certificate chain.";
    return false;
  }
  X509* leaf = chain[0].get();
  std::vector<LeafSan> sans;
  if (!leaf_sans(leaf, sans, error)) return false;
  for (const auto& p : d.predicates) {
    switch (p.kind) {
      case DidPredicate::Kind::kSubject:
        if (!subject_matches(leaf, p, error)) return false;
        break;
      case DidPredicate::Kind::kSan: {
        bool found = false;
        for (const auto& s : sans) found = found || (s.type == p.san_type && s.value == p.value);
        if (!found) {
          error = "SAN predicate does not match the certificate.";
          return false;
        }
        break;
      }
      case DidPredicate::Kind::kEku:
        if (!eku_matches(leaf, p, error)) return false;
        break;
      case DidPredicate::Kind::kFulcioIssuer: {
        std::string issuer;
        if (!fulcio_issuer(leaf, issuer)) {
          error = "Certificate does not contain a Fulcio issuer extension.";
          return false;
        }
        if (issuer != "https://" + p.value) {
          error = "Fulcio issuer predicate does not match the certificate.";
          return false;
        }
        break;
      }
    }
  }
  bool sign = true, agree = true;
  uint32_t ku = X509_get_key_usage(leaf);
  if (ku != UINT32_MAX) {  // the extension is present
    sign = (ku & KU_DIGITAL_SIGNATURE) != 0;
    agree = (ku & KU_KEY_AGREEMENT) != 0;
    if (!sign && !agree) {
      error = "Leaf certificate key usage does not support DID operations.";
      return false;
    }
  }
  EVP_PKEY* key = X509_get0_pubkey(leaf);
  std::string jwk;
  if (!key || !public_key_jwk(key, jwk, error)) {
    if (!key) error = "cannot read the leaf public key";
    error = "Leaf public key: " + error;
    return false;
  }
  nlohmann::ordered_json doc;
  std::string method_id = d.did + "#0";
  doc["@context"] = "https://www.w3.org/ns/cid/v1";
  doc["id"] = d.did;
  doc["verificationMethod"] = nlohmann::ordered_json::array({{{"id", method_id},
                                                              {"type", "JsonWebKey"},
                                                              {"controller", d.did},
                                                              {"publicKeyJwk", nlohmann::ordered_json::parse(jwk)}}});
  if (sign) {
    doc["authentication"] = {method_id};
    doc["assertionMethod"] = {method_id};
  }
  if (agree) doc["keyAgreement"] = {method_id};
  document_json = doc.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return true;
}

bool derive_did_x509(const std::vector<Cert>& chain, std::string_view predicate, std::string& did, std::string& error) {
  if (chain.size() < 2) {
    error = "a did:x509 needs a chain of at least two certificates";
    return false;
  }
  std::string head = "did:x509:0:sha256:" + base64url_encode(sha256(cert_der(chain.back().get())));
  X509* leaf = chain[0].get();
  if (predicate == "subject") {
    X509_NAME* name = X509_get_subject_name(leaf);
    int at = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
    if (at < 0) {
      error = "the leaf certificate has no common name";
      return false;
    }
    did =
        head + "::subject:CN:" + did_percent_encode(asn1_utf8(X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, at))));
    return true;
  }
  if (predicate == "eku") {
    std::unique_ptr<EXTENDED_KEY_USAGE, EkuFree> eku(
        static_cast<EXTENDED_KEY_USAGE*>(X509_get_ext_d2i(leaf, NID_ext_key_usage, nullptr, nullptr)));
    if (!eku || sk_ASN1_OBJECT_num(eku.get()) == 0) {
      error = "the leaf certificate has no extended key usage";
      return false;
    }
    // The last EKU is the most specific one by convention (the ContainerPlat
    // leaf lists ...59.1.1 then ...59.1.2; the DID uses the latter).
    did = head + "::eku:" + oid_text(sk_ASN1_OBJECT_value(eku.get(), sk_ASN1_OBJECT_num(eku.get()) - 1));
    return true;
  }
  error = "unknown did:x509 predicate kind " + std::string(predicate) + " (subject or eku)";
  return false;
}

}  // namespace confidant::cose
