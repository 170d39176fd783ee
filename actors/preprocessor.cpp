#include "actors/preprocessor.hpp"

#include <algorithm>
#include <deque>
#include <memory>
#include <new>

#include "actors/supervised_child.hpp"
#include "models/image_preprocess.hpp"
#include "models/page_render_sandbox.hpp"

namespace infermesh {
namespace {

error out_of_memory(const char* what) {
  return {error_code::too_large, std::string("the node ran out of memory ") + what + ": the file needs more than it has"};
}

// Every spawned behaviour takes at least one argument: CAF 0.17's spawn without arguments dereferences a null
// shared_ptr<tuple<>> (harmless in practice, but undefined behaviour that UBSan stops on).
// std::bad_alloc is an answer (the file is too big for this node now); anything else thrown kills the worker,
// and its supervisor (the pool) replaces it.
preprocess_actor::behavior_type preprocess_worker(render_sandbox sandbox) {
  return {
      [](prep_atom, const shared_bytes& image, const input_spec& spec, int upright_rotation,
         steady_time deadline) -> preprocessed {
        try {
          auto tensor = preprocess_image(image, spec, upright_rotation, deadline);
          if (!tensor) return {tensor.err(), {}};
          return {std::nullopt, std::move(*tensor)};
        } catch (const std::bad_alloc&) {
          return {out_of_memory("decoding the image"), {}};
        }
      },
      [sandbox](split_atom, const shared_bytes& document, int max_pages, const document_limits& limits,
                steady_time deadline) -> split_result {
        try {
          auto split = sandbox.child.empty() ? split_pages(document, max_pages, limits, deadline)
                                             : split_pages_sandboxed(sandbox, document, max_pages, limits, deadline);
          if (!split) return {split.err(), {}, 0, 0};
          return {std::nullopt, std::move(split->pages), split->total_pages, split->pixels};
        } catch (const std::bad_alloc&) {
          return {out_of_memory("splitting the document"), {}, 0, 0};
        }
      },
      [](ping_atom) { return true; },
  };
}

/// One prep or split job, from its arrival to its answer (exactly once).
struct pool_job {
  bool split = false;
  shared_bytes bytes;
  input_spec spec;      // prep
  int rotation = 0;     // prep
  int max_pages = 1;    // split
  document_limits limits;  // split
  steady_time deadline = steady_time::max();
  caf::typed_response_promise<preprocessed> prep_promise;
  caf::typed_response_promise<split_result> split_promise;
  int attempts = 0;  ///< worker deaths under this job
  bool answered = false;

  void fail(error e) {
    if (answered) return;
    answered = true;
    if (split) split_promise.deliver(split_result{std::move(e), {}, 0, 0});
    else prep_promise.deliver(preprocessed{std::move(e), {}});
  }
};
using job_ptr = std::shared_ptr<pool_job>;

using pool_impl = preprocess_actor::extend<caf::reacts_to<wake_atom, std::uint64_t>,
                                           caf::reacts_to<supervise_atom, std::uint64_t, std::uint64_t>>;

struct pool_state {
  preprocessor_setup setup;
  std::vector<std::unique_ptr<supervised_child<preprocess_actor>>> workers;  // stable addresses: handlers hold them
  std::vector<job_ptr> running;  // per worker: the job it works on (null: idle)
  std::deque<job_ptr> queue;     // FIFO, waiting for an idle worker
  bool healthy = true;
  std::vector<caf::typed_response_promise<bool>> readiness;  // probes waiting for every worker to serve
  static inline const char* name = "preprocessor_pool";
};

using pool_ptr = pool_impl::stateful_pointer<pool_state>;

steady_time now(pool_ptr self) { return self->clock().now(); }

void dispatch(pool_ptr self);

/// No worker serves, nor will soon (each is unhealthy or stopped).
bool refusing(const pool_state& st) {
  return std::all_of(st.workers.begin(), st.workers.end(), [](const auto& w) {
    const auto s = w->life().state();
    return s == life_state::unhealthy || s == life_state::stopped;
  });
}

error refused(const pool_state& st) {
  return {error_code::unavailable, "no preprocessing worker is running (" + st.workers.front()->life().reason() + ")"};
}

void update_health(pool_ptr self) {
  auto& st = self->state;
  const bool healthy = std::all_of(st.workers.begin(), st.workers.end(), [](const auto& w) { return w->healthy(); });
  if (refusing(st)) {
    for (auto& j : st.queue) j->fail(refused(st));
    st.queue.clear();
  }
  if (healthy == st.healthy) return;
  st.healthy = healthy;
  if (st.setup.on_health) st.setup.on_health(healthy);
}

void answer_readiness(pool_ptr self) {
  auto& st = self->state;
  if (!std::all_of(st.workers.begin(), st.workers.end(), [](const auto& w) { return w->serving(); })) return;
  for (auto& p : st.readiness) p.deliver(true);
  st.readiness.clear();
}

/// A wake-up at `deadline`, when a job may still wait or run then (it is answered at its deadline, not later).
void wake_at(pool_ptr self, steady_time deadline) {
  if (deadline == steady_time::max()) return;
  const auto delay = std::max(deadline - now(self), steady_time::duration::zero());
  self->delayed_send(self, std::chrono::duration_cast<std::chrono::microseconds>(delay) + std::chrono::microseconds(1),
                     wake_atom::value, std::uint64_t{0});
}

/// Jobs past their deadline: queued ones leave the queue unworked; running ones are answered now (their
/// worker's late result is dropped).
void expire(pool_ptr self) {
  auto& st = self->state;
  const auto t = now(self);
  for (auto it = st.queue.begin(); it != st.queue.end();) {
    auto& j = **it;
    if (j.answered || j.deadline <= t) {
      j.fail({error_code::deadline_exceeded, "the deadline passed while the job waited for a preprocessing worker"});
      it = st.queue.erase(it);
    } else {
      ++it;
    }
  }
  for (auto& j : st.running)
    if (j && j->deadline <= t)
      j->fail({error_code::deadline_exceeded,
               std::string("the deadline passed while a preprocessing worker ") +
                   (j->split ? "split the document" : "decoded the image")});
}

void run_job(pool_ptr self, std::size_t w, job_ptr j) {
  auto& st = self->state;
  st.running[w] = j;
  const auto incarnation = st.workers[w]->life().incarnation();
  auto finished = [self, w] {
    self->state.running[w] = nullptr;
    dispatch(self);
  };
  auto lost = [self, w, j, incarnation](caf::error& e) {  // the worker died under the job
    auto& st = self->state;
    st.running[w] = nullptr;
    st.workers[w]->mark_dying(incarnation);  // (its down message may come after this)
    if (refusing(st)) j->fail(refused(st));
    else if (++j->attempts >= st.setup.supervision.max_attempts)
      j->fail({error_code::internal, "preprocessing worker died on this input " + std::to_string(j->attempts) +
                                         " times: " + self->system().render(e)});
    else if (!j->answered) st.queue.push_front(j);  // retried first, by the next idle worker
    dispatch(self);
  };
  const auto& worker = st.workers[w]->child();
  if (j->split) {
    self->request(worker, caf::infinite, split_atom::value, j->bytes, j->max_pages, j->limits, j->deadline)
        .then(
            [j, finished](split_result& r) {
              if (!j->answered) j->answered = true, j->split_promise.deliver(std::move(r));
              finished();
            },
            lost);
  } else {
    self->request(worker, caf::infinite, prep_atom::value, j->bytes, j->spec, j->rotation, j->deadline)
        .then(
            [j, finished](preprocessed& r) {
              if (!j->answered) j->answered = true, j->prep_promise.deliver(std::move(r));
              finished();
            },
            lost);
  }
}

std::optional<std::size_t> idle_worker(const pool_state& st) {
  for (std::size_t w = 0; w < st.workers.size(); ++w)
    if (!st.running[w] && st.workers[w]->serving()) return w;
  return std::nullopt;
}

void dispatch(pool_ptr self) {
  auto& st = self->state;
  expire(self);
  while (!st.queue.empty()) {
    const auto w = idle_worker(st);
    if (!w) return;
    auto j = std::move(st.queue.front());
    st.queue.pop_front();
    run_job(self, *w, std::move(j));
  }
}

/// Admits `j` (or answers it at once: a full queue, no worker running, a deadline already passed).
void admit(pool_ptr self, const job_ptr& j) {
  auto& st = self->state;
  if (refusing(st)) return j->fail(refused(st));
  if (j->deadline <= now(self)) return j->fail({error_code::deadline_exceeded, "the deadline passed before preprocessing"});
  if (st.queue.size() >= st.setup.queue_capacity)
    return j->fail({error_code::overloaded, "the preprocessing queue is full (" + std::to_string(st.queue.size()) +
                                                " jobs waiting for " + std::to_string(st.workers.size()) + " workers)"});
  st.queue.push_back(j);
  wake_at(self, j->deadline);
  dispatch(self);
}

pool_impl::behavior_type pool_behavior(pool_ptr self, preprocessor_setup setup) {
  auto& st = self->state;
  st.setup = std::move(setup);
  const std::size_t n = std::max<std::size_t>(st.setup.workers, 1);
  for (std::size_t w = 0; w < n; ++w) {
    supervised_child<preprocess_actor>::setup child;
    child.what = "preprocessing worker " + std::to_string(w);
    child.supervision = st.setup.supervision;
    child.respawn = [self] { return self->spawn<caf::detached>(preprocess_worker, self->state.setup.sandbox); };
    child.on_health = [self](bool) { update_health(self); };
    child.on_ready = [self](const lifecycle&) {
      answer_readiness(self);
      dispatch(self);
    };
    if (auto told = st.setup.on_spawned) child.on_spawned = [told, w](const caf::actor& a) { told(w, a); };
    st.workers.push_back(std::make_unique<supervised_child<preprocess_actor>>());
    st.running.push_back(nullptr);
    st.workers.back()->start(self, std::move(child), self->spawn<caf::detached>(preprocess_worker, st.setup.sandbox), w);
  }
  self->set_down_handler([=](caf::down_msg& down) {
    for (auto& w : self->state.workers)
      if (w->on_down(self, down)) return;
  });
  return {
      [=](prep_atom, shared_bytes& image, input_spec& spec, int rotation,
          steady_time deadline) -> caf::result<preprocessed> {
        auto j = std::make_shared<pool_job>();
        j->bytes = std::move(image);
        j->spec = std::move(spec);
        j->rotation = rotation;
        j->deadline = deadline;
        j->prep_promise = self->make_response_promise<preprocessed>();
        auto promise = j->prep_promise;
        admit(self, j);
        return promise;
      },
      [=](split_atom, shared_bytes& document, int max_pages, document_limits& limits,
          steady_time deadline) -> caf::result<split_result> {
        auto j = std::make_shared<pool_job>();
        j->split = true;
        j->bytes = std::move(document);
        j->max_pages = max_pages;
        j->limits = limits;
        j->deadline = deadline;
        j->split_promise = self->make_response_promise<split_result>();
        auto promise = j->split_promise;
        admit(self, j);
        return promise;
      },
      [=](ping_atom) -> caf::result<bool> {  // ready once every worker serves
        auto& st = self->state;
        st.readiness.push_back(self->make_response_promise<bool>());
        auto p = st.readiness.back();
        answer_readiness(self);
        return p;
      },
      [=](wake_atom, std::uint64_t) { dispatch(self); },
      [=](supervise_atom, std::uint64_t slot, std::uint64_t timer) {
        auto& st = self->state;
        if (slot < st.workers.size()) st.workers[slot]->on_timer(self, timer);
      },
  };
}

}  // namespace

preprocess_actor spawn_preprocessor_pool(caf::actor_system& sys, preprocessor_setup setup) {
  use_single_threaded_image_codecs();
  return sys.spawn(pool_behavior, std::move(setup));
}

preprocess_actor spawn_preprocessor_pool(caf::actor_system& sys, std::size_t workers) {
  preprocessor_setup setup;
  setup.workers = workers;
  return spawn_preprocessor_pool(sys, std::move(setup));
}

}  // namespace infermesh
