#pragma once
/// The model cache: node-wide coordination of the model slots (model_slot.hpp) under `max_loaded_models`.
/// A thin shell around model_cache_policy (the LRU choice, plain code): slots enlist, report each change of
/// their in-flight count (a request arrived: used now; busy while > 0), and ask `admit` before they load
/// on demand or by command. Admitting past the bound first asks the least recently used idle loaded slot to
/// `evict` itself (it refuses when requests came in meanwhile, or while it loads: the next one is asked); when
/// every loaded slot is busy or loading, the admission waits until one says (`used`) it is idle. Time is read from the actor system's clock.
///
/// Interface (model_cache_actor):
///   (enlist_atom, model, slot, loaded): a slot and whether it is loaded at start-up;
///   (used_atom, model, in_flight): a request arrived at or left `model`'s slot;
///   (admit_atom, model) -> bool: true once `model` may load (it then counts as loaded), false: dropped;
///   (unload_atom, model): `model` was released (unload command, failed load); its waiting admission, if any,
///       is dropped (answered `false`: the slot gave up on it).

#include <caf/all.hpp>

#include <cstddef>
#include <cstdint>
#include <string>

#include "actors/protocol.hpp"

namespace infermesh {

using enlist_atom = caf::atom_constant<caf::atom("enlist")>;
using used_atom = caf::atom_constant<caf::atom("used")>;
using admit_atom = caf::atom_constant<caf::atom("admit")>;
using evict_atom = caf::atom_constant<caf::atom("evict")>;
using unload_atom = caf::atom_constant<caf::atom("unload")>;

/// A slot's answer to `evict`: released, or why not.
enum class evict_answer : std::uint8_t {
  released,    ///< the model was released: it no longer counts as loaded
  busy,        ///< requests are in flight or waiting: it says (`used`, 0) when it is idle
  loading,     ///< a load or reload is under way: it says (`used`) when that ends, loaded or failed
  not_loaded,  ///< nothing loaded (unloaded meanwhile): it does not count as loaded
};

}  // namespace infermesh

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(infermesh::evict_answer)

namespace infermesh {

/// What the cache may ask a slot: release your model if nothing is in flight.
using evictable_actor = caf::typed_actor<caf::replies_to<evict_atom>::with<evict_answer>>;

using model_cache_actor = caf::typed_actor<caf::reacts_to<enlist_atom, std::string, evictable_actor, bool>,
                                           caf::reacts_to<used_atom, std::string, std::uint64_t>,
                                           caf::replies_to<admit_atom, std::string>::with<bool>,
                                           caf::reacts_to<unload_atom, std::string>>;

/// A cache keeping at most `max_loaded` models loaded (0: no bound).
model_cache_actor spawn_model_cache(caf::actor_system& sys, std::size_t max_loaded);

}  // namespace infermesh
