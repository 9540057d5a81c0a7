// Container layer integrity: the dm-verity root hashes that execution policies pin for image
// layers, for both deployment lineages (see docs/layer-integrity.md):
//   * ACI (kAci): the uncompressed layer tar is converted into a deterministic ext4 image laid
//     out exactly as hcsshim's tar2ext4/compactext4 does, and dm-verity hashes that image;
//   * Kata/AKS (kKata): a tarfs index is appended to the raw tar and dm-verity hashes the result.
// Inputs are untrusted: every parser bounds-checks, fails with a message naming what was wrong,
// and never throws.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace confidant::integrity {

enum class LayerFormat { kAci, kKata };
using RootHash = std::array<uint8_t, 32>;

struct LayerImageInfo {
  RootHash root_hash{};
  uint64_t data_size = 0;    // bytes covered by the hash tree (ext4 image or tar + index)
  uint64_t hash_offset = 0;  // where the hash tree starts (ACI: after the verity superblock block)
};

// Reads a layer image as build_layer_image writes it (data, then the verity superblock and hash
// tree [, VHD footer]), recomputes the hash tree over the data region in user space, and returns
// the root hash. Never trusts the stored tree: it is recomputed and compared.
bool verify_layer_image(const std::string& image_path, LayerImageInfo& out, std::string& error);
bool build_layer_image(LayerFormat format, const std::string& tar_path, const std::string& out_path,
                       LayerImageInfo& out, std::string& error);
bool layer_root_hash(LayerFormat format, const std::string& tar_path, RootHash& out, std::string& error);
std::string to_hex(const RootHash&);

// ---- Additions --------------------------------------------------------------------------------

// Called from time to time with the number of input bytes consumed so far and the input size
// (0 when unknown). Must be cheap; called on the working thread.
using ProgressFn = std::function<void(uint64_t done, uint64_t total)>;

struct LayerOptions {
  ProgressFn progress;
  // ACI only: the ext4 writer reserves metadata for this size; it changes every block number and
  // hence the hash. 128 GiB is what ACI layer hashing uses.
  uint64_t max_disk_size = 128ull << 30;
  // ACI build only: append the fixed VHD footer after the hash tree (as the ACI host does).
  bool vhd_footer = true;
};

bool layer_root_hash(LayerFormat format, const std::string& tar_path, const LayerOptions& options, RootHash& out,
                     std::string& error);
bool build_layer_image(LayerFormat format, const std::string& tar_path, const std::string& out_path,
                       const LayerOptions& options, LayerImageInfo& out, std::string& error);

// Hashes independent layers on up to `threads` threads (0 = hardware concurrency). results[i]
// and errors[i] belong to tar_paths[i]; returns true when every layer succeeded.
bool layer_root_hashes(LayerFormat format, const std::vector<std::string>& tar_paths, unsigned threads,
                       std::vector<RootHash>& results, std::vector<std::string>& errors);

// dm-verity root (sha256, 4096-byte blocks, 32 zero salt bytes, format 1) of a file's first
// `size` bytes (the whole file when size is 0); size must be a multiple of 4096 and >= 8192.
bool verity_root_of_file(const std::string& path, uint64_t size, RootHash& out, std::string& error);

bool parse_hex(std::string_view hex, RootHash& out);

}  // namespace confidant::integrity
