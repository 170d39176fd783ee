// `infermesh cluster render --target systemd` as plain code: which files each host gets and what its units say
// (lame duck on stop, drain within TimeoutStopSec, the host's NATS units before its nodes, installed paths).
// systemd-analyze verify and nats-server -t run on the real CLI's output: tests/integration/cluster_render_test.cpp.
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <map>

#include "runtime/deploy_systemd.hpp"

using namespace infermesh;

namespace {

const std::string source_dir = INFERMESH_SOURCE_DIR;
const std::string two_hosts = source_dir + "/tests/support/two-host-cluster.yaml";

deployment_source load(const std::string& path) {
  auto source = load_deployment_source(path);
  BOOST_REQUIRE_MESSAGE(source, (source ? "" : source.err().message));
  return *source;
}

std::map<std::string, rendered_file> by_path(const std::vector<rendered_file>& files) {
  std::map<std::string, rendered_file> out;
  for (const auto& f : files) out[f.path] = f;
  return out;
}

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace

BOOST_AUTO_TEST_SUITE(deploy_systemd)

BOOST_AUTO_TEST_CASE(each_host_gets_its_nats_units_and_configs_the_node_template_the_file_and_an_install_script) {
  const auto files = by_path(render_systemd(load(two_hosts), {}));
  for (const char* path : {"alpha/infermesh-nats-n1.service", "alpha/nats/n1.conf", "alpha/infermesh-node@.service",
                           "alpha/two-host-cluster.yaml", "alpha/install.sh", "beta/infermesh-nats-n2.service",
                           "beta/infermesh-nats-n3.service", "beta/nats/n2.conf", "beta/nats/n3.conf",
                           "beta/infermesh-node@.service", "beta/two-host-cluster.yaml", "beta/install.sh"})
    BOOST_TEST(files.count(path) == 1, path);
  BOOST_TEST(files.count("alpha/infermesh-nats-n2.service") == 0, "n2 runs on beta");
  BOOST_TEST(files.at("alpha/install.sh").executable);
}

BOOST_AUTO_TEST_CASE(a_nats_unit_runs_its_rendered_config_and_stops_in_lame_duck_mode_within_the_timeout) {
  const auto unit = by_path(render_systemd(load(two_hosts), {})).at("beta/infermesh-nats-n3.service").text;
  BOOST_TEST(has(unit, "ExecStart=/usr/sbin/nats-server -c /etc/infermesh/nats/n3.conf\n"), unit);
  BOOST_TEST(has(unit, "KillSignal=SIGUSR2\n"), unit);
  // lame_duck_ms 45000 in the file, plus the margin.
  BOOST_TEST(has(unit, "TimeoutStopSec=" + std::to_string(45 + systemd_stop_margin_s) + "s\n"), unit);
  BOOST_TEST(has(unit, "Restart=on-failure\n"), unit);
}

BOOST_AUTO_TEST_CASE(the_node_template_runs_the_installed_file_waits_for_the_hosts_nats_units_and_outlasts_the_drain) {
  systemd_options o;
  o.binary = "/opt/bin/infermesh";
  o.config_dir = "/srv/conf";
  const auto files = by_path(render_systemd(load(two_hosts), o));
  const auto alpha = files.at("alpha/infermesh-node@.service").text;
  BOOST_TEST(has(alpha, "ExecStart=/opt/bin/infermesh node --config /srv/conf/two-host-cluster.yaml --node %i\n"), alpha);
  BOOST_TEST(has(alpha, "KillSignal=SIGTERM\n"), alpha);
  // cpu-1 drains for 40 s (drain_timeout_ms 40000).
  BOOST_TEST(has(alpha, "TimeoutStopSec=" + std::to_string(40 + systemd_stop_margin_s) + "s\n"), alpha);
  BOOST_TEST(has(alpha, "After=network-online.target infermesh-nats-n1.service\n"), alpha);
  BOOST_TEST(has(alpha, "Wants=network-online.target infermesh-nats-n1.service\n"), alpha);
  const auto beta = files.at("beta/infermesh-node@.service").text;
  BOOST_TEST(has(beta, "infermesh-nats-n2.service infermesh-nats-n3.service\n"), beta);
  // cpu-2 keeps the default drain of 15 s.
  BOOST_TEST(has(beta, "TimeoutStopSec=" + std::to_string(15 + systemd_stop_margin_s) + "s\n"), beta);
}

BOOST_AUTO_TEST_CASE(relative_store_dirs_go_under_the_state_dir_and_absolute_ones_stay) {
  systemd_options o;
  o.state_dir = "/data/im";
  const auto files = by_path(render_systemd(load(two_hosts), o));
  BOOST_TEST(has(files.at("beta/nats/n2.conf").text, "store_dir: \"/data/im/jetstream/n2\""), files.at("beta/nats/n2.conf").text);
  BOOST_TEST(has(files.at("beta/nats/n3.conf").text, "store_dir: \"/srv/js/n3\""), files.at("beta/nats/n3.conf").text);
}

BOOST_AUTO_TEST_CASE(the_installed_cluster_file_has_model_paths_made_absolute_against_the_files_dir) {
  systemd_options o;
  o.files_dir = "/opt/infermesh/tests/support";
  const auto copy = by_path(render_systemd(load(two_hosts), o)).at("alpha/two-host-cluster.yaml").text;
  BOOST_TEST(has(copy, "/opt/infermesh/model-repository/document-classifier/model.pt"), copy);
  BOOST_TEST(has(copy, "/opt/infermesh/model-repository/document-classifier/labels.txt"), copy);
  BOOST_TEST(!has(copy, "../"), copy);
}

BOOST_AUTO_TEST_CASE(without_a_files_dir_model_paths_resolve_against_the_files_folder_here) {
  const auto copy = by_path(render_systemd(load(two_hosts), {})).at("alpha/two-host-cluster.yaml").text;
  BOOST_TEST(has(copy, source_dir + "/model-repository/document-classifier/model.pt"), copy);
}

BOOST_AUTO_TEST_CASE(the_install_script_enables_exactly_the_units_its_host_runs) {
  const auto files = by_path(render_systemd(load(two_hosts), {}));
  const auto beta = files.at("beta/install.sh").text;
  BOOST_TEST(has(beta, "systemctl enable --now infermesh-nats-n2.service\n"), beta);
  BOOST_TEST(has(beta, "systemctl enable --now infermesh-nats-n3.service\n"), beta);
  BOOST_TEST(has(beta, "systemctl enable --now infermesh-node@cpu-2.service\n"), beta);
  BOOST_TEST(!has(beta, "cpu-1"), beta);
  BOOST_TEST(!has(beta, "nats-n1"), beta);
}

BOOST_AUTO_TEST_CASE(the_local_three_node_file_puts_everything_on_one_host) {
  const auto files = render_systemd(load(source_dir + "/cluster-config/local-3node.yaml"), {});
  BOOST_TEST(std::all_of(files.begin(), files.end(), [](const rendered_file& f) { return f.path.rfind("local/", 0) == 0; }));
  const auto script = by_path(files).at("local/install.sh").text;
  for (const char* node : {"node-1", "node-2", "node-3"})
    BOOST_TEST(has(script, std::string("infermesh-node@") + node + ".service"), script);
}

BOOST_AUTO_TEST_CASE(an_invalid_file_is_an_error_naming_the_key) {
  auto bad = load_deployment_source(source_dir + "/cluster-config/README.md");
  BOOST_TEST(!static_cast<bool>(bad));
  auto missing = load_deployment_source("/nonexistent/cluster.yaml");
  BOOST_TEST(!static_cast<bool>(missing));
  BOOST_TEST(has(missing.err().message, "/nonexistent/cluster.yaml"));
}

BOOST_AUTO_TEST_SUITE_END()
