#pragma once
/// `infermesh cluster render --target kubernetes`: the same cluster file as Kubernetes objects, in two files
/// of YAML documents (`kubectl apply -f DIR`):
/// - `nats.yaml`: the NATS cluster — a ConfigMap with one nats-server config for every pod (`server_name:
///   $POD_NAME`, set from the pod's name; explicit routes to every pod through the headless Service,
///   `nats://<sts>-<i>.<sts>-headless.<ns>.svc.cluster.local:6222`, as the nats Helm chart renders them;
///   JetStream on the pod's volume), the headless Service, the client Service `<sts>` (port 4222), the
///   StatefulSet (one pod per server of `nats.cluster`, or one; a volume claim template per pod; preStop puts
///   the server in lame-duck mode, terminationGracePeriodSeconds above the lame-duck period) and its
///   PodDisruptionBudget (one pod at a time);
/// - `nodes.yaml`: a ConfigMap with each node's standalone config (deployment.hpp: `http.listen
///   0.0.0.0:9464`, `nats.servers` the client Service), and per node a Deployment (startup and liveness
///   probes on /v2/health/live, readiness on /v2/health/ready; terminationGracePeriodSeconds above its
///   drain timeout, so SIGTERM drains) with its PodDisruptionBudget.
/// Plain code: files as {path, text}; deployment.hpp writes them.

#include <string>
#include <vector>

#include "runtime/deployment.hpp"

namespace infermesh {

struct kubernetes_options {
  std::string image = "infermesh:latest";        ///< the nodes' image (holds the binary and the models)
  std::string nats_image = "nats:2.9.10-alpine";  ///< the NATS servers' image
  std::string kube_namespace = "default";         ///< in the routes' DNS names and each object's metadata
  std::string binary = "/usr/local/bin/infermesh";      ///< the binary in the image
  std::string files_dir = "/opt/infermesh/cluster-config";  ///< where the file's relative model paths resolve in the image
  std::string storage = "10Gi";                   ///< each NATS pod's JetStream volume
};

/// The port a node's health and metrics listen on in its pod (README "Health and metrics").
constexpr int kubernetes_node_http_port = 9464;
/// Seconds beyond a node's drain timeout (a server's lame-duck period) before the kubelet kills the pod.
constexpr int kubernetes_stop_margin_s = 15;

/// `nats.yaml` and `nodes.yaml`.
std::vector<rendered_file> render_kubernetes(const deployment_source& source, const kubernetes_options& options);

/// The nats-server config of the StatefulSet's pods (in `nats.yaml`'s ConfigMap, key `nats.conf`).
std::string kubernetes_nats_config(const deployment_source& source, const kubernetes_options& options);

/// `s` as a DNS-1123 label: lower case, anything but letters and digits turned to '-'.
std::string kubernetes_name(const std::string& s);

}  // namespace infermesh
