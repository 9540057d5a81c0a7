#include "integrity/ext4_writer.h"

#include <algorithm>
#include <array>
#include <cstring>

#include "integrity/bytes.h"

namespace confidant::integrity {

namespace {

constexpr uint32_t kBlock = 4096;
constexpr uint32_t kBlocksPerGroup = kBlock * 8;
constexpr uint32_t kInodeSize = 256;
constexpr uint32_t kMaxInodesPerGroup = kBlock * 8;
constexpr uint32_t kInodesPerGroupIncrement = kBlock / kInodeSize;
constexpr uint32_t kInodeFirst = 11;
constexpr uint32_t kInodeRoot = 2;
constexpr uint32_t kGroupsPerDescriptorBlock = kBlock / 32;
constexpr int64_t kMaxFileSize = 128ll << 30;
constexpr int64_t kSmallSymlinkSize = 59;
constexpr uint32_t kMaxBlocksPerExtent = 0x8000;
constexpr uint32_t kInodeUsedSize = 152;  // fields through crtime_extra
constexpr uint32_t kInodeExtraSize = kInodeSize - kInodeUsedSize;
constexpr int kXattrInodeOverhead = 4 + 4;
constexpr int kXattrBlockOverhead = 32 + 4;
constexpr uint32_t kXattrMagic = 0xEA020000;
constexpr uint16_t kExtentMagic = 0xF30A;
constexpr uint32_t kFlagHugeFile = 0x40000;
constexpr uint32_t kFlagExtents = 0x80000;
constexpr uint32_t kMaxLinks = 65000;
constexpr uint32_t kExtentsPerBlock = kBlock / 12 - 1;

struct Prefix {
  uint8_t index;
  std::string_view prefix;
};
// Order matters: the longer system.* names are tried before "system.".
constexpr Prefix kXattrPrefixes[] = {
    {2, "system.posix_acl_access"},
    {3, "system.posix_acl_default"},
    {8, "system.richacl"},
    {7, "system."},
    {1, "user."},
    {4, "trusted."},
    {6, "security."},
};

void compress_xattr_name(std::string_view name, uint8_t& index, std::string& rest) {
  for (const Prefix& p : kXattrPrefixes) {
    if (name.starts_with(p.prefix)) {
      index = p.index;
      rest = name.substr(p.prefix.size());
      return;
    }
  }
  index = 0;
  rest = name;
}

std::string decompress_xattr_name(uint8_t index, std::string_view name) {
  for (const Prefix& p : kXattrPrefixes)
    if (p.index == index) return std::string(p.prefix) + std::string(name);
  return std::string(name);
}

uint32_t xattr_hash(std::string_view name, std::string_view value) {
  uint32_t h = 0;
  for (unsigned char c : name) h = (h << 5) ^ (h >> 27) ^ c;
  size_t i = 0;
  for (; i + 3 < value.size(); i += 4)
    h = (h << 16) ^ (h >> 16) ^ get_le32(reinterpret_cast<const uint8_t*>(&value[i]));
  if (value.size() % 4 != 0) {
    uint8_t last[4] = {};
    std::memcpy(last, value.data() + (value.size() & ~size_t{3}), value.size() % 4);
    h = (h << 16) ^ (h >> 16) ^ get_le32(last);
  }
  return h;
}

int entry_len(size_t name_len) { return static_cast<int>((name_len + 3) & ~size_t{3}) + 16; }
int value_len(size_t size) { return static_cast<int>((size + 3) & ~size_t{3}); }

// Go's path.Clean("/" + p)[1:].
std::string clean_path(std::string_view p) {
  std::vector<std::string_view> parts;
  size_t i = 0;
  while (i <= p.size()) {
    size_t j = p.find('/', i);
    if (j == std::string_view::npos) j = p.size();
    std::string_view c = p.substr(i, j - i);
    if (c.empty() || c == ".") {
    } else if (c == "..") {
      if (!parts.empty()) parts.pop_back();
    } else {
      parts.push_back(c);
    }
    i = j + 1;
  }
  std::string out;
  for (size_t k = 0; k < parts.size(); ++k) {
    if (k) out += '/';
    out += parts[k];
  }
  return out;
}

// Go time round trip used by Stat + Create (fsTimeToTime then timeToFsTime).
uint64_t fs_time_round_trip(uint64_t t) {
  if (t == 0) return 0;
  int64_t s = static_cast<int64_t>(t & 0x3ffffffffull);
  if (s > 0x7fffffff && s < 0x100000000ll) s = static_cast<int32_t>(static_cast<uint32_t>(s));
  uint64_t ns = t >> 34;
  s += static_cast<int64_t>(ns / 1000000000);
  ns %= 1000000000;
  return encode_fs_time(s, static_cast<int64_t>(ns));
}

}  // namespace

uint64_t encode_fs_time(int64_t s, int64_t ns) {
  if (s < -0x80000000ll) return 0x80000000ull;
  if (s > 0x37fffffffll) return 0x37fffffffull;
  return static_cast<uint64_t>(s) | static_cast<uint64_t>(ns) << 34;
}

struct Ext4Writer::Inode {
  int64_t size = 0;
  uint64_t atime = 0, ctime = 0, mtime = 0, crtime = 0;
  uint32_t number = 0;
  uint16_t mode = 0;
  uint32_t uid = 0, gid = 0;
  uint32_t link_count = 0;
  uint32_t xattr_block = 0;
  uint32_t block_count = 0;
  uint32_t devmajor = 0, devminor = 0;
  uint32_t flags = 0;
  std::vector<uint8_t> data;          // i_block contents (extent root or short symlink)
  std::vector<uint8_t> xattr_inline;  // kInodeExtraSize bytes or empty
  std::vector<Xattr> block_xattrs;    // what the xattr block holds (for stat)
  std::map<std::string, Inode*> children;
  bool is_dir() const { return (mode & kTypeMask) == kIfDir; }
};

Ext4Writer::Ext4Writer(ImageSink& sink, uint64_t max_disk_size) : sink_(sink) {
  max_disk_size_ = max_disk_size == 0 ? (16ull << 30) : (max_disk_size + kBlock - 1) & ~uint64_t{kBlock - 1};
}

Ext4Writer::~Ext4Writer() = default;

bool Ext4Writer::fail(std::string& error, std::string message) {
  if (sticky_error_.empty()) sticky_error_ = message;
  error = std::move(message);
  return false;
}

Ext4Writer::Inode* Ext4Writer::get_inode(uint32_t number) const {
  if (number == 0 || number > inodes_.size()) return nullptr;
  return inodes_[number - 1].get();
}

Ext4Writer::Inode* Ext4Writer::find_path(Inode* node, std::string_view p) const {
  while (node != nullptr && !p.empty()) {
    size_t n = p.find('/');
    std::string_view name = n == std::string_view::npos ? p : p.substr(0, n);
    p = n == std::string_view::npos ? std::string_view() : p.substr(n + 1);
    auto it = node->children.find(std::string(name));
    node = it == node->children.end() ? nullptr : it->second;
  }
  return node;
}

bool Ext4Writer::raw_write(const uint8_t* data, size_t size) {
  if (io_failed_) return false;
  if (pos_ + size > max_disk_size_) {
    sticky_error_ = "disk exceeded maximum size of " + std::to_string(max_disk_size_) + " bytes";
    io_failed_ = true;
    return false;
  }
  if (!sink_.append(data, size)) {
    sticky_error_ = "writing the image failed: " + errno_text();
    io_failed_ = true;
    return false;
  }
  pos_ += size;
  return true;
}

bool Ext4Writer::raw_zero(uint64_t size) {
  if (io_failed_) return false;
  if (pos_ + size > max_disk_size_) {
    sticky_error_ = "disk exceeded maximum size of " + std::to_string(max_disk_size_) + " bytes";
    io_failed_ = true;
    return false;
  }
  if (!sink_.append_zeros(size)) {
    sticky_error_ = "writing the image failed: " + errno_text();
    io_failed_ = true;
    return false;
  }
  pos_ += size;
  return true;
}

bool Ext4Writer::next_block() {
  if (pos_ % kBlock != 0) return raw_zero(kBlock - pos_ % kBlock);
  return !io_failed_;
}

bool Ext4Writer::init(std::string& error) {
  initialized_ = true;
  inodes_.clear();
  inodes_.emplace_back(nullptr);  // inode 1: bad blocks, unused
  Ext4File root_file;
  root_file.mode = kIfDir | 0755;
  Inode* root = make_inode(root_file, nullptr, error);
  if (root == nullptr) return false;
  ++root->link_count;  // the root is its own parent
  while (inodes_.size() < kInodeFirst - 1) inodes_.emplace_back(nullptr);
  const uint64_t max_blocks = (max_disk_size_ - 1) / kBlock + 1;
  const uint64_t max_groups = (max_blocks - 1) / kBlocksPerGroup + 1;
  gd_blocks_ = static_cast<uint32_t>((max_groups - 1) / kGroupsPerDescriptorBlock + 1);
  pos_ = static_cast<uint64_t>(1 + gd_blocks_) * kBlock;
  Ext4File lpf;
  lpf.mode = kIfDir | 0700;
  return create("lost+found", lpf, error);
}

bool Ext4Writer::lookup(std::string_view name, bool must_exist, Inode*& dir, Inode*& child, std::string& childname,
                        std::string& error) {
  Inode* root = get_inode(kInodeRoot);
  std::string clean = clean_path(name);
  if (clean.empty()) {
    dir = child = root;
    childname.clear();
    return true;
  }
  size_t slash = clean.rfind('/');
  std::string dirname = slash == std::string::npos ? std::string() : clean.substr(0, slash + 1);
  childname = slash == std::string::npos ? clean : clean.substr(slash + 1);
  if (childname.empty() || childname.size() > 0xff) return fail(error, std::string(name) + ": invalid name");
  dir = find_path(root, dirname);
  if (dir == nullptr || !dir->is_dir()) return fail(error, std::string(name) + ": path not found");
  auto it = dir->children.find(childname);
  child = it == dir->children.end() ? nullptr : it->second;
  if (child == nullptr && must_exist) return fail(error, std::string(name) + ": file not found");
  return true;
}

bool Ext4Writer::make_parents(std::string_view name, std::string& error) {
  if (!finish_inode(error)) return false;
  std::string clean = clean_path(name);
  size_t slash = clean.rfind('/');
  if (slash == std::string::npos) return true;
  std::string_view parents(clean.data(), slash + 1);
  std::string current;
  Inode* node = get_inode(kInodeRoot);
  while (!parents.empty()) {
    size_t n = parents.find('/');
    std::string dirname(parents.substr(0, n));
    parents = parents.substr(n + 1);
    current += "/" + dirname;
    if (node->children.find(dirname) == node->children.end()) {
      // The reference copies the existing parent's attributes to the implicit directory.
      Ext4File f;
      f.mode = node->mode;
      f.atime = node->atime;
      f.mtime = node->mtime;
      f.ctime = node->ctime;
      f.crtime = node->crtime;
      f.uid = node->uid;
      f.gid = node->gid;
      f.devmajor = node->devmajor;
      f.devminor = node->devminor;
      std::string err;
      if (!create(current, f, err)) return fail(error, "failed while creating parent directories: " + err);
    }
    node = node->children[dirname];
  }
  return true;
}

bool Ext4Writer::write_xattrs(Inode* node, std::vector<Xattr>& in_inode, std::vector<Xattr>& in_block,
                              std::string& error) {
  auto put = [](const std::vector<Xattr>& xs, uint8_t* b, size_t len, uint16_t delta) {
    uint16_t offset = static_cast<uint16_t>(len + delta);
    uint8_t* eb = b;
    size_t dend = len;
    for (const Xattr& x : xs) {
      int vl = value_len(x.value.size());
      offset = static_cast<uint16_t>(offset - vl);
      eb[0] = static_cast<uint8_t>(x.name.size());
      eb[1] = x.index;
      put_le16(eb + 2, offset);
      put_le32(eb + 8, static_cast<uint32_t>(x.value.size()));
      put_le32(eb + 12, xattr_hash(x.name, x.value));
      std::memcpy(eb + 16, x.name.data(), x.name.size());
      eb += entry_len(x.name.size());
      std::memcpy(b + dend - vl, x.value.data(), x.value.size());
      dend -= static_cast<size_t>(vl);
    }
  };
  if (!in_inode.empty()) {
    node->xattr_inline.assign(kInodeExtraSize, 0);
    put_le32(node->xattr_inline.data(), kXattrMagic);
    put(in_inode, node->xattr_inline.data() + 4, kInodeExtraSize - 4, 0);
  }
  if (!in_block.empty() || node->xattr_block != 0) {
    // The reference sorts with a comparator that is not a strict weak order; its sort is an
    // insertion sort for the short lists that fit one block, reproduced here.
    auto less = [](const Xattr& a, const Xattr& b) {
      return a.index < b.index || a.name.size() < b.name.size() || a.name < b.name;
    };
    for (size_t i = 1; i < in_block.size(); ++i)
      for (size_t j = i; j > 0 && less(in_block[j], in_block[j - 1]); --j) std::swap(in_block[j], in_block[j - 1]);
    std::array<uint8_t, kBlock> b{};
    put_le32(b.data(), kXattrMagic);
    put_le32(b.data() + 4, 1);  // reference count
    put_le32(b.data() + 8, 1);  // blocks
    put(in_block, b.data() + 32, kBlock - 32, 32);
    node->block_xattrs = in_block;
    if (node->xattr_block == 0) {
      node->xattr_block = block();
      ++node->block_count;
      if (!raw_write(b.data(), b.size())) return fail(error, sticky_error_);
    } else if (!sink_.rewrite_block(node->xattr_block, b.data())) {
      io_failed_ = true;
      return fail(error, "rewriting an xattr block failed: " + errno_text());
    }
  }
  return true;
}

Ext4Writer::Inode* Ext4Writer::make_inode(Ext4File& f, Inode* node, std::string& error) {
  uint16_t mode = f.mode;
  if ((mode & kTypeMask) == 0) mode |= kIfReg;
  const uint16_t type = mode & kTypeMask;
  switch (type) {
    case kIfReg:
    case kIfLnk:
    case kIfDir:
    case kIfIfo:
    case kIfSock:
    case kIfChr:
    case kIfBlk: break;
    default: fail(error, "invalid mode " + std::to_string(mode)); return nullptr;
  }
  if (node == nullptr) {
    if (inodes_.size() >= 0xffffffffull) {
      fail(error, "too many inodes");
      return nullptr;
    }
    auto fresh = std::make_unique<Inode>();
    fresh->number = static_cast<uint32_t>(inodes_.size() + 1);
    if (type == kIfDir) fresh->link_count = 1;  // a directory links to itself
    node = fresh.get();
    inodes_.push_back(std::move(fresh));
  } else if (node->flags & kFlagExtents) {
    // Blocks already written cannot be reclaimed.
    fail(error, "cannot overwrite file with non-inline data");
    return nullptr;
  }
  node->mode = mode;
  node->uid = f.uid;
  node->gid = f.gid;
  node->flags = kFlagHugeFile;
  node->atime = f.atime;
  node->ctime = f.ctime;
  node->mtime = f.mtime;
  node->crtime = f.crtime;
  node->devmajor = f.devmajor;
  node->devminor = f.devminor;
  node->data.clear();

  // Existing in-inode attributes are merged under the new ones.
  if (!node->xattr_inline.empty()) {
    const uint8_t* b = node->xattr_inline.data() + 4;
    const size_t len = kInodeExtraSize - 4;
    size_t e = 0;
    while (e + 16 <= len && b[e] != 0) {
      uint8_t name_len = b[e];
      uint16_t off = get_le16(b + e + 2);
      uint32_t vlen = get_le32(b + e + 8);
      if (e + 16 + name_len > len || off + static_cast<size_t>(vlen) > len) break;
      std::string full =
          decompress_xattr_name(b[e + 1], std::string_view(reinterpret_cast<const char*>(b + e + 16), name_len));
      f.xattrs.emplace(full, std::string(reinterpret_cast<const char*>(b + off), vlen));
      e += entry_len(name_len);
    }
  }
  node->xattr_inline.clear();

  int64_t size = 0;
  if (type == kIfReg) {
    size = f.size;
    if (f.size > kMaxFileSize || f.size < 0) {
      fail(error, "file too big: " + std::to_string(f.size) + " > " + std::to_string(kMaxFileSize));
      return nullptr;
    }
  } else if (type == kIfLnk) {
    node->mode |= 0777;
    size = static_cast<int64_t>(f.linkname.size());
    if (size <= kSmallSymlinkSize) node->data.assign(f.linkname.begin(), f.linkname.end());
  }

  std::vector<Xattr> in_inode, in_block;
  int inode_left = static_cast<int>(kInodeExtraSize) - kXattrInodeOverhead;
  int block_left = static_cast<int>(kBlock) - kXattrBlockOverhead;
  for (const auto& [name, value] : f.xattrs) {
    Xattr x;
    compress_xattr_name(name, x.index, x.name);
    x.value = value;
    if (x.name.size() > 255 || value.size() > kBlock) {
      fail(error, "could not fit xattr " + name);
      return nullptr;
    }
    int length = entry_len(x.name.size()) + value_len(x.value.size());
    if (inode_left >= length) {
      inode_left -= length;
      in_inode.push_back(std::move(x));
    } else if (block_left >= length) {
      block_left -= length;
      in_block.push_back(std::move(x));
    } else {
      fail(error, "could not fit xattr " + name);
      return nullptr;
    }
  }
  if (!write_xattrs(node, in_inode, in_block, error)) return nullptr;

  node->size = size;
  if (type == kIfLnk && size > kSmallSymlinkSize) {
    start_inode(node, size);
    if (!write(reinterpret_cast<const uint8_t*>(f.linkname.data()), f.linkname.size(), error)) return nullptr;
    if (!finish_inode(error)) return nullptr;
  }
  return node;
}

bool Ext4Writer::create(std::string_view name, Ext4File f, std::string& error) {
  if (!finish_inode(error)) return false;
  Inode *dir = nullptr, *existing = nullptr;
  std::string childname;
  if (!lookup(name, false, dir, existing, childname, error)) return false;
  Inode* reuse = nullptr;
  const bool new_is_dir = (f.mode & kTypeMask) == kIfDir;
  if (existing != nullptr) {
    if (existing->is_dir()) {
      if (!new_is_dir) return fail(error, std::string(name) + ": cannot replace a directory with a file");
      reuse = existing;
    } else if (new_is_dir) {
      return fail(error, std::string(name) + ": cannot replace a file with a directory");
    } else if (existing->link_count < 2) {
      reuse = existing;
    }
  } else if (new_is_dir && dir->link_count >= kMaxLinks) {
    return fail(error, std::string(name) + ": exceeded parent directory maximum link count");
  }
  const int64_t size = f.size;
  std::string err;
  Inode* child = make_inode(f, reuse, err);
  if (child == nullptr) return fail(error, std::string(name) + ": " + err);
  if (existing != child) {
    if (existing != nullptr) --existing->link_count;
    dir->children[childname] = child;
    ++child->link_count;
    if (child->is_dir()) ++dir->link_count;
  }
  if ((child->mode & kTypeMask) == kIfReg) start_inode(child, size);
  return true;
}

bool Ext4Writer::link(std::string_view oldname, std::string_view newname, std::string& error) {
  if (!finish_inode(error)) return false;
  Inode *newdir = nullptr, *existing = nullptr;
  std::string newchild;
  if (!lookup(newname, false, newdir, existing, newchild, error)) return false;
  if (existing != nullptr && (existing->is_dir() || existing->link_count < 2))
    return fail(error, std::string(newname) + ": cannot orphan existing file or directory");
  Inode *olddir = nullptr, *oldfile = nullptr;
  std::string oldchild;
  if (!lookup(oldname, true, olddir, oldfile, oldchild, error)) return false;
  if (oldfile->is_dir())
    return fail(error, std::string(newname) + ": link target cannot be a directory: " + std::string(oldname));
  if (existing != oldfile && oldfile->link_count >= kMaxLinks)
    return fail(error, std::string(newname) + ": link target would exceed maximum link count: " + std::string(oldname));
  if (existing != nullptr) --existing->link_count;
  ++oldfile->link_count;
  newdir->children[newchild] = oldfile;
  return true;
}

bool Ext4Writer::stat(std::string_view name, Ext4File& f, std::string& error) {
  if (!finish_inode(error)) return false;
  Inode *dir = nullptr, *node = nullptr;
  std::string childname;
  if (!lookup(name, true, dir, node, childname, error)) return false;
  f = Ext4File();
  f.size = node->size;
  f.mode = node->mode;
  f.uid = node->uid;
  f.gid = node->gid;
  f.atime = fs_time_round_trip(node->atime);
  f.ctime = fs_time_round_trip(node->ctime);
  f.mtime = fs_time_round_trip(node->mtime);
  f.crtime = fs_time_round_trip(node->crtime);
  f.devmajor = node->devmajor;
  f.devminor = node->devminor;
  for (const Xattr& x : node->block_xattrs) f.xattrs[decompress_xattr_name(x.index, x.name)] = x.value;
  if (!node->xattr_inline.empty()) {
    const uint8_t* b = node->xattr_inline.data() + 4;
    const size_t len = kInodeExtraSize - 4;
    size_t e = 0;
    while (e + 16 <= len && b[e] != 0) {
      uint8_t name_len = b[e];
      uint16_t off = get_le16(b + e + 2);
      uint32_t vlen = get_le32(b + e + 8);
      if (e + 16 + name_len > len || off + static_cast<size_t>(vlen) > len) break;
      f.xattrs[decompress_xattr_name(b[e + 1], std::string_view(reinterpret_cast<const char*>(b + e + 16), name_len))] =
          std::string(reinterpret_cast<const char*>(b + off), vlen);
      e += entry_len(name_len);
    }
    f.xattrs.erase("system.data");
  }
  if ((node->mode & kTypeMask) == kIfLnk) {
    if (node->size > kSmallSymlinkSize) return fail(error, std::string(name) + ": cannot retrieve link information");
    f.linkname.assign(node->data.begin(), node->data.end());
  }
  return true;
}

void Ext4Writer::start_inode(Inode* node, int64_t size) {
  cur_ = node;
  data_written_ = 0;
  data_max_ = size;
}

bool Ext4Writer::write(const uint8_t* data, size_t size, std::string& error) {
  if (size == 0) return true;
  if (cur_ == nullptr || data_written_ + static_cast<int64_t>(size) > data_max_)
    return fail(error, "wrote too much: " + std::to_string(data_written_ + static_cast<int64_t>(size)) + " > " +
                           std::to_string(data_max_));
  if (!raw_write(data, size)) return fail(error, sticky_error_);
  data_written_ += static_cast<int64_t>(size);
  return true;
}

bool Ext4Writer::write_extents(Inode* node) {
  const uint64_t start = pos_ - static_cast<uint64_t>(data_written_);
  if (!next_block()) return false;
  const uint32_t start_block = static_cast<uint32_t>(start / kBlock);
  const uint32_t blocks = block() - start_block;
  uint32_t used = blocks;
  const uint32_t extents = (blocks + kMaxBlocksPerExtent - 1) / kMaxBlocksPerExtent;
  std::vector<uint8_t> root(60, 0);
  auto put_header = [](uint8_t* p, uint16_t entries, uint16_t max, uint16_t depth) {
    put_le16(p, kExtentMagic);
    put_le16(p + 2, entries);
    put_le16(p + 4, max);
    put_le16(p + 6, depth);
  };
  // Leaf extents as the reference fills them, including its offset arithmetic.
  auto fill = [](uint8_t* p, uint32_t count, uint32_t start_blk, uint32_t offset, uint32_t inode_blocks) {
    for (uint32_t i = 0; i < count; ++i) {
      uint32_t blk = offset + i * kMaxBlocksPerExtent;
      uint32_t length = inode_blocks - blk;
      if (length > kMaxBlocksPerExtent) length = kMaxBlocksPerExtent;
      uint8_t* e = p + 12 * i;
      put_le32(e, blk);
      put_le16(e + 4, static_cast<uint16_t>(length));
      put_le16(e + 6, 0);
      put_le32(e + 8, start_blk + blk);
    }
  };
  if (extents == 0) {
    return true;  // the reference only gets here for non-empty data
  } else if (extents <= 4) {
    put_header(root.data(), static_cast<uint16_t>(extents), 4, 0);
    fill(root.data() + 12, extents, start_block, 0, blocks);
  } else if (extents <= 4 * kExtentsPerBlock) {
    const uint32_t extent_blocks = extents / kExtentsPerBlock + 1;
    used += extent_blocks;
    put_header(root.data(), static_cast<uint16_t>(extent_blocks), 4, 1);
    for (uint32_t i = 0; i < extent_blocks; ++i) {
      uint8_t* idx = root.data() + 12 + 12 * i;
      put_le32(idx, i * kExtentsPerBlock * kMaxBlocksPerExtent);
      put_le32(idx + 4, block());
      uint32_t in_block = extents - i * extent_blocks;  // sic: the reference's arithmetic
      if (in_block > kExtentsPerBlock) in_block = kExtentsPerBlock;
      std::array<uint8_t, kBlock> node_block{};
      put_header(node_block.data(), static_cast<uint16_t>(in_block), kExtentsPerBlock, 0);
      uint32_t offset = i * kExtentsPerBlock * kMaxBlocksPerExtent;
      fill(node_block.data() + 12, in_block, start_block + offset, offset, blocks);
      if (!raw_write(node_block.data(), node_block.size())) return false;
    }
  } else {
    sticky_error_ = "file too big for the extent tree";
    io_failed_ = true;
    return false;
  }
  node->data = std::move(root);
  node->flags |= kFlagExtents;
  node->block_count += used;
  return true;
}

bool Ext4Writer::finish_inode(std::string& error) {
  if (!initialized_) {
    if (!init(error)) return false;
  }
  if (io_failed_) return fail(error, sticky_error_);
  if (cur_ == nullptr) return true;
  if (data_written_ != data_max_)
    return fail(
        error, "did not write the right amount: " + std::to_string(data_written_) + " != " + std::to_string(data_max_));
  if (data_max_ != 0 && !write_extents(cur_)) return fail(error, sticky_error_);
  data_written_ = data_max_ = 0;
  cur_ = nullptr;
  return true;
}

std::vector<std::pair<std::string, Ext4Writer::Inode*>> Ext4Writer::sorted_children(const Inode* dir) const {
  std::vector<std::pair<std::string, Inode*>> out(dir->children.begin(), dir->children.end());
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
    if (a.second->number != b.second->number) return a.second->number < b.second->number;
    return a.first < b.first;
  });
  return out;
}

bool Ext4Writer::write_directory(Inode* dir, Inode* parent, std::string& error) {
  if (!finish_inode(error)) return false;
  start_inode(dir, INT64_MAX);
  int left = kBlock;
  std::vector<uint8_t> buf;
  buf.reserve(kBlock);
  auto flush = [&]() {
    bool ok = write(buf.data(), buf.size(), error);
    buf.clear();
    return ok;
  };
  auto finish_block = [&]() {
    if (left > 0) {
      size_t at = buf.size();
      buf.resize(at + static_cast<size_t>(left), 0);
      put_le16(buf.data() + at + 4, static_cast<uint16_t>(left));
    }
    left = kBlock;
    return flush();
  };
  auto file_type = [](uint16_t mode) -> uint8_t {
    switch (mode & kTypeMask) {
      case kIfReg: return 1;
      case kIfDir: return 2;
      case kIfChr: return 3;
      case kIfBlk: return 4;
      case kIfIfo: return 5;
      case kIfSock: return 6;
      case kIfLnk: return 7;
      default: return 0;
    }
  };
  auto entry = [&](const Inode* ino, std::string_view name) {
    int rlb = 8 + static_cast<int>(name.size());
    int rl = (rlb + 3) & ~3;
    if (left < rl + 12 && !finish_block()) return false;
    size_t at = buf.size();
    buf.resize(at + static_cast<size_t>(rl), 0);
    put_le32(buf.data() + at, ino->number);
    put_le16(buf.data() + at + 4, static_cast<uint16_t>(rl));
    buf[at + 6] = static_cast<uint8_t>(name.size());
    buf[at + 7] = file_type(ino->mode);
    std::memcpy(buf.data() + at + 8, name.data(), name.size());
    left -= rl;
    return true;
  };
  if (!entry(dir, ".") || !entry(parent, "..")) return false;
  for (const auto& [name, child] : sorted_children(dir))
    if (!entry(child, name)) return false;
  if (!finish_block()) return false;
  cur_->size = data_written_;
  data_max_ = data_written_;
  return true;
}

bool Ext4Writer::write_directory_recursive(Inode* dir, Inode* parent, std::string& error) {
  // Explicit stack: directory depth is attacker-controlled.
  struct Frame {
    Inode* dir;
    std::vector<std::pair<std::string, Inode*>> children;
    size_t next = 0;
  };
  if (!write_directory(dir, parent, error)) return false;
  std::vector<Frame> stack;
  stack.push_back({dir, sorted_children(dir)});
  while (!stack.empty()) {
    Frame& f = stack.back();
    if (f.next >= f.children.size()) {
      stack.pop_back();
      continue;
    }
    Inode* child = f.children[f.next++].second;
    if (!child->is_dir()) continue;
    Inode* self = f.dir;
    if (!write_directory(child, self, error)) return false;
    stack.push_back({child, sorted_children(child)});
  }
  return true;
}

bool Ext4Writer::write_inode_table(uint64_t table_size) {
  std::vector<uint8_t> buf;
  constexpr size_t kBatch = 256;
  buf.reserve(kBatch * kInodeSize);
  auto flush = [&]() {
    bool ok = buf.empty() || raw_write(buf.data(), buf.size());
    buf.clear();
    return ok;
  };
  for (const auto& node : inodes_) {
    size_t at = buf.size();
    buf.resize(at + kInodeSize, 0);
    if (node) {
      uint8_t* p = buf.data() + at;
      put_le16(p + 0, node->mode);
      put_le16(p + 2, static_cast<uint16_t>(node->uid & 0xffff));
      put_le32(p + 4, static_cast<uint32_t>(node->size & 0xffffffff));
      put_le32(p + 8, static_cast<uint32_t>(node->atime));
      put_le32(p + 12, static_cast<uint32_t>(node->ctime));
      put_le32(p + 16, static_cast<uint32_t>(node->mtime));
      put_le16(p + 24, static_cast<uint16_t>(node->gid & 0xffff));
      put_le16(p + 26, static_cast<uint16_t>(node->link_count));
      put_le32(p + 28, node->block_count);
      put_le32(p + 32, node->flags);
      put_le32(p + 104, node->xattr_block);
      put_le32(p + 108, static_cast<uint32_t>(static_cast<uint64_t>(node->size) >> 32));
      put_le16(p + 120, static_cast<uint16_t>(node->uid >> 16));
      put_le16(p + 122, static_cast<uint16_t>(node->gid >> 16));
      put_le16(p + 128, kInodeUsedSize - 128);
      put_le32(p + 132, static_cast<uint32_t>(node->ctime >> 32));
      put_le32(p + 136, static_cast<uint32_t>(node->mtime >> 32));
      put_le32(p + 140, static_cast<uint32_t>(node->atime >> 32));
      put_le32(p + 144, static_cast<uint32_t>(node->crtime));
      put_le32(p + 148, static_cast<uint32_t>(node->crtime >> 32));
      switch (node->mode & kTypeMask) {
        case kIfDir:
        case kIfReg:
        case kIfLnk: std::memcpy(p + 40, node->data.data(), std::min<size_t>(60, node->data.size())); break;
        case kIfBlk:
        case kIfChr: {
          uint32_t dev = (node->devminor & 0xff) | node->devmajor << 8 | (node->devminor & 0xffffff00) << 12;
          put_le32(p + 44, dev);
          break;
        }
        default: break;
      }
      if (!node->xattr_inline.empty()) std::memcpy(p + kInodeUsedSize, node->xattr_inline.data(), kInodeExtraSize);
    }
    if (buf.size() >= kBatch * kInodeSize && !flush()) return false;
  }
  if (!flush()) return false;
  return raw_zero(table_size - inodes_.size() * kInodeSize);
}

namespace {

uint32_t group_count(uint32_t blocks, uint32_t inodes, uint32_t inodes_per_group) {
  const uint32_t inode_blocks_per_group = inodes_per_group * kInodeSize / kBlock;
  const uint32_t data_blocks_per_group = kBlocksPerGroup - inode_blocks_per_group - 2;
  const uint32_t min_blocks = (inodes - 1) / inodes_per_group * data_blocks_per_group + 1;
  if (blocks < min_blocks) blocks = min_blocks;
  return (blocks + data_blocks_per_group - 1) / data_blocks_per_group;
}

}  // namespace

bool Ext4Writer::close(std::string& error) {
  if (!finish_inode(error)) return false;
  Inode* root = get_inode(kInodeRoot);
  if (!write_directory_recursive(root, root, error)) return false;
  if (!finish_inode(error)) return false;

  const uint32_t inode_table_offset = block();
  if (inodes_.size() > 0xffffffffull) return fail(error, "too many inodes");
  const uint32_t inode_count = static_cast<uint32_t>(inodes_.size());
  uint32_t groups = 0xffffffff, inodes_per_group = 0;
  for (uint32_t ipg = kInodesPerGroupIncrement; ipg <= kMaxInodesPerGroup; ipg += kInodesPerGroupIncrement) {
    uint32_t g = group_count(inode_table_offset, inode_count, ipg);
    if (g < groups) {
      groups = g;
      inodes_per_group = ipg;
    }
  }
  if (!write_inode_table(static_cast<uint64_t>(groups) * inodes_per_group * kInodeSize))
    return fail(error, sticky_error_);

  const uint32_t bitmap_offset = block();
  const uint32_t bitmap_size = groups * 2;
  const uint32_t valid_data_size = bitmap_offset + bitmap_size;
  uint32_t disk_size = valid_data_size;
  const uint32_t min_size = (groups - 1) * kBlocksPerGroup + 1;
  if (disk_size < min_size) disk_size = min_size;
  const uint32_t used_gd_blocks = (groups - 1) / kGroupsPerDescriptorBlock + 1;
  if (used_gd_blocks > gd_blocks_)
    return fail(error, "disk exceeded maximum size of " + std::to_string(max_disk_size_) + " bytes");

  std::vector<uint8_t> gds(static_cast<size_t>(gd_blocks_) * kBlock, 0);
  const uint32_t inode_table_blocks_per_group = inodes_per_group * kInodeSize / kBlock;
  uint32_t total_used_blocks = 0, total_used_inodes = 0;
  std::vector<uint8_t> b(kBlock * 2);
  for (uint32_t g = 0; g < groups; ++g) {
    std::fill(b.begin(), b.end(), 0);
    uint16_t dir_count = 0, used_inodes = 0, used_blocks = 0;
    if ((g + 1) * kBlocksPerGroup <= valid_data_size) {
      std::fill(b.begin(), b.begin() + kBlock, 0xff);
      used_blocks = static_cast<uint16_t>(kBlocksPerGroup);  // wraps to 0 like the reference's uint16
    } else if (g * kBlocksPerGroup < valid_data_size) {
      for (uint32_t j = 0; j < valid_data_size - g * kBlocksPerGroup; ++j) {
        b[j / 8] |= static_cast<uint8_t>(1 << (j % 8));
        ++used_blocks;
      }
    }
    if (g == 0) {
      for (uint32_t j = 1 + used_gd_blocks; j < 1 + gd_blocks_; ++j) {
        b[j / 8] &= static_cast<uint8_t>(~(1 << (j % 8)));
        --used_blocks;
      }
    }
    if (g == groups - 1 && disk_size % kBlocksPerGroup != 0) {
      for (uint32_t j = disk_size % kBlocksPerGroup; j < kBlocksPerGroup; ++j) {
        b[j / 8] |= static_cast<uint8_t>(1 << (j % 8));
        ++used_blocks;
      }
    }
    for (uint32_t j = 0; j < inodes_per_group; ++j) {
      uint64_t ino = 1 + static_cast<uint64_t>(g) * inodes_per_group + j;
      Inode* node = ino <= inodes_.size() ? inodes_[ino - 1].get() : nullptr;
      if (ino < kInodeFirst || node != nullptr) {
        b[kBlock + j / 8] |= static_cast<uint8_t>(1 << (j % 8));
        ++used_inodes;
      }
      if (node != nullptr && node->is_dir()) ++dir_count;
    }
    if (!raw_write(b.data(), b.size())) return fail(error, sticky_error_);
    uint8_t* d = gds.data() + static_cast<size_t>(g) * 32;
    put_le32(d + 0, bitmap_offset + 2 * g);
    put_le32(d + 4, bitmap_offset + 2 * g + 1);
    put_le32(d + 8, inode_table_offset + g * inode_table_blocks_per_group);
    put_le16(d + 12, static_cast<uint16_t>(kBlocksPerGroup - used_blocks));
    put_le16(d + 14, static_cast<uint16_t>(inodes_per_group - used_inodes));
    put_le16(d + 16, dir_count);
    total_used_blocks += used_blocks;
    total_used_inodes += used_inodes;
  }
  if (!raw_zero(static_cast<uint64_t>(disk_size - bitmap_offset - bitmap_size) * kBlock))
    return fail(error, sticky_error_);

  std::vector<uint8_t> head(static_cast<size_t>(1 + gd_blocks_) * kBlock, 0);
  std::memcpy(head.data() + kBlock, gds.data(), gds.size());
  uint8_t* sb = head.data() + 1024;
  put_le32(sb + 0, inodes_per_group * groups);
  put_le32(sb + 4, disk_size);
  put_le32(sb + 12, kBlocksPerGroup * groups - total_used_blocks);
  put_le32(sb + 16, inodes_per_group * groups - total_used_inodes);
  put_le32(sb + 20, 0);
  put_le32(sb + 24, 2);
  put_le32(sb + 28, 2);
  put_le32(sb + 32, kBlocksPerGroup);
  put_le32(sb + 36, kBlocksPerGroup);
  put_le32(sb + 40, inodes_per_group);
  put_le16(sb + 56, 0xEF53);
  put_le16(sb + 58, 1);  // clean
  put_le16(sb + 60, 1);  // errors: continue
  put_le32(sb + 72, 0);  // Linux
  put_le32(sb + 76, 1);  // dynamic revision
  put_le32(sb + 84, kInodeFirst);
  put_le16(sb + 88, kInodeSize);
  put_le32(sb + 92, 0x200 | 0x8);                 // sparse_super2 | ext_attr
  put_le32(sb + 96, 0x2 | 0x40 | 0x200);          // filetype | extents | flex_bg
  put_le32(sb + 100, 0x2 | 0x8 | 0x40 | 0x1000);  // large_file | huge_file | extra_isize | readonly
  put_le16(sb + 348, kInodeUsedSize - 128);
  put_le16(sb + 350, kInodeUsedSize - 128);
  sb[372] = 31;                       // log_groups_per_flex
  put_le32(sb + 0x268, kInodeFirst);  // lost+found
  if (!sink_.write_head(head.data(), 1 + gd_blocks_))
    return fail(error, "writing the image head failed: " + errno_text());
  disk_blocks_ = disk_size;
  return true;
}

}  // namespace confidant::integrity
