#include "integrity/input.h"

#include <fcntl.h>
#include <libdeflate.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace confidant::integrity {

namespace {

constexpr size_t kReadBlock = 1 << 20;

struct DecompressorFree {
  void operator()(libdeflate_decompressor* d) const { libdeflate_free_decompressor(d); }
};

// Inflates a whole (possibly multi-member) gzip file with libdeflate when it is small enough;
// returns false to fall back to streaming (not gzip, too large, or corrupt: the streaming
// reader then reports the precise error).
bool inflate_small_gzip(const std::string& path, uint64_t size, std::vector<uint8_t>& out) {
  if (size < 18 || size > kInflateInMemoryMaxInput) return false;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  std::vector<uint8_t> in(size);
  size_t got = 0;
  while (got < size) {
    ssize_t r = ::read(fd, in.data() + got, size - got);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    got += static_cast<size_t>(r);
  }
  ::close(fd);
  if (got != size || in[0] != 0x1f || in[1] != 0x8b) return false;
  std::unique_ptr<libdeflate_decompressor, DecompressorFree> d(libdeflate_alloc_decompressor());
  if (!d) return false;
  // ISIZE of the last member is a good first guess for single-member files.
  uint64_t guess = static_cast<uint64_t>(in[size - 4]) | static_cast<uint64_t>(in[size - 3]) << 8 |
                   static_cast<uint64_t>(in[size - 2]) << 16 | static_cast<uint64_t>(in[size - 1]) << 24;
  size_t cap = static_cast<size_t>(std::min<uint64_t>(std::max<uint64_t>(guess, size * 4), kInflateInMemoryMaxOutput));
  out.clear();
  size_t in_pos = 0;
  while (in_pos < size) {
    size_t in_used = 0, produced = 0;
    size_t start = out.size();
    for (;;) {
      out.resize(std::max(cap, start + 1));
      libdeflate_result r = libdeflate_gzip_decompress_ex(d.get(), in.data() + in_pos, size - in_pos,
                                                          out.data() + start, out.size() - start, &in_used, &produced);
      if (r == LIBDEFLATE_SUCCESS) break;
      if (r != LIBDEFLATE_INSUFFICIENT_SPACE || out.size() >= kInflateInMemoryMaxOutput) {
        out.clear();
        out.shrink_to_fit();
        return false;
      }
      cap = static_cast<size_t>(std::min<uint64_t>(out.size() * 2, kInflateInMemoryMaxOutput));
    }
    out.resize(start + produced);
    in_pos += in_used;
    if (in_used == 0) return false;
  }
  return true;
}

bool open_common(archive* a, const std::string& path, std::string& error) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    error = path + ": " + std::strerror(errno);
    return false;
  }
  if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode) && !S_ISFIFO(st.st_mode) && !S_ISCHR(st.st_mode)) {
    error = path + ": not a regular file";
    return false;
  }
  if (archive_read_open_filename(a, path.c_str(), kReadBlock) != ARCHIVE_OK) {
    error = archive_error(a, path);
    return false;
  }
  return true;
}

}  // namespace

std::string archive_error(archive* a, const std::string& path) {
  const char* msg = a ? archive_error_string(a) : nullptr;
  std::string m = msg ? msg : "unreadable archive";
  if (m.find("Unrecognized archive format") != std::string::npos) m = "not a tar archive (" + m + ")";
  if (m.find("Truncated") != std::string::npos || m.find("truncated") != std::string::npos ||
      m.find("Premature end") != std::string::npos)
    m = "truncated input (" + m + ")";
  return path + ": " + m;
}

uint64_t file_size_or_zero(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return 0;
  return static_cast<uint64_t>(st.st_size);
}

namespace {

// Opens with libdeflate's in-memory inflation when it applies, else streaming from the file.
bool open_with_fast_gzip(ArchivePtr& a, const std::string& path, std::string& error) {
  a.input_size = file_size_or_zero(path);
  if (inflate_small_gzip(path, a.input_size, a.memory())) {
    a.inflated_in_memory = true;
    if (archive_read_open_memory(a.get(), a.memory().data(), a.memory().size()) != ARCHIVE_OK) {
      error = archive_error(a.get(), path);
      return false;
    }
    return true;
  }
  return open_common(a.get(), path, error);
}

}  // namespace

uint64_t input_consumed(ArchivePtr& a) {
  if (!a) return 0;
  uint64_t n = static_cast<uint64_t>(archive_filter_bytes(a.get(), -1));
  if (a.inflated_in_memory && !a.memory().empty())  // scale decompressed progress to the input
    return n * a.input_size / a.memory().size();
  return n;
}

bool open_tar_archive(const std::string& path, ArchivePtr& out, std::string& error) {
  out.reset(archive_read_new());
  if (!out) {
    error = "out of memory";
    return false;
  }
  archive_read_support_filter_gzip(out.get());
  archive_read_support_filter_zstd(out.get());
  archive_read_support_format_tar(out.get());
  archive_read_support_format_gnutar(out.get());
  return open_with_fast_gzip(out, path, error);
}

bool DecompressedStream::open(const std::string& path, std::string& error) {
  path_ = path;
  input_size_ = file_size_or_zero(path);
  a_.reset(archive_read_new());
  if (!a_) {
    error = "out of memory";
    return false;
  }
  archive_read_support_filter_gzip(a_.get());
  archive_read_support_filter_zstd(a_.get());
  archive_read_support_format_raw(a_.get());
  archive_read_support_format_empty(a_.get());
  if (!open_with_fast_gzip(a_, path, error)) return false;
  archive_entry* e = nullptr;
  int r = archive_read_next_header(a_.get(), &e);
  if (r == ARCHIVE_EOF) {
    eof_ = true;
    return true;
  }
  if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {
    error = archive_error(a_.get(), path);
    return false;
  }
  return true;
}

bool DecompressedStream::read(const uint8_t*& data, size_t& size, std::string& error) {
  size = 0;
  if (eof_) return true;
  const void* buf = nullptr;
  la_int64_t offset = 0;
  for (;;) {
    int r = archive_read_data_block(a_.get(), &buf, &size, &offset);
    if (r == ARCHIVE_EOF) {
      eof_ = true;
      size = 0;
      return true;
    }
    if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {
      error = archive_error(a_.get(), path_);
      return false;
    }
    if (size == 0) continue;
    data = static_cast<const uint8_t*>(buf);
    return true;
  }
}

uint64_t DecompressedStream::compressed_consumed() { return input_consumed(a_); }

}  // namespace confidant::integrity
