#include "agent/layer.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <vector>

#include "agent/subprocess.h"
#include "policy/tee.h"
#if CONFIDANT_HAVE_INTEGRITY
#include "integrity/integrity.h"
#endif

namespace confidant::agent {
namespace {

constexpr size_t kBlock = 4096;
constexpr uint64_t kMaxImage = 64ull << 30;

uint32_t le32(const uint8_t* p) {
  return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24;
}
uint64_t le64(const uint8_t* p) { return uint64_t(le32(p)) | uint64_t(le32(p + 4)) << 32; }

class Sha256 {
 public:
  Sha256() : ctx_(EVP_MD_CTX_new()) {}
  ~Sha256() { EVP_MD_CTX_free(ctx_); }
  void digest(const std::string& salt, const uint8_t* block, size_t n, uint8_t out[32]) {
    EVP_DigestInit_ex(ctx_, EVP_sha256(), nullptr);
    EVP_DigestUpdate(ctx_, salt.data(), salt.size());
    EVP_DigestUpdate(ctx_, block, n);
    unsigned len = 32;
    EVP_DigestFinal_ex(ctx_, out, &len);
  }

 private:
  EVP_MD_CTX* ctx_;
};

// Hashes levels above the leaves until one block remains; returns the root.
std::string finish_tree(std::string level, const std::string& salt, Sha256& sha) {
  auto pad = [](std::string& s) { s.resize((s.size() + kBlock - 1) / kBlock * kBlock, '\0'); };
  pad(level);
  while (level.size() > kBlock) {
    std::string next;
    next.reserve(level.size() / 128 + 32);
    uint8_t d[32];
    for (size_t off = 0; off < level.size(); off += kBlock) {
      sha.digest(salt, reinterpret_cast<const uint8_t*>(level.data() + off), kBlock, d);
      next.append(reinterpret_cast<char*>(d), 32);
    }
    pad(next);
    level.swap(next);
  }
  uint8_t root[32];
  sha.digest(salt, reinterpret_cast<const uint8_t*>(level.data()), kBlock, root);
  return policy::to_hex(std::span<const uint8_t>(root, 32));
}

struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

bool pread_full(int fd, void* buf, size_t n, uint64_t off) {
  size_t got = 0;
  while (got < n) {
    ssize_t r = ::pread(fd, static_cast<char*>(buf) + got, n - got, off_t(off + got));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    got += size_t(r);
  }
  return true;
}

bool write_all(int fd, const void* buf, size_t n) {
  size_t done = 0;
  while (done < n) {
    ssize_t w = ::write(fd, static_cast<const char*>(buf) + done, n - done);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    done += size_t(w);
  }
  return true;
}

}  // namespace

std::string verity_root_hex(const std::string& data, const std::string& salt) {
  Sha256 sha;
  std::string leaves;
  uint8_t d[32];
  for (size_t off = 0; off + kBlock <= data.size(); off += kBlock) {
    sha.digest(salt, reinterpret_cast<const uint8_t*>(data.data() + off), kBlock, d);
    leaves.append(reinterpret_cast<char*>(d), 32);
  }
  return finish_tree(std::move(leaves), salt, sha);
}

bool verify_layer_image(const std::string& image, const std::string& private_copy, LayerInfo& info,
                        std::string& error) {
  Fd in;
  in.fd = ::open(image.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (in.fd < 0) {
    error = "layer image " + image + ": " + std::strerror(errno);
    return false;
  }
  struct stat st {};
  if (::fstat(in.fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    error = "layer image " + image + ": not a regular file";
    return false;
  }
  uint64_t file_size = uint64_t(st.st_size);
  if (file_size > kMaxImage) {
    error = "layer image " + image + ": larger than 64 GiB";
    return false;
  }
  uint8_t sb[1024];
  if (file_size < 2048 || !pread_full(in.fd, sb, sizeof sb, 1024)) {
    error = "layer image " + image + ": too small for an ext4 superblock";
    return false;
  }
  if (sb[56] != 0x53 || sb[57] != 0xEF) {
    error = "layer image " + image + ": no ext4 superblock (bad magic)";
    return false;
  }
  uint32_t log_block = le32(sb + 24);
  if (log_block > 6) {
    error = "layer image " + image + ": ext4 block size out of range";
    return false;
  }
  uint64_t ext4_size = uint64_t(le32(sb + 4)) * (1024ull << log_block);
  if (ext4_size % kBlock != 0 || ext4_size < 2 * kBlock || ext4_size + kBlock > file_size) {
    error = "layer image " + image + ": ext4 size " + std::to_string(ext4_size) +
            " is not a multiple of 4096 followed by verity data (file is " + std::to_string(file_size) + " bytes)";
    return false;
  }
  uint8_t vsb[512];
  if (!pread_full(in.fd, vsb, sizeof vsb, ext4_size)) {
    error = "layer image " + image + ": cannot read the verity superblock";
    return false;
  }
  if (std::memcmp(vsb, "verity\0\0", 8) != 0) {
    error = "layer image " + image + ": no dm-verity superblock after the ext4 image";
    return false;
  }
  char alg[33] = {};
  std::memcpy(alg, vsb + 32, 32);
  uint32_t version = le32(vsb + 8), hash_type = le32(vsb + 12);
  uint32_t data_bs = le32(vsb + 64), hash_bs = le32(vsb + 68);
  uint64_t data_blocks = le64(vsb + 72);
  uint16_t salt_size = uint16_t(vsb[80] | vsb[81] << 8);
  if (version != 1 || hash_type != 1 || std::string(alg) != "sha256" || data_bs != kBlock || hash_bs != kBlock ||
      salt_size > 256) {
    error =
        "layer image " + image + ": unsupported verity parameters (want version 1, type 1, sha256, 4096-byte blocks)";
    return false;
  }
  if (data_blocks != ext4_size / kBlock) {
    error = "layer image " + image + ": verity superblock covers " + std::to_string(data_blocks) +
            " blocks but the ext4 image has " + std::to_string(ext4_size / kBlock);
    return false;
  }
  std::string salt(reinterpret_cast<char*>(vsb + 88), salt_size);

  Fd out;
  if (!private_copy.empty()) {
    out.fd = ::open(private_copy.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (out.fd < 0) {
      error = "layer copy " + private_copy + ": " + std::strerror(errno);
      return false;
    }
  }
  Sha256 sha;
  std::string leaves;
  leaves.reserve(size_t(ext4_size / kBlock * 32));
  std::vector<uint8_t> buf(256 * kBlock);
  uint8_t d[32];
  for (uint64_t off = 0; off < ext4_size;) {
    size_t n = size_t(std::min<uint64_t>(buf.size(), ext4_size - off));
    if (!pread_full(in.fd, buf.data(), n, off)) {
      error = "layer image " + image + ": read failed at offset " + std::to_string(off);
      return false;
    }
    for (size_t b = 0; b < n; b += kBlock) {
      sha.digest(salt, buf.data() + b, kBlock, d);
      leaves.append(reinterpret_cast<char*>(d), 32);
    }
    if (out.fd >= 0 && !write_all(out.fd, buf.data(), n)) {
      error = "layer copy " + private_copy + ": write failed: " + std::strerror(errno);
      return false;
    }
    off += n;
  }
  if (out.fd >= 0 && ::fsync(out.fd) != 0) {
    error = "layer copy " + private_copy + ": " + std::strerror(errno);
    return false;
  }
  info.data_size = ext4_size;
  info.root_hash = finish_tree(std::move(leaves), salt, sha);
  return true;
}

bool build_layer_image(const std::string& source, const std::string& out, LayerInfo& info, std::string& error) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::path src = source;
  fs::path staging;
#if CONFIDANT_HAVE_INTEGRITY
  {
    // The deterministic ACI conversion (hcsshim tar2ext4 layout): the root
    // hash is the one `confidant layer hash` and policy generators compute.
    std::string tar = source;
    if (fs::is_directory(src, ec)) {
      tar = out + ".tar";
      auto r = run_command({"/bin/tar", "--sort=name", "--owner=0", "--group=0", "--numeric-owner", "--mtime=@0", "-C",
                            source, "-cf", tar, "."},
                           120'000);
      if (r.status != 0) {
        error = describe_failure("tar -cf " + tar, r);
        return false;
      }
    } else if (!fs::is_regular_file(src, ec)) {
      error = "layer source " + source + " is neither a tar file nor a directory";
      return false;
    }
    integrity::LayerImageInfo li;
    bool ok = integrity::build_layer_image(integrity::LayerFormat::kAci, tar, out, li, error);
    if (tar != source) fs::remove(tar, ec);
    if (!ok) return false;
    // What the agent will compute must be what the library reports.
    if (!verify_layer_image(out, "", info, error)) return false;
    if (info.root_hash != integrity::to_hex(li.root_hash)) {
      error = "root hash mismatch between the integrity library (" + integrity::to_hex(li.root_hash) +
              ") and the agent's verifier (" + info.root_hash + ")";
      return false;
    }
    return true;
  }
#endif
  if (fs::is_regular_file(src, ec)) {
    staging = fs::path(out).concat(".rootfs");
    fs::remove_all(staging, ec);
    fs::create_directories(staging, ec);
    auto r = run_command({"/bin/tar", "-xf", source, "-C", staging.string()}, 120'000);
    if (r.status != 0) {
      error = describe_failure("tar -xf " + source, r);
      fs::remove_all(staging, ec);
      return false;
    }
    src = staging;
  } else if (!fs::is_directory(src, ec)) {
    error = "layer source " + source + " is neither a tar file nor a directory";
    return false;
  }
  uint64_t bytes = 0;
  for (auto it = fs::recursive_directory_iterator(src, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    if (it->is_regular_file(ec)) bytes += it->file_size(ec);
    bytes += 4096;
  }
  uint64_t size_kb = (bytes * 3 / 2 + (16ull << 20)) / 1024;
  size_kb = (size_kb + 3) / 4 * 4;
  fs::remove(out, ec);
  auto mk = run_command({"/sbin/mkfs.ext4", "-q", "-F", "-b", "4096", "-O", "^has_journal", "-E", "root_owner=0:0",
                         "-d", src.string(), out, std::to_string(size_kb) + "k"},
                        120'000);
  if (!staging.empty()) fs::remove_all(staging, ec);
  if (mk.status != 0) {
    error = describe_failure("mkfs.ext4", mk);
    return false;
  }
  uint64_t data_size = fs::file_size(out, ec);
  if (ec || data_size % kBlock) {
    error = "mkfs.ext4 produced an image of unexpected size";
    return false;
  }
  auto vs = run_command(
      {"/sbin/veritysetup", "format", "--salt=" + std::string(64, '0'), "--hash-offset=" + std::to_string(data_size),
       "--data-blocks=" + std::to_string(data_size / kBlock), out, out},
      300'000);
  if (vs.status != 0) {
    error = describe_failure("veritysetup format", vs);
    return false;
  }
  // Our own recomputation is the answer (it is what the agent will compute).
  return verify_layer_image(out, "", info, error);
}

}  // namespace confidant::agent
