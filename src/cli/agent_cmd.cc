// `confidant agent`: the guest agent serving confidant.agent.v1.Agent over ttrpc.
#include <signal.h>

#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "agent/agent.h"
#include "cli/commands.h"
#include "policy/tee.h"
#if CONFIDANT_HAVE_ATTEST
#include "attest/attest.h"
#endif

namespace confidant::cli {

namespace {

constexpr const char* kUsage =
    "usage: confidant agent --socket PATH --state-dir DIR [--host-data HEX | --virtual-snp DIR]\n"
    "  Serves the guest agent (ttrpc, service confidant.agent.v1.Agent). Every request is decided by\n"
    "  the ACI policy the host installs with SetPolicy, whose SHA-256 must equal HOST_DATA.\n"
    "  --socket PATH       unix socket (or vsock:CID:PORT when vsock is available)\n"
    "  --state-dir DIR     the agent's private directory (layer copies, mounts, bundles)\n"
    "  --host-data HEX     HOST_DATA fixed at launch (64 hex digits), when there is no SNP device\n"
    "  --virtual-snp DIR   read HOST_DATA from attestation reports of a launched virtual SNP device\n"
    "  Without either, /dev/sev-guest is used when present; otherwise every policy is refused.\n";

int agent_command(const std::vector<std::string>& args) {
  // Signals are taken by one thread (sigwait) so that no other thread is
  // interrupted; the mask must be set before any thread starts.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  ::signal(SIGPIPE, SIG_IGN);

  std::string socket, state_dir, host_data_hex, snp_dir;
  ArgCursor a(args);
  while (a.next()) {
    std::string* target = nullptr;
    if (!a.is_flag()) {
      std::cerr << "confidant agent: unexpected argument " << a.positional() << "\n" << kUsage;
      return 2;
    }
    if (a.flag() == "--socket")
      target = &socket;
    else if (a.flag() == "--state-dir")
      target = &state_dir;
    else if (a.flag() == "--host-data")
      target = &host_data_hex;
    else if (a.flag() == "--virtual-snp")
      target = &snp_dir;
    else if (a.flag() == "-h" || a.flag() == "--help") {
      std::cout << kUsage;
      return 0;
    } else {
      std::cerr << "confidant agent: unknown flag " << a.flag() << "\n" << kUsage;
      return 2;
    }
    if (!a.value(*target)) {
      std::cerr << "confidant agent: " << a.flag() << " needs a value\n";
      return 2;
    }
  }
  if (socket.empty() || state_dir.empty()) {
    std::cerr << kUsage;
    return 2;
  }
  std::shared_ptr<policy::Tee> tee;
  if (!host_data_hex.empty() && !snp_dir.empty()) {
    std::cerr << "confidant agent: give --host-data or --virtual-snp, not both\n";
    return 2;
  }
  if (!host_data_hex.empty()) {
    policy::HostData hd;
    if (!policy::parse_host_data(host_data_hex, hd)) {
      std::cerr << "confidant agent: --host-data must be 64 hex digits\n";
      return 2;
    }
    tee = std::make_shared<policy::FixedTee>(hd);
  } else if (!snp_dir.empty()) {
#if CONFIDANT_HAVE_ATTEST
    std::string error;
    std::shared_ptr<const attest::VirtualSnp> dev = attest::VirtualSnp::open(snp_dir, error);
    if (!dev) {
      std::cerr << "confidant agent: virtual SNP device " << snp_dir << ": " << error << "\n";
      return 1;
    }
    tee = std::make_shared<policy::ReportTee>("virtual-snp:" + snp_dir, attest::virtual_snp_fetcher(dev));
#else
    std::cerr << "confidant agent: this build has no attestation library (--virtual-snp unavailable)\n";
    return 2;
#endif
  } else {
    tee = policy::detect_tee();
  }
  std::cerr << "agent: HOST_DATA source: " << (tee ? tee->name() : std::string("none (every policy is refused)"))
            << "\n";

  agent::AgentOptions o;
  o.state_dir = state_dir;
  o.tee = tee;
  agent::Agent agent(std::move(o));
  agent::ttrpc::Server server(agent.router());
  agent::ttrpc::Address addr;
  std::string error;
  if (!agent::ttrpc::parse_address(socket, addr, error) || !server.listen(addr, error)) {
    std::cerr << "confidant agent: " << error << "\n";
    return 1;
  }
  std::cerr << "agent: serving on " << socket << "\n";
  std::thread signals([&] {
    int sig = 0;
    sigwait(&set, &sig);
    std::cerr << "agent: signal " << sig << ", shutting down\n";
    server.stop();
  });
  server.serve();
  server.stop();
  agent.shutdown();
  std::cerr << "agent: stopped\n";
  // The signal thread may still be waiting when the server stopped itself.
  pthread_kill(signals.native_handle(), SIGTERM);
  signals.join();
  return 0;
}

const CommandRegistration reg{"agent", "guest agent: ttrpc service enforcing the ACI policy", agent_command};

}  // namespace

}  // namespace confidant::cli
