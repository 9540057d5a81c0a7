// Kubernetes workloads + images -> Kata agent policies (see generator.h and docs/generator.md).
//
// For each pod template: resolve every image (the pause image of the settings first), compute
// each layer's tarfs dm-verity root hash and its name (the sha256 of its OCI chain ID), read
// /etc/passwd and /etc/group through the layers (top first, honouring whiteouts) to resolve users
// as containerd does, merge the image config with the pod spec as the kubelet does, and write
// policy_data from the settings' templates. Policy text = our rules + "\npolicy_data := " +
// pretty JSON; its SHA-256 is the HOST_DATA the pod's VM must be launched with.
#include <archive.h>
#include <archive_entry.h>
#include <openssl/evp.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <set>

#include "generator/generator.h"
#include "generator/kata_yaml.h"
#include "integrity/input.h"
#include "integrity/integrity.h"

namespace confidant::generator {

using ojson = nlohmann::ordered_json;

namespace {

constexpr uint64_t kMaxEtcFileBytes = 4u << 20;
constexpr size_t kMaxSettingsBytes = 4u << 20;

std::string sha256_hex(std::string_view s) {
  unsigned char md[32];
  unsigned int len = 0;
  EVP_Digest(s.data(), s.size(), md, &len, EVP_sha256(), nullptr);
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned i = 0; i < len; ++i) {
    out += hex[md[i] >> 4];
    out += hex[md[i] & 15];
  }
  return out;
}

// ---- Settings --------------------------------------------------------------------------------

// Checks that `path` ("common.cpath") exists in the settings with the given JSON type.
bool settings_has(const ojson& s, const std::string& path, ojson::value_t type, std::string& error) {
  const ojson* cur = &s;
  size_t start = 0;
  while (true) {
    size_t dot = path.find('.', start);
    std::string key = path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (!cur->is_object() || !cur->contains(key)) {
      error = "settings: " + path + " is missing";
      return false;
    }
    cur = &(*cur)[key];
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  if (cur->type() != type && !(type == ojson::value_t::number_integer && cur->is_number_integer())) {
    error = "settings: " + path + " has the wrong type";
    return false;
  }
  return true;
}

bool load_settings(const KataOptions& options, ojson& out, std::string& error) {
  std::string_view text = options.settings.empty() ? kata_default_settings() : std::string_view(options.settings);
  out = ojson::parse(text, nullptr, false);
  if (!out.is_object()) {
    error = "settings: not a JSON object";
    return false;
  }
  for (size_t i = 0; i < options.settings_patches.size(); ++i) {
    ojson patch = ojson::parse(options.settings_patches[i], nullptr, false);
    if (!patch.is_array()) {
      error = "settings patch " + std::to_string(i + 1) + ": not a JSON Patch array";
      return false;
    }
    try {
      out = out.patch(patch);
    } catch (const std::exception& e) {
      error = "settings patch " + std::to_string(i + 1) + ": " + e.what();
      return false;
    }
  }
  using T = ojson::value_t;
  const std::pair<const char*, T> required[] = {
      {"pause_container.OCI.Process", T::object},  {"pause_container.OCI.Root", T::object},
      {"pause_container.OCI.Mounts", T::array},    {"pause_container.OCI.Annotations", T::object},
      {"pause_container.OCI.Linux", T::object},    {"other_container.OCI.Process", T::object},
      {"other_container.OCI.Root", T::object},     {"other_container.OCI.Mounts", T::array},
      {"other_container.OCI.Annotations", T::object}, {"other_container.OCI.Linux", T::object},
      {"layer_storage", T::object},                {"overlay_storage", T::object},
      {"volumes.emptyDir.storage", T::object},     {"volumes.emptyDir.mount_source", T::string},
      {"volumes.emptyDir.mount_type", T::string},  {"volumes.emptyDir_memory.storage", T::object},
      {"volumes.emptyDir_memory.mount_source", T::string}, {"volumes.emptyDir_memory.mount_type", T::string},
      {"volumes.shared_file.mount_source", T::string}, {"volumes.shared_file.mount_type", T::string},
      {"volumes.service_account", T::string},      {"kata_config.oci_version", T::string},
      {"cluster_config.pause_container_image", T::string}, {"cluster_config.cgroup_mount_extras_allowed", T::array},
      {"common.cpath", T::string},                 {"common.sfprefix", T::string},
      {"common.spath", T::string},                 {"common.ipv4_a", T::string},
      {"common.ip_p", T::string},                  {"common.svc_name_downward_env", T::string},
      {"common.dns_label", T::string},             {"common.default_caps", T::array},
      {"common.privileged_caps", T::array},        {"common.layer_src_prefix", T::string},
      {"common.layers_path", T::string},           {"sandbox.storages", T::array},
      {"request_defaults.CreateContainerRequest.allow_env_regex", T::array},
      {"request_defaults.ExecProcessRequest.allowed_commands", T::array},
      {"request_defaults.ExecProcessRequest.regex", T::array},
      {"request_defaults.CopyFileRequest", T::array},
      {"request_defaults.UpdateRoutesRequest", T::object},
      {"request_defaults.UpdateInterfaceRequest", T::object},
      {"request_defaults.AddARPNeighborsRequest", T::object},
  };
  for (const auto& [path, type] : required)
    if (!settings_has(out, path, type, error)) return false;
  return true;
}

// ---- Image layers ----------------------------------------------------------------------------

// What one layer holds of /etc/passwd and /etc/group.
struct EtcFile {
  enum State { kAbsent, kFile, kWhiteout } state = kAbsent;
  std::string content;
};

struct LayerEtc {
  EtcFile passwd, group;
  bool opaque = false;   // etc/.wh..wh..opq: lower layers' /etc is hidden
  bool removed = false;  // .wh.etc
};

ojson etc_to_json(const LayerEtc& e) {
  auto file = [](const EtcFile& f) {
    static const char* states[] = {"absent", "file", "whiteout"};
    ojson j = {{"state", states[f.state]}};
    if (f.state == EtcFile::kFile) j["content"] = f.content;
    return j;
  };
  return ojson{{"passwd", file(e.passwd)}, {"group", file(e.group)}, {"opaque", e.opaque}, {"removed", e.removed}};
}

bool etc_from_json(const ojson& j, LayerEtc& e) {
  auto file = [](const ojson& f, EtcFile& out) {
    if (!f.is_object() || !f.contains("state") || !f["state"].is_string()) return false;
    std::string s = f["state"].get<std::string>();
    if (s == "absent") {
      out.state = EtcFile::kAbsent;
    } else if (s == "whiteout") {
      out.state = EtcFile::kWhiteout;
    } else if (s == "file" && f.contains("content") && f["content"].is_string()) {
      out.state = EtcFile::kFile;
      out.content = f["content"].get<std::string>();
    } else {
      return false;
    }
    return true;
  };
  if (!j.is_object() || !j.contains("passwd") || !j.contains("group") || !j.contains("opaque") ||
      !j.contains("removed") || !j["opaque"].is_boolean() || !j["removed"].is_boolean())
    return false;
  if (!file(j["passwd"], e.passwd) || !file(j["group"], e.group)) return false;
  e.opaque = j["opaque"].get<bool>();
  e.removed = j["removed"].get<bool>();
  return true;
}

// Reads a layer tar for the entries that decide /etc/passwd and /etc/group.
bool scan_layer_etc(const std::string& path, LayerEtc& out, std::string& error) {
  integrity::ArchivePtr a;
  if (!integrity::open_tar_archive(path, a, error)) return false;
  out = LayerEtc{};
  archive_entry* entry = nullptr;
  for (;;) {
    int r = archive_read_next_header(a.get(), &entry);
    if (r == ARCHIVE_EOF) break;
    if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {
      error = integrity::archive_error(a.get(), path);
      return false;
    }
    const char* raw = archive_entry_pathname(entry);
    std::string name = raw ? raw : "";
    while (name.starts_with("./")) name.erase(0, 2);
    while (name.starts_with("/")) name.erase(0, 1);
    EtcFile* target = nullptr;
    if (name == "etc/passwd") target = &out.passwd;
    if (name == "etc/group") target = &out.group;
    if (name == "etc/.wh.passwd") out.passwd = {EtcFile::kWhiteout, ""};
    if (name == "etc/.wh.group") out.group = {EtcFile::kWhiteout, ""};
    if (name == "etc/.wh..wh..opq") out.opaque = true;
    if (name == ".wh.etc") out.removed = true;
    if (!target) continue;
    // A link in place of the file: there is no user database to read (as if empty).
    target->state = EtcFile::kFile;
    target->content.clear();
    if (archive_entry_filetype(entry) != AE_IFREG || archive_entry_hardlink(entry)) continue;
    if (archive_entry_size(entry) > static_cast<la_int64_t>(kMaxEtcFileBytes)) {
      error = path + ": /" + name + " is larger than 4 MiB";
      return false;
    }
    char buf[65536];
    for (;;) {
      la_ssize_t n = archive_read_data(a.get(), buf, sizeof buf);
      if (n < 0) {
        error = integrity::archive_error(a.get(), path);
        return false;
      }
      if (n == 0) break;
      target->content.append(buf, static_cast<size_t>(n));
      if (target->content.size() > kMaxEtcFileBytes) {
        error = path + ": /" + name + " is larger than 4 MiB";
        return false;
      }
    }
  }
  return true;
}

struct LayerData {
  std::string diff_id;
  std::string path;  // a blob holding the layer
  std::string root_hash;
  std::optional<LayerEtc> etc;
};

// Layer data shared by every workload of one run, backed by the on-disk cache: one small JSON
// file per diff_id, written under a temporary name and renamed, with a checksum so that a damaged
// entry is recomputed rather than trusted.
class LayerStore {
 public:
  explicit LayerStore(std::string cache_dir) : dir_(std::move(cache_dir)) {}

  LayerData& get(const image::Layer& l) {
    auto [it, fresh] = layers_.try_emplace(l.diff_id);
    if (fresh) {
      it->second.diff_id = l.diff_id;
      it->second.path = l.path;
      load(it->second);
    }
    return it->second;
  }

  // Root hashes of every layer of `img` not known yet, hashed in parallel.
  bool hash(const image::Image& img, const std::string& ref, const ProgressFn& progress, std::string& error) {
    std::vector<LayerData*> todo;
    for (const auto& l : img.layers) {
      LayerData& d = get(l);
      if (d.root_hash.empty() && std::find(todo.begin(), todo.end(), &d) == todo.end()) todo.push_back(&d);
    }
    if (todo.empty()) return true;
    if (progress)
      progress("hashing " + std::to_string(todo.size()) + " of " + std::to_string(img.layers.size()) +
               " layers of " + ref);
    std::vector<std::string> paths;
    for (auto* d : todo) paths.push_back(d->path);
    std::vector<integrity::RootHash> roots;
    std::vector<std::string> errors;
    if (!integrity::layer_root_hashes(integrity::LayerFormat::kKata, paths, 0, roots, errors)) {
      for (size_t k = 0; k < errors.size(); ++k)
        if (!errors[k].empty()) {
          error = "image " + ref + ": layer " + todo[k]->diff_id + ": " + errors[k];
          return false;
        }
      error = "image " + ref + ": layer hashing failed";
      return false;
    }
    for (size_t k = 0; k < todo.size(); ++k) {
      todo[k]->root_hash = integrity::to_hex(roots[k]);
      store(*todo[k]);
    }
    return true;
  }

  // /etc/passwd and /etc/group of the image's merged root file system (nullopt: absent).
  bool etc_files(const image::Image& img, const std::string& ref, std::optional<std::string>& passwd,
                 std::optional<std::string>& group, std::string& error) {
    passwd.reset();
    group.reset();
    bool passwd_done = false, group_done = false;
    for (size_t i = img.layers.size(); i-- > 0 && !(passwd_done && group_done);) {
      LayerData& d = get(img.layers[i]);
      if (!d.etc) {
        LayerEtc e;
        if (!scan_layer_etc(d.path, e, error)) {
          error = "image " + ref + ": " + error;
          return false;
        }
        d.etc = e;
        store(d);
      }
      auto decide = [&](const EtcFile& f, std::optional<std::string>& out, bool& done) {
        if (done) return;
        if (f.state == EtcFile::kFile) {
          out = f.content;
          done = true;
        } else if (f.state == EtcFile::kWhiteout || d.etc->opaque || d.etc->removed) {
          done = true;  // deleted here: lower layers do not count
        }
      };
      decide(d.etc->passwd, passwd, passwd_done);
      decide(d.etc->group, group, group_done);
    }
    return true;
  }

 private:
  std::string entry_path(const std::string& diff_id) const {
    if (dir_.empty() || diff_id.size() != 71 || !diff_id.starts_with("sha256:")) return "";
    for (size_t i = 7; i < diff_id.size(); ++i)
      if (!std::isxdigit(static_cast<unsigned char>(diff_id[i]))) return "";
    return dir_ + "/verity-kata/" + diff_id.substr(7) + ".json";
  }

  static std::string check_of(const std::string& diff_id, const std::string& root, const ojson& etc) {
    return sha256_hex(diff_id + "\n" + root + "\n" + etc.dump());
  }

  void load(LayerData& d) {
    std::string path = entry_path(d.diff_id);
    if (path.empty()) return;
    std::ifstream f(path);
    if (!f) return;
    std::string text((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    ojson j = ojson::parse(text, nullptr, false);
    if (!j.is_object() || !j.contains("root_hash") || !j["root_hash"].is_string() || !j.contains("check") ||
        !j["check"].is_string() || j.value("diff_id", "") != d.diff_id)
      return;
    std::string root = j["root_hash"].get<std::string>();
    integrity::RootHash parsed;
    ojson etc = j.contains("etc") ? j["etc"] : ojson(nullptr);
    if (!integrity::parse_hex(root, parsed) || j["check"].get<std::string>() != check_of(d.diff_id, root, etc))
      return;  // damaged: recompute
    LayerEtc e;
    if (!etc.is_null() && !etc_from_json(etc, e)) return;
    d.root_hash = root;
    if (!etc.is_null()) d.etc = e;
  }

  void store(const LayerData& d) {
    std::string path = entry_path(d.diff_id);
    if (path.empty() || d.root_hash.empty()) return;
    std::error_code ec;
    std::filesystem::create_directories(dir_ + "/verity-kata", ec);
    static thread_local std::mt19937_64 rng{std::random_device{}()};
    std::string tmp = path + ".tmp." + std::to_string(getpid()) + "." + std::to_string(rng());
    ojson etc = d.etc ? etc_to_json(*d.etc) : ojson(nullptr);
    {
      std::ofstream f(tmp, std::ios::trunc);
      ojson j = {{"diff_id", d.diff_id}, {"root_hash", d.root_hash}};
      if (d.etc) j["etc"] = etc;
      j["check"] = check_of(d.diff_id, d.root_hash, etc);
      f << j.dump() << "\n";
      if (!f) return;
    }
    std::filesystem::rename(tmp, path, ec);
    if (ec) std::filesystem::remove(tmp, ec);
  }

  std::string dir_;
  std::map<std::string, LayerData> layers_;
};

// Layer names (sha256 of the OCI chain ID string) and root hashes, top layer first.
void layer_lists(const image::Image& img, LayerStore& store, std::vector<std::string>& names,
                 std::vector<std::string>& hashes) {
  std::vector<std::string> chain;
  for (size_t i = 0; i < img.layers.size(); ++i)
    chain.push_back(i == 0 ? img.layers[0].diff_id : "sha256:" + sha256_hex(chain[i - 1] + " " + img.layers[i].diff_id));
  names.clear();
  hashes.clear();
  for (size_t i = img.layers.size(); i-- > 0;) {
    names.push_back(sha256_hex(chain[i]));
    hashes.push_back(store.get(img.layers[i]).root_hash);
  }
}

// ---- Users -----------------------------------------------------------------------------------

struct PasswdEntry {
  std::string name;
  uint32_t uid = 0, gid = 0;
};

struct GroupEntry {
  std::string name;
  uint32_t gid = 0;
  std::vector<std::string> members;
};

std::vector<std::string> split(std::string_view s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    size_t at = s.find(sep, start);
    out.emplace_back(s.substr(start, at == std::string_view::npos ? std::string_view::npos : at - start));
    if (at == std::string_view::npos) return out;
    start = at + 1;
  }
}

std::optional<uint32_t> parse_id(std::string_view s) {
  if (s.empty() || s.size() > 10) return std::nullopt;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + (c - '0');
  }
  if (v > UINT32_MAX) return std::nullopt;
  return static_cast<uint32_t>(v);
}

// Malformed lines are skipped, as libc and containerd's parsers do.
std::vector<PasswdEntry> parse_passwd(const std::string& text) {
  std::vector<PasswdEntry> out;
  for (const auto& line : split(text, '\n')) {
    auto f = split(line, ':');
    if (f.size() < 4 || f[0].empty() || f[0][0] == '#') continue;
    auto uid = parse_id(f[2]), gid = parse_id(f[3]);
    if (!uid || !gid) continue;
    out.push_back({f[0], *uid, *gid});
  }
  return out;
}

std::vector<GroupEntry> parse_group(const std::string& text) {
  std::vector<GroupEntry> out;
  for (const auto& line : split(text, '\n')) {
    auto f = split(line, ':');
    if (f.size() < 3 || f[0].empty() || f[0][0] == '#') continue;
    auto gid = parse_id(f[2]);
    if (!gid) continue;
    GroupEntry g{f[0], *gid, {}};
    if (f.size() > 3 && !f[3].empty())
      for (auto& m : split(f[3], ',')) g.members.push_back(m);
    out.push_back(std::move(g));
  }
  return out;
}

struct UserDb {
  std::vector<PasswdEntry> passwd;
  std::vector<GroupEntry> group;
};

struct ResolvedUser {
  uint32_t uid = 0, gid = 0;
  std::vector<uint32_t> additional_gids;
};

// containerd's oci.WithUser: "uid" (gid from /etc/passwd, else 0), "name", "uid:gid", "name:group",
// ...; names must exist in the image.
bool with_user(const std::string& userstr, const UserDb& db, ResolvedUser& out, std::string& error) {
  std::string user = userstr, group;
  if (size_t colon = userstr.find(':'); colon != std::string::npos) {
    user = userstr.substr(0, colon);
    group = userstr.substr(colon + 1);
  }
  if (auto uid = parse_id(user)) {
    out.uid = *uid;
    out.gid = 0;
    for (const auto& p : db.passwd)
      if (p.uid == *uid) {
        out.gid = p.gid;
        break;
      }
  } else {
    auto it = std::find_if(db.passwd.begin(), db.passwd.end(), [&](const PasswdEntry& p) { return p.name == user; });
    if (it == db.passwd.end()) {
      error = "user '" + user + "' is not in the image's /etc/passwd";
      return false;
    }
    out.uid = it->uid;
    out.gid = it->gid;
  }
  if (!group.empty()) {
    if (auto gid = parse_id(group)) {
      out.gid = *gid;
    } else {
      auto it = std::find_if(db.group.begin(), db.group.end(), [&](const GroupEntry& g) { return g.name == group; });
      if (it == db.group.end()) {
        error = "group '" + group + "' is not in the image's /etc/group";
        return false;
      }
      out.gid = it->gid;
    }
  }
  return true;
}

void add_gid(std::vector<uint32_t>& gids, uint32_t gid) {
  if (std::find(gids.begin(), gids.end(), gid) == gids.end()) gids.push_back(gid);
}

// containerd's WithAdditionalGIDs: the primary group, then the groups listing the user (by name)
// as a member; then the pod's supplemental groups (fsGroup included).
void additional_gids(const std::string& user, const UserDb& db, const std::vector<int64_t>& supplemental,
                     ResolvedUser& out) {
  out.additional_gids.clear();
  add_gid(out.additional_gids, out.gid);
  std::string name = user;
  if (auto uid = parse_id(user)) {
    name.clear();
    for (const auto& p : db.passwd)
      if (p.uid == *uid) {
        name = p.name;
        break;
      }
  }
  if (!name.empty())
    for (const auto& g : db.group)
      if (g.name != name && std::find(g.members.begin(), g.members.end(), name) != g.members.end())
        add_gid(out.additional_gids, g.gid);
  for (int64_t g : supplemental) add_gid(out.additional_gids, static_cast<uint32_t>(g));
}

// ---- policy_data -----------------------------------------------------------------------------

std::string basename_of(const std::string& path) {
  std::string p = path;
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  size_t slash = p.rfind('/');
  return slash == std::string::npos ? p : p.substr(slash + 1);
}

ojson string_array(const std::vector<std::string>& v) {
  ojson a = ojson::array();
  for (const auto& s : v) a.push_back(s);
  return a;
}

ojson escaped_array(const std::vector<std::string>& v) {
  ojson a = ojson::array();
  for (const auto& s : v) a.push_back(kata::template_literal(s));
  return a;
}

// The image's environment as containerd applies it: a later entry replaces an earlier one of the
// same name (in its place); names in `skip` (set by the pod) are left out. As templates.
ojson image_env(const std::vector<std::string>& env, const std::set<std::string>& skip) {
  std::vector<std::string> out;
  std::map<std::string, size_t> index;
  for (const auto& kv : env) {
    std::string name = kv.substr(0, kv.find('='));
    if (skip.count(name)) continue;
    if (auto it = index.find(name); it != index.end()) {
      out[it->second] = kv;
    } else {
      index[name] = out.size();
      out.push_back(kv);
    }
  }
  return escaped_array(out);
}

ojson bind_mount(const std::string& destination, const std::string& source, const std::string& type,
                 const std::vector<std::string>& options) {
  return ojson{{"destination", destination}, {"source", source}, {"type_", type}, {"options", string_array(options)}};
}

// One workload's policy_data.
class PodPolicy {
 public:
  PodPolicy(const ojson& settings, const kata::Pod& pod, const ImageResolver& images, LayerStore& store,
            std::map<std::string, image::Image>& resolved, const ProgressFn& progress)
      : s_(settings), pod_(pod), images_(images), store_(store), resolved_(resolved), progress_(progress) {}

  bool build(ojson& policy_data, std::string& error) {
    ojson containers = ojson::array();
    ojson c;
    if (!pause_container(c, error)) return false;
    containers.push_back(std::move(c));
    for (const auto& k : pod_.containers) {
      if (!app_container(k, c, error)) {
        error = "container '" + k.name + "': " + error;
        return false;
      }
      containers.push_back(std::move(c));
    }
    policy_data = ojson::object();
    policy_data["containers"] = std::move(containers);
    policy_data["common"] = s_["common"];
    policy_data["sandbox"] = s_["sandbox"];
    policy_data["request_defaults"] = s_["request_defaults"];
    policy_data["cluster_config"] = s_["cluster_config"];
    return true;
  }

 private:
  bool image_of(const std::string& ref, const image::Image*& out, std::string& error) {
    auto it = resolved_.find(ref);
    if (it == resolved_.end()) {
      image::Image img;
      std::string e;
      if (!images_ || !images_(ref, img, e)) {
        error = "image " + ref + ": " + (e.empty() ? "not found" : e);
        return false;
      }
      if (img.layers.empty()) {
        error = "image " + ref + ": has no layers";
        return false;
      }
      it = resolved_.emplace(ref, std::move(img)).first;
    }
    if (!store_.hash(it->second, ref, progress_, error)) return false;
    out = &it->second;
    return true;
  }

  bool user_db(const image::Image& img, const std::string& ref, UserDb& db, std::string& error) {
    std::optional<std::string> passwd, group;
    if (!store_.etc_files(img, ref, passwd, group, error)) return false;
    db.passwd = passwd ? parse_passwd(*passwd) : std::vector<PasswdEntry>{};
    db.group = group ? parse_group(*group) : std::vector<GroupEntry>{};
    return true;
  }

  ojson storages(const image::Image& img) {
    std::vector<std::string> names, hashes;
    layer_lists(img, store_, names, hashes);
    ojson out = ojson::array();
    for (size_t i = 0; i < names.size(); ++i) {
      const ojson& t = s_["layer_storage"];
      ojson st = ojson::object();
      st["driver"] = t.value("driver", "blk");
      st["driver_options"] = t.value("driver_options", ojson::array());
      st["source"] = t.value("source", "");
      st["fstype"] = t.value("fstype", "tar");
      st["options"] = ojson::array({"$(hash" + std::to_string(i) + ")"});
      st["mount_point"] = "$(layer" + std::to_string(i) + ")";
      st["fs_group"] = t.value("fs_group", ojson(nullptr));
      out.push_back(std::move(st));
    }
    const ojson& t = s_["overlay_storage"];
    ojson overlay = ojson::object();
    overlay["driver"] = t.value("driver", "overlayfs");
    overlay["driver_options"] = t.value("driver_options", ojson::array());
    overlay["source"] = t.value("source", "none");
    overlay["fstype"] = t.value("fstype", "fuse3.kata-overlay");
    std::string joined_names, joined_hashes;
    for (size_t i = 0; i < names.size(); ++i) {
      joined_names += (i ? ":" : "") + names[i];
      joined_hashes += (i ? ":" : "") + hashes[i];
    }
    overlay["options"] = ojson::array({joined_names, joined_hashes});
    overlay["mount_point"] = t.value("mount_point", "$(cpath)/$(bundle-id)");
    overlay["fs_group"] = t.value("fs_group", ojson(nullptr));
    out.push_back(std::move(overlay));
    return out;
  }

  ojson user_json(const ResolvedUser& u) {
    ojson gids = ojson::array();
    for (uint32_t g : u.additional_gids) gids.push_back(g);
    return ojson{{"UID", u.uid}, {"GID", u.gid}, {"AdditionalGids", gids}, {"Username", ""}};
  }

  ojson annotations(const ojson& base, const std::vector<std::pair<std::string, std::string>>& extra) {
    std::map<std::string, ojson> sorted;  // the policy lists annotations in key order
    for (auto it = base.begin(); it != base.end(); ++it) sorted[it.key()] = it.value();
    for (const auto& [k, v] : extra) sorted[k] = v;
    ojson out = ojson::object();
    for (auto& [k, v] : sorted) out[k] = v;
    return out;
  }

  void add_sysctls(ojson& linux_json) {
    if (pod_.sysctls.empty()) return;
    ojson sysctl = ojson::object();
    for (const auto& [k, v] : pod_.sysctls) sysctl[k] = v;
    linux_json["Sysctl"] = sysctl;
  }

  ojson container_json(ojson oci, ojson stor, ojson exec_commands, bool sandbox_pidns) {
    ojson c = ojson::object();
    c["OCI"] = std::move(oci);
    c["storages"] = std::move(stor);
    c["devices"] = ojson::array();
    c["sandbox_pidns"] = sandbox_pidns;
    c["exec_commands"] = std::move(exec_commands);
    c["runtime_anno_patterns"] = ojson::object();
    return c;
  }

  ojson oci_skeleton(const ojson& tmpl) {
    ojson oci = ojson::object();
    oci["Version"] = s_["kata_config"]["oci_version"];
    oci["Process"] = ojson::object();
    oci["Root"] = tmpl["Root"];
    oci["Mounts"] = tmpl["Mounts"];
    oci["Annotations"] = ojson::object();
    oci["Linux"] = tmpl["Linux"];
    return oci;
  }

  bool pause_container(ojson& out, std::string& error) {
    const std::string ref = s_["cluster_config"]["pause_container_image"].get<std::string>();
    const image::Image* img = nullptr;
    if (!image_of(ref, img, error)) {
      error = "the pause container: " + error;
      return false;
    }
    const ojson& tmpl = s_["pause_container"]["OCI"];
    UserDb db;
    if (!user_db(*img, ref, db, error)) return false;
    // The sandbox runs as the pod's runAsUser[:runAsGroup], else as the image's user.
    std::string image_user = img->config.user;
    std::string userstr;
    if (pod_.run_as_user)
      userstr = std::to_string(*pod_.run_as_user) + (pod_.run_as_group ? ":" + std::to_string(*pod_.run_as_group) : "");
    else if (pod_.run_as_group)
      userstr = (image_user.empty() ? "0" : image_user.substr(0, image_user.find(':'))) + ":" +
                std::to_string(*pod_.run_as_group);
    else
      userstr = image_user.empty() ? "0" : image_user;
    ResolvedUser u;
    if (!with_user(userstr, db, u, error)) {
      error = "the pause container: " + error;
      return false;
    }
    u.additional_gids = {u.gid};
    for (int64_t g : pod_.supplemental_groups) add_gid(u.additional_gids, static_cast<uint32_t>(g));

    std::vector<std::string> args = img->config.entrypoint;
    args.insert(args.end(), img->config.cmd.begin(), img->config.cmd.end());
    if (args.empty()) {
      error = "the pause image " + ref + " names no command";
      return false;
    }
    ojson oci = oci_skeleton(tmpl);
    ojson& proc = oci["Process"];
    proc["Terminal"] = tmpl["Process"].value("Terminal", false);
    proc["User"] = user_json(u);
    proc["Args"] = escaped_array(args);
    proc["Env"] = image_env(img->config.env, {});
    proc["Cwd"] = img->config.working_dir.empty() ? "/" : img->config.working_dir;
    proc["Capabilities"] = tmpl["Process"]["Capabilities"];
    proc["NoNewPrivileges"] = tmpl["Process"].value("NoNewPrivileges", true);
    oci["Annotations"] = annotations(tmpl["Annotations"], {{"io.kubernetes.cri.sandbox-name", pod_.sandbox_name_regex},
                                                          {"io.kubernetes.cri.sandbox-namespace", pod_.namespace_}});
    add_sysctls(oci["Linux"]);
    out = container_json(std::move(oci), storages(*img), ojson::array(), false);
    return true;
  }

  bool capabilities(const kata::Container& k, ojson& out, std::string& error) {
    auto placeholder = [](const char* name) { return ojson::array({std::string("$(") + name + ")"}); };
    ojson set;
    if (k.privileged) {
      set = placeholder("privileged_caps");
    } else if (k.cap_add.empty() && k.cap_drop.empty()) {
      set = placeholder("default_caps");
    } else {
      std::vector<std::string> all, caps;
      for (const auto& c : s_["common"]["privileged_caps"]) all.push_back(c.get<std::string>());
      for (const auto& c : s_["common"]["default_caps"]) caps.push_back(c.get<std::string>());
      auto full = [&](const std::string& c, std::string& cap) {
        cap = c.starts_with("CAP_") ? c : "CAP_" + c;
        if (std::find(all.begin(), all.end(), cap) != all.end()) return true;
        error = "unknown capability '" + c + "'";
        return false;
      };
      // containerd adds, then drops; "ALL" stands for every capability.
      for (const auto& a : k.cap_add) {
        std::string cap;
        if (a == "ALL") {
          caps = all;
          continue;
        }
        if (!full(a, cap)) return false;
        if (std::find(caps.begin(), caps.end(), cap) == caps.end()) caps.push_back(cap);
      }
      for (const auto& d : k.cap_drop) {
        std::string cap;
        if (d == "ALL") {
          caps.clear();
          continue;
        }
        if (!full(d, cap)) return false;
        caps.erase(std::remove(caps.begin(), caps.end(), cap), caps.end());
      }
      set = string_array(caps);
    }
    out = ojson{{"Ambient", ojson::array()},
                {"Bounding", set},
                {"Effective", set},
                {"Inheritable", ojson::array()},
                {"Permitted", set}};
    return true;
  }

  bool app_container(const kata::Container& k, ojson& out, std::string& error) {
    const image::Image* img = nullptr;
    if (!image_of(k.image, img, error)) return false;
    const ojson& tmpl = s_["other_container"]["OCI"];
    UserDb db;
    if (!user_db(*img, k.image, db, error)) return false;

    // The kubelet passes runAsUser (else the image's user, without its group, else 0) and
    // runAsGroup; containerd resolves them in the image.
    const std::string& image_user = img->config.user;
    std::string user = k.run_as_user ? std::to_string(*k.run_as_user)
                                     : (image_user.empty() ? "0" : image_user.substr(0, image_user.find(':')));
    std::string userstr = user + (k.run_as_group ? ":" + std::to_string(*k.run_as_group) : "");
    ResolvedUser u;
    if (!with_user(userstr, db, u, error)) return false;
    additional_gids(user, db, pod_.supplemental_groups, u);
    if (k.run_as_non_root && u.uid == 0) {
      error = "runAsNonRoot is set but the container would run as root (the kubelet refuses to start it)";
      return false;
    }

    // Kubernetes: command replaces the image's entrypoint (and drops its cmd), args replace cmd.
    std::vector<std::string> args;
    if (k.command) {
      args = *k.command;
      if (k.args) args.insert(args.end(), k.args->begin(), k.args->end());
    } else {
      for (const auto& a : img->config.entrypoint) args.push_back(kata::template_literal(a));
      if (k.args)
        args.insert(args.end(), k.args->begin(), k.args->end());
      else
        for (const auto& a : img->config.cmd) args.push_back(kata::template_literal(a));
    }
    if (args.empty()) {
      error = "no command: neither the pod spec nor image " + k.image + " gives one";
      return false;
    }

    // Environment: the image's (unless the pod redefines the name), HOSTNAME, the pod's.
    std::set<std::string> pod_names;
    for (const auto& e : k.env) pod_names.insert(e.name);
    ojson env = image_env(img->config.env, pod_names);
    if (!pod_names.count("HOSTNAME")) env.push_back("HOSTNAME=$(host-name)");
    for (const auto& e : k.env) env.push_back(e.name + "=" + e.value);
    if (k.tty && !pod_names.count("TERM")) env.push_back("TERM=xterm");

    ojson caps;
    if (!capabilities(k, caps, error)) return false;

    ojson oci = oci_skeleton(tmpl);
    ojson& proc = oci["Process"];
    proc["Terminal"] = k.tty;
    proc["User"] = user_json(u);
    proc["Args"] = string_array(args);
    proc["Env"] = std::move(env);
    proc["Cwd"] = !k.working_dir.empty() ? k.working_dir
                                         : (img->config.working_dir.empty() ? "/" : img->config.working_dir);
    proc["Capabilities"] = std::move(caps);
    proc["NoNewPrivileges"] = k.allow_privilege_escalation == false;
    oci["Root"]["Readonly"] = k.read_only_root;
    oci["Annotations"] = annotations(tmpl["Annotations"], {{"io.kubernetes.cri.container-name", k.name},
                                                          {"io.kubernetes.cri.image-name", k.image},
                                                          {"io.kubernetes.cri.sandbox-name", pod_.sandbox_name_regex},
                                                          {"io.kubernetes.cri.sandbox-namespace", pod_.namespace_}});
    if (k.privileged) {
      // Privileged containers see /sys and cgroups read-write and nothing masked.
      for (auto& m : oci["Mounts"])
        if (m["type_"] == "sysfs" || m["type_"] == "cgroup")
          for (auto& o : m["options"])
            if (o == "ro") o = "rw";
      oci["Linux"]["MaskedPaths"] = ojson::array();
      oci["Linux"]["ReadonlyPaths"] = ojson::array();
    }
    add_sysctls(oci["Linux"]);

    ojson stor = storages(*img);
    if (!mounts(k, oci["Mounts"], stor, error)) return false;
    ojson execs = ojson::array();
    for (const auto& cmd : k.exec_commands) execs.push_back(string_array(cmd));
    out = container_json(std::move(oci), std::move(stor), std::move(execs), pod_.share_process_namespace);
    return true;
  }

  // The kubelet's mounts (hosts, termination log, hostname, resolv.conf, service account token)
  // and the pod's volumes, with the storages emptyDir volumes need.
  bool mounts(const kata::Container& k, ojson& out, ojson& stor, std::string& error) {
    const ojson& vols = s_["volumes"];
    const std::string shared = vols["shared_file"]["mount_source"].get<std::string>();
    const std::string shared_type = vols["shared_file"]["mount_type"].get<std::string>();
    auto shared_source = [&](const std::string& path) { return shared + kata::regex_quote(basename_of(path)) + "$"; };
    std::set<std::string> user_paths;
    for (const auto& m : k.mounts) user_paths.insert(m.path);
    const std::string root_rw = k.read_only_root ? "ro" : "rw";
    std::vector<ojson> kubelet = {
        bind_mount("/etc/hosts", shared_source("hosts"), shared_type, {"rbind", "rprivate", "rw"}),
        bind_mount(k.termination_message_path, shared_source(k.termination_message_path), shared_type,
                   {"rbind", "rprivate", "rw"}),
        bind_mount("/etc/hostname", shared_source("hostname"), shared_type, {"rbind", "rprivate", root_rw}),
        bind_mount("/etc/resolv.conf", shared_source("resolv.conf"), shared_type, {"rbind", "rprivate", root_rw}),
    };
    const std::string sa = vols["service_account"].get<std::string>();
    if (pod_.automount_service_account_token)
      kubelet.push_back(bind_mount(sa, shared_source(sa), shared_type, {"rbind", "rprivate", "ro"}));
    for (auto& m : kubelet)
      if (!user_paths.count(m["destination"].get<std::string>())) out.push_back(std::move(m));

    std::set<std::string> storage_added;
    for (const auto& m : k.mounts) {
      auto v = std::find_if(pod_.volumes.begin(), pod_.volumes.end(),
                            [&](const kata::Volume& x) { return x.name == m.volume; });
      if (v == pod_.volumes.end()) {
        error = "no volume named '" + m.volume + "'";
        return false;
      }
      std::vector<std::string> options = {"rbind", m.propagation, m.read_only ? "ro" : "rw"};
      if (v->kind == "emptyDir" || v->kind == "emptyDir_memory") {
        const ojson& t = vols[v->kind];
        std::string source = t["mount_source"].get<std::string>() + v->name + "$";
        out.push_back(bind_mount(m.path, source, t["mount_type"].get<std::string>(), options));
        if (storage_added.insert(v->name).second) {
          ojson st = t["storage"];
          st["mount_point"] = st.value("mount_point", std::string()) + v->name + "$";
          if (v->kind == "emptyDir" && pod_.fs_group)
            st["fs_group"] = ojson{{"group_id", *pod_.fs_group},
                                   {"group_change_policy", pod_.fs_group_change_policy == "OnRootMismatch" ? 1 : 0}};
          stor.push_back(std::move(st));
        }
      } else {
        out.push_back(bind_mount(m.path, shared_source(m.path), shared_type, options));
      }
    }
    return true;
  }

  const ojson& s_;
  const kata::Pod& pod_;
  const ImageResolver& images_;
  LayerStore& store_;
  std::map<std::string, image::Image>& resolved_;
  const ProgressFn& progress_;
};

}  // namespace

bool load_kata_settings(const std::string& path, KataOptions& options, std::string& error) {
  namespace fs = std::filesystem;
  std::error_code ec;
  std::vector<fs::path> files;
  if (fs::is_directory(path, ec)) {
    for (const auto& e : fs::directory_iterator(path, ec))
      if (e.path().extension() == ".json" && e.is_regular_file()) files.push_back(e.path());
    if (ec) {
      error = path + ": " + ec.message();
      return false;
    }
    std::sort(files.begin(), files.end());
    if (files.empty()) {
      error = path + ": no *.json settings files";
      return false;
    }
  } else {
    files.push_back(path);
  }
  for (const auto& f : files) {
    std::ifstream in(f, std::ios::binary);
    if (!in) {
      error = f.string() + ": cannot read";
      return false;
    }
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (text.size() > kMaxSettingsBytes) {
      error = f.string() + ": larger than 4 MiB";
      return false;
    }
    ojson j = ojson::parse(text, nullptr, false);
    if (j.is_object()) {
      options.settings = text;
    } else if (j.is_array()) {
      options.settings_patches.push_back(text);
    } else {
      error = f.string() + ": neither a settings object nor a JSON Patch array";
      return false;
    }
  }
  return true;
}

bool generate_kata(std::string_view yaml, const ImageResolver& images, const KataOptions& options, KataGenerated& out,
                   std::string& error, const ProgressFn& progress) {
  out = KataGenerated{};
  ojson settings;
  if (!load_settings(options, settings, error)) return false;
  kata::Manifests manifests;
  if (!kata::parse_manifests(yaml, options.config_documents, manifests, error)) return false;
  if (manifests.pods.empty()) {
    error = "the manifests hold no workload with a pod template";
    return false;
  }
  LayerStore store(options.cache_dir);
  std::map<std::string, image::Image> resolved;
  std::vector<std::string> annotations;
  const std::string_view rules = kata_rules();
  for (const auto& pod : manifests.pods) {
    ojson policy_data;
    PodPolicy builder(settings, pod, images, store, resolved, progress);
    if (!builder.build(policy_data, error)) {
      error = pod.kind + " " + pod.name + ": " + error;
      return false;
    }
    KataWorkload w;
    w.kind = pod.kind;
    w.name = pod.name;
    std::string text(rules);
    try {
      text += "\npolicy_data := " + policy_data.dump(2) + "\n";
    } catch (const std::exception&) {
      error = pod.kind + " " + pod.name + ": the pod spec holds text that is not valid UTF-8";
      return false;
    }
    w.policy.policy = std::move(text);
    w.policy.sha256 = sha256_hex(w.policy.policy);
    annotations.push_back(base64(w.policy.policy));
    out.workloads.push_back(std::move(w));
  }
  if (!kata::annotate_manifests(manifests, kKataPolicyAnnotation, annotations, out.yaml, error)) return false;
  return true;
}

}  // namespace confidant::generator
