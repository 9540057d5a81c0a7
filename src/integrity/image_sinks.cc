#include "integrity/image_sinks.h"

#include <unistd.h>

#include <cstring>

#include "integrity/bytes.h"

namespace confidant::integrity {

bool FileImageSink::flush() {
  if (buf_.empty()) return true;
  bool ok = pwrite_all(fd_, buf_.data(), buf_.size(), pos_);
  pos_ += buf_.size();
  buf_.clear();
  return ok;
}

bool FileImageSink::append(const uint8_t* data, size_t size) {
  while (size > 0) {
    size_t take = std::min(size, kBuf - buf_.size());
    buf_.insert(buf_.end(), data, data + take);
    data += take;
    size -= take;
    if (buf_.size() == kBuf && !flush()) return false;
  }
  return true;
}

bool FileImageSink::append_zeros(uint64_t size) {
  if (size >= kBuf) {
    // Large zero runs become holes; finish() sets the final size.
    if (!flush()) return false;
    pos_ += size;
    return true;
  }
  buf_.resize(buf_.size() + static_cast<size_t>(size), 0);
  return buf_.size() < kBuf || flush();
}

bool FileImageSink::rewrite_block(uint64_t block, const uint8_t* data) {
  return flush() && pwrite_all(fd_, data, kBlockSize, block * kBlockSize);
}

bool FileImageSink::write_head(const uint8_t* data, size_t blocks) {
  return pwrite_all(fd_, data, blocks * kBlockSize, 0);
}

bool FileImageSink::finish() {
  if (!flush()) return false;
  return ftruncate(fd_, static_cast<off_t>(pos_)) == 0;
}

}  // namespace confidant::integrity
