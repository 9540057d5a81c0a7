// Every ACI enforcement point through the Enforcer and the built-in
// framework: the calls a policy allows, and each denial with its reason.
#include "aci_fixture.h"
#include "policy/decision_envelope.h"

namespace confidant::policy::testing {
namespace {

using rego::Value;

class AciPoints : public ::testing::Test {
 protected:
  void SetUp() override { load({}); }
  void load(const FixtureOptions& o) { e_ = bound_enforcer(fixture_policy(o)); }
  Decision call(const std::string& point, const Value& input) { return e_->enforce(point, input); }

  // The app container's two layers mounted and its overlay in place.
  void mount_app() {
    ASSERT_TRUE(call("mount_device", mount_device(scsi(1), kL1)).allowed);
    ASSERT_TRUE(call("mount_device", mount_device(scsi(2), kL2)).allowed);
    ASSERT_TRUE(call("mount_overlay", mount_overlay(kApp, {scsi(2), scsi(1)})).allowed);
  }
  void start_app() {
    mount_app();
    Decision d = call("create_container", create_app());
    ASSERT_TRUE(d.allowed) << ::testing::PrintToString(d.reasons);
  }
  void mount_priv() {
    ASSERT_TRUE(call("mount_device", mount_device(scsi(3), kL3)).allowed);
    ASSERT_TRUE(call("mount_overlay", mount_overlay(kPriv, {scsi(3)})).allowed);
  }

  std::unique_ptr<Enforcer> e_;
};

// ---------------------------------------------------------------- devices

TEST_F(AciPoints, MountDevice) {
  EXPECT_ALLOWED(call("mount_device", mount_device(scsi(1), kL1)));
  EXPECT_EQ(*e_->state().get("devices")->get(scsi(1)), Value::string(kL1));
  EXPECT_DENIED(call("mount_device", mount_device(scsi(2), std::string(64, 'f'))), "deviceHash not found");
  EXPECT_DENIED(call("mount_device", mount_device(scsi(1), kL2)), "device already mounted at path");
  EXPECT_DENIED(call("mount_device", mount_device("/tmp/m2", kL2)), "mountpoint invalid");
  // The regex matches the whole target.
  EXPECT_DENIED(call("mount_device", mount_device("/x/run/mounts/scsi/m2", kL2)), "mountpoint invalid");
}

Value rw_mount(const std::string& target, bool encrypted, bool ensure, const std::string& fs) {
  return json(R"({"target":")" + target + R"(","encrypted":)" + (encrypted ? "true" : "false") +
              R"(,"ensureFilesystem":)" + (ensure ? "true" : "false") + R"(,"filesystem":")" + fs +
              R"(","mountPathRegex":"/run/gcs/c/[0-9a-fA-F]{64}"})");
}

TEST_F(AciPoints, RwMountDevice) {
  std::string target = "/run/gcs/c/" + kApp;
  EXPECT_DENIED(call("rw_mount_device", rw_mount(target, false, true, "ext4")),
                "unencrypted scratch not allowed, non-readonly mount request for SCSI disk must request encryption");
  EXPECT_DENIED(call("rw_mount_device", rw_mount(target, true, false, "ext4")),
                "ensureFilesystem must be set on rw device mounts");
  EXPECT_DENIED(call("rw_mount_device", rw_mount(target, true, true, "btrfs")),
                "rw device mounts uses a filesystem that is not allowed");
  EXPECT_DENIED(call("rw_mount_device", rw_mount("/run/gcs/c/short", true, true, "xfs")), "mountpoint invalid");
  EXPECT_ALLOWED(call("rw_mount_device", rw_mount(target, true, true, "xfs")));
  EXPECT_DENIED(call("rw_mount_device", rw_mount(target, true, true, "ext4")), "device already mounted at path");
  // A read-only mount cannot reuse a read-write target either.
  EXPECT_DENIED(call("mount_device", json(R"({"target":")" + target + R"(","deviceHash":")" + kL1 +
                                          R"(","mountPathRegex":"/run/gcs/c/[0-9a-f]+"})")),
                "device already mounted at path");
}

TEST_F(AciPoints, RwMountDeviceUnencryptedWhenPolicyAllows) {
  FixtureOptions o;
  o.unencrypted_scratch = true;
  load(o);
  EXPECT_ALLOWED(call("rw_mount_device", rw_mount("/run/gcs/c/" + kApp, false, true, "ext4")));
}

Value unmount(const std::string& target) { return json(R"({"unmountTarget":")" + target + R"("})"); }

TEST_F(AciPoints, UnmountDevice) {
  EXPECT_DENIED(call("unmount_device", unmount(scsi(1))), "no device at path to unmount");
  ASSERT_TRUE(call("mount_device", mount_device(scsi(1), kL1)).allowed);
  ASSERT_TRUE(call("rw_mount_device", rw_mount("/run/gcs/c/" + kApp, true, true, "ext4")).allowed);
  EXPECT_DENIED(call("unmount_device", unmount("/run/gcs/c/" + kApp)),
                "received read-only unmount request, but device provided is read-write");
  EXPECT_ALLOWED(call("unmount_device", unmount(scsi(1))));
  EXPECT_EQ(e_->state().get("devices")->size(), 0u);
  EXPECT_DENIED(call("unmount_device", unmount(scsi(1))), "no device at path to unmount");
}

TEST_F(AciPoints, RwUnmountDevice) {
  std::string target = "/run/gcs/c/" + kApp;
  EXPECT_DENIED(call("rw_unmount_device", unmount(target)), "no device at path to unmount");
  ASSERT_TRUE(call("mount_device", mount_device(scsi(1), kL1)).allowed);
  EXPECT_DENIED(call("rw_unmount_device", unmount(scsi(1))),
                "received read-write unmount request, but device provided is read-only");
  ASSERT_TRUE(call("rw_mount_device", rw_mount(target, true, true, "ext4")).allowed);
  EXPECT_ALLOWED(call("rw_unmount_device", unmount(target)));
}

TEST_F(AciPoints, BlockDevicesAreNeverAllowed) {
  EXPECT_DENIED(call("mount_blockdev", json(R"({"target":"/run/mounts/b0"})")), "blockdev mounts are not supported");
  EXPECT_DENIED(call("unmount_blockdev", unmount("/run/mounts/b0")), "blockdev mounts are not supported");
}

// ---------------------------------------------------------------- overlays

TEST_F(AciPoints, MountOverlay) {
  ASSERT_TRUE(call("mount_device", mount_device(scsi(1), kL1)).allowed);
  ASSERT_TRUE(call("mount_device", mount_device(scsi(2), kL2)).allowed);
  // Layer paths list the top layer first.
  EXPECT_DENIED(call("mount_overlay", mount_overlay(kApp, {scsi(1), scsi(2)})), "no matching containers for overlay");
  EXPECT_DENIED(call("mount_overlay", mount_overlay(kApp, {scsi(2)})), "no matching containers for overlay");
  EXPECT_DENIED(call("mount_overlay", mount_overlay(kApp, {scsi(2), scsi(9)})), "no matching containers for overlay");
  EXPECT_ALLOWED(call("mount_overlay", mount_overlay(kApp, {scsi(2), scsi(1)})));
  const Value* m = e_->state().get("matches")->get(kApp);
  ASSERT_TRUE(m && m->is_array());
  EXPECT_EQ(m->size(), 1u);
  EXPECT_EQ(*m->array_items()[0].get("name"), Value::string("app"));
  EXPECT_DENIED(call("mount_overlay", mount_overlay(kApp, {scsi(2), scsi(1)})), "overlay has already been mounted");
}

TEST_F(AciPoints, UnmountOverlay) {
  mount_app();
  std::string target = "/run/gcs/c/" + kApp + "/rootfs";
  EXPECT_ALLOWED(call("unmount_overlay", unmount(target)));
  EXPECT_DENIED(call("unmount_overlay", unmount(target)), "no overlay at path to unmount");
}

// ---------------------------------------------------------------- create_container

TEST_F(AciPoints, CreateContainerAllowed) {
  mount_app();
  Decision d = call("create_container", create_app());
  ASSERT_TRUE(d.allowed) << ::testing::PrintToString(d.reasons);
  ASSERT_TRUE(d.env_list);
  EXPECT_EQ(*d.env_list, (std::vector<std::string>{"PATH=/bin", "LOG=debug", "MODE=prod"}));
  ASSERT_TRUE(d.allow_stdio_access);
  EXPECT_TRUE(*d.allow_stdio_access);
  ASSERT_TRUE(d.caps_list);
  EXPECT_EQ(d.caps_list->get("bounding")->size(), 14u);
  EXPECT_TRUE(e_->state().get("started")->get(kApp));
  EXPECT_DENIED(call("create_container", create_app()), "container already started");
}

TEST_F(AciPoints, CreateContainerDeniedPerCheck) {
  mount_app();
  Value ok = create_app();
  auto deny = [&](const Value& input) { return call("create_container", input); };
  EXPECT_DENIED(deny(with(ok, "argList", json(R"(["/app"])"))), "invalid command");
  EXPECT_DENIED(deny(with(ok, "workingDir", json(R"("/tmp")"))), "invalid working directory");
  EXPECT_DENIED(deny(with(ok, "noNewPrivileges", Value::boolean(false))), "invalid noNewPrivileges");
  EXPECT_DENIED(deny(with(ok, "user", json(R"({"id":"0","name":"root"})"))), "invalid user");
  EXPECT_DENIED(deny(with(ok, "umask", json(R"("0077")"))), "invalid user");
  EXPECT_DENIED(deny(with(ok, "privileged", Value::boolean(true))), "privileged escalation not allowed");
  EXPECT_DENIED(deny(with(ok, "seccompProfileSHA256", json(R"("ab12")"))), "invalid seccomp");
  EXPECT_DENIED(deny(with(ok, "devices", json(R"([{"path":"/dev/kvm","type":"c","major":10,"minor":232}])"))),
                "devices not supported");
  EXPECT_DENIED(deny(with(ok, "mounts",
                          json(R"([{"destination":"/bin","source":"/host/bin","options":["rbind","rw"],"type":"bind"},
      {"destination":"/etc","source":"/host/etc","options":["rbind"],"type":"bind"}])"))),
                "invalid mount list: /bin,/etc");
  // A sandbox mount from outside the sandbox directory is not the policy's mount.
  EXPECT_DENIED(
      deny(with(
          ok, "mounts",
          json(
              R"([{"destination":"/data","source":"/run/gcs/c/other/sandboxMounts/tmp/atlas/emptydir/v","options":["rbind","rw"],"type":"bind"}])"))),
      "invalid mount list: /data");
  // Options are compared as sets of equal size.
  EXPECT_DENIED(deny(with(ok, "mounts",
                          json(R"([{"destination":"/data","source":")" + sandbox_dir() +
                               R"(/tmp/atlas/emptydir/v","options":["rbind","rw","rw"],"type":"bind"}])"))),
                "invalid mount list: /data");
  EXPECT_DENIED(deny(with(ok, "envList", json(R"(["PATH=/bin","SECRET=hunter2"])"))), "invalid env list: SECRET",
                "invalid env list");
  EXPECT_DENIED(deny(with(ok, "envList", json(R"(["PATH=/bin","MODE=test"])"))), "invalid env list: MODE",
                "invalid env list");
  EXPECT_DENIED(deny(with(ok, "envList", json(R"(["LOG=1"])"))), "missing required environment variable");
  Value caps = json(unpriv_caps_json());
  EXPECT_DENIED(deny(with(ok, "capabilities", with(caps, "ambient", json(R"(["CAP_SYS_ADMIN"])")))),
                "capabilities don't match");
  // Fewer capabilities than the policy lists are a mismatch too (without dropping).
  EXPECT_DENIED(deny(with(ok, "capabilities", with(caps, "bounding", json(R"(["CAP_CHOWN"])")))),
                "capabilities don't match");
  // Nothing of the denied calls was recorded.
  EXPECT_FALSE(e_->state().get("started"));
  EXPECT_ALLOWED(call("create_container", ok));
}

TEST_F(AciPoints, CreateContainerWithoutOverlayIsDenied) {
  EXPECT_DENIED(call("create_container", create_app()), "invalid command", "invalid working directory",
                "invalid noNewPrivileges", "invalid user", "privileged escalation not allowed", "invalid seccomp",
                "invalid env list: PATH,LOG,MODE", "invalid mount list: /data,/proc");
}

TEST_F(AciPoints, CreateContainerEnvironmentDropping) {
  FixtureOptions o;
  o.env_dropping = true;
  load(o);
  mount_app();
  Decision d = call("create_container", with(create_app(), "envList", json(R"(["PATH=/bin","SECRET=x","LOG=1"])")));
  ASSERT_TRUE(d.allowed) << ::testing::PrintToString(d.reasons);
  EXPECT_EQ(*d.env_list, (std::vector<std::string>{"PATH=/bin", "LOG=1"}));
}

TEST_F(AciPoints, CreateContainerCapabilityDropping) {
  FixtureOptions o;
  o.caps_dropping = true;
  load(o);
  mount_app();
  Value caps = json(unpriv_caps_json());
  Value wider = with(caps, "bounding", json(std::string(kUnprivCaps).replace(1, 0, "\"CAP_SYS_ADMIN\",")));
  Decision d = call("create_container", with(create_app(), "capabilities", wider));
  ASSERT_TRUE(d.allowed) << ::testing::PrintToString(d.reasons);
  EXPECT_EQ(d.caps_list->get("bounding")->size(), 14u);
  EXPECT_EQ(rego::to_json(*d.caps_list->get("bounding")).find("CAP_SYS_ADMIN"), std::string::npos);
}

TEST_F(AciPoints, CreateContainerPrivileged) {
  mount_priv();
  // The privileged container gets the privileged default capabilities...
  EXPECT_ALLOWED(call("create_container", create_priv(true)));
  EXPECT_EQ(*e_->state().get("started")->get(kPriv)->get("privileged"), Value::boolean(true));
}

TEST_F(AciPoints, CreateContainerPrivilegedNeedsPrivilegedCapabilities) {
  mount_priv();
  // ...and a privileged request with the unprivileged set does not match them.
  Value input = with(create_priv(true), "capabilities", json(unpriv_caps_json()));
  EXPECT_DENIED(call("create_container", input), "capabilities don't match");
  EXPECT_ALLOWED(call("create_container", create_priv(false)));
}

TEST_F(AciPoints, CreateContainerPrivilegedMountsOnlyWhenElevated) {
  mount_priv();
  Value cgroup_rw = json(
      R"([{"destination":"/sys/fs/cgroup","source":"cgroup","options":["nosuid","noexec","nodev","relatime","rw"],"type":"cgroup"}])");
  EXPECT_ALLOWED(call("create_container", with(create_priv(true), "mounts", cgroup_rw)));
  mount_app();
  EXPECT_DENIED(call("create_container", with(create_app(), "mounts", cgroup_rw)),
                "invalid mount list: /sys/fs/cgroup");
}

TEST_F(AciPoints, CreateContainerSandboxSysfs) {
  mount_app();
  Value sysfs =
      json(R"([{"destination":"/sys","source":"sysfs","options":["nosuid","noexec","nodev","rw"],"type":"sysfs"}])");
  EXPECT_DENIED(call("create_container", with(create_app(), "mounts", sysfs)), "invalid mount list: /sys");
  EXPECT_ALLOWED(
      call("create_container", with(with(create_app(), "mounts", sysfs), "isSandboxContainer", Value::boolean(true))));
}

TEST_F(AciPoints, CreateContainerPlan9Mount) {
  mount_app();
  std::string share = "/run/gcs/c/" + kApp + "/mounts/m1";
  Value p9 = json(R"([{"destination":"/secrets","source":")" + share + R"(","options":["rbind","ro"],"type":"bind"}])");
  // The source must be a plan9 share mounted for this container.
  EXPECT_DENIED(call("create_container", with(create_app(), "mounts", p9)), "invalid mount list: /secrets");
  ASSERT_TRUE(call("plan9_mount", json(R"({"rootPrefix":"/run/gcs/c","mountPathPrefix":"/mounts/m[0-9]+","target":")" +
                                       share + R"("})"))
                  .allowed);
  EXPECT_ALLOWED(call("create_container", with(create_app(), "mounts", p9)));
}

TEST_F(AciPoints, CreateContainerOnlyDistinguishableByStdio) {
  // A second container with the app's layers and rules, differing only in allow_stdio_access.
  std::string twin = app_container_json();
  twin.replace(twin.find("\"allow_stdio_access\":true"), 25, "\"allow_stdio_access\":false");
  FixtureOptions o;
  o.extra_containers = "," + twin;
  load(o);
  mount_app();
  EXPECT_EQ(e_->state().get("matches")->get(kApp)->size(), 2u);
  EXPECT_DENIED(call("create_container", create_app()), "containers only distinguishable by allow_stdio_access");
}

TEST_F(AciPoints, CreateContainerOnlyDistinguishableByCapabilities) {
  // Two candidates that each allow one different extra capability: with
  // dropping both keep 15 of the 16 requested, so the request picks neither.
  auto variant = [](const std::string& extra) {
    std::string c = app_container_json();
    size_t at = c.find("\"bounding\":[") + 12;
    c.insert(at, "\"" + extra + "\",");
    return c;
  };
  FixtureOptions o;
  o.caps_dropping = true;
  o.extra_containers = "," + variant("CAP_SYS_ADMIN") + "," + variant("CAP_NET_ADMIN");
  load(o);
  mount_app();
  Value caps = json(unpriv_caps_json());
  Value wide =
      with(caps, "bounding", json(std::string(kUnprivCaps).replace(1, 0, "\"CAP_SYS_ADMIN\",\"CAP_NET_ADMIN\",")));
  EXPECT_DENIED(call("create_container", with(create_app(), "capabilities", wide)),
                "containers only distinguishable by capabilties");
}

TEST_F(AciPoints, CreateContainerNarrowsMatches) {
  // Two candidates with the same layers but different commands: create keeps the one that matched.
  std::string other = app_container_json();
  other.replace(other.find("\"--serve\""), 9, "\"--other\"");
  other.replace(other.find("\"name\":\"app\""), 12, "\"name\":\"alt\"");
  FixtureOptions o;
  o.extra_containers = "," + other;
  load(o);
  mount_app();
  EXPECT_EQ(e_->state().get("matches")->get(kApp)->size(), 2u);
  EXPECT_ALLOWED(call("create_container", create_app()));
  const Value* m = e_->state().get("matches")->get(kApp);
  ASSERT_EQ(m->size(), 1u);
  EXPECT_EQ(*m->array_items()[0].get("name"), Value::string("app"));
}

// ---------------------------------------------------------------- exec_in_container

TEST_F(AciPoints, ExecInContainer) {
  // Every check fails when there is no container to compare with.
  EXPECT_DENIED(call("exec_in_container", exec_app()), "container not started", "invalid command",
                "invalid working directory", "invalid noNewPrivileges", "invalid user", "invalid env list: PATH");
  start_app();
  Decision d = call("exec_in_container", exec_app());
  ASSERT_TRUE(d.allowed) << ::testing::PrintToString(d.reasons);
  // Stdio is decided per container, at create.
  EXPECT_EQ(d.allow_stdio_access, std::optional<bool>(true));
  EXPECT_EQ(*d.env_list, std::vector<std::string>{"PATH=/bin"});

  Value ok = exec_app();
  auto deny = [&](const Value& input) { return call("exec_in_container", input); };
  EXPECT_DENIED(deny(with(ok, "argList", json(R"(["/bin/bash"])"))), "invalid command", "invalid noNewPrivileges",
                "invalid user");
  EXPECT_DENIED(deny(with(ok, "workingDir", json(R"("/")"))), "invalid working directory");
  EXPECT_DENIED(deny(with(ok, "noNewPrivileges", Value::boolean(false))), "invalid noNewPrivileges");
  EXPECT_DENIED(deny(with(ok, "user", json(R"({"id":"0","name":"root"})"))), "invalid user");
  EXPECT_DENIED(deny(with(ok, "envList", json(R"(["PATH=/bin","TOKEN=x"])"))), "invalid env list: TOKEN");
  EXPECT_DENIED(deny(with(ok, "envList", json(R"(["LOG=x"])"))), "missing required environment variable");
  EXPECT_DENIED(deny(with(ok, "capabilities", with(json(unpriv_caps_json()), "effective", json("[]")))),
                "capabilities don't match");
}

TEST_F(AciPoints, ExecInPrivilegedContainerUsesItsPrivilege) {
  mount_priv();
  ASSERT_TRUE(call("create_container", create_priv(true)).allowed);
  // The container was started privileged: its processes get the privileged defaults.
  Value exec = json(R"({"containerID":")" + kPriv + R"(","argList":["/bin/sh"],"envList":[],"workingDir":"/",
      "noNewPrivileges":false,"user":{"id":"0","name":"root"},"groups":[],"umask":"0022","capabilities":)" +
                    rego::to_json(default_privileged_capabilities()) + "}");
  EXPECT_ALLOWED(call("exec_in_container", exec));
  EXPECT_EQ(call("exec_in_container", exec).allow_stdio_access, std::optional<bool>(false));
  EXPECT_DENIED(call("exec_in_container", with(exec, "capabilities", json(unpriv_caps_json()))),
                "capabilities don't match");
}

// ---------------------------------------------------------------- exec_external

Value exec_external(const std::string& args, const std::string& envs, const std::string& dir) {
  return json(R"({"argList":)" + args + R"(,"envList":)" + envs + R"(,"workingDir":")" + dir + R"("})");
}

TEST_F(AciPoints, ExecExternal) {
  Decision d = call("exec_external", exec_external(R"(["/bin/diag"])", R"(["X=1"])", "/"));
  ASSERT_TRUE(d.allowed) << ::testing::PrintToString(d.reasons);
  EXPECT_EQ(d.allow_stdio_access, std::optional<bool>(false));
  EXPECT_DENIED(call("exec_external", exec_external(R"(["/bin/bash"])", R"(["X=1"])", "/")), "invalid command");
  EXPECT_DENIED(call("exec_external", exec_external(R"(["/bin/diag"])", R"(["X=1"])", "/tmp")),
                "invalid working directory");
  EXPECT_DENIED(call("exec_external", exec_external(R"(["/bin/diag"])", R"(["X=2","Y=1"])", "/")),
                "invalid env list: X,Y");
}

TEST_F(AciPoints, ExecExternalRequiredAndAmbiguous) {
  FixtureOptions o;
  o.extra_externals =
      R"(,{"command":["/bin/req"],"env_rules":[{"pattern":"NEED=1","strategy":"string","required":true}],"working_dir":"/","allow_stdio_access":false})"
      R"(,{"command":["/bin/twin"],"env_rules":[],"working_dir":"/","allow_stdio_access":false})"
      R"(,{"command":["/bin/twin"],"env_rules":[],"working_dir":"/","allow_stdio_access":true})";
  load(o);
  EXPECT_DENIED(call("exec_external", exec_external(R"(["/bin/req"])", "[]", "/")),
                "missing required environment variable");
  EXPECT_ALLOWED(call("exec_external", exec_external(R"(["/bin/req"])", R"(["NEED=1"])", "/")));
  EXPECT_DENIED(call("exec_external", exec_external(R"(["/bin/twin"])", "[]", "/")),
                "external processes only distinguishable by allow_stdio_access");
}

// ---------------------------------------------------------------- shutdown and signals

Value signal(const std::string& id, int sig, bool init, const std::string& args) {
  return json(R"({"containerID":")" + id + R"(","signal":)" + std::to_string(sig) + R"(,"isInitProcess":)" +
              (init ? "true" : "false") + R"(,"argList":)" + args + "}");
}

TEST_F(AciPoints, SignalContainerProcess) {
  EXPECT_DENIED(call("signal_container_process", signal(kApp, 15, true, R"(["/app","--serve"])")),
                "container not started");
  start_app();
  EXPECT_ALLOWED(call("signal_container_process", signal(kApp, 15, true, R"(["/app","--serve"])")));
  EXPECT_DENIED(call("signal_container_process", signal(kApp, 9, true, R"(["/app","--serve"])")),
                "target isn't allowed to receive the signal");
  // Other processes: the exec process's own signals.
  EXPECT_ALLOWED(call("signal_container_process", signal(kApp, 9, false, R"(["/bin/sh"])")));
  EXPECT_DENIED(call("signal_container_process", signal(kApp, 15, false, R"(["/bin/sh"])")),
                "target isn't allowed to receive the signal");
  EXPECT_DENIED(call("signal_container_process", signal(kApp, 9, false, R"(["/bin/bash"])")),
                "target isn't allowed to receive the signal");
}

TEST_F(AciPoints, ShutdownContainer) {
  Value input = json(R"({"containerID":")" + kApp + R"("})");
  EXPECT_DENIED(call("shutdown_container", input), "container not started");
  start_app();
  EXPECT_ALLOWED(call("shutdown_container", input));
  EXPECT_FALSE(e_->state().get("matches")->get(kApp));
  // The container stays started: its ID can never be created again.
  EXPECT_TRUE(e_->state().get("started")->get(kApp));
  EXPECT_DENIED(call("signal_container_process", signal(kApp, 15, true, R"(["/app","--serve"])")),
                "target isn't allowed to receive the signal");
  // Even with a new overlay, the same container ID cannot be created twice.
  ASSERT_TRUE(call("unmount_overlay", unmount("/run/gcs/c/" + kApp + "/rootfs")).allowed);
  EXPECT_ALLOWED(call("mount_overlay", mount_overlay(kApp, {scsi(2), scsi(1)})));
  EXPECT_DENIED(call("create_container", create_app()), "container already started");
}

// ---------------------------------------------------------------- plan9 and scratch

Value plan9(const std::string& target) {
  return json(R"({"rootPrefix":"/run/gcs/c","mountPathPrefix":"/mounts/m[0-9]+","target":")" + target + R"("})");
}

TEST_F(AciPoints, Plan9MountAndUnmount) {
  std::string share = "/run/gcs/c/" + kApp + "/mounts/m3";
  // No container has an overlay yet: the share belongs to nobody (the framework gives no message).
  EXPECT_DENIED(call("plan9_mount", plan9(share)));
  mount_app();
  EXPECT_DENIED(call("plan9_mount", plan9("/run/gcs/c/" + kApp + "/elsewhere/m3")));
  EXPECT_ALLOWED(call("plan9_mount", plan9(share)));
  EXPECT_EQ(*e_->state().get("p9mounts")->get(share), Value::string(kApp));
  EXPECT_DENIED(call("plan9_mount", plan9(share)), "device already mounted at path");
  EXPECT_ALLOWED(call("plan9_unmount", unmount(share)));
  EXPECT_DENIED(call("plan9_unmount", unmount(share)), "no device at path to unmount");
}

TEST_F(AciPoints, ScratchMountAndUnmount) {
  auto scratch = [](const std::string& target, bool encrypted) {
    return json(R"({"target":")" + target + R"(","encrypted":)" + (encrypted ? "true" : "false") + "}");
  };
  EXPECT_DENIED(call("scratch_mount", scratch("/run/scratch/0", false)), "unencrypted scratch not allowed");
  EXPECT_ALLOWED(call("scratch_mount", scratch("/run/scratch/0", true)));
  EXPECT_DENIED(call("scratch_mount", scratch("/run/scratch/0", true)), "scratch already mounted at path");
  EXPECT_ALLOWED(call("scratch_unmount", unmount("/run/scratch/0")));
  EXPECT_DENIED(call("scratch_unmount", unmount("/run/scratch/0")), "no scratch at path to unmount");
}

// ---------------------------------------------------------------- host-level switches

TEST_F(AciPoints, HostLevelSwitches) {
  EXPECT_ALLOWED(call("get_properties", Value::empty_object()));
  EXPECT_ALLOWED(call("runtime_logging", Value::empty_object()));
  // The framework has no message for these: a denial with an empty list.
  EXPECT_DENIED(call("dump_stacks", Value::empty_object()));
  EXPECT_DENIED(call("host_network", Value::empty_object()));
}

// ---------------------------------------------------------------- Windows points

TEST_F(AciPoints, LogProvider) {
  EXPECT_ALLOWED(call("log_provider", json(R"({"providers":["microsoft-windows-containers"]})")));
  EXPECT_DENIED(call("log_provider", json(R"({"providers":["Microsoft-Windows-Containers","Other"]})")),
                "log provider not allowed by policy");
}

TEST_F(AciPoints, LogProviderDropping) {
  FixtureOptions o;
  o.extra = "allow_log_provider_dropping := true\n";
  load(o);
  Decision d = call("log_provider", json(R"({"providers":["Microsoft-Windows-Containers","Other"]})"));
  ASSERT_TRUE(d.allowed);
  EXPECT_EQ(rego::to_json(*d.result.get("providers_to_keep")), R"(["Microsoft-Windows-Containers"])");
}

TEST_F(AciPoints, MountCimsAndRegistryChanges) {
  FixtureOptions o;
  o.extra_containers = R"(,{"command":["c:\\app.exe"],"env_rules":[],"layers":["h1","h2"],"mounted_cim":["cim0"],
      "exec_processes":[],"signals":[],"user":"ContainerUser","working_dir":"C:\\",
      "allow_stdio_access":true,"registry_changes":{"add_values":[]}})";
  load(o);
  Value cims = json(R"({"containerID":"w1","layerHashes":["h2","h1"],"mountedCim":["cim0"]})");
  EXPECT_DENIED(call("mount_cims", with(cims, "layerHashes", json(R"(["h1","h2"])"))));
  EXPECT_ALLOWED(call("mount_cims", cims));
  Value reg = json(
      R"({"containerID":"w1","registryChanges":{"AddValues":[{"Key":{"Hive":"System","Name":"k"},"Name":"v","Type":"DWord","DWordValue":1}]}})");
  EXPECT_ALLOWED(call("registry_changes", reg));
  EXPECT_DENIED(call("registry_changes", with(reg, "containerID", Value::string("w2"))));
}

// ---------------------------------------------------------------- transparency trust lists

TEST_F(AciPoints, LoadTransparencyTrustList) {
  auto ttl = [](int svn, const std::string& ledgers) {
    return json(R"({"issuer":"did:x509:0:sha256:ttl","subject":"ledgers","svn":)" + std::to_string(svn) +
                R"(,"ledgers":)" + ledgers + "}");
  };
  Decision d = call("load_transparency_trust_list", ttl(3, R"(["ledger-b","ledger-z"])"));
  ASSERT_TRUE(d.allowed) << ::testing::PrintToString(d.reasons);
  EXPECT_EQ(rego::to_json(*d.result.get("allowed_ledgers")), R"(["ledger-b"])");
  EXPECT_DENIED(call("load_transparency_trust_list", ttl(2, R"(["ledger-a"])")),
                "no TTL candidate matches the provided TTL's issuer, subject and svn");
  EXPECT_DENIED(call("load_transparency_trust_list", ttl(3, R"(["ledger-z"])")),
                "The provided TTL does not contain any ledgers it is allowed to load");
}

// ---------------------------------------------------------------- the envelope

TEST_F(AciPoints, DenialCarriesThePolicyDecisionEnvelope) {
  mount_app();
  Decision d = call("create_container", with(create_app(), "argList", json(R"(["/app"])")));
  ASSERT_FALSE(d.allowed);
  Value decoded = decode_policy_decision(d.message);
  ASSERT_TRUE(decoded.is_object()) << d.message;
  EXPECT_EQ(*decoded.get("decision"), Value::string("deny"));
  EXPECT_EQ(*decoded.get("input")->get("rule"), Value::string("create_container"));
  // Environment values never leave the guest.
  EXPECT_EQ(rego::to_json(*decoded.get("input")->get("envList")),
            R"(["PATH=<<redacted>>","LOG=<<redacted>>","MODE=<<redacted>>"])");
  EXPECT_EQ(*decoded.get("input")->get("capabilities"), Value::string("[unprivileged]"));
  EXPECT_EQ(rego::to_json(*decoded.get("reason")->get("errors")), R"(["invalid command"])");
  const Value* objects = decoded.get("reason")->get("error_objects");
  ASSERT_TRUE(objects && objects->is_array());
  EXPECT_EQ(*objects->array_items()[0].get("capabilities"), Value::string("[unprivileged]"));
  EXPECT_FALSE(decoded.get("policyError"));
}

}  // namespace
}  // namespace confidant::policy::testing
