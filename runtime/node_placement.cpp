#include "runtime/node_placement.hpp"

namespace infermesh {

std::map<step_kind, std::string> local_models_of(const node_config& c) {
  std::map<step_kind, std::string> out;
  for (const auto& hosted : c.models)
    for (const auto& step : hosted.model.serves) out[*parse_step(step)] = hosted.model.name;
  return out;
}

std::map<std::string, std::set<std::string>> ops_to_serve(const node_config& c) {
  const auto local_models = local_models_of(c);
  std::map<std::string, std::set<std::string>> ops;
  for (const auto& [op, steps] : c.pipelines) {
    bool takes = false;
    std::set<std::string> models;
    for (auto step : steps) {
      auto found = local_models.find(step);
      if (found == local_models.end()) continue;
      models.insert(found->second);
      takes = takes || step != step_kind::orient;
    }
    models.insert(router_name);  // every op needs the router too
    if (takes) ops[op] = std::move(models);
  }
  return ops;
}

std::string placement_of(const node_config& c, const std::map<step_kind, step_actor>& local) {
  std::string placement;
  for (const auto& [op, steps] : c.pipelines) {
    placement += (placement.empty() ? "" : "; ") + op + ":";
    for (auto step : steps)
      placement += std::string(" ") + std::string(step_name(step)) +
                   (step == step_kind::extract || local.count(step) ? "" : "(remote)");
  }
  return placement;
}

}  // namespace infermesh
