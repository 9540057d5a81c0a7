// ttrpc framing, the router's handling of malformed input, and a real
// client/server exchange over a unix socket.
#include "agent/ttrpc.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <thread>

namespace confidant::agent::ttrpc {
namespace {

std::shared_ptr<Router> echo_router() {
  auto r = std::make_shared<Router>();
  r->add("test.Echo", "Echo", [](const std::string& in, std::string& out) {
    out = in;
    return Status{};
  });
  r->add("test.Echo", "Fail", [](const std::string&, std::string&) { return Status::error(kPermissionDenied, "no"); });
  return r;
}

std::string request(const std::string& service, const std::string& method, const std::string& payload) {
  ::ttrpc::Request req;
  req.set_service(service);
  req.set_method(method);
  req.set_payload(payload);
  return req.SerializeAsString();
}

::ttrpc::Response parse_response_frame(const std::string& frame, uint32_t* stream = nullptr) {
  EXPECT_GE(frame.size(), kHeaderSize);
  FrameHeader h = decode_header(reinterpret_cast<const uint8_t*>(frame.data()));
  EXPECT_EQ(h.type, kTypeResponse);
  EXPECT_EQ(h.length, frame.size() - kHeaderSize);
  if (stream) *stream = h.stream_id;
  ::ttrpc::Response r;
  EXPECT_TRUE(r.ParseFromString(frame.substr(kHeaderSize)));
  return r;
}

TEST(TtrpcFrame, HeaderIsBigEndian) {
  std::string f = encode_frame(0x01020304, kTypeRequest, "abc");
  ASSERT_EQ(f.size(), 13u);
  EXPECT_EQ(f.substr(0, 10), std::string("\0\0\0\3\1\2\3\4\1\0", 10));
  FrameHeader h = decode_header(reinterpret_cast<const uint8_t*>(f.data()));
  EXPECT_EQ(h.length, 3u);
  EXPECT_EQ(h.stream_id, 0x01020304u);
  EXPECT_EQ(h.type, kTypeRequest);
}

TEST(TtrpcRouter, DispatchesAndReportsErrors) {
  auto r = echo_router();
  auto resp = parse_response_frame(serve_bytes(*r, encode_frame(1, kTypeRequest, request("test.Echo", "Echo", "hi"))));
  EXPECT_EQ(resp.status().code(), kOk);
  EXPECT_EQ(resp.payload(), "hi");

  resp = parse_response_frame(serve_bytes(*r, encode_frame(3, kTypeRequest, request("test.Echo", "Fail", ""))));
  EXPECT_EQ(resp.status().code(), kPermissionDenied);
  EXPECT_EQ(resp.status().message(), "no");

  resp = parse_response_frame(serve_bytes(*r, encode_frame(5, kTypeRequest, request("test.Echo", "Nope", ""))));
  EXPECT_EQ(resp.status().code(), kUnimplemented);
  EXPECT_NE(resp.status().message().find("Nope"), std::string::npos);

  resp = parse_response_frame(serve_bytes(*r, encode_frame(7, kTypeRequest, "\xff\xff\xff garbage")));
  EXPECT_EQ(resp.status().code(), kInvalidArgument);
  EXPECT_NE(resp.status().message().find("malformed Request"), std::string::npos);

  resp = parse_response_frame(serve_bytes(*r, encode_frame(2, kTypeRequest, request("test.Echo", "Echo", ""))));
  EXPECT_EQ(resp.status().code(), kInvalidArgument);
  EXPECT_NE(resp.status().message().find("must be odd"), std::string::npos);

  resp = parse_response_frame(serve_bytes(*r, encode_frame(9, kTypeResponse, "")));
  EXPECT_EQ(resp.status().code(), kInvalidArgument);
}

TEST(TtrpcRouter, OversizedLengthIsRefusedAndSkipped) {
  auto r = echo_router();
  FrameHeader h{kMaxMessageSize + 1, 11, kTypeRequest, 0};
  std::string bytes(kHeaderSize, '\0');
  encode_header(h, reinterpret_cast<uint8_t*>(bytes.data()));
  bytes += std::string(kMaxMessageSize + 1, 'x');
  bytes += encode_frame(13, kTypeRequest, request("test.Echo", "Echo", "after"));
  std::string out = serve_bytes(*r, bytes);
  uint32_t stream = 0;
  FrameHeader first = decode_header(reinterpret_cast<const uint8_t*>(out.data()));
  auto resp = parse_response_frame(out.substr(0, kHeaderSize + first.length), &stream);
  EXPECT_EQ(stream, 11u);
  EXPECT_EQ(resp.status().code(), kResourceExhausted);
  EXPECT_NE(resp.status().message().find("exceeds maximum message size of 4194304"), std::string::npos);
  resp = parse_response_frame(out.substr(kHeaderSize + first.length), &stream);
  EXPECT_EQ(stream, 13u);
  EXPECT_EQ(resp.payload(), "after");
}

TEST(TtrpcAddress, Parses) {
  Address a;
  std::string error;
  ASSERT_TRUE(parse_address("unix:/tmp/x.sock", a, error));
  EXPECT_EQ(a.kind, Address::kUnix);
  EXPECT_EQ(a.path, "/tmp/x.sock");
  ASSERT_TRUE(parse_address("vsock:3:1024", a, error));
  EXPECT_EQ(a.kind, Address::kVsock);
  EXPECT_EQ(a.cid, 3u);
  EXPECT_EQ(a.port, 1024u);
  EXPECT_FALSE(parse_address("vsock:3", a, error));
  EXPECT_FALSE(parse_address("vsock:x:1", a, error));
  EXPECT_FALSE(parse_address("", a, error));
  EXPECT_FALSE(parse_address("/" + std::string(200, 'a'), a, error));
}

class TtrpcSocket : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = (std::filesystem::temp_directory_path() / ("ttrpc-test-" + std::to_string(::getpid()) + ".sock")).string();
    server_ = std::make_unique<Server>(echo_router());
    server_->set_frame_timeout_ms(500);
    std::string error;
    ASSERT_TRUE(parse_address(path_, addr_, error));
    ASSERT_TRUE(server_->listen(addr_, error)) << error;
    thread_ = std::thread([this] { server_->serve(); });
  }
  void TearDown() override {
    server_->stop();
    thread_.join();
  }
  std::string path_;
  Address addr_;
  std::unique_ptr<Server> server_;
  std::thread thread_;
};

TEST_F(TtrpcSocket, ClientCallsServer) {
  Client c;
  std::string error;
  ASSERT_TRUE(c.connect(addr_, error)) << error;
  for (int i = 0; i < 3; ++i) {
    std::string out;
    Status st = c.call("test.Echo", "Echo", "ping" + std::to_string(i), out);
    ASSERT_TRUE(st.ok()) << st.message;
    EXPECT_EQ(out, "ping" + std::to_string(i));
  }
  std::string out;
  Status st = c.call("test.Echo", "Fail", "", out);
  EXPECT_EQ(st.code, kPermissionDenied);
}

TEST_F(TtrpcSocket, SurvivesOversizedAndTruncatedFrames) {
  Client c;
  std::string error;
  ASSERT_TRUE(c.connect(addr_, error)) << error;
  // Oversized: answered with ResourceExhausted on its stream, connection kept.
  FrameHeader h{kMaxMessageSize + 100, 1, kTypeRequest, 0};
  std::string bytes(kHeaderSize, '\0');
  encode_header(h, reinterpret_cast<uint8_t*>(bytes.data()));
  ASSERT_TRUE(c.send_raw(bytes, error));
  ASSERT_TRUE(c.send_raw(std::string(kMaxMessageSize + 100, 'z'), error));
  std::string payload;
  ASSERT_TRUE(c.read_frame(h, payload, error)) << error;
  ::ttrpc::Response resp;
  ASSERT_TRUE(resp.ParseFromString(payload));
  EXPECT_EQ(resp.status().code(), kResourceExhausted);
  std::string out;
  Status st = c.call("test.Echo", "Echo", "still here", out);
  ASSERT_TRUE(st.ok()) << st.message;

  // A frame that stops midway: the server drops that connection only.
  Client stalled;
  ASSERT_TRUE(stalled.connect(addr_, error)) << error;
  ASSERT_TRUE(stalled.send_raw(std::string("\0\0\0\x20\0\0\0\1\1\0abc", 13), error));
  EXPECT_FALSE(stalled.read_frame(h, payload, error, 5000));
  EXPECT_EQ(error, "connection closed by the agent");
  st = c.call("test.Echo", "Echo", "x", out);
  EXPECT_TRUE(st.ok()) << st.message;
}

}  // namespace
}  // namespace confidant::agent::ttrpc
