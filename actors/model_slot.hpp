#pragma once
/// The model slot: the stable front of one batched model (TorchScript, synthetic) that the router keeps as
/// its local step, so a model can be reloaded, unloaded and loaded again while the node runs.
///
/// Behind it runs at most one current *group* (the model's batcher group and step actor, as
/// runtime/batched_model_part.cpp builds them) plus groups being retired. It forwards each step request to
/// the current group and counts what is in flight per group. A reload builds the new group (off the
/// slot's thread: a detached helper loads and warms the model), waits until its step actor and batcher
/// answer their readiness `ping`, then sends new requests there; the old group finishes what it holds and
/// is released (exited) when its in-flight count reaches zero. A load that fails leaves the old group
/// serving and answers the command with the error. Replies carry the version their step actor was built
/// with, so they switch version with the group.
///
/// States: serving (a current group), loading (a build under way, none current: requests wait here, up to
/// `queue_capacity`), unloaded (by command: requests are answered `unavailable`, health says not serving),
/// evicted (released by the model cache, `max_loaded_models`: the next request loads it again).
///
/// Interface (model_slot_actor): step_actor (step, ping: true once a group serves) and batcher_actor (its
/// current batcher's infer and stats), plus
///   (reload_atom, slot_source) -> slot_answer: load `source`'s group beside the current one and switch;
///   (unload_atom) -> slot_answer; (load_atom) -> slot_answer: answered once serving (or failed);
///   (status_atom) -> slot_status; (evict_atom) -> evict_answer (the model cache, model_cache.hpp).
/// Time (last used) is read from the actor system's clock (CAF's virtual clock in tests).

#include <caf/all.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "actors/interfaces.hpp"
#include "actors/model_cache.hpp"

namespace infermesh {

/// One generation of a model's actors: what a slot forwards to and releases.
struct slot_group {
  step_actor step;                  ///< the step actor's supervisor: the requests go here
  batcher_actor batcher;            ///< the batcher's supervisor: readiness and stats
  std::vector<caf::actor> actors;   ///< exited when the group is released
  std::function<void()> on_release; ///< called when released (the node forgets its health reports)
};

/// Builds a group of generation `generation` (loads and warms the model): may block, so it runs on a detached
/// helper's thread, never on the slot's.
using group_builder = std::function<outcome<slot_group>(std::uint64_t generation)>;

/// What a slot loads: the model's version (as replies will carry it) and how to build its group.
struct slot_source {
  std::string version;
  group_builder build;
};

/// Where a slot is, as it publishes it after every change (`model_slot_setup::on_state`: readiness, health).
enum class slot_phase {
  serving,    ///< a group serves (a reload may be under way)
  loading,    ///< no group yet, one loads (on demand or by `load`): requests wait
  unloaded,   ///< by command: requests are answered `unavailable`
  evicted,    ///< released by the model cache, or never loaded (max_loaded_models): loads on demand
};

/// A slot's figures (`infermesh model list`, `$SRV.STATS`).
struct slot_status {
  std::string name;
  std::string version;            ///< of the current group (or the one that loads next)
  std::string state;              ///< serving, reloading, loading, unloaded, evicted
  std::string reason;             ///< the last failed load, "" when none
  bool loaded = false;
  std::uint64_t loads = 0;        ///< groups that reached serving (the first one too)
  std::uint64_t evictions = 0;    ///< released by the model cache
  std::uint64_t in_flight = 0;    ///< step requests not answered yet, all groups
  double last_used_s = -1;        ///< seconds since the last request arrived; -1: none yet
};

/// A command's answer: the slot's status afterwards, or why the command failed.
struct slot_answer {
  std::optional<error> failure;
  slot_status status;
};

/// An internal message: the helper built (or failed to build) generation `generation`.
struct slot_build {
  std::optional<slot_group> group;
  std::optional<error> failure;
  double seconds = 0;  ///< how long the build took (load and warm-up)
};

}  // namespace infermesh

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(infermesh::slot_source)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(infermesh::slot_status)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(infermesh::slot_answer)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(infermesh::slot_build)

namespace infermesh {

using reload_atom = caf::atom_constant<caf::atom("reload")>;
using load_atom = caf::atom_constant<caf::atom("load")>;
using built_atom = caf::atom_constant<caf::atom("built")>;

using model_slot_actor = caf::typed_actor<caf::replies_to<step_atom, step_request>::with<step_reply>,
                                          caf::replies_to<ping_atom>::with<bool>,
                                          caf::replies_to<infer_atom, infer_job>::with<item_result>,
                                          caf::replies_to<stats_atom>::with<batcher_stats>,
                                          caf::replies_to<reload_atom, slot_source>::with<slot_answer>,
                                          caf::replies_to<unload_atom>::with<slot_answer>,
                                          caf::replies_to<load_atom>::with<slot_answer>,
                                          caf::replies_to<status_atom>::with<slot_status>,
                                          caf::replies_to<evict_atom>::with<evict_answer>>;

struct model_slot_setup {
  std::string model_name;
  slot_source source;                    ///< what loads (at start-up, on demand, on `load`)
  std::optional<slot_group> first;       ///< the group as started (loaded); none: starts evicted (or unloaded)
  bool start_unloaded = false;           ///< without `first`: unloaded (true) or evicted, loading on demand
  std::size_t queue_capacity = 256;      ///< requests waiting here while a model loads; more: `overloaded`
  std::chrono::milliseconds ready_timeout{120000};  ///< a built group that is not ready by then is released
  std::optional<model_cache_actor> cache;  ///< `max_loaded_models`: asked before loading, told what is used
  /// How long a load waits for the cache's admission (room under `max_loaded_models`); then it fails and the
  /// requests waiting for it are answered `unavailable`.
  std::chrono::milliseconds admit_timeout{120000};
  /// Called with the slot's phase at start and after every change (the node's health gate and readiness).
  std::function<void(slot_phase)> on_state;
  /// A group was loaded and serves: the model and how long its build took (metrics: model loads).
  std::function<void(const std::string& model, double seconds)> on_model_load;
  std::function<void(const std::string& line)> log;  ///< a lifecycle event worth a log line (may be empty)
  bool build_detached = true;            ///< false (virtual-time tests): the helper is a scheduled actor
};

model_slot_actor spawn_model_slot(caf::actor_system& sys, model_slot_setup setup);

}  // namespace infermesh
