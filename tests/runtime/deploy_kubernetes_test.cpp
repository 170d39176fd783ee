// `infermesh cluster render --target kubernetes` as plain code: the NATS StatefulSet's config and routes, the
// node configs pointed at the client Service with HTTP on, probes, drain-covering grace periods and disruption
// budgets. Schema validation (kubernetes-models) and nats-server -t: tests/integration/cluster_render_test.cpp.
#include <boost/test/unit_test.hpp>

#include <yaml-cpp/yaml.h>

#include <map>

#include "runtime/deploy_kubernetes.hpp"

using namespace infermesh;

namespace {

const std::string source_dir = INFERMESH_SOURCE_DIR;
const std::string two_hosts = source_dir + "/tests/support/two-host-cluster.yaml";

deployment_source load(const std::string& path) {
  auto source = load_deployment_source(path);
  BOOST_REQUIRE_MESSAGE(source, (source ? "" : source.err().message));
  return *source;
}

/// Every document of every rendered file, by "Kind/name".
std::map<std::string, YAML::Node> objects(const deployment_source& source, const kubernetes_options& o = {}) {
  std::map<std::string, YAML::Node> out;
  for (const auto& file : render_kubernetes(source, o))
    for (const auto& doc : YAML::LoadAll(file.text))
      if (doc.IsMap()) out[doc["kind"].as<std::string>() + "/" + doc["metadata"]["name"].as<std::string>()] = doc;
  return out;
}

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace

BOOST_AUTO_TEST_SUITE(deploy_kubernetes)

BOOST_AUTO_TEST_CASE(renders_the_nats_cluster_and_a_deployment_and_budget_per_node) {
  const auto o = objects(load(two_hosts));
  for (const char* name : {"ConfigMap/mesh-nats-config", "Service/mesh-nats-headless", "Service/mesh-nats",
                           "StatefulSet/mesh-nats", "PodDisruptionBudget/mesh-nats", "ConfigMap/infermesh-nodes",
                           "Deployment/infermesh-node-cpu-1", "PodDisruptionBudget/infermesh-node-cpu-1",
                           "Deployment/infermesh-node-cpu-2", "PodDisruptionBudget/infermesh-node-cpu-2"})
    BOOST_TEST(o.count(name) == 1, name);
  BOOST_TEST(o.size() == 10u);
}

BOOST_AUTO_TEST_CASE(the_nats_config_takes_its_name_from_the_pod_and_routes_to_every_pod_by_dns) {
  kubernetes_options opts;
  opts.kube_namespace = "docs";
  const auto text = kubernetes_nats_config(load(two_hosts), opts);
  BOOST_TEST(has(text, "server_name: $POD_NAME\n"), text);
  BOOST_TEST(has(text, "name: \"mesh\""), text);
  for (int i = 0; i < 3; ++i)  // three servers in nats.cluster: three pods
    BOOST_TEST(has(text, "nats://mesh-nats-" + std::to_string(i) + ".mesh-nats-headless.docs.svc.cluster.local:6222"), text);
  BOOST_TEST(!has(text, "mesh-nats-3."), text);
  BOOST_TEST(has(text, "store_dir: \"/data/jetstream\""), text);
}

BOOST_AUTO_TEST_CASE(the_statefulset_has_a_volume_per_pod_lame_duck_on_stop_and_a_grace_period_above_it) {
  const auto sts = objects(load(two_hosts)).at("StatefulSet/mesh-nats");
  BOOST_TEST(sts["spec"]["replicas"].as<int>() == 3);
  BOOST_TEST(sts["spec"]["serviceName"].as<std::string>() == "mesh-nats-headless");
  BOOST_TEST(sts["spec"]["volumeClaimTemplates"][0]["metadata"]["name"].as<std::string>() == "data");
  const auto pod = sts["spec"]["template"]["spec"];
  // lame_duck_ms 45000 in the file.
  BOOST_TEST(pod["terminationGracePeriodSeconds"].as<int>() == 45 + kubernetes_stop_margin_s);
  const auto container = pod["containers"][0];
  BOOST_TEST(container["lifecycle"]["preStop"]["exec"]["command"][1].as<std::string>() == "-sl=ldm=/var/run/nats/nats.pid");
  BOOST_TEST(container["env"][0]["name"].as<std::string>() == "POD_NAME");
  BOOST_TEST(container["env"][0]["valueFrom"]["fieldRef"]["fieldPath"].as<std::string>() == "metadata.name");
}

BOOST_AUTO_TEST_CASE(a_node_deployment_probes_health_and_outlasts_its_drain) {
  kubernetes_options opts;
  opts.image = "registry.example/infermesh:1.2";
  const auto d = objects(load(two_hosts), opts).at("Deployment/infermesh-node-cpu-1");
  const auto pod = d["spec"]["template"]["spec"];
  BOOST_TEST(pod["terminationGracePeriodSeconds"].as<int>() == 40 + kubernetes_stop_margin_s);  // drain 40 s
  const auto c = pod["containers"][0];
  BOOST_TEST(c["image"].as<std::string>() == "registry.example/infermesh:1.2");
  BOOST_TEST(c["command"][3].as<std::string>() == "/etc/infermesh/cpu-1.yaml");
  BOOST_TEST(c["startupProbe"]["httpGet"]["path"].as<std::string>() == "/v2/health/live");
  BOOST_TEST(c["livenessProbe"]["httpGet"]["path"].as<std::string>() == "/v2/health/live");
  BOOST_TEST(c["readinessProbe"]["httpGet"]["path"].as<std::string>() == "/v2/health/ready");
  BOOST_TEST(c["readinessProbe"]["httpGet"]["port"].as<int>() == kubernetes_node_http_port);
}

BOOST_AUTO_TEST_CASE(each_node_config_listens_for_http_in_the_pod_and_uses_the_client_service) {
  const auto source = load(two_hosts);
  kubernetes_options opts;
  opts.files_dir = "/opt/infermesh/tests/support";  // this file's folder in the image: ../../ is /opt/infermesh
  const auto configs = objects(source, opts).at("ConfigMap/infermesh-nodes")["data"];
  const auto text = configs["cpu-1.yaml"].as<std::string>();
  const auto node = YAML::Load(text);
  BOOST_TEST(node["http"]["listen"].as<std::string>() == "0.0.0.0:9464");
  BOOST_TEST(node["nats"]["servers"].size() == 1u);
  BOOST_TEST(node["nats"]["servers"][0].as<std::string>() == "nats://mesh-nats:4222");
  BOOST_TEST(!node["nats"]["cluster"]);
  BOOST_TEST(node["nats"]["max_reconnect"].as<int>() == -1);
  BOOST_TEST(node["delivery"]["classify"].as<std::string>() == "durable");
  BOOST_TEST(node["models"][0]["path"].as<std::string>() == "/opt/infermesh/model-repository/document-classifier/model.pt");
  // The node parser takes it as a node config (labels file read from here: files_dir is this file's folder).
  const auto here = standalone_node_file(source, "cpu-1", source.dir, {"nats://mesh-nats:4222"}, "0.0.0.0:9464");
  const auto parsed = parse_config(here, source.dir, "cpu-1.yaml");
  BOOST_REQUIRE_MESSAGE(static_cast<bool>(parsed), (parsed ? "" : parsed.err().message));
  BOOST_TEST(parsed->node_name == "cpu-1");
  BOOST_TEST(parsed->http.listen == "0.0.0.0:9464");
  BOOST_TEST(parsed->drain_timeout.count() == 40000);
}

BOOST_AUTO_TEST_CASE(a_file_without_nats_cluster_gets_one_nats_server_without_routes) {
  const auto source = load(source_dir + "/cluster-config/two-node.yaml");
  const auto o = objects(source);
  BOOST_TEST(o.at("StatefulSet/infermesh-nats")["spec"]["replicas"].as<int>() == 1);
  BOOST_TEST(!has(kubernetes_nats_config(source, {}), "routes"));
}

BOOST_AUTO_TEST_CASE(names_become_dns_labels) {
  BOOST_TEST(kubernetes_name("Node_A.1") == "node-a-1");
  BOOST_TEST(kubernetes_name("-x-") == "x");
}

BOOST_AUTO_TEST_SUITE_END()
