// The SKR sidecar's routes (see skr.h).
#include "skr/skr.h"

#include <httplib.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <thread>

#include "kbs/encoding.h"
#include "kbs/release.h"

namespace confidant::skr {

using nlohmann::json;

namespace {

Reply err(int status, const std::string& message) { return Reply{status, json{{"error", message}}.dump()}; }

std::string hex(const std::vector<uint8_t>& b) {
  static const char* d = "0123456789abcdef";
  std::string out;
  for (uint8_t x : b) {
    out += d[x >> 4];
    out += d[x & 15];
  }
  return out;
}

// The request object, or an error reply. `fields` must be present as strings.
bool parse_request(std::string_view body, size_t limit, std::initializer_list<const char*> fields, json& out,
                   Reply& failure) {
  if (body.size() > limit) {
    failure = err(400, "request too large");
    return false;
  }
  out = json::parse(body.begin(), body.end(), nullptr, false);
  if (out.is_discarded() || !out.is_object()) {
    failure = err(400, "request body is not a JSON object");
    return false;
  }
  for (const char* f : fields)
    if (!out.contains(f) || !out[f].is_string() || out[f].get<std::string>().empty()) {
      failure = err(400, std::string("missing ") + f);
      return false;
    }
  return true;
}

bool runtime_of(const json& req, std::string& runtime, Reply& failure) {
  auto r = kbs::Base64Decode(req["runtime_data"].get<std::string>());
  if (!r) {
    failure = err(400, "runtime_data is not base64: " + r.error());
    return false;
  }
  runtime = std::move(*r);
  return true;
}

struct Target {
  std::string scheme_host;
  std::string prefix;
};

Target split(const std::string& url) {
  size_t scheme = url.find("://");
  size_t slash = url.find('/', scheme == std::string::npos ? 0 : scheme + 3);
  Target t;
  t.scheme_host = url.substr(0, slash);
  t.prefix = slash == std::string::npos ? "" : url.substr(slash);
  while (!t.prefix.empty() && t.prefix.back() == '/') t.prefix.pop_back();
  return t;
}

std::unique_ptr<httplib::Client> client_for(const Target& t) {
  auto c = std::make_unique<httplib::Client>(t.scheme_host);
  c->set_connection_timeout(10);
  c->set_read_timeout(60);
  return c;
}

}  // namespace

std::string endpoint_url(const std::string& endpoint) {
  if (endpoint.starts_with("http://") || endpoint.starts_with("https://")) return endpoint;
  return "https://" + endpoint;
}

bool Sidecar::report_for(const std::string& runtime, std::vector<uint8_t>& report, std::string& error) const {
  if (!config_.get_report) {
    error = "no TEE: neither /dev/sev-guest nor a virtual SNP device is configured";
    return false;
  }
  std::array<uint8_t, 64> rd{};
  unsigned int len = 0;
  EVP_Digest(runtime.data(), runtime.size(), rd.data(), &len, EVP_sha256(), nullptr);
  return config_.get_report(rd, report, error);
}

Reply Sidecar::status() const {
  return Reply{200, json{{"message", config_.get_report ? "Status OK" : "Status NOT OK"}}.dump()};
}

// The report for a {"runtime_data": b64} request; false with the reply to send.
bool Sidecar::report_for_request(std::string_view body, std::vector<uint8_t>& report, Reply& failure) const {
  json req;
  std::string runtime, error;
  if (!parse_request(body, config_.max_request_bytes, {"runtime_data"}, req, failure) ||
      !runtime_of(req, runtime, failure))
    return false;
  if (report_for(runtime, report, error)) return true;
  failure = err(403, "fetching the attestation report failed: " + error);
  return false;
}

Reply Sidecar::attest_raw(std::string_view body) const {
  std::vector<uint8_t> report;
  Reply failure;
  if (!report_for_request(body, report, failure)) return failure;
  return Reply{200, json{{"report", hex(report)}}.dump()};
}

Reply Sidecar::attest_combined(std::string_view body) const {
  std::vector<uint8_t> report;
  Reply failure;
  if (!report_for_request(body, report, failure)) return failure;
  std::string report_bytes(report.begin(), report.end());
  return Reply{200, json{{"evidence", kbs::Base64Encode(report_bytes)},
                         {"endorsements", kbs::Base64Encode(config_.cert_chain_pem)},
                         {"uvm_endorsements", kbs::Base64Encode(config_.uvm_endorsement)},
                         {"endorsed_tcb", config_.endorsed_tcb}}
                        .dump()};
}

bool Sidecar::maa_token(const std::string& endpoint, const std::string& runtime, std::string& token, int& status,
                        std::string& error) const {
  std::vector<uint8_t> report;
  status = 403;
  if (!report_for(runtime, report, error)) {
    error = "fetching the attestation report failed: " + error;
    return false;
  }
  // MAA's body: URL-safe base64 with padding, as the reference sidecar sends it.
  auto b64p = [](std::string_view s) {
    std::string e = kbs::Base64UrlEncode(s);
    while (e.size() % 4) e += '=';
    return e;
  };
  json evidence = {{"SnpReport", b64p(std::string(report.begin(), report.end()))},
                   {"VcekCertChain", b64p(config_.cert_chain_pem)}};
  if (!config_.uvm_endorsement.empty())
    evidence["Endorsements"] = b64p(json{{"Uvm", json::array({b64p(config_.uvm_endorsement)})}}.dump());
  uint64_t nonce = 0;
  RAND_bytes(reinterpret_cast<unsigned char*>(&nonce), sizeof nonce);
  json body = {{"report", b64p(evidence.dump())},
               {"runtimeData", {{"data", b64p(runtime)}, {"dataType", "JSON"}}},
               {"nonce", nonce}};
  Target t = split(endpoint_url(endpoint));
  auto c = client_for(t);
  auto res = c->Post(t.prefix + "/attest/SevSnpVm?api-version=2020-10-01", body.dump(), "application/json");
  if (!res) {
    error = "attestation service " + t.scheme_host + " unreachable: " + httplib::to_string(res.error());
    status = 500;
    return false;
  }
  json reply = json::parse(res->body, nullptr, false);
  if (res->status != 200 || !reply.is_object() || !reply.contains("token") || !reply["token"].is_string()) {
    std::string why = reply.is_object() && reply.contains("error") && reply["error"].is_string()
                          ? reply["error"].get<std::string>()
                          : "HTTP " + std::to_string(res->status);
    error = "attestation refused: " + why;
    return false;
  }
  token = reply["token"].get<std::string>();
  status = 200;
  return true;
}

Reply Sidecar::attest_maa(std::string_view body) const {
  json req;
  Reply failure;
  std::string runtime, token, error;
  if (!parse_request(body, config_.max_request_bytes, {"maa_endpoint", "runtime_data"}, req, failure) ||
      !runtime_of(req, runtime, failure))
    return failure;
  int status = 0;
  if (!maa_token(req["maa_endpoint"].get<std::string>(), runtime, token, status, error)) return err(status, error);
  return Reply{200, json{{"token", token}}.dump()};
}

Reply Sidecar::key_release(std::string_view body) const {
  json req;
  Reply failure;
  if (!parse_request(body, config_.max_request_bytes, {"maa_endpoint", "akv_endpoint", "kid"}, req, failure))
    return failure;
  // A fresh RSA-2048 key per release: its public half is the runtime data the token carries,
  // and the key broker wraps the released key to it.
  auto key = kbs::PKey::GenerateRsa(2048);
  if (!key) return err(500, "key generation failed: " + key.error());
  auto kid = kbs::JwkThumbprint(*key);
  if (!kid) return err(500, kid.error());
  kbs::Jwk pub;
  pub.key = key->PublicOnly();
  pub.kid = *kid;
  pub.key_ops = {"encrypt"};
  auto pub_json = kbs::JwkToJson(pub);
  if (!pub_json) return err(500, pub_json.error());
  std::string runtime = json{{"keys", json::array({*pub_json})}}.dump();
  std::string token, error;
  int status = 0;
  if (!maa_token(req["maa_endpoint"].get<std::string>(), runtime, token, status, error)) return err(status, error);

  Target t = split(endpoint_url(req["akv_endpoint"].get<std::string>()));
  auto c = client_for(t);
  httplib::Headers h;
  if (req.contains("access_token") && req["access_token"].is_string() && !req["access_token"].get<std::string>().empty())
    h.emplace("Authorization", "Bearer " + req["access_token"].get<std::string>());
  std::string name = req["kid"].get<std::string>();
  for (char ch : name)
    if (!(std::isalnum(static_cast<unsigned char>(ch)) || ch == '-' || ch == '_' || ch == '/'))
      return err(400, "kid holds characters a key name cannot have");
  auto res = c->Post(t.prefix + "/keys/" + name + "/release?api-version=7.4", h, json{{"target", token}}.dump(),
                     "application/json");
  if (!res) return err(500, "key broker " + t.scheme_host + " unreachable: " + httplib::to_string(res.error()));
  if (res->status != 200) {
    json reply = json::parse(res->body, nullptr, false);
    std::string why = reply.is_object() && reply.contains("error") && reply["error"].is_string()
                          ? reply["error"].get<std::string>()
                          : res->body.substr(0, 200);
    return err(403, "key release refused (HTTP " + std::to_string(res->status) + "): " + why);
  }
  auto unwrapped = kbs::UnwrapReleaseResponse(res->body, *key, config_.kbs_signers ? &*config_.kbs_signers : nullptr);
  if (!unwrapped) return err(403, "key release response rejected: " + unwrapped.error());
  return Reply{200, json{{"key", unwrapped->jwk.dump()}}.dump()};
}

bool serve(const Sidecar& sidecar, const std::string& host, int port, const std::atomic<bool>& stop,
           std::function<void(int)> on_listening, std::string& error) {
  httplib::Server svr;
  svr.set_payload_max_length(1 << 20);
  auto route = [&](auto fn) {
    return [&sidecar, fn](const httplib::Request& req, httplib::Response& res) {
      Reply r = (sidecar.*fn)(req.body);
      res.status = r.status;
      res.set_content(r.body, "application/json");
    };
  };
  svr.Get("/status", [&](const httplib::Request&, httplib::Response& res) {
    Reply r = sidecar.status();
    res.status = r.status;
    res.set_content(r.body, "application/json");
  });
  svr.Post("/attest/raw", route(&Sidecar::attest_raw));
  svr.Post("/attest/combined", route(&Sidecar::attest_combined));
  svr.Post("/attest/maa", route(&Sidecar::attest_maa));
  svr.Post("/key/release", route(&Sidecar::key_release));
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

}  // namespace confidant::skr
