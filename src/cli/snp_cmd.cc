// `confidant snp ...`: SEV-SNP reports (show, verify) and the virtual SNP device.
#include <ctime>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "attest/attest.h"
#include "cli/commands.h"

namespace confidant::cli {

namespace {

using namespace confidant::attest;

constexpr const char* kUsage =
    "usage: confidant snp <subcommand>\n"
    "  show [--product NAME] FILE     print a report (binary or hex text) as JSON\n"
    "  verify --report FILE [--certs F]... [--at RFC3339] [--allow-debug] [--min-tcb HEX]\n"
    "         [--vmpl N] [--measurement HEX] [--host-data HEX] [--report-data HEX]\n"
    "         [--trust-virtual DIR] [--trust-ark PEM]\n"
    "      verify the report's signature and AMD chain (roots built in; --certs: PEM, DER\n"
    "      or THIM JSON) and the given expectations; prints the verified fields as JSON,\n"
    "      or exits 1 with the reason. --trust-* add a test root (never trusted by default).\n"
    "  virtual launch --dir D --host-data HEX [--measurement HEX] [--policy HEX]\n"
    "                 [--guest-svn N] [--vmpl N] [--tcb HEX]\n"
    "  virtual report --dir D [--report-data HEX] [--vmpl N] -o FILE\n"
    "  virtual certs --dir D          print the device's chain (VCEK, ASK, ARK) as PEM\n";

int usage_error(const std::string& what) {
  std::cerr << "confidant snp: " << what << "\n" << kUsage;
  return 2;
}

int fail(const char* sub, const std::string& why) {
  std::cerr << "confidant snp " << sub << ": " << why << "\n";
  return 1;
}

bool parse_uint(const std::string& s, uint64_t max, uint64_t& out) {
  if (s.empty() || s.size() > 20) return false;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    if (v > (UINT64_MAX - 9) / 10) return false;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  if (v > max) return false;
  out = v;
  return true;
}

// RFC 3339: 2025-01-01T00:00:00Z, optional fraction, Z or +hh:mm / -hh:mm.
bool parse_rfc3339(const std::string& s, std::time_t& out) {
  std::tm tm{};
  int consumed = 0;
  if (std::sscanf(s.c_str(), "%4d-%2d-%2d%*1[Tt ]%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
                  &tm.tm_min, &tm.tm_sec, &consumed) != 6)
    return false;
  std::string_view rest(s.c_str() + consumed);
  if (!rest.empty() && rest[0] == '.') {
    rest.remove_prefix(1);
    size_t digits = 0;
    while (digits < rest.size() && rest[digits] >= '0' && rest[digits] <= '9') ++digits;
    if (digits == 0) return false;
    rest.remove_prefix(digits);
  }
  long offset = 0;
  if (rest == "Z" || rest == "z") {
  } else if (rest.size() == 6 && (rest[0] == '+' || rest[0] == '-') && rest[3] == ':') {
    int hh = 0, mm = 0;
    if (std::sscanf(std::string(rest.substr(1)).c_str(), "%2d:%2d", &hh, &mm) != 2 || hh > 23 || mm > 59) return false;
    offset = (rest[0] == '+' ? 1 : -1) * (hh * 3600L + mm * 60L);
  } else {
    return false;
  }
  if (tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 || tm.tm_min > 59 ||
      tm.tm_sec > 60)
    return false;
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  out = timegm(&tm) - offset;
  return true;
}

template <size_t N>
bool parse_fixed(const std::string& flag, const std::string& text, std::array<uint8_t, N>& out, std::string& error) {
  if (!parse_hex_exact(text, out)) {
    error = flag + " needs exactly " + std::to_string(2 * N) + " hex digits";
    return false;
  }
  return true;
}

bool read_text_file(const std::string& path, std::string& out) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return false;
  out.assign(std::istreambuf_iterator<char>(f), {});
  return f.good() || f.eof();
}

int show(const std::vector<std::string>& args) {
  std::string path, product_text;
  ArgCursor a(args);
  while (a.next()) {
    if (!a.is_flag()) {
      if (!path.empty()) return usage_error("show takes one file");
      path = a.positional();
    } else if (a.flag() == "--product") {
      if (!a.value(product_text)) return usage_error("--product needs a value");
    } else {
      return usage_error("unknown flag " + a.flag());
    }
  }
  if (path.empty()) return usage_error("show needs a report file");
  Product product = Product::kUnknown;
  if (!product_text.empty() && (product = parse_product(product_text)) == Product::kUnknown)
    return usage_error("unknown product " + product_text);
  std::vector<uint8_t> raw;
  std::string error;
  Report r;
  if (!load_report_file(path, raw, error) || !parse_report(raw, r, error)) return fail("show", error);
  std::cout << report_to_json(r, product).dump(2) << "\n";
  return 0;
}

int verify(const std::vector<std::string>& args) {
  std::string report_path, value, error;
  std::vector<std::string> cert_paths;
  VerifyOptions o;
  TrustStore trust = TrustStore::amd();
  ArgCursor a(args);
  while (a.next()) {
    if (!a.is_flag()) return usage_error("unexpected argument " + a.positional());
    const std::string flag = a.flag();
    if (flag == "--allow-debug") {
      o.allow_debug = true;
      continue;
    }
    if (!a.value(value)) return usage_error(flag + " needs a value");
    if (flag == "--report") {
      report_path = value;
    } else if (flag == "--certs") {
      cert_paths.push_back(value);
    } else if (flag == "--at") {
      std::time_t t;
      if (!parse_rfc3339(value, t)) return usage_error("--at needs an RFC 3339 time, e.g. 2025-01-01T00:00:00Z");
      o.at = t;
    } else if (flag == "--min-tcb") {
      uint64_t v;
      if (!parse_tcb_hex(value, v)) return usage_error("--min-tcb needs a 64-bit hex TCB (e.g. 7308000000000003)");
      o.min_tcb = v;
    } else if (flag == "--vmpl") {
      uint64_t v;
      if (!parse_uint(value, 3, v)) return usage_error("--vmpl needs 0 to 3");
      o.vmpl = static_cast<uint32_t>(v);
    } else if (flag == "--measurement") {
      if (!parse_fixed(flag, value, o.measurement.emplace(), error)) return usage_error(error);
    } else if (flag == "--host-data") {
      if (!parse_fixed(flag, value, o.host_data.emplace(), error)) return usage_error(error);
    } else if (flag == "--report-data") {
      if (!parse_fixed(flag, value, o.report_data.emplace(), error)) return usage_error(error);
    } else if (flag == "--trust-virtual" || flag == "--trust-ark") {
      std::string path = flag == "--trust-virtual" ? value + "/ark.pem" : value, pem;
      if (!read_text_file(path, pem)) return usage_error("cannot read " + path);
      if (!trust.add_ark_pem(pem, error)) return usage_error(path + ": " + error);
    } else {
      return usage_error("unknown flag " + flag);
    }
  }
  if (report_path.empty()) return usage_error("verify needs --report FILE");
  if (cert_paths.empty()) return usage_error("verify needs --certs (the VCEK/VLEK, optionally with its chain)");
  std::vector<uint8_t> raw;
  if (!load_report_file(report_path, raw, error)) return fail("verify", error);
  CertBundle certs;
  for (const auto& p : cert_paths)
    if (!load_certificates_file(p, certs, error)) return fail("verify", error);
  Verifier verifier(std::move(trust));
  VerifiedReport out;
  if (!verifier.verify(raw, certs, o, out, error)) return fail("verify", error);
  std::cout << verified_to_json(out).dump(2) << "\n";
  return 0;
}

int virtual_cmd(const std::vector<std::string>& args) {
  if (args.empty()) return usage_error("virtual needs launch, report or certs");
  const std::string sub = args[0];
  std::string dir, out_path, value, error;
  std::optional<std::string> host_data;
  std::array<uint8_t, 64> report_data{};
  std::optional<uint32_t> vmpl;
  LaunchParams params;
  std::vector<std::string> rest(args.begin() + 1, args.end());
  ArgCursor a(rest);
  while (a.next()) {
    if (!a.is_flag()) return usage_error("unexpected argument " + a.positional());
    const std::string flag = a.flag();
    if (!a.value(value)) return usage_error(flag + " needs a value");
    uint64_t n = 0;
    if (flag == "--dir") {
      dir = value;
    } else if (flag == "-o" && sub == "report") {
      out_path = value;
    } else if (flag == "--report-data" && sub == "report") {
      if (!parse_fixed(flag, value, report_data, error)) return usage_error(error);
    } else if (flag == "--vmpl" && sub != "certs") {
      if (!parse_uint(value, 3, n)) return usage_error("--vmpl needs 0 to 3");
      vmpl = static_cast<uint32_t>(n);
    } else if (flag == "--host-data" && sub == "launch") {
      if (!parse_fixed(flag, value, params.host_data, error)) return usage_error(error);
      host_data = value;
    } else if (flag == "--measurement" && sub == "launch") {
      if (!parse_fixed(flag, value, params.measurement, error)) return usage_error(error);
    } else if (flag == "--policy" && sub == "launch") {
      if (!parse_tcb_hex(value, params.policy)) return usage_error("--policy needs a 64-bit hex value");
    } else if (flag == "--guest-svn" && sub == "launch") {
      if (!parse_uint(value, UINT32_MAX, n)) return usage_error("--guest-svn needs a 32-bit number");
      params.guest_svn = static_cast<uint32_t>(n);
    } else if (flag == "--tcb" && sub == "launch") {
      if (!parse_tcb_hex(value, params.tcb)) return usage_error("--tcb needs a 64-bit hex TCB");
    } else {
      return usage_error("unknown flag " + flag + " for virtual " + sub);
    }
  }
  if (dir.empty()) return usage_error("virtual " + sub + " needs --dir");
  if (sub == "launch") {
    if (!host_data) return usage_error("virtual launch needs --host-data");
    if (vmpl) params.vmpl = *vmpl;
    auto dev = VirtualSnp::launch(dir, params, error);
    if (!dev) return fail("virtual launch", error);
    std::cout << "launched virtual SNP device in " << dir << " (host_data " << hex(params.host_data)
              << "); its root is \"Confidant TEST ARK - NOT TRUSTED\"\n";
    return 0;
  }
  auto dev = VirtualSnp::open(dir, error);
  if (!dev) return fail(("virtual " + sub).c_str(), error);
  if (sub == "certs") {
    std::cout << dev->certificate_chain_pem();
    return 0;
  }
  if (sub == "report") {
    if (out_path.empty()) return usage_error("virtual report needs -o FILE");
    std::vector<uint8_t> raw;
    if (!dev->get_report(report_data, vmpl.value_or(dev->params().vmpl), raw, error))
      return fail("virtual report", error);
    std::ofstream f(out_path, std::ios::binary | std::ios::trunc);
    f.write(reinterpret_cast<const char*>(raw.data()), static_cast<std::streamsize>(raw.size()));
    if (!f.good()) return fail("virtual report", "cannot write " + out_path);
    return 0;
  }
  return usage_error("unknown virtual subcommand " + sub);
}

int snp_command(const std::vector<std::string>& args) {
  if (args.empty()) return usage_error("missing subcommand");
  std::vector<std::string> rest(args.begin() + 1, args.end());
  if (args[0] == "show") return show(rest);
  if (args[0] == "verify") return verify(rest);
  if (args[0] == "virtual") return virtual_cmd(rest);
  if (args[0] == "-h" || args[0] == "--help") {
    std::cout << kUsage;
    return 0;
  }
  return usage_error("unknown subcommand " + args[0]);
}

const CommandRegistration reg{"snp", "SEV-SNP reports: show, verify, virtual SNP device; see confidant snp --help",
                              snp_command};

}  // namespace

}  // namespace confidant::cli
