// Confidant's guest agent: the ttrpc service confidant.agent.v1.Agent that
// an untrusted host drives to run a container group, with every request
// first decided by the ACI policy Enforcer.
//
//   agent::AgentOptions o;
//   o.state_dir = "/run/confidant";
//   o.tee = std::make_shared<policy::FixedTee>(host_data);
//   agent::Agent agent(std::move(o));
//   ttrpc::Server server(agent.router());
//   server.listen(address, error); server.serve();
//
// Each request: validate → build the enforcement-point input from what the
// agent itself computed (layer root hashes, the OCI spec's fields) → enforce
// → on denial answer PermissionDenied with the policy's reasons (nothing
// changed) → do the work (mount, runc) → if the work fails, roll the policy
// state back. Guest paths in requests are logical (/run/mounts/scsi/m1,
// /run/gcs/c/<id>/rootfs) and are mapped below state_dir/guest.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "agent/layer.h"
#include "agent/proto/agent.pb.h"
#include "agent/ttrpc.h"
#include "policy/policy.h"

namespace confidant::agent {

inline constexpr const char* kServiceName = "confidant.agent.v1.Agent";

// Verifies a COSE_Sign1 fragment envelope and extracts what the policy
// decides on (issuer, feed, text, header svn, receipts).
using FragmentVerifier = std::function<bool(const std::string& cose, policy::FragmentRequest& out, std::string& error)>;

// The default: COSE_Sign1 signature with the x5chain leaf, the chain at the fragment's signing
// time, the issuer did:x509 resolved against the chain (policy/signed_fragment.h).
bool verify_fragment_envelope(const std::string& cose, policy::FragmentRequest& out, std::string& error);

struct AgentOptions {
  std::string state_dir;             // created if missing; the agent owns it
  std::shared_ptr<policy::Tee> tee;  // HOST_DATA source; null refuses every policy
  LayerVerifier verify_layer = verify_layer_image;
  FragmentVerifier verify_fragment = verify_fragment_envelope;  // null: LoadFragment is refused
  std::string runc = "/usr/sbin/runc";
  // One line per request and outcome (stderr when null).
  std::function<void(const std::string&)> log;
};

class Agent {
 public:
  explicit Agent(AgentOptions options);
  // Kills remaining containers and unmounts everything it mounted.
  ~Agent();
  Agent(const Agent&) = delete;
  Agent& operator=(const Agent&) = delete;

  // The service's methods, for a ttrpc::Server.
  std::shared_ptr<ttrpc::Router> router();

  // Same cleanup as the destructor; idempotent.
  void shutdown();

  // For tests and properties: the enforcer's state document.
  rego::Value policy_state() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

// Unpacks a PolicyDenial from a status's details, if there is one.
bool denial_from_status(const ttrpc::Status& st, v1::PolicyDenial& out);

// A typed client for the service (the host side).
class AgentClient {
 public:
  bool connect(const std::string& address, std::string& error);
  ttrpc::Client& raw() { return client_; }

  // Calls `method` with `request`, parsing the response into `response`.
  ttrpc::Status call(const std::string& method, const google::protobuf::Message& request,
                     google::protobuf::Message* response = nullptr);

 private:
  ttrpc::Client client_;
};

// "method" → a default instance of its request message (for `host raw`).
std::unique_ptr<google::protobuf::Message> new_request(const std::string& method);
std::unique_ptr<google::protobuf::Message> new_response(const std::string& method);

}  // namespace confidant::agent
