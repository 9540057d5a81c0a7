// The public entry points: layer hashes, layer images and their verification.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <thread>

#include "integrity/bytes.h"
#include "integrity/image_sinks.h"
#include "integrity/input.h"
#include "integrity/integrity.h"
#include "integrity/tar2ext4.h"
#include "integrity/tarfs.h"
#include "integrity/verity.h"

namespace confidant::integrity {

namespace {

constexpr uint64_t kMaxDiskSizeLimit = 1ull << 40;  // keeps the deferred head below 128 blocks

struct Fd {
  int fd = -1;
  explicit Fd(int f) : fd(f) {}
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
};

// Unnamed scratch file, gone when closed.
int scratch_file() {
  const char* dir = getenv("TMPDIR");
  for (const char* d : {dir, "/var/tmp", "/tmp"}) {
    if (d == nullptr) continue;
    int fd = open(d, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (fd >= 0) return fd;
  }
  return -1;
}

// Deterministic stand-ins for the random UUIDs of the reference (verity superblock and VHD
// footer), so that the same layer always gives the same image bytes.
std::array<uint8_t, 16> derived_uuid(const RootHash& root, std::string_view purpose) {
  std::string in(purpose);
  in.append(reinterpret_cast<const char*>(root.data()), root.size());
  uint8_t d[kDigestSize];
  salted_digest(reinterpret_cast<const uint8_t*>(in.data()), in.size(), d);
  std::array<uint8_t, 16> u;
  std::memcpy(u.data(), d, 16);
  u[6] = static_cast<uint8_t>((u[6] & 0x0f) | 0x40);  // version 4 layout
  u[8] = static_cast<uint8_t>((u[8] & 0x3f) | 0x80);
  return u;
}

std::array<uint8_t, 512> vhd_footer(uint64_t size, const std::array<uint8_t, 16>& unique_id) {
  std::array<uint8_t, 512> f{};
  std::memcpy(f.data(), "conectix", 8);
  put_be32(f.data() + 8, 2);
  put_be32(f.data() + 12, 0x00010000);
  put_be64(f.data() + 16, ~uint64_t{0});
  put_be32(f.data() + 32, 0x000a0000);
  put_be64(f.data() + 40, size);
  put_be64(f.data() + 48, size);
  put_be32(f.data() + 60, 2);
  std::memcpy(f.data() + 68, unique_id.data(), 16);
  uint32_t sum = 0;
  for (uint8_t b : f) sum += b;
  put_be32(f.data() + 64, ~sum);
  return f;
}

bool check_options(const LayerOptions& o, std::string& error) {
  if (o.max_disk_size == 0 || o.max_disk_size > kMaxDiskSizeLimit) {
    error = "maximum disk size must be between 1 byte and 1 TiB";
    return false;
  }
  return true;
}

bool aci_hash(const std::string& tar_path, const LayerOptions& o, RootHash& out, std::string& error) {
  const uint32_t head = 1 + ext4_gd_blocks(o.max_disk_size);
  Ext4Result res;
  {
    HashImageSink sink(head);
    if (!convert_tar_to_ext4(tar_path, sink, o.max_disk_size, o.progress, res, error)) return false;
    if (!sink.rewritten()) return sink.finish(out, error);
  }
  // A re-created entry rewrote an xattr block that was already hashed: convert again into a
  // scratch file and hash that.
  Fd fd(scratch_file());
  if (fd.fd < 0) {
    error = std::string("cannot create a scratch file: ") + std::strerror(errno);
    return false;
  }
  FileImageSink sink(fd.fd, static_cast<uint64_t>(head) * kBlockSize);
  res = Ext4Result();
  if (!convert_tar_to_ext4(tar_path, sink, o.max_disk_size, o.progress, res, error)) return false;
  if (!sink.finish()) {
    error = "writing the scratch image failed: " + errno_text();
    return false;
  }
  return verity_hash_fd(fd.fd, 0, res.blocks * kBlockSize, -1, 0, out, error);
}

// Streams the decompressed tar through the index builder and `sink`, then the index.
bool kata_stream(const std::string& tar_path, const LayerOptions& o,
                 const std::function<bool(const uint8_t*, size_t)>& sink, uint64_t& data_size, std::string& error) {
  DecompressedStream in;
  if (!in.open(tar_path, error)) return false;
  TarfsIndexBuilder index;
  uint64_t n = 0;
  for (;;) {
    const uint8_t* p = nullptr;
    size_t size = 0;
    if (!in.read(p, size, error)) return false;
    if (size == 0) break;
    if (!index.feed(p, size, error)) {
      error = tar_path + ": " + error;
      return false;
    }
    if (!sink(p, size)) {
      error = "writing failed: " + errno_text();
      return false;
    }
    if (o.progress && (++n & 15) == 0) o.progress(in.compressed_consumed(), in.input_size());
  }
  if (index.tar_size() == 0) {
    error = tar_path + ": empty input, not a tar archive";
    return false;
  }
  uint64_t index_size = 0;
  if (!index.finish(sink, index_size, error)) {
    error = tar_path + ": " + error;
    return false;
  }
  data_size = index.tar_size() + index_size;
  if (o.progress) o.progress(in.input_size(), in.input_size());
  return true;
}

bool kata_hash(const std::string& tar_path, const LayerOptions& o, RootHash& out, std::string& error) {
  VerityHasher h;
  VerityStream s(h);
  uint64_t data_size = 0;
  if (!kata_stream(
          tar_path, o,
          [&](const uint8_t* p, size_t n) {
            s.write(p, n);
            return true;
          },
          data_size, error))
    return false;
  return s.finish(out, error);
}

// Reads and compares a stored tree while recomputing it.
bool verify_region(int fd, uint64_t data_size, uint64_t hash_offset, RootHash& root, std::string& error) {
  const uint64_t blocks = data_size / kBlockSize;
  std::vector<uint64_t> starts = verity_level_starts(blocks);
  std::string mismatch;
  VerityHasher h;
  std::vector<uint8_t> stored(kBlockSize);
  h.set_tree_sink(
      [&](size_t level, uint64_t index, const uint8_t* block) {
        if (!mismatch.empty()) return false;
        if (!pread_all(fd, stored.data(), kBlockSize, hash_offset + (starts[level] + index) * kBlockSize) ||
            std::memcmp(stored.data(), block, kBlockSize) != 0) {
          mismatch = "stored hash tree does not match the data (level " + std::to_string(level) + ", block " +
                     std::to_string(index) + ")";
          return false;
        }
        return true;
      },
      blocks);
  std::vector<uint8_t> buf(1 << 20);
  for (uint64_t done = 0; done < data_size;) {
    size_t want = static_cast<size_t>(std::min<uint64_t>(buf.size(), data_size - done));
    if (!pread_all(fd, buf.data(), want, done)) {
      error = "read failed: " + errno_text();
      return false;
    }
    h.add_blocks(buf.data(), want / kBlockSize);
    done += want;
    if (!mismatch.empty()) break;
  }
  if (!mismatch.empty()) {
    error = mismatch;
    return false;
  }
  if (!h.finish(root, error)) {
    if (!mismatch.empty()) error = mismatch;
    return false;
  }
  return true;
}

}  // namespace

std::string to_hex(const RootHash& h) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string s;
  s.reserve(64);
  for (uint8_t b : h) {
    s += kHex[b >> 4];
    s += kHex[b & 15];
  }
  return s;
}

bool parse_hex(std::string_view hex, RootHash& out) {
  if (hex.size() != 64) return false;
  auto val = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  for (size_t i = 0; i < 32; ++i) {
    int hi = val(hex[2 * i]), lo = val(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    out[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  return true;
}

bool layer_root_hash(LayerFormat format, const std::string& tar_path, const LayerOptions& options, RootHash& out,
                     std::string& error) {
  if (!check_options(options, error)) return false;
  return format == LayerFormat::kAci ? aci_hash(tar_path, options, out, error)
                                     : kata_hash(tar_path, options, out, error);
}

bool layer_root_hash(LayerFormat format, const std::string& tar_path, RootHash& out, std::string& error) {
  return layer_root_hash(format, tar_path, LayerOptions(), out, error);
}

bool build_layer_image(LayerFormat format, const std::string& tar_path, const std::string& out_path,
                       const LayerOptions& o, LayerImageInfo& info, std::string& error) {
  if (!check_options(o, error)) return false;
  Fd fd(open(out_path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  if (fd.fd < 0) {
    error = out_path + ": " + std::strerror(errno);
    return false;
  }
  auto io_error = [&]() {
    error = out_path + ": write failed: " + errno_text();
    return false;
  };
  if (format == LayerFormat::kAci) {
    const uint32_t head = 1 + ext4_gd_blocks(o.max_disk_size);
    FileImageSink sink(fd.fd, static_cast<uint64_t>(head) * kBlockSize);
    Ext4Result res;
    if (!convert_tar_to_ext4(tar_path, sink, o.max_disk_size, o.progress, res, error)) return false;
    if (!sink.finish()) return io_error();
    const uint64_t data_size = res.blocks * kBlockSize;
    const uint64_t hash_offset = data_size + kBlockSize;
    if (!verity_hash_fd(fd.fd, 0, data_size, fd.fd, hash_offset, info.root_hash, error)) return false;
    VeritySuperblock vsb;
    vsb.uuid = derived_uuid(info.root_hash, "verity");
    vsb.data_blocks = res.blocks;
    std::array<uint8_t, kBlockSize> sb_block{};
    std::array<uint8_t, 512> sb = encode_verity_superblock(vsb);
    std::memcpy(sb_block.data(), sb.data(), sb.size());
    if (!pwrite_all(fd.fd, sb_block.data(), sb_block.size(), data_size)) return io_error();
    const uint64_t end = hash_offset + verity_tree_blocks(res.blocks) * kBlockSize;
    if (o.vhd_footer) {
      std::array<uint8_t, 512> footer = vhd_footer(end, derived_uuid(info.root_hash, "vhd"));
      if (!pwrite_all(fd.fd, footer.data(), footer.size(), end)) return io_error();
    }
    info.data_size = data_size;
    info.hash_offset = hash_offset;
    return true;
  }
  // Kata: raw tar, tarfs index, hash tree, then one block ending with the Kata verity superblock.
  std::vector<uint8_t> buf;
  buf.reserve(1 << 20);
  uint64_t pos = 0;
  auto flush = [&]() {
    bool ok = buf.empty() || pwrite_all(fd.fd, buf.data(), buf.size(), pos);
    pos += buf.size();
    buf.clear();
    return ok;
  };
  uint64_t data_size = 0;
  if (!kata_stream(
          tar_path, o,
          [&](const uint8_t* p, size_t n) {
            buf.insert(buf.end(), p, p + n);
            return buf.size() < (1 << 20) || flush();
          },
          data_size, error))
    return false;
  if (!flush()) return io_error();
  if (!verity_hash_fd(fd.fd, 0, data_size, fd.fd, data_size, info.root_hash, error)) return false;
  const uint64_t tree_end = data_size + verity_tree_blocks(data_size / kBlockSize) * kBlockSize;
  std::array<uint8_t, kBlockSize> last{};
  put_le32(last.data() + kBlockSize - 512, kBlockSize);
  put_le32(last.data() + kBlockSize - 508, kBlockSize);
  put_le64(last.data() + kBlockSize - 504, data_size / kBlockSize);
  if (!pwrite_all(fd.fd, last.data(), last.size(), tree_end)) return io_error();
  info.data_size = data_size;
  info.hash_offset = data_size;
  return true;
}

bool build_layer_image(LayerFormat format, const std::string& tar_path, const std::string& out_path,
                       LayerImageInfo& out, std::string& error) {
  return build_layer_image(format, tar_path, out_path, LayerOptions(), out, error);
}

bool verify_layer_image(const std::string& image_path, LayerImageInfo& out, std::string& error) {
  Fd fd(open(image_path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.fd < 0) {
    error = image_path + ": " + std::strerror(errno);
    return false;
  }
  struct stat st;
  if (fstat(fd.fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    error = image_path + ": not a regular file";
    return false;
  }
  const uint64_t size = static_cast<uint64_t>(st.st_size);
  auto fail = [&](const std::string& what) {
    error = image_path + ": " + what;
    return false;
  };
  if (size < 3 * kBlockSize) return fail("too small to be a layer image");

  // ACI: ext4 superblock at 1024, verity superblock right after the file system.
  uint8_t sb[1024];
  if (!pread_all(fd.fd, sb, sizeof sb, 1024)) return fail("read failed: " + errno_text());
  if (get_le16(sb + 56) == 0xEF53) {
    if (get_le32(sb + 24) != 2) return fail("ext4 block size is not 4096");
    const uint64_t blocks = get_le32(sb + 4);
    const uint64_t data_size = blocks * kBlockSize;
    if (blocks < 2 || data_size + kBlockSize > size) return fail("ext4 size exceeds the image");
    uint8_t vsb_bytes[512];
    if (!pread_all(fd.fd, vsb_bytes, sizeof vsb_bytes, data_size)) return fail("read failed: " + errno_text());
    VeritySuperblock vsb;
    std::string err;
    if (!decode_verity_superblock(vsb_bytes, vsb, err)) return fail(err + " after the ext4 image");
    if (vsb.data_blocks != blocks) return fail("verity superblock data block count does not match the ext4 size");
    std::vector<uint8_t> pad(kBlockSize - 512);
    if (!pread_all(fd.fd, pad.data(), pad.size(), data_size + 512)) return fail("read failed: " + errno_text());
    for (uint8_t b : pad)
      if (b != 0) return fail("verity superblock block has non-zero padding");
    const uint64_t hash_offset = data_size + kBlockSize;
    const uint64_t tree_end = hash_offset + verity_tree_blocks(blocks) * kBlockSize;
    if (size == tree_end + 512) {
      uint8_t f[512];
      if (!pread_all(fd.fd, f, sizeof f, tree_end)) return fail("read failed: " + errno_text());
      uint32_t stored = get_be32(f + 64);
      std::memset(f + 64, 0, 4);
      uint32_t sum = 0;
      for (uint8_t b : f) sum += b;
      if (std::memcmp(f, "conectix", 8) != 0 || stored != ~sum || get_be64(f + 48) != tree_end || get_be32(f + 60) != 2)
        return fail("invalid fixed VHD footer");
    } else if (size != tree_end) {
      return fail("image size does not match ext4 + verity superblock + hash tree [+ VHD footer]");
    }
    if (!verify_region(fd.fd, data_size, hash_offset, out.root_hash, err)) return fail(err);
    out.data_size = data_size;
    out.hash_offset = hash_offset;
    return true;
  }

  // Kata: the last 4 KiB block ends with {data_block_size, hash_block_size, data_block_count}.
  uint8_t k[16];
  if (size % kBlockSize != 0 || !pread_all(fd.fd, k, sizeof k, size - 512))
    return fail("not a layer image (no ext4 superblock, size not a multiple of 4096)");
  if (get_le32(k) != kBlockSize || get_le32(k + 4) != kBlockSize)
    return fail("not a layer image (neither an ext4 + verity nor a tarfs + verity layout)");
  const uint64_t blocks = get_le64(k + 8);
  if (blocks < 2 || blocks > size / kBlockSize) return fail("Kata verity superblock block count out of range");
  const uint64_t data_size = blocks * kBlockSize;
  const uint64_t tree_end = data_size + verity_tree_blocks(blocks) * kBlockSize;
  if (tree_end + kBlockSize != size) return fail("image size does not match tar + index + hash tree + superblock");
  uint8_t t[16];
  if (!pread_all(fd.fd, t, sizeof t, data_size - 512)) return fail("read failed: " + errno_text());
  std::vector<uint8_t> last(kBlockSize);
  if (!pread_all(fd.fd, last.data(), last.size(), tree_end)) return fail("read failed: " + errno_text());
  for (size_t i = 0; i < kBlockSize; ++i)
    if (last[i] != 0 && (i < kBlockSize - 512 || i >= kBlockSize - 496))
      return fail("Kata verity superblock block has non-zero padding");
  const uint64_t itable = get_le64(t), icount = get_le64(t + 8);
  if (itable >= data_size || icount > (data_size - itable) / 32) return fail("tarfs superblock out of range");
  std::string err;
  if (!verify_region(fd.fd, data_size, data_size, out.root_hash, err)) return fail(err);
  out.data_size = data_size;
  out.hash_offset = data_size;
  return true;
}

bool verity_root_of_file(const std::string& path, uint64_t size, RootHash& out, std::string& error) {
  Fd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.fd < 0) {
    error = path + ": " + std::strerror(errno);
    return false;
  }
  if (size == 0) size = file_size_or_zero(path);
  return verity_hash_fd(fd.fd, 0, size, -1, 0, out, error);
}

bool layer_root_hashes(LayerFormat format, const std::vector<std::string>& tar_paths, unsigned threads,
                       std::vector<RootHash>& results, std::vector<std::string>& errors) {
  results.assign(tar_paths.size(), RootHash{});
  errors.assign(tar_paths.size(), std::string());
  if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
  threads = static_cast<unsigned>(std::min<size_t>(threads, tar_paths.size()));
  std::atomic<size_t> next{0};
  std::atomic<bool> all_ok{true};
  auto work = [&]() {
    for (size_t i; (i = next.fetch_add(1)) < tar_paths.size();) {
      if (!layer_root_hash(format, tar_paths[i], results[i], errors[i])) all_ok = false;
    }
  };
  std::vector<std::thread> pool;
  for (unsigned t = 1; t < threads; ++t) pool.emplace_back(work);
  work();
  for (auto& t : pool) t.join();
  return all_ok;
}

}  // namespace confidant::integrity
