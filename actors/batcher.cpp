#include "actors/batcher.hpp"

#include <cstring>
#include <unordered_map>

namespace infermesh {
namespace {

using clock = std::chrono::steady_clock;

double ms_between(steady_time from, steady_time to) {
  return std::chrono::duration<double, std::milli>(to - from).count();
}

struct waiting {
  caf::typed_response_promise<item_result> promise;
  std::vector<float> tensor;  ///< kept until the request is answered: a failed batch comes back to the queue
  steady_time accepted{};
  std::int64_t priority = 0;
  steady_time deadline = steady_time::max();
  int attempts = 0;           ///< model deaths this request lived through
};

struct batcher_state {
  explicit batcher_state() : policy(batching_config{}) {}
  ~batcher_state() {  // one_for_all: the model actor goes with its batcher (batcher_supervisor.hpp)
    if (setup.model) caf::anon_send_exit(setup.model, caf::exit_reason::kill);
  }
  batcher_setup setup;
  batching_policy policy;
  std::unordered_map<std::uint64_t, waiting> ready;  // ticket -> preprocessed request in the policy's queue
  std::uint64_t next_ticket = 0;
  bool model_idle = true;
  std::optional<steady_time> timer_at;  // the earliest wake-up already scheduled
  std::uint64_t timer_generation = 0;   // stale wake-ups are ignored (CAF timers can't be cancelled)
  batcher_stats stats;
  bool model_up = true;                  // false from a model's death until its replacement has loaded
  restart_intensity intensity;
  std::optional<steady_time> died_at;
  std::uint64_t restart_generation = 0;  // stale back-off timers are ignored
  std::uint64_t loading_generation = 0;  // stale loading-grace timers are ignored
  bool gated_while_loading = false;      // on_health(false) because a replacement takes long to load
  static inline const char* name = "batcher";
};

using self_ptr = batcher_actor::stateful_pointer<batcher_state>;

void answer(waiting& w, item_result r) { w.promise.deliver(std::move(r)); }

void poll(self_ptr self);

/// Puts the requests of a failed batch back into the queue: alone when the batch had several (so a poison input
/// fails by itself), unless they are past their attempts.
void requeue(self_ptr self, std::vector<waiting>& members, bool model_died, const std::string& why) {
  auto& st = self->state;
  const bool alone = members.size() > 1;
  for (auto& w : members) {
    if (model_died) ++w.attempts;
    if (!alone && (!model_died || w.attempts >= st.setup.supervision.max_attempts)) {
      ++st.stats.failed;
      answer(w, item_result::failed(error_code::internal, why));
      continue;
    }
    ++st.stats.requeued;
    const auto ticket = st.next_ticket++;
    st.policy.requeue({ticket, w.priority, clock::now(), w.deadline, alone});
    st.ready.emplace(ticket, std::move(w));
  }
}

void run_batch(self_ptr self, const std::vector<std::uint64_t>& tickets) {
  auto& st = self->state;
  st.model_idle = false;
  const std::size_t item = st.setup.input.tensor_size();
  auto members = std::make_shared<std::vector<waiting>>();
  members->reserve(tickets.size());
  tensor_batch batch{tickets.size(), {3, st.setup.input.height, st.setup.input.width}, {}};
  batch.data.resize(tickets.size() * item);
  for (std::size_t i = 0; i < tickets.size(); ++i) {
    auto node = st.ready.extract(tickets[i]);
    std::memcpy(batch.data.data() + i * item, node.mapped().tensor.data(), item * sizeof(float));
    members->push_back(std::move(node.mapped()));
  }
  ++st.stats.batches;
  st.stats.batched_items += tickets.size();
  st.stats.max_batch = std::max<std::uint64_t>(st.stats.max_batch, tickets.size());
  const auto started = clock::now();
  const int size = static_cast<int>(tickets.size());
  const auto model = st.setup.model.address();
  self->request(st.setup.model, caf::infinite, run_atom::value, std::move(batch))
      .then(
          [=](batch_run_result& r) {
            self->state.model_idle = true;
            if (r.failure) {
              requeue(self, *members, false, r.failure->message);
              return poll(self);
            }
            for (std::size_t i = 0; i < members->size(); ++i) {
              auto& w = (*members)[i];
              item_result out{std::nullopt, {}, ms_between(w.accepted, started), r.compute_ms, size};
              const auto* row = r.scores.data.data() + i * r.scores.classes;
              out.scores.assign(row, row + r.scores.classes);
              answer(w, std::move(out));
            }
            poll(self);
          },
          [=](caf::error& e) {
            self->state.model_idle = true;
            if (self->state.setup.model.address() == model) self->state.model_up = false;  // its down message follows
            requeue(self, *members, true,
                    "model '" + self->state.setup.model_name + "' died " +
                        std::to_string(self->state.setup.supervision.max_attempts) +
                        " times while running this request (last: " + self->system().render(e) + ")");
            poll(self);
          });
}

/// The model is unhealthy: nothing queued can be served here soon.
void refuse_queue(self_ptr self) {
  auto& st = self->state;
  for (auto& [ticket, w] : st.ready)
    answer(w, item_result::failed(error_code::unavailable,
                                  "model '" + st.setup.model_name + "' is unhealthy (restarted too often)"));
  st.ready.clear();
  st.policy = batching_policy(st.setup.batching);
}

void spawn_replacement(self_ptr self) {
  auto& st = self->state;
  st.setup.model = st.setup.respawn();
  self->monitor(st.setup.model);
  self->request(st.setup.model, std::chrono::minutes(2), ping_atom::value)
      .then(
          [=](bool) {
            auto& s = self->state;
            s.model_up = true;
            ++s.stats.restarts;
            const double recovery = s.died_at ? ms_between(*s.died_at, clock::now()) : 0.0;
            s.stats.max_recovery_ms = std::max(s.stats.max_recovery_ms, recovery);
            s.died_at.reset();
            if (s.setup.on_restarted) s.setup.on_restarted(recovery);
            ++s.loading_generation;
            if (!s.stats.healthy || s.gated_while_loading) {
              s.stats.healthy = true;
              s.gated_while_loading = false;
              if (s.setup.on_health) s.setup.on_health(true);
            }
            poll(self);
          },
          [](caf::error&) {});  // it died while loading: the down handler counts it and tries again
}

/// The model actor died: count it, then restart after the back-off, or declare the model unhealthy.
void on_model_down(self_ptr self, const caf::down_msg& down) {
  auto& st = self->state;
  if (down.source != st.setup.model.address()) return;
  st.model_up = false;
  const auto now = clock::now();
  if (!st.died_at) st.died_at = now;
  if (!st.setup.respawn) return;
  self->delayed_send(self, st.setup.supervision.loading_grace, loading_atom::value, ++st.loading_generation);
  const auto next = st.intensity.on_death(now);
  if (next.exceeded && st.stats.healthy) {  // (then one try per period until a replacement loads)
    st.stats.healthy = false;
    refuse_queue(self);
    if (st.setup.on_health) st.setup.on_health(false);
  }
  self->delayed_send(self, next.delay, restart_atom::value, ++st.restart_generation);
}

void schedule_wake(self_ptr self, steady_time at) {
  auto& st = self->state;
  if (st.timer_at && *st.timer_at <= at) return;
  st.timer_at = at;
  const auto delay = std::max(at - clock::now(), clock::duration::zero());
  self->delayed_send(self, delay, wake_atom::value, ++st.timer_generation);
}

void poll(self_ptr self) {
  auto& st = self->state;
  auto d = st.policy.poll(clock::now(), st.model_idle && st.model_up);
  for (auto ticket : d.expired) {
    auto node = st.ready.extract(ticket);
    ++st.stats.expired;
    answer(node.mapped(), item_result::failed(error_code::deadline_exceeded,
                                              "deadline passed while queued for model '" + st.setup.model_name + "'"));
  }
  if (!d.batch.empty()) run_batch(self, d.batch);
  if (d.wake_at) schedule_wake(self, *d.wake_at);
}

batcher_actor::behavior_type batcher_behavior(self_ptr self, batcher_setup setup) {
  self->state.policy = batching_policy(setup.batching);
  self->state.setup = std::move(setup);
  self->state.intensity = restart_intensity(self->state.setup.supervision);
  self->monitor(self->state.setup.model);
  self->set_down_handler([=](caf::down_msg& down) { on_model_down(self, down); });
  return {
      [=](infer_atom, infer_job& job) -> caf::result<item_result> {
        auto& st = self->state;
        if (!st.stats.healthy)
          return item_result::failed(error_code::unavailable,
                                     "model '" + st.setup.model_name + "' is unhealthy (restarted too often)");
        if (!st.policy.try_reserve()) {
          ++st.stats.overloaded;
          return item_result::failed(error_code::overloaded,
                                     "queue of model '" + st.setup.model_name + "' is full (capacity " +
                                         std::to_string(st.setup.batching.queue_capacity) + ")");
        }
        ++st.stats.requests;
        auto promise = self->make_response_promise<item_result>();
        const auto ticket = st.next_ticket++;
        self->request(caf::actor_cast<preprocess_actor>(st.setup.preprocessors), caf::infinite, prep_atom::value,
                      job.image, st.setup.input, job.upright_rotation)
            .then(
                [=](preprocessed& p) mutable {
                  auto& s = self->state;
                  if (p.failure) {
                    s.policy.cancel_reservation();
                    ++s.stats.failed;
                    promise.deliver(item_result::failed(p.failure->code, std::move(p.failure->message)));
                  } else {
                    s.ready.emplace(ticket, waiting{promise, std::move(p.tensor), job.accepted, job.priority,
                                                    job.deadline, 0});
                    s.policy.push({ticket, job.priority, clock::now(), job.deadline});
                  }
                  poll(self);
                },
                [=](caf::error& e) mutable {
                  self->state.policy.cancel_reservation();
                  ++self->state.stats.failed;
                  promise.deliver(
                      item_result::failed(error_code::internal, "preprocessing failed: " + self->system().render(e)));
                  poll(self);
                });
        return promise;
      },
      [=](wake_atom, std::uint64_t generation) {
        if (generation != self->state.timer_generation) return;
        self->state.timer_at.reset();
        poll(self);
      },
      [=](stats_atom) { return self->state.stats; },
      [=](fault_atom, const std::string& action, std::int64_t value) {
        auto& st = self->state;
        if (action == "crash") self->send_exit(st.setup.model, caf::exit_reason::kill);
        else self->send(st.setup.model, fault_atom::value, action, value);
      },
      [=](restart_atom, std::uint64_t generation) {
        if (generation == self->state.restart_generation) spawn_replacement(self);
      },
      [=](loading_atom, std::uint64_t generation) {  // the replacement is still not serving after the grace
        auto& st = self->state;
        if (generation != st.loading_generation || st.model_up || !st.stats.healthy || st.gated_while_loading) return;
        st.gated_while_loading = true;
        if (st.setup.on_health) st.setup.on_health(false);
      },
  };
}

}  // namespace

batcher_actor spawn_batcher(caf::actor_system& sys, batcher_setup setup) {
  return sys.spawn(batcher_behavior, std::move(setup));
}

}  // namespace infermesh
