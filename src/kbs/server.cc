#include "kbs/server.h"

#include <httplib.h>

#include <chrono>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <thread>

#include "kbs/encoding.h"
#include "kbs/key_material.h"
#include "kbs/release.h"

namespace confidant::kbs {

namespace {

using json = nlohmann::json;

HttpReply ErrorReply(int status, std::string_view message) {
  return HttpReply{status, DumpJson(json{{"error", std::string(message)}})};
}

HttpReply JsonReply(const json& j) { return HttpReply{200, DumpJson(j)}; }

Result<std::string> ReadSmallFile(const std::string& path, size_t limit) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Err("cannot read " + path);
  std::string data;
  data.resize(limit + 1);
  in.read(data.data(), static_cast<std::streamsize>(data.size()));
  data.resize(static_cast<size_t>(in.gcount()));
  if (data.size() > limit) return Err(path + " is larger than " + std::to_string(limit) + " bytes");
  return data;
}

struct ParsedUrl {
  std::string scheme_host_port;
  std::string path;  // without trailing '/'
};

Result<ParsedUrl> SplitUrl(const std::string& url) {
  size_t scheme_end = url.find("://");
  if (scheme_end == std::string::npos) return Err("URL without scheme: " + url);
  std::string scheme = url.substr(0, scheme_end);
  if (scheme != "http" && scheme != "https") return Err("unsupported URL scheme: " + url);
  size_t path_start = url.find('/', scheme_end + 3);
  ParsedUrl p;
  p.scheme_host_port = url.substr(0, path_start);
  p.path = path_start == std::string::npos ? "" : url.substr(path_start);
  while (!p.path.empty() && p.path.back() == '/') p.path.pop_back();
  return p;
}

// GET with a size cap (the peer is not trusted to be small).
Result<std::string> HttpGet(const std::string& url, size_t limit) {
  auto parts = SplitUrl(url);
  if (!parts) return parts.take_error();
  httplib::Client cli(parts->scheme_host_port);
  cli.set_connection_timeout(5, 0);
  cli.set_read_timeout(5, 0);
  cli.set_follow_location(false);
  std::string body;
  bool too_big = false;
  auto res = cli.Get(parts->path.empty() ? "/" : parts->path.c_str(), [&](const char* data, size_t len) {
    if (body.size() + len > limit) {
      too_big = true;
      return false;
    }
    body.append(data, len);
    return true;
  });
  if (too_big) return Err("response from " + url + " exceeds " + std::to_string(limit) + " bytes");
  if (!res) return Err("GET " + url + " failed: " + httplib::to_string(res.error()));
  if (res->status != 200) return Err("GET " + url + " returned HTTP " + std::to_string(res->status));
  return body;
}

int64_t MonotonicSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// The release policy from a create/policy request: a JSON object, a JSON
// string holding the policy text, or the Key Vault import form
// {"contentType", "data": base64url(policy)}.
Result<std::string> PolicyTextFrom(const json& j) {
  if (j.is_string()) return j.get<std::string>();
  if (j.is_object() && j.contains("data") && !j.contains("version")) {
    const std::string* data = GetString(j, "data");
    if (data == nullptr) return Err("release_policy.data is not a string");
    auto decoded = Base64UrlDecode(*data);
    if (!decoded) return Err("release_policy.data: " + decoded.error());
    return decoded;
  }
  if (j.is_object()) return DumpJson(j);
  return Err("release_policy must be a JSON object");
}

}  // namespace

Result<TrustedAuthority> ParseTrustedAuthority(std::string_view arg) {
  TrustedAuthority t;
  std::string s(arg);
  bool is_url = s.rfind("http://", 0) == 0 || s.rfind("https://", 0) == 0;
  if (is_url) {
    size_t eq = s.find('=');
    if (eq != std::string::npos) {
      t.jwks_file = s.substr(eq + 1);
      s = s.substr(0, eq);
      if (t.jwks_file.empty()) return Err("empty JWKS file in --trust-authority " + std::string(arg));
    }
    t.url = NormalizeAuthority(s);
    return t;
  }
  if (s.empty()) return Err("empty --trust-authority");
  t.jwks_file = s;
  return t;
}

struct KeyBroker::Impl {
  struct CacheEntry {
    std::shared_ptr<const Jwks> keys;
    int64_t fetched = 0;  // monotonic seconds
    int64_t last_attempt = -1000000;
  };
  std::mutex mu;
  std::map<std::string, CacheEntry> cache;  // by authority URL or file path

  Result<std::shared_ptr<const Jwks>> Fetch(const TrustedAuthority& a) {
    if (!a.jwks_file.empty()) {
      auto text = ReadSmallFile(a.jwks_file, 256 * 1024);
      if (!text) return text.take_error();
      auto jwks = ParseJwks(*text);
      if (!jwks) return Err(a.jwks_file + ": " + jwks.error());
      return std::make_shared<const Jwks>(std::move(*jwks));
    }
    auto certs = HttpGet(a.url + "/certs", 256 * 1024);
    if (!certs) {
      // Fall back to OpenID discovery for authorities that publish elsewhere.
      auto conf = HttpGet(a.url + "/.well-known/openid-configuration", 64 * 1024);
      if (!conf) return Err(certs.error());
      auto cj = ParseJson(*conf, JsonLimits{64 * 1024, 8});
      const std::string* uri = cj ? GetString(*cj, "jwks_uri") : nullptr;
      if (uri == nullptr) return Err(certs.error() + "; and no jwks_uri in the OpenID configuration");
      // The JWKS must come from the authority itself (no redirection elsewhere).
      if (NormalizeAuthority(*uri).rfind(a.url + "/", 0) != 0) {
        return Err("jwks_uri " + *uri + " is not under the authority " + a.url);
      }
      certs = HttpGet(*uri, 256 * 1024);
      if (!certs) return certs.take_error();
    }
    auto jwks = ParseJwks(*certs);
    if (!jwks) return Err(a.url + "/certs: " + jwks.error());
    return std::make_shared<const Jwks>(std::move(*jwks));
  }

  // Cached keys; refresh forces a re-fetch (at most every 30 s per authority).
  Result<std::shared_ptr<const Jwks>> Keys(const TrustedAuthority& a, int64_t ttl, bool refresh) {
    std::string id = a.jwks_file.empty() ? a.url : "file:" + a.jwks_file;
    std::lock_guard<std::mutex> lock(mu);
    CacheEntry& e = cache[id];
    int64_t now = MonotonicSeconds();
    bool fresh = e.keys && now - e.fetched < ttl;
    if (fresh && !(refresh && now - e.last_attempt >= 30)) return e.keys;
    if (e.keys && refresh && now - e.last_attempt < 30) return e.keys;
    e.last_attempt = now;
    auto keys = Fetch(a);
    if (!keys) {
      if (e.keys) return e.keys;  // keep serving the last good set
      return keys.take_error();
    }
    e.keys = *keys;
    e.fetched = now;
    return e.keys;
  }
};

KeyBroker::KeyBroker(BrokerOptions options) : options_(std::move(options)), impl_(std::make_unique<Impl>()) {}
KeyBroker::~KeyBroker() = default;

Result<std::unique_ptr<KeyBroker>> KeyBroker::Create(const BrokerOptions& options) {
  if (options.admin_token.size() < 16) return Err("the admin token must be at least 16 characters");
  if (options.authorities.empty()) return Err("no trusted attestation authority configured");
  auto master = LoadOrCreateMasterKey(options.master_key_path);
  if (!master) return master.take_error();
  auto store = KeyStore::Open(options.db_path, std::move(*master));
  if (!store) return store.take_error();
  std::unique_ptr<KeyBroker> b(new KeyBroker(options));
  b->store_ = std::move(*store);
  // The response-signing key persists in the store so that clients pinning it
  // keep working across restarts.
  auto der = b->store_->GetSecret("response-signing-key");
  auto cert = b->store_->GetSecret("response-signing-cert");
  if (!der) return der.take_error();
  if (!cert) return cert.take_error();
  if (der->has_value() && cert->has_value()) {
    auto key = PKey::FromPkcs8Der(**der);
    if (!key) return Err("stored signing key: " + key.error());
    b->signer_.key = *key;
    b->signer_.x5c = {Base64Encode(**cert)};
  } else {
    auto key = PKey::GenerateRsa(2048);
    if (!key) return key.take_error();
    auto c = SelfSignedCertificateDer(*key, "Confidant KBS response signing", 3650);
    if (!c) return c.take_error();
    auto pk = key->Pkcs8Der();
    if (!pk) return pk.take_error();
    if (Status s = b->store_->PutSecret("response-signing-key", *pk); !s) return Err(s.error());
    if (Status s = b->store_->PutSecret("response-signing-cert", *c); !s) return Err(s.error());
    b->signer_.key = *key;
    b->signer_.x5c = {Base64Encode(*c)};
  }
  auto thumb = JwkThumbprint(b->signer_.key);
  if (!thumb) return thumb.take_error();
  b->signer_.kid = *thumb;
  return b;
}

bool KeyBroker::IsAdmin(std::string_view header) const {
  constexpr std::string_view kBearer = "Bearer ";
  if (header.size() <= kBearer.size() || header.substr(0, kBearer.size()) != kBearer) return false;
  return ConstantTimeEquals(header.substr(kBearer.size()), options_.admin_token);
}

HttpReply KeyBroker::CreateKey(std::string_view name, std::string_view body) {
  if (!ValidKeyName(name)) return ErrorReply(400, "invalid key name (1-127 characters of 0-9, a-z, A-Z, -)");
  auto req = ParseJson(body, JsonLimits{options_.max_body_bytes, 32});
  if (!req) return ErrorReply(400, "request body: " + req.error());
  auto spec = ParseKeySpec(*req);
  if (!spec) return ErrorReply(400, spec.error());
  std::optional<std::string> policy_text;
  if (const json* p = GetMember(*req, "release_policy")) {
    auto text = PolicyTextFrom(*p);
    if (!text) return ErrorReply(400, text.error());
    auto parsed = ParseReleasePolicy(*text);
    if (!parsed) return ErrorReply(400, "release_policy: " + parsed.error());
    policy_text = std::move(*text);
  }
  // Key Vault refuses exportable keys without a release policy; so do we
  // (unless an earlier version already set one).
  if (spec->exportable && !policy_text) {
    auto existing = store_->GetPolicy(name);
    if (!existing || !existing->has_value()) return ErrorReply(400, "an exportable key needs a release_policy");
  }
  auto material = GenerateKey(*spec);
  if (!material) return ErrorReply(500, material.error());
  auto rec = store_->CreateVersion(name, *material, policy_text);
  if (!rec) return ErrorReply(500, rec.error());
  (void)store_->Audit({0, 0, std::string(name), rec->version, "created", "", "", ""});
  return GetKey(name, rec->version);
}

HttpReply KeyBroker::SetPolicy(std::string_view name, std::string_view body) {
  if (!ValidKeyName(name)) return ErrorReply(400, "invalid key name");
  auto req = ParseJson(body, JsonLimits{options_.max_body_bytes, 64});
  if (!req) return ErrorReply(400, "request body: " + req.error());
  const json* p = GetMember(*req, "release_policy");
  auto text = PolicyTextFrom(p ? *p : *req);
  if (!text) return ErrorReply(400, text.error());
  auto parsed = ParseReleasePolicy(*text);
  if (!parsed) return ErrorReply(400, "release_policy: " + parsed.error());
  Status s = store_->SetPolicy(name, *text);
  if (!s) return ErrorReply(s.error().find("does not exist") != std::string::npos ? 404 : 500, s.error());
  (void)store_->Audit({0, 0, std::string(name), "", "policy-updated", "", "", ""});
  return GetKey(name, "");
}

HttpReply KeyBroker::GetKey(std::string_view name, std::string_view version) {
  if (!ValidKeyName(name)) return ErrorReply(400, "invalid key name");
  auto rec = store_->Get(name, version);
  if (!rec) {
    bool missing = rec.error().find("does not exist") != std::string::npos ||
                   rec.error().find("has no version") != std::string::npos;
    return ErrorReply(missing ? 404 : 500, rec.error());
  }
  auto jwk = PublicJwkFor(rec->material);
  if (!jwk) return ErrorReply(500, jwk.error());
  (*jwk)["kid"] = options_.public_base_url + "/keys/" + rec->name + "/" + rec->version;
  auto policy = store_->GetPolicy(name);
  if (!policy) return ErrorReply(500, policy.error());
  json out = {{"key", *jwk},
              {"attributes",
               {{"enabled", true},
                {"exportable", rec->material.spec.exportable},
                {"created", rec->created},
                {"version", rec->version},
                {"key_size", rec->material.spec.size_bits}}}};
  if (policy->has_value()) {
    auto pj = ParseJson(**policy, JsonLimits{1 << 20, 64});
    out["release_policy"] = pj ? *pj : json(**policy);
  }
  return JsonReply(out);
}

Result<KeyBroker::VerifiedToken> KeyBroker::VerifyToken(std::string_view token) {
  JwtVerifyOptions vopt;
  vopt.clock_skew_seconds = options_.clock_skew_seconds;
  auto peek = PeekJws(token, vopt.jws);
  if (!peek) return Err("attestation token: " + peek.error());
  auto claims = ParseJson(peek->payload, JsonLimits{vopt.jws.max_bytes, 32});
  if (!claims || !claims->is_object()) return Err("attestation token: claims are not a JSON object");
  const std::string* iss = GetString(*claims, "iss");
  if (iss == nullptr) return Err("attestation token has no \"iss\"");
  std::string issuer = NormalizeAuthority(*iss);
  std::string last_error;
  // Authorities bound to a URL must be the issuer; unbound JWKS files are tried after.
  for (int pass = 0; pass < 2; ++pass) {
    for (const TrustedAuthority& a : options_.authorities) {
      bool bound = !a.url.empty();
      if ((pass == 0) != bound) continue;
      if (bound && a.url != issuer) continue;
      for (int attempt = 0; attempt < 2; ++attempt) {
        auto keys = impl_->Keys(a, options_.jwks_cache_seconds, attempt == 1);
        if (!keys) {
          last_error = "keys of authority " + (bound ? a.url : a.jwks_file) + ": " + keys.error();
          break;
        }
        auto v = VerifyJwt(token, **keys, vopt);
        if (v) return VerifiedToken{std::move(v->claims), bound ? a.url : issuer};
        last_error = v.error();
        // A key rotation shows up as an unknown kid: refresh the set once.
        if (!bound || v.error().find("no trusted key with kid") == std::string::npos) break;
      }
      if (bound) return Err("attestation token: " + last_error);
    }
  }
  if (last_error.empty()) return Err("token issuer \"" + *iss + "\" is not a trusted authority");
  return Err("attestation token: " + last_error);
}

HttpReply KeyBroker::Release(std::string_view name, std::string_view version, std::string_view body,
                             std::string_view remote) {
  AuditEntry audit{0,
                   0,
                   std::string(name.substr(0, 127)),
                   std::string(version.substr(0, 64)),
                   "refused",
                   "",
                   "",
                   std::string(remote)};
  auto refuse = [&](int status, std::string reason) {
    audit.reason = reason;
    (void)store_->Audit(audit);
    return ErrorReply(status, reason);
  };
  if (!ValidKeyName(name)) return refuse(400, "invalid key name");
  auto req = ParseJson(body, JsonLimits{options_.max_body_bytes, 8});
  if (!req || !req->is_object()) return refuse(400, "request body is not a JSON object");
  const std::string* target = GetString(*req, "target");
  if (target == nullptr || target->empty()) return refuse(400, "request body has no \"target\" token");
  WrapAlg enc = WrapAlg::kRsaAesKeyWrap;
  if (const json* e = GetMember(*req, "enc")) {
    auto parsed = e->is_string() ? ParseWrapAlg(e->get<std::string>()) : std::nullopt;
    if (!parsed)
      return refuse(400, "unsupported \"enc\" (CKM_RSA_AES_KEY_WRAP, RSA_AES_KEY_WRAP_256, RSA_AES_KEY_WRAP_384)");
    enc = *parsed;
  }
  std::string runtime_kid;
  if (const json* k = GetMember(*req, "kid")) {
    if (!k->is_string()) return refuse(400, "\"kid\" is not a string");
    runtime_kid = k->get<std::string>();
  }
  auto rec = store_->Get(name, version);
  if (!rec) {
    bool missing = rec.error().find("does not exist") != std::string::npos ||
                   rec.error().find("has no version") != std::string::npos;
    return refuse(missing ? 404 : 500, rec.error());
  }
  audit.key_version = rec->version;
  if (!rec->material.spec.exportable) return refuse(403, "key is not exportable");
  auto policy_text = store_->GetPolicy(name);
  if (!policy_text) return refuse(500, policy_text.error());
  if (!policy_text->has_value()) return refuse(403, "key has no release policy");
  auto policy = ParseReleasePolicy(**policy_text);
  if (!policy) return refuse(500, "stored release policy: " + policy.error());
  auto token = VerifyToken(*target);
  if (!token) return refuse(403, token.error());
  audit.issuer = token->authority;
  EvalOptions eopt;
  eopt.boolean_strings = options_.boolean_strings;
  PolicyDecision decision = EvaluateReleasePolicy(*policy, token->claims, token->authority, eopt);
  if (!decision.allowed) return refuse(403, "release policy not satisfied: " + decision.reason);
  auto runtime = SelectRuntimeKey(token->claims, runtime_kid);
  if (!runtime) return refuse(403, runtime.error());
  ReleasedKey rk;
  rk.key_id = options_.public_base_url + "/keys/" + rec->name + "/" + rec->version;
  rk.material = rec->material;
  rk.created = rec->created;
  rk.release_policy_json = **policy_text;
  rk.enc = enc;
  auto jws = BuildReleaseJws(rk, *runtime, signer_);
  if (!jws) return refuse(500, jws.error());
  audit.outcome = "released";
  audit.reason = decision.reason;
  if (Status s = store_->Audit(audit); !s) {
    // Every release is audited; without the record there is no release.
    return ErrorReply(500, "audit log write failed: " + s.error());
  }
  return JsonReply(json{{"value", *jws}});
}

HttpReply KeyBroker::SigningKeys() const {
  Jwks set;
  Jwk pub = signer_;
  pub.key = signer_.key.PublicOnly();
  pub.use = "sig";
  set.keys.push_back(pub);
  auto text = SerializeJwks(set);
  if (!text) return ErrorReply(500, text.error());
  return HttpReply{200, *text};
}

HttpReply KeyBroker::AuditLog(size_t limit) {
  auto entries = store_->RecentAudit(std::min<size_t>(limit, 1000));
  if (!entries) return ErrorReply(500, entries.error());
  json arr = json::array();
  for (const auto& e : *entries) {
    arr.push_back(json{{"id", e.id},
                       {"time", e.time},
                       {"key", e.key_name},
                       {"version", e.key_version},
                       {"outcome", e.outcome},
                       {"reason", e.reason},
                       {"issuer", e.issuer},
                       {"remote", e.remote}});
  }
  return JsonReply(json{{"entries", arr}});
}

// --- HTTP front end ------------------------------------------------------------

struct KbsServer::Impl {
  KeyBroker& broker;
  size_t max_body;
  httplib::Server server;
  std::thread thread;
  std::mutex mu;
  bool running = false;

  Impl(KeyBroker& b, size_t m) : broker(b), max_body(m) {}

  static void Send(httplib::Response& res, const HttpReply& reply) {
    res.status = reply.status;
    res.set_content(reply.body, "application/json");
  }

  template <typename F>
  auto Guard(F f) {
    return [f](const httplib::Request& req, httplib::Response& res) {
      try {
        f(req, res);
      } catch (const std::exception& e) {
        Send(res, ErrorReply(500, std::string("internal error: ") + e.what()));
      } catch (...) {
        Send(res, ErrorReply(500, "internal error"));
      }
    };
  }

  bool RequireAdmin(const httplib::Request& req, httplib::Response& res) {
    if (broker.IsAdmin(req.get_header_value("Authorization"))) return true;
    res.set_header("WWW-Authenticate", "Bearer");
    Send(res, ErrorReply(401, "admin bearer token required"));
    return false;
  }

  void Routes() {
    server.set_payload_max_length(max_body);
    // Small request/response pairs on keep-alive connections: without
    // TCP_NODELAY, Nagle and delayed ACKs add ~40 ms per round trip.
    server.set_tcp_nodelay(true);
    server.set_read_timeout(10, 0);
    server.set_write_timeout(10, 0);
    server.set_keep_alive_max_count(1000);
    const char* kName = "([A-Za-z0-9-]{1,127})";
    const char* kVersion = "([0-9a-f]{32})";
    auto create = Guard([this](const httplib::Request& req, httplib::Response& res) {
      if (!RequireAdmin(req, res)) return;
      Send(res, broker.CreateKey(req.matches[1].str(), req.body));
    });
    server.Put(std::string("/keys/") + kName + "/create", create);
    server.Post(std::string("/keys/") + kName + "/create", create);
    server.Put(std::string("/keys/") + kName + "/policy",
               Guard([this](const httplib::Request& req, httplib::Response& res) {
                 if (!RequireAdmin(req, res)) return;
                 Send(res, broker.SetPolicy(req.matches[1].str(), req.body));
               }));
    server.Get(std::string("/keys/") + kName, Guard([this](const httplib::Request& req, httplib::Response& res) {
                 Send(res, broker.GetKey(req.matches[1].str(), ""));
               }));
    server.Get(std::string("/keys/") + kName + "/" + kVersion,
               Guard([this](const httplib::Request& req, httplib::Response& res) {
                 Send(res, broker.GetKey(req.matches[1].str(), req.matches[2].str()));
               }));
    server.Post(std::string("/keys/") + kName + "/release",
                Guard([this](const httplib::Request& req, httplib::Response& res) {
                  Send(res, broker.Release(req.matches[1].str(), "", req.body, req.remote_addr));
                }));
    server.Post(std::string("/keys/") + kName + "/" + kVersion + "/release",
                Guard([this](const httplib::Request& req, httplib::Response& res) {
                  Send(res, broker.Release(req.matches[1].str(), req.matches[2].str(), req.body, req.remote_addr));
                }));
    server.Get("/certs",
               Guard([this](const httplib::Request&, httplib::Response& res) { Send(res, broker.SigningKeys()); }));
    server.Get("/audit", Guard([this](const httplib::Request& req, httplib::Response& res) {
                 if (!RequireAdmin(req, res)) return;
                 size_t limit = 100;
                 std::string l = req.get_param_value("limit");
                 if (!l.empty() && l.size() < 6 && std::all_of(l.begin(), l.end(), ::isdigit)) limit = std::stoul(l);
                 Send(res, broker.AuditLog(limit));
               }));
    server.set_error_handler([](const httplib::Request&, httplib::Response& res) {
      if (res.body.empty()) {
        const char* msg = res.status == 404   ? "no such route"
                          : res.status == 413 ? "request body too large"
                                              : "request failed";
        res.set_content(DumpJson(json{{"error", msg}}), "application/json");
      }
    });
  }
};

KbsServer::KbsServer(KeyBroker& broker, size_t max_body_bytes) : impl_(std::make_unique<Impl>(broker, max_body_bytes)) {
  impl_->Routes();
}

KbsServer::~KbsServer() {
  Stop();
  if (impl_->thread.joinable()) impl_->thread.join();
}

Result<int> KbsServer::Start(const std::string& host, int port) {
  int bound = port == 0 ? impl_->server.bind_to_any_port(host) : (impl_->server.bind_to_port(host, port) ? port : -1);
  if (bound <= 0) return Err("cannot listen on " + host + ":" + std::to_string(port));
  impl_->running = true;
  impl_->thread = std::thread([this] { impl_->server.listen_after_bind(); });
  return bound;
}

void KbsServer::Stop() {
  if (impl_->running) {
    impl_->server.stop();
    impl_->running = false;
  }
}

void KbsServer::Wait() {
  if (impl_->thread.joinable()) impl_->thread.join();
}

}  // namespace confidant::kbs
