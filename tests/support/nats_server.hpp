#pragma once
/// A real nats-server for one test: 127.0.0.1 on a free port, max_payload 8 MB, its own temp folder; stopped
/// by PID when the fixture ends.

#include <memory>
#include <string>

#include "support/child_process.hpp"

namespace infermesh::test {

class nats_server {
 public:
  /// `jetstream`: with JetStream on, its store in the server's temp folder (durable delivery).
  explicit nats_server(bool jetstream = false);
  ~nats_server();
  const std::string& url() const { return url_; }
  int port() const { return port_; }
  void kill();

 private:
  int port_ = 0;
  std::string url_;
  std::string dir_;
  std::unique_ptr<child_process> process_;
};

/// Three nats-servers routed into one cluster on loopback (free ports), each with its own temp folder;
/// stopped by PID when the fixture ends. `kill(i)` stops server i (SIGKILL) mid-test.
class nats_cluster {
 public:
  static constexpr int size = 3;
  /// `jetstream`: every server runs JetStream (a clustered store: replicas up to 3).
  explicit nats_cluster(bool jetstream = false);
  ~nats_cluster();
  /// Server i's client URL.
  std::string url(int i) const { return "nats://127.0.0.1:" + std::to_string(client_ports_[i]); }
  /// Every server's URL, starting with server `first` (the order a client tries them).
  std::vector<std::string> urls_from(int first) const;
  /// The same list comma-separated, as a node_process takes it.
  std::string url_list_from(int first) const;
  void kill(int i);

 private:
  int client_ports_[size] = {};
  std::string dir_;
  std::unique_ptr<child_process> servers_[size];
};

/// A fresh temporary folder (removed by the owner).
std::string make_temp_dir(const std::string& prefix);

}  // namespace infermesh::test
