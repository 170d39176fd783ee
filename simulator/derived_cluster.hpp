#pragma once
/// The cluster file a simulation actually launches: the scenario's file rewritten into the run directory, so
/// the user's file is never touched and two runs never collide. What changes (and nothing else):
/// - `base_dir:` the original file's folder (its relative model paths keep working);
/// - every node gets `node.faults: true` (actor faults need the fault door) and `node.control: true`;
/// - `ports: free` (the default): every launched NATS server's client, cluster and monitor port, and every
///   node's `http.listen` port, is moved to a free one;
/// - link faults in the scenario: each node's `nats.servers` points at link proxies (one per server) that the
///   simulator owns (link_proxy.hpp), made here.
/// Not thread-safe: the simulator's main thread.

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "runtime/config.hpp"
#include "simulator/link_proxy.hpp"
#include "simulator/scenario.hpp"

namespace infermesh::sim {

/// The derived file, its plan, and the link proxies its nodes connect through (owned here: closed with it).
struct derived_cluster {
  std::string path;                    ///< the written file (`<run dir>/cluster.yaml`)
  cluster_plan plan;                   ///< as parsed back from it
  std::map<std::string, bool> durable; ///< op -> the file's `delivery:` says durable
  /// node -> its link proxies (one per server, in the plan's server order); empty without link faults.
  std::map<std::string, std::vector<std::unique_ptr<link_proxy>>> proxies;
};

/// Writes `<run_dir>/cluster.yaml` from `s.cluster.file`; `with_proxies`: make link proxies for every node.
/// Errors name the cluster file and the key.
outcome<derived_cluster> derive_cluster(const scenario& s, const std::string& run_dir, bool with_proxies);

/// A free TCP port on 127.0.0.1 (bound and released: another process may still take it first; good enough for
/// ports the launcher binds a moment later).
int free_tcp_port();

}  // namespace infermesh::sim
