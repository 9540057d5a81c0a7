#include "integrity/tarfs.h"

#include <cstring>
#include <deque>
#include <optional>
#include <string_view>

#include "integrity/bytes.h"

namespace confidant::integrity {

namespace {

constexpr uint16_t S_IFMT_ = 0170000, S_IFSOCK_ = 0140000, S_IFLNK_ = 0120000, S_IFREG_ = 0100000, S_IFBLK_ = 0060000,
                   S_IFDIR_ = 0040000, S_IFCHR_ = 0020000, S_IFIFO_ = 0010000;
constexpr size_t kMaxExtension = 1 << 20;  // GNU long names/links and PAX records
constexpr size_t kMaxNodes = 1 << 24;

std::string_view truncate_nul(const uint8_t* p, size_t n) {
  size_t len = 0;
  while (len < n && p[len] != 0) ++len;
  return std::string_view(reinterpret_cast<const char*>(p), len);
}

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'; }

// The tar crate's octal field: up to the first NUL, surrounding whitespace trimmed, base 8.
std::optional<uint64_t> octal(const uint8_t* p, size_t n) {
  std::string_view s = truncate_nul(p, n);
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  if (s.empty()) return std::nullopt;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '7') return std::nullopt;
    if (v > (UINT64_MAX >> 3)) return std::nullopt;
    v = v << 3 | static_cast<uint64_t>(c - '0');
  }
  return v;
}

// Numeric fields may also use the GNU base-256 encoding.
std::optional<uint64_t> numeric(const uint8_t* p, size_t n) {
  if (p[0] & 0x80) {
    uint64_t v = 0;
    for (size_t i = n > 8 ? n - 8 : 0; i < n; ++i) v = v << 8 | (i == 0 ? (p[i] & 0x7f) : p[i]);
    return v;
  }
  return octal(p, n);
}

bool is_ustar(const uint8_t* h) {
  return std::memcmp(h + 257,
                     "ustar\0"
                     "00",
                     8) == 0;
}
bool is_gnu(const uint8_t* h) { return std::memcmp(h + 257, "ustar  \0", 8) == 0; }

std::optional<std::vector<std::string>> clean_components(std::string_view s) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i <= s.size()) {
    size_t j = s.find('/', i);
    if (j == std::string_view::npos) j = s.size();
    std::string_view c = s.substr(i, j - i);
    if (c.empty() || c == ".") {
    } else if (c == "..") {
      if (out.empty()) return std::nullopt;
      out.pop_back();
    } else {
      out.emplace_back(c);
    }
    i = j + 1;
  }
  return out;
}

uint8_t dtype(uint16_t mode) {
  switch (mode & S_IFMT_) {
    case S_IFSOCK_: return 12;
    case S_IFLNK_: return 10;
    case S_IFREG_: return 8;
    case S_IFBLK_: return 6;
    case S_IFDIR_: return 4;
    case S_IFCHR_: return 2;
    case S_IFIFO_: return 1;
    default: return 0;
  }
}

}  // namespace

TarfsIndexBuilder::TarfsIndexBuilder() {
  root_ = new_node();
  nodes_[root_].mode = S_IFDIR_ | 0555;
}

uint32_t TarfsIndexBuilder::new_node() {
  nodes_.emplace_back();
  return static_cast<uint32_t>(nodes_.size() - 1);
}

uint32_t TarfsIndexBuilder::traverse(const std::vector<std::string>& path) {
  uint32_t cur = root_;
  for (const std::string& c : path) {
    auto it = nodes_[cur].children.find(c);
    if (it == nodes_[cur].children.end()) {
      uint32_t n = new_node();
      nodes_[cur].children.emplace(c, n);
      cur = n;
    } else {
      cur = it->second;
    }
  }
  return cur;
}

bool TarfsIndexBuilder::feed(const uint8_t* data, size_t size, std::string& error) {
  while (size > 0) {
    switch (state_) {
      case State::kEnd: pos_ += size; return true;
      case State::kHeader:
      case State::kSparseExt: {
        size_t take = std::min(size, 512 - hdr_.size());
        hdr_.insert(hdr_.end(), data, data + take);
        data += take;
        size -= take;
        pos_ += take;
        if (hdr_.size() < 512) break;
        std::vector<uint8_t> h;
        h.swap(hdr_);
        if (state_ == State::kSparseExt) {
          if (h[504] == 0) state_ = skip_ > 0 ? State::kData : State::kHeader;
          break;
        }
        if (!on_header(h.data(), error)) return false;
        break;
      }
      case State::kData: {
        size_t take = static_cast<size_t>(std::min<uint64_t>(size, skip_));
        if (capture_left_ > 0) {
          size_t c = static_cast<size_t>(std::min<uint64_t>(take, capture_left_));
          capture_.append(reinterpret_cast<const char*>(data), c);
          capture_left_ -= c;
        }
        data += take;
        size -= take;
        pos_ += take;
        skip_ -= take;
        if (skip_ == 0) {
          state_ = State::kHeader;
          if (capture_type_ != 0 && !on_extension_done(error)) return false;
        }
        break;
      }
    }
  }
  return true;
}

bool TarfsIndexBuilder::on_header(const uint8_t* h, std::string& error) {
  const uint64_t header_pos = pos_ - 512;
  bool zero = true;
  for (int i = 0; i < 512 && zero; ++i) zero = h[i] == 0;
  if (zero) {
    state_ = State::kEnd;
    return true;
  }
  uint64_t sum = 8 * 32;
  for (int i = 0; i < 512; ++i)
    if (i < 148 || i >= 156) sum += h[i];
  std::optional<uint64_t> stored = octal(h + 148, 8);
  if (!stored || *stored != sum) {
    error = "tar header at offset " + std::to_string(header_pos) + ": checksum mismatch";
    return false;
  }
  std::optional<uint64_t> header_size = numeric(h + 124, 12);
  if (!header_size) {
    error = "tar header at offset " + std::to_string(header_pos) + ": invalid size field";
    return false;
  }
  const char type = static_cast<char>(h[156]);
  uint64_t size = *header_size;
  if (size == 0 && has_pax_size_) size = pax_size_;
  if (size > (1ull << 50)) {
    error = "tar header at offset " + std::to_string(header_pos) + ": entry size too large";
    return false;
  }
  const uint64_t padded = (size + 511) & ~uint64_t{511};

  // Like the tar crate, extension headers count only in ustar/GNU headers.
  const bool recognized = is_ustar(h) || is_gnu(h);
  if (recognized && (type == 'L' || type == 'K' || type == 'x')) {
    if ((type == 'L' && has_long_name_) || (type == 'K' && has_long_link_) ||
        (type == 'x' && (has_pax_path_ || has_pax_link_ || has_pax_size_ || pax_seen_))) {
      error = "tar header at offset " + std::to_string(header_pos) + ": two extension headers of the same kind";
      return false;
    }
    if (size > kMaxExtension) {
      error = "tar header at offset " + std::to_string(header_pos) + ": extension header too large";
      return false;
    }
    capture_type_ = type;
    capture_.clear();
    capture_left_ = size;
    skip_ = padded;
    state_ = skip_ > 0 ? State::kData : State::kHeader;
    if (skip_ == 0) return on_extension_done(error);
    return true;
  }

  Entry e;
  e.type = type;
  e.size = size;
  e.header_pos = header_pos;
  e.data_pos = header_pos + 512;
  e.header.assign(h, h + 512);
  if (has_long_name_) {
    e.path = long_name_;
    if (!e.path.empty() && e.path.back() == '\0') e.path.pop_back();
  } else if (has_pax_path_) {
    e.path = pax_path_;
  } else if (is_ustar(h) && h[345] != 0) {
    e.path = std::string(truncate_nul(h + 345, 155)) + "/" + std::string(truncate_nul(h, 100));
  } else {
    e.path = std::string(truncate_nul(h, 100));
  }
  if (has_long_link_) {
    e.link = long_link_;
    if (!e.link.empty() && e.link.back() == '\0') e.link.pop_back();
  } else if (has_pax_link_) {
    e.link = pax_link_;
  } else {
    e.link = std::string(truncate_nul(h + 157, 100));
  }
  has_long_name_ = has_long_link_ = has_pax_path_ = has_pax_link_ = has_pax_size_ = pax_seen_ = false;

  skip_ = padded;
  state_ = skip_ > 0 ? State::kData : State::kHeader;
  if (type == 'S' && !is_gnu(h)) {
    error = "tar header at offset " + std::to_string(header_pos) + ": sparse entry without a GNU header";
    return false;
  }
  if (type == 'S' && h[482] != 0) {
    // Old GNU sparse: extension headers follow before the data.
    state_ = State::kSparseExt;
  }
  if (++entries_ > kMaxNodes || nodes_.size() > kMaxNodes) {
    error = "tar has too many entries for a tarfs index";
    return false;
  }
  on_entry(e);
  return true;
}

bool TarfsIndexBuilder::on_extension_done(std::string& error) {
  const char type = capture_type_;
  capture_type_ = 0;
  if (type == 'L') {
    has_long_name_ = true;
    long_name_ = std::move(capture_);
  } else if (type == 'K') {
    has_long_link_ = true;
    long_link_ = std::move(capture_);
  } else if (type == 'x') {
    // Malformed records end the record list, as the tar crate's iterator skips what it cannot
    // parse instead of failing the archive.
    pax_seen_ = true;
    std::string_view s = capture_;
    while (!s.empty()) {
      size_t sp = s.find(' ');
      std::optional<uint64_t> len;
      if (sp != std::string_view::npos && sp > 0 && sp < 20) {
        uint64_t v = 0;
        bool ok = true;
        for (size_t i = 0; i < sp; ++i) {
          if (s[i] < '0' || s[i] > '9')
            ok = false;
          else
            v = v * 10 + static_cast<uint64_t>(s[i] - '0');
        }
        if (ok) len = v;
      }
      if (!len || *len <= sp + 1 || *len > s.size() || s[*len - 1] != '\n') break;
      std::string_view rec = s.substr(sp + 1, *len - sp - 2);
      s.remove_prefix(*len);
      size_t eq = rec.find('=');
      if (eq == std::string_view::npos) continue;
      std::string_view key = rec.substr(0, eq), value = rec.substr(eq + 1);
      if (key == "path") {
        has_pax_path_ = true;
        pax_path_ = value;
      } else if (key == "linkpath") {
        has_pax_link_ = true;
        pax_link_ = value;
      } else if (key == "size") {
        uint64_t v = 0;
        bool ok = !value.empty() && value.size() < 20;
        for (char c : value) {
          if (c < '0' || c > '9')
            ok = false;
          else
            v = v * 10 + static_cast<uint64_t>(c - '0');
        }
        if (ok) {
          has_pax_size_ = true;
          pax_size_ = v;
        }
      }
    }
  }
  capture_.clear();
  return true;
}

void TarfsIndexBuilder::on_entry(const Entry& e) {
  const uint8_t* h = e.header.data();
  std::optional<uint64_t> m = octal(h + 100, 8);
  if (!m) return;
  uint16_t mode = static_cast<uint16_t>(*m) & 0x1ff;
  uint64_t size = 0, offset = 0;
  bool special = false;
  switch (e.type) {
    case '0':
    case '\0':
      mode |= S_IFREG_;
      size = e.size;
      offset = e.data_pos;
      break;
    case '5': mode |= S_IFDIR_; break;
    case '6': mode |= S_IFIFO_; break;
    case '3':
    case '4': {
      mode |= e.type == '3' ? S_IFCHR_ : S_IFBLK_;
      if (!is_ustar(h) && !is_gnu(h)) return;
      std::optional<uint64_t> major = octal(h + 329, 8), minor = octal(h + 337, 8);
      if (!major || !minor) return;
      offset = (*minor & 0xffffffff) | (*major & 0xffffffff) << 32;
      break;
    }
    case '2': {
      if (e.link.empty()) return;
      mode |= S_IFLNK_;
      if (truncate_nul(h + 157, 100) != e.link) {
        special = true;
        special_links_.push_back(e.link);
      } else {
        offset = e.header_pos + 157;
      }
      size = e.link.size();
      break;
    }
    case '1': {
      if (e.link.empty()) return;
      auto target = clean_components(e.link);
      if (!target) return;
      uint32_t existing = traverse(*target);
      if ((nodes_[existing].mode & S_IFMT_) != S_IFREG_) return;
      auto path = clean_components(e.path);
      if (!path) return;
      if (path->empty()) {
        root_ = existing;
      } else {
        std::string last = path->back();
        path->pop_back();
        uint32_t parent = traverse(*path);
        nodes_[parent].children[last] = existing;
      }
      return;
    }
    default: return;
  }
  (void)special;
  auto opt = clean_components(e.path);
  if (!opt) return;
  std::vector<std::string>& path = *opt;
  if (!path.empty()) {
    std::string& last = path.back();
    if (last == ".wh..wh..opq") {
      path.pop_back();
      nodes_[traverse(path)].opaque = true;
      return;
    }
    if (last.starts_with(".wh.")) {
      last = last.substr(4);
      Node& n = nodes_[traverse(path)];
      n.children.clear();
      n.mode = static_cast<uint16_t>((n.mode & ~S_IFMT_) | S_IFCHR_);
      n.size = 0;
      n.offset = 0;
      return;
    }
  }
  Node& n = nodes_[traverse(path)];
  n = Node();
  n.mode = mode;
  n.size = size;
  n.offset = offset;
  n.mtime = numeric(h + 136, 12).value_or(0);
  n.owner = static_cast<uint32_t>(numeric(h + 108, 8).value_or(0));
  n.group = static_cast<uint32_t>(numeric(h + 116, 8).value_or(0));
}

bool TarfsIndexBuilder::bfs(const std::function<bool(Node&, uint32_t)>& visit, std::string& error) {
  // Shared (hard-linked) nodes are visited once per link, as the reference does; a cap stops
  // cycles and pathological fan-out instead of looping forever.
  const uint64_t cap = std::max<uint64_t>(uint64_t{1} << 24, nodes_.size() * 8);
  uint64_t visits = 0;
  std::deque<uint32_t> q{root_};
  while (!q.empty()) {
    uint32_t id = q.front();
    q.pop_front();
    if (++visits > cap) {
      error = "tarfs index: the directory graph is cyclic or too large";
      return false;
    }
    if (!visit(nodes_[id], id)) return false;
    for (const auto& [name, child] : nodes_[id].children) q.push_back(child);
  }
  return true;
}

bool TarfsIndexBuilder::finish(const std::function<bool(const uint8_t*, size_t)>& out, uint64_t& index_size,
                               std::string& error) {
  if (state_ == State::kData || state_ == State::kSparseExt || !hdr_.empty()) {
    error = "truncated tar: the stream ends inside an entry";
    return false;
  }
  const uint64_t tar_size = pos_;
  uint64_t ino_count = 0;
  if (!bfs(
          [&](Node& n, uint32_t) {
            if (n.ino == 0) n.ino = ++ino_count;
            return true;
          },
          error))
    return false;
  uint64_t offset = tar_size + 32 * ino_count;
  if (!bfs(
          [&](Node& n, uint32_t) {
            if ((n.mode & S_IFMT_) != S_IFDIR_) return true;
            n.offset = offset;
            n.size = 32 * static_cast<uint64_t>(n.children.size());
            offset += n.size;
            return true;
          },
          error))
    return false;
  const uint64_t string_table = offset;
  uint64_t symlink_offset = string_table;

  std::vector<uint8_t> buf;
  buf.reserve(1 << 16);
  uint64_t written = 0;
  auto flush = [&]() {
    bool ok = buf.empty() || out(buf.data(), buf.size());
    written += buf.size();
    buf.clear();
    if (!ok) error = "writing the tarfs index failed";
    return ok;
  };
  auto put = [&](const void* p, size_t n) {
    const auto* b = static_cast<const uint8_t*>(p);
    buf.insert(buf.end(), b, b + n);
    return buf.size() < (1 << 16) || flush();
  };

  if (!bfs(
          [&](Node& n, uint32_t) {
            if (n.emitted) return true;
            uint64_t inode_offset = n.offset;
            if ((n.mode & S_IFMT_) == S_IFLNK_ && n.offset == 0) {
              inode_offset = symlink_offset;
              symlink_offset += n.size;
            }
            n.emitted = true;
            uint8_t rec[32] = {};
            put_le16(rec, n.mode);
            rec[2] = n.opaque ? 1 : 0;
            rec[3] = static_cast<uint8_t>((n.mtime >> 32) & 0xf);
            put_le32(rec + 4, n.owner);
            put_le32(rec + 8, n.group);
            put_le32(rec + 12, static_cast<uint32_t>(n.mtime));
            put_le64(rec + 16, n.size);
            put_le64(rec + 24, inode_offset);
            return put(rec, sizeof rec);
          },
          error))
    return false;

  uint64_t end_offset = symlink_offset;
  if (!bfs(
          [&](Node& n, uint32_t) {
            if ((n.mode & S_IFMT_) != S_IFDIR_) return true;
            for (const auto& [name, child] : n.children) {
              uint8_t rec[32] = {};
              put_le64(rec, nodes_[child].ino);
              put_le64(rec + 8, end_offset);
              put_le64(rec + 16, name.size());
              rec[24] = dtype(nodes_[child].mode);
              if (!put(rec, sizeof rec)) return false;
              end_offset += name.size();
            }
            return true;
          },
          error))
    return false;
  for (const std::string& l : special_links_) {
    if (!put(l.data(), l.size())) return false;
    end_offset += l.size();
  }
  if (!bfs(
          [&](Node& n, uint32_t) {
            if ((n.mode & S_IFMT_) != S_IFDIR_) return true;
            for (const auto& [name, child] : n.children) {
              if (!put(name.data(), name.size())) return false;
              end_offset += name.size();
            }
            return true;
          },
          error))
    return false;
  if (!flush()) return false;

  end_offset = (end_offset + 4095) & ~uint64_t{4095};
  const uint64_t file_end = end_offset + 4096;
  uint64_t at = tar_size + written;
  if (at > end_offset + 4096 - 512) {
    error = "tarfs index: internal layout error";
    return false;
  }
  std::vector<uint8_t> zeros(1 << 16, 0);
  uint64_t gap = end_offset + 4096 - 512 - at;
  while (gap > 0) {
    size_t n = static_cast<size_t>(std::min<uint64_t>(gap, zeros.size()));
    if (!out(zeros.data(), n)) {
      error = "writing the tarfs index failed";
      return false;
    }
    gap -= n;
  }
  uint8_t tail[512] = {};
  put_le64(tail, tar_size);
  put_le64(tail + 8, ino_count);
  if (!out(tail, sizeof tail)) {
    error = "writing the tarfs index failed";
    return false;
  }
  index_size = file_end - tar_size;
  return true;
}

}  // namespace confidant::integrity
