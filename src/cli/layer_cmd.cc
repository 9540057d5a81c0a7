// `confidant layer hash|build|verify`: container layer dm-verity root hashes (ACI ext4 and
// Kata tarfs lineages), layer images with their hash tree, and image verification.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "integrity/integrity.h"

namespace confidant::cli {

namespace {

constexpr const char* kUsage =
    "usage: confidant layer hash --format aci|kata FILE...\n"
    "       confidant layer build --format aci|kata FILE -o IMAGE [--no-vhd-footer]\n"
    "       confidant layer verify IMAGE\n"
    "  hash    prints the dm-verity root hash a policy pins for the layer blob FILE (tar, tar.gz or\n"
    "          tar.zst): aci = of the deterministic ext4 image (tar2ext4), kata = of tar + tarfs index.\n"
    "          Several files are hashed in parallel and printed as '<hash>  <file>'.\n"
    "  build   writes the layer image (ACI: ext4, verity superblock, hash tree, VHD footer;\n"
    "          Kata: tar, tarfs index, hash tree, Kata verity superblock) and prints its root hash.\n"
    "  verify  recomputes an image's hash tree, checks the stored one, prints the root hash.\n";

// A progress line on stderr when it is a terminal, at most a few times a second.
class Progress {
 public:
  explicit Progress(std::string label) : label_(std::move(label)), enabled_(isatty(STDERR_FILENO) == 1) {}
  ~Progress() { clear(); }
  integrity::ProgressFn fn() {
    if (!enabled_) return nullptr;
    return [this](uint64_t done, uint64_t total) {
      auto now = std::chrono::steady_clock::now();
      if (now - last_ < std::chrono::milliseconds(200)) return;
      last_ = now;
      if (total > 0)
        std::fprintf(stderr, "\r%s: %3d%% (%llu of %llu MiB)", label_.c_str(), static_cast<int>(done * 100 / total),
                     static_cast<unsigned long long>(done >> 20), static_cast<unsigned long long>(total >> 20));
      else
        std::fprintf(stderr, "\r%s: %llu MiB", label_.c_str(), static_cast<unsigned long long>(done >> 20));
      shown_ = true;
    };
  }
  void clear() {
    if (shown_) std::fprintf(stderr, "\r\033[K");
    shown_ = false;
  }

 private:
  std::string label_;
  bool enabled_;
  bool shown_ = false;
  std::chrono::steady_clock::time_point last_{};
};

bool parse_format(const std::string& v, integrity::LayerFormat& f) {
  if (v == "aci")
    f = integrity::LayerFormat::kAci;
  else if (v == "kata")
    f = integrity::LayerFormat::kKata;
  else
    return false;
  return true;
}

int usage_error(const std::string& msg) {
  std::cerr << "confidant layer: " << msg << "\n" << kUsage;
  return 2;
}

int layer_command(const std::vector<std::string>& args) {
  if (args.empty()) return usage_error("missing subcommand");
  const std::string sub = args[0];
  if (sub == "-h" || sub == "--help") {
    std::cout << kUsage;
    return 0;
  }
  std::vector<std::string> rest(args.begin() + 1, args.end());
  std::vector<std::string> files;
  std::string out, format_name;
  bool vhd_footer = true;
  ArgCursor a(rest);
  while (a.next()) {
    if (!a.is_flag()) {
      files.push_back(a.positional());
    } else if (a.flag() == "--format" || a.flag() == "-f") {
      if (!a.value(format_name)) return usage_error("--format needs a value");
    } else if (a.flag() == "-o" || a.flag() == "--output") {
      if (!a.value(out)) return usage_error("-o needs a value");
    } else if (a.flag() == "--no-vhd-footer") {
      vhd_footer = false;
    } else if (a.flag() == "-h" || a.flag() == "--help") {
      std::cout << kUsage;
      return 0;
    } else {
      return usage_error("unknown flag " + a.flag());
    }
  }
  integrity::LayerFormat format = integrity::LayerFormat::kAci;
  std::string error;

  if (sub == "hash") {
    if (format_name.empty() || !parse_format(format_name, format)) return usage_error("--format aci|kata is required");
    if (files.empty()) return usage_error("no layer file given");
    if (files.size() == 1) {
      Progress progress("hashing " + files[0]);
      integrity::LayerOptions o;
      o.progress = progress.fn();
      integrity::RootHash root{};
      bool ok = integrity::layer_root_hash(format, files[0], o, root, error);
      progress.clear();
      if (!ok) {
        std::cerr << "confidant layer hash: " << error << "\n";
        return 1;
      }
      std::cout << integrity::to_hex(root) << "\n";
      return 0;
    }
    std::vector<integrity::RootHash> roots;
    std::vector<std::string> errors;
    bool ok = integrity::layer_root_hashes(format, files, 0, roots, errors);
    for (size_t i = 0; i < files.size(); ++i) {
      if (errors[i].empty())
        std::cout << integrity::to_hex(roots[i]) << "  " << files[i] << "\n";
      else
        std::cerr << "confidant layer hash: " << errors[i] << "\n";
    }
    return ok ? 0 : 1;
  }
  if (sub == "build") {
    if (format_name.empty() || !parse_format(format_name, format)) return usage_error("--format aci|kata is required");
    if (files.size() != 1) return usage_error("build takes exactly one layer file");
    if (out.empty()) return usage_error("-o IMAGE is required");
    Progress progress("building " + out);
    integrity::LayerOptions o;
    o.progress = progress.fn();
    o.vhd_footer = vhd_footer;
    integrity::LayerImageInfo info;
    bool ok = integrity::build_layer_image(format, files[0], out, o, info, error);
    progress.clear();
    if (!ok) {
      std::cerr << "confidant layer build: " << error << "\n";
      return 1;
    }
    std::cout << "root hash:   " << integrity::to_hex(info.root_hash) << "\n"
              << "data size:   " << info.data_size << "\n"
              << "hash offset: " << info.hash_offset << "\n";
    return 0;
  }
  if (sub == "verify") {
    if (files.size() != 1) return usage_error("verify takes exactly one image");
    integrity::LayerImageInfo info;
    if (!integrity::verify_layer_image(files[0], info, error)) {
      std::cerr << "confidant layer verify: " << error << "\n";
      return 1;
    }
    std::cout << "root hash:   " << integrity::to_hex(info.root_hash) << "\n"
              << "data size:   " << info.data_size << "\n"
              << "hash offset: " << info.hash_offset << "\n";
    return 0;
  }
  return usage_error("unknown subcommand " + sub);
}

const CommandRegistration reg{"layer", "layer dm-verity root hashes: hash, build, verify (ACI ext4 / Kata tarfs)",
                              layer_command};

}  // namespace

}  // namespace confidant::cli
