#include "actors/model_slot.hpp"

#include <deque>

namespace infermesh {
namespace {

using ready_atom = caf::atom_constant<caf::atom("ready")>;
using expire_atom = caf::atom_constant<caf::atom("expire")>;

/// The slot's full type: its interface plus what its helpers and timers send it.
using slot_impl = model_slot_actor::extend<caf::replies_to<built_atom, std::uint64_t, slot_build>::with<bool>,
                                           caf::reacts_to<ready_atom, std::uint64_t, bool>,
                                           caf::reacts_to<expire_atom, std::uint64_t>>;

enum class slot_mode { serving, loading, unloaded, evicted };

struct slot_state {
  struct group_entry {
    std::uint64_t generation = 0;
    slot_group group;
    std::uint64_t in_flight = 0;
  };
  struct held_request {
    step_request request;
    caf::typed_response_promise<step_reply> promise;
  };
  struct build {
    std::uint64_t generation = 0;
    slot_source source;
    std::vector<caf::typed_response_promise<slot_answer>> answers;
    std::optional<slot_group> group;  // built, waiting to answer `ping`
    double seconds = 0;               // how long it took to build
  };

  model_slot_setup setup;
  slot_source source;
  slot_mode mode = slot_mode::serving;
  std::optional<group_entry> current;
  std::vector<group_entry> retiring;
  std::optional<build> building;
  std::deque<held_request> held;
  // The timer for the earliest deadline among `held` (timers cannot be cancelled: a stale one carries an old
  // generation and is ignored, as the batcher does).
  std::uint64_t expiry_generation = 0;
  std::optional<caf::actor_clock::time_point> expiry_armed_for;
  std::uint64_t generations = 0;
  std::uint64_t loads = 0;
  std::uint64_t evictions = 0;
  std::string last_failure;
  std::optional<caf::actor_clock::time_point> last_used;

  static inline const char* name = "model-slot";

  ~slot_state() {  // the slot stops (shutdown): every group goes too
    if (current) release(current->group);
    for (auto& r : retiring) release(r.group);
    if (building && building->group) release(*building->group);
  }

  static void release(slot_group& g) {
    for (auto& a : g.actors)
      if (a) caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
    if (g.on_release) g.on_release();
    g.on_release = nullptr;
  }

  std::uint64_t in_flight() const {
    std::uint64_t n = current ? current->in_flight : 0;
    for (const auto& r : retiring) n += r.in_flight;
    return n;
  }
};

using slot_pointer = slot_impl::stateful_pointer<slot_state>;

std::string_view mode_name(const slot_state& s) {
  switch (s.mode) {
    case slot_mode::serving: return s.building ? "reloading" : "serving";
    case slot_mode::loading: return "loading";
    case slot_mode::unloaded: return "unloaded";
    case slot_mode::evicted: return "evicted";
  }
  return "?";
}

slot_status status_of(slot_pointer self) {
  const auto& s = self->state;
  slot_status out;
  out.name = s.setup.model_name;
  out.version = s.source.version;
  out.state = std::string(mode_name(s));
  out.reason = s.last_failure;
  out.loaded = static_cast<bool>(s.current);
  out.loads = s.loads;
  out.evictions = s.evictions;
  out.in_flight = s.in_flight();
  if (s.last_used) out.last_used_s = std::chrono::duration<double>(self->clock().now() - *s.last_used).count();
  return out;
}

/// Tells the node where the slot is now (after every change of mode; repeating one is harmless).
void publish_state(slot_pointer self) {
  const auto& s = self->state;
  if (!s.setup.on_state) return;
  switch (s.mode) {
    case slot_mode::serving: return s.setup.on_state(slot_phase::serving);
    case slot_mode::loading: return s.setup.on_state(slot_phase::loading);
    case slot_mode::unloaded: return s.setup.on_state(slot_phase::unloaded);
    case slot_mode::evicted: return s.setup.on_state(slot_phase::evicted);
  }
}

void log(slot_pointer self, const std::string& line) {
  if (self->state.setup.log) self->state.setup.log(line);
}

void tell_cache_in_flight(slot_pointer self) {
  auto& s = self->state;
  if (s.setup.cache) self->send(*s.setup.cache, used_atom::value, s.setup.model_name, s.current ? s.current->in_flight : 0);
}

/// A group whose last request was answered after it stopped being current is released.
void release_drained(slot_pointer self) {
  auto& r = self->state.retiring;
  for (auto it = r.begin(); it != r.end();) {
    if (it->in_flight == 0) {
      slot_state::release(it->group);
      it = r.erase(it);
    } else {
      ++it;
    }
  }
}

/// The current group stops being current; it is released once what it holds is answered.
void retire_current(slot_pointer self) {
  auto& s = self->state;
  if (!s.current) return;
  s.retiring.push_back(std::move(*s.current));
  s.current.reset();
  release_drained(self);
}

void forward(slot_pointer self, step_request req, caf::typed_response_promise<step_reply> promise) {
  auto& s = self->state;
  auto& g = *s.current;
  ++g.in_flight;
  s.last_used = self->clock().now();
  tell_cache_in_flight(self);
  const auto generation = g.generation;
  auto done = [self, generation] {
    auto& st = self->state;
    if (st.current && st.current->generation == generation) {
      --st.current->in_flight;
      tell_cache_in_flight(self);
      return;
    }
    for (auto& r : st.retiring)
      if (r.generation == generation) --r.in_flight;
    release_drained(self);
  };
  // No timeout: the request carries its deadline, and the group drops work past it.
  self->request(g.group.step, caf::infinite, step_atom::value, std::move(req))
      .then([promise, done](step_reply& r) mutable {
              promise.deliver(std::move(r));
              done();
            },
            [self, promise, done](caf::error& e) mutable {
              promise.deliver(step_reply::failed({error_code::unavailable, "model '" + self->state.setup.model_name +
                                                                               "' is not running: " + self->system().render(e)}));
              done();
            });
}

/// Requests that waited for a load go to the group that serves now (or fail with `why`).
void flush_held(slot_pointer self, const std::optional<error>& why) {
  auto& s = self->state;
  auto held = std::move(s.held);
  s.held.clear();
  s.expiry_armed_for.reset();
  ++s.expiry_generation;  // disarms the pending expiry timer
  // Deadlines are steady times (the router's); the actor clock is the steady clock (virtual in tests).
  const auto now = self->clock().now();
  for (auto& h : held) {
    if (why) h.promise.deliver(step_reply::failed(*why));
    else if (h.request.deadline < now)
      h.promise.deliver(step_reply::failed({error_code::deadline_exceeded,
                                            "the deadline passed while model '" + s.setup.model_name + "' loaded"}));
    else forward(self, std::move(h.request), std::move(h.promise));
  }
}

/// Arms the expiry timer for the earliest deadline of the held requests, unless one is armed for it already.
void arm_expiry(slot_pointer self) {
  auto& s = self->state;
  std::optional<caf::actor_clock::time_point> earliest;
  for (const auto& h : s.held)
    if (h.request.deadline != steady_time::max() && (!earliest || h.request.deadline < *earliest)) earliest = h.request.deadline;
  if (!earliest || (s.expiry_armed_for && *s.expiry_armed_for <= *earliest)) return;
  s.expiry_armed_for = earliest;
  const auto now = self->clock().now();
  const caf::timespan wait = *earliest > now ? std::chrono::duration_cast<caf::timespan>(*earliest - now) : caf::timespan{0};
  self->delayed_send(self, wait, expire_atom::value, ++s.expiry_generation);
}

/// Held requests past their deadline are answered `deadline_exceeded`: the router gave up on them, and they
/// must not count against `queue_capacity` any longer.
void expire_held(slot_pointer self) {
  auto& s = self->state;
  const auto now = self->clock().now();
  for (auto it = s.held.begin(); it != s.held.end();) {
    if (it->request.deadline <= now) {
      it->promise.deliver(step_reply::failed({error_code::deadline_exceeded,
                                              "the deadline passed while model '" + s.setup.model_name + "' loaded"}));
      it = s.held.erase(it);
    } else {
      ++it;
    }
  }
  s.expiry_armed_for.reset();
  arm_expiry(self);
}

void answer_build(slot_state::build& b, const slot_answer& a) {
  for (auto& p : b.answers) p.deliver(a);
  b.answers.clear();
}

/// Builds `source`'s group on a helper (detached: a model loads on its thread, never the slot's).
void start_build(slot_pointer self, slot_source source, std::optional<caf::typed_response_promise<slot_answer>> answer) {
  auto& s = self->state;
  slot_state::build b;
  b.generation = ++s.generations;
  b.source = source;
  if (answer) b.answers.push_back(*answer);
  s.building = std::move(b);
  slot_impl me = self;
  // Its inputs are spawn arguments, not captures: CAF 0.17 binds a null tuple when an actor is spawned with
  // none (undefined behaviour that UBSan stops).
  auto helper = [](caf::event_based_actor* h, slot_impl me, decltype(source.build) build, std::uint64_t generation) {
    const auto started = std::chrono::steady_clock::now();
    slot_build out;
    try {
      auto built = build(generation);
      if (built) out.group = std::move(*built);
      else out.failure = built.err();
    } catch (const std::exception& e) {
      out.failure = error{error_code::internal, e.what()};
    }
    out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    // A request, not a send: when the slot stopped while this loaded, nobody else would release the group.
    auto group = out.group;
    h->request(me, caf::infinite, built_atom::value, generation, std::move(out))
        .then([](bool) {},
              [group](caf::error&) mutable {
                if (group) slot_state::release(*group);
              });
  };
  const auto generation = s.building->generation;
  if (s.setup.build_detached) self->system().spawn<caf::detached>(helper, me, source.build, generation);
  else self->system().spawn(helper, me, source.build, generation);
}

/// A build failed (or its group never became ready): the slot keeps what it had.
void build_failed(slot_pointer self, error why) {
  auto& s = self->state;
  auto b = std::move(*s.building);
  s.building.reset();
  if (b.group) slot_state::release(*b.group);
  why.message = "model '" + s.setup.model_name + "' v" + b.source.version + " did not load: " + why.message;
  log(self, why.message + (s.current ? " (the loaded version keeps serving)" : ""));
  // The answer and the status keep the first line: LibTorch appends its C++ stack to its messages (logged above).
  if (const auto eol = why.message.find('\n'); eol != std::string::npos) why.message.resize(eol);
  s.last_failure = why.message;
  if (!s.current) {
    if (s.mode == slot_mode::loading) s.mode = s.setup.cache ? slot_mode::evicted : slot_mode::unloaded;
    publish_state(self);
    if (s.setup.cache) self->send(*s.setup.cache, unload_atom::value, s.setup.model_name);
    flush_held(self, error{error_code::unavailable, why.message});
  } else {
    // The cache may have asked this slot to give up its model while it reloaded (refused: loading): it waits
    // for this report before it asks again.
    tell_cache_in_flight(self);
  }
  answer_build(b, {why, status_of(self)});
}

/// The new group is ready: new requests go to it, the old one drains and is released.
void switch_to_built(slot_pointer self, double seconds) {
  auto& s = self->state;
  auto b = std::move(*s.building);
  s.building.reset();
  retire_current(self);
  s.current = slot_state::group_entry{b.generation, std::move(*b.group), 0};
  const bool was_reload = s.loads > 0 && s.source.version != b.source.version;
  s.source = std::move(b.source);
  s.mode = slot_mode::serving;
  s.last_failure.clear();
  ++s.loads;
  if (s.setup.on_model_load) s.setup.on_model_load(s.setup.model_name, seconds);
  publish_state(self);
  log(self, "model '" + s.setup.model_name + "' v" + s.source.version + " serves (loaded in " +
                std::to_string(static_cast<int>(seconds * 1000)) + " ms" + (was_reload ? ", replacing the previous version" : "") +
                ")");
  tell_cache_in_flight(self);
  flush_held(self, std::nullopt);
  answer_build(b, {std::nullopt, status_of(self)});
}

/// Loads the configured source (on demand or by command); with a cache, once it admits the load.
void load(slot_pointer self, std::optional<caf::typed_response_promise<slot_answer>> answer) {
  auto& s = self->state;
  s.mode = slot_mode::loading;
  publish_state(self);
  if (!s.setup.cache) return start_build(self, s.source, answer);
  // Reserve the build now (generation, answers) so that a second request does not load twice.
  slot_state::build b;
  b.generation = 0;  // not started: admitted first
  b.source = s.source;
  if (answer) b.answers.push_back(*answer);
  s.building = std::move(b);
  // Bounded: every other loaded model may stay busy; then the requests waiting here fail (`unavailable`).
  self->request(*s.setup.cache, s.setup.admit_timeout, admit_atom::value, s.setup.model_name)
      .then(
          [self](bool admitted) {
            auto& st = self->state;
            if (!st.building || st.building->generation != 0) return;  // gave up meanwhile (cannot happen)
            if (!admitted) return build_failed(self, {error_code::unavailable, "the model cache dropped its admission"});
            auto answers = std::move(st.building->answers);
            st.building.reset();
            start_build(self, st.source, std::nullopt);
            st.building->answers = std::move(answers);
          },
          [self](caf::error& e) {
            auto& st = self->state;
            if (!st.building || st.building->generation != 0) return;
            const std::string why = e == caf::sec::request_timeout
                                        ? "no room within " + std::to_string(st.setup.admit_timeout.count()) +
                                              " ms under max_loaded_models (every loaded model stayed busy or loading)"
                                        : "the model cache: " + self->system().render(e);
            build_failed(self, {error_code::unavailable, why});
          });
}

slot_impl::behavior_type slot_behavior(slot_pointer self, model_slot_setup setup) {
  auto& s = self->state;
  s.setup = std::move(setup);
  s.source = s.setup.source;
  if (s.setup.first) {
    s.current = slot_state::group_entry{++s.generations, std::move(*s.setup.first), 0};
    s.setup.first.reset();
    s.loads = 1;
  } else {
    s.mode = s.setup.start_unloaded ? slot_mode::unloaded : slot_mode::evicted;
  }
  if (s.setup.cache) self->send(*s.setup.cache, enlist_atom::value, s.setup.model_name, evictable_actor{self}, static_cast<bool>(s.current));
  publish_state(self);
  // Stopping (node shutdown): whoever waits here is answered now. A dropped promise sends nothing in CAF
  // 0.17.6, so a command waiting for a load would wait out its own timeout and hold up the node's exit.
  self->set_exit_handler([=](caf::exit_msg& m) {
    auto& st = self->state;
    const error stopping{error_code::unavailable, "model '" + st.setup.model_name + "' stops (the node shuts down)"};
    if (st.building) {
      answer_build(*st.building, {stopping, status_of(self)});
      if (st.building->group) slot_state::release(*st.building->group);
      st.building.reset();
    }
    flush_held(self, stopping);
    if (st.current) slot_state::release(st.current->group);
    st.current.reset();
    for (auto& r : st.retiring) slot_state::release(r.group);
    st.retiring.clear();
    self->quit(m.reason);
  });
  return {
      [=](step_atom, step_request& req) -> caf::result<step_reply> {
        auto& st = self->state;
        if (st.current) {
          auto promise = self->make_response_promise<step_reply>();
          forward(self, std::move(req), promise);
          return promise;
        }
        if (st.mode == slot_mode::unloaded)
          return step_reply::failed({error_code::unavailable, "model '" + st.setup.model_name + "' is unloaded"});
        if (st.held.size() >= st.setup.queue_capacity)
          return step_reply::failed({error_code::overloaded, "model '" + st.setup.model_name + "' is loading and " +
                                                                 std::to_string(st.held.size()) + " requests wait for it"});
        auto promise = self->make_response_promise<step_reply>();
        st.last_used = self->clock().now();
        st.held.push_back({std::move(req), promise});
        arm_expiry(self);
        if (!st.building) load(self, std::nullopt);
        return promise;
      },
      [=](ping_atom) -> bool { return static_cast<bool>(self->state.current); },
      [=](infer_atom a, infer_job& job) -> caf::result<item_result> {
        if (self->state.current) return self->delegate(self->state.current->group.batcher, a, std::move(job));
        return item_result::failed(error_code::unavailable, "model '" + self->state.setup.model_name + "' is not loaded");
      },
      [=](stats_atom a) -> caf::result<batcher_stats> {
        if (self->state.current) return self->delegate(self->state.current->group.batcher, a);
        batcher_stats none;
        none.model.state = life_state::stopped;
        none.model.reason = std::string(mode_name(self->state));
        none.model.healthy = self->state.mode != slot_mode::unloaded;
        return none;
      },
      [=](reload_atom, slot_source& source) -> caf::result<slot_answer> {
        auto& st = self->state;
        if (st.building)
          return slot_answer{error{error_code::unavailable, "model '" + st.setup.model_name + "' is loading already: try again when it serves"},
                             status_of(self)};
        if (!st.current) {  // nothing loaded: the next load (command or demand) takes the new source
          st.source = std::move(source);
          return slot_answer{std::nullopt, status_of(self)};
        }
        auto promise = self->make_response_promise<slot_answer>();
        start_build(self, std::move(source), promise);
        return promise;
      },
      [=](unload_atom) -> slot_answer {
        auto& st = self->state;
        if (st.building)
          return {error{error_code::unavailable, "model '" + st.setup.model_name + "' is loading: try again when it serves"},
                  status_of(self)};
        const bool was_loaded = static_cast<bool>(st.current);
        retire_current(self);
        st.mode = slot_mode::unloaded;
        publish_state(self);
        if (st.setup.cache && was_loaded) self->send(*st.setup.cache, unload_atom::value, st.setup.model_name);
        log(self, "model '" + st.setup.model_name + "' unloaded");
        return {std::nullopt, status_of(self)};
      },
      [=](load_atom) -> caf::result<slot_answer> {
        auto& st = self->state;
        if (st.current) return slot_answer{std::nullopt, status_of(self)};
        // As reload does: one command waits for a load, a second one is told to try again (no pile-up).
        if (st.building)
          return slot_answer{error{error_code::unavailable, "model '" + st.setup.model_name + "' is loading already: try again when it serves"},
                             status_of(self)};
        auto promise = self->make_response_promise<slot_answer>();
        load(self, promise);
        return promise;
      },
      [=](status_atom) { return status_of(self); },
      [=](evict_atom) -> evict_answer {
        auto& st = self->state;
        if (st.building) return evict_answer::loading;  // it tells the cache when the build ends
        if (!st.current) return evict_answer::not_loaded;
        if (st.current->in_flight > 0 || !st.held.empty()) return evict_answer::busy;
        retire_current(self);
        st.mode = slot_mode::evicted;
        publish_state(self);
        ++st.evictions;
        log(self, "model '" + st.setup.model_name + "' released: least recently used (max_loaded_models)");
        return evict_answer::released;
      },
      [=](built_atom, std::uint64_t generation, slot_build& built) -> bool {
        auto& st = self->state;
        if (!st.building || st.building->generation != generation) {  // stale (cannot happen: one build at a time)
          if (built.group) slot_state::release(*built.group);
          return true;
        }
        if (built.failure) {
          build_failed(self, std::move(*built.failure));
          return true;
        }
        st.building->group = std::move(built.group);
        // Ready once its step actor and its batcher (with its model) answer their readiness probes.
        auto g = *st.building->group;
        st.building->seconds = built.seconds;
        self->request(g.step, st.setup.ready_timeout, ping_atom::value)
            .then(
                [=](bool) {
                  self->request(g.batcher, self->state.setup.ready_timeout, ping_atom::value)
                      .then([=](bool) { self->send(self, ready_atom::value, generation, true); },
                            [=](caf::error& e) {
                              if (self->state.building && self->state.building->generation == generation)
                                build_failed(self, {error_code::unavailable, "its batcher is not ready: " + self->system().render(e)});
                            });
                },
                [=](caf::error& e) {
                  if (self->state.building && self->state.building->generation == generation)
                    build_failed(self, {error_code::unavailable, "its step actor is not ready: " + self->system().render(e)});
                });
        return true;
      },
      [=](expire_atom, std::uint64_t generation) {
        if (generation == self->state.expiry_generation) expire_held(self);
      },
      [=](ready_atom, std::uint64_t generation, bool) {
        auto& st = self->state;
        if (!st.building || st.building->generation != generation || !st.building->group) return;
        switch_to_built(self, st.building->seconds);
      },
  };
}

}  // namespace

model_slot_actor spawn_model_slot(caf::actor_system& sys, model_slot_setup setup) {
  return sys.spawn(slot_behavior, std::move(setup));
}

}  // namespace infermesh
