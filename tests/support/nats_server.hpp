#pragma once
/// A real nats-server for one test: 127.0.0.1 on a free port, max_payload 8 MB, its own temp folder; stopped
/// by PID when the fixture ends.

#include <memory>
#include <string>

#include "support/child_process.hpp"

namespace infermesh::test {

class nats_server {
 public:
  nats_server();
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

/// A fresh temporary folder (removed by the owner).
std::string make_temp_dir(const std::string& prefix);

}  // namespace infermesh::test
