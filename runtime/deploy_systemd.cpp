#include "runtime/deploy_systemd.hpp"

#include <algorithm>
#include <sstream>

#include "runtime/nats_server_config.hpp"

namespace infermesh {
namespace {

std::string seconds_above(std::chrono::milliseconds ms) {
  return std::to_string((ms.count() + 999) / 1000 + systemd_stop_margin_s) + "s";
}

/// The launcher's config of `server`, its header saying where this copy comes from.
std::string nats_config(const deployment_source& source, const nats_server_plan& server, const systemd_options& o) {
  auto text = render_nats_server_config(source.plan, server, o.state_dir);
  const std::string launcher_note = "# it is written again on every start.\n";
  if (const auto at = text.find(launcher_note); at != std::string::npos)
    text.replace(at, launcher_note.size(), "# render the cluster file again instead (infermesh cluster render --target systemd).\n");
  return text;
}

std::string nats_unit_name(const nats_server_plan& server) { return "infermesh-nats-" + server.name + ".service"; }

std::string nats_unit(const deployment_source& source, const nats_server_plan& server, const systemd_options& o) {
  std::ostringstream u;
  u << "# Rendered by `infermesh cluster render --target systemd` from " << source.file_name << ".\n"
    << "[Unit]\n"
    << "Description=NATS server " << server.name << " of cluster " << source.plan.nats_cluster_name << " (infermesh)\n"
    << "After=network-online.target\nWants=network-online.target\n\n"
    << "[Service]\nType=simple\n"
    << "ExecStart=" << o.nats_binary << " -c " << o.config_dir << "/nats/" << server.name << ".conf\n"
    << "ExecReload=/bin/kill -s HUP $MAINPID\n"
    << "# Lame duck on stop: SIGUSR2 moves clients off over lame_duck_duration, then the server exits.\n"
    << "KillSignal=SIGUSR2\n"
    << "TimeoutStopSec=" << seconds_above(source.plan.lame_duck) << "\n"
    << "Restart=on-failure\nRestartSec=1\nLimitNOFILE=65536\n\n"
    << "[Install]\nWantedBy=multi-user.target\n";
  return u.str();
}

std::string node_unit(const deployment_source& source, const std::vector<std::string>& nodes,
                      const std::vector<std::string>& nats_units, const systemd_options& o) {
  std::chrono::milliseconds drain{0};
  for (const auto& n : nodes) drain = std::max(drain, source.nodes.at(n).drain_timeout);
  std::string after = "network-online.target", wants = "network-online.target";
  for (const auto& unit : nats_units) after += " " + unit, wants += " " + unit;
  std::ostringstream u;
  u << "# Rendered by `infermesh cluster render --target systemd` from " << source.file_name << ".\n"
    << "# One instance per node of this host: infermesh-node@<node>.service.\n"
    << "[Unit]\n"
    << "Description=infermesh node %i\n"
    << "After=" << after << "\nWants=" << wants << "\n\n"
    << "[Service]\nType=simple\n"
    << "WorkingDirectory=" << o.state_dir << "\n"
    << "ExecStart=" << o.binary << " node --config " << o.config_dir << "/" << source.file_name << " --node %i\n"
    << "# SIGTERM drains the node (it answers what it accepted); the longest drain_timeout_ms here, plus a margin.\n"
    << "KillSignal=SIGTERM\n"
    << "TimeoutStopSec=" << seconds_above(drain) << "\n"
    << "Restart=on-failure\nRestartSec=1\n\n"
    << "[Install]\nWantedBy=multi-user.target\n";
  return u.str();
}

std::string install_script(const deployment_source& source, const std::string& host,
                           const std::vector<const nats_server_plan*>& servers, const std::vector<std::string>& nodes,
                           const systemd_options& o) {
  std::ostringstream s;
  s << "#!/bin/sh\n"
    << "# Installs what " << source.file_name << " places on host '" << host << "' and starts it (as root, from this folder).\n"
    << "# Rendered by `infermesh cluster render --target systemd`.\n"
    << "set -eu\ncd \"$(dirname \"$0\")\"\n"
    << "install -d " << shell_word(o.config_dir) << " " << shell_word(o.config_dir + "/nats") << " "
    << shell_word(o.state_dir) << "\n"
    << "install -m 0644 " << shell_word(source.file_name) << " " << shell_word(o.config_dir + "/" + source.file_name) << "\n";
  for (const auto* server : servers)
    s << "install -m 0644 nats/" << shell_word(server->name + ".conf") << " "
      << shell_word(o.config_dir + "/nats/" + server->name + ".conf") << "\n"
      << "install -m 0644 " << shell_word(nats_unit_name(*server)) << " " << shell_word(o.unit_dir) << "/\n";
  if (!nodes.empty()) s << "install -m 0644 'infermesh-node@.service' " << shell_word(o.unit_dir) << "/\n";
  s << "systemctl daemon-reload\n";
  for (const auto* server : servers) s << "systemctl enable --now " << shell_word(nats_unit_name(*server)) << "\n";
  for (const auto& node : nodes) s << "systemctl enable --now " << shell_word("infermesh-node@" + node + ".service") << "\n";
  return s.str();
}

}  // namespace

std::vector<rendered_file> render_systemd(const deployment_source& source, const systemd_options& options) {
  const auto files_dir = options.files_dir.empty() ? source.dir : options.files_dir;
  const auto cluster_copy = installed_cluster_file(source, files_dir);
  std::vector<rendered_file> files;
  for (const auto& host : source.plan.hosts) {
    std::vector<const nats_server_plan*> servers;
    std::vector<std::string> nats_units, nodes;
    for (const auto& s : source.plan.nats_servers)
      if (s.host == host.name) servers.push_back(&s), nats_units.push_back(nats_unit_name(s));
    for (const auto& n : source.plan.nodes)
      if (source.plan.node_host.at(n) == host.name) nodes.push_back(n);
    if (servers.empty() && nodes.empty()) continue;
    const auto dir = host.name + "/";
    for (const auto* s : servers) {
      files.push_back({dir + nats_unit_name(*s), nats_unit(source, *s, options)});
      files.push_back({dir + "nats/" + s->name + ".conf", nats_config(source, *s, options)});
    }
    if (!nodes.empty()) files.push_back({dir + "infermesh-node@.service", node_unit(source, nodes, nats_units, options)});
    files.push_back({dir + source.file_name, cluster_copy});
    files.push_back({dir + "install.sh", install_script(source, host.name, servers, nodes, options), true});
  }
  return files;
}

}  // namespace infermesh
