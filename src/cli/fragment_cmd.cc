// `confidant fragment create ...` and `confidant fragment verify FILE.cose [--at]`.
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/load.h"
#include "cose/crypto.h"
#include "cose/x509_chain.h"
#include "policy/signed_fragment.h"

namespace confidant::cli {

namespace {

constexpr const char* kUsage =
    "usage: confidant fragment create --namespace NS --svn N --feed FEED --key KEY.pem --chain CHAIN.pem\n"
    "                                 [--algo ES384] [--predicate subject|eku] [--cwt] FILE.rego -o FILE.cose\n"
    "       confidant fragment verify FILE.cose [--at RFC3339]\n"
    "  create  signs a policy fragment (COSE_Sign1, content type application/unknown+rego, x5chain,\n"
    "          iss = did:x509 of the chain, feed, svn); FILE.rego must start with `package NS`.\n"
    "          Prints the issuer DID. --cwt puts iss/feed/svn in CWT claims instead of text labels.\n"
    "  verify  checks signature, chain (at --at, else the signing time, else now) and that the\n"
    "          issuer resolves against the chain; prints issuer, feed, svn and the Rego.\n";

int create(const std::vector<std::string>& args) {
  policy::FragmentSigning r;
  std::string svn_text, key_path, chain_path, rego_path, out_path;
  ArgCursor a(args);
  while (a.next()) {
    if (!a.is_flag()) {
      if (!rego_path.empty()) {
        std::cerr << "confidant fragment create: more than one Rego file given\n";
        return 2;
      }
      rego_path = a.positional();
      continue;
    }
    if (a.flag() == "--cwt") {
      r.cwt_claims = true;
      continue;
    }
    std::string* target = a.flag() == "--namespace"                      ? &r.name_space
                          : a.flag() == "--svn"                          ? &svn_text
                          : a.flag() == "--feed"                         ? &r.feed
                          : a.flag() == "--key"                          ? &key_path
                          : a.flag() == "--chain"                        ? &chain_path
                          : a.flag() == "--algo"                         ? &r.algo
                          : a.flag() == "--predicate"                    ? &r.predicate
                          : (a.flag() == "-o" || a.flag() == "--output") ? &out_path
                                                                         : nullptr;
    if (!target || !a.value(*target)) {
      std::cerr << "confidant fragment create: bad flag " << a.flag() << "\n" << kUsage;
      return 2;
    }
  }
  if (r.name_space.empty() || svn_text.empty() || r.feed.empty() || key_path.empty() || chain_path.empty() ||
      rego_path.empty() || out_path.empty()) {
    std::cerr << kUsage;
    return 2;
  }
  try {
    size_t used = 0;
    r.svn = std::stoll(svn_text, &used);
    if (used != svn_text.size() || r.svn < 0) throw std::invalid_argument("svn");
  } catch (...) {
    std::cerr << "confidant fragment create: --svn " << svn_text << " is not a non-negative integer\n";
    return 2;
  }
  std::string error;
  if (!read_file(key_path, r.key_pem, error) || !read_file(chain_path, r.chain_pem, error) ||
      !read_file(rego_path, r.rego, error)) {
    std::cerr << "confidant fragment create: " << error << "\n";
    return 2;
  }
  std::string cose, issuer;
  if (!policy::create_signed_fragment(r, cose, issuer, error)) {
    std::cerr << "confidant fragment create: " << error << "\n";
    return 1;
  }
  std::ofstream out(out_path, std::ios::binary);
  out << cose;
  if (!out.flush()) {
    std::cerr << "confidant fragment create: cannot write " << out_path << "\n";
    return 2;
  }
  std::cout << issuer << "\n";
  return 0;
}

int verify(const std::vector<std::string>& args) {
  std::string path, at_text;
  ArgCursor a(args);
  while (a.next()) {
    if (!a.is_flag()) {
      path = a.positional();
    } else if (a.flag() != "--at" || !a.value(at_text)) {
      std::cerr << "confidant fragment verify: bad flag " << a.flag() << "\n" << kUsage;
      return 2;
    }
  }
  if (path.empty()) {
    std::cerr << kUsage;
    return 2;
  }
  policy::SignedFragmentOptions o;
  if (!at_text.empty()) {
    int64_t t;
    if (!cose::parse_rfc3339(at_text, t)) {
      std::cerr << "confidant fragment verify: --at " << at_text << " is not an RFC 3339 time\n";
      return 2;
    }
    o.at = t;
  }
  std::string bytes, error;
  if (!read_file(path, bytes, error)) {
    std::cerr << "confidant fragment verify: " << error << "\n";
    return 2;
  }
  if (!bytes.empty() && static_cast<uint8_t>(bytes[0]) != 0xd2 && static_cast<uint8_t>(bytes[0]) != 0x84) {
    std::string decoded;  // base64 as the host's SecurityPolicyFragment carries it
    if (cose::base64_decode(bytes, decoded) && !decoded.empty()) bytes = std::move(decoded);
  }
  policy::SignedFragment f;
  if (!policy::verify_signed_fragment(bytes, o, f, error)) {
    std::cerr << "verification failed: " << error << "\n";
    return 1;
  }
  std::string ns;
  std::cout << "issuer: " << f.issuer << "\nfeed: " << f.feed
            << "\nsvn: " << (f.header_svn ? std::to_string(*f.header_svn) : std::string("(none in header)"))
            << "\nnamespace: " << (policy::fragment_namespace(f.text, ns) ? ns : std::string("(invalid)"))
            << "\ncontent type: " << f.content_type << "\n\n"
            << f.text << (f.text.ends_with("\n") ? "" : "\n");
  return 0;
}

int fragment_command(const std::vector<std::string>& args) {
  std::vector<std::string> rest(args.empty() ? args.begin() : args.begin() + 1, args.end());
  if (!args.empty() && args[0] == "create") return create(rest);
  if (!args.empty() && args[0] == "verify") return verify(rest);
  if (!args.empty() && (args[0] == "-h" || args[0] == "--help")) {
    std::cout << kUsage;
    return 0;
  }
  std::cerr << kUsage;
  return 2;
}

const CommandRegistration kFragment{"fragment", "signed policy fragments: create (sign), verify", fragment_command};

}  // namespace
}  // namespace confidant::cli
