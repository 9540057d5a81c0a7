// The attestation service's HTTP routes (cpp-httplib).
#include <httplib.h>

#include <chrono>
#include <thread>

#include "attest_service/service.h"

namespace confidant::attest_service {

bool serve(const AttestationService& service, const std::string& host, int port, const std::atomic<bool>& stop,
           std::function<void(int)> on_listening, std::string& error) {
  httplib::Server svr;
  svr.set_payload_max_length(service.config().max_request_bytes);
  auto attest = [&](const httplib::Request& req, httplib::Response& res) {
    Reply r = service.attest(req.body);
    res.status = r.status;
    res.set_content(r.body, "application/json");
  };
  // MAA spells the route SevSnpVm; accept the other capitalisation as well.
  svr.Post("/attest/SevSnpVm", attest);
  svr.Post("/attest/SevSnpVM", attest);
  svr.Get("/certs", [&](const httplib::Request&, httplib::Response& res) {
    res.set_content(service.jwks(), "application/json");
  });
  svr.Get("/.well-known/openid-configuration", [&](const httplib::Request&, httplib::Response& res) {
    res.set_content(service.openid_configuration(), "application/json");
  });
  int bound = port == 0 ? svr.bind_to_any_port(host) : (svr.bind_to_port(host, port) ? port : -1);
  if (bound < 0) {
    error = "cannot listen on " + host + ":" + std::to_string(port);
    return false;
  }
  std::thread watcher([&] {
    while (!stop.load()) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    svr.stop();
  });
  if (on_listening) on_listening(bound);
  svr.listen_after_bind();
  watcher.join();
  return true;
}

}  // namespace confidant::attest_service
