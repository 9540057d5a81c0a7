// A compact, deterministic ext4 writer that reproduces hcsshim's compactext4 layout byte for byte
// (see docs/layer-integrity.md, "ext4 layout"): data is appended sequentially, directories,
// the inode table and the bitmaps follow the last file, and the superblock and group
// descriptors (blocks 0..G) are produced last.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace confidant::integrity {

// Where the image goes. append() is sequential from block 1+G; write_head() delivers blocks
// 0..G once at the end; rewrite_block() replaces an already appended block (xattr block reuse).
class ImageSink {
 public:
  virtual ~ImageSink() = default;
  virtual bool append(const uint8_t* data, size_t size) = 0;
  virtual bool append_zeros(uint64_t size) = 0;
  virtual bool rewrite_block(uint64_t block, const uint8_t* data) = 0;
  virtual bool write_head(const uint8_t* data, size_t blocks) = 0;
};

// Times are kept in the on-disk encoding: seconds | nanoseconds << 34 (0 = unset).
uint64_t encode_fs_time(int64_t seconds, int64_t nanoseconds);

struct Ext4File {
  std::string linkname;
  int64_t size = 0;
  uint16_t mode = 0;
  uint32_t uid = 0, gid = 0;
  uint64_t atime = 0, ctime = 0, mtime = 0, crtime = 0;
  uint32_t devmajor = 0, devminor = 0;
  std::map<std::string, std::string> xattrs;  // full names ("user.x"), sorted
};

class Ext4Writer {
 public:
  static constexpr uint16_t kTypeMask = 0170000, kIfDir = 0040000, kIfReg = 0100000, kIfLnk = 0120000, kIfChr = 0020000,
                            kIfBlk = 0060000, kIfIfo = 0010000, kIfSock = 0140000;

  Ext4Writer(ImageSink& sink, uint64_t max_disk_size);
  ~Ext4Writer();

  bool make_parents(std::string_view name, std::string& error);
  bool create(std::string_view name, Ext4File f, std::string& error);
  bool link(std::string_view oldname, std::string_view newname, std::string& error);
  bool stat(std::string_view name, Ext4File& f, std::string& error);
  bool write(const uint8_t* data, size_t size, std::string& error);
  bool close(std::string& error);

  uint32_t gd_blocks() const { return gd_blocks_; }
  uint64_t disk_blocks() const { return disk_blocks_; }
  size_t inode_count() const { return inodes_.size(); }

 private:
  struct Xattr {
    std::string name;  // without the prefix
    uint8_t index = 0;
    std::string value;
  };
  struct Inode;

  bool init(std::string& error);
  bool finish_inode(std::string& error);
  bool fail(std::string& error, std::string message);
  Inode* get_inode(uint32_t number) const;
  Inode* find_path(Inode* root, std::string_view path) const;
  bool lookup(std::string_view name, bool must_exist, Inode*& dir, Inode*& child, std::string& childname,
              std::string& error);
  Inode* make_inode(Ext4File& f, Inode* node, std::string& error);
  bool write_xattrs(Inode* node, std::vector<Xattr>& inode_xattrs, std::vector<Xattr>& block_xattrs,
                    std::string& error);
  void start_inode(Inode* node, int64_t size);
  bool raw_write(const uint8_t* data, size_t size);
  bool raw_zero(uint64_t size);
  bool next_block();
  bool write_extents(Inode* node);
  bool write_directory(Inode* dir, Inode* parent, std::string& error);
  bool write_directory_recursive(Inode* dir, Inode* parent, std::string& error);
  std::vector<std::pair<std::string, Inode*>> sorted_children(const Inode* dir) const;
  bool write_inode_table(uint64_t table_size);
  uint32_t block() const { return static_cast<uint32_t>(pos_ / 4096); }

  ImageSink& sink_;
  uint64_t max_disk_size_;
  uint32_t gd_blocks_ = 0;
  uint64_t disk_blocks_ = 0;
  std::vector<std::unique_ptr<Inode>> inodes_;  // number - 1; null for reserved numbers
  Inode* cur_ = nullptr;
  int64_t data_written_ = 0, data_max_ = 0;
  uint64_t pos_ = 0;
  bool initialized_ = false;
  bool io_failed_ = false;
  std::string sticky_error_;
};

}  // namespace confidant::integrity
