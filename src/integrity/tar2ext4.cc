#include "integrity/tar2ext4.h"

#include <archive.h>
#include <archive_entry.h>

#include <vector>

#include "integrity/input.h"

namespace confidant::integrity {

namespace {

constexpr std::string_view kWhiteoutPrefix = ".wh.";
constexpr std::string_view kOpaqueWhiteout = ".wh..wh..opq";
constexpr uint64_t kMaxEntries = 1ull << 24;

// Go's path.Join(dir, name) (Clean of the concatenation; Create cleans again anyway).
std::string join(std::string_view dir, std::string_view name) {
  if (dir.empty()) return std::string(name);
  std::string out(dir);
  if (out.back() != '/') out += '/';
  out += name;
  return out;
}

}  // namespace

uint32_t ext4_gd_blocks(uint64_t max_disk_size) {
  uint64_t size = max_disk_size == 0 ? (16ull << 30) : (max_disk_size + 4095) & ~uint64_t{4095};
  uint64_t max_blocks = (size - 1) / 4096 + 1;
  uint64_t max_groups = (max_blocks - 1) / 32768 + 1;
  return static_cast<uint32_t>((max_groups - 1) / 128 + 1);
}

bool convert_tar_to_ext4(const std::string& tar_path, ImageSink& sink, uint64_t max_disk_size,
                         const ProgressFn& progress, Ext4Result& result, std::string& error) {
  ArchivePtr a;
  if (!open_tar_archive(tar_path, a, error)) return false;
  const uint64_t input_size = file_size_or_zero(tar_path);
  Ext4Writer w(sink, max_disk_size);
  std::vector<uint8_t> zeros;
  std::string err;
  auto fail = [&](const std::string& what) {
    error = tar_path + ": " + what;
    return false;
  };
  for (;;) {
    archive_entry* e = nullptr;
    int r = archive_read_next_header(a.get(), &e);
    if (r == ARCHIVE_EOF) break;
    if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {
      error = archive_error(a.get(), tar_path);
      return false;
    }
    if (++result.entries > kMaxEntries) return fail("too many entries (limit " + std::to_string(kMaxEntries) + ")");
    if (progress) progress(input_consumed(a), input_size);
    const char* pn = archive_entry_pathname(e);
    if (pn == nullptr) pn = archive_entry_pathname_utf8(e);
    if (pn == nullptr) return fail("entry " + std::to_string(result.entries) + " has no usable name");
    const std::string name = pn;
    const char* hl = archive_entry_hardlink(e);
    const char* sl = archive_entry_symlink(e);
    const std::string linkname = hl ? hl : (sl ? sl : "");

    if (!w.make_parents(name, err)) return fail("failed to ensure parent directories for " + name + ": " + err);

    const size_t slash = name.rfind('/');
    const std::string dir = slash == std::string::npos ? std::string() : name.substr(0, slash + 1);
    const std::string file = slash == std::string::npos ? name : name.substr(slash + 1);
    if (file.starts_with(kWhiteoutPrefix)) {
      if (file == kOpaqueWhiteout) {
        Ext4File f;
        if (!w.stat(dir, f, err)) return fail("failed to stat parent directory of whiteout " + file + ": " + err);
        f.xattrs["trusted.overlay.opaque"] = "y";
        if (!w.create(dir, std::move(f), err)) return fail("failed to create opaque dir " + file + ": " + err);
      } else {
        Ext4File f;
        f.mode = Ext4Writer::kIfChr;
        if (!w.create(join(dir, file.substr(kWhiteoutPrefix.size())), std::move(f), err))
          return fail("failed to create whiteout file for " + file + ": " + err);
      }
      continue;
    }

    if (hl != nullptr) {
      if (!w.link(linkname, name, err)) return fail(err);
      continue;
    }

    Ext4File f;
    uint16_t type = Ext4Writer::kIfReg;
    switch (archive_entry_filetype(e)) {
      case AE_IFLNK: type = Ext4Writer::kIfLnk; break;
      case AE_IFCHR: type = Ext4Writer::kIfChr; break;
      case AE_IFBLK: type = Ext4Writer::kIfBlk; break;
      case AE_IFDIR: type = Ext4Writer::kIfDir; break;
      case AE_IFIFO: type = Ext4Writer::kIfIfo; break;
      default: type = Ext4Writer::kIfReg; break;
    }
    f.mode = static_cast<uint16_t>((archive_entry_mode(e) & 07777) | type);
    f.mtime = encode_fs_time(archive_entry_mtime(e), archive_entry_mtime_nsec(e));
    f.crtime = f.mtime;
    if (archive_entry_atime_is_set(e)) f.atime = encode_fs_time(archive_entry_atime(e), archive_entry_atime_nsec(e));
    if (archive_entry_ctime_is_set(e)) f.ctime = encode_fs_time(archive_entry_ctime(e), archive_entry_ctime_nsec(e));
    f.uid = static_cast<uint32_t>(archive_entry_uid(e));
    f.gid = static_cast<uint32_t>(archive_entry_gid(e));
    f.linkname = linkname;
    f.devmajor = static_cast<uint32_t>(archive_entry_rdevmajor(e));
    f.devminor = static_cast<uint32_t>(archive_entry_rdevminor(e));
    const int64_t size = type == Ext4Writer::kIfReg ? archive_entry_size(e) : 0;
    f.size = size;
    if (archive_entry_xattr_reset(e) > 0) {
      const char* xn = nullptr;
      const void* xv = nullptr;
      size_t xs = 0;
      while (archive_entry_xattr_next(e, &xn, &xv, &xs) == ARCHIVE_OK) {
        if (xn == nullptr) continue;
        f.xattrs[xn] = std::string(static_cast<const char*>(xv), xs);
      }
    }
    if (!w.create(name, std::move(f), err)) return fail(err);
    if (type != Ext4Writer::kIfReg) continue;

    // Sparse entries come as (offset, data) runs; holes read as zeros.
    int64_t written = 0;
    for (;;) {
      const void* buf = nullptr;
      size_t n = 0;
      la_int64_t offset = 0;
      int rr = archive_read_data_block(a.get(), &buf, &n, &offset);
      if (rr == ARCHIVE_EOF) break;
      if (rr != ARCHIVE_OK && rr != ARCHIVE_WARN) {
        error = archive_error(a.get(), tar_path);
        return false;
      }
      if (offset < written || offset > size || static_cast<int64_t>(n) > size - offset)
        return fail(name + ": entry data does not match its size");
      while (written < offset) {
        size_t gap = static_cast<size_t>(std::min<int64_t>(offset - written, 1 << 20));
        zeros.resize(std::max(zeros.size(), gap), 0);
        if (!w.write(zeros.data(), gap, err)) return fail(name + ": " + err);
        written += static_cast<int64_t>(gap);
      }
      if (n > 0 && !w.write(static_cast<const uint8_t*>(buf), n, err)) return fail(name + ": " + err);
      written += static_cast<int64_t>(n);
    }
    while (written < size) {
      size_t gap = static_cast<size_t>(std::min<int64_t>(size - written, 1 << 20));
      zeros.resize(std::max(zeros.size(), gap), 0);
      if (!w.write(zeros.data(), gap, err)) return fail(name + ": " + err);
      written += static_cast<int64_t>(gap);
    }
  }
  if (!w.close(err)) return fail(err);
  result.blocks = w.disk_blocks();
  if (progress) progress(input_size, input_size);
  return true;
}

}  // namespace confidant::integrity
