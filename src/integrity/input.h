// Opening layer blobs: tar, tar.gz or tar.zst, detected by content (libarchive filters).
#pragma once

#include <archive.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace confidant::integrity {

struct ArchiveCloser {
  void operator()(archive* a) const { archive_read_free(a); }
};

// A libarchive reader plus, for small gzip blobs, the buffer libdeflate inflated them into.
// libdeflate has no streaming interface: gzip inputs up to kInflateInMemoryMaxInput bytes whose
// output fits kInflateInMemoryMaxOutput are inflated whole (2-3x faster than zlib); anything
// larger streams through libarchive's zlib reader, so memory stays bounded for any layer size.
inline constexpr uint64_t kInflateInMemoryMaxInput = 24ull << 20;
inline constexpr uint64_t kInflateInMemoryMaxOutput = 160ull << 20;
class ArchivePtr {
 public:
  archive* get() const { return a_.get(); }
  explicit operator bool() const { return a_ != nullptr; }
  void reset(archive* a) { a_.reset(a); }
  std::vector<uint8_t>& memory() { return memory_; }
  uint64_t input_size = 0;
  bool inflated_in_memory = false;

 private:
  std::vector<uint8_t> memory_;  // must outlive a_ (declared first, destroyed last)
  std::unique_ptr<archive, ArchiveCloser> a_;
};

// A reader for the tar entries of `path` (any supported compression).
bool open_tar_archive(const std::string& path, ArchivePtr& out, std::string& error);
// Bytes of the input consumed so far (for progress).
uint64_t input_consumed(ArchivePtr& a);

// The decompressed bytes of `path`, in order (the raw tar, including everything after its end
// marker, as the Kata path hashes it).
class DecompressedStream {
 public:
  bool open(const std::string& path, std::string& error);
  // size = 0 at the end of the stream.
  bool read(const uint8_t*& data, size_t& size, std::string& error);
  uint64_t compressed_consumed();
  uint64_t input_size() const { return input_size_; }

 private:
  ArchivePtr a_;
  std::string path_;
  uint64_t input_size_ = 0;
  bool eof_ = false;
};

// "PATH: what is wrong" from libarchive's last error.
std::string archive_error(archive* a, const std::string& path);
uint64_t file_size_or_zero(const std::string& path);

}  // namespace confidant::integrity
