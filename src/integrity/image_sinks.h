// ImageSink implementations: a file (build) and a streaming dm-verity hasher (hash only).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "integrity/ext4_writer.h"
#include "integrity/verity.h"

namespace confidant::integrity {

class FileImageSink : public ImageSink {
 public:
  // Appends start at byte `data_start` of fd.
  FileImageSink(int fd, uint64_t data_start) : fd_(fd), pos_(data_start) { buf_.reserve(kBuf); }
  bool append(const uint8_t* data, size_t size) override;
  bool append_zeros(uint64_t size) override;
  bool rewrite_block(uint64_t block, const uint8_t* data) override;
  bool write_head(const uint8_t* data, size_t blocks) override;
  // Flushes and sets the file size to the end of the appended data.
  bool finish();

 private:
  static constexpr size_t kBuf = 1 << 20;
  bool flush();
  int fd_;
  uint64_t pos_;  // file offset of buf_[0]
  std::vector<uint8_t> buf_;
};

class HashImageSink : public ImageSink {
 public:
  explicit HashImageSink(uint32_t head_blocks) : hasher_(head_blocks), stream_(hasher_) {}
  bool append(const uint8_t* data, size_t size) override {
    stream_.write(data, size);
    return true;
  }
  bool append_zeros(uint64_t size) override {
    stream_.write_zeros(size);
    return true;
  }
  // A block that was already hashed changed: the caller redoes the work through a file.
  bool rewrite_block(uint64_t, const uint8_t*) override {
    rewritten_ = true;
    return true;
  }
  bool write_head(const uint8_t* data, size_t blocks) override {
    for (size_t i = 0; i < blocks; ++i) hasher_.set_leading_block(i, data + i * kBlockSize);
    return true;
  }
  bool rewritten() const { return rewritten_; }
  bool finish(RootHash& root, std::string& error) { return stream_.finish(root, error); }

 private:
  VerityHasher hasher_;
  VerityStream stream_;
  bool rewritten_ = false;
};

}  // namespace confidant::integrity
