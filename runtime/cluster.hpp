#pragma once
/// `infermesh cluster`: launches what a cluster file places on this host — its NATS servers (`nats.cluster`)
/// first, then its nodes, each as its own process — and supervises them: the root of the supervision tree.
///
/// - Readiness, not time: a NATS server is ready when its monitoring `/healthz?js-enabled-only=true` answers
///   200; nodes start once every local server is ready; a node is ready when it answers NATS service
///   discovery (`$SRV.PING`). When everything here is ready the launcher prints the cluster's status table
///   (`infermesh status`'s), and again on SIGUSR1, with its own processes.
/// - While a child runs its pid is in `<run dir>/pids/<name>.pid` (removed when it exits). SIGHUP starts again
///   every child that stopped cleanly while the cluster runs (a node drained by SIGTERM, a server stopped from
///   outside) — or, when `<run dir>/start/` holds files, only the children they name (then removed): how
///   `infermesh simulate` undoes a `term` or `lame-duck` fault.
/// - Every child goes through the one lifecycle (actors/lifecycle.hpp, the file's `supervision:`): one that
///   crashes or exits non-zero restarts with back-off and a restart intensity; an exit 0 stays stopped.
/// - SIGINT/SIGTERM: the nodes drain first (SIGTERM each, wait), then the NATS servers leave in lame-duck mode
///   (SIGUSR2, what `nats-server --signal ldm=PID` sends), then it exits 0 when every last exit was clean. A
///   second signal kills what still runs. If the launcher itself is killed, its children get SIGTERM.
/// - Each child's output goes to `<run dir>/logs/<name>.log` and to stdout prefixed with its name; derived
///   NATS configs are in `<run dir>/nats/`, JetStream stores (relative `store_dir`) under the run dir.
///
/// On several machines, run one launcher per host with `--host NAME` (or the systemd units / Kubernetes
/// objects rendered from the same file).

#include <string>
#include <vector>

namespace infermesh {

struct cluster_launch {
  std::string self_binary;                ///< this infermesh binary (each node runs `infermesh node`)
  std::string config_path;                ///< the cluster file
  std::string host;                       ///< `--host`: only what the file places there; "" = everything
  std::string run_dir;                    ///< "" = ./infermesh-run/<file name>[-<host>]
  std::vector<std::string> nats_servers;  ///< `--nats`: replaces each node's server list (no `nats.cluster`)
  std::vector<std::string> node_args;     ///< more arguments for each node (`--log-format json`)
};

/// Runs until a stop signal (or until every child stopped); returns 0 when every child's last exit was clean,
/// 2 when the file or the host is wrong (the error is logged, naming the key), 1 otherwise.
int run_cluster(const cluster_launch& launch);

}  // namespace infermesh
