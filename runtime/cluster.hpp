#pragma once
/// `infermesh cluster`: launches every node of a cluster file (config `nodes:`) as its own `infermesh node`
/// process on this machine, forwards SIGINT/SIGTERM to them (each drains gracefully) and waits for all.
/// For demos and single-machine deployments; on several machines, run `infermesh node --node NAME` on each.

#include <string>
#include <vector>

namespace infermesh {

/// Runs the nodes of `config_path` until a stop signal; `nats_servers` (if any) replaces each node's server
/// list. Returns 0 when every node exited cleanly.
int run_cluster(const std::string& self_binary, const std::string& config_path,
                const std::vector<std::string>& nats_servers);

}  // namespace infermesh
