#include "support/network_hosts.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <stdexcept>

extern char** environ;

namespace infermesh::test {
namespace {

std::string ip_binary() {
  for (const char* candidate : {"/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"})
    if (::access(candidate, X_OK) == 0) return candidate;
  return "";
}

/// Runs `ip args...` and waits; its exit status.
int ip(const std::vector<std::string>& args) {
  std::vector<std::string> argv{ip_binary()};
  argv.insert(argv.end(), args.begin(), args.end());
  std::vector<char*> raw;
  for (auto& a : argv) raw.push_back(a.data());
  raw.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::execve(raw[0], raw.data(), environ);
    ::_exit(127);
  }
  if (pid < 0) return -1;
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {}
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

void must(const std::vector<std::string>& args) {
  if (ip(args) != 0) {
    std::string line = "ip";
    for (const auto& a : args) line += " " + a;
    throw std::runtime_error("failed: " + line);
  }
}

}  // namespace

bool network_hosts::available(std::string& why) {
  if (::geteuid() != 0) return why = "not root: network namespaces need root (tests and CI run as root)", false;
  if (ip_binary().empty()) return why = "no `ip` binary (apt-get install iproute2)", false;
  return true;
}

network_hosts::network_hosts(int count) {
  const auto id = std::to_string(::getpid());
  switch_ = "imsw-" + id;
  try {
    must({"netns", "add", switch_});
    must({"-n", switch_, "link", "set", "lo", "up"});
    must({"-n", switch_, "link", "add", "br0", "type", "bridge"});
    must({"-n", switch_, "link", "set", "br0", "up"});
    for (int i = 0; i < count; ++i) {
      const auto ns = "imh" + std::to_string(i + 1) + "-" + id;
      must({"netns", "add", ns});
      hosts_.push_back(ns);
      const auto port = "p" + std::to_string(i + 1);
      must({"-n", switch_, "link", "add", port, "type", "veth", "peer", "name", "eth0", "netns", ns});
      must({"-n", switch_, "link", "set", port, "master", "br0", "up"});
      must({"-n", ns, "addr", "add", address(i) + "/24", "dev", "eth0"});
      must({"-n", ns, "link", "set", "eth0", "up"});
      must({"-n", ns, "link", "set", "lo", "up"});
    }
  } catch (...) {
    for (const auto& ns : hosts_) ip({"netns", "del", ns});
    ip({"netns", "del", switch_});
    throw;
  }
}

network_hosts::~network_hosts() {
  for (const auto& ns : hosts_) ip({"netns", "del", ns});
  ip({"netns", "del", switch_});
}

std::vector<std::string> network_hosts::in(int i, const std::vector<std::string>& argv) const {
  std::vector<std::string> out{ip_binary(), "netns", "exec", ns(i)};
  out.insert(out.end(), argv.begin(), argv.end());
  return out;
}

}  // namespace infermesh::test
