#pragma once
/// `infermesh cluster`: launches every node of a cluster file (config `nodes:`) as its own `infermesh node`
/// process on this machine and supervises them: the root of the supervision tree. A node that crashes or fails
/// (a signal, a non-zero exit) is restarted with back-off and a restart intensity; one that exits cleanly
/// (someone stopped it) stays stopped. SIGINT/SIGTERM are forwarded to every node (each drains gracefully) and
/// the launcher waits for all; if the launcher itself is killed, its nodes get SIGTERM.
/// For demos and single-machine deployments; on several machines, run `infermesh node --node NAME` on each
/// (under a process supervisor such as systemd).

#include <string>
#include <vector>

namespace infermesh {

/// Runs the nodes of `config_path` until a stop signal; `nats_servers` (if any) replaces each node's server
/// list; `node_args` go on each node's command line too (`--log-format json`). Returns 0 when every node's last
/// exit was clean.
int run_cluster(const std::string& self_binary, const std::string& config_path,
                const std::vector<std::string>& nats_servers, const std::vector<std::string>& node_args = {});

}  // namespace infermesh
