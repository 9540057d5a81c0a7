// `confidant didx509 resolve --did DID --chain FILE`.
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/load.h"
#include "cose/didx509.h"

namespace confidant::cli {

namespace {

constexpr const char* kUsage =
    "usage: confidant didx509 resolve --did DID --chain CHAIN.pem\n"
    "  Resolves a did:x509 against a PEM certificate chain (leaf first): RFC 5280 path checks\n"
    "  with the last certificate as anchor (validity periods not checked), CA fingerprint,\n"
    "  predicates. Prints the DID document as JSON, or the error on one line (exit 1).\n";

int resolve(const std::vector<std::string>& args) {
  std::string did, chain_path;
  ArgCursor a(args);
  while (a.next()) {
    std::string* target = nullptr;
    if (a.is_flag() && a.flag() == "--did") target = &did;
    if (a.is_flag() && a.flag() == "--chain") target = &chain_path;
    if (!target || !a.value(*target)) {
      std::cerr << "confidant didx509 resolve: unexpected argument " << (a.is_flag() ? a.flag() : a.positional())
                << "\n"
                << kUsage;
      return 2;
    }
  }
  if (did.empty() || chain_path.empty()) {
    std::cerr << kUsage;
    return 2;
  }
  std::string pem, error;
  if (!read_file(chain_path, pem, error)) {
    std::cerr << "confidant didx509 resolve: " << error << "\n";
    return 2;
  }
  std::vector<cose::Cert> chain;
  if (!cose::parse_certs_pem(pem, chain, error)) {
    std::cerr << "confidant didx509 resolve: " << chain_path << ": " << error << "\n";
    return 2;
  }
  std::string doc;
  if (!cose::resolve_did_x509(did, chain, doc, error)) {
    std::cerr << error << "\n";
    return 1;
  }
  auto j = nlohmann::ordered_json::parse(doc, nullptr, /*allow_exceptions=*/false);
  std::cout << j.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) << "\n";
  return 0;
}

int didx509_command(const std::vector<std::string>& args) {
  if (!args.empty() && args[0] == "resolve") return resolve(std::vector<std::string>(args.begin() + 1, args.end()));
  if (!args.empty() && (args[0] == "-h" || args[0] == "--help")) {
    std::cout << kUsage;
    return 0;
  }
  std::cerr << kUsage;
  return 2;
}

const CommandRegistration kDidX509{"didx509", "did:x509: resolve a DID against a certificate chain", didx509_command};

}  // namespace
}  // namespace confidant::cli
