// `confidant uvm verify --endorsement FILE [--report REPORT.bin] [--min-svn N] [--feed F] [--at]`
// and `confidant uvm endorse` (sign a hash-envelope endorsement of a launch measurement: the
// publisher's side, for guest images of our own and for tests and demos).
#include <openssl/x509.h>

#include <ctime>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/load.h"
#include "cose/cose_sign1.h"
#include "cose/crypto.h"
#include "cose/didx509.h"
#include "cose/uvm_endorsement.h"
#include "cose/x509_chain.h"

namespace confidant::cli {

namespace {

constexpr const char* kUsage =
    "usage: confidant uvm verify --endorsement FILE [--report REPORT.bin] [--min-svn N] [--feed F]\n"
    "                            [--issuer DID] [--at RFC3339] [--ignore-validity]\n"
    "  Verifies a UVM endorsement (reference info; binary or base64 COSE_Sign1, legacy JSON or\n"
    "  hash-envelope form): signature, x5chain (at --at, else its signing time), issuer did:x509\n"
    "  against the chain, then the asked checks: feed, issuer, svn >= N (numerically), and the\n"
    "  measurement equal to the SNP report's MEASUREMENT. Exit 1 with the reason otherwise.\n"
    "       confidant uvm endorse --measurement HEX --svn N --feed FEED --key KEY.pem --chain CHAIN.pem\n"
    "                             [--algo ES384] -o FILE\n"
    "  Signs a hash-envelope endorsement (CWT claims iss, sub = feed, iat, svn; the 48-byte\n"
    "  measurement as payload) and prints the issuer did:x509 derived from the chain.\n";

int endorse(const std::vector<std::string>& args) {
  std::string measurement_hex, svn_text, feed, key_path, chain_path, out_path, algo = "ES384";
  ArgCursor a(args);
  while (a.next()) {
    std::string* target = !a.is_flag()                  ? nullptr
                          : a.flag() == "--measurement" ? &measurement_hex
                          : a.flag() == "--svn"         ? &svn_text
                          : a.flag() == "--feed"        ? &feed
                          : a.flag() == "--key"         ? &key_path
                          : a.flag() == "--chain"       ? &chain_path
                          : a.flag() == "--algo"        ? &algo
                          : a.flag() == "-o"            ? &out_path
                                                        : nullptr;
    if (!target || !a.value(*target)) {
      std::cerr << "confidant uvm endorse: unexpected argument " << (a.is_flag() ? a.flag() : a.positional())
                << "\n" << kUsage;
      return 2;
    }
  }
  std::string measurement;
  if (!cose::from_hex(measurement_hex, measurement) || measurement.size() != 48) {
    std::cerr << "confidant uvm endorse: --measurement needs 96 hex digits (48 bytes)\n";
    return 2;
  }
  if (svn_text.empty() || svn_text.size() > 18 || svn_text.find_first_not_of("0123456789") != std::string::npos ||
      feed.empty() || key_path.empty() || chain_path.empty() || out_path.empty()) {
    std::cerr << kUsage;
    return 2;
  }
  auto alg = cose::alg_from_name(algo);
  if (!alg) {
    std::cerr << "confidant uvm endorse: unknown algorithm " << algo << "\n";
    return 2;
  }
  std::string key_pem, chain_pem, error;
  if (!read_file(key_path, key_pem, error) || !read_file(chain_path, chain_pem, error)) {
    std::cerr << "confidant uvm endorse: " << error << "\n";
    return 1;
  }
  cose::Pkey key = cose::load_private_key_pem(key_pem, error);
  std::vector<cose::Cert> chain;
  std::string did;
  if (!key || !cose::parse_certs_pem(chain_pem, chain, error) || chain.empty() ||
      !cose::derive_did_x509(chain, "subject", did, error)) {
    std::cerr << "confidant uvm endorse: " << (error.empty() ? "empty chain" : error) << "\n";
    return 1;
  }
  if (EVP_PKEY_eq(key.get(), X509_get0_pubkey(chain[0].get())) != 1) {
    std::cerr << "confidant uvm endorse: the key is not the key of the chain's first (leaf) certificate\n";
    return 1;
  }
  using cose::CborValue;
  cose::SignRequest r;
  r.alg = *alg;
  for (const auto& c : chain) r.x5chain.push_back(cose::cert_der(c.get()));
  cose::CborMap cwt;
  cwt.emplace_back(CborValue::integer(1), CborValue::text(did));
  cwt.emplace_back(CborValue::integer(2), CborValue::text(feed));
  cwt.emplace_back(CborValue::integer(6), CborValue::tag(1, CborValue::integer(static_cast<int64_t>(std::time(nullptr)))));
  cwt.emplace_back(CborValue::text("svn"), CborValue::integer(static_cast<int64_t>(std::stoll(svn_text))));
  r.extra_protected.emplace_back(CborValue::integer(cose::kHeaderCwtClaims), CborValue::map(std::move(cwt)));
  r.extra_protected.emplace_back(CborValue::integer(cose::kHeaderPayloadHashAlg), CborValue::integer(-43));
  r.extra_protected.emplace_back(CborValue::integer(cose::kHeaderPreimageContentType),
                                 CborValue::text("application/octet-stream"));
  r.payload = measurement;
  std::string out;
  if (!cose::sign_cose_sign1(r, key.get(), out, error)) {
    std::cerr << "confidant uvm endorse: " << error << "\n";
    return 1;
  }
  std::ofstream f(out_path, std::ios::binary);
  if (!(f << out)) {
    std::cerr << "confidant uvm endorse: cannot write " << out_path << "\n";
    return 1;
  }
  std::cout << did << "\n";
  return 0;
}

int verify(const std::vector<std::string>& args) {
  std::string endorsement_path, report_path, min_svn, feed, issuer, at_text;
  bool ignore_validity = false;
  ArgCursor a(args);
  while (a.next()) {
    if (a.is_flag() && a.flag() == "--ignore-validity") {
      ignore_validity = true;
      continue;
    }
    std::string* target = !a.is_flag()                  ? nullptr
                          : a.flag() == "--endorsement" ? &endorsement_path
                          : a.flag() == "--report"      ? &report_path
                          : a.flag() == "--min-svn"     ? &min_svn
                          : a.flag() == "--feed"        ? &feed
                          : a.flag() == "--issuer"      ? &issuer
                          : a.flag() == "--at"          ? &at_text
                                                        : nullptr;
    if (!target || !a.value(*target)) {
      std::cerr << "confidant uvm verify: unexpected argument " << (a.is_flag() ? a.flag() : a.positional()) << "\n"
                << kUsage;
      return 2;
    }
  }
  if (endorsement_path.empty()) {
    std::cerr << kUsage;
    return 2;
  }
  cose::UvmCheck check;
  check.check_validity = !ignore_validity;
  if (!min_svn.empty()) {
    if (min_svn.size() > 19 || min_svn.find_first_not_of("0123456789") != std::string::npos) {
      std::cerr << "confidant uvm verify: --min-svn " << min_svn << " is not a non-negative integer\n";
      return 2;
    }
    check.min_svn = std::stoull(min_svn);
  }
  if (!feed.empty()) check.feed = feed;
  if (!issuer.empty()) check.issuer = issuer;
  if (!at_text.empty()) {
    int64_t t;
    if (!cose::parse_rfc3339(at_text, t)) {
      std::cerr << "confidant uvm verify: --at " << at_text << " is not an RFC 3339 time\n";
      return 2;
    }
    check.at = t;
  }
  std::string endorsement, error;
  if (!read_file(endorsement_path, endorsement, error)) {
    std::cerr << "confidant uvm verify: " << error << "\n";
    return 2;
  }
  if (!endorsement.empty() && static_cast<uint8_t>(endorsement[0]) != 0xd2 &&
      static_cast<uint8_t>(endorsement[0]) != 0x84) {
    std::string decoded;
    if (cose::base64_decode(endorsement, decoded) && !decoded.empty()) endorsement = std::move(decoded);
  }
  if (!report_path.empty()) {
    std::string report;
    if (!read_file(report_path, report, error)) {
      std::cerr << "confidant uvm verify: " << error << "\n";
      return 2;
    }
    check.report = std::move(report);
  }
  cose::UvmEndorsement e;
  if (!cose::verify_uvm_endorsement(endorsement, check, e, error)) {
    std::cerr << "verification failed: " << error << "\n";
    return 1;
  }
  std::cout << "format: " << e.format << "\nissuer: " << e.issuer << "\nfeed: " << e.feed << "\nsvn: " << e.svn
            << "\nlaunch measurement: " << cose::to_hex(e.measurement) << "\n";
  if (e.signed_at) std::cout << "signed at: " << cose::format_rfc3339(*e.signed_at) << "\n";
  std::cout << "chain checked at: "
            << (e.checked_at ? cose::format_rfc3339(*e.checked_at) : std::string("(validity ignored)")) << "\n";
  if (check.report) std::cout << "measurement matches the report\n";
  if (!check.issuer && !check.feed) std::cerr << "note: no --issuer or --feed given: the endorser is not pinned\n";
  return 0;
}

int uvm_command(const std::vector<std::string>& args) {
  if (!args.empty() && args[0] == "verify") return verify(std::vector<std::string>(args.begin() + 1, args.end()));
  if (!args.empty() && args[0] == "endorse") return endorse(std::vector<std::string>(args.begin() + 1, args.end()));
  if (!args.empty() && (args[0] == "-h" || args[0] == "--help")) {
    std::cout << kUsage;
    return 0;
  }
  std::cerr << kUsage;
  return 2;
}

const CommandRegistration kUvm{"uvm", "UVM endorsements (reference info): verify against an SNP report, endorse",
                               uvm_command};

}  // namespace
}  // namespace confidant::cli
