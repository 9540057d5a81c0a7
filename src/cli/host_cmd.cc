// `confidant host`: the untrusted host side of a container group — prepares
// layer images, launches the agent, and sends it requests.
#include <google/protobuf/util/json_util.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "agent/agent.h"
#include "agent/host.h"
#include "cli/commands.h"
#include "policy/digest.h"
#include "policy/guest_data.h"
#if CONFIDANT_HAVE_ATTEST
#include "attest/attest.h"
#endif

namespace confidant::cli {

namespace {

namespace fs = std::filesystem;
using nlohmann::json;
namespace host = agent::host;

constexpr const char* kUsage =
    "usage: confidant host start  --group GROUP.json --policy POLICY.rego --socket PATH [--work DIR]\n"
    "                             [--virtual-snp DIR]\n"
    "       confidant host policy --group GROUP.json [--work DIR]        (print a policy for the group)\n"
    "       confidant host exec   --socket PATH --container ID --exec-id ID [--env K=V]... [--cwd DIR] -- CMD...\n"
    "       confidant host signal --socket PATH --container ID [--exec-id ID] --signal N\n"
    "       confidant host logs   --socket PATH --container ID [--exec-id ID] [--stderr] [--wait]\n"
    "       confidant host stop   --socket PATH [--work DIR]\n"
    "       confidant host raw    --socket PATH --method M [--payload-json JSON]\n"
    "  start: builds the layer images (ext4 + dm-verity), launches `confidant agent` in its own mount\n"
    "  namespace with HOST_DATA = sha256(policy), sends SetPolicy, then mounts, creates and starts every\n"
    "  container. State for later commands goes to WORK/state.json (WORK defaults to SOCKET.d).\n"
    "  raw: any request as proto3 JSON (bytes fields base64), e.g. --method MountLayer\n"
    "       --payload-json '{\"source\":\"/tmp/l.img\",\"target\":\"/run/mounts/scsi/m9\"}'.\n"
    "  Exit status: 0 done, 1 refused by the agent (reason on stderr), 2 usage error.\n";

struct Flags {
  std::string group, policy, socket, work, container, exec_id, method, payload_json, snp, cwd;
  std::vector<std::string> env, command;
  int signal = 0;
  bool stderr_stream = false, wait = false;
};

bool parse_flags(const std::vector<std::string>& args, size_t start, Flags& f) {
  std::vector<std::string> rest(args.begin() + long(start), args.end());
  ArgCursor a(rest);
  while (a.next()) {
    if (!a.is_flag()) {
      f.command.push_back(a.positional());
      continue;
    }
    std::string v;
    const std::string& fl = a.flag();
    auto need = [&](std::string& out) {
      if (!a.value(out)) {
        std::cerr << "confidant host: " << fl << " needs a value\n";
        return false;
      }
      return true;
    };
    if (fl == "--group") {
      if (!need(f.group)) return false;
    } else if (fl == "--policy") {
      if (!need(f.policy)) return false;
    } else if (fl == "--socket") {
      if (!need(f.socket)) return false;
    } else if (fl == "--work") {
      if (!need(f.work)) return false;
    } else if (fl == "--container") {
      if (!need(f.container)) return false;
    } else if (fl == "--exec-id") {
      if (!need(f.exec_id)) return false;
    } else if (fl == "--method") {
      if (!need(f.method)) return false;
    } else if (fl == "--payload-json") {
      if (!need(f.payload_json)) return false;
    } else if (fl == "--virtual-snp") {
      if (!need(f.snp)) return false;
    } else if (fl == "--cwd") {
      if (!need(f.cwd)) return false;
    } else if (fl == "--env") {
      if (!need(v)) return false;
      f.env.push_back(v);
    } else if (fl == "--signal") {
      if (!need(v)) return false;
      try {
        f.signal = std::stoi(v);
      } catch (...) {
        std::cerr << "confidant host: --signal needs a number\n";
        return false;
      }
    } else if (fl == "--stderr") {
      f.stderr_stream = true;
    } else if (fl == "--wait") {
      f.wait = true;
    } else {
      std::cerr << "confidant host: unknown flag " << fl << "\n" << kUsage;
      return false;
    }
  }
  return true;
}

bool read_text(const std::string& path, std::string& out) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return false;
  std::stringstream ss;
  ss << f.rdbuf();
  out = ss.str();
  return true;
}

std::string work_dir(const Flags& f) { return f.work.empty() ? f.socket + ".d" : f.work; }

void say(const std::string& line) { std::cout << line << std::endl; }

// The agent's refusal on one line, then the policy's reasons.
int refused(const std::string& what, const agent::ttrpc::Status& st) {
  std::cerr << what << " refused: " << host::describe(st) << "\n";
  agent::v1::PolicyDenial d;
  if (agent::denial_from_status(st, d)) {
    for (const auto& r : d.reasons()) std::cerr << "  policy reason: " << r << "\n";
  }
  return 1;
}

bool connect(const Flags& f, agent::AgentClient& c) {
  if (f.socket.empty()) {
    std::cerr << "confidant host: --socket is required\n";
    return false;
  }
  std::string error;
  if (!c.connect(f.socket, error)) {
    std::cerr << "confidant host: cannot reach the agent: " << error << "\n";
    return false;
  }
  return true;
}

bool load_group(const Flags& f, host::Group& g) {
  std::string text, error;
  if (f.group.empty() || !read_text(f.group, text)) {
    std::cerr << "confidant host: cannot read group file '" << f.group << "'\n";
    return false;
  }
  if (!host::parse_group(text, fs::absolute(f.group).parent_path().string(), g, error)) {
    std::cerr << "confidant host: " << error << "\n";
    return false;
  }
  return true;
}

int policy_cmd(const Flags& f) {
  host::Group g;
  if (!load_group(f, g)) return 2;
  std::string work = f.work.empty() ? (fs::temp_directory_path() / "confidant-host-policy").string() : f.work;
  host::PreparedLayers layers;
  std::string error;
  host::Progress quiet;
  quiet.say = [](const std::string& l) { std::cerr << l << "\n"; };
  if (!host::prepare_layers(g, work, agent::build_layer_image, layers, quiet, error)) {
    std::cerr << "confidant host policy: " << error << "\n";
    return 1;
  }
  std::cout << host::group_policy(g, layers.hashes);
  return 0;
}

int start_cmd(const Flags& f) {
  host::Group g;
  if (!load_group(f, g)) return 2;
  std::string policy_text;
  if (f.policy.empty() || !read_text(f.policy, policy_text)) {
    std::cerr << "confidant host start: cannot read policy '" << f.policy << "'\n";
    return 2;
  }
  if (f.socket.empty()) {
    std::cerr << "confidant host start: --socket is required\n";
    return 2;
  }
  std::string work = work_dir(f);
  std::error_code ec;
  fs::create_directories(work, ec);
  host::Progress p;
  p.say = say;
  auto t0 = std::chrono::steady_clock::now();
  std::string host_data = policy::policy_digest_hex(policy_text);
  say("[1/4] policy " + f.policy + ": HOST_DATA = sha256(policy) = " + host_data);
  say("[2/4] building layer images (ext4 + dm-verity) for " + std::to_string(g.containers.size()) + " containers");
  host::PreparedLayers layers;
  std::string error;
  if (!host::prepare_layers(g, work, agent::build_layer_image, layers, p, error)) {
    std::cerr << "confidant host start: " << error << "\n";
    return 1;
  }
  say("[3/4] launching the agent in its own mount namespace (HOST_DATA fixed at launch)");
  std::string self = fs::read_symlink("/proc/self/exe", ec).string();
  std::vector<std::string> argv = {self,     "agent",       "--socket",
                                   f.socket, "--state-dir", (fs::path(work) / "agent").string()};
  if (!f.snp.empty()) {
#if CONFIDANT_HAVE_ATTEST
    // The launch fixes HOST_DATA in the (virtual) hardware; the agent reads
    // it back from attestation reports.
    attest::LaunchParams params;
    if (!policy::parse_host_data(host_data, params.host_data)) return 1;
    auto dev = attest::VirtualSnp::launch(f.snp, params, error);
    if (!dev) {
      std::cerr << "confidant host start: virtual SNP launch in " << f.snp << ": " << error << "\n";
      return 1;
    }
    say("  virtual SNP device launched in " + f.snp + " with HOST_DATA " + host_data);
#else
    std::cerr << "confidant host start: this build has no attestation library (--virtual-snp unavailable)\n";
    return 2;
#endif
    argv.push_back("--virtual-snp");
    argv.push_back(f.snp);
  } else {
    argv.push_back("--host-data");
    argv.push_back(host_data);
  }
  std::string log = (fs::path(work) / "agent.log").string();
  int pid = host::launch_agent(argv, f.socket, log, error);
  if (pid < 0) {
    std::cerr << "confidant host start: " << error << "\n";
    return 1;
  }
  say("  agent pid " + std::to_string(pid) + ", socket " + f.socket + ", log " + log);
  say("[4/4] sending SetPolicy and the group's requests");
  agent::AgentClient client;
  if (!connect(f, client)) return 1;
  host::GroupState state;
  state.socket = f.socket;
  state.agent_pid = pid;
  host::StartTimings t;
  bool ok = host::start_group(client, g, layers, policy_text, state, t, p, error);
  std::ofstream(fs::path(work) / "state.json") << state.to_json().dump(2);
  if (!ok) {
    std::cerr << "confidant host start: " << error << "\n";
    return 1;
  }
  double total = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  char buf[256];
  std::snprintf(buf, sizeof buf,
                "group running: %zu containers in %.2f s (layer hashing %.2f s, policy %.3f s, mounting %.2f s, "
                "runc %.2f s)",
                g.containers.size(), total, layers.seconds, t.policy, t.mounting, t.runc);
  say(buf);
  return 0;
}

// Prints a process's output from `offset`; with `wait`, follows it until the
// process exits. Returns false when the agent refused.
bool print_output(agent::AgentClient& c, const Flags& f, const std::string& exec_id, bool wait) {
  uint64_t offset = 0;
  for (;;) {
    agent::v1::ReadOutputRequest r;
    r.set_container_id(f.container);
    r.set_exec_id(exec_id);
    r.set_stderr(f.stderr_stream);
    r.set_offset(offset);
    agent::v1::ReadOutputResponse resp;
    auto st = c.call("ReadOutput", r, &resp);
    if (!st.ok()) {
      refused("ReadOutput", st);
      return false;
    }
    std::cout << resp.data() << std::flush;
    offset = resp.next_offset();
    if (!wait || resp.eof()) return true;
    if (resp.data().empty()) {
      agent::v1::WaitProcessRequest w;
      w.set_container_id(f.container);
      w.set_exec_id(exec_id);
      w.set_timeout_ms(200);
      agent::v1::WaitProcessResponse wr;
      c.call("WaitProcess", w, &wr);
    }
  }
}

int exec_cmd(const Flags& f) {
  if (f.container.empty() || f.exec_id.empty() || f.command.empty()) {
    std::cerr << "confidant host exec: --container, --exec-id and a command are required\n";
    return 2;
  }
  agent::AgentClient c;
  if (!connect(f, c)) return 1;
  json process = {{"args", f.command},
                  {"env", f.env.empty() ? std::vector<std::string>{"PATH=/bin"} : f.env},
                  {"cwd", f.cwd.empty() ? "/" : f.cwd},
                  {"user", {{"uid", 0}, {"gid", 0}}},
                  {"capabilities", json::parse(rego::to_json(policy::default_unprivileged_capabilities()))}};
  agent::v1::ExecProcessRequest r;
  r.set_container_id(f.container);
  r.set_exec_id(f.exec_id);
  r.set_process(process.dump());
  auto st = c.call("ExecProcess", r);
  if (!st.ok()) return refused("ExecProcess", st);
  if (!print_output(c, f, f.exec_id, true)) return 1;
  agent::v1::WaitProcessRequest w;
  w.set_container_id(f.container);
  w.set_exec_id(f.exec_id);
  w.set_timeout_ms(60'000);
  agent::v1::WaitProcessResponse wr;
  st = c.call("WaitProcess", w, &wr);
  if (st.ok() && wr.exited()) std::cerr << "(exit status " << wr.exit_status() << ")\n";
  return 0;
}

int signal_cmd(const Flags& f) {
  if (f.container.empty() || f.signal <= 0) {
    std::cerr << "confidant host signal: --container and --signal are required\n";
    return 2;
  }
  agent::AgentClient c;
  if (!connect(f, c)) return 1;
  agent::v1::SignalProcessRequest r;
  r.set_container_id(f.container);
  r.set_exec_id(f.exec_id);
  r.set_signal(f.signal);
  auto st = c.call("SignalProcess", r);
  if (!st.ok()) return refused("SignalProcess", st);
  say("signal " + std::to_string(f.signal) + " delivered to " + f.container +
      (f.exec_id.empty() ? "" : "/" + f.exec_id));
  return 0;
}

int logs_cmd(const Flags& f) {
  if (f.container.empty()) {
    std::cerr << "confidant host logs: --container is required\n";
    return 2;
  }
  agent::AgentClient c;
  if (!connect(f, c)) return 1;
  return print_output(c, f, f.exec_id, f.wait) ? 0 : 1;
}

int stop_cmd(const Flags& f) {
  std::string text, error;
  fs::path state_file = fs::path(work_dir(f)) / "state.json";
  host::GroupState state;
  if (!read_text(state_file.string(), text) ||
      !host::GroupState::from_json(json::parse(text, nullptr, false), state, error)) {
    std::cerr << "confidant host stop: cannot read " << state_file << " (written by host start)\n";
    return 2;
  }
  agent::AgentClient c;
  if (!connect(f, c)) return 1;
  host::Progress p;
  p.say = say;
  say("stopping the group");
  bool ok = host::stop_group(c, state, p, error);
  c.raw().close();
  if (state.agent_pid > 0 && ::kill(state.agent_pid, SIGTERM) == 0) {
    for (int i = 0; i < 100 && ::kill(state.agent_pid, 0) == 0; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    say("agent (pid " + std::to_string(state.agent_pid) + ") stopped");
  }
  if (!ok) {
    std::cerr << "confidant host stop: " << error << "\n";
    return 1;
  }
  return 0;
}

int raw_cmd(const Flags& f) {
  if (f.method.empty()) {
    std::cerr << "confidant host raw: --method is required\n";
    return 2;
  }
  auto req = agent::new_request(f.method);
  auto resp = agent::new_response(f.method);
  if (!req) {
    // Unknown to us: send it anyway with an empty payload, the agent answers.
    agent::AgentClient c;
    if (!connect(f, c)) return 1;
    std::string out;
    auto st = c.raw().call(agent::kServiceName, f.method, "", out);
    if (!st.ok()) return refused(f.method, st);
    std::cout << "(ok, " << out.size() << " payload bytes)\n";
    return 0;
  }
  if (!f.payload_json.empty()) {
    auto status = google::protobuf::util::JsonStringToMessage(f.payload_json, req.get());
    if (!status.ok()) {
      std::cerr << "confidant host raw: --payload-json is not a " << req->GetDescriptor()->name() << ": "
                << status.ToString() << "\n";
      return 2;
    }
  }
  agent::AgentClient c;
  if (!connect(f, c)) return 1;
  auto st = c.call(f.method, *req, resp.get());
  if (!st.ok()) return refused(f.method, st);
  std::string out;
  google::protobuf::util::JsonPrintOptions o;
  o.always_print_primitive_fields = true;
  (void)google::protobuf::util::MessageToJsonString(*resp, &out, o);
  std::cout << out << "\n";
  return 0;
}

int host_command(const std::vector<std::string>& args) {
  if (args.empty() || args[0] == "-h" || args[0] == "--help") {
    std::cout << kUsage;
    return args.empty() ? 2 : 0;
  }
  Flags f;
  if (!parse_flags(args, 1, f)) return 2;
  const std::string& sub = args[0];
  if (sub != "exec" && !f.command.empty()) {
    std::cerr << "confidant host " << sub << ": unexpected argument " << f.command[0] << "\n";
    return 2;
  }
  ::signal(SIGPIPE, SIG_IGN);
  if (sub == "start") return start_cmd(f);
  if (sub == "policy") return policy_cmd(f);
  if (sub == "exec") return exec_cmd(f);
  if (sub == "signal") return signal_cmd(f);
  if (sub == "logs") return logs_cmd(f);
  if (sub == "stop") return stop_cmd(f);
  if (sub == "raw") return raw_cmd(f);
  std::cerr << "confidant host: unknown subcommand " << sub << "\n" << kUsage;
  return 2;
}

const CommandRegistration reg{"host", "untrusted host side: start a container group through the agent, exec, stop",
                              host_command};

}  // namespace
}  // namespace confidant::cli
