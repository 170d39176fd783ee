#include "runtime/nats_server_config.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <sstream>

namespace infermesh {
namespace {

namespace fs = std::filesystem;

/// A quoted string in nats-server's config syntax.
std::string quoted(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

std::string host_port(const std::string& address, int port) { return address + ":" + std::to_string(port); }

}  // namespace

std::string render_nats_server_config(const cluster_plan& plan, const nats_server_plan& server,
                                      const std::string& run_dir) {
  const auto store = fs::path(server.store_dir).is_absolute() ? fs::path(server.store_dir)
                                                              : fs::absolute(fs::path(run_dir) / server.store_dir);
  const auto seconds = [](std::chrono::milliseconds ms) { return std::to_string((ms.count() + 999) / 1000) + "s"; };
  std::ostringstream out;
  out << "# Rendered by infermesh from the cluster file (nats.cluster.servers: " << server.name << "). Do not edit:\n"
      << "# it is written again on every start.\n"
      << "server_name: " << quoted(server.name) << "\n"
      << "listen: " << quoted(host_port(server.address, server.client_port)) << "\n"
      << "http: " << quoted(host_port(server.address, server.monitor_port)) << "\n"
      << "lame_duck_duration: " << quoted(seconds(plan.lame_duck)) << "\n"
      << "lame_duck_grace_period: \"2s\"\n"
      << "jetstream {\n  store_dir: " << quoted(store.lexically_normal().string()) << "\n}\n"
      << "cluster {\n  name: " << quoted(plan.nats_cluster_name) << "\n"
      << "  listen: " << quoted(host_port(server.address, server.cluster_port)) << "\n  routes: [\n";
  for (const auto& peer : plan.nats_servers)
    out << "    " << quoted("nats-route://" + host_port(peer.address, peer.cluster_port)) << "\n";
  out << "  ]\n}\n";
  if (!plan.nats_authorization.empty()) {
    out << "# nats.cluster.authorization: " << plan.nats_authorization_file << "\n" << plan.nats_authorization;
    if (plan.nats_authorization.back() != '\n') out << "\n";
  }
  return out.str();
}

std::optional<error> check_nats_server_config(const std::string& nats_binary, const std::string& path) {
  int fds[2];
  if (pipe(fds) != 0) return error{error_code::internal, "cannot check " + path + ": no pipe"};
  const pid_t pid = fork();
  if (pid == 0) {
    dup2(fds[1], STDOUT_FILENO);
    dup2(fds[1], STDERR_FILENO);
    close(fds[0]);
    close(fds[1]);
    execl(nats_binary.c_str(), nats_binary.c_str(), "-t", "-c", path.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  close(fds[1]);
  if (pid < 0) {
    close(fds[0]);
    return error{error_code::internal, "cannot run " + nats_binary};
  }
  std::string said;
  char buffer[4096];
  for (ssize_t n; (n = read(fds[0], buffer, sizeof buffer)) > 0 || (n < 0 && errno == EINTR);)
    if (n > 0 && said.size() < 65536) said.append(buffer, static_cast<std::size_t>(n));
  close(fds[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return std::nullopt;
  while (!said.empty() && (said.back() == '\n' || said.back() == '\r')) said.pop_back();
  if (WIFEXITED(status) && WEXITSTATUS(status) == 127 && said.empty()) said = "cannot run " + nats_binary;
  return error{error_code::bad_request, "nats-server -t refused " + path + ": " + said};
}

std::string find_nats_server() {
  std::string dirs = std::getenv("PATH") ? std::getenv("PATH") : "";
  dirs += ":/usr/sbin:/usr/bin:/usr/local/bin:/sbin";
  std::stringstream in(dirs);
  for (std::string dir; std::getline(in, dir, ':');) {
    if (dir.empty()) continue;
    const auto candidate = fs::path(dir) / "nats-server";
    if (access(candidate.c_str(), X_OK) == 0) return candidate.string();
  }
  return "";
}

}  // namespace infermesh
