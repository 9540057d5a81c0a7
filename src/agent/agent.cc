#include "agent/agent.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>

#include "agent/guest_path.h"
#include "agent/oci_spec.h"
#include "agent/subprocess.h"
#include "policy/digest.h"
#include "policy/signed_fragment.h"

namespace confidant::agent {

bool verify_fragment_envelope(const std::string& cose, policy::FragmentRequest& out, std::string& error) {
  policy::SignedFragment f;
  if (!policy::verify_signed_fragment(cose, policy::SignedFragmentOptions{}, f, error)) return false;
  out.issuer = f.issuer;
  out.feed = f.feed;
  out.text = f.text;
  out.header_svn = f.header_svn;
  return true;
}


namespace fs = std::filesystem;
using nlohmann::json;
using ttrpc::Status;

namespace {

constexpr const char* kScsiRegex = "/run/mounts/scsi/m[0-9]+";
constexpr uint32_t kMaxRead = 1u << 20;

Status invalid(const std::string& m) { return Status::error(ttrpc::kInvalidArgument, m); }
Status failed(const std::string& m) { return Status::error(ttrpc::kInternal, m); }
Status precondition(const std::string& m) { return Status::error(ttrpc::kFailedPrecondition, m); }

std::string join(const std::vector<std::string>& v, const char* sep) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : sep) + s;
  return out;
}

Status denied(std::string_view point, const policy::Decision& d) {
  Status st;
  st.code = ttrpc::kPermissionDenied;
  st.message = std::string(point) + " denied by policy" + (d.reasons.empty() ? "" : ": " + join(d.reasons, "; "));
  v1::PolicyDenial denial;
  denial.set_point(std::string(point));
  for (const auto& r : d.reasons) denial.add_reasons(r);
  denial.set_decision(d.message);
  google::protobuf::Any any;
  any.PackFrom(denial);
  st.details.push_back(std::move(any));
  return st;
}

bool write_file(const fs::path& p, const std::string& text, std::string& error) {
  std::ofstream f(p, std::ios::binary | std::ios::trunc);
  f << text;
  f.close();
  if (!f) {
    error = "cannot write " + p.string();
    return false;
  }
  return true;
}

std::string read_small(const fs::path& p, size_t cap = 1 << 16) {
  std::ifstream f(p, std::ios::binary);
  std::string s(cap, '\0');
  f.read(s.data(), std::streamsize(cap));
  s.resize(size_t(f.gcount()));
  return s;
}

std::string tail_text(std::string s, size_t n = 1500) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s.size() > n ? s.substr(s.size() - n) : s;
}

// runc --log-format json lines: the last "msg" at level error, if any.
std::string runc_log_error(const fs::path& log) {
  std::string text = read_small(log, 1 << 20);
  std::string last;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    json j = json::parse(line, nullptr, false);
    if (j.is_object() && j.value("level", "") == "error" && j.contains("msg") && j["msg"].is_string())
      last = j["msg"].get<std::string>();
  }
  return last;
}

}  // namespace

struct Process {
  pid_t pid = -1;
  std::vector<std::string> args;  // original argList, for signal_container_process
  fs::path stdout_path, stderr_path;
  bool stdio = false;
};

struct Container {
  std::string id;
  fs::path bundle;
  std::string rootfs_target;
  bool stdio = false;
  bool started = false;
  Process init;
  std::map<std::string, Process> execs;
};

struct Agent::Impl {
  AgentOptions o;
  fs::path guest_root, runc_root, layer_store, containers_dir, overlay_dir;
  policy::Enforcer enforcer;
  mutable std::mutex mu;                   // serialises operations (Wait/Read do not hold it while blocking)
  std::map<std::string, fs::path> layers;  // target → private image
  struct Overlay {
    std::string container_id;
    fs::path upper_base;
  };
  std::map<std::string, Overlay> overlays;  // target → overlay
  std::map<std::string, Container> containers;
  std::map<std::string, Process> externals;
  std::set<std::string> scratch;
  bool shut = false;
  uint64_t layer_counter = 0;

  explicit Impl(AgentOptions opts) : o(std::move(opts)), enforcer(o.tee) {
    std::error_code ec;
    fs::path root = o.state_dir;
    guest_root = root / "guest";
    runc_root = root / "runc";
    layer_store = root / "layers";
    containers_dir = root / "containers";
    overlay_dir = root / "overlays";
    for (const auto& d : {guest_root, runc_root, layer_store, containers_dir, overlay_dir})
      fs::create_directories(d, ec);
    start_reaper();
  }

  void log(const std::string& line) {
    if (o.log)
      o.log(line);
    else
      std::cerr << "agent: " << line << "\n";
  }

  fs::path real(const std::string& guest_path) const { return guest_root / guest_path.substr(1); }

  policy::Decision enforce(std::string_view point, const rego::Value& input) {
    policy::Decision d = enforcer.enforce(point, input);
    log(std::string(point) +
        (d.allowed ? ": allowed" : ": DENIED" + (d.reasons.empty() ? "" : " (" + join(d.reasons, "; ") + ")")));
    return d;
  }

  void rollback(const policy::Decision& d) {
    std::string error;
    if (!enforcer.rollback(d, error)) log("rollback failed: " + error);
  }

  static rego::Value input(const json& j) {
    rego::Value v;
    std::string error;
    rego::parse_json(j.dump(), v, error);
    return v;
  }

  // ------------------------------------------------------------ policy

  Status set_policy(const v1::SetPolicyRequest& req) {
    const std::string& text = req.policy();
    auto dialect = policy::detect_dialect(text);
    if (dialect != policy::Dialect::kAci)
      return invalid("the agent enforces Confidential ACI policies (package policy); this text is not one");
    std::string error;
    if (!enforcer.load(text, error)) {
      log("SetPolicy refused: " + error);
      policy::Decision d;
      d.reasons = {error};
      d.message = error;
      return denied("set_policy", d);
    }
    log("policy installed (sha256 " + policy::policy_digest_hex(text) + ")");
    policy::Decision logging = enforcer.enforce("runtime_logging", rego::Value::empty_object());
    log(std::string("runtime_logging: ") + (logging.allowed ? "allowed" : "not allowed (agent logs stay local)"));
    return {};
  }

  // ------------------------------------------------------------ layers

  Status mount_layer(const v1::MountLayerRequest& req, v1::MountLayerResponse& resp) {
    std::string error;
    if (!valid_guest_path(req.target(), error, "target")) return invalid(error);
    if (req.source().empty()) return invalid("source: the layer image path is empty");
    fs::path copy = layer_store / ("layer" + std::to_string(++layer_counter) + ".img");
    LayerInfo info;
    if (!o.verify_layer(req.source(), copy.string(), info, error)) {
      std::error_code ec;
      fs::remove(copy, ec);
      return invalid(error);
    }
    json in = {{"target", req.target()}, {"deviceHash", info.root_hash}, {"mountPathRegex", kScsiRegex}};
    policy::Decision d = enforce("mount_device", input(in));
    std::error_code ec;
    if (!d.allowed) {
      fs::remove(copy, ec);
      return denied("mount_device", d);
    }
    fs::path dir = real(req.target());
    fs::create_directories(dir, ec);
    auto r = run_command({"/bin/mount", "-t", "ext4", "-o", "loop,ro,noload", copy.string(), dir.string()}, 60'000);
    if (r.status != 0) {
      rollback(d);
      fs::remove(copy, ec);
      return failed(describe_failure("mount layer " + req.target(), r));
    }
    layers[req.target()] = copy;
    resp.set_device_hash(info.root_hash);
    return {};
  }

  Status unmount_layer(const v1::UnmountLayerRequest& req) {
    std::string error;
    if (!valid_guest_path(req.target(), error, "target")) return invalid(error);
    policy::Decision d = enforce("unmount_device", input({{"unmountTarget", req.target()}}));
    if (!d.allowed) return denied("unmount_device", d);
    auto it = layers.find(req.target());
    if (it == layers.end()) {
      rollback(d);
      return precondition("no layer is mounted at " + req.target());
    }
    if (::umount2(real(req.target()).c_str(), 0) != 0) {
      int e = errno;
      rollback(d);
      return failed("unmount " + req.target() + ": " + std::strerror(e));
    }
    std::error_code ec;
    fs::remove(it->second, ec);
    layers.erase(it);
    return {};
  }

  // ------------------------------------------------------------ overlays

  Status mount_overlay(const v1::MountOverlayRequest& req) {
    std::string error;
    if (!valid_id(req.container_id(), error, "container_id") || !valid_guest_path(req.target(), error, "target"))
      return invalid(error);
    if (req.layer_paths_size() == 0 || req.layer_paths_size() > 128)
      return invalid("layer_paths: between 1 and 128 layers are required");
    json paths = json::array();
    std::string lower;
    for (const auto& p : req.layer_paths()) {
      if (!valid_guest_path(p, error, "layer path")) return invalid(error);
      if (!layers.count(p)) return precondition("layer path " + p + " is not a mounted layer");
      paths.push_back(p);
      lower += (lower.empty() ? "" : ":") + real(p).string();
    }
    json in = {{"containerID", req.container_id()}, {"layerPaths", paths}, {"target", req.target()}};
    policy::Decision d = enforce("mount_overlay", input(in));
    if (!d.allowed) return denied("mount_overlay", d);
    std::error_code ec;
    fs::path base = overlay_dir / req.container_id();
    fs::path upper = base / "upper", work = base / "work", target = real(req.target());
    fs::remove_all(base, ec);
    fs::create_directories(upper, ec);
    fs::create_directories(work, ec);
    fs::create_directories(target, ec);
    std::string opts = "lowerdir=" + lower + ",upperdir=" + upper.string() + ",workdir=" + work.string();
    if (::mount("overlay", target.c_str(), "overlay", 0, opts.c_str()) != 0) {
      int e = errno;
      rollback(d);
      fs::remove_all(base, ec);
      return failed("overlay mount at " + req.target() + ": " + std::strerror(e));
    }
    overlays[req.target()] = Overlay{req.container_id(), base};
    return {};
  }

  Status unmount_overlay(const v1::UnmountOverlayRequest& req) {
    std::string error;
    if (!valid_guest_path(req.target(), error, "target")) return invalid(error);
    policy::Decision d = enforce("unmount_overlay", input({{"unmountTarget", req.target()}}));
    if (!d.allowed) return denied("unmount_overlay", d);
    auto it = overlays.find(req.target());
    if (it == overlays.end()) {
      rollback(d);
      return precondition("no overlay is mounted at " + req.target());
    }
    if (::umount2(real(req.target()).c_str(), 0) != 0) {
      int e = errno;
      rollback(d);
      return failed("unmount overlay " + req.target() + ": " + std::strerror(e));
    }
    std::error_code ec;
    fs::remove_all(it->second.upper_base, ec);
    overlays.erase(it);
    return {};
  }

  // ------------------------------------------------------------ containers

  // Maps guest paths in mount sources into the agent's guest root.
  std::string map_source(const std::string& src) const {
    if (src.starts_with("/run/gcs/") || src.starts_with("/run/mounts/")) return real(src).string();
    return src;
  }

  struct StdioFiles {
    int out = -1, err = -1;
    ~StdioFiles() {
      if (out >= 0) ::close(out);
      if (err >= 0) ::close(err);
    }
  };

  bool open_stdio(Process& p, const fs::path& dir, const std::string& name, StdioFiles& files, std::string& error) {
    p.stdout_path = dir / (name + ".stdout");
    p.stderr_path = dir / (name + ".stderr");
    // Without stdio access the process writes to /dev/null: its output never
    // exists in the guest, so it cannot be handed to the host by mistake.
    fs::path out = p.stdio ? p.stdout_path : fs::path("/dev/null");
    fs::path err = p.stdio ? p.stderr_path : fs::path("/dev/null");
    files.out = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    files.err = ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (files.out < 0 || files.err < 0) {
      error = "cannot create stdio files in " + dir.string() + ": " + std::strerror(errno);
      return false;
    }
    return true;
  }

  // Runs runc with the container's stdio attached (runc create/exec -d pass
  // these descriptors to the container process). The process inherits them,
  // so runc's own errors are read from its --log file.
  bool run_runc(const std::vector<std::string>& args, const StdioFiles& files, const fs::path& log,
                std::string& error) {
    std::vector<std::string> argv = {o.runc,         "--root", runc_root.string(), "--log", log.string(),
                                     "--log-format", "json"};
    argv.insert(argv.end(), args.begin(), args.end());
    SpawnOptions so;
    so.argv = argv;
    so.stdout_fd = files.out;
    so.stderr_fd = files.err;
    pid_t pid = spawn(so, error);
    if (pid < 0) return false;
    auto st = wait_exit(pid, 120'000);
    if (!st) {
      ::kill(pid, SIGKILL);
      wait_exit(pid, -1);
      error = "runc " + args[0] + ": timed out";
      return false;
    }
    if (*st != 0) {
      std::string msg = runc_log_error(log);
      error = "runc " + args[0] + ": exit status " + std::to_string(*st) + (msg.empty() ? "" : ": " + msg);
      return false;
    }
    return true;
  }

  CommandResult runc(const std::vector<std::string>& args, int timeout_ms = 60'000) {
    std::vector<std::string> argv = {o.runc, "--root", runc_root.string()};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_command(argv, timeout_ms);
  }

  static pid_t read_pid(const fs::path& p) {
    std::string s = read_small(p, 64);
    pid_t pid = 0;
    for (char c : s) {
      if (c < '0' || c > '9') break;
      pid = pid * 10 + (c - '0');
      if (pid > 1 << 24) return -1;
    }
    return pid > 0 ? pid : -1;
  }

  Status create_container(const v1::CreateContainerRequest& req) {
    std::string error;
    if (!valid_id(req.container_id(), error, "container_id")) return invalid(error);
    if (!req.sandbox_id().empty() && !valid_id(req.sandbox_id(), error, "sandbox_id")) return invalid(error);
    if (!valid_guest_path(req.rootfs(), error, "rootfs")) return invalid(error);
    json spec;
    if (!parse_json_object(req.oci_spec(), "oci_spec", spec, error)) return invalid(error);
    if (std::string why = refused_spec_features(spec); !why.empty()) return invalid("oci_spec refused: " + why);
    auto ov = overlays.find(req.rootfs());
    if (ov == overlays.end() || ov->second.container_id != req.container_id())
      return precondition("rootfs " + req.rootfs() + " is not the overlay mounted for container " + req.container_id());
    ContainerContext ctx{req.container_id(), req.sandbox_id(), real(req.rootfs()).string()};
    rego::Value in;
    if (!create_container_input(spec, ctx, in, error)) return invalid("oci_spec: " + error);
    if (spec_host_network(spec)) {
      policy::Decision hn = enforce("host_network", rego::Value::empty_object());
      if (!hn.allowed) return denied("host_network", hn);
    }
    policy::Decision d = enforce("create_container", in);
    if (!d.allowed) return denied("create_container", d);
    if (containers.count(req.container_id())) {
      rollback(d);
      return Status::error(ttrpc::kAlreadyExists, "container " + req.container_id() + " exists");
    }

    Container c;
    c.id = req.container_id();
    c.bundle = containers_dir / c.id;
    c.rootfs_target = req.rootfs();
    c.stdio = d.allow_stdio_access.value_or(false);
    c.init.stdio = c.stdio;
    std::error_code ec;
    fs::remove_all(c.bundle, ec);
    fs::create_directories(c.bundle, ec);
    json& process = spec["process"];
    c.init.args = process["args"].get<std::vector<std::string>>();
    apply_decision(process, d);
    if (!process.contains("cwd") || !process["cwd"].is_string()) process["cwd"] = "/";
    json root = spec.contains("root") && spec["root"].is_object() ? spec["root"] : json::object();
    root["path"] = real(req.rootfs()).string();
    spec["root"] = root;
    if (spec.contains("mounts") && spec["mounts"].is_array())
      for (auto& m : spec["mounts"])
        if (m.contains("source") && m["source"].is_string()) m["source"] = map_source(m["source"].get<std::string>());
    auto undo = [&](const std::string& msg) {
      rollback(d);
      fs::remove_all(c.bundle, ec);
      return failed(msg);
    };
    if (!write_file(c.bundle / "config.json", spec.dump(2), error)) return undo(error);
    StdioFiles files;
    if (!open_stdio(c.init, c.bundle, "init", files, error)) return undo(error);
    if (!run_runc({"create", "--bundle", c.bundle.string(), "--pid-file", (c.bundle / "init.pid").string(), c.id},
                  files, c.bundle / "runc-create.log", error)) {
      runc({"delete", "--force", c.id});
      return undo(error);
    }
    c.init.pid = read_pid(c.bundle / "init.pid");
    log("container " + c.id + " created (init pid " + std::to_string(c.init.pid) + ", stdio " +
        (c.stdio ? "allowed" : "not allowed") + ")");
    containers[c.id] = std::move(c);
    return {};
  }

  Status start_container(const v1::ContainerRequest& req) {
    std::string error;
    if (!valid_id(req.container_id(), error, "container_id")) return invalid(error);
    auto it = containers.find(req.container_id());
    if (it == containers.end()) return precondition("container " + req.container_id() + " was not created");
    if (it->second.started) return precondition("container " + req.container_id() + " is already started");
    // No enforcement point: create_container decided this process already.
    auto r = runc({"start", req.container_id()});
    if (r.status != 0) return failed(describe_failure("runc start", r));
    it->second.started = true;
    log("container " + req.container_id() + " started");
    return {};
  }

  Status exec_process(const v1::ExecProcessRequest& req) {
    std::string error;
    if (!valid_id(req.container_id(), error, "container_id") || !valid_id(req.exec_id(), error, "exec_id"))
      return invalid(error);
    json process;
    if (!parse_json_object(req.process(), "process", process, error)) return invalid(error);
    if (process.contains("terminal") && process["terminal"] == true)
      return invalid("process.terminal is not supported (stdio is captured to files)");
    auto it = containers.find(req.container_id());
    ContainerContext ctx{req.container_id(), "",
                         it != containers.end() ? real(it->second.rootfs_target).string() : std::string()};
    rego::Value in;
    if (!exec_input(process, ctx, in, error)) return invalid("process: " + error);
    policy::Decision d = enforce("exec_in_container", in);
    if (!d.allowed) return denied("exec_in_container", d);
    if (it == containers.end() || !it->second.started) {
      rollback(d);
      return precondition("container " + req.container_id() + " is not running");
    }
    Container& c = it->second;
    if (c.execs.count(req.exec_id())) {
      rollback(d);
      return Status::error(ttrpc::kAlreadyExists, "exec id " + req.exec_id() + " is in use");
    }
    Process p;
    p.args = process["args"].get<std::vector<std::string>>();
    p.stdio = d.allow_stdio_access.value_or(c.stdio);
    apply_decision(process, d);
    if (!process.contains("cwd") || !process["cwd"].is_string()) process["cwd"] = "/";
    fs::path file = c.bundle / ("exec-" + req.exec_id() + ".json");
    StdioFiles files;
    if (!write_file(file, process.dump(2), error) || !open_stdio(p, c.bundle, "exec-" + req.exec_id(), files, error)) {
      rollback(d);
      return failed(error);
    }
    fs::path pidfile = c.bundle / ("exec-" + req.exec_id() + ".pid");
    if (!run_runc({"exec", "--detach", "--pid-file", pidfile.string(), "--process", file.string(), c.id}, files,
                  c.bundle / ("exec-" + req.exec_id() + ".log"), error)) {
      rollback(d);
      return failed(error);
    }
    p.pid = read_pid(pidfile);
    c.execs[req.exec_id()] = std::move(p);
    return {};
  }

  Process* find_process(const std::string& container_id, const std::string& exec_id) {
    if (container_id.empty()) {
      auto e = externals.find(exec_id);
      return e == externals.end() ? nullptr : &e->second;
    }
    auto it = containers.find(container_id);
    if (it == containers.end()) return nullptr;
    if (exec_id.empty()) return &it->second.init;
    auto e = it->second.execs.find(exec_id);
    return e == it->second.execs.end() ? nullptr : &e->second;
  }

  Status signal_process(const v1::SignalProcessRequest& req) {
    std::string error;
    if (!valid_id(req.container_id(), error, "container_id")) return invalid(error);
    if (!req.exec_id().empty() && !valid_id(req.exec_id(), error, "exec_id")) return invalid(error);
    if (req.signal() < 1 || req.signal() > 64)
      return invalid("signal " + std::to_string(req.signal()) + " is out of range 1..64");
    Process* p = find_process(req.container_id(), req.exec_id());
    if (!p)
      return precondition("no process " + req.container_id() + (req.exec_id().empty() ? "" : "/" + req.exec_id()));
    json in = {{"containerID", req.container_id()},
               {"signal", req.signal()},
               {"isInitProcess", req.exec_id().empty()},
               {"argList", p->args}};
    policy::Decision d = enforce("signal_container_process", input(in));
    if (!d.allowed) return denied("signal_container_process", d);
    if (wait_exit(p->pid, 0)) return {};  // already exited: nothing to deliver
    if (p->pid <= 1 || ::kill(p->pid, req.signal()) != 0) {
      int e = errno;
      rollback(d);
      return failed("kill " + std::to_string(p->pid) + ": " + std::strerror(e));
    }
    return {};
  }

  Status wait_process(const v1::WaitProcessRequest& req, v1::WaitProcessResponse& resp,
                      std::unique_lock<std::mutex>& lock) {
    Process* p = find_process(req.container_id(), req.exec_id());
    if (!p)
      return precondition("no process " + req.container_id() + (req.exec_id().empty() ? "" : "/" + req.exec_id()));
    pid_t pid = p->pid;
    lock.unlock();
    auto st = wait_exit(pid, int(std::min<uint32_t>(req.timeout_ms(), 600'000)));
    resp.set_exited(st.has_value());
    if (st) resp.set_exit_status(*st);
    return {};
  }

  Status read_output(const v1::ReadOutputRequest& req, v1::ReadOutputResponse& resp) {
    Process* p = find_process(req.container_id(), req.exec_id());
    if (!p)
      return precondition("no process " + req.container_id() + (req.exec_id().empty() ? "" : "/" + req.exec_id()));
    if (!p->stdio)
      return Status::error(
          ttrpc::kPermissionDenied,
          "stdio access is not allowed by the policy for " +
              (req.container_id().empty() ? "this external process" : "container " + req.container_id()));
    bool exited = wait_exit(p->pid, 0).has_value();
    const fs::path& path = req.stderr() ? p->stderr_path : p->stdout_path;
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return failed("cannot open output of the process: " + std::string(std::strerror(errno)));
    uint32_t want = std::min(req.max_bytes() ? req.max_bytes() : kMaxRead, kMaxRead);
    std::string buf(want, '\0');
    ssize_t n = ::pread(fd, buf.data(), want, off_t(std::min<uint64_t>(req.offset(), uint64_t(1) << 62)));
    struct stat st {};
    ::fstat(fd, &st);
    ::close(fd);
    if (n < 0) n = 0;
    buf.resize(size_t(n));
    resp.set_next_offset(req.offset() + uint64_t(n));
    resp.set_eof(exited && resp.next_offset() >= uint64_t(st.st_size));
    resp.set_data(std::move(buf));
    return {};
  }

  void stop_container_process(Container& c, bool force, uint32_t grace_ms) {
    if (c.init.pid > 1 && !wait_exit(c.init.pid, 0)) {
      if (c.started) {
        runc({"kill", c.id, force ? "KILL" : "TERM"});
        if (!force && !wait_exit(c.init.pid, int(grace_ms))) runc({"kill", c.id, "KILL"});
      } else {
        runc({"kill", c.id, "KILL"});
      }
      wait_exit(c.init.pid, 10'000);
    }
  }

  Status shutdown_container(const v1::ShutdownContainerRequest& req) {
    std::string error;
    if (!valid_id(req.container_id(), error, "container_id")) return invalid(error);
    policy::Decision d = enforce("shutdown_container", input({{"containerID", req.container_id()}}));
    if (!d.allowed) return denied("shutdown_container", d);
    auto it = containers.find(req.container_id());
    if (it == containers.end()) {
      rollback(d);
      return precondition("container " + req.container_id() + " does not exist");
    }
    Container& c = it->second;
    stop_container_process(c, req.force(), std::min<uint32_t>(req.grace_ms() ? req.grace_ms() : 5000, 60'000));
    auto r = runc({"delete", "--force", c.id});
    if (r.status != 0) {
      rollback(d);
      return failed(describe_failure("runc delete", r));
    }
    log("container " + c.id + " shut down");
    // Output files stay readable until the agent exits; the entry goes.
    containers.erase(it);
    return {};
  }

  // ------------------------------------------------------------ scratch, misc

  Status scratch_mount(const v1::ScratchMountRequest& req) {
    std::string error;
    if (!valid_guest_path(req.target(), error, "target")) return invalid(error);
    // The agent cannot encrypt scratch space, so it says so.
    policy::Decision d = enforce("scratch_mount", input({{"target", req.target()}, {"encrypted", false}}));
    if (!d.allowed) return denied("scratch_mount", d);
    std::error_code ec;
    fs::create_directories(real(req.target()), ec);
    if (::mount("tmpfs", real(req.target()).c_str(), "tmpfs", MS_NOSUID | MS_NODEV, "size=256m,mode=0700") != 0) {
      int e = errno;
      rollback(d);
      return failed("scratch mount at " + req.target() + ": " + std::strerror(e));
    }
    scratch.insert(req.target());
    return {};
  }

  Status scratch_unmount(const v1::ScratchUnmountRequest& req) {
    std::string error;
    if (!valid_guest_path(req.target(), error, "target")) return invalid(error);
    policy::Decision d = enforce("scratch_unmount", input({{"unmountTarget", req.target()}}));
    if (!d.allowed) return denied("scratch_unmount", d);
    if (!scratch.count(req.target()) || ::umount2(real(req.target()).c_str(), 0) != 0) {
      int e = errno;
      rollback(d);
      return failed("scratch unmount at " + req.target() + ": " + std::strerror(e));
    }
    scratch.erase(req.target());
    return {};
  }

  Status get_properties(v1::PropertiesResponse& resp) {
    policy::Decision d = enforce("get_properties", rego::Value::empty_object());
    if (!d.allowed) return denied("get_properties", d);
    json out = {{"layers", json::array()}, {"overlays", json::array()}, {"containers", json::array()}};
    for (const auto& [t, _] : layers) out["layers"].push_back(t);
    for (const auto& [t, ov] : overlays) out["overlays"].push_back({{"target", t}, {"container", ov.container_id}});
    for (const auto& [id, c] : containers) {
      json execs = json::array();
      for (const auto& [eid, p] : c.execs)
        execs.push_back({{"id", eid}, {"pid", p.pid}, {"exited", wait_exit(p.pid, 0).has_value()}});
      out["containers"].push_back({{"id", id},
                                   {"started", c.started},
                                   {"pid", c.init.pid},
                                   {"exited", wait_exit(c.init.pid, 0).has_value()},
                                   {"stdio", c.stdio},
                                   {"execs", execs}});
    }
    resp.set_json(out.dump());
    return {};
  }

  Status dump_stacks(v1::DumpStacksResponse& resp) {
    policy::Decision d = enforce("dump_stacks", rego::Value::empty_object());
    if (!d.allowed) return denied("dump_stacks", d);
    // Thread names and where each one waits in the kernel.
    std::string out;
    std::error_code ec;
    for (const auto& t : fs::directory_iterator("/proc/self/task", ec)) {
      std::string comm = tail_text(read_small(t.path() / "comm", 64));
      std::string wchan = tail_text(read_small(t.path() / "wchan", 128));
      out += "thread " + t.path().filename().string() + " " + comm + " wchan=" + wchan + "\n";
    }
    resp.set_stacks(out);
    return {};
  }

  Status load_fragment(const v1::LoadFragmentRequest& req) {
    if (!o.verify_fragment)
      return precondition("fragment verification is not available in this agent (no COSE verifier configured)");
    policy::FragmentRequest frag;
    std::string error;
    if (!o.verify_fragment(req.cose(), frag, error)) return invalid("fragment: " + error);
    policy::Decision d = enforcer.load_fragment(frag);
    log(std::string("load_fragment: ") + (d.allowed ? "allowed" : "DENIED (" + join(d.reasons, "; ") + ")"));
    if (!d.allowed) return denied("load_fragment", d);
    return {};
  }

  Status exec_external(const v1::ExecExternalRequest& req) {
    std::string error;
    if (!valid_id(req.exec_id(), error, "exec_id")) return invalid(error);
    json process;
    if (!parse_json_object(req.process(), "process", process, error)) return invalid(error);
    rego::Value in;
    if (!exec_external_input(process, in, error)) return invalid("process: " + error);
    policy::Decision d = enforce("exec_external", in);
    if (!d.allowed) return denied("exec_external", d);
    if (externals.count(req.exec_id()))
      return Status::error(ttrpc::kAlreadyExists, "exec id " + req.exec_id() + " is in use");
    Process p;
    p.args = process["args"].get<std::vector<std::string>>();
    p.stdio = d.allow_stdio_access.value_or(false);
    fs::path dir = fs::path(o.state_dir) / "external";
    std::error_code ec;
    fs::create_directories(dir, ec);
    StdioFiles files;
    if (!open_stdio(p, dir, req.exec_id(), files, error)) return failed(error);
    SpawnOptions so;
    so.argv = p.args;
    // exec_external_input checked both fields' types.
    if (d.env_list)
      so.env = *d.env_list;
    else if (process.contains("env") && process["env"].is_array())
      so.env = process["env"].get<std::vector<std::string>>();
    if (so.env.empty()) so.env = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin"};
    so.cwd = process.contains("cwd") && process["cwd"].is_string() ? process["cwd"].get<std::string>() : "/";
    so.stdout_fd = files.out;
    so.stderr_fd = files.err;
    p.pid = spawn(so, error);
    if (p.pid < 0) return failed(error);  // exec_external keeps no state: nothing to roll back
    externals[req.exec_id()] = std::move(p);
    return {};
  }

  void cleanup() {
    if (shut) return;
    shut = true;
    for (auto& [id, c] : containers) {
      stop_container_process(c, true, 0);
      runc({"delete", "--force", id});
    }
    containers.clear();
    for (auto& [id, p] : externals)
      if (p.pid > 1 && !wait_exit(p.pid, 0)) ::kill(p.pid, SIGKILL);
    for (const auto& t : scratch) ::umount2(real(t).c_str(), MNT_DETACH);
    for (const auto& [t, _] : overlays) ::umount2(real(t).c_str(), MNT_DETACH);
    for (const auto& [t, _] : layers) ::umount2(real(t).c_str(), MNT_DETACH);
    scratch.clear();
    overlays.clear();
    layers.clear();
  }
};

Agent::Agent(AgentOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}
Agent::~Agent() { shutdown(); }

void Agent::shutdown() {
  std::lock_guard<std::mutex> lock(impl_->mu);
  impl_->cleanup();
}

rego::Value Agent::policy_state() const { return impl_->enforcer.state(); }

namespace {

template <typename Req, typename Resp, typename Fn>
ttrpc::Handler typed(Agent::Impl* impl, const char* method, Fn fn) {
  return [impl, method, fn](const std::string& payload, std::string& out) -> Status {
    Req req;
    if (!req.ParseFromString(payload))
      return invalid(std::string(method) + ": malformed " + Req::descriptor()->name() + " message");
    Resp resp;
    std::unique_lock<std::mutex> lock(impl->mu);
    if (impl->shut) return Status::error(ttrpc::kUnavailable, "the agent is shutting down");
    Status st = fn(impl, req, resp, lock);
    if (lock.owns_lock()) lock.unlock();
    if (!st.ok()) impl->log(std::string(method) + ": " + ttrpc::code_name(st.code) + ": " + st.message);
    if (st.ok()) out = resp.SerializeAsString();
    return st;
  };
}

}  // namespace

std::shared_ptr<ttrpc::Router> Agent::router() {
  auto r = std::make_shared<ttrpc::Router>();
  Impl* i = impl_.get();
  using L = std::unique_lock<std::mutex>;
  auto add = [&](const char* m, ttrpc::Handler h) { r->add(kServiceName, m, std::move(h)); };
  add("SetPolicy", typed<v1::SetPolicyRequest, v1::Empty>(
                       i, "SetPolicy", [](Impl* i, auto& q, auto&, L&) { return i->set_policy(q); }));
  add("MountLayer", typed<v1::MountLayerRequest, v1::MountLayerResponse>(
                        i, "MountLayer", [](Impl* i, auto& q, auto& s, L&) { return i->mount_layer(q, s); }));
  add("UnmountLayer", typed<v1::UnmountLayerRequest, v1::Empty>(
                          i, "UnmountLayer", [](Impl* i, auto& q, auto&, L&) { return i->unmount_layer(q); }));
  add("MountOverlay", typed<v1::MountOverlayRequest, v1::Empty>(
                          i, "MountOverlay", [](Impl* i, auto& q, auto&, L&) { return i->mount_overlay(q); }));
  add("UnmountOverlay", typed<v1::UnmountOverlayRequest, v1::Empty>(
                            i, "UnmountOverlay", [](Impl* i, auto& q, auto&, L&) { return i->unmount_overlay(q); }));
  add("CreateContainer", typed<v1::CreateContainerRequest, v1::Empty>(
                             i, "CreateContainer", [](Impl* i, auto& q, auto&, L&) { return i->create_container(q); }));
  add("StartContainer", typed<v1::ContainerRequest, v1::Empty>(
                            i, "StartContainer", [](Impl* i, auto& q, auto&, L&) { return i->start_container(q); }));
  add("ExecProcess", typed<v1::ExecProcessRequest, v1::Empty>(
                         i, "ExecProcess", [](Impl* i, auto& q, auto&, L&) { return i->exec_process(q); }));
  add("SignalProcess", typed<v1::SignalProcessRequest, v1::Empty>(
                           i, "SignalProcess", [](Impl* i, auto& q, auto&, L&) { return i->signal_process(q); }));
  add("WaitProcess", typed<v1::WaitProcessRequest, v1::WaitProcessResponse>(
                         i, "WaitProcess", [](Impl* i, auto& q, auto& s, L& l) { return i->wait_process(q, s, l); }));
  add("ReadOutput", typed<v1::ReadOutputRequest, v1::ReadOutputResponse>(
                        i, "ReadOutput", [](Impl* i, auto& q, auto& s, L&) { return i->read_output(q, s); }));
  add("ShutdownContainer",
      typed<v1::ShutdownContainerRequest, v1::Empty>(
          i, "ShutdownContainer", [](Impl* i, auto& q, auto&, L&) { return i->shutdown_container(q); }));
  add("ScratchMount", typed<v1::ScratchMountRequest, v1::Empty>(
                          i, "ScratchMount", [](Impl* i, auto& q, auto&, L&) { return i->scratch_mount(q); }));
  add("ScratchUnmount", typed<v1::ScratchUnmountRequest, v1::Empty>(
                            i, "ScratchUnmount", [](Impl* i, auto& q, auto&, L&) { return i->scratch_unmount(q); }));
  add("GetProperties", typed<v1::Empty, v1::PropertiesResponse>(
                           i, "GetProperties", [](Impl* i, auto&, auto& s, L&) { return i->get_properties(s); }));
  add("DumpStacks", typed<v1::Empty, v1::DumpStacksResponse>(
                        i, "DumpStacks", [](Impl* i, auto&, auto& s, L&) { return i->dump_stacks(s); }));
  add("LoadFragment", typed<v1::LoadFragmentRequest, v1::Empty>(
                          i, "LoadFragment", [](Impl* i, auto& q, auto&, L&) { return i->load_fragment(q); }));
  add("ExecExternal", typed<v1::ExecExternalRequest, v1::Empty>(
                          i, "ExecExternal", [](Impl* i, auto& q, auto&, L&) { return i->exec_external(q); }));
  return r;
}

bool denial_from_status(const ttrpc::Status& st, v1::PolicyDenial& out) {
  for (const auto& d : st.details)
    if (d.Is<v1::PolicyDenial>() && d.UnpackTo(&out)) return true;
  return false;
}

bool AgentClient::connect(const std::string& address, std::string& error) {
  ttrpc::Address a;
  if (!ttrpc::parse_address(address, a, error)) return false;
  return client_.connect(a, error);
}

ttrpc::Status AgentClient::call(const std::string& method, const google::protobuf::Message& request,
                                google::protobuf::Message* response) {
  std::string out;
  ttrpc::Status st = client_.call(kServiceName, method, request.SerializeAsString(), out);
  if (st.ok() && response && !response->ParseFromString(out))
    return ttrpc::Status::error(ttrpc::kUnavailable, "malformed " + method + " response from the agent");
  return st;
}

namespace {
const google::protobuf::MethodDescriptor* method_descriptor(const std::string& method) {
  const auto* svc = v1::SetPolicyRequest::descriptor()->file()->FindServiceByName("Agent");
  return svc ? svc->FindMethodByName(method) : nullptr;
}
}  // namespace

std::unique_ptr<google::protobuf::Message> new_request(const std::string& method) {
  const auto* m = method_descriptor(method);
  if (!m) return nullptr;
  const auto* proto = google::protobuf::MessageFactory::generated_factory()->GetPrototype(m->input_type());
  return proto ? std::unique_ptr<google::protobuf::Message>(proto->New()) : nullptr;
}

std::unique_ptr<google::protobuf::Message> new_response(const std::string& method) {
  const auto* m = method_descriptor(method);
  if (!m) return nullptr;
  const auto* proto = google::protobuf::MessageFactory::generated_factory()->GetPrototype(m->output_type());
  return proto ? std::unique_ptr<google::protobuf::Message>(proto->New()) : nullptr;
}

}  // namespace confidant::agent
