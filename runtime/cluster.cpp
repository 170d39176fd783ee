#include "runtime/cluster.hpp"

#include <poll.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <set>
#include <sstream>

#include "actors/lifecycle.hpp"
#include "runtime/config.hpp"
#include "runtime/http_client.hpp"
#include "runtime/launched_process.hpp"
#include "runtime/log.hpp"
#include "runtime/nats_server_config.hpp"
#include "runtime/nats_transport.hpp"
#include "runtime/status_command.hpp"

namespace infermesh {
namespace {

namespace fs = std::filesystem;
using clock = std::chrono::steady_clock;

/// How often loading children are probed, and how long one probe may take (the launcher's thread waits).
constexpr auto probe_interval = std::chrono::milliseconds(250);
constexpr auto nats_probe_timeout = std::chrono::milliseconds(300);
constexpr auto discovery_wait = std::chrono::milliseconds(400);
/// A child still not ready this long after it started is reported (once per start).
constexpr auto slow_start = std::chrono::seconds(60);
/// Stopping: how long past a node's drain timeout (or a server's lame-duck period) before it is killed.
constexpr auto stop_margin = std::chrono::seconds(15);

enum class process_kind { nats, node };

/// One child of the launcher and its process, through the one lifecycle (the file's `supervision:`): running
/// (loading until its readiness probe answers, then serving), waiting for a restart (`restart_at`), or done.
struct process_slot {
  process_kind kind;
  std::unique_ptr<launched_process> process;
  lifecycle life;
  const nats_server_plan* server = nullptr;  ///< nats: its plan entry
  std::optional<clock::time_point> restart_at;
  std::uint64_t restart_timer = 0;
  clock::time_point started_at{};
  bool reported_slow = false;
  bool clean = true;  ///< its last exit was a clean one (status 0)
  std::string pid_file;  ///< `<run dir>/pids/<name>.pid` while it runs (what `infermesh simulate` signals)

  const std::string& name() const { return process->name(); }
  bool running() const { return process->pid() > 0; }
  const char* kind_name() const { return kind == process_kind::nats ? "nats-server" : "node"; }
};

process_slot make_slot(process_kind kind, std::unique_ptr<launched_process> process, supervision_config restarts,
                       const nats_server_plan* server = nullptr) {
  process_slot slot{kind, std::move(process), lifecycle{restarts}, server, std::nullopt, 0, {}, false, true, ""};
  return slot;
}

/// Writes (pid > 0) or removes `slot`'s pid file.
void write_pid_file(const process_slot& slot, pid_t pid) {
  if (slot.pid_file.empty()) return;
  std::error_code ignored;
  if (pid <= 0) {
    fs::remove(slot.pid_file, ignored);
    return;
  }
  fs::create_directories(fs::path(slot.pid_file).parent_path(), ignored);
  const auto temp = slot.pid_file + ".new";
  std::ofstream(temp, std::ios::trunc) << pid << "\n";
  fs::rename(temp, slot.pid_file, ignored);  // readers never see a half-written file
}

/// Starts (or restarts) `slot`'s process: loading until its probe answers. `again`: a process that had stopped
/// cleanly is started once more (SIGHUP), a new incarnation.
bool start(process_slot& slot, bool again = false) {
  if (auto e = slot.process->start()) {
    log(log_level::error, "cluster: ", e->message);
    return false;
  }
  write_pid_file(slot, slot.process->pid());
  const auto now = clock::now();
  const bool first = slot.life.incarnation() == 0;
  if (first || again) slot.life.started(now);
  slot.started_at = now;
  slot.reported_slow = false;
  log(first ? log_level::info : log_level::warn, {{"process", slot.name()}}, "cluster: ", slot.kind_name(), " '",
      slot.name(), first ? "' started, pid " : "' restarted, pid ", slot.process->pid());
  return true;
}

/// `slot`'s process died (or could not start) because `why`: its restart is due after the back-off.
void died(process_slot& slot, const std::string& why) {
  const auto next = slot.life.died(clock::now(), why);
  slot.restart_at = clock::now() + next.restart_delay;
  slot.restart_timer = next.restart_timer;
  const auto delay = next.restart_delay.count();
  if (slot.life.state() == life_state::unhealthy)
    log(log_level::error, {{"process", slot.name()}}, "cluster: ", slot.kind_name(), " '", slot.name(), "' ", why,
        "; it failed more than ", slot.life.config().max_restarts, " times within ", slot.life.config().period.count(),
        " ms: next try in ", delay, " ms");
  else
    log(log_level::warn, {{"process", slot.name()}}, "cluster: ", slot.kind_name(), " '", slot.name(), "' ", why,
        "; restarting it in ", delay, " ms");
}

/// `slot`'s process ended with `status` (waitpid's): a clean exit (someone stopped it) ends it; a crash or a
/// failed exit restarts it after its back-off (unless the cluster is stopping).
void on_exit(process_slot& slot, int status, bool stopping) {
  slot.process->exited();
  write_pid_file(slot, -1);
  slot.clean = WIFEXITED(status) && WEXITSTATUS(status) == 0;
  const std::string how = WIFSIGNALED(status) ? "was killed by signal " + std::to_string(WTERMSIG(status))
                                              : "exited with status " + std::to_string(WEXITSTATUS(status));
  if (slot.clean || stopping) {
    slot.life.stop(how);
    const bool unexpected = !stopping && slot.kind == process_kind::nats;  // someone stopped a server of the mesh
    log(slot.clean && !unexpected ? log_level::info : log_level::warn, {{"process", slot.name()}}, "cluster: ",
        slot.kind_name(), " '", slot.name(), "' ", how, unexpected ? " (stopped from outside: it stays stopped)" : "");
    return;
  }
  died(slot, how);
}

/// The launcher's own view: one line per process it runs.
std::string process_table(const std::vector<process_slot>& slots) {
  std::ostringstream out;
  out << "PROCESS             KIND         PID      STATE        RESTARTS  LOG\n";
  for (const auto& s : slots) {
    std::string state(state_name(s.life.state()));
    if (!s.life.serving() && !s.life.reason().empty() && s.life.state() != life_state::loading)
      state += " (" + s.life.reason() + ")";
    char line[512];
    std::snprintf(line, sizeof line, "%-19s %-12s %-8s %-12s %-9llu %s\n", s.name().c_str(), s.kind_name(),
                  s.running() ? std::to_string(s.process->pid()).c_str() : "-", state.c_str(),
                  static_cast<unsigned long long>(s.life.restarts()), s.process->log_path().c_str());
    out << line;
  }
  return out.str();
}

/// A signalfd for the signals the launcher handles (blocked for every thread first).
int signal_fd() {
  sigset_t signals;
  sigemptyset(&signals);
  for (int s : {SIGINT, SIGTERM, SIGCHLD, SIGUSR1, SIGHUP}) sigaddset(&signals, s);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  return signalfd(-1, &signals, SFD_CLOEXEC | SFD_NONBLOCK);
}

std::string default_run_dir(const std::string& config_path, const std::string& host) {
  return (fs::path("infermesh-run") / (fs::path(config_path).stem().string() + (host.empty() ? "" : "-" + host))).string();
}

/// The launcher: its children, its discovery connection, and where it is in start and stop.
class launcher {
 public:
  launcher(const cluster_launch& launch, cluster_plan plan, std::string run_dir)
      : launch_(launch), plan_(std::move(plan)), run_dir_(std::move(run_dir)) {}

  /// Builds every child of this host (rendering and checking each NATS config); the first problem is an error.
  std::optional<std::string> prepare(const std::string& nats_binary);
  int run();

 private:
  void start_nodes();
  void probe();
  void connect_discovery();
  void print_status(const char* why);
  void begin_stop(const char* why);
  void on_signal(int signal_number);
  void start_stopped();
  bool all_serving() const {
    return std::all_of(slots_.begin(), slots_.end(), [](const process_slot& s) { return s.life.serving(); });
  }
  bool nats_serving() const {
    return std::all_of(slots_.begin(), slots_.end(),
                       [](const process_slot& s) { return s.kind != process_kind::nats || s.life.serving(); });
  }
  bool any_running(process_kind kind) const {
    return std::any_of(slots_.begin(), slots_.end(), [&](const process_slot& s) { return s.kind == kind && s.running(); });
  }

  const cluster_launch& launch_;
  cluster_plan plan_;
  std::string run_dir_;
  std::vector<process_slot> slots_;
  std::vector<std::string> discovery_servers_;
  std::unique_ptr<nats_transport> discovery_;
  clock::time_point next_connect_{};
  bool nodes_started_ = false;
  bool announced_ready_ = false;
  bool stopping_ = false;
  bool nats_stopping_ = false;
  /// Stopping: past this, what still runs of the phase (nodes draining, servers in lame duck) is killed.
  std::optional<clock::time_point> stop_deadline_;
  std::chrono::milliseconds longest_drain_{0};
  nats_credentials discovery_credentials_;
  int stop_signals_ = 0;
};

std::optional<std::string> launcher::prepare(const std::string& nats_binary) {
  const auto here = [&](const std::string& host) { return launch_.host.empty() || host == launch_.host; };
  for (const auto& server : plan_.nats_servers) {
    if (!here(server.host)) continue;
    if (nats_binary.empty()) return "nats.cluster: nats-server is not installed (apt-get install nats-server)";
    const auto conf = (fs::path(run_dir_) / "nats" / (server.name + ".conf")).string();
    std::error_code made;
    fs::create_directories(fs::path(conf).parent_path(), made);
    std::ofstream out(conf, std::ios::trunc);
    out << render_nats_server_config(plan_, server, run_dir_);
    out.close();
    if (!out) return "cannot write " + conf;
    if (auto e = check_nats_server_config(nats_binary, conf)) return e->message;
    slots_.push_back(make_slot(process_kind::nats,
                               std::make_unique<launched_process>(server.name, std::vector<std::string>{nats_binary, "-c", conf},
                                                                  (fs::path(run_dir_) / "logs" / (server.name + ".log")).string()),
                               plan_.node_restarts, &server));
    slots_.back().pid_file = (fs::path(run_dir_) / "pids" / (server.name + ".pid")).string();
  }
  for (const auto& name : plan_.nodes) {
    if (!here(plan_.node_host.at(name))) continue;
    auto c = load_config_file(launch_.config_path, name);  // every node's config must be valid before any starts
    if (!c) return c.err().message;
    if (discovery_servers_.empty()) discovery_servers_ = c->nats.servers, discovery_credentials_ = c->nats.credentials;
    longest_drain_ = std::max(longest_drain_, c->drain_timeout);
    std::vector<std::string> args{launch_.self_binary, "node", "--config", launch_.config_path, "--node", name};
    for (const auto& s : launch_.nats_servers) args.insert(args.end(), {"--nats", s});
    args.insert(args.end(), launch_.node_args.begin(), launch_.node_args.end());
    slots_.push_back(make_slot(process_kind::node,
                               std::make_unique<launched_process>(name, std::move(args),
                                                                  (fs::path(run_dir_) / "logs" / (name + ".log")).string()),
                               plan_.node_restarts));
    slots_.back().pid_file = (fs::path(run_dir_) / "pids" / (name + ".pid")).string();
  }
  if (!launch_.nats_servers.empty()) discovery_servers_ = launch_.nats_servers;
  if (!plan_.nats_servers.empty()) discovery_servers_ = plan_.nats_urls();
  if (slots_.empty()) return "the cluster file places nothing on host '" + launch_.host + "'";
  return std::nullopt;
}

void launcher::start_nodes() {
  nodes_started_ = true;
  for (auto& s : slots_)
    if (s.kind == process_kind::node && !start(s)) {
      s.clean = false;
      begin_stop("a node could not be started");
      return;
    }
}

/// The discovery connection (for node readiness and the status table); retried at most once a second.
void launcher::connect_discovery() {
  if (discovery_ || clock::now() < next_connect_ || discovery_servers_.empty()) return;
  next_connect_ = clock::now() + std::chrono::seconds(1);
  nats_options o;
  o.servers = discovery_servers_;
  o.credentials = discovery_credentials_;  // the first node's (its file's, completed from the environment)
  o.client_name = "infermesh-cluster";
  o.max_reconnect = -1;
  o.connect_timeout = std::chrono::milliseconds(500);
  o.log_events = false;
  auto t = nats_transport::connect(o);
  if (t) discovery_ = std::move(*t);
}

/// Probes every loading child once: NATS servers by their /healthz, nodes by service discovery.
void launcher::probe() {
  const auto now = clock::now();
  bool nodes_loading = false;
  for (auto& s : slots_) {
    if (!s.running() || s.life.serving()) continue;
    if (!s.reported_slow && now - s.started_at > slow_start) {
      s.reported_slow = true;
      log(log_level::warn, {{"process", s.name()}}, "cluster: ", s.kind_name(), " '", s.name(), "' is not ready ",
          std::chrono::duration_cast<std::chrono::seconds>(slow_start).count(), " s after it started (log: ",
          s.process->log_path(), ")");
    }
    if (s.kind == process_kind::node) {
      nodes_loading = true;
      continue;
    }
    auto health = http_get(s.server->address, s.server->monitor_port, "/healthz?js-enabled-only=true", nats_probe_timeout);
    if (health && health->status == 200 && s.life.ready(s.life.incarnation(), clock::now()))
      log(log_level::info, {{"process", s.name()}}, "cluster: nats-server '", s.name(), "' ready (", s.server->client_url(), ")");
  }
  if (!nodes_started_ && !stopping_ && nats_serving()) start_nodes();
  if (!nodes_loading) return;
  connect_discovery();
  if (!discovery_) return;
  std::set<std::string> answering;
  for (const auto& n : discover_nodes(*discovery_, discovery_wait)) answering.insert(n.node);
  for (auto& s : slots_)
    if (s.kind == process_kind::node && s.running() && !s.life.serving() && answering.count(s.name()) &&
        s.life.ready(s.life.incarnation(), clock::now()))
      log(log_level::info, {{"process", s.name()}}, "cluster: node '", s.name(), "' ready");
}

void launcher::print_status(const char* why) {
  std::ostringstream out;
  out << "cluster " << launch_.config_path << (launch_.host.empty() ? "" : " (host " + launch_.host + ")") << ": "
      << why << "\n"
      << process_table(slots_);
  if (!stopping_) {  // stopping: the servers are leaving, no new client
    connect_discovery();
    if (discovery_) out << "\n" << format_status_table(discover_nodes(*discovery_, std::chrono::milliseconds(1000)));
  }
  launched_process::flush_stdout(std::chrono::seconds(1));  // the children's lines first
  std::cout << out.str() << std::flush;
}

void launcher::begin_stop(const char* why) {
  if (stopping_) return;
  stopping_ = true;
  log(log_level::info, "cluster: stopping (", why, "): nodes drain first, then the NATS servers leave in lame-duck mode");
  for (auto& s : slots_) {
    s.restart_at.reset();
    if (!s.running()) s.life.stop(why);
    if (s.kind == process_kind::node) s.process->signal(SIGTERM);
  }
  stop_deadline_ = clock::now() + longest_drain_ + stop_margin;
}

/// SIGHUP: every process that stopped while the cluster runs (an exit 0: drained or stopped from outside) is
/// started again; crashed ones keep their back-off.
void launcher::start_stopped() {
  if (stopping_) return;
  // `<run dir>/start/<name>` files name the ones to start (infermesh simulate undoing one fault among others);
  // none: every stopped one.
  std::set<std::string> named;
  std::error_code ignored;
  for (const auto& entry : fs::directory_iterator(fs::path(run_dir_) / "start", ignored)) {
    named.insert(entry.path().filename().string());
    fs::remove(entry.path(), ignored);
  }
  for (auto& s : slots_) {
    if (!named.empty() && !named.count(s.name())) continue;
    if (s.running() || s.restart_at || s.life.state() != life_state::stopped) continue;
    if (s.kind == process_kind::node && !nodes_started_) continue;
    log(log_level::info, {{"process", s.name()}}, "cluster: SIGHUP: starting ", s.kind_name(), " '", s.name(), "' again");
    if (!start(s, true)) died(s, "could not be started");
  }
}

void launcher::on_signal(int signal_number) {
  if (signal_number == SIGUSR1) return print_status("status (SIGUSR1)");
  if (signal_number == SIGHUP) return start_stopped();
  if (signal_number != SIGINT && signal_number != SIGTERM) return;
  if (++stop_signals_ == 1) return begin_stop(signal_number == SIGINT ? "SIGINT" : "SIGTERM");
  log(log_level::warn, "cluster: second stop signal: killing what still runs");
  for (auto& s : slots_) s.process->signal(SIGKILL);
}

int launcher::run() {
  const int signals = signal_fd();
  if (signals < 0) return log(log_level::error, "cluster: no signalfd: ", std::strerror(errno)), 1;
  log(log_level::info, "cluster: run directory ", fs::absolute(run_dir_).string());
  for (auto& s : slots_)
    if (s.kind == process_kind::nats && !start(s)) {
      s.clean = false;
      begin_stop("a NATS server could not be started");
      break;
    }
  auto next_probe = clock::now();
  for (;;) {
    // Stopping: once no node runs, the NATS servers go (the discovery client first: it is one of their clients).
    if (stopping_ && !nats_stopping_ && !any_running(process_kind::node)) {
      nats_stopping_ = true;
      discovery_.reset();
      for (auto& s : slots_)
        if (s.kind == process_kind::nats) s.process->signal(SIGUSR2);
      stop_deadline_ = clock::now() + plan_.lame_duck + stop_margin;
    }
    if (stop_deadline_ && clock::now() >= *stop_deadline_) {
      for (auto& s : slots_)
        if (s.running() && (nats_stopping_ || s.kind == process_kind::node)) {
          log(log_level::warn, {{"process", s.name()}}, "cluster: ", s.kind_name(), " '", s.name(),
              "' did not stop in time: killing it");
          s.process->signal(SIGKILL);
        }
      stop_deadline_ = clock::now() + stop_margin;  // once more, in case the kill is not reaped yet
    }
    std::optional<clock::time_point> next_restart;
    bool running = false;
    for (const auto& s : slots_) {
      running = running || s.running();
      if (s.restart_at) next_restart = next_restart ? std::min(*next_restart, *s.restart_at) : *s.restart_at;
    }
    if (!running && !next_restart && (nodes_started_ || stopping_)) break;
    auto wake = next_probe;
    if (next_restart) wake = std::min(wake, *next_restart);
    if (stop_deadline_) wake = std::min(wake, *stop_deadline_);

    std::vector<pollfd> fds{{signals, POLLIN, 0}};
    for (const auto& s : slots_)
      if (s.process->output_fd() >= 0) fds.push_back({s.process->output_fd(), POLLIN, 0});
    const auto wait_ms = std::chrono::duration_cast<std::chrono::milliseconds>(wake - clock::now()).count();
    poll(fds.data(), fds.size(), static_cast<int>(std::clamp<long long>(wait_ms, 0, 1000)));

    for (auto& s : slots_) s.process->pump();
    signalfd_siginfo info;
    while (read(signals, &info, sizeof info) == static_cast<ssize_t>(sizeof info)) on_signal(static_cast<int>(info.ssi_signo));
    for (auto& s : slots_) {  // every exit (SIGCHLD may stand for several)
      int status = 0;
      if (s.running() && waitpid(s.process->pid(), &status, WNOHANG) == s.process->pid()) on_exit(s, status, stopping_);
    }
    const auto now = clock::now();
    for (auto& s : slots_) {
      if (!s.restart_at || *s.restart_at > now) continue;
      s.restart_at.reset();
      if (!s.life.timer_fired(s.restart_timer, now)) continue;
      if (s.kind == process_kind::node && !nodes_started_) continue;  // started with the others
      if (!start(s)) died(s, "could not be started");
    }
    if (now >= next_probe && !stopping_) {
      probe();
      next_probe = clock::now() + probe_interval;
      if (all_serving() && !announced_ready_) {
        announced_ready_ = true;
        print_status("ready");
      }
    }
  }
  close(signals);
  launched_process::flush_stdout(std::chrono::seconds(2));
  const bool all_clean = std::all_of(slots_.begin(), slots_.end(), [](const process_slot& s) { return s.clean; });
  log(log_level::info, "cluster: stopped", all_clean ? "" : " (some process did not exit cleanly)");
  return all_clean ? 0 : 1;
}

}  // namespace

int run_cluster(const cluster_launch& launch) {
  std::ifstream in(launch.config_path);
  if (!in) return log(log_level::error, "cannot read cluster file '", launch.config_path, "'"), 2;
  std::stringstream text;
  text << in.rdbuf();
  auto plan = parse_cluster_plan(text.str(), launch.config_path);
  if (!plan) return log(log_level::error, plan.err().message), 2;
  if (!launch.host.empty() && !plan->host(launch.host)) {
    std::string names;
    for (const auto& h : plan->hosts) names += (names.empty() ? "" : ", ") + h.name;
    return log(log_level::error, launch.config_path, ": --host ", launch.host, " is not one of hosts: ", names), 2;
  }
  if (!plan->nats_servers.empty() && !launch.nats_servers.empty())
    return log(log_level::error, launch.config_path,
               ": --nats: this file launches its own NATS servers (nats.cluster); --nats is for files without one"),
           2;
  const auto run_dir = launch.run_dir.empty() ? default_run_dir(launch.config_path, launch.host) : launch.run_dir;
  launcher l(launch, std::move(*plan), run_dir);
  if (auto problem = l.prepare(find_nats_server())) return log(log_level::error, *problem), 2;
  return l.run();
}

}  // namespace infermesh
