#include "runtime/deploy_kubernetes.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <sstream>

namespace infermesh {
namespace {

using YAML::BeginMap;
using YAML::BeginSeq;
using YAML::EndMap;
using YAML::EndSeq;
using YAML::Key;
using YAML::Value;

constexpr int client_port = 4222;
constexpr int cluster_port = 6222;
constexpr int monitor_port = 8222;
const std::string nats_config_dir = "/etc/nats-config";
const std::string nats_pid_dir = "/var/run/nats";
const std::string nats_store_dir = "/data/jetstream";
const std::string node_config_dir = "/etc/infermesh";

/// A string a YAML reader could take for a number, a bool or null: it must be quoted to stay a string.
bool ambiguous(const std::string& s) {
  static const char* words[] = {"", "~", "null", "Null", "NULL", "true", "True", "TRUE", "false", "False", "FALSE",
                                "yes", "Yes", "YES", "no", "No", "NO", "on", "On", "ON", "off", "Off", "OFF", "y", "n"};
  if (std::find(std::begin(words), std::end(words), s) != std::end(words)) return true;
  return s.find_first_not_of("0123456789+-.eExXoOabcdefABCDEF_:") == std::string::npos &&
         std::isdigit(static_cast<unsigned char>(s.front())) != 0;
}

/// A string value, quoted when it must be.
struct str {
  const std::string& s;
};
YAML::Emitter& operator<<(YAML::Emitter& e, str v) {
  if (v.s.find('\n') != std::string::npos) return e << YAML::Literal << v.s;
  if (ambiguous(v.s)) return e << YAML::DoubleQuoted << v.s;
  return e << v.s;
}

void entry(YAML::Emitter& e, const char* key, const std::string& value) { e << Key << key << Value << str{value}; }
void entry(YAML::Emitter& e, const char* key, long long value) { e << Key << key << Value << value; }

long long seconds_above(std::chrono::milliseconds ms) { return (ms.count() + 999) / 1000 + kubernetes_stop_margin_s; }

void metadata(YAML::Emitter& e, const std::string& name, const kubernetes_options& o,
              const std::vector<std::pair<std::string, std::string>>& labels) {
  e << Key << "metadata" << Value << BeginMap;
  entry(e, "name", name);
  entry(e, "namespace", o.kube_namespace);
  e << Key << "labels" << Value << BeginMap;
  for (const auto& [k, v] : labels) entry(e, k.c_str(), v);
  e << EndMap << EndMap;
}

void label_map(YAML::Emitter& e, const char* key, const std::vector<std::pair<std::string, std::string>>& labels) {
  e << Key << key << Value << BeginMap;
  for (const auto& [k, v] : labels) entry(e, k.c_str(), v);
  e << EndMap;
}

void http_probe(YAML::Emitter& e, const char* kind, const std::string& path, int port, int period, int failures) {
  e << Key << kind << Value << BeginMap;
  e << Key << "httpGet" << Value << BeginMap;
  entry(e, "path", path);
  entry(e, "port", port);
  e << EndMap;
  entry(e, "periodSeconds", period);
  entry(e, "failureThreshold", failures);
  e << EndMap;
}

void port(YAML::Emitter& e, const char* name, int number) {
  e << BeginMap;
  entry(e, "name", name);
  entry(e, "containerPort", number);
  e << EndMap;
}

void disruption_budget(YAML::Emitter& e, const std::string& name, const kubernetes_options& o,
                       const std::vector<std::pair<std::string, std::string>>& labels) {
  e << BeginMap;
  entry(e, "apiVersion", "policy/v1");
  entry(e, "kind", "PodDisruptionBudget");
  metadata(e, name, o, labels);
  e << Key << "spec" << Value << BeginMap;
  entry(e, "maxUnavailable", 1);  // one pod at a time: the survivors keep the JetStream quorum and every op
  e << Key << "selector" << Value << BeginMap;
  label_map(e, "matchLabels", labels);
  e << EndMap << EndMap << EndMap;
}

struct nats_names {
  std::string sts, headless;
  std::size_t replicas;
};

nats_names names_of(const deployment_source& source) {
  const auto sts = kubernetes_name(source.plan.nats_cluster_name) + "-nats";
  return {sts, sts + "-headless", std::max<std::size_t>(1, source.plan.nats_servers.size())};
}

std::string documents(const std::vector<std::string>& docs, const std::string& header) {
  std::string out = header;
  for (const auto& d : docs) out += "---\n" + d + "\n";
  return out;
}

std::string nats_yaml(const deployment_source& source, const kubernetes_options& o) {
  const auto n = names_of(source);
  const std::vector<std::pair<std::string, std::string>> labels{{"app.kubernetes.io/name", "nats"},
                                                                {"app.kubernetes.io/instance", n.sts}};
  std::vector<std::string> docs;
  {
    YAML::Emitter e;
    e << BeginMap;
    entry(e, "apiVersion", "v1");
    entry(e, "kind", "ConfigMap");
    metadata(e, n.sts + "-config", o, labels);
    e << Key << "data" << Value << BeginMap;
    entry(e, "nats.conf", kubernetes_nats_config(source, o));
    e << EndMap << EndMap;
    docs.push_back(e.c_str());
  }
  for (const bool headless : {true, false}) {
    YAML::Emitter e;
    e << BeginMap;
    entry(e, "apiVersion", "v1");
    entry(e, "kind", "Service");
    metadata(e, headless ? n.headless : n.sts, o, labels);
    e << Key << "spec" << Value << BeginMap;
    if (headless) {
      entry(e, "clusterIP", "None");
      e << Key << "publishNotReadyAddresses" << Value << true;  // routes form before the servers are ready
    }
    label_map(e, "selector", labels);
    e << Key << "ports" << Value << BeginSeq;
    for (const auto& [name, number] : headless ? std::vector<std::pair<std::string, int>>{{"client", client_port},
                                                                                         {"cluster", cluster_port},
                                                                                         {"monitor", monitor_port}}
                                               : std::vector<std::pair<std::string, int>>{{"client", client_port}}) {
      e << BeginMap;
      entry(e, "name", name);
      entry(e, "port", number);
      entry(e, "targetPort", name);
      e << EndMap;
    }
    e << EndSeq << EndMap << EndMap;
    docs.push_back(e.c_str());
  }
  {
    YAML::Emitter e;
    e << BeginMap;
    entry(e, "apiVersion", "apps/v1");
    entry(e, "kind", "StatefulSet");
    metadata(e, n.sts, o, labels);
    e << Key << "spec" << Value << BeginMap;
    entry(e, "serviceName", n.headless);
    entry(e, "replicas", static_cast<long long>(n.replicas));
    entry(e, "podManagementPolicy", "Parallel");
    e << Key << "selector" << Value << BeginMap;
    label_map(e, "matchLabels", labels);
    e << EndMap;
    e << Key << "template" << Value << BeginMap;
    e << Key << "metadata" << Value << BeginMap;
    label_map(e, "labels", labels);
    e << EndMap;
    e << Key << "spec" << Value << BeginMap;
    entry(e, "terminationGracePeriodSeconds", seconds_above(source.plan.lame_duck));
    e << Key << "containers" << Value << BeginSeq << BeginMap;
    entry(e, "name", "nats");
    entry(e, "image", o.nats_image);
    e << Key << "args" << Value << BeginSeq << "--config" << (nats_config_dir + "/nats.conf") << EndSeq;
    e << Key << "env" << Value << BeginSeq << BeginMap;
    entry(e, "name", "POD_NAME");
    e << Key << "valueFrom" << Value << BeginMap << Key << "fieldRef" << Value << BeginMap;
    entry(e, "fieldPath", "metadata.name");
    e << EndMap << EndMap << EndMap << EndSeq;
    e << Key << "ports" << Value << BeginSeq;
    port(e, "client", client_port);
    port(e, "cluster", cluster_port);
    port(e, "monitor", monitor_port);
    e << EndSeq;
    http_probe(e, "startupProbe", "/healthz", monitor_port, 5, 90);
    http_probe(e, "livenessProbe", "/healthz?js-enabled-only=true", monitor_port, 30, 3);
    http_probe(e, "readinessProbe", "/healthz?js-server-only=true", monitor_port, 10, 3);
    e << Key << "lifecycle" << Value << BeginMap << Key << "preStop" << Value << BeginMap << Key << "exec" << Value
      << BeginMap << Key << "command" << Value << BeginSeq << "nats-server" << ("-sl=ldm=" + nats_pid_dir + "/nats.pid")
      << EndSeq << EndMap << EndMap << EndMap;
    e << Key << "volumeMounts" << Value << BeginSeq;
    for (const auto& [name, path] : std::vector<std::pair<std::string, std::string>>{
             {"config", nats_config_dir}, {"pid", nats_pid_dir}, {"data", "/data"}}) {
      e << BeginMap;
      entry(e, "name", name);
      entry(e, "mountPath", path);
      e << EndMap;
    }
    e << EndSeq << EndMap << EndSeq;  // the container
    e << Key << "volumes" << Value << BeginSeq;
    e << BeginMap;
    entry(e, "name", "config");
    e << Key << "configMap" << Value << BeginMap;
    entry(e, "name", n.sts + "-config");
    e << EndMap << EndMap;
    e << BeginMap;
    entry(e, "name", "pid");
    e << Key << "emptyDir" << Value << BeginMap << EndMap << EndMap;
    e << EndSeq;
    e << EndMap << EndMap;  // template.spec, template
    e << Key << "volumeClaimTemplates" << Value << BeginSeq << BeginMap;
    e << Key << "metadata" << Value << BeginMap;
    entry(e, "name", "data");
    e << EndMap;
    e << Key << "spec" << Value << BeginMap;
    e << Key << "accessModes" << Value << BeginSeq << "ReadWriteOnce" << EndSeq;
    e << Key << "resources" << Value << BeginMap << Key << "requests" << Value << BeginMap;
    entry(e, "storage", o.storage);
    e << EndMap << EndMap << EndMap << EndMap << EndSeq;
    e << EndMap << EndMap;  // spec, document
    docs.push_back(e.c_str());
  }
  {
    YAML::Emitter e;
    disruption_budget(e, n.sts, o, labels);
    docs.push_back(e.c_str());
  }
  return documents(docs, "# The NATS cluster of " + source.file_name + ", rendered by `infermesh cluster render --target kubernetes`.\n");
}

std::string nodes_yaml(const deployment_source& source, const kubernetes_options& o) {
  const auto n = names_of(source);
  const std::string config_map = "infermesh-nodes";
  const std::vector<std::string> servers{"nats://" + n.sts + ":" + std::to_string(client_port)};
  const auto listen = "0.0.0.0:" + std::to_string(kubernetes_node_http_port);
  std::vector<std::string> docs;
  {
    YAML::Emitter e;
    e << BeginMap;
    entry(e, "apiVersion", "v1");
    entry(e, "kind", "ConfigMap");
    metadata(e, config_map, o, {{"app.kubernetes.io/name", "infermesh-node"}});
    e << Key << "data" << Value << BeginMap;
    for (const auto& node : source.plan.nodes)
      entry(e, (node + ".yaml").c_str(), standalone_node_file(source, node, o.files_dir, servers, listen));
    e << EndMap << EndMap;
    docs.push_back(e.c_str());
  }
  for (const auto& node : source.plan.nodes) {
    const auto name = "infermesh-node-" + kubernetes_name(node);
    const std::vector<std::pair<std::string, std::string>> labels{{"app.kubernetes.io/name", "infermesh-node"},
                                                                  {"app.kubernetes.io/instance", name}};
    YAML::Emitter e;
    e << BeginMap;
    entry(e, "apiVersion", "apps/v1");
    entry(e, "kind", "Deployment");
    metadata(e, name, o, labels);
    e << Key << "spec" << Value << BeginMap;
    entry(e, "replicas", 1);  // the node name is the pod's identity on the bus: one pod per node of the file
    e << Key << "selector" << Value << BeginMap;
    label_map(e, "matchLabels", labels);
    e << EndMap;
    e << Key << "template" << Value << BeginMap;
    e << Key << "metadata" << Value << BeginMap;
    label_map(e, "labels", labels);
    e << EndMap;
    e << Key << "spec" << Value << BeginMap;
    // SIGTERM drains the node: it unsubscribes and answers what it accepted, within drain_timeout_ms.
    entry(e, "terminationGracePeriodSeconds", seconds_above(source.nodes.at(node).drain_timeout));
    e << Key << "containers" << Value << BeginSeq << BeginMap;
    entry(e, "name", "node");
    entry(e, "image", o.image);
    e << Key << "command" << Value << BeginSeq << o.binary << "node" << "--config"
      << (node_config_dir + "/" + node + ".yaml") << EndSeq;
    e << Key << "ports" << Value << BeginSeq;
    port(e, "http", kubernetes_node_http_port);
    e << EndSeq;
    http_probe(e, "startupProbe", "/v2/health/live", kubernetes_node_http_port, 2, 30);
    http_probe(e, "livenessProbe", "/v2/health/live", kubernetes_node_http_port, 10, 3);
    http_probe(e, "readinessProbe", "/v2/health/ready", kubernetes_node_http_port, 2, 3);
    e << Key << "volumeMounts" << Value << BeginSeq << BeginMap;
    entry(e, "name", "config");
    entry(e, "mountPath", node_config_dir);
    e << EndMap << EndSeq;
    e << EndMap << EndSeq;  // the container
    e << Key << "volumes" << Value << BeginSeq << BeginMap;
    entry(e, "name", "config");
    e << Key << "configMap" << Value << BeginMap;
    entry(e, "name", config_map);
    e << EndMap << EndMap << EndSeq;
    e << EndMap << EndMap << EndMap << EndMap;  // template.spec, template, spec, document
    docs.push_back(e.c_str());
    YAML::Emitter budget;
    disruption_budget(budget, name, o, labels);
    docs.push_back(budget.c_str());
  }
  return documents(docs, "# The nodes of " + source.file_name + ", rendered by `infermesh cluster render --target kubernetes`.\n");
}

}  // namespace

std::string kubernetes_name(const std::string& s) {
  std::string out;
  for (char c : s) out += std::isalnum(static_cast<unsigned char>(c)) ? static_cast<char>(std::tolower(c)) : '-';
  while (!out.empty() && out.front() == '-') out.erase(out.begin());
  while (!out.empty() && out.back() == '-') out.pop_back();
  return out.empty() ? "x" : out.substr(0, 40);
}

std::string kubernetes_nats_config(const deployment_source& source, const kubernetes_options& o) {
  const auto n = names_of(source);
  const auto seconds = (source.plan.lame_duck.count() + 999) / 1000;
  std::ostringstream c;
  c << "# One config for every pod of the StatefulSet: $POD_NAME is the pod's name (env, from metadata.name).\n"
    << "server_name: $POD_NAME\n"
    << "listen: \"0.0.0.0:" << client_port << "\"\n"
    << "http: \"0.0.0.0:" << monitor_port << "\"\n"
    << "pid_file: \"" << nats_pid_dir << "/nats.pid\"\n"
    << "lame_duck_duration: \"" << seconds << "s\"\n"
    << "lame_duck_grace_period: \"2s\"\n"
    << "jetstream {\n  store_dir: \"" << nats_store_dir << "\"\n}\n";
  if (n.replicas > 1) {
    c << "cluster {\n  name: \"" << source.plan.nats_cluster_name << "\"\n"
      << "  listen: \"0.0.0.0:" << cluster_port << "\"\n  routes: [\n";
    for (std::size_t i = 0; i < n.replicas; ++i)
      c << "    \"nats://" << n.sts << "-" << i << "." << n.headless << "." << o.kube_namespace
        << ".svc.cluster.local:" << cluster_port << "\"\n";
    c << "  ]\n}\n";
  }
  return c.str();
}

std::vector<rendered_file> render_kubernetes(const deployment_source& source, const kubernetes_options& options) {
  return {{"nats.yaml", nats_yaml(source, options)}, {"nodes.yaml", nodes_yaml(source, options)}};
}

}  // namespace infermesh
