// libFuzzer target: arbitrary bytes as a ttrpc byte stream into the agent's
// frame parser, Request decoding and every method's message handling (the
// real Agent router). No policy can be installed (no HOST_DATA source), so
// every enforcement point denies and nothing is mounted or run; layer
// images are never read. Checked: no crash, no hang, and every complete
// request frame gets exactly one response frame on its stream.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

#include "agent/agent.h"
#include "agent/ttrpc.h"

using namespace confidant::agent;
namespace tt = confidant::agent::ttrpc;

namespace {

struct Target {
  std::unique_ptr<Agent> agent;
  std::shared_ptr<tt::Router> router;
};

Target& target() {
  static Target t = [] {
    Target t;
    AgentOptions o;
    o.state_dir = (std::filesystem::temp_directory_path() / "confidant-ttrpc-fuzz").string();
    o.verify_layer = [](const std::string&, const std::string&, LayerInfo&, std::string& error) {
      error = "layer reading disabled while fuzzing";
      return false;
    };
    o.log = [](const std::string&) {};
    t.agent = std::make_unique<Agent>(std::move(o));
    t.router = t.agent->router();
    return t;
  }();
  return t;
}

// The number of complete frames serve_bytes will answer.
size_t complete_frames(std::string_view bytes) {
  size_t n = 0, pos = 0;
  while (bytes.size() - pos >= tt::kHeaderSize) {
    auto h = tt::decode_header(reinterpret_cast<const uint8_t*>(bytes.data() + pos));
    pos += tt::kHeaderSize;
    if (h.length > tt::kMaxMessageSize) {
      ++n;
      pos += std::min<size_t>(h.length, bytes.size() - pos);
      continue;
    }
    if (bytes.size() - pos < h.length) break;
    pos += h.length;
    ++n;
  }
  return n;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  std::string out = tt::serve_bytes(*target().router, bytes);
  size_t frames = 0, pos = 0;
  while (out.size() - pos >= tt::kHeaderSize) {
    auto h = tt::decode_header(reinterpret_cast<const uint8_t*>(out.data() + pos));
    if (h.type != tt::kTypeResponse) __builtin_trap();
    pos += tt::kHeaderSize + h.length;
    ++frames;
  }
  if (pos != out.size() || frames != complete_frames(bytes)) __builtin_trap();
  return 0;
}
