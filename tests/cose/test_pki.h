// Certificates made in the tests: a root CA, intermediates and leaves with
// chosen subjects, EKUs, key usages and validity windows.
#pragma once

#include <gtest/gtest.h>
#include <openssl/x509v3.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "cose/crypto.h"

namespace confidant::cose::testing {

inline std::filesystem::path shared_dir() { return CONFIDANT_SHARED_DIR; }

inline std::string read_file(const std::filesystem::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

struct CertSpec {
  std::string cn;
  bool ca = false;
  int path_len = -1;
  std::vector<std::string> ekus;    // dotted OIDs
  std::string key_usage;            // e.g. "critical,digitalSignature"; empty: default for the kind
  int64_t not_before = 1577836800;  // 2020-01-01
  int64_t not_after = 4102444800;   // 2100-01-01
  std::string san;                  // e.g. "email:user@example.com"
};

struct Issued {
  Pkey key;
  Cert cert;
};

inline void add_ext(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
  ASSERT_NE(ext, nullptr) << value;
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
}

// Issues a certificate for a new key of `key_kind`; self-signed when
// `issuer` is null.
inline Issued issue(const CertSpec& spec, const std::string& key_kind, const Issued* issuer) {
  Issued out;
  out.key = generate_key(key_kind);
  EXPECT_TRUE(out.key);
  X509* c = X509_new();
  X509_set_version(c, 2);
  static long serial = 1;
  ASN1_INTEGER_set(X509_get_serialNumber(c), serial++);
  ASN1_TIME_set(X509_getm_notBefore(c), static_cast<time_t>(spec.not_before));
  ASN1_TIME_set(X509_getm_notAfter(c), static_cast<time_t>(spec.not_after));
  X509_NAME* name = X509_NAME_new();
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8, reinterpret_cast<const unsigned char*>("Confidant Tests"), -1,
                             -1, 0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, reinterpret_cast<const unsigned char*>(spec.cn.c_str()), -1, -1,
                             0);
  X509_set_subject_name(c, name);
  X509_set_issuer_name(c, issuer ? X509_get_subject_name(issuer->cert.get()) : name);
  X509_NAME_free(name);
  X509_set_pubkey(c, out.key.get());
  X509* issuer_cert = issuer ? issuer->cert.get() : c;
  if (spec.ca) {
    std::string bc = "critical,CA:TRUE";
    if (spec.path_len >= 0) bc += ",pathlen:" + std::to_string(spec.path_len);
    add_ext(c, issuer_cert, NID_basic_constraints, bc);
    add_ext(c, issuer_cert, NID_key_usage,
            spec.key_usage.empty() ? "critical,keyCertSign,cRLSign,digitalSignature" : spec.key_usage);
  } else {
    add_ext(c, issuer_cert, NID_basic_constraints, "critical,CA:FALSE");
    add_ext(c, issuer_cert, NID_key_usage, spec.key_usage.empty() ? "critical,digitalSignature" : spec.key_usage);
  }
  add_ext(c, issuer_cert, NID_subject_key_identifier, "hash");
  if (issuer) add_ext(c, issuer_cert, NID_authority_key_identifier, "keyid:always");
  if (!spec.ekus.empty()) {
    std::string v;
    for (const auto& e : spec.ekus) v += (v.empty() ? "" : ",") + e;
    add_ext(c, issuer_cert, NID_ext_key_usage, v);
  }
  if (!spec.san.empty()) add_ext(c, issuer_cert, NID_subject_alt_name, spec.san);
  EVP_PKEY* signer = issuer ? issuer->key.get() : out.key.get();
  int id = EVP_PKEY_get_base_id(signer);
  const EVP_MD* md = (id == EVP_PKEY_ED25519 || id == EVP_PKEY_ED448) ? nullptr : EVP_sha256();
  EXPECT_GT(X509_sign(c, signer, md), 0) << openssl_error();
  out.cert.reset(c);
  return out;
}

// Root -> intermediate -> leaf, all of `key_kind` keys.
struct TestChain {
  Issued root, intermediate, leaf;
  std::vector<std::string> der() const {
    return {cert_der(leaf.cert.get()), cert_der(intermediate.cert.get()), cert_der(root.cert.get())};
  }
  std::string pem() const {
    return cert_pem(leaf.cert.get()) + cert_pem(intermediate.cert.get()) + cert_pem(root.cert.get());
  }
};

inline TestChain make_chain(const std::string& key_kind, const std::string& leaf_cn = "Leaf",
                            std::vector<std::string> leaf_ekus = {}, const std::string& root_cn = "Test Root") {
  TestChain t;
  CertSpec root;
  root.cn = root_cn;
  root.ca = true;
  t.root = issue(root, key_kind, nullptr);
  CertSpec inter;
  inter.cn = "Test Intermediate";
  inter.ca = true;
  inter.path_len = 0;
  t.intermediate = issue(inter, key_kind, &t.root);
  CertSpec leaf;
  leaf.cn = leaf_cn;
  leaf.ekus = std::move(leaf_ekus);
  t.leaf = issue(leaf, key_kind, &t.intermediate);
  return t;
}

// Key generation (RSA above all) is slow: tests share one chain per key kind
// and slot.
inline const TestChain& cached_chain(const std::string& key_kind, int slot = 0) {
  static std::map<std::pair<std::string, int>, TestChain> cache;
  auto it = cache.find({key_kind, slot});
  if (it == cache.end()) it = cache.emplace(std::pair{key_kind, slot}, make_chain(key_kind)).first;
  return it->second;
}

}  // namespace confidant::cose::testing
