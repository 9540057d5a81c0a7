#include "integrity/verity.h"

#include <openssl/evp.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>

#include "integrity/bytes.h"

namespace confidant::integrity {

namespace {

struct MdCtxDeleter {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};

// One fetched SHA-256 implementation and one context per thread: EVP_MD_fetch and context
// allocation are far costlier than hashing one 4 KiB block.
struct Sha256 {
  EVP_MD* md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  std::unique_ptr<EVP_MD_CTX, MdCtxDeleter> ctx{EVP_MD_CTX_new()};
  ~Sha256() { EVP_MD_free(md); }
};

bool all_zero(const uint8_t* p, size_t n) {
  const uint8_t* end = p + n;
  for (; p + 8 <= end; p += 8) {
    uint64_t v;
    std::memcpy(&v, p, 8);
    if (v != 0) return false;
  }
  for (; p < end; ++p)
    if (*p) return false;
  return true;
}

}  // namespace

void salted_digest(const uint8_t* data, size_t size, uint8_t out[kDigestSize]) {
  static constexpr uint8_t kSalt[kDigestSize] = {};
  thread_local Sha256 sha;
  unsigned int len = 0;
  EVP_DigestInit_ex(sha.ctx.get(), sha.md, nullptr);
  EVP_DigestUpdate(sha.ctx.get(), kSalt, sizeof kSalt);
  EVP_DigestUpdate(sha.ctx.get(), data, size);
  EVP_DigestFinal_ex(sha.ctx.get(), out, &len);
}

std::vector<uint64_t> verity_levels(uint64_t data_blocks) {
  std::vector<uint64_t> levels;
  if (data_blocks < 2) return levels;
  uint64_t n = data_blocks;
  do {
    n = (n + kDigestsPerBlock - 1) / kDigestsPerBlock;
    levels.push_back(n);
  } while (n > 1);
  return levels;
}

uint64_t verity_tree_blocks(uint64_t data_blocks) {
  uint64_t total = 0;
  for (uint64_t n : verity_levels(data_blocks)) total += n;
  return total;
}

std::vector<uint64_t> verity_level_starts(uint64_t data_blocks) {
  std::vector<uint64_t> levels = verity_levels(data_blocks);
  std::vector<uint64_t> starts(levels.size());
  uint64_t pos = 0;
  for (size_t k = levels.size(); k-- > 0;) {
    starts[k] = pos;
    pos += levels[k];
  }
  return starts;
}

VerityHasher::VerityHasher(uint64_t deferred) : deferred_(deferred), data_blocks_(deferred) {
  static const std::array<uint8_t, kBlockSize> kZero{};
  salted_digest(kZero.data(), kZero.size(), zero_digest_.data());
  leading_.resize(deferred);
  leading_set_.assign(deferred, false);
  level(0).fill = deferred;  // the leading digests are written into their slots at the end
}

void VerityHasher::set_tree_sink(TreeBlockFn fn, uint64_t total_data_blocks) {
  sink_ = std::move(fn);
  sink_levels_ = verity_levels(total_data_blocks);
}

VerityHasher::Level& VerityHasher::level(size_t k) {
  while (levels_.size() <= k) {
    levels_.emplace_back();
    // With deferred leading blocks every level's block 0 waits for them; its slot 0 (the digest
    // of the lower level's block 0) is filled in at the end.
    if (deferred_ > 0 && levels_.size() > 1) levels_.back().fill = 1;
  }
  return levels_[k];
}

uint8_t* VerityHasher::slot0_of_block0(size_t k) {
  Level& l = level(k);
  return l.index == 0 ? l.cur.data() : l.first.data();
}

void VerityHasher::push_digest(size_t k, const uint8_t* digest) {
  Level* l = &level(k);
  std::memcpy(l->cur.data() + l->fill * kDigestSize, digest, kDigestSize);
  if (++l->fill < kDigestsPerBlock) return;
  if (deferred_ > 0 && l->index == 0) {
    l->first = l->cur;
    l->first_done = true;
  } else if (!emit(k, l->index, l->cur.data())) {
    failed_ = true;
  }
  l = &level(k);  // emit may have grown levels_
  l->cur.fill(0);
  l->fill = 0;
  ++l->index;
}

bool VerityHasher::emit(size_t k, uint64_t index, const uint8_t* block) {
  bool ok = true;
  if (sink_ && k < sink_levels_.size()) ok = sink_(k, index, block);
  uint8_t digest[kDigestSize];
  salted_digest(block, kBlockSize, digest);
  if (deferred_ > 0 && index == 0) {
    std::memcpy(slot0_of_block0(k + 1), digest, kDigestSize);
  } else {
    push_digest(k + 1, digest);
  }
  return ok;
}

void VerityHasher::add_blocks(const uint8_t* data, size_t blocks) {
  uint8_t digest[kDigestSize];
  for (size_t i = 0; i < blocks; ++i) {
    const uint8_t* b = data + i * kBlockSize;
    if (all_zero(b, kBlockSize)) {
      push_digest(0, zero_digest_.data());
    } else {
      salted_digest(b, kBlockSize, digest);
      push_digest(0, digest);
    }
    ++data_blocks_;
  }
}

void VerityHasher::add_zero_blocks(uint64_t blocks) {
  for (uint64_t i = 0; i < blocks; ++i) push_digest(0, zero_digest_.data());
  data_blocks_ += blocks;
}

void VerityHasher::set_leading_block(uint64_t index, const uint8_t* block) {
  if (index >= deferred_) {
    failed_ = true;
    return;
  }
  if (all_zero(block, kBlockSize)) {
    leading_[index] = zero_digest_;
  } else {
    salted_digest(block, kBlockSize, leading_[index].data());
  }
  leading_set_[index] = true;
}

bool VerityHasher::finish(RootHash& root, std::string& error) {
  const uint64_t n = data_blocks_;
  if (n < 2) {
    error = "dm-verity needs at least 2 data blocks (8192 bytes), got " + std::to_string(n);
    return false;
  }
  if (sink_ && verity_levels(n) != sink_levels_) {
    error = "dm-verity: data size changed while hashing";
    return false;
  }
  for (uint64_t i = 0; i < deferred_; ++i) {
    if (!leading_set_[i]) {
      error = "dm-verity: leading block " + std::to_string(i) + " was never supplied";
      return false;
    }
  }
  if (deferred_ > 0) {
    uint8_t* b0 = slot0_of_block0(0);
    for (uint64_t i = 0; i < deferred_; ++i) std::memcpy(b0 + i * kDigestSize, leading_[i].data(), kDigestSize);
  }
  const size_t top = verity_levels(n).size() - 1;
  for (size_t k = 0; k <= top; ++k) {
    if (deferred_ > 0 && level(k).first_done) {
      level(k).first_done = false;
      std::array<uint8_t, kBlockSize> held = level(k).first;
      if (!emit(k, 0, held.data())) failed_ = true;
    }
    if (level(k).fill > 0) {
      std::array<uint8_t, kBlockSize> last = level(k).cur;
      uint64_t index = level(k).index;
      level(k).fill = 0;
      level(k).cur.fill(0);
      ++level(k).index;
      if (!emit(k, index, last.data())) failed_ = true;
    }
  }
  const Level& above = level(top + 1);
  if (failed_ || above.index != 0 || above.fill != 1) {
    error = "dm-verity: internal tree state inconsistent or tree output failed";
    return false;
  }
  std::memcpy(root.data(), above.cur.data(), kDigestSize);
  return true;
}

void VerityStream::write(const uint8_t* p, size_t n) {
  size_ += n;
  if (fill_ > 0) {
    size_t take = std::min(n, kBlockSize - fill_);
    std::memcpy(buf_.data() + fill_, p, take);
    fill_ += take;
    p += take;
    n -= take;
    if (fill_ < kBlockSize) return;
    h_.add_blocks(buf_.data(), 1);
    fill_ = 0;
  }
  size_t whole = n / kBlockSize;
  if (whole) h_.add_blocks(p, whole);
  p += whole * kBlockSize;
  n -= whole * kBlockSize;
  std::memcpy(buf_.data(), p, n);
  fill_ = n;
}

void VerityStream::write_zeros(uint64_t n) {
  static const std::array<uint8_t, kBlockSize> kZero{};
  while (n > 0 && fill_ > 0) {
    size_t take = std::min<uint64_t>(n, kBlockSize - fill_);
    write(kZero.data(), take);
    n -= take;
  }
  if (n >= kBlockSize) {
    h_.add_zero_blocks(n / kBlockSize);
    size_ += n / kBlockSize * kBlockSize;
    n %= kBlockSize;
  }
  if (n) write(kZero.data(), n);
}

bool VerityStream::finish(RootHash& root, std::string& error) {
  if (fill_ != 0) {
    error = "dm-verity: data size " + std::to_string(size_) + " is not a multiple of 4096";
    return false;
  }
  return h_.finish(root, error);
}

std::array<uint8_t, 512> encode_verity_superblock(const VeritySuperblock& sb) {
  std::array<uint8_t, 512> b{};
  std::memcpy(b.data(), "verity", 6);
  put_le32(b.data() + 8, 1);   // version
  put_le32(b.data() + 12, 1);  // hash type: normal (salt first)
  std::memcpy(b.data() + 16, sb.uuid.data(), 16);
  std::memcpy(b.data() + 32, "sha256", 6);
  put_le32(b.data() + 64, kBlockSize);
  put_le32(b.data() + 68, kBlockSize);
  put_le64(b.data() + 72, sb.data_blocks);
  put_le16(b.data() + 80, 32);  // salt size; the salt bytes (offset 88) are zero
  return b;
}

bool decode_verity_superblock(const uint8_t* p, VeritySuperblock& sb, std::string& error) {
  static constexpr uint8_t kSig[8] = {'v', 'e', 'r', 'i', 't', 'y', 0, 0};
  if (std::memcmp(p, kSig, 8) != 0) {
    error = "no dm-verity superblock (signature 'verity' missing)";
    return false;
  }
  char alg[33] = {};
  std::memcpy(alg, p + 32, 32);
  static constexpr uint8_t kZeroSalt[256] = {};
  if (get_le32(p + 8) != 1 || get_le32(p + 12) != 1 || std::strcmp(alg, "sha256") != 0 ||
      get_le32(p + 64) != kBlockSize || get_le32(p + 68) != kBlockSize || get_le16(p + 80) != 32 ||
      std::memcmp(p + 88, kZeroSalt, 256) != 0) {
    error =
        "dm-verity superblock has unsupported parameters (want version 1, type 1, sha256, 4096/4096, "
        "32 zero salt bytes)";
    return false;
  }
  std::memcpy(sb.uuid.data(), p + 16, 16);
  sb.data_blocks = get_le64(p + 72);
  return true;
}

bool verity_hash_fd(int fd, uint64_t offset, uint64_t size, int tree_fd, uint64_t tree_offset, RootHash& root,
                    std::string& error, const ProgressFn& progress) {
  if (size % kBlockSize != 0) {
    error = "data size " + std::to_string(size) + " is not a multiple of 4096";
    return false;
  }
  const uint64_t blocks = size / kBlockSize;
  VerityHasher h;
  if (tree_fd >= 0) {
    std::vector<uint64_t> starts = verity_level_starts(blocks);
    h.set_tree_sink(
        [tree_fd, tree_offset, starts](size_t level, uint64_t index, const uint8_t* block) {
          uint64_t at = tree_offset + (starts[level] + index) * kBlockSize;
          return pwrite_all(tree_fd, block, kBlockSize, at);
        },
        blocks);
  }
  constexpr size_t kChunk = 1 << 20;
  std::vector<uint8_t> buf(kChunk);
  uint64_t done = 0;
  while (done < size) {
    size_t want = static_cast<size_t>(std::min<uint64_t>(kChunk, size - done));
    ssize_t r = pread(fd, buf.data(), want, static_cast<off_t>(offset + done));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) {
      error = r < 0 ? std::string("read failed: ") + std::strerror(errno) : "unexpected end of file";
      return false;
    }
    if (r % kBlockSize != 0) {
      want = static_cast<size_t>(r) / kBlockSize * kBlockSize;
      if (want == 0) continue;  // short read inside a block: read the rest again
      r = static_cast<ssize_t>(want);
    }
    h.add_blocks(buf.data(), static_cast<size_t>(r) / kBlockSize);
    done += static_cast<uint64_t>(r);
    if (progress) progress(done, size);
  }
  return h.finish(root, error);
}

}  // namespace confidant::integrity
