// Test images built in the test: tars (libarchive), OCI layouts with config and manifest.
#pragma once

#include <archive.h>
#include <archive_entry.h>
#include <openssl/evp.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

namespace confidant::testing {

namespace fs = std::filesystem;
using nlohmann::json;

inline std::string sha256_hex(std::string_view s) {
  unsigned char md[32];
  unsigned int len = 0;
  EVP_Digest(s.data(), s.size(), md, &len, EVP_sha256(), nullptr);
  std::string out;
  static const char* hex = "0123456789abcdef";
  for (unsigned i = 0; i < len; ++i) {
    out += hex[md[i] >> 4];
    out += hex[md[i] & 15];
  }
  return out;
}

inline std::string slurp(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

inline void spit(const fs::path& p, std::string_view data) {
  fs::create_directories(p.parent_path());
  std::ofstream f(p, std::ios::binary);
  f.write(data.data(), static_cast<std::streamsize>(data.size()));
}

struct Entry {
  std::string path;
  std::string content;
  bool dir = false;
};

// A tar (optionally gzip-compressed) built with libarchive.
inline std::string make_tar(const std::vector<Entry>& entries, bool gzip) {
  std::vector<char> buf(1 << 20);
  size_t used = 0;
  struct archive* a = archive_write_new();
  archive_write_set_format_pax_restricted(a);
  if (gzip) archive_write_add_filter_gzip(a);
  archive_write_open_memory(a, buf.data(), buf.size(), &used);
  for (const auto& e : entries) {
    struct archive_entry* en = archive_entry_new();
    archive_entry_set_pathname(en, e.path.c_str());
    archive_entry_set_filetype(en, e.dir ? AE_IFDIR : AE_IFREG);
    archive_entry_set_perm(en, e.dir ? 0755 : 0644);
    archive_entry_set_size(en, e.dir ? 0 : static_cast<la_int64_t>(e.content.size()));
    archive_entry_set_mtime(en, 1700000000, 0);
    archive_write_header(a, en);
    if (!e.dir) archive_write_data(a, e.content.data(), e.content.size());
    archive_entry_free(en);
  }
  archive_write_close(a);
  archive_write_free(a);
  return std::string(buf.data(), used);
}

class TempDir {
 public:
  TempDir() {
    std::string t = (fs::temp_directory_path() / "confidant-gen-test-XXXXXX").string();
    path_ = mkdtemp(t.data());
  }
  ~TempDir() { fs::remove_all(path_); }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

struct TestImage {
  fs::path layout;
  std::vector<std::string> layer_blobs;  // blob paths, base first
  std::string config_digest;
};

// An OCI layout with two layers (the base gzip-compressed, the top plain) and a config.
inline TestImage make_layout(const fs::path& dir, const std::string& ref_name = "app:1") {
  TestImage img;
  img.layout = dir;
  spit(dir / "oci-layout", R"({"imageLayoutVersion":"1.0.0"})");
  std::string base_uncompressed =
      make_tar({{"bin", "", true}, {"bin/app", "#!/bin/sh\necho app\n"}, {"etc", "", true}, {"etc/passwd", "root:x:0:0::/root:/bin/sh\n"}}, false);
  std::string base = make_tar({{"bin", "", true}, {"bin/app", "#!/bin/sh\necho app\n"}, {"etc", "", true},
                               {"etc/passwd", "root:x:0:0::/root:/bin/sh\n"}},
                              true);
  std::string top = make_tar({{"srv", "", true}, {"srv/data.txt", "hello"}}, false);
  json manifest = {{"schemaVersion", 2},
                   {"mediaType", "application/vnd.oci.image.manifest.v1+json"},
                   {"layers", json::array()}};
  std::vector<std::pair<std::string, std::string>> layers = {{base, "application/vnd.oci.image.layer.v1.tar+gzip"},
                                                             {top, "application/vnd.oci.image.layer.v1.tar"}};
  json diff_ids = json::array({"sha256:" + sha256_hex(base_uncompressed), "sha256:" + sha256_hex(top)});
  for (auto& [blob, media] : layers) {
    std::string d = sha256_hex(blob);
    spit(dir / "blobs/sha256" / d, blob);
    img.layer_blobs.push_back((dir / "blobs/sha256" / d).string());
    manifest["layers"].push_back({{"mediaType", media}, {"digest", "sha256:" + d}, {"size", blob.size()}});
  }
  json config = {{"architecture", "amd64"},
                 {"os", "linux"},
                 {"config",
                  {{"Entrypoint", {"/bin/app"}},
                   {"Cmd", {"--serve"}},
                   {"Env", {"PATH=/usr/bin:/bin", "MODE=prod"}},
                   {"WorkingDir", "/srv"}}},
                 {"rootfs", {{"type", "layers"}, {"diff_ids", diff_ids}}}};
  std::string config_text = config.dump();
  std::string cd = sha256_hex(config_text);
  spit(dir / "blobs/sha256" / cd, config_text);
  img.config_digest = "sha256:" + cd;
  manifest["config"] = {{"mediaType", "application/vnd.oci.image.config.v1+json"},
                        {"digest", "sha256:" + cd},
                        {"size", config_text.size()}};
  std::string manifest_text = manifest.dump();
  std::string md = sha256_hex(manifest_text);
  spit(dir / "blobs/sha256" / md, manifest_text);
  json index = {{"schemaVersion", 2},
                {"manifests",
                 {{{"mediaType", "application/vnd.oci.image.manifest.v1+json"},
                   {"digest", "sha256:" + md},
                   {"size", manifest_text.size()},
                   {"annotations", {{"org.opencontainers.image.ref.name", ref_name}}}}}}};
  spit(dir / "index.json", index.dump());
  return img;
}

}  // namespace confidant::testing
