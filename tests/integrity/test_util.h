// Helpers for the integrity tests: scratch directories, shell commands, tar writing through
// libarchive.
#pragma once

#include <archive.h>
#include <archive_entry.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <clocale>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <string>
#include <vector>

namespace confidant::integrity::testing {

inline std::string run(const std::string& cmd, int* status = nullptr) {
  std::string out;
  FILE* p = popen((cmd + " 2>&1").c_str(), "r");
  if (p == nullptr) {
    if (status) *status = -1;
    return out;
  }
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  int s = pclose(p);
  if (status) *status = WIFEXITED(s) ? WEXITSTATUS(s) : -1;
  return out;
}

// e2fsck -f -n. The reference writer leaves the padding bits after the last inode of a group
// clear in the inode bitmap, which e2fsprogs >= 1.46 reports; that one finding is a property of
// the format being reproduced (changing it would change every layer hash), so it is tolerated
// and everything else must be clean.
inline bool e2fsck_clean(const std::string& image, std::string& report) {
  int status = 0;
  report = run("e2fsck -f -n " + image, &status);
  if (status == 0) return true;
  if (status != 4) return false;
  std::string rest = report;
  const std::string quirk = "Padding at end of inode bitmap is not set. Fix? no";
  size_t at = rest.find(quirk);
  if (at == std::string::npos) return false;
  rest.erase(at, quirk.size());
  const std::string warning = "WARNING: Filesystem still has errors";
  if ((at = rest.find(warning)) != std::string::npos) rest.erase(at, warning.size());
  return rest.find("Fix?") == std::string::npos && rest.find("rror") == std::string::npos &&
         rest.find("nvalid") == std::string::npos;
}

inline bool have_tool(const std::string& name) {
  int s = 0;
  run("command -v " + name + " >/dev/null", &s);
  return s == 0;
}

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/confidant-integrity-XXXXXX";
    path_ = mkdtemp(tmpl);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::string file(const std::string& name) const { return path_ + "/" + name; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

inline std::string random_bytes(size_t n, uint32_t seed) {
  std::mt19937_64 rng(seed);
  std::string s(n, '\0');
  for (size_t i = 0; i < n; i += 8) {
    uint64_t v = rng();
    for (size_t j = 0; j < 8 && i + j < n; ++j) s[i + j] = static_cast<char>(v >> (8 * j));
  }
  return s;
}

inline void write_file(const std::string& path, const std::string& data) {
  std::ofstream f(path, std::ios::binary);
  f.write(data.data(), static_cast<std::streamsize>(data.size()));
}

inline std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

enum class Compression { kNone, kGzip, kZstd };

struct EntrySpec {
  std::string name;
  mode_t type = AE_IFREG;
  unsigned perm = 0644;
  int64_t uid = 0, gid = 0;
  int64_t mtime = 1700000000;
  long mtime_nsec = 0;
  std::string data;
  std::string link;  // symlink target or hard-link target
  bool hardlink = false;
  unsigned major = 0, minor = 0;
  std::map<std::string, std::string> xattrs;
  // Sparse map: (offset, length) runs of data; `data` then holds only the runs' bytes and
  // `sparse_size` the logical size.
  std::vector<std::pair<int64_t, int64_t>> sparse;
  int64_t sparse_size = 0;
};

// format: ARCHIVE_FORMAT_TAR_PAX_RESTRICTED, ARCHIVE_FORMAT_TAR_GNUTAR, ARCHIVE_FORMAT_TAR_USTAR...
inline void write_tar(const std::string& path, const std::vector<EntrySpec>& entries,
                      int format = ARCHIVE_FORMAT_TAR_PAX_INTERCHANGE, Compression c = Compression::kNone) {
  // UTF-8 names need a UTF-8 locale in libarchive's writer; the library under test reads in
  // whatever locale the process has, so restore it afterwards.
  struct LocaleGuard {
    std::string saved = setlocale(LC_CTYPE, nullptr);
    LocaleGuard() { setlocale(LC_CTYPE, "C.UTF-8"); }
    ~LocaleGuard() { setlocale(LC_CTYPE, saved.c_str()); }
  } guard;
  archive* a = archive_write_new();
  archive_write_set_format(a, format);
  if (c == Compression::kGzip) archive_write_add_filter_gzip(a);
  if (c == Compression::kZstd) archive_write_add_filter_zstd(a);
  archive_write_set_bytes_in_last_block(a, 1);
  ASSERT_EQ(archive_write_open_filename(a, path.c_str()), ARCHIVE_OK) << archive_error_string(a);
  for (const EntrySpec& s : entries) {
    archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, s.name.c_str());
    archive_entry_set_uid(e, s.uid);
    archive_entry_set_gid(e, s.gid);
    archive_entry_set_mtime(e, s.mtime, s.mtime_nsec);
    if (s.hardlink) {
      archive_entry_set_hardlink(e, s.link.c_str());
      archive_entry_set_filetype(e, AE_IFREG);
      archive_entry_set_perm(e, s.perm);
      archive_entry_set_size(e, 0);
    } else {
      archive_entry_set_filetype(e, s.type);
      archive_entry_set_perm(e, s.perm);
      if (s.type == AE_IFLNK) archive_entry_set_symlink(e, s.link.c_str());
      if (s.type == AE_IFCHR || s.type == AE_IFBLK) {
        archive_entry_set_rdevmajor(e, s.major);
        archive_entry_set_rdevminor(e, s.minor);
      }
      if (s.type == AE_IFREG) {
        archive_entry_set_size(e, s.sparse.empty() ? static_cast<int64_t>(s.data.size()) : s.sparse_size);
        for (auto [off, len] : s.sparse) archive_entry_sparse_add_entry(e, off, len);
      } else {
        archive_entry_set_size(e, 0);
      }
    }
    for (const auto& [k, v] : s.xattrs) archive_entry_xattr_add_entry(e, k.c_str(), v.data(), v.size());
    ASSERT_EQ(archive_write_header(a, e), ARCHIVE_OK) << s.name << ": " << archive_error_string(a);
    if (!s.hardlink && s.type == AE_IFREG && s.sparse.empty() && !s.data.empty()) {
      ASSERT_EQ(archive_write_data(a, s.data.data(), s.data.size()), static_cast<la_ssize_t>(s.data.size()));
    }
    if (!s.sparse.empty()) {
      // libarchive takes the logical contents and drops the holes itself.
      std::string chunk;
      size_t consumed = 0;
      int64_t pos = 0;
      for (auto [off, len] : s.sparse) {
        while (pos < off) {
          chunk.assign(static_cast<size_t>(std::min<int64_t>(off - pos, 1 << 20)), '\0');
          archive_write_data(a, chunk.data(), chunk.size());
          pos += static_cast<int64_t>(chunk.size());
        }
        archive_write_data(a, s.data.data() + consumed, static_cast<size_t>(len));
        consumed += static_cast<size_t>(len);
        pos += len;
      }
      while (pos < s.sparse_size) {
        chunk.assign(static_cast<size_t>(std::min<int64_t>(s.sparse_size - pos, 1 << 20)), '\0');
        archive_write_data(a, chunk.data(), chunk.size());
        pos += static_cast<int64_t>(chunk.size());
      }
    }
    archive_entry_free(e);
  }
  ASSERT_EQ(archive_write_close(a), ARCHIVE_OK);
  archive_write_free(a);
}

}  // namespace confidant::integrity::testing
