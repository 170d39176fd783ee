#pragma once
/// A shipped cluster file (local-3node.yaml, local-3node-secure.yaml) copied into a temp folder for one test:
/// its NATS ports moved to free ones, its model paths and `nats.cluster.authorization` made absolute; the
/// launcher's run dir beside it. The folder is removed when the fixture ends.

#include <memory>
#include <string>
#include <vector>

#include "support/child_process.hpp"

namespace infermesh::test {

struct local_cluster_file {
  /// `name`: a file of cluster-config/ with three launched servers on ports 4222-4224, 6222-6224, 8222-8224.
  explicit local_cluster_file(const std::string& name);
  ~local_cluster_file();
  local_cluster_file(const local_cluster_file&) = delete;
  local_cluster_file& operator=(const local_cluster_file&) = delete;

  std::string dir;
  std::string file;     ///< the copy
  std::string run_dir;  ///< for --run-dir
  std::vector<int> client_ports;

  /// Server i's client URL.
  std::string url(int i) const;
};

/// `infermesh cluster --config <file> --run-dir <run_dir>` until the mesh is ready; at the end the launcher is
/// killed (its children get SIGTERM from the kernel) and each server and node it started is waited for by PID
/// (SIGKILL after 30 s).
struct launched_cluster_file {
  explicit launched_cluster_file(const local_cluster_file& files, const std::string& name = "cluster");
  ~launched_cluster_file();
  launched_cluster_file(const launched_cluster_file&) = delete;
  launched_cluster_file& operator=(const launched_cluster_file&) = delete;

  child_process launcher;
};

}  // namespace infermesh::test
