#include "actors/batcher.hpp"

#include <cstring>
#include <unordered_map>

namespace infermesh {
namespace {

double ms_between(steady_time from, steady_time to) {
  return std::chrono::duration<double, std::milli>(to - from).count();
}

struct waiting {
  caf::typed_response_promise<item_result> promise;
  std::vector<float> tensor;  ///< kept until the request is answered: a failed batch comes back to the queue
  steady_time arrived{};      ///< when the job reached this batcher: its queue wait counts from here
  std::int64_t priority = 0;
  steady_time deadline = steady_time::max();
  int attempts = 0;           ///< model deaths this request lived through
};

/// The batcher's full type: its interface and its own wake-up timer.
using batcher_impl = batcher_actor::extend<caf::reacts_to<wake_atom, std::uint64_t>>;

struct batcher_state {
  batcher_state() : policy(batching_config{}) {}
  ~batcher_state() {  // one_for_all: the model goes with its batcher (batcher_supervisor.hpp)
    if (setup.model) caf::anon_send_exit(setup.model, caf::exit_reason::user_shutdown);
  }
  batcher_setup setup;
  batching_policy policy;
  std::unordered_map<std::uint64_t, waiting> ready;  // ticket -> preprocessed request in the policy's queue
  std::uint64_t next_ticket = 0;
  bool model_idle = true;
  std::uint64_t in_batch = 0;           // requests in the batch running now
  std::optional<steady_time> timer_at;  // the earliest wake-up already scheduled
  std::uint64_t timer_generation = 0;   // stale wake-ups are ignored (CAF timers can't be cancelled)
  batcher_stats stats;
  static inline const char* name = "batcher";
};

using self_ptr = batcher_impl::stateful_pointer<batcher_state>;

/// The counters with the queue depth as of now (the model's lifecycle not filled in).
batcher_stats counters_of(const batcher_state& st) {
  auto out = st.stats;
  out.queued = st.policy.queued() + st.policy.reserved();
  out.in_batch = st.in_batch;
  return out;
}

steady_time now(self_ptr self) { return self->clock().now(); }

void poll(self_ptr self);

/// The requests of a failed batch: answered, or back in the queue to run alone. A model that is unhealthy
/// answers them all `unavailable`. A request whose model died under it runs again, alone, until its
/// `max_attempts`-th death (alone: a poison input that kills its model cannot take others' attempts with it).
/// A batch of several that failed comes back split, each request alone, so one poison input fails by itself;
/// a request that failed alone is answered.
void requeue(self_ptr self, std::vector<waiting>& members, const batch_run_result& r) {
  auto& st = self->state;
  const bool split = members.size() > 1;
  for (auto& w : members) {
    if (r.model_died) ++w.attempts;
    const bool unavailable = r.failure->code == error_code::unavailable && !r.model_died;
    const bool out_of_attempts = r.model_died && w.attempts >= st.setup.max_attempts;
    if (unavailable || out_of_attempts || (!split && !r.model_died)) {
      ++st.stats.failed;
      auto message = r.failure->message;
      if (out_of_attempts) message += " (a death under this request " + std::to_string(w.attempts) + " times)";
      w.promise.deliver(item_result::failed(r.failure->code, std::move(message)));
      continue;
    }
    ++st.stats.requeued;
    const auto ticket = st.next_ticket++;
    st.policy.requeue({ticket, w.priority, now(self), w.deadline, true});
    st.ready.emplace(ticket, std::move(w));
  }
}

void run_batch(self_ptr self, const std::vector<std::uint64_t>& tickets) {
  auto& st = self->state;
  st.model_idle = false;
  st.in_batch = tickets.size();
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
  const auto started = now(self);
  const int size = static_cast<int>(tickets.size());
  // No timeout: the model supervisor answers every batch (a death is an answer too).
  self->request(st.setup.model, caf::infinite, run_atom::value, std::move(batch))
      .then([=](batch_run_result& r) {
        self->state.model_idle = true;
        self->state.in_batch = 0;
        if (r.failure) {
          requeue(self, *members, r);
          return poll(self);
        }
        const auto finished = now(self);
        for (std::size_t i = 0; i < members->size(); ++i) {
          auto& w = (*members)[i];
          item_result out{std::nullopt, {}, ms_between(w.arrived, started), r.compute_ms, size, started, finished};
          const auto* row = r.scores.data.data() + i * r.scores.classes;
          out.scores.assign(row, row + r.scores.classes);
          w.promise.deliver(std::move(out));
        }
        if (const auto& told = self->state.setup.on_batch) {
          batch_timing t{members->size(), r.compute_ms / 1000.0, {}};
          for (const auto& w : *members) t.queue_waits_s.push_back(ms_between(w.arrived, started) / 1000.0);
          told(t);
        }
        poll(self);
      },
      [=](caf::error& e) {  // the model supervisor itself is gone: the group is stopping (linked)
        self->state.model_idle = true;
        self->state.in_batch = 0;
        batch_run_result r;
        r.failure = error{error_code::unavailable, "model '" + self->state.setup.model_name + "' is gone: " + self->system().render(e)};
        requeue(self, *members, r);
      });
}

void schedule_wake(self_ptr self, steady_time at) {
  auto& st = self->state;
  if (st.timer_at && *st.timer_at <= at) return;
  st.timer_at = at;
  const auto delay = std::max(at - now(self), steady_time::duration::zero());
  self->delayed_send(self, delay, wake_atom::value, ++st.timer_generation);
}

void poll(self_ptr self) {
  auto& st = self->state;
  auto d = st.policy.poll(now(self), st.model_idle);
  for (auto ticket : d.expired) {
    auto node = st.ready.extract(ticket);
    ++st.stats.expired;
    node.mapped().promise.deliver(item_result::failed(
        error_code::deadline_exceeded, "deadline passed while queued for model '" + st.setup.model_name + "'"));
  }
  if (!d.batch.empty()) run_batch(self, d.batch);
  if (d.wake_at) schedule_wake(self, *d.wake_at);
}

/// A job is admitted: its image goes to a preprocessing worker, its tensor then joins the policy's queue.
caf::result<item_result> admit(self_ptr self, infer_job& job) {
  auto& st = self->state;
  if (!st.policy.try_reserve()) {
    ++st.stats.overloaded;
    return item_result::failed(error_code::overloaded, "queue of model '" + st.setup.model_name + "' is full (capacity " +
                                                           std::to_string(st.setup.batching.queue_capacity) + ")");
  }
  ++st.stats.requests;
  auto promise = self->make_response_promise<item_result>();
  const auto ticket = st.next_ticket++;
  const auto arrived = now(self);
  // Asked with the request's remaining time: a worker stuck on a hostile file cannot hold this request past
  // its deadline (the pool answers it then too, preprocessor.hpp).
  const auto left = job.deadline == steady_time::max()
                        ? caf::duration{caf::infinite}
                        : caf::duration{std::max(std::chrono::duration_cast<std::chrono::microseconds>(job.deadline - arrived),
                                                 std::chrono::microseconds(1))};
  self->request(st.setup.preprocessors, left, prep_atom::value, job.image, st.setup.input, job.upright_rotation,
                job.deadline)
      .then(
          [=](preprocessed& p) mutable {
            auto& s = self->state;
            if (p.failure) {
              s.policy.cancel_reservation();
              ++s.stats.failed;
              promise.deliver(item_result::failed(p.failure->code, std::move(p.failure->message)));
            } else {
              s.ready.emplace(ticket, waiting{promise, std::move(p.tensor), arrived, job.priority, job.deadline, 0});
              s.policy.push({ticket, job.priority, now(self), job.deadline});
            }
            poll(self);
          },
          [=](caf::error& e) mutable {
            self->state.policy.cancel_reservation();
            if (e == caf::sec::request_timeout) {
              ++self->state.stats.expired;
              promise.deliver(item_result::failed(error_code::deadline_exceeded,
                                                  "the deadline passed while the image was preprocessed"));
            } else {
              ++self->state.stats.failed;
              promise.deliver(item_result::failed(error_code::internal, "preprocessing failed: " + self->system().render(e)));
            }
            poll(self);
          });
  return promise;
}

batcher_impl::behavior_type batcher_behavior(self_ptr self, batcher_setup setup) {
  self->state.policy = batching_policy(setup.batching);
  self->state.setup = std::move(setup);
  // one_for_all: if its model supervisor dies (it should not: it only restarts the model actor), the batcher
  // dies too, and the batcher supervisor restarts the whole group.
  self->link_to(self->state.setup.model);
  return {
      [=](infer_atom, infer_job& job) { return admit(self, job); },
      [=](stats_atom) -> caf::result<batcher_stats> {  // its counters, and its model's lifecycle
        auto promise = self->make_response_promise<batcher_stats>();
        self->request(self->state.setup.model, std::chrono::seconds(5), status_atom::value)
            .then([=](child_status& s) mutable {
                    auto out = counters_of(self->state);
                    out.model = std::move(s);
                    promise.deliver(std::move(out));
                  },
                  [=](caf::error&) mutable { promise.deliver(counters_of(self->state)); });
        return promise;
      },
      [=](ping_atom a) {  // ready once its model serves
        return self->delegate(self->state.setup.model, a);
      },
      [=](wake_atom, std::uint64_t generation) {
        if (generation != self->state.timer_generation) return;
        self->state.timer_at.reset();
        poll(self);
      },
  };
}

}  // namespace

batcher_actor spawn_batcher(caf::actor_system& sys, batcher_setup setup) {
  return sys.spawn(batcher_behavior, std::move(setup));
}

}  // namespace infermesh
