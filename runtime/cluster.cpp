#include "runtime/cluster.hpp"

#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <fstream>
#include <sstream>

#include "runtime/config.hpp"
#include "runtime/log.hpp"

extern char** environ;

namespace infermesh {

int run_cluster(const std::string& self_binary, const std::string& config_path,
                const std::vector<std::string>& nats_servers) {
  std::ifstream in(config_path);
  if (!in) return log(log_level::error, "cannot read cluster file '", config_path, "'"), 2;
  std::stringstream text;
  text << in.rdbuf();
  auto names = cluster_node_names(text.str(), config_path);
  if (!names) return log(log_level::error, names.err().message), 2;
  for (const auto& name : *names)  // every node's config must be valid before any starts
    if (auto c = load_config_file(config_path, name); !c) return log(log_level::error, c.err().message), 2;

  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGCHLD);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  std::vector<pid_t> children;
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none;
  sigemptyset(&none);
  posix_spawnattr_setsigmask(&attr, &none);  // children handle their own signals
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK);
  for (const auto& name : *names) {
    std::vector<std::string> args{self_binary, "node", "--config", config_path, "--node", name};
    for (const auto& s : nats_servers) args.insert(args.end(), {"--nats", s});
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_t pid = 0;
    if (posix_spawn(&pid, self_binary.c_str(), nullptr, &attr, argv.data(), environ) != 0) {
      log(log_level::error, "cannot start node '", name, "'");
      for (pid_t c : children) kill(c, SIGTERM);
      break;
    }
    log(log_level::info, "cluster: node '", name, "' started, pid ", pid);
    children.push_back(pid);
  }
  posix_spawnattr_destroy(&attr);

  int status = 0;
  std::size_t running = children.size();
  bool stopping = children.size() != names->size();
  while (running > 0) {
    int signal_number = 0;
    sigwait(&stop_signals, &signal_number);
    if (signal_number != SIGCHLD && !stopping) {
      stopping = true;
      log(log_level::info, "cluster: stopping ", running, " node(s)");
      for (pid_t c : children) kill(c, SIGTERM);
    }
    for (pid_t& c : children) {
      int child_status = 0;
      if (c <= 0 || waitpid(c, &child_status, WNOHANG) != c) continue;
      const bool clean = WIFEXITED(child_status) && WEXITSTATUS(child_status) == 0;
      if (!clean) status = 1;
      log(clean ? log_level::info : log_level::warn, "cluster: node pid ", c, clean ? " exited" : " failed");
      c = -1;
      --running;
    }
  }
  return status;
}

}  // namespace infermesh
