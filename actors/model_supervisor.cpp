#include "actors/model_supervisor.hpp"

#include <deque>

#include "actors/supervised_child.hpp"

namespace infermesh {
namespace {

using supervisor_impl = supervised_model_actor::extend<caf::reacts_to<supervise_atom, std::uint64_t, std::uint64_t>>;

struct held_batch {
  tensor_batch batch;
  caf::typed_response_promise<batch_run_result> promise;
};

struct supervisor_state {
  std::string model_name;
  supervised_child<model_actor> model;
  std::deque<held_batch> held;  // arrived while no model served
  static inline const char* name = "model-supervisor";
};

using self_ptr = supervisor_impl::stateful_pointer<supervisor_state>;

batch_run_result refused(self_ptr self) {
  const auto& life = self->state.model.life();
  return {error{error_code::unavailable, "model '" + self->state.model_name + "' is " +
                                             std::string(state_name(life.state())) + ": " + life.reason()},
          {}, 0, false};
}

/// Not serving now, and not coming back soon: unhealthy or stopped.
bool refusing(self_ptr self) {
  const auto s = self->state.model.life().state();
  return s == life_state::unhealthy || s == life_state::stopped;
}

void run(self_ptr self, tensor_batch batch, caf::typed_response_promise<batch_run_result> promise) {
  const auto name = self->state.model_name;
  const auto incarnation = self->state.model.life().incarnation();
  self->request(self->state.model.child(), caf::infinite, run_atom::value, std::move(batch))
      .then([promise](batch_run_result& r) mutable { promise.deliver(std::move(r)); },
            [self, promise, name, incarnation](caf::error& e) mutable {
              self->state.model.mark_dying(incarnation);  // (its down message may come after this)
              promise.deliver(batch_run_result{
                  error{error_code::internal, "model '" + name + "' died running this batch: " + self->system().render(e)},
                  {}, 0, true});
            });
}

/// Held batches go to the model once it serves, or are refused once it is not coming back soon.
void settle(self_ptr self) {
  auto& st = self->state;
  while (!st.held.empty() && (st.model.serving() || refusing(self))) {
    auto h = std::move(st.held.front());
    st.held.pop_front();
    if (st.model.serving()) run(self, std::move(h.batch), std::move(h.promise));
    else h.promise.deliver(refused(self));
  }
}

supervisor_impl::behavior_type supervisor_behavior(self_ptr self, model_supervisor_setup setup) {
  auto& st = self->state;
  st.model_name = setup.model_name;
  auto on_health = setup.on_health;
  auto on_ready = setup.on_ready;
  st.model.start(self,
                 {"model '" + setup.model_name + "'", setup.supervision, setup.respawn,
                  [=](bool healthy) {
                    if (on_health) on_health(healthy);
                    settle(self);
                  },
                  [=](const lifecycle& life) {
                    if (on_ready) on_ready(life);
                    settle(self);
                  },
                  setup.on_spawned},
                 setup.first);
  self->set_down_handler([=](caf::down_msg& down) {
    if (self->state.model.on_down(self, down)) settle(self);
  });
  return {
      [=](run_atom, tensor_batch& batch) -> caf::result<batch_run_result> {
        auto& st = self->state;
        if (refusing(self)) return refused(self);
        auto promise = self->make_response_promise<batch_run_result>();
        if (st.model.serving()) run(self, std::move(batch), promise);
        else st.held.push_back({std::move(batch), promise});
        return promise;
      },
      [=](ping_atom) { return true; },
      [=](status_atom) {
        const auto& life = self->state.model.life();
        return child_status{life.state(), life.reason(), life.healthy(), life.restarts(), life.max_recovery_ms()};
      },
      [=](supervise_atom, std::uint64_t, std::uint64_t timer) {
        self->state.model.on_timer(self, timer);
        settle(self);
      },
  };
}

}  // namespace

supervised_model_actor spawn_model_supervisor(caf::actor_system& sys, model_supervisor_setup setup) {
  return sys.spawn(supervisor_behavior, std::move(setup));
}

}  // namespace infermesh
