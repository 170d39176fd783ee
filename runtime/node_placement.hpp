#pragma once
/// What a node serves, derived from its config alone: which local model serves each step, the ops it
/// subscribes to (with the models each needs), and its placement line for the start-up log.

#include <map>
#include <set>
#include <string>

#include "actors/interfaces.hpp"
#include "runtime/config.hpp"

namespace infermesh {

/// The router's name in health reports: past its restart intensity the node takes no op.
inline const std::string router_name = "router";

/// The local model serving each step (from the config: what the node hosts).
std::map<step_kind, std::string> local_models_of(const node_config& c);

/// The ops this node subscribes to, each with the local models its pipeline uses (and the router): those
/// whose pipeline has a step, other than `orient`, that a model here serves. (A node hosting only the
/// classifier takes classify and process, not ocr: it would only forward it.)
std::map<std::string, std::set<std::string>> ops_to_serve(const node_config& c);

/// "classify: orient classify; ocr: orient(remote) ocr; ..." for the start-up log.
std::string placement_of(const node_config& c, const std::map<step_kind, step_actor>& local);

}  // namespace infermesh
