// containerd's ttrpc over stream sockets: framing, a threaded server and a
// blocking client.
//
// Frame: 10-byte header (uint32 big-endian payload length, uint32 big-endian
// stream id, uint8 type: 1 request / 2 response, uint8 flags) followed by the
// payload, a protobuf ttrpc.Request or ttrpc.Response. Client streams are odd.
// Everything a peer sends is untrusted: lengths above the limit are refused
// (the payload is skipped and an error answered on that stream), malformed
// messages are answered with InvalidArgument, and a frame that stalls midway
// closes the connection.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "agent/proto/ttrpc.pb.h"

namespace confidant::agent::ttrpc {

inline constexpr size_t kHeaderSize = 10;
inline constexpr uint32_t kMaxMessageSize = 4u << 20;  // as containerd/ttrpc
inline constexpr uint8_t kTypeRequest = 1;
inline constexpr uint8_t kTypeResponse = 2;

// gRPC status codes used in Response.status.code.
enum Code : int32_t {
  kOk = 0,
  kCancelled = 1,
  kUnknown = 2,
  kInvalidArgument = 3,
  kDeadlineExceeded = 4,
  kNotFound = 5,
  kAlreadyExists = 6,
  kPermissionDenied = 7,
  kResourceExhausted = 8,
  kFailedPrecondition = 9,
  kInternal = 13,
  kUnimplemented = 12,
  kUnavailable = 14,
};
const char* code_name(int32_t code);

struct FrameHeader {
  uint32_t length = 0;
  uint32_t stream_id = 0;
  uint8_t type = 0;
  uint8_t flags = 0;
};
void encode_header(const FrameHeader& h, uint8_t out[kHeaderSize]);
FrameHeader decode_header(const uint8_t in[kHeaderSize]);

// A complete frame as bytes.
std::string encode_frame(uint32_t stream_id, uint8_t type, std::string_view payload);

// The outcome of one call: a status plus the response payload.
struct Status {
  int32_t code = kOk;
  std::string message;
  std::vector<google::protobuf::Any> details;
  bool ok() const { return code == kOk; }
  static Status error(int32_t code, std::string message) { return Status{code, std::move(message), {}}; }
};

// A method implementation: request payload in, response payload out.
using Handler = std::function<Status(const std::string& payload, std::string& response)>;

// Dispatch table keyed by "service/method"; also the server's message logic
// without sockets (used by the fuzz target and the server).
class Router {
 public:
  void add(const std::string& service, const std::string& method, Handler h);
  // Decodes a request frame payload, calls the handler, encodes the response.
  // Never throws; malformed payloads produce an InvalidArgument response.
  std::string handle_request_payload(std::string_view payload) const;
  // Handles one frame (header already parsed, payload read); returns the
  // response frame, or "" when nothing should be sent.
  std::string handle_frame(const FrameHeader& h, std::string_view payload) const;

 private:
  std::map<std::string, Handler, std::less<>> handlers_;
};

// Parses frames out of a byte buffer exactly as the server does (the fuzz
// target and tests drive it). Returns the concatenated response frames.
std::string serve_bytes(const Router& router, std::string_view bytes);

// "unix:/path", "/path" (unix), or "vsock:CID:PORT".
struct Address {
  enum Kind { kUnix, kVsock } kind = kUnix;
  std::string path;
  uint32_t cid = 0, port = 0;
};
bool parse_address(std::string_view text, Address& out, std::string& error);

class Server {
 public:
  explicit Server(std::shared_ptr<const Router> router) : router_(std::move(router)) {}
  ~Server();
  // Binds and listens (a stale unix socket file is replaced).
  bool listen(const Address& address, std::string& error);
  // Accepts connections until stop(); one thread per connection.
  void serve();
  void stop();
  // Milliseconds a started frame may take to arrive completely.
  void set_frame_timeout_ms(int ms) { frame_timeout_ms_ = ms; }

 private:
  void connection(int fd);
  std::shared_ptr<const Router> router_;
  int listen_fd_ = -1;
  int wake_pipe_[2] = {-1, -1};
  std::atomic<bool> stopping_{false};
  std::atomic<int> active_{0};
  int frame_timeout_ms_ = 10'000;
  std::mutex mu_;
  std::vector<int> conn_fds_;
  std::vector<std::thread> threads_;
  std::string unix_path_;
};

class Client {
 public:
  Client() = default;
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;
  bool connect(const Address& address, std::string& error);
  // Sends one request and waits for its response. Transport errors come back
  // as kUnavailable.
  Status call(const std::string& service, const std::string& method, const std::string& payload, std::string& response,
              int64_t timeout_nano = 0);
  // For attack tests: raw bytes on the connection, and reading one frame.
  bool send_raw(std::string_view bytes, std::string& error);
  bool read_frame(FrameHeader& h, std::string& payload, std::string& error, int timeout_ms = 60'000);
  void close();
  bool connected() const { return fd_ >= 0; }

 private:
  int fd_ = -1;
  uint32_t next_stream_ = 1;
  std::mutex mu_;
};

}  // namespace confidant::agent::ttrpc
