// What `infermesh cluster` reads of a cluster file: hosts, the NATS servers it launches, where each node runs;
// every node of a file that launches NATS servers is given all of their client URLs. Errors name the key.
#include <boost/test/unit_test.hpp>

#include <fstream>
#include <sstream>

#include "runtime/config.hpp"

using namespace infermesh;

namespace {

const std::string base = std::string(INFERMESH_SOURCE_DIR) + "/cluster-config";

const std::string two_hosts = R"(
hosts:
  - {name: h1, address: 10.0.0.1}
  - {name: h2, address: 10.0.0.2}
nats:
  cluster:
    servers:
      - {name: s1, host: h1}
      - {name: s2, host: h2, client_port: 4333}
  max_reconnect: -1
nodes:
  - host: h1
    node: {name: a}
    models: [{name: m, serves: classify, backend: synthetic, labels: [x, y], input: {width: 8, height: 8}}]
  - host: h2
    node: {name: b}
    models: [{name: m, serves: classify, backend: synthetic, labels: [x, y], input: {width: 8, height: 8}}]
pipelines: {classify: [classify]}
)";

std::string replaced(std::string text, const std::string& from, const std::string& to) {
  const auto at = text.find(from);
  BOOST_REQUIRE_MESSAGE(at != std::string::npos, "the test's file holds '" << from << "'");
  return text.replace(at, from.size(), to);
}

void expect_plan_error_naming(const std::string& yaml, const std::string& key) {
  auto plan = parse_cluster_plan(yaml, "test.yaml");
  BOOST_REQUIRE_MESSAGE(!plan, "expected an error naming " << key);
  BOOST_TEST(plan.err().message.find(key) != std::string::npos, "'" << plan.err().message << "' names '" << key << "'");
}

std::string file_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(cluster_plan)

BOOST_AUTO_TEST_CASE(a_file_without_hosts_or_nats_servers_runs_everything_on_one_local_host) {
  auto plan = parse_cluster_plan(file_text(base + "/two-node.yaml"), "two-node.yaml");
  BOOST_REQUIRE_MESSAGE(plan, (plan ? "" : plan.err().message));
  BOOST_TEST(plan->hosts.size() == 1u);
  BOOST_TEST(plan->hosts[0].name == "local");
  BOOST_TEST(plan->nats_servers.empty(), "NATS runs elsewhere: the nodes' own nats.servers say where");
  BOOST_TEST(plan->node_host.at("node-a") == "local");
  BOOST_TEST(plan->node_host.at("node-b") == "local");
}

BOOST_AUTO_TEST_CASE(servers_and_nodes_are_placed_on_their_hosts_with_default_ports) {
  auto plan = parse_cluster_plan(two_hosts, "test.yaml");
  BOOST_REQUIRE_MESSAGE(plan, (plan ? "" : plan.err().message));
  BOOST_REQUIRE(plan->nats_servers.size() == 2u);
  const auto& s1 = plan->nats_servers[0];
  BOOST_TEST(s1.address == "10.0.0.1");
  BOOST_TEST(s1.client_port == 4222);
  BOOST_TEST(s1.cluster_port == 6222);
  BOOST_TEST(s1.monitor_port == 8222);
  BOOST_TEST(s1.store_dir == "jetstream/s1");
  BOOST_TEST(plan->nats_servers[1].client_url() == "nats://10.0.0.2:4333");
  BOOST_TEST(plan->node_host.at("a") == "h1");
  BOOST_TEST(plan->node_host.at("b") == "h2");
  BOOST_TEST(plan->nats_cluster_name == "infermesh");
}

BOOST_AUTO_TEST_CASE(every_node_is_given_the_client_url_of_every_launched_server) {
  auto c = parse_config(two_hosts, base, "test.yaml", "b");
  BOOST_REQUIRE_MESSAGE(c, (c ? "" : c.err().message));
  BOOST_TEST(c->nats.servers == (std::vector<std::string>{"nats://10.0.0.1:4222", "nats://10.0.0.2:4333"}));
  BOOST_TEST(c->nats.max_reconnect == -1, "the rest of nats: still applies to the nodes");
}

BOOST_AUTO_TEST_CASE(a_node_that_names_its_own_servers_uses_only_those_and_ignores_announced_ones) {
  const auto file = replaced(two_hosts, "    node: {name: b}\n",
                             "    node: {name: b}\n    nats: {servers: [\"nats://127.0.0.1:7001\", \"nats://127.0.0.1:7002\"]}\n");
  auto b = parse_config(file, base, "test.yaml", "b");
  BOOST_REQUIRE_MESSAGE(b, (b ? "" : b.err().message));
  BOOST_TEST(b->nats.servers == (std::vector<std::string>{"nats://127.0.0.1:7001", "nats://127.0.0.1:7002"}));
  BOOST_TEST(b->nats.ignore_discovered_servers, "behind a proxy the servers' announced addresses are not the way");
  BOOST_TEST(b->nats.max_reconnect == -1, "the rest of nats: still applies");
  auto a = parse_config(file, base, "test.yaml", "a");
  BOOST_REQUIRE(a);
  BOOST_TEST(a->nats.servers.size() == 2u);
  BOOST_TEST(!a->nats.ignore_discovered_servers);
  auto bad = parse_config(replaced(file, "nats: {servers:", "nats: {url:"), base, "test.yaml", "b");
  BOOST_REQUIRE(!bad);
  BOOST_TEST(bad.err().message.find("nodes[1].nats") != std::string::npos, bad.err().message);
}

BOOST_AUTO_TEST_CASE(base_dir_moves_where_a_files_relative_paths_resolve) {
  const std::string file = "base_dir: " + base + "\n" + R"(nodes:
  - node: {name: a}
    models: [{name: m, serves: classify, path: ../model-repository/sample-classifier/model.pt,
              labels_file: ../model-repository/sample-classifier/labels.txt}]
)";
  auto c = parse_config(file, "/nonexistent/elsewhere", "derived.yaml", "a");
  BOOST_REQUIRE_MESSAGE(c, (c ? "" : c.err().message));
  BOOST_TEST(c->models.at(0).model.path == std::string(INFERMESH_SOURCE_DIR) + "/model-repository/sample-classifier/model.pt");
}

BOOST_AUTO_TEST_CASE(local_3node_launches_three_servers_and_three_nodes_each_given_all_three) {
  auto plan = parse_cluster_plan(file_text(base + "/local-3node.yaml"), "local-3node.yaml");
  BOOST_REQUIRE_MESSAGE(plan, (plan ? "" : plan.err().message));
  BOOST_TEST(plan->nats_servers.size() == 3u);
  BOOST_TEST(plan->nodes.size() == 3u);
  auto c = load_config_file(base + "/local-3node.yaml", "node-2");
  BOOST_REQUIRE_MESSAGE(c, (c ? "" : c.err().message));
  BOOST_TEST(c->nats.servers.size() == 3u);
  BOOST_TEST(c->durable_ops.count("process") == 1u);
  BOOST_TEST(c->work_queue.replicas == 3);
}

BOOST_AUTO_TEST_CASE(a_port_taken_twice_on_one_host_is_an_error_naming_both_keys) {
  expect_plan_error_naming(replaced(two_hosts, "{name: s2, host: h2, client_port: 4333}", "{name: s2, host: h1, client_port: 4333, cluster_port: 6333, monitor_port: 4222}"),
                           "nats.cluster.servers[1].monitor_port");
}

BOOST_AUTO_TEST_CASE(an_unknown_host_is_an_error_listing_the_hosts) {
  expect_plan_error_naming(replaced(two_hosts, "host: h2, client_port", "host: h9, client_port"),
                           "nats.cluster.servers[1].host");
  expect_plan_error_naming(replaced(two_hosts, "  - host: h2\n", "  - host: nowhere\n"), "nodes[1].host");
}

BOOST_AUTO_TEST_CASE(with_several_hosts_every_server_and_node_says_where_it_runs) {
  expect_plan_error_naming(replaced(two_hosts, "  - host: h2\n", "  -\n"), "nodes[1].host");
  expect_plan_error_naming(replaced(two_hosts, "{name: s1, host: h1}", "{name: s1}"), "nats.cluster.servers[0].host");
}

BOOST_AUTO_TEST_CASE(servers_listed_beside_launched_ones_are_refused) {
  auto c = parse_config(replaced(two_hosts, "  max_reconnect: -1", "  servers: [nats://elsewhere:4222]"), base, "test.yaml", "a");
  BOOST_REQUIRE(!c);
  BOOST_TEST(c.err().message.find("nats.servers") != std::string::npos, c.err().message);
}

BOOST_AUTO_TEST_CASE(names_hosts_and_lame_duck_are_checked) {
  expect_plan_error_naming(replaced(two_hosts, "{name: s2,", "{name: s1,"), "nats.cluster.servers[1].name");
  expect_plan_error_naming(replaced(two_hosts, "{name: s2,", "{name: \"s 2\","), "nats.cluster.servers[1].name");
  expect_plan_error_naming(replaced(two_hosts, "  - {name: h2, address: 10.0.0.2}", "  - {name: h1, address: 10.0.0.2}"),
                           "hosts[1].name");
  expect_plan_error_naming(replaced(two_hosts, "    servers:", "    lame_duck_ms: 1000\n    servers:"),
                           "nats.cluster.lame_duck_ms");
  expect_plan_error_naming(replaced(two_hosts, "    servers:", "    serverz: []\n    servers:"), "nats.cluster.serverz");
}

BOOST_AUTO_TEST_SUITE_END()
