#include "actors/model_cache.hpp"

#include <deque>
#include <map>

#include "actors/model_cache_policy.hpp"

namespace infermesh {
namespace {

struct cache_state {
  model_cache_policy policy;
  std::map<std::string, evictable_actor> slots;
  struct waiting {
    std::string model;
    caf::typed_response_promise<bool> promise;
  };
  std::deque<waiting> admissions;  // in arrival order; the first is the one being served
  bool asking = false;             // an evict request is out: one at a time keeps the count exact
  static inline const char* name = "model-cache";
};

using cache_pointer = model_cache_actor::stateful_pointer<cache_state>;

/// Serves the admissions that can be served now, in order: room, or a victim that agrees to go.
void admit_waiting(cache_pointer self) {
  auto& s = self->state;
  while (!s.asking && !s.admissions.empty()) {
    auto& first = s.admissions.front();
    if (s.policy.is_loaded(first.model) || s.policy.has_room()) {
      s.policy.loaded(first.model, self->clock().now());
      first.promise.deliver(true);
      s.admissions.pop_front();
      continue;
    }
    auto victim = s.policy.victim(first.model);
    if (!victim) return;  // every loaded one is busy: wait for a `used` that says one is idle
    auto found = s.slots.find(*victim);
    if (found == s.slots.end()) {
      s.policy.unloaded(*victim);
      continue;
    }
    s.asking = true;
    self->request(found->second, caf::infinite, evict_atom::value)
        .then(
            [=, name = *victim](evict_answer answer) {
              auto& p = self->state.policy;
              self->state.asking = false;
              switch (answer) {
                case evict_answer::released:
                case evict_answer::not_loaded: p.unloaded(name); break;
                case evict_answer::busy: p.set_busy(name, true); break;  // requests came in: it says when it is idle
                case evict_answer::loading: p.set_loading(name, true); break;  // it says when the load ends
              }
              admit_waiting(self);
            },
            [=, name = *victim](caf::error&) {  // the slot is gone (shutdown): it holds nothing
              self->state.asking = false;
              self->state.policy.unloaded(name);
              admit_waiting(self);
            });
    return;
  }
}

model_cache_actor::behavior_type cache_behavior(cache_pointer self, std::size_t max_loaded) {
  self->state.policy = model_cache_policy(max_loaded);
  return {
      [=](enlist_atom, const std::string& model, evictable_actor slot, bool loaded) {
        self->state.slots[model] = std::move(slot);
        self->state.policy.add(model, loaded, self->clock().now());
      },
      [=](used_atom, const std::string& model, std::uint64_t in_flight) {
        auto& p = self->state.policy;
        if (in_flight > 0) p.used(model, self->clock().now());
        p.set_busy(model, in_flight > 0);
        p.set_loading(model, false);  // a slot reports after each load or reload, loaded or failed
        if (in_flight == 0) admit_waiting(self);
      },
      [=](admit_atom, const std::string& model) -> caf::result<bool> {
        auto promise = self->make_response_promise<bool>();
        self->state.admissions.push_back({model, promise});
        admit_waiting(self);
        return promise;
      },
      [=](unload_atom, const std::string& model) {
        auto& waiting = self->state.admissions;
        // A slot that gave up waiting (its admission timed out) says unload: its admission must not load it later.
        for (auto it = waiting.begin(); it != waiting.end();) {
          if (it->model == model) {
            it->promise.deliver(false);
            it = waiting.erase(it);
          } else {
            ++it;
          }
        }
        self->state.policy.unloaded(model);
        admit_waiting(self);
      },
  };
}

}  // namespace

model_cache_actor spawn_model_cache(caf::actor_system& sys, std::size_t max_loaded) {
  return sys.spawn(cache_behavior, max_loaded);
}

}  // namespace infermesh
