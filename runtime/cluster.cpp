#include "runtime/cluster.hpp"

#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <fstream>
#include <optional>
#include <sstream>

#include "actors/lifecycle.hpp"
#include "runtime/config.hpp"
#include "runtime/log.hpp"

extern char** environ;

namespace infermesh {
namespace {

using clock = std::chrono::steady_clock;

/// One node of the cluster file and its process, through the one lifecycle (actors/lifecycle.hpp, with the
/// cluster file's `supervision:`): running (pid > 0), waiting for a restart (restart_at, timer
/// `restart_timer`), or done (neither; stopped). A running process counts as serving: the launcher does not
/// probe a node's readiness (yet).
struct node_slot {
  std::string name;
  std::vector<std::string> args;
  pid_t pid = -1;
  std::optional<clock::time_point> restart_at;
  std::uint64_t restart_timer = 0;
  lifecycle life;
  bool clean = true;  ///< its last exit was a clean one (status 0)
};

/// The node process of `slot` started (now running).
void started(node_slot& slot) {
  const auto now = clock::now();
  const auto incarnation = slot.life.incarnation() == 0 ? slot.life.started(now) : slot.life.incarnation();
  slot.life.ready(incarnation, now);
}

/// The node of `slot` died (or could not start) because `why`: its restart is due after the back-off,
/// which this returns.
std::chrono::milliseconds died(node_slot& slot, const std::string& why) {
  const auto next = slot.life.died(clock::now(), why);
  slot.restart_at = clock::now() + next.restart_delay;
  slot.restart_timer = next.restart_timer;
  return next.restart_delay;
}

/// Starts a node process. It gets SIGTERM (and drains) if the launcher dies first, so a killed launcher leaves
/// no orphan behind to be started twice. Forks from this single-threaded process: the child only calls
/// async-signal-safe functions before exec.
pid_t start_node(node_slot& slot) {
  std::vector<char*> argv;
  for (auto& a : slot.args) argv.push_back(a.data());
  argv.push_back(nullptr);
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != parent) _exit(127);  // the launcher died before prctl took effect
    sigset_t none;
    sigemptyset(&none);
    pthread_sigmask(SIG_SETMASK, &none, nullptr);  // the node handles its own signals
    execve(argv[0], argv.data(), environ);
    _exit(127);
  }
  if (pid < 0) log(log_level::error, "cluster: cannot start node '", slot.name, "': ", std::strerror(errno));
  return pid;
}

/// A node ended with `status` (waitpid's) while the cluster runs: a clean exit (someone stopped it) ends it;
/// a crash or a failed exit restarts it after its back-off.
void on_node_exit(node_slot& slot, int status, bool stopping) {
  slot.pid = -1;
  slot.clean = WIFEXITED(status) && WEXITSTATUS(status) == 0;
  const std::string how = WIFSIGNALED(status) ? "was killed by signal " + std::to_string(WTERMSIG(status))
                                              : "exited with status " + std::to_string(WEXITSTATUS(status));
  if (slot.clean || stopping) {
    slot.life.stop(how);
    log(slot.clean ? log_level::info : log_level::warn, "cluster: node '", slot.name, "' ", how);
    return;
  }
  const auto delay = died(slot, how).count();
  if (slot.life.state() == life_state::unhealthy)
    log(log_level::error, "cluster: node '", slot.name, "' ", how, "; it failed more than ",
        slot.life.config().max_restarts, " times within ", slot.life.config().period.count(), " ms: next try in ",
        delay, " ms");
  else
    log(log_level::warn, "cluster: node '", slot.name, "' ", how, "; restarting it in ", delay, " ms");
}

}  // namespace

int run_cluster(const std::string& self_binary, const std::string& config_path,
                const std::vector<std::string>& nats_servers, const std::vector<std::string>& node_args) {
  std::ifstream in(config_path);
  if (!in) return log(log_level::error, "cannot read cluster file '", config_path, "'"), 2;
  std::stringstream text;
  text << in.rdbuf();
  auto plan = parse_cluster_plan(text.str(), config_path);
  if (!plan) return log(log_level::error, plan.err().message), 2;
  for (const auto& name : plan->nodes)  // every node's config must be valid before any starts
    if (auto c = load_config_file(config_path, name); !c) return log(log_level::error, c.err().message), 2;

  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGCHLD);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  std::vector<node_slot> slots;
  slots.reserve(plan->nodes.size());
  for (const auto& name : plan->nodes) {
    node_slot slot{name, {}, -1, std::nullopt, 0, lifecycle{plan->node_restarts}};
    slot.args = {self_binary, "node", "--config", config_path, "--node", name};
    for (const auto& s : nats_servers) slot.args.insert(slot.args.end(), {"--nats", s});
    slot.args.insert(slot.args.end(), node_args.begin(), node_args.end());
    slots.push_back(std::move(slot));
  }
  bool stopping = false;
  auto stop_all = [&](const char* why) {
    stopping = true;
    log(log_level::info, "cluster: stopping (", why, ")");
    for (auto& s : slots) {
      s.restart_at.reset();
      s.life.stop(why);
      if (s.pid > 0) kill(s.pid, SIGTERM);
    }
  };
  for (auto& s : slots) {
    if ((s.pid = start_node(s)) < 0) {
      s.clean = false;
      stop_all("a node could not be started");
      break;
    }
    started(s);
    log(log_level::info, "cluster: node '", s.name, "' started, pid ", s.pid);
  }

  for (;;) {
    std::optional<clock::time_point> next;
    bool running = false;
    for (const auto& s : slots) {
      running = running || s.pid > 0;
      if (s.restart_at) next = next ? std::min(*next, *s.restart_at) : *s.restart_at;
    }
    if (!running && !next) break;

    int signal_number = 0;
    if (next) {
      const auto wait = std::max(std::chrono::nanoseconds(0), *next - clock::now());
      timespec timeout{static_cast<time_t>(wait.count() / 1000000000), static_cast<long>(wait.count() % 1000000000)};
      signal_number = sigtimedwait(&signals, nullptr, &timeout);
    } else {
      sigwait(&signals, &signal_number);
    }
    if ((signal_number == SIGINT || signal_number == SIGTERM) && !stopping)
      stop_all(signal_number == SIGINT ? "SIGINT" : "SIGTERM");
    for (auto& s : slots) {
      int status = 0;
      if (s.pid > 0 && waitpid(s.pid, &status, WNOHANG) == s.pid) on_node_exit(s, status, stopping);
      if (s.restart_at && *s.restart_at <= clock::now()) {
        s.restart_at.reset();
        if (!s.life.timer_fired(s.restart_timer, clock::now())) continue;
        if ((s.pid = start_node(s)) > 0) {
          started(s);
          log(log_level::warn, "cluster: node '", s.name, "' restarted, pid ", s.pid);
        } else {
          died(s, "could not be started");
        }
      }
    }
  }
  const bool all_clean = std::all_of(slots.begin(), slots.end(), [](const node_slot& s) { return s.clean; });
  return all_clean ? 0 : 1;
}

}  // namespace infermesh
