#include "policy/guest_data.h"

#include <string>

namespace confidant::policy {

using rego::Value;

namespace {

constexpr const char* kUnprivileged =
    R"(["CAP_CHOWN","CAP_DAC_OVERRIDE","CAP_FSETID","CAP_FOWNER","CAP_MKNOD","CAP_NET_RAW","CAP_SETGID",)"
    R"("CAP_SETUID","CAP_SETFCAP","CAP_SETPCAP","CAP_NET_BIND_SERVICE","CAP_SYS_CHROOT","CAP_KILL","CAP_AUDIT_WRITE"])";

constexpr const char* kPrivileged =
    R"(["CAP_CHOWN","CAP_DAC_OVERRIDE","CAP_DAC_READ_SEARCH","CAP_FOWNER","CAP_FSETID","CAP_KILL","CAP_SETGID",)"
    R"("CAP_SETUID","CAP_SETPCAP","CAP_LINUX_IMMUTABLE","CAP_NET_BIND_SERVICE","CAP_NET_BROADCAST","CAP_NET_ADMIN",)"
    R"("CAP_NET_RAW","CAP_IPC_LOCK","CAP_IPC_OWNER","CAP_SYS_MODULE","CAP_SYS_RAWIO","CAP_SYS_CHROOT","CAP_SYS_PTRACE",)"
    R"("CAP_SYS_PACCT","CAP_SYS_ADMIN","CAP_SYS_BOOT","CAP_SYS_NICE","CAP_SYS_RESOURCE","CAP_SYS_TIME",)"
    R"("CAP_SYS_TTY_CONFIG","CAP_MKNOD","CAP_LEASE","CAP_AUDIT_WRITE","CAP_AUDIT_CONTROL","CAP_SETFCAP",)"
    R"("CAP_MAC_OVERRIDE","CAP_MAC_ADMIN","CAP_SYSLOG","CAP_WAKE_ALARM","CAP_BLOCK_SUSPEND","CAP_AUDIT_READ",)"
    R"("CAP_PERFMON","CAP_BPF","CAP_CHECKPOINT_RESTORE"])";

// type / source / destination / options, as containerd's CRI plugin sets them up.
constexpr const char* kDefaultMounts = R"([
  {"destination": "/proc", "type": "proc", "source": "proc", "options": ["nosuid", "noexec", "nodev"]},
  {"destination": "/dev", "type": "tmpfs", "source": "tmpfs",
   "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
  {"destination": "/dev/pts", "type": "devpts", "source": "devpts",
   "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]},
  {"destination": "/dev/shm", "type": "tmpfs", "source": "shm",
   "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]},
  {"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue", "options": ["nosuid", "noexec", "nodev"]},
  {"destination": "/sys", "type": "sysfs", "source": "sysfs", "options": ["nosuid", "noexec", "nodev", "ro"]},
  {"destination": "/run", "type": "tmpfs", "source": "tmpfs",
   "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
  {"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup",
   "options": ["nosuid", "noexec", "nodev", "relatime", "ro"]},
  {"destination": "/sys/fs/cgroup", "type": "cgroup2", "source": "cgroup2",
   "options": ["nosuid", "noexec", "nodev", "relatime", "ro"]}
])";

constexpr const char* kPrivilegedMounts = R"([
  {"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup",
   "options": ["nosuid", "noexec", "nodev", "relatime", "rw"]},
  {"destination": "/sys/fs/cgroup", "type": "cgroup2", "source": "cgroup2",
   "options": ["nosuid", "noexec", "nodev", "relatime", "rw"]},
  {"destination": "/sys", "type": "sysfs", "source": "sysfs", "options": ["nosuid", "noexec", "nodev", "rw"]}
])";

Value parse(const char* json) {
  Value v;
  std::string error;
  rego::parse_json(json, v, error);  // constant, valid JSON
  return v;
}

Value caps_object(const Value& full, bool privileged) {
  const Value& none = Value::empty_array();
  return Value::object({{Value::string("ambient"), none},
                        {Value::string("bounding"), full},
                        {Value::string("effective"), full},
                        {Value::string("inheritable"), privileged ? full : none},
                        {Value::string("permitted"), full}});
}

}  // namespace

const rego::Value& aci_guest_data() {
  static const Value data = Value::object({
      {Value::string("defaultMounts"), parse(kDefaultMounts)},
      {Value::string("privilegedMounts"), parse(kPrivilegedMounts)},
      {Value::string("sandboxPrefix"), Value::string("sandbox://")},
      {Value::string("hugePagesPrefix"), Value::string("hugepages://")},
      {Value::string("plan9Prefix"), Value::string("plan9://")},
      {Value::string("defaultUnprivilegedCapabilities"), parse(kUnprivileged)},
      {Value::string("defaultPrivilegedCapabilities"), parse(kPrivileged)},
  });
  return data;
}

const rego::Value& default_unprivileged_capabilities() {
  static const Value v = caps_object(parse(kUnprivileged), false);
  return v;
}

const rego::Value& default_privileged_capabilities() {
  static const Value v = caps_object(parse(kPrivileged), true);
  return v;
}

}  // namespace confidant::policy
