// X.509 certificates and the bundles hosts hand out (PEM, DER, THIM JSON).
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <cctype>
#include <fstream>

#include "attest/attest.h"

namespace confidant::attest {

namespace {

constexpr size_t kMaxBundleBytes = 1 << 20;
constexpr size_t kMaxCertificates = 16;

std::string openssl_error() {
  unsigned long e = ERR_get_error();
  ERR_clear_error();
  if (e == 0) return "unknown error";
  char buf[256];
  ERR_error_string_n(e, buf, sizeof buf);
  return buf;
}

bool base64_decode(std::string_view in, std::string& out) {
  auto val = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  out.clear();
  uint32_t acc = 0;
  int bits = 0;
  size_t pad = 0;
  for (char c : in) {
    if (c == ' ' || c == '\n' || c == '\r' || c == '\t') continue;
    if (c == '=') {
      ++pad;
      continue;
    }
    if (pad) return false;  // data after padding
    int v = val(c);
    if (v < 0) return false;
    acc = acc << 6 | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>(acc >> bits & 0xFF));
    }
  }
  return pad <= 2;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

bool load_thim_json(std::string_view text, CertBundle& out, std::string& error) {
  nlohmann::ordered_json j = nlohmann::ordered_json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    error = "certificate JSON is not a JSON object";
    return false;
  }
  auto vcek = j.find("vcekCert");
  if (vcek == j.end() || !vcek->is_string()) {
    error = "THIM certificate JSON has no string vcekCert";
    return false;
  }
  std::vector<Certificate> certs;
  if (!parse_pem_certificates(vcek->get_ref<const std::string&>(), certs, error)) {
    error = "vcekCert: " + error;
    return false;
  }
  auto chain = j.find("certificateChain");
  if (chain != j.end()) {
    if (!chain->is_string()) {
      error = "THIM certificateChain is not a string";
      return false;
    }
    if (!parse_pem_certificates(chain->get_ref<const std::string&>(), certs, error)) {
      error = "certificateChain: " + error;
      return false;
    }
  }
  auto tcbm = j.find("tcbm");
  if (tcbm != j.end()) {
    uint64_t v = 0;
    if (!tcbm->is_string() || !parse_tcb_hex(tcbm->get_ref<const std::string&>(), v)) {
      error = "THIM tcbm is not a hex TCB string";
      return false;
    }
    out.thim_tcbm = v;
  }
  for (auto& c : certs) out.certs.push_back(std::move(c));
  return true;
}

}  // namespace

std::optional<Certificate> Certificate::from_der(std::span<const uint8_t> der, std::string& error) {
  if (der.size() > kMaxBundleBytes) {
    error = "certificate too large";
    return std::nullopt;
  }
  const unsigned char* p = der.data();
  X509* x = d2i_X509(nullptr, &p, static_cast<long>(der.size()));
  if (!x) {
    error = "not a DER X.509 certificate: " + openssl_error();
    return std::nullopt;
  }
  if (p != der.data() + der.size()) {
    X509_free(x);
    error = "trailing bytes after the DER certificate";
    return std::nullopt;
  }
  return Certificate(std::shared_ptr<X509>(x, X509_free));
}

std::vector<uint8_t> Certificate::der() const {
  std::vector<uint8_t> out;
  if (!x_) return out;
  int n = i2d_X509(x_.get(), nullptr);
  if (n <= 0) return out;
  out.resize(static_cast<size_t>(n));
  unsigned char* p = out.data();
  i2d_X509(x_.get(), &p);
  return out;
}

std::string Certificate::pem() const {
  if (!x_) return "";
  BIO* b = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(b, x_.get());
  char* data = nullptr;
  long n = BIO_get_mem_data(b, &data);
  std::string out(data, static_cast<size_t>(n));
  BIO_free(b);
  return out;
}

std::string Certificate::subject_cn() const {
  if (!x_) return "";
  X509_NAME* name = X509_get_subject_name(x_.get());
  int i = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
  if (i < 0) return "";
  ASN1_STRING* s = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i));
  unsigned char* utf8 = nullptr;
  int n = ASN1_STRING_to_UTF8(&utf8, s);
  if (n < 0) return "";
  std::string out(reinterpret_cast<char*>(utf8), static_cast<size_t>(n));
  OPENSSL_free(utf8);
  return out;
}

std::string Certificate::subject() const {
  if (!x_) return "";
  BIO* b = BIO_new(BIO_s_mem());
  X509_NAME_print_ex(b, X509_get_subject_name(x_.get()), 0, XN_FLAG_RFC2253);
  char* data = nullptr;
  long n = BIO_get_mem_data(b, &data);
  std::string out(data, static_cast<size_t>(n));
  BIO_free(b);
  return out;
}

bool Certificate::self_issued() const {
  return x_ && X509_NAME_cmp(X509_get_subject_name(x_.get()), X509_get_issuer_name(x_.get())) == 0;
}

bool Certificate::same_as(const Certificate& other) const {
  return x_ && other.x_ && X509_cmp(x_.get(), other.x_.get()) == 0 && der() == other.der();
}

bool parse_pem_certificates(std::string_view pem, std::vector<Certificate>& out, std::string& error) {
  if (pem.size() > kMaxBundleBytes) {
    error = "PEM text too large";
    return false;
  }
  // Walk BEGIN/END blocks ourselves so that junk between them is refused
  // with a clear message rather than skipped.
  static constexpr std::string_view kBegin = "-----BEGIN CERTIFICATE-----";
  static constexpr std::string_view kEnd = "-----END CERTIFICATE-----";
  size_t pos = 0, found = 0;
  while (true) {
    size_t b = pem.find(kBegin, pos);
    if (b == std::string_view::npos) {
      if (!trim(pem.substr(pos)).empty()) {
        error = "unexpected text after the last PEM certificate";
        return false;
      }
      break;
    }
    if (!trim(pem.substr(pos, b - pos)).empty()) {
      error = "unexpected text before a PEM certificate";
      return false;
    }
    size_t e = pem.find(kEnd, b);
    if (e == std::string_view::npos) {
      error = "PEM certificate without END line";
      return false;
    }
    std::string der;
    if (!base64_decode(pem.substr(b + kBegin.size(), e - b - kBegin.size()), der)) {
      error = "PEM certificate " + std::to_string(found + 1) + " has invalid base64";
      return false;
    }
    auto cert = Certificate::from_der({reinterpret_cast<const uint8_t*>(der.data()), der.size()}, error);
    if (!cert) {
      error = "PEM certificate " + std::to_string(found + 1) + ": " + error;
      return false;
    }
    if (++found > kMaxCertificates) {
      error = "too many certificates (limit " + std::to_string(kMaxCertificates) + ")";
      return false;
    }
    out.push_back(std::move(*cert));
    pos = e + kEnd.size();
  }
  if (found == 0) {
    error = "no PEM certificate found";
    return false;
  }
  return true;
}

bool load_certificates(std::span<const uint8_t> data, CertBundle& out, std::string& error) {
  if (data.size() > kMaxBundleBytes) {
    error = "certificate data too large (" + std::to_string(data.size()) + " bytes)";
    return false;
  }
  std::string_view text = trim({reinterpret_cast<const char*>(data.data()), data.size()});
  if (text.starts_with("-----BEGIN")) return parse_pem_certificates(text, out.certs, error);
  if (text.starts_with("{")) return load_thim_json(text, out, error);
  if (!data.empty() && data[0] == 0x30) {
    auto cert = Certificate::from_der(data, error);
    if (!cert) return false;
    out.certs.push_back(std::move(*cert));
    return true;
  }
  // The ACI security-context file: base64 of the THIM JSON.
  std::string decoded;
  if (base64_decode(text, decoded) && trim(decoded).starts_with("{")) return load_thim_json(trim(decoded), out, error);
  error = "certificates are neither PEM, DER, THIM JSON nor base64 THIM JSON";
  return false;
}

bool load_certificates_file(const std::string& path, CertBundle& out, std::string& error) {
  std::ifstream f(path, std::ios::binary);
  if (!f) {
    error = "cannot open " + path;
    return false;
  }
  std::vector<uint8_t> data;
  char buf[8192];
  while (f.read(buf, sizeof buf) || f.gcount() > 0) {
    data.insert(data.end(), buf, buf + f.gcount());
    if (data.size() > kMaxBundleBytes) {
      error = path + ": certificate file too large";
      return false;
    }
  }
  if (!load_certificates(data, out, error)) {
    error = path + ": " + error;
    return false;
  }
  return true;
}

}  // namespace confidant::attest
