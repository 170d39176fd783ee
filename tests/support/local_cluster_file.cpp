#include "support/local_cluster_file.hpp"

#include <csignal>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <stdexcept>

#include "support/free_port.hpp"
#include "support/launched.hpp"
#include "support/nats_server.hpp"

namespace infermesh::test {
namespace {

std::string replace_all(std::string text, const std::string& from, const std::string& to) {
  for (std::size_t at = 0; (at = text.find(from, at)) != std::string::npos; at += to.size()) text.replace(at, from.size(), to);
  return text;
}

}  // namespace

local_cluster_file::local_cluster_file(const std::string& name)
    : dir(make_temp_dir("infermesh-" + name)), file(dir + "/" + name + ".yaml"), run_dir(dir + "/run") {
  const std::string source = INFERMESH_SOURCE_DIR;
  std::ifstream in(source + "/cluster-config/" + name + ".yaml");
  std::stringstream s;
  s << in.rdbuf();
  std::string text = replace_all(s.str(), "../model-repository/", source + "/model-repository/");
  text = replace_all(text, "authorization: ", "authorization: " + source + "/cluster-config/");
  std::set<int> taken;  // nine different ports (the kernel may hand one out twice in a row)
  const auto fresh_port = [&] {
    for (;;)
      if (const int p = free_loopback_port(); taken.insert(p).second) return p;
  };
  for (const char* prefix : {"client_port: ", "cluster_port: ", "monitor_port: "})
    for (int base : {4222, 6222, 8222})
      for (int i = 0; i < 3; ++i) {
        const auto key = std::string(prefix) + std::to_string(base + i) + ",";
        if (text.find(key) == std::string::npos) continue;
        const int port = fresh_port();
        if (std::string(prefix) == "client_port: ") client_ports.push_back(port);
        text = replace_all(text, key, std::string(prefix) + std::to_string(port) + ",");
      }
  if (client_ports.size() != 3) throw std::runtime_error(name + ".yaml no longer has three client ports");
  std::ofstream(file) << text;
}

local_cluster_file::~local_cluster_file() { std::filesystem::remove_all(dir); }

std::string local_cluster_file::url(int i) const {
  return "nats://127.0.0.1:" + std::to_string(client_ports.at(static_cast<std::size_t>(i)));
}

launched_cluster_file::launched_cluster_file(const local_cluster_file& files, const std::string& name)
    : launcher(name, {INFERMESH_BINARY, "cluster", "--config", files.file, "--run-dir", files.run_dir}) {
  using namespace std::chrono_literals;
  if (!launcher.wait_for_line(": ready", 180s)) throw std::runtime_error("the cluster did not become ready:\n" + launcher.output());
}

launched_cluster_file::~launched_cluster_file() {
  using namespace std::chrono_literals;
  std::vector<pid_t> pids;
  for (const char* name : {"nats-1", "nats-2", "nats-3", "node-1", "node-2", "node-3"}) pids.push_back(newest_pid(launcher, name));
  launcher.signal(SIGKILL);
  for (pid_t pid : pids)
    if (pid > 0 && !ends_within(pid, 30s)) ::kill(pid, SIGKILL);
}

}  // namespace infermesh::test
