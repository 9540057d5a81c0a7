// `confidant kbs ...`: the key broker service and its offline tools.
#include <signal.h>

#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "kbs/encoding.h"
#include "kbs/jwt.h"
#include "kbs/release.h"
#include "kbs/release_policy.h"
#include "kbs/server.h"

namespace confidant::cli {

namespace {

using json = nlohmann::json;
using namespace confidant::kbs;

constexpr const char* kUsage =
    "usage: confidant kbs <subcommand> [flags]\n"
    "  serve --listen ADDR:PORT --db FILE --master-key FILE --admin-token-file FILE\n"
    "        --trust-authority URL|JWKS-FILE|URL=JWKS-FILE [--trust-authority ...]\n"
    "        [--public-url URL] [--clock-skew SECONDS] [--max-body BYTES] [--boolean-strings]\n"
    "      Serves key creation (admin), release policies and Secure Key Release over HTTP.\n"
    "      The master key file is created (mode 0600) when absent.\n"
    "  check-policy POLICY.json [--claims CLAIMS.json --authority URL] [--boolean-strings]\n"
    "      Parses a release policy; with --claims, evaluates it (exit 1 when refused).\n"
    "  sign-token --key PRIVATE.pem --claims CLAIMS.json [--kid KID] [--alg RS256|PS256|ES256|ES384]\n"
    "      Signs claims as a JWT (a stand-in attestation service for tests and demos).\n"
    "  unwrap --response FILE --runtime-key PRIVATE.pem [--signer-jwks FILE]\n"
    "      Verifies a release response and prints the released key as a JWK.\n"
    "  jwks --key KEY.pem [--kid KID] [--key-ops OP,OP]\n"
    "      Prints the public key as a JWK Set (an authority's /certs, or x-ms-runtime).\n";

bool ReadFile(const std::string& path, std::string& out, std::string& error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = "cannot read " + path;
    return false;
  }
  std::stringstream ss;
  ss << in.rdbuf();
  out = ss.str();
  if (out.size() > (16u << 20)) {
    error = path + " is too large";
    return false;
  }
  return true;
}

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ' || s.back() == '\t')) s.pop_back();
  size_t i = 0;
  while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
  return s.substr(i);
}

int Serve(const std::vector<std::string>& args) {
  BrokerOptions opt;
  std::string listen = "127.0.0.1:8080", token_file;
  ArgCursor a(args);
  while (a.next()) {
    std::string v;
    if (!a.is_flag()) {
      std::cerr << "confidant kbs serve: unexpected argument " << a.positional() << "\n" << kUsage;
      return 2;
    }
    const std::string& f = a.flag();
    if (f == "--boolean-strings") {
      opt.boolean_strings = true;
      continue;
    }
    if (!a.value(v)) {
      std::cerr << "confidant kbs serve: " << f << " needs a value\n";
      return 2;
    }
    if (f == "--listen") {
      listen = v;
    } else if (f == "--db") {
      opt.db_path = v;
    } else if (f == "--master-key") {
      opt.master_key_path = v;
    } else if (f == "--admin-token-file") {
      token_file = v;
    } else if (f == "--trust-authority") {
      auto t = ParseTrustedAuthority(v);
      if (!t) {
        std::cerr << "confidant kbs serve: " << t.error() << "\n";
        return 2;
      }
      opt.authorities.push_back(*t);
    } else if (f == "--public-url") {
      opt.public_base_url = v;
    } else if (f == "--clock-skew" || f == "--max-body") {
      char* end = nullptr;
      long long n = std::strtoll(v.c_str(), &end, 10);
      if (v.empty() || *end != '\0' || n < 0 || n > (1LL << 30)) {
        std::cerr << "confidant kbs serve: " << f << " takes a non-negative integer\n";
        return 2;
      }
      if (f == "--clock-skew")
        opt.clock_skew_seconds = n;
      else
        opt.max_body_bytes = static_cast<size_t>(n);
    } else {
      std::cerr << "confidant kbs serve: unknown flag " << f << "\n" << kUsage;
      return 2;
    }
  }
  if (opt.db_path.empty() || opt.master_key_path.empty() || token_file.empty() || opt.authorities.empty()) {
    std::cerr << "confidant kbs serve: --db, --master-key, --admin-token-file and --trust-authority are required\n"
              << kUsage;
    return 2;
  }
  size_t colon = listen.rfind(':');
  if (colon == std::string::npos) {
    std::cerr << "confidant kbs serve: --listen takes ADDR:PORT\n";
    return 2;
  }
  std::string host = listen.substr(0, colon);
  int port = std::atoi(listen.c_str() + colon + 1);
  if (port < 0 || port > 65535) {
    std::cerr << "confidant kbs serve: bad port in --listen\n";
    return 2;
  }
  std::string token, error;
  if (!ReadFile(token_file, token, error)) {
    std::cerr << "confidant kbs serve: " << error << "\n";
    return 1;
  }
  opt.admin_token = Trim(token);
  // Signals are taken by sigwait below, so block them before any thread starts.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  signal(SIGPIPE, SIG_IGN);
  auto broker = KeyBroker::Create(opt);
  if (!broker) {
    std::cerr << "confidant kbs serve: " << broker.error() << "\n";
    return 1;
  }
  KbsServer server(**broker, opt.max_body_bytes);
  auto bound = server.Start(host, port);
  if (!bound) {
    std::cerr << "confidant kbs serve: " << bound.error() << "\n";
    return 1;
  }
  if (opt.public_base_url.empty()) (*broker)->set_public_base_url("http://" + host + ":" + std::to_string(*bound));
  std::cout << "kbs listening on " << host << ":" << *bound << std::endl;
  int sig = 0;
  sigwait(&set, &sig);
  server.Stop();
  server.Wait();
  return 0;
}

int CheckPolicy(const std::vector<std::string>& args) {
  std::string policy_path, claims_path, authority;
  EvalOptions eopt;
  ArgCursor a(args);
  while (a.next()) {
    if (!a.is_flag()) {
      policy_path = a.positional();
      continue;
    }
    std::string v;
    if (a.flag() == "--boolean-strings") {
      eopt.boolean_strings = true;
    } else if (a.flag() == "--claims" && a.value(v)) {
      claims_path = v;
    } else if (a.flag() == "--authority" && a.value(v)) {
      authority = v;
    } else {
      std::cerr << "confidant kbs check-policy: bad flag " << a.flag() << "\n" << kUsage;
      return 2;
    }
  }
  if (policy_path.empty() || claims_path.empty() != authority.empty()) {
    std::cerr << kUsage;
    return 2;
  }
  std::string text, error;
  if (!ReadFile(policy_path, text, error)) {
    std::cerr << "confidant kbs check-policy: " << error << "\n";
    return 1;
  }
  auto policy = ParseReleasePolicy(text);
  if (!policy) {
    std::cerr << "confidant kbs check-policy: " << policy.error() << "\n";
    return 1;
  }
  if (claims_path.empty()) {
    std::cout << "policy ok: " << policy->authorities.size() << " authority rule(s)\n";
    return 0;
  }
  std::string claims_text;
  if (!ReadFile(claims_path, claims_text, error)) {
    std::cerr << "confidant kbs check-policy: " << error << "\n";
    return 1;
  }
  auto claims = ParseJson(claims_text);
  if (!claims) {
    std::cerr << "confidant kbs check-policy: claims: " << claims.error() << "\n";
    return 1;
  }
  PolicyDecision d = EvaluateReleasePolicy(*policy, *claims, authority, eopt);
  if (!d.allowed) {
    std::cerr << "refused: " << d.reason << "\n";
    return 1;
  }
  std::cout << "allowed: " << d.reason << "\n";
  return 0;
}

int SignToken(const std::vector<std::string>& args) {
  std::string key_path, claims_path, kid, alg_name;
  ArgCursor a(args);
  while (a.next()) {
    std::string v;
    if (!a.is_flag() || !a.value(v)) {
      std::cerr << kUsage;
      return 2;
    }
    if (a.flag() == "--key")
      key_path = v;
    else if (a.flag() == "--claims")
      claims_path = v;
    else if (a.flag() == "--kid")
      kid = v;
    else if (a.flag() == "--alg")
      alg_name = v;
    else {
      std::cerr << "confidant kbs sign-token: unknown flag " << a.flag() << "\n";
      return 2;
    }
  }
  if (key_path.empty() || claims_path.empty()) {
    std::cerr << kUsage;
    return 2;
  }
  std::string pem, claims_text, error;
  if (!ReadFile(key_path, pem, error) || !ReadFile(claims_path, claims_text, error)) {
    std::cerr << "confidant kbs sign-token: " << error << "\n";
    return 1;
  }
  auto key = PKey::FromPem(pem);
  if (!key || !key->has_private()) {
    std::cerr << "confidant kbs sign-token: " << (key ? "not a private key" : key.error()) << "\n";
    return 1;
  }
  auto claims = ParseJson(claims_text);
  if (!claims) {
    std::cerr << "confidant kbs sign-token: claims: " << claims.error() << "\n";
    return 1;
  }
  Jwk signer;
  signer.key = *key;
  signer.kid = kid;
  JwsAlg alg = DefaultAlgFor(*key);
  if (!alg_name.empty()) {
    auto parsed = ParseJwsAlg(alg_name);
    if (!parsed) {
      std::cerr << "confidant kbs sign-token: unsupported --alg " << alg_name << "\n";
      return 2;
    }
    alg = *parsed;
  }
  auto token = SignJwt(*claims, signer, alg);
  if (!token) {
    std::cerr << "confidant kbs sign-token: " << token.error() << "\n";
    return 1;
  }
  std::cout << *token << "\n";
  return 0;
}

int Unwrap(const std::vector<std::string>& args) {
  std::string response_path, key_path, jwks_path;
  ArgCursor a(args);
  while (a.next()) {
    std::string v;
    if (!a.is_flag() || !a.value(v)) {
      std::cerr << kUsage;
      return 2;
    }
    if (a.flag() == "--response")
      response_path = v;
    else if (a.flag() == "--runtime-key")
      key_path = v;
    else if (a.flag() == "--signer-jwks")
      jwks_path = v;
    else {
      std::cerr << "confidant kbs unwrap: unknown flag " << a.flag() << "\n";
      return 2;
    }
  }
  if (response_path.empty() || key_path.empty()) {
    std::cerr << kUsage;
    return 2;
  }
  std::string response, pem, error;
  if (!ReadFile(response_path, response, error) || !ReadFile(key_path, pem, error)) {
    std::cerr << "confidant kbs unwrap: " << error << "\n";
    return 1;
  }
  auto key = PKey::FromPem(pem);
  if (!key) {
    std::cerr << "confidant kbs unwrap: " << key.error() << "\n";
    return 1;
  }
  Jwks signers;
  if (!jwks_path.empty()) {
    std::string text;
    if (!ReadFile(jwks_path, text, error)) {
      std::cerr << "confidant kbs unwrap: " << error << "\n";
      return 1;
    }
    auto parsed = ParseJwks(text);
    if (!parsed) {
      std::cerr << "confidant kbs unwrap: " << parsed.error() << "\n";
      return 1;
    }
    signers = std::move(*parsed);
  }
  auto released = UnwrapReleaseResponse(Trim(response), *key, jwks_path.empty() ? nullptr : &signers);
  if (!released) {
    std::cerr << "confidant kbs unwrap: " << released.error() << "\n";
    return 1;
  }
  std::cout << DumpJson(released->jwk) << "\n";
  return 0;
}

int JwksCmd(const std::vector<std::string>& args) {
  std::string key_path, kid, ops;
  ArgCursor a(args);
  while (a.next()) {
    std::string v;
    if (!a.is_flag() || !a.value(v)) {
      std::cerr << kUsage;
      return 2;
    }
    if (a.flag() == "--key")
      key_path = v;
    else if (a.flag() == "--kid")
      kid = v;
    else if (a.flag() == "--key-ops")
      ops = v;
    else {
      std::cerr << "confidant kbs jwks: unknown flag " << a.flag() << "\n";
      return 2;
    }
  }
  std::string pem, error;
  if (key_path.empty()) {
    std::cerr << kUsage;
    return 2;
  }
  if (!ReadFile(key_path, pem, error)) {
    std::cerr << "confidant kbs jwks: " << error << "\n";
    return 1;
  }
  auto key = PKey::FromPem(pem);
  if (!key) {
    std::cerr << "confidant kbs jwks: " << key.error() << "\n";
    return 1;
  }
  Jwks set;
  Jwk jwk;
  jwk.key = key->PublicOnly();
  jwk.kid = kid;
  for (size_t start = 0; start < ops.size();) {
    size_t comma = ops.find(',', start);
    if (comma == std::string::npos) comma = ops.size();
    if (comma > start) jwk.key_ops.push_back(ops.substr(start, comma - start));
    start = comma + 1;
  }
  set.keys.push_back(jwk);
  auto text = SerializeJwks(set);
  if (!text) {
    std::cerr << "confidant kbs jwks: " << text.error() << "\n";
    return 1;
  }
  std::cout << *text << "\n";
  return 0;
}

int KbsCommand(const std::vector<std::string>& args) {
  if (args.empty() || args[0] == "--help" || args[0] == "-h") {
    (args.empty() ? std::cerr : std::cout) << kUsage;
    return args.empty() ? 2 : 0;
  }
  std::vector<std::string> rest(args.begin() + 1, args.end());
  if (args[0] == "serve") return Serve(rest);
  if (args[0] == "check-policy") return CheckPolicy(rest);
  if (args[0] == "sign-token") return SignToken(rest);
  if (args[0] == "unwrap") return Unwrap(rest);
  if (args[0] == "jwks") return JwksCmd(rest);
  std::cerr << "confidant kbs: unknown subcommand " << args[0] << "\n" << kUsage;
  return 2;
}

const CommandRegistration reg{"kbs", "key broker: serve Secure Key Release, check release policies, unwrap keys",
                              KbsCommand};

}  // namespace
}  // namespace confidant::cli
