#include "support/nats_server.hpp"

#include <csignal>
#include <filesystem>
#include <fstream>
#include <stdexcept>

#include "runtime/nats_transport.hpp"
#include "support/free_port.hpp"

namespace infermesh::test {

std::string make_temp_dir(const std::string& prefix) {
  std::string pattern = (std::filesystem::temp_directory_path() / (prefix + "-XXXXXX")).string();
  if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  return pattern;
}

nats_server::nats_server(bool jetstream) {
  constexpr int attempts = 5;  // a free port can be taken between the probe and the bind: try another
  for (int i = 0; i < attempts && !process_; ++i) {
    port_ = free_loopback_port();
    dir_ = make_temp_dir("infermesh-nats");
    const auto conf = dir_ + "/nats.conf";
    std::ofstream(conf) << "listen: 127.0.0.1:" << port_ << "\nmax_payload: 8MB\n"
                        << (jetstream ? "jetstream { store_dir: " + dir_ + "/js }\n" : std::string());
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

nats_cluster::nats_cluster(bool jetstream) {
  dir_ = make_temp_dir("infermesh-nats-cluster");
  int route_ports[size];
  for (int i = 0; i < size; ++i) client_ports_[i] = free_loopback_port(), route_ports[i] = free_loopback_port();
  std::string routes;
  for (int i = 0; i < size; ++i)
    routes += std::string(i ? ", " : "") + "nats-route://127.0.0.1:" + std::to_string(route_ports[i]);
  for (int i = 0; i < size; ++i) {
    const auto conf = dir_ + "/n" + std::to_string(i) + ".conf";
    std::ofstream(conf) << "server_name: n" << i << "\nlisten: 127.0.0.1:" << client_ports_[i]
                        << "\nmax_payload: 8MB\ncluster { name: infermesh-test, listen: 127.0.0.1:" << route_ports[i]
                        << ", routes: [" << routes << "] }\n"
                        << (jetstream ? "jetstream { store_dir: " + dir_ + "/js" + std::to_string(i) + " }\n" : "");
    servers_[i] = std::make_unique<child_process>("nats-server-n" + std::to_string(i),
                                                  std::vector<std::string>{NATS_SERVER_BINARY, "-c", conf});
  }
  for (auto& server : servers_)
    if (!server->wait_for_line("Server is ready", std::chrono::seconds(10)))
      throw std::runtime_error("a nats-server of the cluster did not start:\n" + server->output());
  // Formed when a request sent through each server reaches a responder on each other server (route log lines
  // are no proof: servers also route to themselves and close duplicates).
  std::vector<std::unique_ptr<nats_transport>> clients;
  for (int i = 0; i < size; ++i) {
    nats_options options;
    options.servers = {url(i)};
    options.log_events = false;
    auto c = nats_transport::connect(options);
    if (!c) throw std::runtime_error("cannot connect to cluster server " + url(i) + ": " + c.err().message);
    const auto subject = "cluster.check." + std::to_string(i);
    nats_transport* raw = c->get();
    auto sub = raw->subscribe(subject, "", [raw](incoming_message&& m) { raw->publish(m.reply, "pong"); });
    if (!sub) throw std::runtime_error("cannot subscribe on " + url(i));
    raw->flush(std::chrono::seconds(5));
    clients.push_back(std::move(*c));
  }
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  for (int from = 0; from < size; ++from)
    for (int to = 0; to < size; ++to)
      while (!clients[from]->request("cluster.check." + std::to_string(to), "ping", std::chrono::milliseconds(200)))
        if (std::chrono::steady_clock::now() > until) throw std::runtime_error("the nats cluster did not form");
}

nats_cluster::~nats_cluster() {
  for (int i = 0; i < size; ++i) kill(i);
  std::filesystem::remove_all(dir_);
}

std::vector<std::string> nats_cluster::urls_from(int first) const {
  std::vector<std::string> out;
  for (int k = 0; k < size; ++k) out.push_back(url((first + k) % size));
  return out;
}

std::string nats_cluster::url_list_from(int first) const {
  std::string out;
  for (const auto& u : urls_from(first)) out += (out.empty() ? "" : ",") + u;
  return out;
}

void nats_cluster::kill(int i) {
  if (!servers_[i]) return;
  servers_[i]->signal(SIGKILL);
  servers_[i]->wait_exit(std::chrono::seconds(10));
  servers_[i].reset();
}

}  // namespace infermesh::test
