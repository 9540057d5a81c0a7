// OCI distribution client (see registry.h). The only translation unit that includes
// cpp-httplib (built with OpenSSL support by Debian: see the pkg-config flags).
#include "image/registry.h"

#include <httplib.h>
#include <openssl/evp.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>

namespace confidant::image {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr size_t kMaxManifest = 4u << 20;
constexpr const char* kAcceptManifests =
    "application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, "
    "application/vnd.docker.distribution.manifest.list.v2+json, "
    "application/vnd.docker.distribution.manifest.v2+json";

std::string hex_sha256(std::string_view s) {
  unsigned char md[32];
  unsigned int len = 0;
  EVP_Digest(s.data(), s.size(), md, &len, EVP_sha256(), nullptr);
  static const char* d = "0123456789abcdef";
  std::string out;
  for (unsigned i = 0; i < len; ++i) {
    out += d[md[i] >> 4];
    out += d[md[i] & 15];
  }
  return out;
}

bool valid_digest(const std::string& d) {
  if (d.size() != 71 || !d.starts_with("sha256:")) return false;
  for (size_t i = 7; i < d.size(); ++i)
    if (!((d[i] >= '0' && d[i] <= '9') || (d[i] >= 'a' && d[i] <= 'f'))) return false;
  return true;
}

// Percent-encoding for query values (RFC 3986 unreserved characters pass).
std::string query_escape(std::string_view s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

struct Url {
  std::string scheme_host;  // "https://auth.example:443"
  std::string path;         // "/token?x=y"
};

bool split_url(const std::string& url, Url& out) {
  size_t scheme = url.find("://");
  if (scheme == std::string::npos) return false;
  size_t slash = url.find('/', scheme + 3);
  out.scheme_host = url.substr(0, slash);
  out.path = slash == std::string::npos ? "/" : url.substr(slash);
  return out.scheme_host.size() > scheme + 3;
}

// `Bearer realm="...",service="...",scope="..."` -> scheme + parameters.
void parse_challenge(const std::string& header, std::string& scheme, std::map<std::string, std::string>& params) {
  size_t sp = header.find(' ');
  scheme = header.substr(0, sp);
  for (auto& c : scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (sp == std::string::npos) return;
  size_t i = sp + 1;
  while (i < header.size()) {
    while (i < header.size() && (header[i] == ' ' || header[i] == ',')) ++i;
    size_t eq = header.find('=', i);
    if (eq == std::string::npos) break;
    std::string key = header.substr(i, eq - i);
    std::string value;
    i = eq + 1;
    if (i < header.size() && header[i] == '"') {
      size_t end = header.find('"', i + 1);
      if (end == std::string::npos) end = header.size();
      value = header.substr(i + 1, end - i - 1);
      i = end + 1;
    } else {
      size_t end = header.find(',', i);
      if (end == std::string::npos) end = header.size();
      value = header.substr(i, end - i);
      i = end;
    }
    params[key] = value;
  }
}

class Client {
 public:
  Client(const Reference& ref, const PullOptions& o) : ref_(ref), opt_(o) {
    std::string host = ref.registry == "docker.io" ? "registry-1.docker.io" : ref.registry;
    base_ = (o.plain_http ? "http://" : "https://") + host;
    http_ = make_client(base_);
  }

  // GET of a small document (manifests, configs), authenticating when challenged.
  bool get_small(const std::string& path, const std::string& accept, std::string& body, std::string& content_type,
                 std::string& error) {
    for (int attempt = 0; attempt < 2; ++attempt) {
      httplib::Headers h = headers(accept);
      bool too_big = false;
      body.clear();
      int status = 0;
      std::string challenge;
      auto res = http_->Get(
          path, h,
          [&](const httplib::Response& r) {
            status = r.status;
            content_type = r.get_header_value("Content-Type");
            challenge = r.get_header_value("WWW-Authenticate");
            return true;
          },
          [&](const char* data, size_t len) {
            if (body.size() + len > kMaxManifest) {
              too_big = true;
              return false;
            }
            body.append(data, len);
            return true;
          });
      if (too_big) {
        error = path + ": document larger than " + std::to_string(kMaxManifest) + " bytes";
        return false;
      }
      if (!res) {
        error = base_ + path + ": " + httplib::to_string(res.error());
        return false;
      }
      if (status == 401 && attempt == 0 && !challenge.empty()) {
        if (!authenticate(challenge, error)) return false;
        continue;
      }
      if (status != 200) {
        error = base_ + path + ": HTTP " + std::to_string(status) + (status == 401 ? " (authentication failed)" : "") +
                (status == 404 ? " (not found)" : "");
        return false;
      }
      return true;
    }
    error = base_ + path + ": authentication failed";
    return false;
  }

  // Streams a blob into `dest`, checking size limits; the caller verifies the digest.
  bool download(const std::string& path, const std::string& dest, const std::string& what, std::string& error) {
    for (int attempt = 0; attempt < 2; ++attempt) {
      std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(dest.c_str(), "wb"), std::fclose);
      if (!f) {
        error = dest + ": cannot create";
        return false;
      }
      int status = 0;
      uint64_t total = 0, done = 0;
      std::string challenge;
      bool failed = false;
      auto res = http_->Get(
          path, headers(""),
          [&](const httplib::Response& r) {
            status = r.status;
            challenge = r.get_header_value("WWW-Authenticate");
            if (r.has_header("Content-Length")) total = std::strtoull(r.get_header_value("Content-Length").c_str(), nullptr, 10);
            return status == 200 || status == 401;
          },
          [&](const char* data, size_t len) {
            if (status != 200) return true;  // a 401 body is discarded
            done += len;
            if (done > opt_.max_layer_size || std::fwrite(data, 1, len, f.get()) != len) {
              failed = true;
              return false;
            }
            if (opt_.progress) opt_.progress(what, done, total);
            return true;
          });
      if (failed) {
        error = what + ": write failed or larger than the layer size limit";
        return false;
      }
      if (status == 401 && attempt == 0 && !challenge.empty()) {
        if (!authenticate(challenge, error)) return false;
        continue;
      }
      if (!res && status == 0) {
        error = base_ + path + ": " + httplib::to_string(res.error());
        return false;
      }
      if (status != 200) {
        error = base_ + path + ": HTTP " + std::to_string(status);
        return false;
      }
      if (!res) {
        error = base_ + path + ": transfer interrupted (" + httplib::to_string(res.error()) + ")";
        return false;
      }
      return true;
    }
    error = base_ + path + ": authentication failed";
    return false;
  }

 private:
  std::unique_ptr<httplib::Client> make_client(const std::string& scheme_host) {
    auto c = std::make_unique<httplib::Client>(scheme_host);
    c->set_follow_location(true);
    c->set_connection_timeout(30);
    c->set_read_timeout(300);
    if (scheme_host.starts_with("https://")) {
      c->enable_server_certificate_verification(opt_.tls_verify);
      if (!opt_.ca_file.empty()) c->set_ca_cert_path(opt_.ca_file.c_str());
    }
    return c;
  }

  httplib::Headers headers(const std::string& accept) const {
    httplib::Headers h;
    if (!accept.empty()) h.emplace("Accept", accept);
    if (!auth_.empty()) h.emplace("Authorization", auth_);
    return h;
  }

  bool authenticate(const std::string& challenge, std::string& error) {
    std::string scheme;
    std::map<std::string, std::string> p;
    parse_challenge(challenge, scheme, p);
    if (scheme == "basic") {
      if (opt_.username.empty()) {
        error = ref_.registry + " asks for credentials (basic) and none were given";
        return false;
      }
      auth_ = httplib::make_basic_authentication_header(opt_.username, opt_.password).second;
      return true;
    }
    if (scheme != "bearer" || p["realm"].empty()) {
      error = ref_.registry + ": unsupported authentication challenge '" + challenge + "'";
      return false;
    }
    Url realm;
    if (!split_url(p["realm"], realm)) {
      error = ref_.registry + ": malformed token realm '" + p["realm"] + "'";
      return false;
    }
    std::string scope = p.count("scope") ? p["scope"] : "repository:" + ref_.repository + ":pull";
    std::string path = realm.path + (realm.path.find('?') == std::string::npos ? "?" : "&");
    if (p.count("service")) path += "service=" + query_escape(p["service"]) + "&";
    path += "scope=" + query_escape(scope);
    auto token_client = make_client(realm.scheme_host);
    httplib::Headers h;
    if (!opt_.username.empty())
      h.insert(httplib::make_basic_authentication_header(opt_.username, opt_.password));
    auto res = token_client->Get(path, h);
    if (!res || res->status != 200) {
      error = ref_.registry + ": token request to " + realm.scheme_host + " failed" +
              (res ? " (HTTP " + std::to_string(res->status) + ")" : " (" + httplib::to_string(res.error()) + ")");
      return false;
    }
    json doc = json::parse(res->body, nullptr, false);
    std::string token;
    if (doc.is_object()) {
      if (doc.contains("token") && doc["token"].is_string()) token = doc["token"].get<std::string>();
      if (token.empty() && doc.contains("access_token") && doc["access_token"].is_string())
        token = doc["access_token"].get<std::string>();
    }
    if (token.empty()) {
      error = ref_.registry + ": the token service answered without a token";
      return false;
    }
    auth_ = "Bearer " + token;
    return true;
  }

  Reference ref_;
  PullOptions opt_;
  std::string base_;
  std::string auth_;
  std::unique_ptr<httplib::Client> http_;
};

const char* kIndexTypes[] = {"application/vnd.oci.image.index.v1+json",
                             "application/vnd.docker.distribution.manifest.list.v2+json"};

bool is_index(const std::string& content_type, const json& doc) {
  for (const char* t : kIndexTypes) {
    if (content_type.find(t) != std::string::npos) return true;
    if (doc.contains("mediaType") && doc["mediaType"] == t) return true;
  }
  return doc.contains("manifests") && !doc.contains("layers");
}

// Fetches (or finds in the cache) a verified blob; returns its path.
bool cached_blob(Client& c, const Reference& ref, const PullOptions& o, const std::string& digest, std::string& path,
                 std::string& error) {
  if (!valid_digest(digest)) {
    error = "unsupported or malformed digest '" + digest + "'";
    return false;
  }
  fs::path dir = fs::path(o.cache_dir) / "blobs" / "sha256";
  std::error_code ec;
  fs::create_directories(dir, ec);
  fs::path final_path = dir / digest.substr(7);
  path = final_path.string();
  if (fs::exists(final_path)) {
    std::string h;
    if (sha256_file(path, h, error) && "sha256:" + h == digest) return true;
    fs::remove(final_path, ec);  // corrupt: fetch again
  }
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  fs::path tmp = dir / (digest.substr(7) + ".tmp." + std::to_string(getpid()) + "." + std::to_string(rng()));
  if (!c.download("/v2/" + ref.repository + "/blobs/" + digest, tmp.string(), digest, error)) {
    fs::remove(tmp, ec);
    return false;
  }
  std::string h;
  if (!sha256_file(tmp.string(), h, error)) return false;
  if ("sha256:" + h != digest) {
    fs::remove(tmp, ec);
    error = "blob " + digest + " from the registry does not match its digest (got sha256:" + h + ")";
    return false;
  }
  fs::rename(tmp, final_path, ec);  // atomic: a concurrent run may have renamed the same content first
  if (ec) {
    error = path + ": " + ec.message();
    return false;
  }
  return true;
}

}  // namespace

bool pull_image(std::string_view text, const PullOptions& o, Image& out, std::string& error) {
  out = Image{};
  out.source = std::string(text);
  Reference ref;
  if (!parse_reference(text, ref, error)) return false;
  if (o.cache_dir.empty()) {
    error = "no cache directory for pulled images";
    return false;
  }
  Client c(ref, o);
  std::string selector = ref.digest.empty() ? ref.tag : ref.digest;
  std::string body, type;
  auto fail = [&](const std::string& e) {
    error = std::string(text) + ": " + e;
    return false;
  };
  std::string e;
  if (!c.get_small("/v2/" + ref.repository + "/manifests/" + selector, kAcceptManifests, body, type, e)) return fail(e);
  if (!ref.digest.empty() && "sha256:" + hex_sha256(body) != ref.digest)
    return fail("the registry's manifest does not match the digest in the reference");
  json doc = json::parse(body, nullptr, false);
  if (!doc.is_object()) return fail("manifest is not a JSON object");
  std::string manifest_digest = "sha256:" + hex_sha256(body);
  for (int depth = 0; is_index(type, doc); ++depth) {
    if (depth > 3) return fail("image index nesting too deep");
    std::string chosen;
    if (doc.contains("manifests") && doc["manifests"].is_array())
      for (const auto& m : doc["manifests"]) {
        if (!m.is_object() || !m.contains("digest") || !m["digest"].is_string()) continue;
        const json* p = m.contains("platform") && m["platform"].is_object() ? &m["platform"] : nullptr;
        if (p && (p->value("os", "") != "linux" || p->value("architecture", "") != "amd64")) continue;
        chosen = m["digest"].get<std::string>();
        break;
      }
    if (chosen.empty()) return fail("no linux/amd64 image in the manifest list");
    if (!valid_digest(chosen)) return fail("malformed digest in the manifest list");
    if (!c.get_small("/v2/" + ref.repository + "/manifests/" + chosen, kAcceptManifests, body, type, e)) return fail(e);
    if ("sha256:" + hex_sha256(body) != chosen) return fail("manifest " + chosen + " does not match its digest");
    doc = json::parse(body, nullptr, false);
    if (!doc.is_object()) return fail("manifest is not a JSON object");
    manifest_digest = chosen;
  }
  out.manifest_digest = manifest_digest;
  if (!doc.contains("config") || !doc["config"].is_object() || !doc["config"].contains("digest") ||
      !doc["config"]["digest"].is_string())
    return fail("manifest has no config");
  out.config_digest = doc["config"]["digest"].get<std::string>();
  std::string config_path;
  if (!cached_blob(c, ref, o, out.config_digest, config_path, e)) return fail(e);
  std::ifstream cf(config_path, std::ios::binary);
  std::string config_text((std::istreambuf_iterator<char>(cf)), std::istreambuf_iterator<char>());
  std::vector<std::string> diff_ids;
  if (!parse_config(config_text, out.config, diff_ids, e)) return fail(e);
  if (!doc.contains("layers") || !doc["layers"].is_array() || doc["layers"].size() != diff_ids.size())
    return fail("manifest layers do not match the config's diff_ids");
  for (size_t i = 0; i < diff_ids.size(); ++i) {
    const json& d = doc["layers"][i];
    if (!d.is_object() || !d.contains("digest") || !d["digest"].is_string()) return fail("malformed layer descriptor");
    Layer l;
    l.digest = d["digest"].get<std::string>();
    l.media_type = d.value("mediaType", "");
    l.diff_id = diff_ids[i];
    if (!cached_blob(c, ref, o, l.digest, l.path, e)) return fail(e);
    out.layers.push_back(std::move(l));
  }
  return true;
}

}  // namespace confidant::image
