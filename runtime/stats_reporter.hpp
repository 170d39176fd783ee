#pragma once
/// Logs each batcher's and the router's counters every `interval` (e.g. "model 'x': 640 requests in 97
/// batches, mean batch 6.6, max 8, 0 overloaded, 0 expired, 0 failed").

#include <string>
#include <utility>
#include <vector>

#include "actors/interfaces.hpp"

namespace infermesh {

using named_batchers = std::vector<std::pair<std::string, batcher_actor>>;

/// An actor that calls log_stats every `interval` (never when `interval` is 0).
caf::actor spawn_stats_reporter(caf::actor_system& sys, std::chrono::milliseconds interval, named_batchers batchers,
                                router_actor router);

/// Asks every batcher and the router for their counters and logs them (blocking; not from inside an actor).
void log_stats(caf::actor_system& sys, const named_batchers& batchers, const router_actor& router);

}  // namespace infermesh
