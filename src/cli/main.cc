// confidant: command-line front end of the Rego engine and the policy enforcer.
#include <exception>
#include <iostream>
#include <string>
#include <vector>

#include "cli/commands.h"

namespace {

constexpr const char* kUsage =
    "usage: confidant <command> [flags]\n"
    "commands:\n"
    "  eval    evaluate a Rego query (like opa eval); see confidant eval --help\n"
    "  replay  enforce a recorded request trace with a policy; see confidant replay --help\n"
    "  policy  policy tools: `policy hash FILE` prints the HOST_DATA value of a policy\n";

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
    std::cout << kUsage;
    return args.empty() ? 2 : 0;
  }
  std::string cmd = args[0];
  args.erase(args.begin());
  try {
    if (cmd == "eval") return confidant::cli::eval_command(args);
    if (cmd == "replay") return confidant::cli::replay_command(args);
    if (cmd == "policy") return confidant::cli::policy_command(args);
  } catch (const std::exception& e) {
    // The engine reports errors through Errors; an exception is a bug, but say what it was.
    std::cerr << "confidant " << cmd << ": internal error: " << e.what() << "\n";
    return 3;
  }
  std::cerr << "confidant: unknown command '" << cmd << "'\n" << kUsage;
  return 2;
}
