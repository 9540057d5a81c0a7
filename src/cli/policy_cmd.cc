// `confidant policy hash FILE`: the HOST_DATA value that binds a policy.
// (`policy gen` lives in policy_gen_cmd.cc.)
#include <iostream>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/load.h"
#include "policy/digest.h"

namespace confidant::cli {

namespace {

constexpr const char* kUsage =
    "usage: confidant policy hash [--base64-input] FILE\n"
    "       confidant policy gen ...   (generate a policy; see confidant policy gen --help)\n"
    "  Prints the HOST_DATA value of a policy: the lowercase hex SHA-256 of its text.\n"
    "  --base64-input  FILE holds the policy base64-encoded (as the ccePolicy property does);\n"
    "                  the digest is of the decoded text.\n";

int hash_command(const std::vector<std::string>& args) {
  std::string path;
  bool base64 = false;
  ArgCursor a(args);
  while (a.next()) {
    if (!a.is_flag()) {
      if (!path.empty()) {
        std::cerr << "confidant policy hash: more than one file given\n" << kUsage;
        return 2;
      }
      path = a.positional();
    } else if (a.flag() == "--base64-input") {
      base64 = true;
    } else if (a.flag() == "-h" || a.flag() == "--help") {
      std::cout << kUsage;
      return 0;
    } else {
      std::cerr << "confidant policy hash: unknown flag " << a.flag() << "\n" << kUsage;
      return 2;
    }
  }
  if (path.empty()) {
    std::cerr << kUsage;
    return 2;
  }
  std::string text, error;
  if (!read_file(path, text, error)) {
    std::cerr << "confidant policy hash: " << error << "\n";
    return 2;
  }
  if (base64) {
    std::string decoded;
    if (!policy::base64_decode(text, decoded)) {
      std::cerr << "confidant policy hash: " << path << " is not valid base64\n";
      return 2;
    }
    text = std::move(decoded);
  }
  std::cout << policy::policy_digest_hex(text) << "\n";
  return 0;
}

}  // namespace

int policy_command(const std::vector<std::string>& args) {
  if (!args.empty() && args[0] == "hash") return hash_command(std::vector<std::string>(args.begin() + 1, args.end()));
  if (!args.empty() && args[0] == "gen") return policy_gen_command(std::vector<std::string>(args.begin() + 1, args.end()));
  if (!args.empty() && (args[0] == "-h" || args[0] == "--help")) {
    std::cout << kUsage;
    return 0;
  }
  std::cerr << "confidant policy: unknown subcommand\n" << kUsage;
  return 2;
}

}  // namespace confidant::cli
