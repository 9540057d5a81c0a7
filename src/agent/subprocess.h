// Child processes of the agent: runc invocations, external processes, and
// the container processes runc leaves behind (the agent is their child
// subreaper, so their exit statuses reach it).
//
// One reaper thread owns waitpid(-1): every exit is recorded here, and
// callers wait for the pid they care about. Nothing else in the process may
// call waitpid.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace confidant::agent {

// Starts the reaper (idempotent) and makes this process a child subreaper.
void start_reaper();

// Exit status of `pid` in the shell's convention (128+signal when killed);
// waits up to timeout_ms (0: don't wait, <0: forever).
std::optional<int> wait_exit(pid_t pid, int timeout_ms);

struct SpawnOptions {
  std::vector<std::string> argv;
  std::vector<std::string> env;  // empty: inherit
  std::string cwd;
  int stdin_fd = -1;   // -1: /dev/null
  int stdout_fd = -1;  // -1: /dev/null
  int stderr_fd = -1;
};
// fork/exec; the child is registered with the reaper. -1 with error on failure.
pid_t spawn(const SpawnOptions& options, std::string& error);

struct CommandResult {
  int status = -1;  // exit status, -1 when it could not run or timed out
  std::string out, err;
  bool timed_out = false;
};
// Runs a command to completion, capturing its output (each stream capped at
// 1 MiB), killing it after timeout_ms.
CommandResult run_command(const std::vector<std::string>& argv, int timeout_ms = 60'000);

// "runc create: exit 1: <stderr>" style summary for error messages.
std::string describe_failure(const std::string& what, const CommandResult& r);

}  // namespace confidant::agent
