// The `confidant` subcommands and the small argument parser they share
// (CLI11 is not among the build dependencies; the flags are few and simple).
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace confidant::cli {

// Each subcommand receives the arguments after its name and returns the exit status
// (0 success, 1 a negative answer such as "verification failed", 2 usage errors).
using CommandFn = int (*)(const std::vector<std::string>& args);

struct Command {
  const char* name;
  const char* summary;  // one line for `confidant --help`
  CommandFn run;
};

// Every *_cmd.cc registers its commands with a file-scope
//   static const CommandRegistration reg{"snp", "SEV-SNP reports: show, verify", snp_command};
// so that adding a command touches no shared file. The list is sorted by name.
const std::vector<Command>& commands();
struct CommandRegistration {
  CommandRegistration(const char* name, const char* summary, CommandFn run);
};

int eval_command(const std::vector<std::string>& args);
int replay_command(const std::vector<std::string>& args);
int policy_command(const std::vector<std::string>& args);
int policy_gen_command(const std::vector<std::string>& args);  // `policy gen`

// Walks "--flag value", "--flag=value", "-f value" and positional arguments;
// "--" ends flag parsing.
class ArgCursor {
 public:
  explicit ArgCursor(const std::vector<std::string>& args) : args_(args) {}

  // Advances to the next argument. Afterwards either is_flag() and flag() is
  // the name ("-d", "--format"), or positional() holds the argument.
  bool next() {
    if (i_ >= args_.size()) return false;
    const std::string& a = args_[i_++];
    attached_.reset();
    if (!only_positional_ && a == "--") {
      only_positional_ = true;
      return next();
    }
    if (only_positional_ || a.size() < 2 || a[0] != '-') {
      flag_.clear();
      positional_ = a;
      return true;
    }
    size_t eq = a.find('=');
    if (a.starts_with("--") && eq != std::string::npos) {
      flag_ = a.substr(0, eq);
      attached_ = a.substr(eq + 1);
    } else {
      flag_ = a;
    }
    return true;
  }
  bool is_flag() const { return !flag_.empty(); }
  const std::string& flag() const { return flag_; }
  const std::string& positional() const { return positional_; }
  // The flag's value: attached with '=' or the next argument.
  bool value(std::string& out) {
    if (attached_) {
      out = *attached_;
      return true;
    }
    if (i_ >= args_.size()) return false;
    out = args_[i_++];
    return true;
  }

 private:
  const std::vector<std::string>& args_;
  size_t i_ = 0;
  bool only_positional_ = false;
  std::string flag_, positional_;
  std::optional<std::string> attached_;
};

}  // namespace confidant::cli
