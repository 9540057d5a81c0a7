// The agent end to end, driven from the host side over its unix socket:
// a two-container group runs and prints, and every attack the untrusted host
// can try is denied with the policy's reason, changes nothing, and leaves the
// agent serving. Needs root, runc, loop devices, overlayfs, busybox-static,
// mkfs.ext4 and veritysetup; skipped (with the reason) otherwise.
#include "agent/agent.h"

#include <gtest/gtest.h>
#include <sched.h>
#include <sys/mount.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "agent/host.h"
#include "agent/layer.h"
#include "policy/digest.h"
#include "policy/guest_data.h"

namespace confidant::agent {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// Mounts made by these tests stay in a private mount namespace. unshare
// needs a single-threaded process, hence a static initializer.
const bool g_private_mounts = [] {
  if (::geteuid() != 0) return false;
  if (::unshare(CLONE_NEWNS) != 0) return false;
  return ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) == 0;
}();

std::string missing_requirement() {
  if (::geteuid() != 0) return "needs root";
  if (!g_private_mounts) return "cannot create a private mount namespace";
  for (const char* f : {"/usr/sbin/runc", "/bin/busybox", "/sbin/mkfs.ext4", "/sbin/veritysetup", "/dev/loop-control"})
    if (!fs::exists(f)) return std::string("needs ") + f;
  std::ifstream fsl("/proc/filesystems");
  std::string all((std::istreambuf_iterator<char>(fsl)), std::istreambuf_iterator<char>());
  if (all.find("overlay") == std::string::npos) return "needs overlayfs";
  return "";
}

void write(const fs::path& p, const std::string& text) {
  fs::create_directories(p.parent_path());
  std::ofstream(p) << text;
}

// Removes the shared layer images after the last test.
class ImagesCleanup : public ::testing::Environment {
 public:
  void TearDown() override {
    std::error_code ec;
    if (!dir.empty()) fs::remove_all(dir, ec);
  }
  static inline fs::path dir;
};
[[maybe_unused]] auto* const g_cleanup = ::testing::AddGlobalTestEnvironment(new ImagesCleanup);

struct Images {
  fs::path dir;
  std::string base, app, tampered, unknown;
  std::string base_hash, app_hash;
  std::string error;
};

// Layer images shared by all tests (building them takes a few seconds).
Images& images() {
  static Images im = [] {
    Images im;
    im.dir = fs::temp_directory_path() / ("agent-test-layers-" + std::to_string(::getpid()));
    ImagesCleanup::dir = im.dir;
    fs::create_directories(im.dir);
    fs::path base = im.dir / "base-src";
    fs::create_directories(base / "bin");
    fs::copy_file("/bin/busybox", base / "bin/busybox");
    for (const char* tool : {"sh", "echo", "cat", "sleep", "ls", "true"})
      fs::create_symlink("busybox", base / "bin" / tool);
    for (const char* d : {"proc", "sys", "dev", "etc", "tmp"}) fs::create_directories(base / d);
    write(base / "etc/passwd", "root:x:0:0:root:/root:/bin/sh\n");
    write(base / "etc/group", "root:x:0:\n");
    fs::path app = im.dir / "app-src";
    write(app / "app/msg.txt", "hello from the app layer\n");
    fs::path other = im.dir / "other-src";
    write(other / "evil/payload", "not in the policy\n");
    LayerInfo info;
    im.base = (im.dir / "base.img").string();
    im.app = (im.dir / "app.img").string();
    im.unknown = (im.dir / "other.img").string();
    if (!build_layer_image(base.string(), im.base, info, im.error)) return im;
    im.base_hash = info.root_hash;
    if (!build_layer_image(app.string(), im.app, info, im.error)) return im;
    im.app_hash = info.root_hash;
    if (!build_layer_image(other.string(), im.unknown, info, im.error)) return im;
    // Same image, one byte of file-system data changed (the verity data is
    // left as it was: a host "patching" a layer).
    im.tampered = (im.dir / "tampered.img").string();
    fs::copy_file(im.app, im.tampered);
    std::fstream f(im.tampered, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(8192 + 100);
    f.put('X');
    return im;
  }();
  return im;
}

host::Group test_group() {
  const Images& im = images();
  host::Group g;
  g.sandbox_id = "grp";
  host::ContainerSpec one;
  one.id = "one";
  one.layers = {im.base, im.app};
  one.command = {"/bin/sh", "-c", "cat /app/msg.txt; echo one says hi"};
  one.env = {"PATH=/bin", "GREETING=hi"};
  one.working_dir = "/";
  host::ContainerSpec two;
  two.id = "two";
  two.layers = {im.base};
  two.command = {"/bin/sh", "-c", "echo two is up; exec sleep 1000"};
  two.env = {"PATH=/bin"};
  two.working_dir = "/tmp";
  two.signals = {15, 9};
  two.exec_processes = json::array({{{"command", {"/bin/echo", "exec ok"}}, {"signals", {9}}}});
  host::ContainerSpec quiet;
  quiet.id = "quiet";
  quiet.layers = {im.base};
  quiet.command = {"/bin/sh", "-c", "echo secret"};
  quiet.env = {"PATH=/bin"};
  quiet.allow_stdio_access = false;
  g.containers = {one, two, quiet};
  return g;
}

class AgentTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (std::string why = missing_requirement(); !why.empty()) GTEST_SKIP() << why;
    ASSERT_TRUE(images().error.empty()) << images().error;
    group_ = test_group();
    layers_.images = {{images().base, images().app}, {images().base}, {images().base}};
    layers_.hashes = {{images().base_hash, images().app_hash}, {images().base_hash}, {images().base_hash}};
    policy_ = host::group_policy(group_, layers_.hashes);
    start_agent(policy_);
  }

  void start_agent(const std::string& bound_policy) {
    state_ =
        fs::temp_directory_path() / ("agent-test-state-" + std::to_string(::getpid()) + "-" + std::to_string(++n_));
    fs::remove_all(state_);
    AgentOptions o;
    o.state_dir = state_.string();
    o.tee = std::make_shared<policy::FixedTee>(policy::sha256(bound_policy));
    o.log = [this](const std::string& line) { log_ += line + "\n"; };
    agent_ = std::make_unique<Agent>(std::move(o));
    server_ = std::make_unique<ttrpc::Server>(agent_->router());
    socket_ = (state_ / "agent.sock").string();
    ttrpc::Address a;
    std::string error;
    ASSERT_TRUE(ttrpc::parse_address(socket_, a, error)) << error;
    ASSERT_TRUE(server_->listen(a, error)) << error;
    thread_ = std::thread([this] { server_->serve(); });
    ASSERT_TRUE(client_.connect(socket_, error)) << error;
  }

  void TearDown() override {
    if (!server_) return;
    server_->stop();
    thread_.join();
    agent_->shutdown();
    agent_.reset();
    std::error_code ec;
    fs::remove_all(state_, ec);
  }

  ttrpc::Status set_policy(const std::string& text) {
    v1::SetPolicyRequest r;
    r.set_policy(text);
    return client_.call("SetPolicy", r);
  }

  ttrpc::Status mount_layer(const std::string& image, const std::string& target) {
    v1::MountLayerRequest r;
    r.set_source(image);
    r.set_target(target);
    return client_.call("MountLayer", r);
  }

  // Policy set, container `i`'s layers and overlay mounted.
  void prepare(size_t i) {
    ASSERT_TRUE(set_policy(policy_).ok());
    std::vector<std::string> targets;
    for (size_t j = 0; j < layers_.images[i].size(); ++j) {
      std::string t = "/run/mounts/scsi/m" + std::to_string(10 * i + j + 1);
      auto st = mount_layer(layers_.images[i][j], t);
      ASSERT_TRUE(st.ok()) << st.message;
      targets.push_back(t);
    }
    v1::MountOverlayRequest mo;
    mo.set_container_id(group_.containers[i].id);
    for (auto it = targets.rbegin(); it != targets.rend(); ++it) mo.add_layer_paths(*it);
    mo.set_target(rootfs(i));
    auto st = client_.call("MountOverlay", mo);
    ASSERT_TRUE(st.ok()) << st.message;
  }
  std::string rootfs(size_t i) { return "/run/gcs/c/" + group_.containers[i].id + "/rootfs"; }

  ttrpc::Status create(size_t i, const json& spec) {
    v1::CreateContainerRequest r;
    r.set_container_id(group_.containers[i].id);
    r.set_oci_spec(spec.dump());
    r.set_rootfs(rootfs(i));
    r.set_sandbox_id(group_.sandbox_id);
    return client_.call("CreateContainer", r);
  }
  ttrpc::Status start(size_t i) {
    v1::ContainerRequest r;
    r.set_container_id(group_.containers[i].id);
    return client_.call("StartContainer", r);
  }

  std::string read_all(const std::string& id, const std::string& exec_id = "") {
    v1::WaitProcessRequest w;
    w.set_container_id(id);
    w.set_exec_id(exec_id);
    w.set_timeout_ms(30'000);
    v1::WaitProcessResponse wr;
    EXPECT_TRUE(client_.call("WaitProcess", w, &wr).ok());
    return read_now(id, exec_id);
  }
  std::string read_now(const std::string& id, const std::string& exec_id = "") {
    v1::ReadOutputRequest r;
    r.set_container_id(id);
    r.set_exec_id(exec_id);
    v1::ReadOutputResponse resp;
    auto st = client_.call("ReadOutput", r, &resp);
    EXPECT_TRUE(st.ok()) << st.message;
    return resp.data();
  }

  // The agent's observable state: the policy metadata and its properties.
  std::string snapshot() {
    v1::Empty e;
    v1::PropertiesResponse p;
    auto st = client_.call("GetProperties", e, &p);
    EXPECT_TRUE(st.ok()) << st.message;
    return rego::to_json(agent_->policy_state()) + "\n" + p.json();
  }

  // A denial: PermissionDenied, the point, each expected reason present,
  // nothing changed, and the agent still answering.
  void expect_denied(const ttrpc::Status& st, const std::string& point, const std::vector<std::string>& reasons,
                     const std::string& before) {
    EXPECT_EQ(st.code, ttrpc::kPermissionDenied) << st.message;
    v1::PolicyDenial d;
    ASSERT_TRUE(denial_from_status(st, d)) << st.message;
    EXPECT_EQ(d.point(), point);
    for (const auto& r : reasons) {
      bool found = false;
      for (const auto& got : d.reasons()) found = found || got.find(r) != std::string::npos;
      EXPECT_TRUE(found) << "missing reason '" << r << "' in: " << st.message;
    }
    EXPECT_EQ(snapshot(), before);
  }

  host::Group group_;
  host::PreparedLayers layers_;
  std::string policy_;
  fs::path state_;
  std::string socket_;
  std::string log_;
  std::unique_ptr<Agent> agent_;
  std::unique_ptr<ttrpc::Server> server_;
  std::thread thread_;
  AgentClient client_;
  int n_ = 0;
};

TEST_F(AgentTest, GroupRunsAndPrints) {
  host::GroupState state;
  host::StartTimings t;
  std::string error;
  host::Group two_containers = group_;
  two_containers.containers.resize(2);
  host::PreparedLayers layers = layers_;
  layers.images.resize(2);
  ASSERT_TRUE(host::start_group(client_, two_containers, layers, policy_, state, t, {}, error)) << error << "\n"
                                                                                                << log_;
  EXPECT_EQ(read_all("one"), "hello from the app layer\none says hi\n");
  // "two" keeps running; its first line arrives when it is scheduled.
  std::string out;
  for (int i = 0; i < 600 && out.empty(); ++i) {
    out = read_now("two");
    if (out.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_EQ(out, "two is up\n");

  v1::ExecProcessRequest ex;
  ex.set_container_id("two");
  ex.set_exec_id("e1");
  ex.set_process(json({{"args", {"/bin/echo", "exec ok"}},
                       {"env", {"PATH=/bin"}},
                       {"cwd", "/tmp"},
                       {"capabilities", json::parse(rego::to_json(policy::default_unprivileged_capabilities()))}})
                     .dump());
  auto st = client_.call("ExecProcess", ex);
  ASSERT_TRUE(st.ok()) << st.message;
  EXPECT_EQ(read_all("two", "e1"), "exec ok\n");

  // SIGKILL is listed for the init process: allowed and delivered. (SIGTERM
  // is listed too, but a container's pid 1 without a handler ignores it.)
  v1::SignalProcessRequest sig;
  sig.set_container_id("two");
  sig.set_signal(9);
  st = client_.call("SignalProcess", sig);
  ASSERT_TRUE(st.ok()) << st.message;
  v1::WaitProcessRequest w;
  w.set_container_id("two");
  w.set_timeout_ms(30'000);
  v1::WaitProcessResponse wr;
  ASSERT_TRUE(client_.call("WaitProcess", w, &wr).ok());
  EXPECT_TRUE(wr.exited());
  EXPECT_EQ(wr.exit_status(), 128 + 9);

  ASSERT_TRUE(host::stop_group(client_, state, {}, error)) << error;
  EXPECT_EQ(agent_->policy_state().get("devices")->size(), 0u);
}

TEST_F(AgentTest, TamperedLayerIsDenied) {
  ASSERT_TRUE(set_policy(policy_).ok());
  std::string before = snapshot();
  expect_denied(mount_layer(images().tampered, "/run/mounts/scsi/m1"), "mount_device", {"deviceHash not found"},
                before);
  // The genuine image still mounts at the same path afterwards.
  EXPECT_TRUE(mount_layer(images().app, "/run/mounts/scsi/m1").ok());
}

TEST_F(AgentTest, UnknownImageIsDenied) {
  ASSERT_TRUE(set_policy(policy_).ok());
  std::string before = snapshot();
  expect_denied(mount_layer(images().unknown, "/run/mounts/scsi/m1"), "mount_device", {"deviceHash not found"}, before);
}

TEST_F(AgentTest, LayerOutsideAllowedPathIsDenied) {
  ASSERT_TRUE(set_policy(policy_).ok());
  std::string before = snapshot();
  expect_denied(mount_layer(images().base, "/run/gcs/c/one/rootfs"), "mount_device", {"mountpoint invalid"}, before);
  // Paths that are not even well-formed never reach the policy.
  auto st = mount_layer(images().base, "/run/mounts/scsi/../../../etc");
  EXPECT_EQ(st.code, ttrpc::kInvalidArgument);
  EXPECT_EQ(snapshot(), before);
}

TEST_F(AgentTest, OverlayOfWrongLayersIsDenied) {
  ASSERT_TRUE(set_policy(policy_).ok());
  ASSERT_TRUE(mount_layer(images().app, "/run/mounts/scsi/m1").ok());
  std::string before = snapshot();
  v1::MountOverlayRequest mo;
  mo.set_container_id("one");
  mo.add_layer_paths("/run/mounts/scsi/m1");  // app layer alone: no container has that image
  mo.set_target("/run/gcs/c/one/rootfs");
  expect_denied(client_.call("MountOverlay", mo), "mount_overlay", {"no matching containers for overlay"}, before);
}

TEST_F(AgentTest, ChangedEnvironmentIsDenied) {
  prepare(0);
  std::string before = snapshot();
  json spec = host::oci_spec(group_.containers[0]);
  spec["process"]["env"].push_back("LD_PRELOAD=/tmp/evil.so");
  expect_denied(create(0, spec), "create_container", {"invalid env list: LD_PRELOAD"}, before);
  spec = host::oci_spec(group_.containers[0]);
  spec["process"]["env"][1] = "GREETING=bye";
  expect_denied(create(0, spec), "create_container", {"invalid env list: GREETING"}, before);
  EXPECT_TRUE(create(0, host::oci_spec(group_.containers[0])).ok());
}

TEST_F(AgentTest, OtherCommandIsDenied) {
  prepare(0);
  std::string before = snapshot();
  json spec = host::oci_spec(group_.containers[0]);
  spec["process"]["args"] = {"/bin/sh", "-c", "cat /etc/shadow"};
  expect_denied(create(0, spec), "create_container", {"invalid command"}, before);
}

TEST_F(AgentTest, ChangedWorkingDirIsDenied) {
  prepare(0);
  std::string before = snapshot();
  json spec = host::oci_spec(group_.containers[0]);
  spec["process"]["cwd"] = "/tmp";
  expect_denied(create(0, spec), "create_container", {"invalid working directory"}, before);
}

TEST_F(AgentTest, PrivilegedContainerIsDenied) {
  prepare(0);
  std::string before = snapshot();
  host::ContainerSpec priv = group_.containers[0];
  priv.privileged = true;
  expect_denied(create(0, host::oci_spec(priv)), "create_container", {"privileged escalation not allowed"}, before);
  // Extra capabilities without the annotation are caught too.
  json spec = host::oci_spec(group_.containers[0]);
  spec["process"]["capabilities"]["bounding"].push_back("CAP_SYS_ADMIN");
  expect_denied(create(0, spec), "create_container", {"capabilities don't match"}, before);
  // And a bind mount of a host directory.
  spec = host::oci_spec(group_.containers[0]);
  spec["mounts"].push_back({{"destination", "/host"}, {"type", "bind"}, {"source", "/"}, {"options", {"rbind", "rw"}}});
  expect_denied(create(0, spec), "create_container", {"invalid mount list: /host"}, before);
}

TEST_F(AgentTest, SpecFeaturesThePolicyCannotSeeAreRefused) {
  prepare(0);
  std::string before = snapshot();
  json spec = host::oci_spec(group_.containers[0]);
  spec["hooks"] = {{"prestart", {{{"path", "/bin/sh"}, {"args", {"sh", "-c", "touch /pwned"}}}}}};
  auto st = create(0, spec);
  EXPECT_EQ(st.code, ttrpc::kInvalidArgument);
  EXPECT_NE(st.message.find("hooks"), std::string::npos);
  spec = host::oci_spec(group_.containers[0]);
  spec["linux"]["namespaces"] = json::array({{{"type", "pid"}}, {{"type", "mount"}}});  // host network
  expect_denied(create(0, spec), "host_network", {}, before);
  EXPECT_EQ(snapshot(), before);
}

TEST_F(AgentTest, UnknownExecCommandIsDenied) {
  prepare(1);
  ASSERT_TRUE(create(1, host::oci_spec(group_.containers[1])).ok()) << log_;
  ASSERT_TRUE(start(1).ok());
  std::string before = snapshot();
  v1::ExecProcessRequest ex;
  ex.set_container_id("two");
  ex.set_exec_id("x");
  ex.set_process(json({{"args", {"/bin/sh", "-c", "cat /etc/passwd"}},
                       {"env", {"PATH=/bin"}},
                       {"cwd", "/tmp"},
                       {"capabilities", json::parse(rego::to_json(policy::default_unprivileged_capabilities()))}})
                     .dump());
  expect_denied(client_.call("ExecProcess", ex), "exec_in_container", {"invalid command"}, before);
}

TEST_F(AgentTest, UnlistedSignalIsDenied) {
  prepare(1);
  ASSERT_TRUE(create(1, host::oci_spec(group_.containers[1])).ok()) << log_;
  ASSERT_TRUE(start(1).ok());
  std::string before = snapshot();
  v1::SignalProcessRequest sig;
  sig.set_container_id("two");
  sig.set_signal(10);  // SIGUSR1: the policy lists 15 and 9
  expect_denied(client_.call("SignalProcess", sig), "signal_container_process",
                {"target isn't allowed to receive the signal"}, before);
  v1::WaitProcessRequest w;
  w.set_container_id("two");
  v1::WaitProcessResponse wr;
  ASSERT_TRUE(client_.call("WaitProcess", w, &wr).ok());
  EXPECT_FALSE(wr.exited()) << "the denied signal must not have been delivered";
}

TEST_F(AgentTest, StdioIsWithheldWhenNotAllowed) {
  prepare(2);
  ASSERT_TRUE(create(2, host::oci_spec(group_.containers[2])).ok()) << log_;
  ASSERT_TRUE(start(2).ok());
  v1::WaitProcessRequest w;
  w.set_container_id("quiet");
  w.set_timeout_ms(30'000);
  v1::WaitProcessResponse wr;
  ASSERT_TRUE(client_.call("WaitProcess", w, &wr).ok());
  EXPECT_EQ(wr.exit_status(), 0);
  v1::ReadOutputRequest r;
  r.set_container_id("quiet");
  auto st = client_.call("ReadOutput", r);
  EXPECT_EQ(st.code, ttrpc::kPermissionDenied);
  EXPECT_NE(st.message.find("stdio access is not allowed by the policy"), std::string::npos);
  // The output was never kept in the guest.
  EXPECT_FALSE(fs::exists(state_ / "containers/quiet/init.stdout"));
}

TEST_F(AgentTest, PolicyNotMatchingHostDataIsRefused) {
  std::string other = policy_ + "\n# changed\n";
  // (GetProperties is itself denied without a policy: compare the state only.)
  std::string before = rego::to_json(agent_->policy_state());
  auto st = set_policy(other);
  EXPECT_EQ(st.code, ttrpc::kPermissionDenied);
  EXPECT_NE(st.message.find(policy::policy_digest_hex(policy_)), std::string::npos) << st.message;
  EXPECT_EQ(rego::to_json(agent_->policy_state()), before);
  v1::Empty e;
  EXPECT_EQ(client_.call("GetProperties", e).code, ttrpc::kPermissionDenied);  // still no policy
  // Nothing is allowed without a policy; the bound one is still accepted.
  EXPECT_EQ(mount_layer(images().base, "/run/mounts/scsi/m1").code, ttrpc::kPermissionDenied);
  EXPECT_TRUE(set_policy(policy_).ok());
  EXPECT_EQ(set_policy(policy_).code, ttrpc::kPermissionDenied);  // once per guest
}

TEST_F(AgentTest, MalformedAndOversizedMessages) {
  ASSERT_TRUE(set_policy(policy_).ok());
  std::string before = snapshot();
  ttrpc::Client& raw = client_.raw();
  std::string error, payload;
  ttrpc::FrameHeader h;
  auto roundtrip = [&](const std::string& frame) {
    EXPECT_TRUE(raw.send_raw(frame, error)) << error;
    EXPECT_TRUE(raw.read_frame(h, payload, error)) << error;
    ::ttrpc::Response r;
    EXPECT_TRUE(r.ParseFromString(payload));
    return r.status();
  };
  EXPECT_EQ(roundtrip(ttrpc::encode_frame(101, ttrpc::kTypeRequest, "\x0a\xff\xff\xff\xff")).code(),
            ttrpc::kInvalidArgument);
  ::ttrpc::Request req;
  req.set_service(kServiceName);
  req.set_method("FormatDisk");
  EXPECT_EQ(roundtrip(ttrpc::encode_frame(103, ttrpc::kTypeRequest, req.SerializeAsString())).code(),
            ttrpc::kUnimplemented);
  req.set_method("MountLayer");
  req.set_payload("\x12\x80");  // truncated field
  auto s = roundtrip(ttrpc::encode_frame(105, ttrpc::kTypeRequest, req.SerializeAsString()));
  EXPECT_EQ(s.code(), ttrpc::kInvalidArgument);
  EXPECT_NE(s.message().find("malformed MountLayerRequest"), std::string::npos) << s.message();
  req.set_method("CreateContainer");
  v1::CreateContainerRequest cc;
  cc.set_container_id("one");
  cc.set_rootfs("/run/gcs/c/one/rootfs");
  cc.set_oci_spec(std::string(100, '[') + "{\"process\":1}");
  req.set_payload(cc.SerializeAsString());
  EXPECT_EQ(roundtrip(ttrpc::encode_frame(107, ttrpc::kTypeRequest, req.SerializeAsString())).code(),
            ttrpc::kInvalidArgument);
  // 4 MiB + 1: refused with ResourceExhausted, the connection stays usable.
  std::string big(ttrpc::kHeaderSize, '\0');
  ttrpc::encode_header({ttrpc::kMaxMessageSize + 1, 109, ttrpc::kTypeRequest, 0},
                       reinterpret_cast<uint8_t*>(big.data()));
  big += std::string(ttrpc::kMaxMessageSize + 1, 'A');
  EXPECT_EQ(roundtrip(big).code(), ttrpc::kResourceExhausted);
  EXPECT_EQ(snapshot(), before);
}

TEST_F(AgentTest, ScratchNeedsEncryptionUnlessAllowed) {
  ASSERT_TRUE(set_policy(policy_).ok());
  std::string before = snapshot();
  v1::ScratchMountRequest r;
  r.set_target("/run/gcs/c/one/scratch");
  expect_denied(client_.call("ScratchMount", r), "scratch_mount", {"unencrypted scratch not allowed"}, before);
}

}  // namespace
}  // namespace confidant::agent
