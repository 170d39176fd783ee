#include "actors/ocr_pool.hpp"

#include <algorithm>
#include <map>

#include "actors/batching_policy.hpp"
#include "actors/step_fan_in.hpp"
#include "actors/supervised_child.hpp"

namespace infermesh {
namespace {

struct worker_state {
  std::shared_ptr<ocr_engine> engine;
  static inline const char* name = "ocr_worker";
};

ocr_actor::behavior_type ocr_worker(ocr_actor::stateful_pointer<worker_state> self, std::shared_ptr<ocr_engine> engine,
                                    ocr_engine_factory make_engine) {
  if (!engine && make_engine) {  // a replacement: load the engine on this (detached) thread
    auto fresh = make_engine();
    if (!fresh) {
      self->quit(caf::make_error(caf::sec::runtime_error, fresh.err().message));
      return ocr_actor::behavior_type::make_empty_behavior();
    }
    engine = std::move(*fresh);
  }
  self->state.engine = std::move(engine);
  return {
      [=](ocr_atom, const shared_bytes& page, int known_rotation, bool auto_rotate, steady_time deadline) -> ocr_result {
        const auto started = std::chrono::steady_clock::now();
        auto read = self->state.engine->read(page, known_rotation, auto_rotate, deadline);
        const std::chrono::duration<double, std::milli> took = std::chrono::steady_clock::now() - started;
        if (!read) return {read.err(), {}, took.count()};
        return {std::nullopt, std::move(*read), took.count()};
      },
      [=](orient_atom, const shared_bytes& page, steady_time deadline) -> orient_result {
        auto rotation = self->state.engine->orientation(page, deadline);
        if (!rotation) return {rotation.err(), {}};
        return {std::nullopt, *rotation};
      },
      [=](ping_atom) { return true; },
  };
}

/// One step request in the pool: its pages are read (or oriented) in parallel (step_fan_in: answered once).
struct job {
  job(step_request r, caf::typed_response_promise<step_reply> promise, steady_time arrived)
      : req(std::move(r)), parts(std::move(promise), req.pages.size(), arrived) {}
  step_request req;
  step_fan_in parts;
};

struct task {
  std::shared_ptr<job> owner;
  std::size_t page = 0;
  int attempts = 0;  ///< worker deaths this page lived through
};

using pool_impl = step_actor::extend<caf::reacts_to<wake_atom, std::uint64_t>,
                                     caf::reacts_to<supervise_atom, std::uint64_t, std::uint64_t>>;

struct pool_state {
  ocr_pool_setup setup;
  std::vector<std::unique_ptr<supervised_child<ocr_actor>>> workers;  // stable addresses: handlers hold them
  std::vector<bool> busy;   // reading a page
  std::optional<batching_policy> queue;  // batches of one: priority, deadlines and the bound, per page
  std::map<std::uint64_t, task> tasks;
  std::uint64_t next_ticket = 0;
  std::optional<steady_time> wake_at;  // the earliest wake-up already scheduled
  std::uint64_t wake_generation = 0;   // stale wake-ups are ignored
  bool healthy = true;
  std::vector<caf::typed_response_promise<bool>> readiness;  // probes waiting for every engine to serve
  static inline const char* name = "ocr_pool";
};

using pool_ptr = pool_impl::stateful_pointer<pool_state>;

steady_time now(pool_ptr self) { return self->clock().now(); }

void dispatch(pool_ptr self);

/// No engine serves, nor will soon (each is unhealthy or stopped): pages would only wait for their deadline.
bool refusing(const pool_state& st) {
  return std::all_of(st.workers.begin(), st.workers.end(), [](const auto& w) {
    const auto s = w->life().state();
    return s == life_state::unhealthy || s == life_state::stopped;
  });
}

error refused(const pool_state& st) {
  return {error_code::unavailable, "no OCR engine of model '" + st.setup.model_name + "' is running (" +
                                       st.workers.front()->life().reason() + ")"};
}

/// The pool is healthy while every worker is; refusing, what waits is answered `unavailable`.
void update_health(pool_ptr self) {
  auto& st = self->state;
  const bool healthy = std::all_of(st.workers.begin(), st.workers.end(), [](const auto& w) { return w->healthy(); });
  if (refusing(st)) {
    for (auto& [ticket, t] : st.tasks) t.owner->parts.fail(refused(st));
    st.tasks.clear();
    st.queue.emplace(batching_config{1, std::chrono::microseconds(0), st.setup.queue_capacity});
  }
  if (healthy == st.healthy) return;
  st.healthy = healthy;
  if (st.setup.on_health) st.setup.on_health(healthy);
}

/// Ready (for its supervisor's probe) once every engine serves.
void answer_readiness(pool_ptr self) {
  auto& st = self->state;
  if (!std::all_of(st.workers.begin(), st.workers.end(), [](const auto& w) { return w->serving(); })) return;
  for (auto& p : st.readiness) p.deliver(true);
  st.readiness.clear();
}

void run_task(pool_ptr self, std::size_t w, task t) {
  auto& st = self->state;
  st.busy[w] = true;
  const auto& req = t.owner->req;
  t.owner->parts.started(now(self));
  auto done = [self, w] {
    self->state.busy[w] = false;
    dispatch(self);
  };
  const auto incarnation = st.workers[w]->life().incarnation();
  auto lost = [self, w, t, incarnation](caf::error& e) mutable {  // the worker died under the page: its lifecycle replaces it
    auto& st = self->state;
    st.busy[w] = false;
    st.workers[w]->mark_dying(incarnation);  // (its down message may come after this)
    if (refusing(st)) {
      t.owner->parts.fail(refused(st));
    } else if (++t.attempts >= st.setup.supervision.max_attempts || !st.setup.make_engine) {
      t.owner->parts.fail({error_code::internal, "OCR worker died reading this page: " + self->system().render(e)});
    } else if (!t.owner->parts.answered()) {
      const auto ticket = st.next_ticket++;
      st.queue->requeue({ticket, t.owner->req.priority, now(self), t.owner->req.deadline, false});
      st.tasks.emplace(ticket, std::move(t));
    }
    dispatch(self);
  };
  const auto& rotation = req.rotations.size() > t.page ? req.rotations[t.page] : std::nullopt;
  const auto& worker = st.workers[w]->child();
  if (req.step == step_kind::orient) {
    self->request(worker, caf::infinite, orient_atom::value, req.pages[t.page], req.deadline)
        .then(
            [self, t, done](orient_result& r) {
              if (r.failure) t.owner->parts.fail(std::move(*r.failure));
              else t.owner->parts.reply().rotations[t.page] = r.rotation;
              t.owner->parts.done(now(self));
              done();
            },
            lost);
    return;
  }
  self->request(worker, caf::infinite, ocr_atom::value, req.pages[t.page], rotation ? rotation->degrees : -1,
                req.auto_rotate, req.deadline)
      .then(
          [self, t, done](ocr_result& r) {
            if (r.failure) t.owner->parts.fail(std::move(*r.failure));
            else (*t.owner->parts.reply().text)[t.page] = std::move(r.page);
            t.owner->parts.done(now(self));
            done();
          },
          lost);
}

/// An idle worker that serves, if any.
std::optional<std::size_t> idle_worker(const pool_state& st) {
  for (std::size_t w = 0; w < st.workers.size(); ++w)
    if (!st.busy[w] && st.workers[w]->serving()) return w;
  return std::nullopt;
}

void dispatch(pool_ptr self) {
  auto& st = self->state;
  for (;;) {
    const auto w = idle_worker(st);
    const auto t_now = now(self);
    auto d = st.queue->poll(t_now, w.has_value());
    for (auto ticket : d.expired) {
      auto t = st.tasks.extract(ticket).mapped();
      t.owner->parts.fail({error_code::deadline_exceeded, "the deadline passed while the page waited for an OCR worker"});
    }
    if (d.batch.empty()) {
      if (d.wake_at && !(st.wake_at && *st.wake_at <= *d.wake_at)) {  // (an earlier one may replace a later one)
        st.wake_at = *d.wake_at;
        self->delayed_send(self,
                           std::chrono::duration_cast<std::chrono::microseconds>(*d.wake_at - t_now) +
                               std::chrono::microseconds(1),
                           wake_atom::value, ++st.wake_generation);
      }
      return;
    }
    auto t = st.tasks.extract(d.batch.front()).mapped();
    if (t.owner->parts.answered()) continue;  // another page of its request failed: skip the work
    run_task(self, *w, std::move(t));
  }
}

pool_impl::behavior_type pool_behavior(pool_ptr self, ocr_pool_setup setup, std::vector<std::shared_ptr<ocr_engine>> engines) {
  auto& st = self->state;
  st.setup = std::move(setup);
  st.queue.emplace(batching_config{1, std::chrono::microseconds(0), st.setup.queue_capacity});
  for (std::size_t w = 0; w < engines.size(); ++w) {
    auto make = st.setup.make_engine;
    typename supervised_child<ocr_actor>::setup child;
    child.what = "OCR engine " + std::to_string(w) + " of model '" + st.setup.model_name + "'";
    child.supervision = st.setup.supervision;
    if (make) child.respawn = [self, make] { return self->spawn<caf::detached>(ocr_worker, nullptr, make); };
    child.on_health = [self](bool) { update_health(self); };
    child.on_ready = [self](const lifecycle& life) {
      if (self->state.setup.on_worker_ready) self->state.setup.on_worker_ready(life);
      answer_readiness(self);
      dispatch(self);
    };
    if (st.setup.worker_hook) child.on_spawned = st.setup.worker_hook(w);
    st.workers.push_back(std::make_unique<supervised_child<ocr_actor>>());
    st.busy.push_back(false);
    st.workers.back()->start(self, std::move(child), self->spawn<caf::detached>(ocr_worker, std::move(engines[w]), make), w);
  }
  self->set_down_handler([=](caf::down_msg& down) {
    for (auto& w : self->state.workers)
      if (w->on_down(self, down)) return;
  });
  return {
      [=](step_atom, step_request& req) -> caf::result<step_reply> {
        auto& st = self->state;
        const std::size_t n = req.pages.size();
        if (n == 0) return step_reply::failed({error_code::bad_request, "no page to read"});
        if (refusing(st)) return step_reply::failed(refused(st));
        std::size_t reserved = 0;
        while (reserved < n && st.queue->try_reserve()) ++reserved;
        if (reserved < n) {
          for (; reserved > 0; --reserved) st.queue->cancel_reservation();
          return step_reply::failed({error_code::overloaded, "OCR model '" + st.setup.model_name + "' has " +
                                                                 std::to_string(st.queue->queued()) +
                                                                 " pages queued (queue_capacity " +
                                                                 std::to_string(st.setup.queue_capacity) + ")"});
        }
        auto promise = self->make_response_promise<step_reply>();
        const auto arrived = now(self);
        const auto step = req.step;
        auto j = std::make_shared<job>(std::move(req), promise, arrived);
        j->parts.reply().found_by(step, {st.setup.model_name, st.setup.model_version});
        if (step == step_kind::orient) j->parts.reply().rotations.resize(n);
        else j->parts.reply().text.emplace(n);
        for (std::size_t i = 0; i < n; ++i) {
          const auto ticket = st.next_ticket++;
          st.tasks.emplace(ticket, task{j, i});
          st.queue->push({ticket, j->req.priority, arrived, j->req.deadline});
        }
        dispatch(self);
        return promise;
      },
      [=](ping_atom) -> caf::result<bool> {  // ready once every engine serves
        auto& st = self->state;
        st.readiness.push_back(self->make_response_promise<bool>());
        auto p = st.readiness.back();
        answer_readiness(self);
        return p;
      },
      [=](wake_atom, std::uint64_t generation) {
        if (generation != self->state.wake_generation) return;
        self->state.wake_at.reset();
        dispatch(self);
      },
      [=](supervise_atom, std::uint64_t slot, std::uint64_t timer) {
        auto& st = self->state;
        if (slot < st.workers.size()) st.workers[slot]->on_timer(self, timer);
      },
  };
}

}  // namespace

step_actor spawn_ocr_pool(caf::actor_system& sys, ocr_pool_setup setup, std::vector<std::shared_ptr<ocr_engine>> engines) {
  return sys.spawn(pool_behavior, std::move(setup), std::move(engines));
}

}  // namespace infermesh
