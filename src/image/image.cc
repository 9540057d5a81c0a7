// OCI image layouts, oci-archive and docker-archive tars (see image.h).
#include "image/image.h"

#include <archive.h>
#include <archive_entry.h>
#include <openssl/evp.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace confidant::image {

namespace fs = std::filesystem;
using nlohmann::json;

// A private directory removed with everything in it when the last Image using it goes.
struct ScratchDir {
  fs::path path;
  ~ScratchDir() {
    std::error_code ec;
    if (!path.empty()) fs::remove_all(path, ec);
  }
};

namespace {

constexpr size_t kMaxJsonDocument = 4u << 20;   // manifests, indexes and configs are small
constexpr size_t kMaxArchiveMembers = 200000;
constexpr int kMaxIndexDepth = 4;                // index -> index -> manifest, no deeper

const char* kMediaIndex = "application/vnd.oci.image.index.v1+json";
const char* kMediaDockerList = "application/vnd.docker.distribution.manifest.list.v2+json";

bool read_small_file(const fs::path& p, std::string& out, std::string& error) {
  std::error_code ec;
  auto size = fs::file_size(p, ec);
  if (ec) {
    error = p.string() + ": " + ec.message();
    return false;
  }
  if (size > kMaxJsonDocument) {
    error = p.string() + ": larger than " + std::to_string(kMaxJsonDocument) + " bytes";
    return false;
  }
  std::ifstream f(p, std::ios::binary);
  if (!f) {
    error = p.string() + ": cannot open";
    return false;
  }
  std::stringstream ss;
  ss << f.rdbuf();
  out = ss.str();
  return true;
}

bool parse_json_doc(std::string_view text, const std::string& what, json& out, std::string& error) {
  out = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (out.is_discarded() || !out.is_object()) {
    error = what + ": not a JSON object";
    return false;
  }
  return true;
}

std::string str_field(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

bool string_array(const json& j, const char* key, std::vector<std::string>& out, bool& present,
                  std::string& error) {
  present = false;
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return true;
  if (!it->is_array()) {
    error = std::string("config field ") + key + " is not an array";
    return false;
  }
  present = true;
  for (const auto& e : *it) {
    if (!e.is_string()) {
      error = std::string("config field ") + key + " holds a non-string";
      return false;
    }
    out.push_back(e.get<std::string>());
  }
  return true;
}

// "sha256:<64 hex>" only: the digest becomes a path component.
bool blob_path(const fs::path& layout, const std::string& digest, fs::path& out, std::string& error) {
  const std::string prefix = "sha256:";
  bool ok = digest.size() == prefix.size() + 64 && digest.compare(0, prefix.size(), prefix) == 0;
  for (size_t i = prefix.size(); ok && i < digest.size(); ++i)
    ok = (digest[i] >= '0' && digest[i] <= '9') || (digest[i] >= 'a' && digest[i] <= 'f');
  if (!ok) {
    error = "unsupported or malformed digest '" + digest + "'";
    return false;
  }
  out = layout / "blobs" / "sha256" / digest.substr(prefix.size());
  return true;
}

// Reads a blob and checks it against its digest.
bool read_verified_blob(const fs::path& layout, const std::string& digest, std::string& out, std::string& error) {
  fs::path p;
  if (!blob_path(layout, digest, p, error)) return false;
  if (!read_small_file(p, out, error)) return false;
  unsigned char md[32];
  unsigned int len = 0;
  EVP_Digest(out.data(), out.size(), md, &len, EVP_sha256(), nullptr);
  static const char* hex = "0123456789abcdef";
  std::string h;
  for (unsigned i = 0; i < len; ++i) {
    h += hex[md[i] >> 4];
    h += hex[md[i] & 15];
  }
  if ("sha256:" + h != digest) {
    error = "blob " + digest + " does not match its digest (content hashes to sha256:" + h + ")";
    return false;
  }
  return true;
}

bool verify_file_digest(const std::string& path, const std::string& digest, std::string& error) {
  std::string h;
  if (!sha256_file(path, h, error)) return false;
  if ("sha256:" + h != digest) {
    error = "layer blob " + digest + " does not match its digest (content hashes to sha256:" + h + ")";
    return false;
  }
  return true;
}

bool fill_from_config(std::string_view config_text, Image& out, std::vector<std::string>& diff_ids,
                      std::string& error) {
  return parse_config(config_text, out.config, diff_ids, error);
}

// Follows an index down to the linux/amd64 manifest.
bool pick_manifest(const fs::path& layout, const json& index, std::string_view name, int depth,
                   std::string& manifest_digest, std::string& error) {
  if (depth > kMaxIndexDepth) {
    error = "image index nesting deeper than " + std::to_string(kMaxIndexDepth);
    return false;
  }
  auto it = index.find("manifests");
  if (it == index.end() || !it->is_array() || it->empty()) {
    error = "image index has no manifests";
    return false;
  }
  std::vector<const json*> candidates;
  std::vector<std::string> names;
  for (const auto& m : *it) {
    if (!m.is_object()) continue;
    std::string ref;
    if (auto a = m.find("annotations"); a != m.end() && a->is_object())
      ref = str_field(*a, "org.opencontainers.image.ref.name");
    if (!ref.empty()) names.push_back(ref);
    if (!name.empty() && depth == 0) {
      // A name matches the full annotation or, as skopeo writes it, the tag part.
      if (ref == name || (ref.find(':') == std::string::npos && std::string(name).ends_with(":" + ref)))
        candidates.push_back(&m);
      continue;
    }
    if (auto p = m.find("platform"); p != m.end() && p->is_object()) {
      if (str_field(*p, "os") != "linux" || str_field(*p, "architecture") != "amd64") continue;
    }
    candidates.push_back(&m);
  }
  if (candidates.empty()) {
    if (!name.empty() && depth == 0) {
      std::string list;
      for (auto& n : names) list += (list.empty() ? "" : ", ") + n;
      error = "no image named '" + std::string(name) + "' (the layout holds: " + (list.empty() ? "unnamed images" : list) +
              ")";
    } else {
      error = "no linux/amd64 image in the index";
    }
    return false;
  }
  if (candidates.size() > 1 && depth == 0 && name.empty()) {
    std::string list;
    for (auto& n : names) list += (list.empty() ? "" : ", ") + n;
    error = "the layout holds several images; name one (" + list + ")";
    return false;
  }
  const json& chosen = *candidates.front();
  std::string digest = str_field(chosen, "digest");
  std::string media = str_field(chosen, "mediaType");
  if (media == kMediaIndex || media == kMediaDockerList) {
    std::string text;
    if (!read_verified_blob(layout, digest, text, error)) return false;
    json sub;
    if (!parse_json_doc(text, "image index " + digest, sub, error)) return false;
    return pick_manifest(layout, sub, "", depth + 1, manifest_digest, error);
  }
  manifest_digest = digest;
  return true;
}

bool open_layout(const fs::path& layout, std::string_view name, Image& out, std::string& error) {
  std::string text;
  if (!read_small_file(layout / "index.json", text, error)) return false;
  json index;
  if (!parse_json_doc(text, "index.json", index, error)) return false;
  std::string manifest_digest;
  if (!pick_manifest(layout, index, name, 0, manifest_digest, error)) return false;
  std::string manifest_text;
  if (!read_verified_blob(layout, manifest_digest, manifest_text, error)) return false;
  json manifest;
  if (!parse_json_doc(manifest_text, "manifest " + manifest_digest, manifest, error)) return false;
  std::string media = str_field(manifest, "mediaType");
  if (media == kMediaIndex || media == kMediaDockerList) {  // an index without mediaType in its descriptor
    if (!pick_manifest(layout, manifest, "", 1, manifest_digest, error)) return false;
    if (!read_verified_blob(layout, manifest_digest, manifest_text, error)) return false;
    if (!parse_json_doc(manifest_text, "manifest " + manifest_digest, manifest, error)) return false;
  }
  out.manifest_digest = manifest_digest;
  auto cfg = manifest.find("config");
  if (cfg == manifest.end() || !cfg->is_object()) {
    error = "manifest " + manifest_digest + " has no config";
    return false;
  }
  out.config_digest = str_field(*cfg, "digest");
  std::string config_text;
  if (!read_verified_blob(layout, out.config_digest, config_text, error)) return false;
  std::vector<std::string> diff_ids;
  if (!fill_from_config(config_text, out, diff_ids, error)) return false;
  auto layers = manifest.find("layers");
  if (layers == manifest.end() || !layers->is_array()) {
    error = "manifest " + manifest_digest + " has no layers";
    return false;
  }
  if (layers->size() != diff_ids.size()) {
    error = "manifest lists " + std::to_string(layers->size()) + " layers but the config has " +
            std::to_string(diff_ids.size()) + " diff_ids";
    return false;
  }
  for (size_t i = 0; i < layers->size(); ++i) {
    const json& d = (*layers)[i];
    Layer l;
    l.digest = str_field(d, "digest");
    l.media_type = str_field(d, "mediaType");
    l.diff_id = diff_ids[i];
    fs::path p;
    if (!blob_path(layout, l.digest, p, error)) return false;
    l.path = p.string();
    if (!fs::exists(p)) {
      error = "layer blob " + l.digest + " is missing from the layout";
      return false;
    }
    if (!verify_file_digest(l.path, l.digest, error)) return false;
    out.layers.push_back(std::move(l));
  }
  return true;
}

// Unpacks the regular files of a tar into `dir`, refusing members whose names would escape it.
bool unpack_tar(const std::string& tar, const fs::path& dir, std::string& error) {
  struct archive* a = archive_read_new();
  archive_read_support_format_tar(a);
  archive_read_support_filter_all(a);
  std::unique_ptr<struct archive, int (*)(struct archive*)> guard(a, archive_read_free);
  if (archive_read_open_filename(a, tar.c_str(), 1 << 16) != ARCHIVE_OK) {
    error = tar + ": " + archive_error_string(a);
    return false;
  }
  struct archive_entry* e;
  size_t members = 0;
  for (;;) {
    int r = archive_read_next_header(a, &e);
    if (r == ARCHIVE_EOF) break;
    if (r != ARCHIVE_OK) {
      error = tar + ": not a readable tar archive (" + std::string(archive_error_string(a)) + ")";
      return false;
    }
    if (++members > kMaxArchiveMembers) {
      error = tar + ": more than " + std::to_string(kMaxArchiveMembers) + " members";
      return false;
    }
    if (archive_entry_filetype(e) != AE_IFREG) continue;
    const char* raw = archive_entry_pathname(e);
    fs::path rel = fs::path(raw ? raw : "").lexically_normal();
    if (rel.empty() || rel.is_absolute() || *rel.begin() == "..") {
      error = tar + ": member '" + std::string(raw ? raw : "") + "' escapes the archive";
      return false;
    }
    fs::path target = dir / rel;
    std::error_code ec;
    fs::create_directories(target.parent_path(), ec);
    std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(target.c_str(), "wb"), std::fclose);
    if (!f) {
      error = target.string() + ": cannot create";
      return false;
    }
    const void* buf;
    size_t size;
    la_int64_t off;
    while ((r = archive_read_data_block(a, &buf, &size, &off)) == ARCHIVE_OK) {
      if (std::fseek(f.get(), static_cast<long>(off), SEEK_SET) != 0 || std::fwrite(buf, 1, size, f.get()) != size) {
        error = target.string() + ": write failed";
        return false;
      }
    }
    if (r != ARCHIVE_EOF) {
      error = tar + ": member '" + rel.string() + "' is truncated or corrupt (" + archive_error_string(a) + ")";
      return false;
    }
  }
  return true;
}

bool open_docker_archive(const fs::path& root, std::string_view name, Image& out, std::string& error) {
  std::string text;
  if (!read_small_file(root / "manifest.json", text, error)) return false;
  json manifest = json::parse(text, nullptr, false);
  if (manifest.is_discarded() || !manifest.is_array() || manifest.empty()) {
    error = "docker-archive manifest.json is not a non-empty JSON array";
    return false;
  }
  const json* chosen = nullptr;
  std::vector<std::string> tags;
  for (const auto& m : manifest) {
    if (!m.is_object()) continue;
    bool match = name.empty();
    if (auto t = m.find("RepoTags"); t != m.end() && t->is_array())
      for (const auto& tag : *t)
        if (tag.is_string()) {
          tags.push_back(tag.get<std::string>());
          if (tag.get<std::string>() == name) match = true;
        }
    if (match) {
      if (chosen && name.empty()) {
        std::string list;
        for (auto& n : tags) list += (list.empty() ? "" : ", ") + n;
        error = "the archive holds several images; name one (" + list + ")";
        return false;
      }
      if (!chosen) chosen = &m;
    }
  }
  if (!chosen) {
    std::string list;
    for (auto& n : tags) list += (list.empty() ? "" : ", ") + n;
    error = "no image tagged '" + std::string(name) + "' in the archive (it holds: " + list + ")";
    return false;
  }
  auto rel = [&](const std::string& p, fs::path& outp) {
    fs::path r = fs::path(p).lexically_normal();
    if (p.empty() || r.is_absolute() || *r.begin() == "..") {
      error = "docker-archive names an invalid path '" + p + "'";
      return false;
    }
    outp = root / r;
    return true;
  };
  fs::path config_path;
  if (!rel(str_field(*chosen, "Config"), config_path)) return false;
  std::string config_text;
  if (!read_small_file(config_path, config_text, error)) return false;
  std::vector<std::string> diff_ids;
  if (!fill_from_config(config_text, out, diff_ids, error)) return false;
  auto layers = chosen->find("Layers");
  if (layers == chosen->end() || !layers->is_array() || layers->size() != diff_ids.size()) {
    error = "docker-archive Layers do not match the config's diff_ids";
    return false;
  }
  for (size_t i = 0; i < layers->size(); ++i) {
    if (!(*layers)[i].is_string()) {
      error = "docker-archive Layers holds a non-string";
      return false;
    }
    fs::path p;
    if (!rel((*layers)[i].get<std::string>(), p)) return false;
    Layer l;
    l.path = p.string();
    l.diff_id = diff_ids[i];
    l.media_type = "application/vnd.docker.image.rootfs.diff.tar";
    std::string h;
    if (!sha256_file(l.path, h, error)) return false;
    l.digest = "sha256:" + h;
    // docker save stores uncompressed layers: their digest is the diff_id.
    if (l.digest != l.diff_id) {
      error = "layer " + (*layers)[i].get<std::string>() + " does not match diff_id " + l.diff_id;
      return false;
    }
    out.layers.push_back(std::move(l));
  }
  std::string h;
  if (!sha256_file(config_path.string(), h, error)) return false;
  out.config_digest = "sha256:" + h;
  return true;
}

}  // namespace

std::string Reference::str() const {
  std::string s = registry + "/" + repository;
  if (!tag.empty()) s += ":" + tag;
  if (!digest.empty()) s += "@" + digest;
  return s;
}

bool parse_reference(std::string_view text, Reference& out, std::string& error) {
  out = Reference{};
  if (text.empty() || text.size() > 4096) {
    error = "empty or overlong image reference";
    return false;
  }
  std::string s(text);
  if (auto at = s.find('@'); at != std::string::npos) {
    out.digest = s.substr(at + 1);
    s.resize(at);
    if (!out.digest.starts_with("sha256:") || out.digest.size() != 71) {
      error = "image reference '" + std::string(text) + "': malformed digest";
      return false;
    }
  }
  size_t slash = s.find('/');
  std::string first = slash == std::string::npos ? "" : s.substr(0, slash);
  if (!first.empty() && (first.find('.') != std::string::npos || first.find(':') != std::string::npos ||
                         first == "localhost")) {
    out.registry = first;
    s = s.substr(slash + 1);
  } else {
    out.registry = "docker.io";
  }
  size_t colon = s.rfind(':');
  if (colon != std::string::npos && s.find('/', colon) == std::string::npos) {
    out.tag = s.substr(colon + 1);
    s.resize(colon);
  }
  if (s.empty()) {
    error = "image reference '" + std::string(text) + "' has no repository";
    return false;
  }
  for (char c : s)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-' || c == '/')) {
      error = "image reference '" + std::string(text) + "': invalid repository name";
      return false;
    }
  if (out.registry == "docker.io" && s.find('/') == std::string::npos) s = "library/" + s;
  out.repository = s;
  if (out.tag.empty() && out.digest.empty()) out.tag = "latest";
  return true;
}

bool parse_config(std::string_view text, Config& out, std::vector<std::string>& diff_ids, std::string& error) {
  json doc;
  if (!parse_json_doc(text, "image config", doc, error)) return false;
  out = Config{};
  diff_ids.clear();
  auto c = doc.find("config");
  if (c != doc.end() && c->is_object()) {
    bool present = false;
    if (!string_array(*c, "Entrypoint", out.entrypoint, out.has_entrypoint, error)) return false;
    if (!string_array(*c, "Cmd", out.cmd, out.has_cmd, error)) return false;
    if (!string_array(*c, "Env", out.env, present, error)) return false;
    out.working_dir = str_field(*c, "WorkingDir");
    out.user = str_field(*c, "User");
  }
  auto rootfs = doc.find("rootfs");
  if (rootfs == doc.end() || !rootfs->is_object()) {
    error = "image config has no rootfs";
    return false;
  }
  bool present = false;
  if (!string_array(*rootfs, "diff_ids", diff_ids, present, error)) return false;
  return true;
}

bool sha256_file(const std::string& path, std::string& hex, std::string& error) {
  std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(path.c_str(), "rb"), std::fclose);
  if (!f) {
    error = path + ": cannot open";
    return false;
  }
  std::unique_ptr<EVP_MD_CTX, void (*)(EVP_MD_CTX*)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr);
  std::vector<char> buf(1 << 20);
  size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), f.get())) > 0) EVP_DigestUpdate(ctx.get(), buf.data(), n);
  if (std::ferror(f.get())) {
    error = path + ": read error";
    return false;
  }
  unsigned char md[32];
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx.get(), md, &len);
  static const char* digits = "0123456789abcdef";
  hex.clear();
  for (unsigned i = 0; i < len; ++i) {
    hex += digits[md[i] >> 4];
    hex += digits[md[i] & 15];
  }
  return true;
}

bool open_image(const std::string& location, std::string_view name, Image& out, std::string& error) {
  out = Image{};
  out.source = location;
  std::error_code ec;
  auto fail = [&](const std::string& what) {
    error = location + ": " + what;
    return false;
  };
  if (fs::is_directory(location, ec)) {
    if (!fs::exists(fs::path(location) / "oci-layout")) return fail("not an OCI image layout (no oci-layout file)");
    std::string e;
    if (!open_layout(location, name, out, e)) return fail(e);
    return true;
  }
  if (!fs::is_regular_file(location, ec)) return fail("no such image file or directory");
  auto scratch = std::make_shared<ScratchDir>();
  const char* tmp = std::getenv("TMPDIR");
  std::string tmpl = std::string(tmp && *tmp ? tmp : "/tmp") + "/confidant-image-XXXXXX";
  if (!mkdtemp(tmpl.data())) return fail("cannot create a scratch directory");
  scratch->path = tmpl;
  std::string e;
  if (!unpack_tar(location, scratch->path, e)) {
    error = e;
    return false;
  }
  out.scratch = scratch;
  if (fs::exists(scratch->path / "oci-layout")) {
    if (!open_layout(scratch->path, name, out, e)) return fail(e);
    return true;
  }
  if (fs::exists(scratch->path / "manifest.json")) {
    if (!open_docker_archive(scratch->path, name, out, e)) return fail(e);
    return true;
  }
  return fail("neither an oci-archive (no oci-layout) nor a docker-archive (no manifest.json)");
}

}  // namespace confidant::image
