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
  std::vector<float> tensor;
  steady_time accepted{};
};

struct batcher_state {
  explicit batcher_state() : policy(batching_config{}) {}
  batcher_setup setup;
  batching_policy policy;
  std::unordered_map<std::uint64_t, waiting> ready;  // ticket -> preprocessed request in the policy's queue
  std::uint64_t next_ticket = 0;
  bool model_idle = true;
  std::optional<steady_time> timer_at;  // the earliest wake-up already scheduled
  std::uint64_t timer_generation = 0;   // stale wake-ups are ignored (CAF timers can't be cancelled)
  batcher_stats stats;
  static inline const char* name = "batcher";
};

using self_ptr = batcher_actor::stateful_pointer<batcher_state>;

void answer(waiting& w, item_result r) { w.promise.deliver(std::move(r)); }

void poll(self_ptr self);

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
    node.mapped().tensor = {};
    members->push_back(std::move(node.mapped()));
  }
  ++st.stats.batches;
  st.stats.batched_items += tickets.size();
  st.stats.max_batch = std::max<std::uint64_t>(st.stats.max_batch, tickets.size());
  const auto started = clock::now();
  const int size = static_cast<int>(tickets.size());
  self->request(st.setup.model, caf::infinite, run_atom::value, std::move(batch))
      .then(
          [=](batch_run_result& r) {
            self->state.model_idle = true;
            for (std::size_t i = 0; i < members->size(); ++i) {
              auto& w = (*members)[i];
              item_result out{r.failure, {}, ms_between(w.accepted, started), r.compute_ms, size};
              if (!r.failure) {
                const auto* row = r.scores.data.data() + i * r.scores.classes;
                out.scores.assign(row, row + r.scores.classes);
              } else {
                ++self->state.stats.failed;
              }
              answer(w, std::move(out));
            }
            poll(self);
          },
          [=](caf::error& e) {
            self->state.model_idle = true;
            const std::string why = "model '" + self->state.setup.model_name +
                                    "' failed: " + self->system().render(e);
            for (auto& w : *members) {
              auto failed = item_result::failed(error_code::internal, why);
              failed.batch_size = size;
              answer(w, std::move(failed));
            }
            self->state.stats.failed += members->size();
            poll(self);
          });
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
  auto d = st.policy.poll(clock::now(), st.model_idle);
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
  return {
      [=](infer_atom, infer_job& job) -> caf::result<item_result> {
        auto& st = self->state;
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
                    s.ready.emplace(ticket, waiting{promise, std::move(p.tensor), job.accepted});
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
  };
}

}  // namespace

batcher_actor spawn_batcher(caf::actor_system& sys, batcher_setup setup) {
  return sys.spawn(batcher_behavior, std::move(setup));
}

}  // namespace infermesh
