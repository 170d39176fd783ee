#include "support/nats_server.hpp"

#include <csignal>
#include <filesystem>
#include <fstream>
#include <stdexcept>

#include "support/free_port.hpp"

namespace infermesh::test {

std::string make_temp_dir(const std::string& prefix) {
  std::string pattern = (std::filesystem::temp_directory_path() / (prefix + "-XXXXXX")).string();
  if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  return pattern;
}

nats_server::nats_server() {
  constexpr int attempts = 5;  // a free port can be taken between the probe and the bind: try another
  for (int i = 0; i < attempts && !process_; ++i) {
    port_ = free_loopback_port();
    dir_ = make_temp_dir("infermesh-nats");
    const auto conf = dir_ + "/nats.conf";
    std::ofstream(conf) << "listen: 127.0.0.1:" << port_ << "\nmax_payload: 8MB\n";
    auto p = std::make_unique<child_process>("nats-server", std::vector<std::string>{NATS_SERVER_BINARY, "-c", conf});
    if (p->wait_for_line("Server is ready", std::chrono::seconds(10))) process_ = std::move(p);
    else std::filesystem::remove_all(dir_);
  }
  if (!process_) throw std::runtime_error("nats-server did not start");
  url_ = "nats://127.0.0.1:" + std::to_string(port_);
}

nats_server::~nats_server() {
  kill();
  std::filesystem::remove_all(dir_);
}

void nats_server::kill() {
  if (!process_) return;
  process_->signal(SIGTERM);
  process_->wait_exit(std::chrono::seconds(10));
  process_.reset();  // SIGKILLs it if SIGTERM was not enough
}

}  // namespace infermesh::test
