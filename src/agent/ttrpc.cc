#include "agent/ttrpc.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#if __has_include(<linux/vm_sockets.h>)
#include <linux/vm_sockets.h>
#define CONFIDANT_HAVE_VSOCK 1
#endif

namespace confidant::agent::ttrpc {

const char* code_name(int32_t code) {
  switch (code) {
    case kOk: return "OK";
    case kCancelled: return "Cancelled";
    case kUnknown: return "Unknown";
    case kInvalidArgument: return "InvalidArgument";
    case kDeadlineExceeded: return "DeadlineExceeded";
    case kNotFound: return "NotFound";
    case kAlreadyExists: return "AlreadyExists";
    case kPermissionDenied: return "PermissionDenied";
    case kResourceExhausted: return "ResourceExhausted";
    case kFailedPrecondition: return "FailedPrecondition";
    case kUnimplemented: return "Unimplemented";
    case kInternal: return "Internal";
    case kUnavailable: return "Unavailable";
    default: return "Code?";
  }
}

void encode_header(const FrameHeader& h, uint8_t out[kHeaderSize]) {
  for (int i = 0; i < 4; ++i) out[i] = uint8_t(h.length >> (24 - 8 * i));
  for (int i = 0; i < 4; ++i) out[4 + i] = uint8_t(h.stream_id >> (24 - 8 * i));
  out[8] = h.type;
  out[9] = h.flags;
}

FrameHeader decode_header(const uint8_t in[kHeaderSize]) {
  FrameHeader h;
  h.length = uint32_t(in[0]) << 24 | uint32_t(in[1]) << 16 | uint32_t(in[2]) << 8 | in[3];
  h.stream_id = uint32_t(in[4]) << 24 | uint32_t(in[5]) << 16 | uint32_t(in[6]) << 8 | in[7];
  h.type = in[8];
  h.flags = in[9];
  return h;
}

std::string encode_frame(uint32_t stream_id, uint8_t type, std::string_view payload) {
  std::string out(kHeaderSize, '\0');
  FrameHeader h{uint32_t(payload.size()), stream_id, type, 0};
  encode_header(h, reinterpret_cast<uint8_t*>(out.data()));
  out.append(payload);
  return out;
}

namespace {

std::string error_response(int32_t code, const std::string& message) {
  ::ttrpc::Response r;
  r.mutable_status()->set_code(code);
  r.mutable_status()->set_message(message);
  return r.SerializeAsString();
}

}  // namespace

void Router::add(const std::string& service, const std::string& method, Handler h) {
  handlers_[service + "/" + method] = std::move(h);
}

std::string Router::handle_request_payload(std::string_view payload) const {
  ::ttrpc::Request req;
  if (!req.ParseFromArray(payload.data(), int(payload.size())))
    return error_response(kInvalidArgument, "ttrpc: malformed Request message (protobuf decoding failed)");
  std::string key = req.service() + "/" + req.method();
  auto it = handlers_.find(key);
  if (it == handlers_.end())
    return error_response(kUnimplemented,
                          "ttrpc: service " + req.service() + " method " + req.method() + " is not implemented");
  std::string response;
  Status st;
  try {
    st = it->second(req.payload(), response);
  } catch (const std::exception& e) {
    // Handlers return errors as values; this only guards allocation failures.
    st = Status::error(kInternal, std::string("agent: internal error: ") + e.what());
  }
  ::ttrpc::Response r;
  r.mutable_status()->set_code(st.code);
  r.mutable_status()->set_message(st.message);
  for (const auto& d : st.details) *r.mutable_status()->add_details() = d;
  if (st.ok()) r.set_payload(std::move(response));
  return r.SerializeAsString();
}

std::string Router::handle_frame(const FrameHeader& h, std::string_view payload) const {
  if (h.type != kTypeRequest)
    return encode_frame(h.stream_id, kTypeResponse,
                        error_response(kInvalidArgument, "ttrpc: unexpected frame type " + std::to_string(h.type) +
                                                             " (only requests are accepted)"));
  if (h.stream_id == 0 || h.stream_id % 2 == 0)
    return encode_frame(h.stream_id, kTypeResponse,
                        error_response(kInvalidArgument, "ttrpc: stream id " + std::to_string(h.stream_id) +
                                                             " is not a client stream (must be odd)"));
  return encode_frame(h.stream_id, kTypeResponse, handle_request_payload(payload));
}

static std::string too_large_message(uint32_t length) {
  return "ttrpc: message length " + std::to_string(length) + " exceeds maximum message size of " +
         std::to_string(kMaxMessageSize);
}

std::string serve_bytes(const Router& router, std::string_view bytes) {
  std::string out;
  size_t pos = 0;
  while (bytes.size() - pos >= kHeaderSize) {
    FrameHeader h = decode_header(reinterpret_cast<const uint8_t*>(bytes.data() + pos));
    pos += kHeaderSize;
    if (h.length > kMaxMessageSize) {
      out += encode_frame(h.stream_id, kTypeResponse, error_response(kResourceExhausted, too_large_message(h.length)));
      size_t skip = std::min<size_t>(h.length, bytes.size() - pos);
      pos += skip;
      continue;
    }
    if (bytes.size() - pos < h.length) break;  // truncated frame: the server waits, then closes
    out += router.handle_frame(h, bytes.substr(pos, h.length));
    pos += h.length;
  }
  return out;
}

bool parse_address(std::string_view text, Address& out, std::string& error) {
  out = Address{};
  if (text.starts_with("vsock:")) {
    std::string_view rest = text.substr(6);
    size_t colon = rest.find(':');
    auto num = [](std::string_view s, uint32_t& v) {
      if (s.empty() || s.size() > 10) return false;
      uint64_t x = 0;
      for (char c : s) {
        if (c < '0' || c > '9') return false;
        x = x * 10 + uint64_t(c - '0');
      }
      if (x > 0xffffffffu) return false;
      v = uint32_t(x);
      return true;
    };
    if (colon == std::string_view::npos || !num(rest.substr(0, colon), out.cid) ||
        !num(rest.substr(colon + 1), out.port)) {
      error = "bad vsock address '" + std::string(text) + "' (want vsock:CID:PORT)";
      return false;
    }
    out.kind = Address::kVsock;
    return true;
  }
  if (text.starts_with("unix:")) text.remove_prefix(5);
  if (text.empty() || text.size() >= sizeof(sockaddr_un::sun_path)) {
    error = "bad unix socket path '" + std::string(text) + "' (empty or longer than " +
            std::to_string(sizeof(sockaddr_un::sun_path) - 1) + " bytes)";
    return false;
  }
  out.kind = Address::kUnix;
  out.path = std::string(text);
  return true;
}

namespace {

int open_socket(const Address& a, bool listen_side, std::string& error) {
  if (a.kind == Address::kVsock) {
#ifdef CONFIDANT_HAVE_VSOCK
    int fd = ::socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      error = std::string("vsock socket: ") + std::strerror(errno);
      return -1;
    }
    sockaddr_vm sa{};
    sa.svm_family = AF_VSOCK;
    sa.svm_cid = listen_side ? VMADDR_CID_ANY : a.cid;
    sa.svm_port = a.port;
    int rc = listen_side ? ::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa)
                         : ::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa);
    if (rc != 0) {
      error = std::string(listen_side ? "vsock bind: " : "vsock connect: ") + std::strerror(errno);
      ::close(fd);
      return -1;
    }
    return fd;
#else
    error = "vsock is not supported by this build";
    return -1;
#endif
  }
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    error = std::string("unix socket: ") + std::strerror(errno);
    return -1;
  }
  sockaddr_un sa{};
  sa.sun_family = AF_UNIX;
  std::memcpy(sa.sun_path, a.path.data(), a.path.size());
  if (listen_side) ::unlink(a.path.c_str());
  int rc = listen_side ? ::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa)
                       : ::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa);
  if (rc != 0) {
    error = std::string(listen_side ? "bind " : "connect ") + a.path + ": " + std::strerror(errno);
    ::close(fd);
    return -1;
  }
  return fd;
}

// Reads exactly n bytes. timeout_ms < 0 waits forever for the first byte;
// once data is flowing, `frame_ms` bounds the rest.
enum class ReadResult { kOk, kEof, kTimeout, kError };

ReadResult read_full(int fd, char* buf, size_t n, int first_timeout_ms, int rest_timeout_ms, int wake_fd = -1) {
  size_t got = 0;
  auto deadline = std::chrono::steady_clock::time_point::max();
  while (got < n) {
    int timeout = -1;
    if (got == 0 && first_timeout_ms >= 0) {
      timeout = first_timeout_ms;
    } else if (got > 0 || first_timeout_ms < -1) {
      if (deadline == std::chrono::steady_clock::time_point::max())
        deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(rest_timeout_ms);
      auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count();
      if (left <= 0) return ReadResult::kTimeout;
      timeout = int(left);
    }
    pollfd p[2] = {{fd, POLLIN, 0}, {wake_fd, POLLIN, 0}};
    int rc = ::poll(p, wake_fd >= 0 ? 2 : 1, timeout);
    if (rc < 0) {
      if (errno == EINTR) continue;
      return ReadResult::kError;
    }
    if (rc == 0) return ReadResult::kTimeout;
    if (wake_fd >= 0 && (p[1].revents & POLLIN)) return ReadResult::kEof;
    ssize_t r = ::read(fd, buf + got, n - got);
    if (r < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      return ReadResult::kError;
    }
    if (r == 0) return got == 0 ? ReadResult::kEof : ReadResult::kError;
    got += size_t(r);
  }
  return ReadResult::kOk;
}

bool write_full(int fd, std::string_view data) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t w = ::send(fd, data.data() + done, data.size() - done, MSG_NOSIGNAL);
    if (w < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) {
        pollfd p{fd, POLLOUT, 0};
        if (::poll(&p, 1, 10'000) <= 0) return false;
        continue;
      }
      return false;
    }
    done += size_t(w);
  }
  return true;
}

constexpr int kMaxConnections = 64;

}  // namespace

Server::~Server() { stop(); }

bool Server::listen(const Address& address, std::string& error) {
  listen_fd_ = open_socket(address, true, error);
  if (listen_fd_ < 0) return false;
  if (::listen(listen_fd_, 16) != 0) {
    error = std::string("listen: ") + std::strerror(errno);
    ::close(listen_fd_);
    listen_fd_ = -1;
    return false;
  }
  if (address.kind == Address::kUnix) unix_path_ = address.path;
  if (::pipe2(wake_pipe_, O_CLOEXEC) != 0) {
    error = std::string("pipe: ") + std::strerror(errno);
    return false;
  }
  return true;
}

void Server::serve() {
  while (!stopping_) {
    pollfd p[2] = {{listen_fd_, POLLIN, 0}, {wake_pipe_[0], POLLIN, 0}};
    int rc = ::poll(p, 2, -1);
    if (rc < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (p[1].revents & POLLIN) break;
    if (!(p[0].revents & POLLIN)) continue;
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    if (active_ >= kMaxConnections) {
      ::close(fd);  // too many clients: refuse rather than exhaust threads
      continue;
    }
    std::lock_guard<std::mutex> lock(mu_);
    ++active_;
    conn_fds_.push_back(fd);
    threads_.emplace_back([this, fd] { connection(fd); });
  }
}

void Server::stop() {
  if (stopping_.exchange(true)) return;
  if (wake_pipe_[1] >= 0) {
    char c = 1;
    [[maybe_unused]] ssize_t w = ::write(wake_pipe_[1], &c, 1);
  }
  std::vector<std::thread> threads;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (int fd : conn_fds_) ::shutdown(fd, SHUT_RDWR);
    threads.swap(threads_);
  }
  for (auto& t : threads)
    if (t.joinable()) t.join();
  if (listen_fd_ >= 0) ::close(listen_fd_);
  listen_fd_ = -1;
  if (!unix_path_.empty()) ::unlink(unix_path_.c_str());
  for (int& fd : wake_pipe_) {
    if (fd >= 0) ::close(fd);
    fd = -1;
  }
}

void Server::connection(int fd) {
  std::string payload;
  while (!stopping_) {
    uint8_t hdr[kHeaderSize];
    auto r = read_full(fd, reinterpret_cast<char*>(hdr), kHeaderSize, -1, frame_timeout_ms_, wake_pipe_[0]);
    if (r != ReadResult::kOk) break;
    FrameHeader h = decode_header(hdr);
    if (h.length > kMaxMessageSize) {
      // Skip the oversized payload in bounded chunks so the stream stays in
      // sync, then answer on its stream id (as ttrpc does).
      uint64_t left = h.length;
      char buf[65536];
      bool ok = true;
      while (left > 0 && ok) {
        size_t n = size_t(std::min<uint64_t>(left, sizeof buf));
        ok = read_full(fd, buf, n, -2, frame_timeout_ms_, wake_pipe_[0]) == ReadResult::kOk;
        left -= n;
      }
      if (!ok) break;
      if (!write_full(fd, encode_frame(h.stream_id, kTypeResponse,
                                       error_response(kResourceExhausted, too_large_message(h.length)))))
        break;
      continue;
    }
    payload.resize(h.length);
    if (h.length > 0 &&
        read_full(fd, payload.data(), h.length, -2, frame_timeout_ms_, wake_pipe_[0]) != ReadResult::kOk)
      break;
    std::string out = router_->handle_frame(h, payload);
    if (!out.empty() && !write_full(fd, out)) break;
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    std::erase(conn_fds_, fd);
    --active_;
  }
  ::close(fd);
}

Client::~Client() { close(); }

bool Client::connect(const Address& address, std::string& error) {
  close();
  fd_ = open_socket(address, false, error);
  return fd_ >= 0;
}

void Client::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

bool Client::send_raw(std::string_view bytes, std::string& error) {
  if (fd_ < 0) {
    error = "not connected";
    return false;
  }
  if (!write_full(fd_, bytes)) {
    error = std::string("send: ") + std::strerror(errno);
    return false;
  }
  return true;
}

bool Client::read_frame(FrameHeader& h, std::string& payload, std::string& error, int timeout_ms) {
  uint8_t hdr[kHeaderSize];
  auto r = read_full(fd_, reinterpret_cast<char*>(hdr), kHeaderSize, timeout_ms, timeout_ms);
  if (r != ReadResult::kOk) {
    error = r == ReadResult::kEof       ? "connection closed by the agent"
            : r == ReadResult::kTimeout ? "timed out waiting for the agent's response"
                                        : std::string("read: ") + std::strerror(errno);
    return false;
  }
  h = decode_header(hdr);
  if (h.length > kMaxMessageSize) {
    error = too_large_message(h.length);
    return false;
  }
  payload.resize(h.length);
  if (h.length > 0 && read_full(fd_, payload.data(), h.length, timeout_ms, timeout_ms) != ReadResult::kOk) {
    error = "truncated response frame";
    return false;
  }
  return true;
}

Status Client::call(const std::string& service, const std::string& method, const std::string& payload,
                    std::string& response, int64_t timeout_nano) {
  std::lock_guard<std::mutex> lock(mu_);
  if (fd_ < 0) return Status::error(kUnavailable, "not connected to the agent");
  ::ttrpc::Request req;
  req.set_service(service);
  req.set_method(method);
  req.set_payload(payload);
  req.set_timeout_nano(timeout_nano);
  std::string bytes = req.SerializeAsString();
  if (bytes.size() > kMaxMessageSize)
    return Status::error(kResourceExhausted, too_large_message(uint32_t(bytes.size())));
  uint32_t id = next_stream_;
  next_stream_ += 2;
  std::string error;
  if (!send_raw(encode_frame(id, kTypeRequest, bytes), error)) return Status::error(kUnavailable, error);
  // Calls are sequential per connection, so the next response frame is ours;
  // the id check catches a confused peer.
  int timeout_ms = 10 * 60 * 1000;
  FrameHeader h;
  std::string body;
  if (!read_frame(h, body, error, timeout_ms)) return Status::error(kUnavailable, error);
  if (h.stream_id != id || h.type != kTypeResponse)
    return Status::error(kUnavailable, "response for stream " + std::to_string(h.stream_id) + " (type " +
                                           std::to_string(h.type) + "), expected stream " + std::to_string(id));
  ::ttrpc::Response resp;
  if (!resp.ParseFromString(body)) return Status::error(kUnavailable, "malformed Response message from the agent");
  Status st;
  st.code = resp.status().code();
  st.message = resp.status().message();
  for (const auto& d : resp.status().details()) st.details.push_back(d);
  response = resp.payload();
  return st;
}

}  // namespace confidant::agent::ttrpc
