// `confidant cose show FILE` and `confidant cose verify FILE [--at RFC3339]`.
#include <ctime>
#include <iostream>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/load.h"
#include "cose/cose_sign1.h"
#include "cose/x509_chain.h"

namespace confidant::cli {

namespace {

constexpr const char* kUsage =
    "usage: confidant cose show FILE\n"
    "       confidant cose verify FILE [--at RFC3339] [--ignore-validity]\n"
    "  FILE holds a COSE_Sign1 message, binary or base64 (as in security-context files).\n"
    "  show    prints the protected header as JSON, the unprotected header and the payload.\n"
    "  verify  checks the x5chain (its last certificate is the anchor) at --at, else at the\n"
    "          message's signing time (CWT iat / signingtime), else now, and the signature\n"
    "          with the leaf key; prints the protected header. Exit 1 with the reason if not.\n";

// Binary COSE starts with tag 18 (0xd2) or a 4-element array (0x84);
// anything else is tried as base64.
bool read_cose(const std::string& path, std::string& out, std::string& error) {
  if (!read_file(path, out, error)) return false;
  if (!out.empty() && (static_cast<uint8_t>(out[0]) == 0xd2 || static_cast<uint8_t>(out[0]) == 0x84)) return true;
  std::string decoded;
  if (cose::base64_decode(out, decoded) && !decoded.empty()) out = std::move(decoded);
  return true;
}

bool printable(const std::string& s) {
  for (unsigned char c : s)
    if ((c < 0x20 && c != '\n' && c != '\r' && c != '\t') || c == 0x7f) return false;
  return true;
}

int show(const std::string& path) {
  std::string bytes, error;
  if (!read_cose(path, bytes, error)) {
    std::cerr << "confidant cose show: " << error << "\n";
    return 2;
  }
  cose::CoseSign1 m;
  if (!cose::decode_cose_sign1(bytes, m, error)) {
    std::cerr << "confidant cose show: " << error << "\n";
    return 1;
  }
  std::cout << "COSE_Sign1 (" << (m.tagged ? "tag 18" : "untagged") << ", " << bytes.size() << " bytes)\n";
  std::cout << "protected header:\n" << cose::protected_headers_json(m) << "\n";
  std::cout << "unprotected header: " << cose::cbor_diagnostic(m.unprotected, 32) << "\n";
  std::cout << "issuer: " << m.headers.issuer() << "\nfeed: " << m.headers.feed_name() << "\n";
  if (auto t = m.headers.signed_at()) std::cout << "signed at: " << cose::format_rfc3339(*t) << "\n";
  if (!m.payload) {
    std::cout << "payload: detached\n";
  } else {
    std::cout << "payload: " << m.payload->size() << " bytes, sha256 " << cose::to_hex(cose::sha256(*m.payload))
              << "\n";
    if (printable(*m.payload)) {
      std::cout << m.payload->substr(0, 4096) << (m.payload->size() > 4096 ? "\n..." : "") << "\n";
    } else {
      cose::CborValue v;
      std::string e;
      if (cose::cbor_decode(*m.payload, v, e))
        std::cout << "payload (CBOR): " << cose::cbor_diagnostic(v, 32).substr(0, 4096) << "\n";
      else
        std::cout << "payload (hex): " << cose::to_hex(m.payload->substr(0, 256))
                  << (m.payload->size() > 256 ? "..." : "") << "\n";
    }
  }
  std::cout << "signature: " << m.signature.size() << " bytes\n";
  return 0;
}

int verify(const std::vector<std::string>& args) {
  std::string path, at_text;
  bool ignore_validity = false;
  ArgCursor a(args);
  while (a.next()) {
    if (!a.is_flag()) {
      if (!path.empty()) {
        std::cerr << "confidant cose verify: more than one file given\n" << kUsage;
        return 2;
      }
      path = a.positional();
    } else if (a.flag() == "--at") {
      if (!a.value(at_text)) {
        std::cerr << kUsage;
        return 2;
      }
    } else if (a.flag() == "--ignore-validity") {
      ignore_validity = true;
    } else {
      std::cerr << "confidant cose verify: unknown flag " << a.flag() << "\n" << kUsage;
      return 2;
    }
  }
  if (path.empty()) {
    std::cerr << kUsage;
    return 2;
  }
  cose::VerifyOptions o;
  if (!at_text.empty()) {
    int64_t t;
    if (!cose::parse_rfc3339(at_text, t)) {
      std::cerr << "confidant cose verify: --at " << at_text << " is not an RFC 3339 time\n";
      return 2;
    }
    o.at = t;
  }
  o.check_validity = !ignore_validity;
  std::string bytes, error;
  if (!read_cose(path, bytes, error)) {
    std::cerr << "confidant cose verify: " << error << "\n";
    return 2;
  }
  cose::VerifiedCose v;
  if (!cose::verify_cose_x5chain(bytes, o, v, error)) {
    std::cerr << "verification failed: " << error << "\n";
    return 1;
  }
  std::cout << cose::protected_headers_json(v.msg) << "\n";
  std::cerr << "verified: signature by " << cose::subject_line(v.chain[0].get()) << "; chain of " << v.chain.size()
            << (v.checked_at ? " valid at " + cose::format_rfc3339(*v.checked_at) : std::string(" (validity ignored)"))
            << "\n";
  return 0;
}

int cose_command(const std::vector<std::string>& args) {
  if (args.empty() || args[0] == "-h" || args[0] == "--help") {
    (args.empty() ? std::cerr : std::cout) << kUsage;
    return args.empty() ? 2 : 0;
  }
  std::vector<std::string> rest(args.begin() + 1, args.end());
  if (args[0] == "show") {
    if (rest.size() != 1) {
      std::cerr << kUsage;
      return 2;
    }
    return show(rest[0]);
  }
  if (args[0] == "verify") return verify(rest);
  std::cerr << "confidant cose: unknown subcommand " << args[0] << "\n" << kUsage;
  return 2;
}

const CommandRegistration kCose{"cose", "COSE_Sign1 messages: show, verify (x5chain, signature)", cose_command};

}  // namespace
}  // namespace confidant::cli
