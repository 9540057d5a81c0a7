// Pulling images from an OCI distribution registry (the /v2/ API) into a local blob cache,
// so that the generator can hash their layers like images on disk.
//
//   image::PullOptions o;
//   o.cache_dir = "~/.cache/confidant";
//   image::Image img;
//   if (!image::pull_image("localhost:5000/app:1", o, img, error)) ...
//
// Manifest lists / OCI indexes resolve to linux/amd64. Authentication: anonymous, HTTP basic,
// and bearer tokens obtained from the realm a 401 challenge names (with basic credentials when
// given). Every manifest, config and layer is checked against its digest; the cache keeps
// verified blobs only (written to a temporary name, verified, then renamed), so runs sharing a
// cache never see a partial or corrupt blob, and a blob found corrupt is fetched again.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "image/image.h"

namespace confidant::image {

struct PullOptions {
  std::string cache_dir;        // required: blobs land in <cache_dir>/blobs/sha256/
  std::string username, password;  // basic credentials, also used to obtain bearer tokens
  bool plain_http = false;      // talk HTTP instead of HTTPS (a registry on loopback)
  bool tls_verify = true;
  std::string ca_file;          // extra CA bundle for HTTPS
  // Called with (bytes done, bytes total or 0) while a layer downloads.
  std::function<void(const std::string& what, uint64_t done, uint64_t total)> progress;
  uint64_t max_layer_size = 64ull << 30;
};

bool pull_image(std::string_view reference, const PullOptions& options, Image& out, std::string& error);

}  // namespace confidant::image
