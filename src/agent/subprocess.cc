#include "agent/subprocess.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstring>
#include <map>
#include <mutex>
#include <thread>

namespace confidant::agent {
namespace {

struct Reaper {
  std::mutex mu;
  std::condition_variable exited;
  std::condition_variable spawned;
  std::map<pid_t, int> statuses;  // exits not yet collected by wait_exit
  bool started = false;
};

Reaper& reaper() {
  static Reaper* r = new Reaper;  // lives for the whole process (the thread uses it)
  return *r;
}

void reap_loop() {
  Reaper& r = reaper();
  for (;;) {
    int st = 0;
    pid_t pid = ::waitpid(-1, &st, 0);
    if (pid < 0) {
      if (errno == EINTR) continue;
      // No children right now: sleep until one is spawned (runc orphans reach
      // us without a spawn call, hence the periodic retry).
      std::unique_lock<std::mutex> lock(r.mu);
      r.spawned.wait_for(lock, std::chrono::milliseconds(50));
      continue;
    }
    int code = WIFEXITED(st) ? WEXITSTATUS(st) : WIFSIGNALED(st) ? 128 + WTERMSIG(st) : -1;
    if (code < 0) continue;
    std::lock_guard<std::mutex> lock(r.mu);
    r.statuses[pid] = code;
    // Bound the table: exits nobody asks about (orphaned grandchildren).
    if (r.statuses.size() > 4096) r.statuses.erase(r.statuses.begin());
    r.exited.notify_all();
  }
}

}  // namespace

void start_reaper() {
  Reaper& r = reaper();
  std::lock_guard<std::mutex> lock(r.mu);
  if (r.started) return;
  r.started = true;
  ::prctl(PR_SET_CHILD_SUBREAPER, 1);
  std::thread(reap_loop).detach();
}

std::optional<int> wait_exit(pid_t pid, int timeout_ms) {
  Reaper& r = reaper();
  std::unique_lock<std::mutex> lock(r.mu);
  auto ready = [&] { return r.statuses.count(pid) > 0; };
  if (timeout_ms < 0)
    r.exited.wait(lock, ready);
  else if (timeout_ms > 0)
    r.exited.wait_for(lock, std::chrono::milliseconds(timeout_ms), ready);
  auto it = r.statuses.find(pid);
  if (it == r.statuses.end()) return std::nullopt;
  return it->second;  // kept: several callers may ask about the same process
}

pid_t spawn(const SpawnOptions& o, std::string& error) {
  start_reaper();
  if (o.argv.empty()) {
    error = "spawn: empty argv";
    return -1;
  }
  std::vector<char*> argv;
  for (const auto& a : o.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  std::vector<char*> envp;
  for (const auto& e : o.env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  int errpipe[2];
  if (::pipe2(errpipe, O_CLOEXEC) != 0) {
    error = std::string("pipe: ") + std::strerror(errno);
    return -1;
  }
  // The reaper lock is held across fork so that a stale exit recorded for a
  // reused pid is dropped before the new child's exit can be recorded.
  std::unique_lock<std::mutex> reap_lock(reaper().mu);
  pid_t pid = ::fork();
  if (pid > 0) reaper().statuses.erase(pid);
  reap_lock.unlock();
  if (pid < 0) {
    error = std::string("fork: ") + std::strerror(errno);
    ::close(errpipe[0]);
    ::close(errpipe[1]);
    return -1;
  }
  if (pid == 0) {
    // Only async-signal-safe calls from here on.
    int devnull = ::open("/dev/null", O_RDWR);
    int fds[3] = {o.stdin_fd >= 0 ? o.stdin_fd : devnull, o.stdout_fd >= 0 ? o.stdout_fd : devnull,
                  o.stderr_fd >= 0 ? o.stderr_fd : devnull};
    for (int i = 0; i < 3; ++i) {
      if (fds[i] == i) {
        int fl = ::fcntl(i, F_GETFD);
        ::fcntl(i, F_SETFD, fl & ~FD_CLOEXEC);
      } else {
        ::dup2(fds[i], i);
      }
    }
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::setsid();
    if (!o.cwd.empty() && ::chdir(o.cwd.c_str()) != 0) {
      int e = errno;
      [[maybe_unused]] ssize_t w = ::write(errpipe[1], &e, sizeof e);
      ::_exit(127);
    }
    if (o.env.empty())
      ::execv(argv[0], argv.data());
    else
      ::execve(argv[0], argv.data(), envp.data());
    int e = errno;
    [[maybe_unused]] ssize_t w = ::write(errpipe[1], &e, sizeof e);
    ::_exit(127);
  }
  ::close(errpipe[1]);
  {
    Reaper& r = reaper();
    r.spawned.notify_all();
  }
  int child_errno = 0;
  ssize_t n;
  do n = ::read(errpipe[0], &child_errno, sizeof child_errno);
  while (n < 0 && errno == EINTR);
  ::close(errpipe[0]);
  if (n == sizeof child_errno) {
    error = "cannot execute " + o.argv[0] + (o.cwd.empty() ? "" : " in " + o.cwd) + ": " + std::strerror(child_errno);
    wait_exit(pid, -1);
    return -1;
  }
  return pid;
}

CommandResult run_command(const std::vector<std::string>& argv, int timeout_ms) {
  CommandResult res;
  int out[2], err[2];
  if (::pipe2(out, O_CLOEXEC) != 0) {
    res.err = std::string("pipe: ") + std::strerror(errno);
    return res;
  }
  if (::pipe2(err, O_CLOEXEC) != 0) {
    ::close(out[0]);
    ::close(out[1]);
    res.err = std::string("pipe: ") + std::strerror(errno);
    return res;
  }
  SpawnOptions o;
  o.argv = argv;
  o.stdout_fd = out[1];
  o.stderr_fd = err[1];
  std::string error;
  pid_t pid = spawn(o, error);
  ::close(out[1]);
  ::close(err[1]);
  if (pid < 0) {
    ::close(out[0]);
    ::close(err[0]);
    res.err = error;
    return res;
  }
  constexpr size_t kCap = 1 << 20;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  bool open[2] = {true, true};
  while (open[0] || open[1]) {
    auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count();
    if (left <= 0) {
      res.timed_out = true;
      break;
    }
    pollfd p[2] = {{open[0] ? out[0] : -1, POLLIN, 0}, {open[1] ? err[0] : -1, POLLIN, 0}};
    int rc = ::poll(p, 2, int(left));
    if (rc < 0 && errno != EINTR) break;
    for (int i = 0; i < 2; ++i) {
      if (!open[i] || !(p[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      char buf[8192];
      ssize_t n = ::read(i == 0 ? out[0] : err[0], buf, sizeof buf);
      if (n <= 0) {
        open[i] = false;
        continue;
      }
      std::string& s = i == 0 ? res.out : res.err;
      if (s.size() < kCap) s.append(buf, std::min<size_t>(size_t(n), kCap - s.size()));
    }
  }
  ::close(out[0]);
  ::close(err[0]);
  if (res.timed_out) {
    ::kill(-pid, SIGKILL);
    ::kill(pid, SIGKILL);
    wait_exit(pid, -1);
    return res;
  }
  auto left =
      std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count();
  auto st = wait_exit(pid, int(std::max<long>(left, 1)));
  if (!st) {
    res.timed_out = true;
    ::kill(-pid, SIGKILL);
    ::kill(pid, SIGKILL);
    wait_exit(pid, -1);
    return res;
  }
  res.status = *st;
  return res;
}

std::string describe_failure(const std::string& what, const CommandResult& r) {
  std::string msg = what + ": ";
  if (r.timed_out)
    msg += "timed out";
  else if (r.status < 0)
    msg += r.err;
  else
    msg += "exit status " + std::to_string(r.status);
  std::string detail = r.err.empty() ? r.out : r.err;
  while (!detail.empty() && (detail.back() == '\n' || detail.back() == ' ')) detail.pop_back();
  if (detail.size() > 2000) detail = detail.substr(detail.size() - 2000);
  if (!detail.empty() && r.status >= 0) msg += ": " + detail;
  return msg;
}

}  // namespace confidant::agent
