// `confidant attest-service` and `confidant skr`: the attestation service (SEV-SNP evidence ->
// signed token) and the secure key release sidecar that runs next to a workload.
#include <signal.h>

#include <atomic>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "attest/attest.h"
#include "attest_service/service.h"
#include "cli/commands.h"
#include "cose/x509_chain.h"
#include "policy/tee.h"
#include "skr/skr.h"

namespace confidant::cli {

namespace {

constexpr const char* kServiceUsage =
    "usage: confidant attest-service --listen ADDR:PORT --signing-key FILE [--issuer URL]\n"
    "                                [--trust-virtual DIR | --trust-ark PEM]...\n"
    "                                [--uvm-issuer DID --uvm-feed FEED [--uvm-min-svn N]]...\n"
    "                                [--at RFC3339]\n"
    "  Verifies SEV-SNP evidence (POST /attest/SevSnpVm, the MAA request shape) and issues\n"
    "  RS256 tokens with x-ms-sevsnpvm-* claims; keys at GET /certs and\n"
    "  /.well-known/openid-configuration. AMD's roots are built in; a virtual SNP device's\n"
    "  roots are trusted only when named. The signing key file is created when absent.\n";

constexpr const char* kSkrUsage =
    "usage: confidant skr [--listen ADDR:PORT] (--virtual-snp DIR | --sev-guest DEV --certs PEM)\n"
    "                     [--uvm-endorsement FILE] [--kbs-jwks FILE]\n"
    "  The secure key release sidecar API: GET /status, POST /attest/raw, /attest/combined,\n"
    "  /attest/maa, /key/release (default listen 127.0.0.1:8080).\n";

bool read_all(const std::string& path, std::string& out) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return false;
  std::stringstream ss;
  ss << f.rdbuf();
  out = ss.str();
  return true;
}

bool split_listen(const std::string& listen, std::string& host, int& port) {
  size_t colon = listen.rfind(':');
  if (colon == std::string::npos) return false;
  host = listen.substr(0, colon);
  port = std::atoi(listen.c_str() + colon + 1);
  return port >= 0 && port <= 65535;
}

// Runs `serve` until SIGINT/SIGTERM.
template <class ServeFn>
int run_until_signal(const char* name, ServeFn&& serve) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  signal(SIGPIPE, SIG_IGN);
  std::atomic<bool> stop{false};
  std::string error;
  bool ok = true;
  std::thread server([&] { ok = serve(stop, error); });
  std::thread waiter([&] {
    int sig;
    sigwait(&set, &sig);
    stop = true;
  });
  server.join();
  if (!ok) {
    std::cerr << "confidant " << name << ": " << error << "\n";
    pthread_kill(waiter.native_handle(), SIGTERM);
    waiter.join();
    return 1;
  }
  waiter.join();
  return 0;
}

int attest_service_command(const std::vector<std::string>& args) {
  std::string listen = "127.0.0.1:8443", key_path, error;
  attest_service::Config config;
  std::vector<attest_service::UvmIssuer> issuers;
  ArgCursor a(args);
  while (a.next()) {
    if (!a.is_flag()) {
      std::cerr << "confidant attest-service: unexpected argument " << a.positional() << "\n" << kServiceUsage;
      return 2;
    }
    std::string f = a.flag(), v;
    if (f == "-h" || f == "--help") {
      std::cout << kServiceUsage;
      return 0;
    }
    if (!a.value(v)) {
      std::cerr << "confidant attest-service: " << f << " needs a value\n";
      return 2;
    }
    if (f == "--listen") {
      listen = v;
    } else if (f == "--signing-key") {
      key_path = v;
    } else if (f == "--issuer") {
      config.issuer = v;
    } else if (f == "--trust-virtual") {
      auto dev = attest::VirtualSnp::open(v, error);
      if (!dev || !config.trust.add_ark(dev->ark(), error)) {
        std::cerr << "confidant attest-service: " << v << ": " << error << "\n";
        return 1;
      }
    } else if (f == "--trust-ark") {
      std::string pem;
      if (!read_all(v, pem) || !config.trust.add_ark_pem(pem, error)) {
        std::cerr << "confidant attest-service: " << v << ": " << (error.empty() ? "cannot read" : error) << "\n";
        return 1;
      }
    } else if (f == "--uvm-issuer") {
      issuers.push_back({v, "", 0});
    } else if (f == "--uvm-feed" || f == "--uvm-min-svn") {
      if (issuers.empty()) {
        std::cerr << "confidant attest-service: " << f << " must follow --uvm-issuer\n";
        return 2;
      }
      if (f == "--uvm-feed")
        issuers.back().feed = v;
      else
        issuers.back().min_svn = std::strtoull(v.c_str(), nullptr, 10);
    } else if (f == "--at") {
      int64_t t;
      if (!cose::parse_rfc3339(v, t)) {
        std::cerr << "confidant attest-service: --at wants an RFC 3339 time\n";
        return 2;
      }
      config.at = t;
    } else {
      std::cerr << "confidant attest-service: unknown flag " << f << "\n" << kServiceUsage;
      return 2;
    }
  }
  std::string host;
  int port = 0;
  if (key_path.empty() || !split_listen(listen, host, port)) {
    std::cerr << kServiceUsage;
    return 2;
  }
  for (auto& i : issuers)
    if (i.feed.empty()) {
      std::cerr << "confidant attest-service: --uvm-issuer " << i.did << " needs --uvm-feed\n";
      return 2;
    }
  config.uvm_issuers = issuers;
  if (!attest_service::load_or_create_signing_key(key_path, config.signing_key, error)) {
    std::cerr << "confidant attest-service: " << error << "\n";
    return 1;
  }
  if (config.issuer.empty()) config.issuer = "http://" + listen;
  attest_service::AttestationService service(config);
  return run_until_signal("attest-service", [&](const std::atomic<bool>& stop, std::string& err) {
    return attest_service::serve(service, host, port, stop,
                                 [&](int p) { std::cerr << "attest-service listening on " << host << ":" << p << "\n"; },
                                 err);
  });
}

int skr_command(const std::vector<std::string>& args) {
  std::string listen = "127.0.0.1:8080", virtual_dir, device, certs_path, uvm_path, jwks_path, error;
  ArgCursor a(args);
  while (a.next()) {
    if (!a.is_flag()) {
      std::cerr << "confidant skr: unexpected argument " << a.positional() << "\n" << kSkrUsage;
      return 2;
    }
    std::string f = a.flag(), v;
    if (f == "-h" || f == "--help") {
      std::cout << kSkrUsage;
      return 0;
    }
    if (!a.value(v)) {
      std::cerr << "confidant skr: " << f << " needs a value\n";
      return 2;
    }
    if (f == "--listen") listen = v;
    else if (f == "--virtual-snp") virtual_dir = v;
    else if (f == "--sev-guest") device = v;
    else if (f == "--certs") certs_path = v;
    else if (f == "--uvm-endorsement") uvm_path = v;
    else if (f == "--kbs-jwks") jwks_path = v;
    else {
      std::cerr << "confidant skr: unknown flag " << f << "\n" << kSkrUsage;
      return 2;
    }
  }
  std::string host;
  int port = 0;
  if (!split_listen(listen, host, port) || virtual_dir.empty() == device.empty()) {
    std::cerr << kSkrUsage;
    return 2;
  }
  skr::Config config;
  std::shared_ptr<const attest::VirtualSnp> dev;
  if (!virtual_dir.empty()) {
    dev = attest::VirtualSnp::open(virtual_dir, error);
    if (!dev) {
      std::cerr << "confidant skr: " << virtual_dir << ": " << error << "\n";
      return 1;
    }
    config.cert_chain_pem = dev->certificate_chain_pem();
    config.get_report = [dev](const std::array<uint8_t, 64>& rd, std::vector<uint8_t>& report, std::string& e) {
      return dev->get_report(rd, dev->params().vmpl, report, e);
    };
  } else {
    if (certs_path.empty() || !read_all(certs_path, config.cert_chain_pem)) {
      std::cerr << "confidant skr: --sev-guest needs --certs PEM (the VCEK chain from the host)\n";
      return 2;
    }
    config.get_report = [device](const std::array<uint8_t, 64>& rd, std::vector<uint8_t>& report, std::string& e) {
      return policy::read_sev_guest_report(device, rd, 0, report, e);
    };
  }
  if (!uvm_path.empty() && !read_all(uvm_path, config.uvm_endorsement)) {
    std::cerr << "confidant skr: cannot read " << uvm_path << "\n";
    return 1;
  }
  if (!jwks_path.empty()) {
    std::string text;
    if (!read_all(jwks_path, text)) {
      std::cerr << "confidant skr: cannot read " << jwks_path << "\n";
      return 1;
    }
    auto jwks = kbs::ParseJwks(text);
    if (!jwks) {
      std::cerr << "confidant skr: " << jwks_path << ": " << jwks.error() << "\n";
      return 1;
    }
    config.kbs_signers = *jwks;
  }
  skr::Sidecar sidecar(config);
  return run_until_signal("skr", [&](const std::atomic<bool>& stop, std::string& err) {
    return skr::serve(sidecar, host, port, stop,
                      [&](int p) { std::cerr << "skr listening on " << host << ":" << p << "\n"; }, err);
  });
}

const CommandRegistration kAttestService{"attest-service", "SEV-SNP evidence -> signed attestation tokens (MAA-shaped)",
                                         attest_service_command};
const CommandRegistration kSkr{"skr", "the secure key release sidecar API (attest, key release)", skr_command};

}  // namespace

}  // namespace confidant::cli
