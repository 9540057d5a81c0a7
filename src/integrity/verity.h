// dm-verity hash tree (format 1: sha256, 4096-byte data and hash blocks, 32 zero salt bytes
// prepended to every hashed block), computed in one streaming pass with memory bounded by two
// hash blocks per tree level.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "integrity/integrity.h"

namespace confidant::integrity {

inline constexpr size_t kBlockSize = 4096;
inline constexpr size_t kDigestSize = 32;
inline constexpr size_t kDigestsPerBlock = kBlockSize / kDigestSize;

// SHA256(32 zero bytes || data).
void salted_digest(const uint8_t* data, size_t size, uint8_t out[kDigestSize]);

// Number of blocks of each tree level for `data_blocks` data blocks, leaves first; the last level
// has one block. Empty when data_blocks < 2 (rejected, see the design note).
std::vector<uint64_t> verity_levels(uint64_t data_blocks);
// Total number of hash-tree blocks.
uint64_t verity_tree_blocks(uint64_t data_blocks);
// Block offset of every level inside the serialised tree (top level first, leaves last).
std::vector<uint64_t> verity_level_starts(uint64_t data_blocks);

// Receives finished tree blocks: level (0 = leaves), index within the level, 4096 bytes.
using TreeBlockFn = std::function<bool(size_t level, uint64_t index, const uint8_t* block)>;

class VerityHasher {
 public:
  // The first `deferred` data blocks (< 128) are supplied last through set_leading_block(); the
  // ext4 writer fills its superblock and group descriptors only once everything else is known.
  explicit VerityHasher(uint64_t deferred = 0);

  // Asks for the tree blocks; only valid when the total number of data blocks is known upfront.
  void set_tree_sink(TreeBlockFn fn, uint64_t total_data_blocks);

  void add_blocks(const uint8_t* data, size_t blocks);
  void add_zero_blocks(uint64_t blocks);
  void set_leading_block(uint64_t index, const uint8_t* block);
  uint64_t data_blocks() const { return data_blocks_; }

  bool finish(RootHash& root, std::string& error);

 private:
  struct Level {
    std::array<uint8_t, kBlockSize> cur{};
    std::array<uint8_t, kBlockSize> first{};  // the held block 0 when it completed early
    size_t fill = 0;                          // digests in cur
    uint64_t index = 0;                       // index of cur within the level
    bool first_done = false;
  };
  Level& level(size_t k);
  void push_digest(size_t k, const uint8_t* digest);
  bool emit(size_t k, uint64_t index, const uint8_t* block);
  uint8_t* slot0_of_block0(size_t k);

  uint64_t deferred_;
  uint64_t data_blocks_ = 0;
  std::vector<Level> levels_;
  std::vector<std::array<uint8_t, kDigestSize>> leading_;
  std::vector<bool> leading_set_;
  TreeBlockFn sink_;
  std::vector<uint64_t> sink_levels_;
  bool failed_ = false;
  std::array<uint8_t, kDigestSize> zero_digest_{};
};

// Accepts bytes of any length and feeds whole blocks to a VerityHasher.
class VerityStream {
 public:
  explicit VerityStream(VerityHasher& h) : h_(h) {}
  void write(const uint8_t* p, size_t n);
  void write_zeros(uint64_t n);
  uint64_t size() const { return size_; }
  // The total must be a multiple of 4096.
  bool finish(RootHash& root, std::string& error);

 private:
  VerityHasher& h_;
  std::array<uint8_t, kBlockSize> buf_{};
  size_t fill_ = 0;
  uint64_t size_ = 0;
};

// dm-verity superblock (the veritysetup on-disk format, 512 bytes).
struct VeritySuperblock {
  std::array<uint8_t, 16> uuid{};
  uint64_t data_blocks = 0;
};
std::array<uint8_t, 512> encode_verity_superblock(const VeritySuperblock& sb);
bool decode_verity_superblock(const uint8_t* p, VeritySuperblock& sb, std::string& error);

// Hashes `size` bytes of fd from `offset`; when tree_fd >= 0, writes the serialised tree at
// tree_offset of tree_fd.
bool verity_hash_fd(int fd, uint64_t offset, uint64_t size, int tree_fd, uint64_t tree_offset, RootHash& root,
                    std::string& error, const ProgressFn& progress = nullptr);

}  // namespace confidant::integrity
