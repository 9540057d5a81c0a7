// A software PSP: AMD-format keys, certificates and signed reports for
// machines without SEV-SNP and for tests. Nothing it produces is trusted
// unless a verifier is explicitly given its ARK.
#include <fcntl.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/ecdsa.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "attest/attest.h"

namespace confidant::attest {

namespace {

constexpr const char* kArkCn = "Confidant TEST ARK - NOT TRUSTED";
constexpr const char* kAskCn = "Confidant TEST ASK - NOT TRUSTED";
constexpr const char* kOrg = "Confidant virtual SNP (NOT TRUSTED)";
constexpr size_t kMaxStateFile = 64 * 1024;
// A private (UUID-based, ITU-T X.667) OID for the launch record in the VCEK:
// SHA-384 of the launch parameters. The ASK key that signed the VCEK is
// discarded at launch, so edits to launch.json are detected by open().
constexpr const char* kLaunchRecordOid = "2.25.283119486725367212418843330364733615693";

using PKey = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;

std::string ossl_error() {
  unsigned long e = ERR_get_error();
  ERR_clear_error();
  char buf[256] = "unknown OpenSSL error";
  if (e) ERR_error_string_n(e, buf, sizeof buf);
  return buf;
}

X509_NAME* make_name(const char* cn) {
  X509_NAME* n = X509_NAME_new();
  auto add = [n](const char* field, const char* value) {
    X509_NAME_add_entry_by_txt(n, field, MBSTRING_UTF8, reinterpret_cast<const unsigned char*>(value), -1, -1, 0);
  };
  add("OU", "Engineering");
  add("C", "US");
  add("L", "Santa Clara");
  add("ST", "CA");
  add("O", kOrg);
  add("CN", cn);
  return n;
}

bool add_ext_nid(X509* x, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, x, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  if (!ext) return false;
  bool ok = X509_add_ext(x, ext, -1) == 1;
  X509_EXTENSION_free(ext);
  return ok;
}

bool add_ext_raw(X509* x, const std::string& oid, const std::vector<uint8_t>& der) {
  ASN1_OBJECT* obj = OBJ_txt2obj(oid.c_str(), 1);
  ASN1_OCTET_STRING* os = ASN1_OCTET_STRING_new();
  bool ok = obj && os && ASN1_OCTET_STRING_set(os, der.data(), static_cast<int>(der.size())) == 1;
  X509_EXTENSION* ext = ok ? X509_EXTENSION_create_by_OBJ(nullptr, obj, 0, os) : nullptr;
  ok = ext && X509_add_ext(x, ext, -1) == 1;
  X509_EXTENSION_free(ext);
  ASN1_OCTET_STRING_free(os);
  ASN1_OBJECT_free(obj);
  return ok;
}

std::vector<uint8_t> der_int(uint64_t v) {
  std::vector<uint8_t> content;
  do {
    content.insert(content.begin(), static_cast<uint8_t>(v));
    v >>= 8;
  } while (v);
  if (content[0] & 0x80) content.insert(content.begin(), 0);
  std::vector<uint8_t> out = {0x02, static_cast<uint8_t>(content.size())};
  out.insert(out.end(), content.begin(), content.end());
  return out;
}

std::vector<uint8_t> der_ia5(std::string_view s) {
  std::vector<uint8_t> out = {0x16, static_cast<uint8_t>(s.size())};
  out.insert(out.end(), s.begin(), s.end());
  return out;
}

// AMD's certificate signature: RSASSA-PSS, SHA-384, MGF1-SHA-384, salt 48.
bool sign_pss(X509* x, EVP_PKEY* key) {
  EVP_MD_CTX* md = EVP_MD_CTX_new();
  EVP_PKEY_CTX* pctx = nullptr;
  bool ok = md && EVP_DigestSignInit(md, &pctx, EVP_sha384(), nullptr, key) == 1 &&
            EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1 &&
            EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, 48) == 1 && EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha384()) == 1 &&
            X509_sign_ctx(x, md) > 0;
  EVP_MD_CTX_free(md);
  return ok;
}

struct CertSpec {
  const char* cn;
  X509* issuer = nullptr;  // null: self-signed
  EVP_PKEY* subject_key;
  EVP_PKEY* issuer_key;
  long serial;
  long days;
  bool ca;
  std::vector<std::pair<std::string, std::vector<uint8_t>>> amd_exts;
};

std::optional<Certificate> make_cert(const CertSpec& s, std::string& error) {
  X509* x = X509_new();
  X509_NAME* subject = make_name(s.cn);
  bool ok = x && X509_set_version(x, X509_VERSION_3) == 1 &&
            ASN1_INTEGER_set(X509_get_serialNumber(x), s.serial) == 1 && X509_set_subject_name(x, subject) == 1 &&
            X509_set_issuer_name(x, s.issuer ? X509_get_subject_name(s.issuer) : subject) == 1 &&
            X509_gmtime_adj(X509_getm_notBefore(x), -86400) &&
            X509_time_adj_ex(X509_getm_notAfter(x), s.days, 0, nullptr) && X509_set_pubkey(x, s.subject_key) == 1;
  X509_NAME_free(subject);
  X509* issuer = s.issuer ? s.issuer : x;
  if (ok && s.ca) {
    ok = add_ext_nid(x, issuer, NID_basic_constraints, "critical,CA:TRUE") &&
         add_ext_nid(x, issuer, NID_key_usage, "critical,keyCertSign,cRLSign") &&
         add_ext_nid(x, issuer, NID_subject_key_identifier, "hash");
  }
  for (const auto& [oid, der] : s.amd_exts) ok = ok && add_ext_raw(x, oid, der);
  ok = ok && sign_pss(x, s.issuer_key);
  if (!ok) {
    X509_free(x);
    error = std::string("cannot create the ") + s.cn + " certificate: " + ossl_error();
    return std::nullopt;
  }
  unsigned char* der = nullptr;
  int n = i2d_X509(x, &der);
  X509_free(x);
  if (n <= 0) {
    error = "cannot encode a certificate";
    return std::nullopt;
  }
  auto cert = Certificate::from_der({der, static_cast<size_t>(n)}, error);
  OPENSSL_free(der);
  return cert;
}

bool write_private(const std::filesystem::path& path, std::string_view data, std::string& error) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    error = "cannot create " + path.string() + ": " + std::strerror(errno);
    return false;
  }
  // The mode given to open() is subject to the umask; make it exact.
  bool ok = ::fchmod(fd, 0600) == 0;
  size_t done = 0;
  while (ok && done < data.size()) {
    ssize_t w = ::write(fd, data.data() + done, data.size() - done);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0)
      ok = false;
    else
      done += static_cast<size_t>(w);
  }
  ok = ::fsync(fd) == 0 && ok;
  ok = ::close(fd) == 0 && ok;
  if (!ok) error = "cannot write " + path.string() + ": " + std::strerror(errno);
  return ok;
}

bool read_small(const std::filesystem::path& path, std::string& out, std::string& error) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) {
    error = "cannot open " + path.string() + ": " + std::strerror(errno);
    return false;
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > static_cast<off_t>(kMaxStateFile)) {
    ::close(fd);
    error = path.string() + " is not a regular file of at most 64 KiB";
    return false;
  }
  if (st.st_mode & 077) {
    ::close(fd);
    error = path.string() + " is accessible by other users (mode must be 0600)";
    return false;
  }
  out.assign(static_cast<size_t>(st.st_size), '\0');
  size_t done = 0;
  while (done < out.size()) {
    ssize_t r = ::read(fd, out.data() + done, out.size() - done);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    done += static_cast<size_t>(r);
  }
  ::close(fd);
  if (done != out.size()) {
    error = "short read on " + path.string();
    return false;
  }
  return true;
}

bool matches_launch_record(const Certificate& vcek, const std::vector<uint8_t>& record) {
  ASN1_OBJECT* obj = OBJ_txt2obj(kLaunchRecordOid, 1);
  int i = obj ? X509_get_ext_by_OBJ(vcek.x509(), obj, -1) : -1;
  ASN1_OBJECT_free(obj);
  if (i < 0) return false;
  ASN1_OCTET_STRING* data = X509_EXTENSION_get_data(X509_get_ext(vcek.x509(), i));
  return static_cast<size_t>(ASN1_STRING_length(data)) == record.size() &&
         std::memcmp(ASN1_STRING_get0_data(data), record.data(), record.size()) == 0;
}

bool load_one_cert(const std::filesystem::path& path, Certificate& out, std::string& error) {
  std::string text;
  if (!read_small(path, text, error)) return false;
  std::vector<Certificate> certs;
  if (!parse_pem_certificates(text, certs, error) || certs.size() != 1) {
    error = path.string() + ": expected one PEM certificate" + (error.empty() ? "" : ": " + error);
    return false;
  }
  out = certs[0];
  return true;
}

std::string key_pem(EVP_PKEY* key) {
  BIO* b = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(b, key, nullptr, nullptr, 0, nullptr, nullptr);
  char* data = nullptr;
  long n = BIO_get_mem_data(b, &data);
  std::string out(data, static_cast<size_t>(n));
  BIO_free(b);
  return out;
}

std::string tcb_hex(uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

nlohmann::ordered_json launch_json(const LaunchParams& params, const std::array<uint8_t, 64>& chip_id,
                                   const std::array<uint8_t, 32>& report_id) {
  return {{"format", 1},
          {"measurement", hex(params.measurement)},
          {"host_data", hex(params.host_data)},
          {"policy", params.policy},
          {"guest_svn", params.guest_svn},
          {"vmpl", params.vmpl},
          {"tcb", tcb_hex(params.tcb)},
          {"chip_id", hex(chip_id)},
          {"report_id", hex(report_id)}};
}

// DER OCTET STRING holding SHA-384 of the canonical (key-sorted, compact) launch JSON.
std::vector<uint8_t> launch_record(const nlohmann::ordered_json& launch) {
  std::string text = launch.dump();
  std::vector<uint8_t> out = {0x04, 48};
  out.resize(2 + 48);
  unsigned int n = 0;
  EVP_Digest(text.data(), text.size(), out.data() + 2, &n, EVP_sha384(), nullptr);
  return out;
}

bool check_params(const LaunchParams& p, std::string& error) {
  if (p.vmpl > 3) {
    error = "launch VMPL must be 0 to 3";
    return false;
  }
  if (!(p.policy >> 17 & 1) || (p.policy >> 26) != 0) {
    error = "launch policy must have bit 17 set and bits 26-63 clear";
    return false;
  }
  return true;
}

}  // namespace

VirtualSnp::~VirtualSnp() { EVP_PKEY_free(key_); }

std::unique_ptr<VirtualSnp> VirtualSnp::launch(const std::string& dir_name, const LaunchParams& params,
                                               std::string& error) {
  namespace fs = std::filesystem;
  if (!check_params(params, error)) return nullptr;
  fs::path dir(dir_name);
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec || !fs::is_directory(dir, ec)) {
    error = "cannot create the state directory " + dir_name;
    return nullptr;
  }
  if (fs::exists(dir / "launch.json", ec) || fs::exists(dir / "vcek_key.pem", ec)) {
    error = dir_name + " already holds a launched virtual SNP device (launch parameters are immutable)";
    return nullptr;
  }
  ::chmod(dir.c_str(), 0700);

  std::unique_ptr<VirtualSnp> dev(new VirtualSnp());
  dev->params_ = params;
  if (RAND_bytes(dev->chip_id_.data(), 64) != 1 || RAND_bytes(dev->report_id_.data(), 32) != 1) {
    error = "no randomness: " + ossl_error();
    return nullptr;
  }
  PKey ark_key(EVP_RSA_gen(4096), EVP_PKEY_free);
  PKey ask_key(EVP_RSA_gen(4096), EVP_PKEY_free);
  dev->key_ = EVP_EC_gen("P-384");
  if (!ark_key || !ask_key || !dev->key_) {
    error = "key generation failed: " + ossl_error();
    return nullptr;
  }
  long serial_base = 0;
  RAND_bytes(reinterpret_cast<unsigned char*>(&serial_base), sizeof serial_base);
  serial_base = (serial_base & 0x7FFFFFFF) | 1;
  auto ark = make_cert({kArkCn, nullptr, ark_key.get(), ark_key.get(), serial_base, 25 * 365, true, {}}, error);
  if (!ark) return nullptr;
  auto ask = make_cert({kAskCn, ark->x509(), ask_key.get(), ark_key.get(), serial_base + 1, 25 * 365, true, {}}, error);
  if (!ask) return nullptr;
  TcbParts t = decode_tcb(params.tcb, Product::kMilan);
  const std::string p = "1.3.6.1.4.1.3704.1.";
  // Serial 0, as AMD's VCEKs have.
  nlohmann::ordered_json launch = launch_json(params, dev->chip_id_, dev->report_id_);
  auto vcek = make_cert({"SEV-VCEK",
                         ask->x509(),
                         dev->key_,
                         ask_key.get(),
                         0,
                         7 * 365,
                         false,
                         {{p + "1", der_int(0)},
                          {p + "2", der_ia5("Milan-B0")},
                          {p + "3.1", der_int(t.bl)},
                          {p + "3.2", der_int(t.tee)},
                          {p + "3.4", der_int(0)},
                          {p + "3.5", der_int(0)},
                          {p + "3.6", der_int(0)},
                          {p + "3.7", der_int(0)},
                          {p + "3.3", der_int(t.snp)},
                          {p + "3.8", der_int(t.ucode)},
                          {p + "4", std::vector<uint8_t>(dev->chip_id_.begin(), dev->chip_id_.end())},
                          {kLaunchRecordOid, launch_record(launch)}}},
                        error);
  if (!vcek) return nullptr;
  dev->ark_ = *ark;
  dev->ask_ = *ask;
  dev->vcek_ = *vcek;

  // launch.json last: its presence marks a complete launch.
  if (!write_private(dir / "vcek_key.pem", key_pem(dev->key_), error) ||
      !write_private(dir / "vcek.pem", dev->vcek_.pem(), error) ||
      !write_private(dir / "ask.pem", dev->ask_.pem(), error) ||
      !write_private(dir / "ark.pem", dev->ark_.pem(), error) ||
      !write_private(dir / "launch.json", launch.dump(2) + "\n", error))
    return nullptr;
  return dev;
}

std::unique_ptr<VirtualSnp> VirtualSnp::open(const std::string& dir_name, std::string& error) {
  namespace fs = std::filesystem;
  fs::path dir(dir_name);
  std::string text;
  if (!read_small(dir / "launch.json", text, error)) return nullptr;
  nlohmann::ordered_json j = nlohmann::ordered_json::parse(text, nullptr, false);
  std::unique_ptr<VirtualSnp> dev(new VirtualSnp());
  LaunchParams& p = dev->params_;
  auto str = [&](const char* k) -> std::string {
    auto it = j.find(k);
    return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  auto num = [&](const char* k, uint64_t& out) {
    auto it = j.find(k);
    if (it == j.end() || !it->is_number_unsigned()) return false;
    out = it->get<uint64_t>();
    return true;
  };
  uint64_t policy = 0, svn = 0, vmpl = 0, format = 0;
  bool ok = j.is_object() && num("format", format) && format == 1 && num("policy", policy) && num("guest_svn", svn) &&
            svn <= 0xFFFFFFFF && num("vmpl", vmpl) && parse_hex_exact(str("measurement"), p.measurement) &&
            parse_hex_exact(str("host_data"), p.host_data) && parse_tcb_hex(str("tcb"), p.tcb) &&
            str("tcb").size() == 16 && parse_hex_exact(str("chip_id"), dev->chip_id_) &&
            parse_hex_exact(str("report_id"), dev->report_id_);
  if (!ok) {
    error = (dir / "launch.json").string() + " is malformed";
    return nullptr;
  }
  p.policy = policy;
  p.guest_svn = static_cast<uint32_t>(svn);
  p.vmpl = static_cast<uint32_t>(vmpl);
  if (!check_params(p, error)) return nullptr;
  if (!load_one_cert(dir / "vcek.pem", dev->vcek_, error) || !load_one_cert(dir / "ask.pem", dev->ask_, error) ||
      !load_one_cert(dir / "ark.pem", dev->ark_, error))
    return nullptr;
  if (!matches_launch_record(dev->vcek_, launch_record(launch_json(p, dev->chip_id_, dev->report_id_)))) {
    error = (dir / "launch.json").string() + " does not match the launch record in vcek.pem (modified after launch)";
    return nullptr;
  }
  if (!read_small(dir / "vcek_key.pem", text, error)) return nullptr;
  BIO* b = BIO_new_mem_buf(text.data(), static_cast<int>(text.size()));
  dev->key_ = b ? PEM_read_bio_PrivateKey(b, nullptr, nullptr, nullptr) : nullptr;
  BIO_free(b);
  OPENSSL_cleanse(text.data(), text.size());
  if (!dev->key_ || EVP_PKEY_eq(dev->key_, X509_get0_pubkey(dev->vcek_.x509())) != 1) {
    ERR_clear_error();
    error = (dir / "vcek_key.pem").string() + " is not the private key of vcek.pem";
    return nullptr;
  }
  return dev;
}

bool VirtualSnp::get_report(std::span<const uint8_t, 64> report_data, uint32_t vmpl, std::vector<uint8_t>& out,
                            std::string& error) const {
  // As on hardware: a guest asks for a report at its own VMPL or a less privileged one.
  if (vmpl > 3 || vmpl < params_.vmpl) {
    error = "report VMPL " + std::to_string(vmpl) + " not allowed (guest runs at VMPL " + std::to_string(params_.vmpl) +
            ", maximum 3)";
    return false;
  }
  Report r;
  r.version = 3;
  r.guest_svn = params_.guest_svn;
  r.policy = params_.policy;
  r.vmpl = vmpl;
  r.signature_algo = 1;
  r.current_tcb = r.reported_tcb = r.committed_tcb = r.launch_tcb = params_.tcb;
  r.platform_info = 1;  // SMT enabled
  r.signer_info = 0;    // VCEK, chip ID not masked
  std::copy(report_data.begin(), report_data.end(), r.report_data.begin());
  r.measurement = params_.measurement;
  r.host_data = params_.host_data;
  r.report_id = report_id_;
  r.report_id_ma.fill(0xFF);
  r.cpuid_fam_id = 0x19;  // Milan
  r.cpuid_mod_id = 0x01;
  r.cpuid_step = 0x01;
  r.chip_id = chip_id_;
  r.current_major = r.committed_major = 1;
  r.current_minor = r.committed_minor = 55;
  r.current_build = r.committed_build = 0;
  out = serialize_report(r);

  EVP_MD_CTX* md = EVP_MD_CTX_new();
  size_t sig_len = 0;
  std::vector<unsigned char> sig;
  bool ok = md && EVP_DigestSignInit(md, nullptr, EVP_sha384(), nullptr, key_) == 1 &&
            EVP_DigestSign(md, nullptr, &sig_len, out.data(), kSignedSize) == 1;
  if (ok) {
    sig.resize(sig_len);
    ok = EVP_DigestSign(md, sig.data(), &sig_len, out.data(), kSignedSize) == 1;
  }
  EVP_MD_CTX_free(md);
  const unsigned char* p = sig.data();
  ECDSA_SIG* es = ok ? d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(sig_len)) : nullptr;
  ok = es && BN_bn2lebinpad(ECDSA_SIG_get0_r(es), out.data() + 0x2A0, 72) == 72 &&
       BN_bn2lebinpad(ECDSA_SIG_get0_s(es), out.data() + 0x2E8, 72) == 72;
  ECDSA_SIG_free(es);
  if (!ok) {
    error = "signing the report failed: " + ossl_error();
    out.clear();
  }
  return ok;
}

std::string VirtualSnp::certificate_chain_pem() const { return vcek_.pem() + ask_.pem() + ark_.pem(); }

policy::ReportTee::Fetch virtual_snp_fetcher(std::shared_ptr<const VirtualSnp> device) {
  return [device](std::vector<uint8_t>& report, std::string& error) {
    std::array<uint8_t, 64> zero{};
    return device->get_report(zero, device->params().vmpl, report, error);
  };
}

std::optional<policy::ReportTee::Fetch> sev_guest_fetcher(const std::string& device) {
  std::error_code ec;
  if (!std::filesystem::exists(device, ec)) return std::nullopt;
  return policy::ReportTee::Fetch([device](std::vector<uint8_t>& report, std::string& error) {
    return policy::read_sev_guest_report(device, report, error);
  });
}

}  // namespace confidant::attest
