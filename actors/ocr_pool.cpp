#include "actors/ocr_pool.hpp"

#include <algorithm>
#include <map>

#include "actors/batching_policy.hpp"

namespace infermesh {
namespace {

using clock = std::chrono::steady_clock;

struct worker_state {
  std::shared_ptr<tesseract_ocr> engine;
  static inline const char* name = "ocr_worker";
};

ocr_actor::behavior_type ocr_worker(ocr_actor::stateful_pointer<worker_state> self,
                                    std::shared_ptr<tesseract_ocr> engine,
                                    std::function<outcome<std::unique_ptr<tesseract_ocr>>()> make_engine) {
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
      [=](ocr_atom, const shared_bytes& page, int known_rotation, bool auto_rotate) -> ocr_result {
        const auto started = clock::now();
        auto read = self->state.engine->read(page, known_rotation, auto_rotate);
        const std::chrono::duration<double, std::milli> took = clock::now() - started;
        if (!read) return {read.err(), {}, took.count()};
        return {std::nullopt, std::move(*read), took.count()};
      },
      [=](orient_atom, const shared_bytes& page) -> orient_result {
        auto rotation = self->state.engine->orientation(page);
        if (!rotation) return {rotation.err(), {}};
        return {std::nullopt, *rotation};
      },
  };
}

/// One step request in the pool: its pages are read (or oriented) in parallel, answered once when all are done.
struct job {
  step_request req;
  caf::typed_response_promise<step_reply> promise;
  step_reply reply;
  std::size_t left = 0;
  bool answered = false;

  void fail(error e) {
    if (answered) return;
    answered = true;
    promise.deliver(step_reply::failed(std::move(e)));
  }
  void page_done() {
    if (--left == 0 && !answered) {
      answered = true;
      promise.deliver(std::move(reply));
    }
  }
};

struct task {
  std::shared_ptr<job> owner;
  std::size_t page = 0;
  int attempts = 0;  ///< worker deaths this page lived through
};

struct pool_state {
  ~pool_state() {  // the workers go with their pool (step_supervisor restarts them together)
    for (auto& w : workers)
      if (w) caf::anon_send_exit(w, caf::exit_reason::user_shutdown);
  }
  ocr_pool_setup setup;
  std::vector<ocr_actor> workers;
  std::vector<bool> busy;   // reading a page, or down (being replaced)
  std::optional<batching_policy> queue;  // batches of one: priority, deadlines and the bound, per page
  std::map<std::uint64_t, task> tasks;
  std::uint64_t next_ticket = 0;
  bool wake_pending = false;
  static inline const char* name = "ocr_pool";
};

using pool_ptr = caf::stateful_actor<pool_state>*;

void dispatch(pool_ptr self);

void run_task(pool_ptr self, std::size_t w, task t) {
  auto& st = self->state;
  st.busy[w] = true;
  const auto& req = t.owner->req;
  auto done = [self, w] {
    self->state.busy[w] = false;
    dispatch(self);
  };
  auto lost = [self, t](caf::error& e) mutable {  // the worker died under the page: the down handler replaces it
    auto& st = self->state;
    if (++t.attempts >= st.setup.max_attempts || !st.setup.make_engine) {
      t.owner->fail({error_code::internal, "OCR worker died reading this page: " + self->system().render(e)});
    } else if (!t.owner->answered) {
      const auto ticket = st.next_ticket++;
      st.queue->requeue({ticket, t.owner->req.priority, clock::now(), t.owner->req.deadline, false});
      st.tasks.emplace(ticket, std::move(t));
    }
    dispatch(self);
  };
  const auto& rotation = req.rotations.size() > t.page ? req.rotations[t.page] : std::nullopt;
  if (req.step == step_kind::orient) {
    self->request(st.workers[w], caf::infinite, orient_atom::value, req.pages[t.page])
        .then(
            [t, done](orient_result& r) {
              if (r.failure) t.owner->fail(std::move(*r.failure));
              else t.owner->reply.rotations[t.page] = r.rotation;
              t.owner->page_done();
              done();
            },
            lost);
    return;
  }
  self->request(st.workers[w], caf::infinite, ocr_atom::value, req.pages[t.page], rotation ? rotation->degrees : -1,
                req.auto_rotate)
      .then(
          [t, done](ocr_result& r) {
            auto& rep = t.owner->reply;
            if (r.failure) t.owner->fail(std::move(*r.failure));
            else (*rep.text)[t.page] = std::move(r.page);
            rep.compute_ms += r.compute_ms;
            t.owner->page_done();
            done();
          },
          lost);
}

void dispatch(pool_ptr self) {
  auto& st = self->state;
  for (;;) {
    const auto idle = std::find(st.busy.begin(), st.busy.end(), false);
    if (idle == st.busy.end()) return;
    const auto now = clock::now();
    auto d = st.queue->poll(now, true);
    for (auto ticket : d.expired) {
      auto t = st.tasks.extract(ticket).mapped();
      t.owner->fail({error_code::deadline_exceeded, "the deadline passed while the page waited for an OCR worker"});
    }
    if (d.batch.empty()) {
      if (d.wake_at && !st.wake_pending) {
        st.wake_pending = true;
        self->delayed_send(self, std::chrono::duration_cast<std::chrono::microseconds>(*d.wake_at - now) +
                                     std::chrono::microseconds(1),
                           wake_atom::value, std::uint64_t{0});
      }
      return;
    }
    auto t = st.tasks.extract(d.batch.front()).mapped();
    if (t.owner->answered) continue;  // another page of its request failed: skip the work
    auto& queue_ms = t.owner->reply.queue_ms;
    queue_ms = std::max(queue_ms, std::chrono::duration<double, std::milli>(now - t.owner->req.accepted).count());
    run_task(self, static_cast<std::size_t>(idle - st.busy.begin()), std::move(t));
  }
}

caf::behavior pool_behavior(pool_ptr self, ocr_pool_setup setup, std::vector<std::shared_ptr<tesseract_ocr>> engines) {
  auto& st = self->state;
  st.setup = std::move(setup);
  st.queue.emplace(batching_config{1, std::chrono::microseconds(0), st.setup.queue_capacity});
  for (auto& engine : engines) {
    st.workers.push_back(self->spawn<caf::detached + caf::monitored>(ocr_worker, std::move(engine),
                                                                      st.setup.make_engine));
    st.busy.push_back(false);
  }
  self->set_down_handler([=](caf::down_msg& down) {
    auto& st = self->state;
    for (std::size_t w = 0; w < st.workers.size(); ++w)
      if (st.workers[w].address() == down.source) {
        st.busy[w] = true;  // out of service until its replacement is up
        if (st.setup.make_engine) self->delayed_send(self, st.setup.restart_backoff, restart_atom::value, std::uint64_t{w});
      }
  });
  return {
      [=](step_atom, step_request& req) -> caf::result<step_reply> {
        auto& st = self->state;
        const std::size_t n = req.pages.size();
        if (n == 0) return step_reply::failed({error_code::bad_request, "no page to read"});
        std::size_t reserved = 0;
        while (reserved < n && st.queue->try_reserve()) ++reserved;
        if (reserved < n) {
          for (; reserved > 0; --reserved) st.queue->cancel_reservation();
          return step_reply::failed({error_code::overloaded, "OCR model '" + st.setup.model_name + "' has " +
                                                                 std::to_string(st.queue->queued()) +
                                                                 " pages queued (queue_capacity " +
                                                                 std::to_string(st.setup.queue_capacity) + ")"});
        }
        auto j = std::make_shared<job>();
        j->promise = self->make_response_promise<step_reply>();
        j->left = n;
        j->reply.found_by(req.step, {st.setup.model_name, st.setup.model_version});
        if (req.step == step_kind::orient) j->reply.rotations.resize(n);
        else j->reply.text.emplace(n);
        j->req = std::move(req);
        const auto now = clock::now();
        for (std::size_t i = 0; i < n; ++i) {
          const auto ticket = st.next_ticket++;
          st.tasks.emplace(ticket, task{j, i});
          st.queue->push({ticket, j->req.priority, now, j->req.deadline});
        }
        dispatch(self);
        return j->promise;
      },
      [=](wake_atom, std::uint64_t) {
        self->state.wake_pending = false;
        dispatch(self);
      },
      [=](restart_atom, std::uint64_t w) {
        auto& st = self->state;
        st.workers[w] = self->spawn<caf::detached + caf::monitored>(ocr_worker, nullptr, st.setup.make_engine);
        self->request(st.workers[w], std::chrono::minutes(2), orient_atom::value, shared_bytes())
            .then([=](orient_result&) { self->state.busy[w] = false, dispatch(self); },  // loaded: in service
                  [](caf::error&) {});  // died while loading: the down handler tries again
      },
      [=](fault_atom, const std::string& action, std::int64_t) {
        auto& st = self->state;
        if (action != "crash" || st.workers.empty()) return;
        std::size_t victim = 0;  // a busy worker if there is one: the page it reads must survive
        for (std::size_t w = 0; w < st.workers.size(); ++w)
          if (st.busy[w]) victim = w;
        self->send_exit(st.workers[victim], caf::exit_reason::kill);
      },
  };
}

}  // namespace

caf::actor spawn_ocr_pool(caf::actor_system& sys, ocr_pool_setup setup,
                          std::vector<std::shared_ptr<tesseract_ocr>> engines) {
  return sys.spawn(pool_behavior, std::move(setup), std::move(engines));
}

}  // namespace infermesh
