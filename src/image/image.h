// Container images on disk: OCI image layouts (a directory or an oci-archive tar) and
// docker-archive tars (`docker save`). The policy generator reads an image's config
// (entrypoint, cmd, env, working dir, user) and hashes its layers; the host shim turns the
// layers into verified layer images.
//
//   image::Image img;
//   std::string error;
//   if (!image::open_image("busybox.tar", "", img, error)) ...   // one clear error line
//   for (const image::Layer& l : img.layers) integrity::layer_root_hash(kAci, l.path, ...);
//
// Everything read here is untrusted: JSON documents and tar members are size-limited, blob
// digests are verified before a blob is used, and paths inside archives never escape the
// scratch directory the archive is unpacked into.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace confidant::image {

// A parsed image reference: [registry/]repository[:tag][@digest].
struct Reference {
  std::string registry;    // "docker.io" when absent
  std::string repository;  // "library/busybox" for "busybox" on docker.io
  std::string tag;         // "latest" when neither tag nor digest is given
  std::string digest;      // "sha256:..." or empty
  std::string str() const;
};
bool parse_reference(std::string_view text, Reference& out, std::string& error);

// The parts of the image config (OCI image-spec "config") a policy depends on.
struct Config {
  std::vector<std::string> entrypoint;
  std::vector<std::string> cmd;
  std::vector<std::string> env;  // "NAME=VALUE", image order
  std::string working_dir;
  std::string user;
  bool has_entrypoint = false;
  bool has_cmd = false;
};

struct Layer {
  std::string digest;      // of the blob as stored (compressed or not)
  std::string diff_id;     // sha256 of the uncompressed tar, from the config's rootfs
  std::string media_type;  // as the manifest names it
  std::string path;        // a file holding the blob: tar, tar+gzip or tar+zstd
};

struct Image {
  std::string source;           // what was opened
  std::string manifest_digest;  // "sha256:..." of the manifest
  std::string config_digest;
  Config config;
  std::vector<Layer> layers;  // base layer first
  // Unpacked archive members live here until the Image is destroyed.
  std::shared_ptr<struct ScratchDir> scratch;
};

// Opens `location`: an OCI layout directory (oci-layout + index.json), an oci-archive tar or a
// docker-archive tar. `name` picks one image when the location holds several (an OCI
// `org.opencontainers.image.ref.name` annotation, or a docker RepoTag); empty takes the only
// one, or fails naming the choices. Multi-platform indexes resolve to linux/amd64.
bool open_image(const std::string& location, std::string_view name, Image& out, std::string& error);

// Parses an image config JSON document (exposed for tests and the registry client).
bool parse_config(std::string_view json, Config& out, std::vector<std::string>& diff_ids, std::string& error);

// Lowercase hex sha256 of a file, streaming.
bool sha256_file(const std::string& path, std::string& hex, std::string& error);

}  // namespace confidant::image
