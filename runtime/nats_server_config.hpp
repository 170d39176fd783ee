#pragma once
/// The nats-server configuration of each server a cluster file launches (config.hpp, `nats.cluster`): what a
/// JetStream cluster needs (notes/cluster.md) — `server_name`, client `listen`, monitoring `http` (the
/// launcher's readiness probe: /healthz), `jetstream.store_dir`, and a `cluster` block with its name and an
/// explicit route to every server, itself included (nats-server ignores the route to itself). Each file is
/// checked with `nats-server -t` before the server starts.

#include <optional>
#include <string>

#include "messages/outcome.hpp"
#include "runtime/config.hpp"

namespace infermesh {

/// The configuration text of `server` in `plan`; a relative store_dir resolves against `run_dir`.
std::string render_nats_server_config(const cluster_plan& plan, const nats_server_plan& server,
                                      const std::string& run_dir);

/// Runs `nats_binary -t -c path`: nothing when the file is valid, else the server's complaint.
std::optional<error> check_nats_server_config(const std::string& nats_binary, const std::string& path);

/// `nats-server` as found on PATH (or /usr/sbin, /usr/bin, /usr/local/bin); "" when there is none.
std::string find_nats_server();

}  // namespace infermesh
