// Layer images as the ACI guest receives them: an ext4 file system followed
// by dm-verity data (512-byte verity superblock padded to 4096 bytes, then the
// hash tree), see layer-integrity.md 2.5/2.6.
//
// The agent never trusts the host's copy: it copies the ext4 part into its
// own storage while recomputing the whole hash tree over it in user space,
// and mounts that private copy. (Without a dm-verity target in the kernel,
// mounting the host's file directly would let the host change the blocks
// after the check.)
#pragma once

#include <cstdint>
#include <functional>
#include <string>

namespace confidant::agent {

struct LayerInfo {
  std::string root_hash;   // lowercase hex, what the policy lists
  uint64_t data_size = 0;  // bytes of ext4 image covered by the tree
};

// Reads `image`, checks the ext4 and verity superblocks, recomputes the root
// hash over the data blocks; when `private_copy` is not empty, the verified
// bytes are also written there (the file the agent mounts). Limits: image
// size ≤ 64 GiB.
using LayerVerifier =
    std::function<bool(const std::string& image, const std::string& private_copy, LayerInfo& info, std::string& error)>;
bool verify_layer_image(const std::string& image, const std::string& private_copy, LayerInfo& info, std::string& error);

// The dm-verity root (salt prepended, 4096-byte blocks, SHA-256) of `data`,
// whose size is a multiple of 4096 and at least 8192 bytes.
std::string verity_root_hex(const std::string& data, const std::string& salt = std::string(32, '\0'));

// Host side: a tar file or a directory → ext4 image with verity data
// appended. Uses the integrity library when it is built in, else mkfs.ext4 -d
// and veritysetup.
using LayerBuilder =
    std::function<bool(const std::string& source, const std::string& out, LayerInfo& info, std::string& error)>;
bool build_layer_image(const std::string& source, const std::string& out, LayerInfo& info, std::string& error);

}  // namespace confidant::agent
