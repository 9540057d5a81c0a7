// The key broker service: admin key management and Secure Key Release over
// HTTP (cpp-httplib).
//
//   PUT|POST /keys/{name}/create        admin; {"kty", "key_size"|"crv", "exportable", "release_policy"}
//   PUT      /keys/{name}/policy        admin; a release policy (JSON)
//   GET      /keys/{name}[/{version}]   public key (JWK), attributes, release policy
//   POST     /keys/{name}[/{version}]/release   {"target": <attestation JWT>, "enc"?, "kid"?}
//   GET      /certs                     JWKS of the response-signing key
//   GET      /audit?limit=N             admin; recent audit entries
//
// Errors are {"error": "..."}: 400 malformed, 401 no/wrong admin token,
// 403 release refused, 404 unknown key, 413 body too large.
#pragma once

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "kbs/jwt.h"
#include "kbs/key_store.h"
#include "kbs/release_policy.h"
#include "kbs/result.h"

namespace confidant::kbs {

// A trusted attestation authority: its URL (keys fetched from <url>/certs, or
// the jwks_uri of <url>/.well-known/openid-configuration, and cached), or a
// JWKS file. "URL=FILE" binds a file to an authority; a bare FILE trusts its
// keys for tokens of any issuer, whose "iss" is then the authority.
struct TrustedAuthority {
  std::string url;  // normalised; empty for an unbound file
  std::string jwks_file;
};
Result<TrustedAuthority> ParseTrustedAuthority(std::string_view arg);

struct BrokerOptions {
  std::string db_path;
  std::string master_key_path;
  std::string admin_token;
  std::vector<TrustedAuthority> authorities;
  std::string public_base_url;  // prefix of key ids ("kid"); default http://<listen address>
  int64_t clock_skew_seconds = 60;
  int64_t jwks_cache_seconds = 300;
  size_t max_body_bytes = 64 * 1024;
  bool boolean_strings = false;  // see EvalOptions
};

struct HttpReply {
  int status = 200;
  std::string body;  // JSON
};

// The service logic without the transport (used by the HTTP server, the
// benchmarks and the tests).
class KeyBroker {
 public:
  static Result<std::unique_ptr<KeyBroker>> Create(const BrokerOptions& options);
  ~KeyBroker();

  bool IsAdmin(std::string_view authorization_header) const;
  HttpReply CreateKey(std::string_view name, std::string_view body);
  HttpReply SetPolicy(std::string_view name, std::string_view body);
  HttpReply GetKey(std::string_view name, std::string_view version);
  HttpReply Release(std::string_view name, std::string_view version, std::string_view body, std::string_view remote);
  HttpReply SigningKeys() const;
  HttpReply AuditLog(size_t limit);

  void set_public_base_url(std::string url) { options_.public_base_url = std::move(url); }
  KeyStore& store() { return *store_; }
  const Jwk& signing_key() const { return signer_; }

  // Verifies an attestation token against the trusted authorities; returns
  // the claims and the authority it was verified against.
  struct VerifiedToken {
    nlohmann::json claims;
    std::string authority;
  };
  Result<VerifiedToken> VerifyToken(std::string_view token);

 private:
  struct Impl;
  explicit KeyBroker(BrokerOptions options);
  BrokerOptions options_;
  std::unique_ptr<KeyStore> store_;
  Jwk signer_;
  std::unique_ptr<Impl> impl_;
};

// The HTTP front end. Start() binds and serves on a background thread.
class KbsServer {
 public:
  KbsServer(KeyBroker& broker, size_t max_body_bytes);
  ~KbsServer();
  // port 0 picks an ephemeral port; returns the bound port.
  Result<int> Start(const std::string& host, int port);
  void Stop();
  // Blocks until Stop() (from another thread or a signal handler thread).
  void Wait();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace confidant::kbs
