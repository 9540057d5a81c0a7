// SEV-SNP attestation for Confidant: the report format, the AMD certificate
// chain, verification against AMD roots built into the binary, and a virtual
// SNP device (a software PSP) for machines without SEV-SNP.
//
//   std::vector<uint8_t> raw;  attest::CertBundle certs;  std::string error;
//   attest::load_report_file("report.bin", raw, error);
//   attest::load_certificates_file("vcek.pem", certs, error);
//   attest::Verifier verifier(attest::TrustStore::amd());
//   attest::VerifyOptions options;            // debug refused, time = now
//   options.host_data = expected_policy_digest;
//   attest::VerifiedReport v;
//   if (!verifier.verify(raw, certs, options, v, error)) ...   // error: one line
//
// Everything parsed here is attacker-controlled; every function returns
// false with a message naming what was wrong and never throws.
#pragma once

#include <openssl/types.h>

#include <array>
#include <cstdint>
#include <ctime>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "policy/tee.h"

namespace confidant::attest {

// ---------------------------------------------------------------- bytes, hex

std::string hex(std::span<const uint8_t> bytes);  // lowercase
// Exactly 2*N hex digits (either case) into `out` of size N.
bool parse_hex_exact(std::string_view text, std::span<uint8_t> out);
// Any even number of hex digits; ASCII whitespace is ignored.
bool parse_hex_loose(std::string_view text, std::vector<uint8_t>& out);

// ---------------------------------------------------------------- products, TCB

enum class Product { kUnknown, kMilan, kGenoa, kTurin };
const char* product_name(Product p);  // "Milan", "Genoa", "Turin", "unknown"
// "Milan", "Milan-B0", "genoa", "Turin" ... (the part before '-' names the
// generation; case-insensitive). kUnknown for anything else.
Product parse_product(std::string_view name);
// From the report's CPUID fields (version >= 3), per the AMD family/model list.
Product product_from_cpuid(uint8_t family, uint8_t model);

// A TCB_VERSION decoded per product: Milan/Genoa keep BL, TEE, SNP, UCODE in
// bytes 0, 1, 6, 7; Turin has FMC, BL, TEE, SNP in bytes 0-3 and UCODE in 7.
struct TcbParts {
  uint8_t bl = 0, tee = 0, snp = 0, ucode = 0;
  uint8_t fmc = 0;  // Turin only
};
bool has_fmc(Product p);  // Turin and later
TcbParts decode_tcb(uint64_t raw, Product p);
uint64_t encode_tcb(const TcbParts& parts, Product p);
// Every component of `value` >= the same component of `minimum`.
bool tcb_at_least(uint64_t value, uint64_t minimum, Product p);
nlohmann::ordered_json tcb_to_json(uint64_t raw, Product p);
// A TCB given as text: "0x7308000000000003" or "7308000000000003" (the THIM
// tcbm form, a big-endian number). The report's byte-dump form is not
// accepted here on purpose: the two cannot be told apart from the digits.
bool parse_tcb_hex(std::string_view text, uint64_t& out);

// ---------------------------------------------------------------- the report

constexpr size_t kReportSize = 0x4A0;
constexpr size_t kSignedSize = 0x2A0;

enum class SigningKey : uint8_t { kVcek = 0, kVlek = 1, kNone = 7 };

struct Report {
  uint32_t version = 3;
  uint32_t guest_svn = 0;
  uint64_t policy = 0;
  std::array<uint8_t, 16> family_id{};
  std::array<uint8_t, 16> image_id{};
  uint32_t vmpl = 0;
  uint32_t signature_algo = 1;
  uint64_t current_tcb = 0;
  uint64_t platform_info = 0;
  uint32_t signer_info = 0;  // bit 0 AUTHOR_KEY_EN, 1 MASK_CHIP_KEY, 2-4 SIGNING_KEY
  std::array<uint8_t, 64> report_data{};
  std::array<uint8_t, 48> measurement{};
  std::array<uint8_t, 32> host_data{};
  std::array<uint8_t, 48> id_key_digest{};
  std::array<uint8_t, 48> author_key_digest{};
  std::array<uint8_t, 32> report_id{};
  std::array<uint8_t, 32> report_id_ma{};
  uint64_t reported_tcb = 0;
  uint8_t cpuid_fam_id = 0, cpuid_mod_id = 0, cpuid_step = 0;  // version >= 3
  std::array<uint8_t, 64> chip_id{};
  uint64_t committed_tcb = 0;
  uint8_t current_build = 0, current_minor = 0, current_major = 0;
  uint8_t committed_build = 0, committed_minor = 0, committed_major = 0;
  uint64_t launch_tcb = 0;
  uint64_t launch_mit_vector = 0, current_mit_vector = 0;  // version >= 5
  std::array<uint8_t, 72> signature_r{};                   // little-endian
  std::array<uint8_t, 72> signature_s{};

  bool debug() const { return policy >> 19 & 1; }
  bool author_key_en() const { return signer_info & 1; }
  bool mask_chip_key() const { return signer_info >> 1 & 1; }
  uint32_t signing_key() const { return signer_info >> 2 & 7; }
  // From CPUID (version >= 3); kUnknown for version 2.
  Product product() const;
};

// Parses a raw report: size 0x4A0, version 2..5 (4 is laid out like 3),
// every must-be-zero field of that version zero. Signature and policy
// semantics are checked by the verifier, not here.
bool parse_report(std::span<const uint8_t> raw, Report& out, std::string& error);
// The 0x4A0 bytes of `r` (fields a version does not have are written as
// they are; parse_report refuses them when non-zero).
std::vector<uint8_t> serialize_report(const Report& r);
// Every field; byte fields as lowercase hex, TCBs decoded for `product`
// (taken from the report when it says, else Milan/Genoa layout).
nlohmann::ordered_json report_to_json(const Report& r, Product product = Product::kUnknown);

// A report file: 0x4A0 raw bytes, or hex text (whitespace ignored) of them.
bool decode_report_text_or_binary(std::span<const uint8_t> data, std::vector<uint8_t>& out, std::string& error);
bool load_report_file(const std::string& path, std::vector<uint8_t>& out, std::string& error);

// ---------------------------------------------------------------- certificates

// An X.509 certificate (shared, immutable).
class Certificate {
 public:
  Certificate() = default;
  static std::optional<Certificate> from_der(std::span<const uint8_t> der, std::string& error);
  X509* x509() const { return x_.get(); }
  explicit operator bool() const { return x_ != nullptr; }
  std::vector<uint8_t> der() const;
  std::string pem() const;
  std::string subject_cn() const;  // "" when absent
  std::string subject() const;     // one line, RFC 2253
  bool self_issued() const;        // subject == issuer
  bool same_as(const Certificate& other) const;

 private:
  explicit Certificate(std::shared_ptr<X509> x) : x_(std::move(x)) {}
  std::shared_ptr<X509> x_;
};

// The certificates offered with a report, in any of the forms hosts hand out.
struct CertBundle {
  std::vector<Certificate> certs;
  std::optional<uint64_t> thim_tcbm;  // from THIM JSON: the TCB the VCEK is for
};
// PEM (one or more certificates), DER (one), or THIM JSON
// {"vcekCert", "tcbm", "certificateChain", ...}, or base64 of that JSON (the
// ACI security-context file). Appends to `out`.
bool load_certificates(std::span<const uint8_t> data, CertBundle& out, std::string& error);
bool load_certificates_file(const std::string& path, CertBundle& out, std::string& error);
bool parse_pem_certificates(std::string_view pem, std::vector<Certificate>& out, std::string& error);

// The AMD extensions of a VCEK/VLEK certificate (OIDs 1.3.6.1.4.1.3704.1.*).
struct AmdExtensions {
  std::optional<int64_t> struct_version;
  std::optional<std::string> product_name;
  std::optional<int64_t> bl_spl, tee_spl, snp_spl, ucode_spl, fmc_spl;
  std::optional<std::vector<uint8_t>> hw_id;  // 64 bytes, 8 on Turin
  std::optional<std::string> csp_id;          // VLEK only
};
// One extension value by its OID text ("1.3.6.1.4.1.3704.1.3.1"); other OIDs
// under the AMD prefix are refused, OIDs elsewhere ignored.
bool parse_amd_extension(std::string_view oid, std::span<const uint8_t> value, AmdExtensions& out, std::string& error);
bool parse_amd_extensions(const Certificate& cert, AmdExtensions& out, std::string& error);
nlohmann::ordered_json extensions_to_json(const AmdExtensions& e);

// ---------------------------------------------------------------- trust

// The roots built into the binary: ASK (or ASVK) and ARK per product.
struct AmdRoot {
  Product product;
  bool vlek;  // ASVK (signs VLEKs) rather than ASK
  Certificate ask, ark;
};
const std::vector<AmdRoot>& builtin_amd_roots();

// The ARKs a verifier accepts, with the intermediates known to chain to them.
// Trust is never taken from a certificate bundle: an ARK in a bundle must be
// one of these.
class TrustStore {
 public:
  static TrustStore amd();    // the built-in AMD roots only
  static TrustStore empty();  // nothing (add_ark to trust test roots only)
  // Trusts a self-signed RSA root explicitly (a virtual device's ARK).
  bool add_ark(const Certificate& ark, std::string& error);
  bool add_ark_pem(std::string_view pem, std::string& error);

  struct Anchor {
    Certificate ark;
    Product product;  // kUnknown for non-AMD roots
    bool builtin;
  };
  const std::vector<Anchor>& anchors() const { return anchors_; }
  const std::vector<Certificate>& intermediates() const { return intermediates_; }

 private:
  std::vector<Anchor> anchors_;
  std::vector<Certificate> intermediates_;
};

// ---------------------------------------------------------------- verification

struct VerifyOptions {
  std::optional<std::time_t> at;  // validity time; default now
  bool allow_debug = false;
  std::optional<uint64_t> min_tcb;  // component-wise minimum of REPORTED_TCB
  std::optional<uint32_t> vmpl;
  std::optional<std::array<uint8_t, 48>> measurement;
  std::optional<std::array<uint8_t, 32>> host_data;
  std::optional<std::array<uint8_t, 64>> report_data;
};

struct VerifiedReport {
  Report report;
  Product product = Product::kUnknown;
  SigningKey signer = SigningKey::kVcek;
  AmdExtensions extensions;
  std::vector<std::string> chain;  // subjects' CNs, leaf first
  bool builtin_root = false;       // chained to an AMD root built into the binary
};
nlohmann::ordered_json verified_to_json(const VerifiedReport& v);

// Verifies reports. Validated chains (leaf, intermediate, root signatures and
// the leaf's extensions) are cached by the leaf's DER; everything that depends
// on the report or the time is checked on every call. Thread-safe.
class Verifier {
 public:
  explicit Verifier(TrustStore trust);
  ~Verifier();
  bool verify(std::span<const uint8_t> raw_report, const CertBundle& certs, const VerifyOptions& options,
              VerifiedReport& out, std::string& error);
  void clear_cache();

 private:
  struct Chain;
  bool build_chain(const CertBundle& certs, std::shared_ptr<const Chain>& out, std::string& error);
  TrustStore trust_;
  std::mutex mu_;
  std::map<std::vector<uint8_t>, std::shared_ptr<const Chain>> cache_;
};

// The policy checks of VerifyOptions (debug, TCB, VMPL, measurement,
// HOST_DATA, REPORT_DATA) on an already authenticated report.
bool check_report_policy(const Report& r, Product product, const VerifyOptions& options, std::string& error);

// AMD KDS URL of the VCEK for a report (REPORTED_TCB, CHIP_ID).
std::string kds_vcek_url(const Report& r, Product product);

// ---------------------------------------------------------------- virtual SNP device

// What the host fixes when it launches a guest; immutable afterwards.
struct LaunchParams {
  std::array<uint8_t, 48> measurement{};
  policy::HostData host_data{};
  uint64_t policy = 0x30000;  // SMT allowed, reserved bit 17; no debug
  uint32_t guest_svn = 0;
  uint32_t vmpl = 0;                     // the VMPL the guest runs at
  uint64_t tcb = 0x7308000000000003ull;  // Milan layout: BL 3, TEE 0, SNP 8, UCODE 0x73
};

// A software PSP: its own ARK ("Confidant TEST ARK - NOT TRUSTED", RSA 4096),
// ASK (RSA 4096) and VCEK (P-384, with the AMD extensions), and reports in
// AMD's format (version 3, Milan CPUID) signed by the VCEK. Its roots are never
// trusted by default: a verifier accepts its reports only after
// TrustStore::add_ark(device.ark()).
//
// State directory (0700; files 0600): vcek_key.pem (private), vcek.pem,
// ask.pem, ark.pem, launch.json. The ARK and ASK private keys are discarded
// after launch, so nothing can issue further certificates under this ARK.
class VirtualSnp {
 public:
  // Creates the keys and certificates and records the launch; refuses a
  // directory that already holds a launched device.
  static std::unique_ptr<VirtualSnp> launch(const std::string& dir, const LaunchParams& params, std::string& error);
  // Opens a launched device (read-only use).
  static std::unique_ptr<VirtualSnp> open(const std::string& dir, std::string& error);
  ~VirtualSnp();
  VirtualSnp(const VirtualSnp&) = delete;
  VirtualSnp& operator=(const VirtualSnp&) = delete;

  // A signed report with the caller's REPORT_DATA, requested from `vmpl`
  // (which must be >= the launch VMPL and <= 3).
  bool get_report(std::span<const uint8_t, 64> report_data, uint32_t vmpl, std::vector<uint8_t>& report,
                  std::string& error) const;
  std::string certificate_chain_pem() const;  // VCEK, ASK, ARK
  const Certificate& ark() const { return ark_; }
  const Certificate& vcek() const { return vcek_; }
  const LaunchParams& params() const { return params_; }
  const std::array<uint8_t, 64>& chip_id() const { return chip_id_; }

 private:
  VirtualSnp() = default;
  LaunchParams params_;
  std::array<uint8_t, 64> chip_id_{};
  std::array<uint8_t, 32> report_id_{};
  Certificate vcek_, ask_, ark_;
  EVP_PKEY* key_ = nullptr;
};

// A report source for policy::ReportTee: reports from the virtual device
// (zero REPORT_DATA, at the launch VMPL).
policy::ReportTee::Fetch virtual_snp_fetcher(std::shared_ptr<const VirtualSnp> device);
// The kernel's SEV guest device when it exists (policy::read_sev_guest_report),
// else nullopt.
std::optional<policy::ReportTee::Fetch> sev_guest_fetcher(const std::string& device = "/dev/sev-guest");

}  // namespace confidant::attest
