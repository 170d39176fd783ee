#pragma once
/// `infermesh cluster render --target systemd`: what each host of a cluster file runs, as systemd units. Per
/// host (a folder named after it):
/// - `infermesh-nats-<server>.service` for each NATS server the file places there: `nats-server -c` its
///   rendered config (nats_server_config.hpp; JetStream stores under the state dir), stopped in lame-duck mode
///   (KillSignal=SIGUSR2, TimeoutStopSec above the lame-duck duration), Restart=on-failure;
/// - `infermesh-node@.service`, one template for the host's nodes (instance = node name): `infermesh node
///   --config <installed cluster file> --node %i`, SIGTERM drains it (TimeoutStopSec above the longest
///   `drain_timeout_ms` of the host's nodes), after and wanting the host's NATS units;
/// - `nats/<server>.conf`, the installed copy of the cluster file (model paths made absolute), and
///   `install.sh`: copies them into place and runs `systemctl enable --now` for every unit the host runs.
/// Plain code: files as {path, text}; deployment.hpp writes them.

#include <string>
#include <vector>

#include "runtime/deployment.hpp"

namespace infermesh {

/// Where things are installed on the hosts.
struct systemd_options {
  std::string binary = "/usr/local/bin/infermesh";   ///< the infermesh binary (ExecStart of the nodes)
  std::string nats_binary = "/usr/sbin/nats-server";  ///< Debian's nats-server
  std::string config_dir = "/etc/infermesh";          ///< the cluster file and nats/<server>.conf
  std::string state_dir = "/var/lib/infermesh";       ///< relative JetStream store dirs; the nodes' working dir
  std::string unit_dir = "/etc/systemd/system";       ///< where install.sh puts the units
  std::string files_dir;  ///< where the file's relative model paths resolve on the hosts; "": its folder here
};

/// Extra seconds beyond a node's drain timeout (or a server's lame-duck period) before systemd kills it.
constexpr int systemd_stop_margin_s = 15;

/// Every file of every host, paths `<host>/...`; hosts with nothing placed on them are left out.
std::vector<rendered_file> render_systemd(const deployment_source& source, const systemd_options& options);

}  // namespace infermesh
