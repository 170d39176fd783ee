#include "runtime/readiness.hpp"

namespace infermesh {
namespace {

/// Why `m` does not serve, "" when it does.
std::string model_problem(const model_readiness& m) {
  switch (m.phase) {
    case model_phase::loading: return "loading model '" + m.name + "'";
    case model_phase::unhealthy: return "model '" + m.name + "' is unhealthy";
    case model_phase::unloaded: return "model '" + m.name + "' is unloaded";
    case model_phase::on_demand: return "model '" + m.name + "' is not loaded (loads on demand)";
    case model_phase::serving: return "";
  }
  return "";
}

/// Whether `m` keeps the node from being ready: loading on demand does not (the node serves it by loading it).
bool blocks_node(const model_readiness& m) { return m.phase != model_phase::serving && m.phase != model_phase::on_demand; }

readiness_verdict verdict_of(const std::vector<std::string>& problems) {
  if (problems.empty()) return {200, "ready"};
  std::string reason;
  for (const auto& p : problems) reason += (reason.empty() ? "" : "; ") + p;
  return {503, reason};
}

}  // namespace

readiness_verdict node_readiness(const readiness_inputs& in) {
  std::vector<std::string> problems;
  if (in.draining) problems.push_back("draining");
  if (!in.connected) problems.push_back("not connected to NATS");
  for (const auto& m : in.models)
    if (blocks_node(m)) problems.push_back(model_problem(m));
  if (!in.router_healthy) problems.push_back("the router is unhealthy");
  // Only worth saying when nothing above explains it: during start-up the ops are subscribed last.
  if (!in.subscribed && problems.empty()) problems.push_back("not subscribed to its ops yet");
  return verdict_of(problems);
}

readiness_verdict model_readiness_of(const readiness_inputs& in, const std::string& name) {
  for (const auto& m : in.models)
    if (m.name == name) return verdict_of(m.phase == model_phase::serving ? std::vector<std::string>{}
                                                                         : std::vector<std::string>{model_problem(m)});
  return {404, "no model named '" + name + "' on this node"};
}

}  // namespace infermesh
