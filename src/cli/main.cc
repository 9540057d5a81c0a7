// confidant: the command-line front end of every part (engine, enforcer,
// integrity, fragments, attestation, agent). Subcommands register themselves
// (commands.h), so this file only dispatches.
#include <algorithm>
#include <exception>
#include <iostream>
#include <string>
#include <vector>

#include "cli/commands.h"

namespace confidant::cli {
namespace {

std::vector<Command>& registry() {
  static std::vector<Command> list;
  return list;
}

}  // namespace

CommandRegistration::CommandRegistration(const char* name, const char* summary, CommandFn run) {
  auto& list = registry();
  list.push_back({name, summary, run});
  std::sort(list.begin(), list.end(),
            [](const Command& a, const Command& b) { return std::string_view(a.name) < b.name; });
}

const std::vector<Command>& commands() { return registry(); }

namespace {
const CommandRegistration kEval{"eval", "evaluate a Rego query (like opa eval); see confidant eval --help",
                                eval_command};
const CommandRegistration kReplay{
    "replay", "enforce a recorded request trace with a policy; see confidant replay --help", replay_command};
const CommandRegistration kPolicy{"policy", "policy tools: `policy hash FILE` prints the HOST_DATA value of a policy",
                                  policy_command};

void usage(std::ostream& out) {
  out << "usage: confidant <command> [flags]\ncommands:\n";
  size_t width = 0;
  for (const Command& c : commands()) width = std::max(width, std::string_view(c.name).size());
  for (const Command& c : commands()) {
    std::string name = c.name;
    name.resize(width, ' ');
    out << "  " << name << "  " << c.summary << "\n";
  }
}
}  // namespace
}  // namespace confidant::cli

int main(int argc, char** argv) {
  using namespace confidant::cli;
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
    usage(args.empty() ? std::cerr : std::cout);
    return args.empty() ? 2 : 0;
  }
  std::string cmd = args[0];
  args.erase(args.begin());
  for (const Command& c : commands()) {
    if (cmd != c.name) continue;
    try {
      return c.run(args);
    } catch (const std::exception& e) {
      // Errors are reported as values; an exception is a bug, but say what it was.
      std::cerr << "confidant " << cmd << ": internal error: " << e.what() << "\n";
      return 3;
    }
  }
  std::cerr << "confidant: unknown command '" << cmd << "'\n";
  usage(std::cerr);
  return 2;
}
