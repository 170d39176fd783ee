#include "runtime/node.hpp"

#include <caf/all.hpp>

#include <algorithm>
#include <atomic>
#include <unistd.h>
#include <mutex>
#include <set>
#include <thread>

#include "actors/fault_door.hpp"
#include "actors/preprocessor.hpp"
#include "models/page_render_sandbox.hpp"
#include "actors/remote_step.hpp"
#include "actors/router.hpp"
#include "actors/router_supervisor.hpp"
#include "actors/model_cache_policy.hpp"
#include "messages/codec.hpp"
#include "messages/subjects.hpp"
#include "runtime/fault_control.hpp"
#include "runtime/health_gate.hpp"
#include "runtime/http_routes.hpp"
#include "runtime/ingress_backlog.hpp"
#include "runtime/metrics.hpp"
#include "runtime/log.hpp"
#include "runtime/model_control.hpp"
#include "runtime/model_health.hpp"
#include "runtime/model_parts.hpp"
#include "runtime/node_placement.hpp"
#include "runtime/service_responder.hpp"
#include "runtime/stats_reporter.hpp"

namespace infermesh {

namespace {

caf::actor_system_config& scheduler_config(caf::actor_system_config& cfg) {
  // Router, batchers and the stats reporter are cheap event-based actors; heavy work runs on detached threads.
  cfg.set("scheduler.max-threads", std::max(2u, std::thread::hardware_concurrency()));
  cfg.set("scheduler.policy", caf::atom("sharing"));
  return cfg;
}

/// How long a `$SRV.STATS` answer may wait for the router's and batchers' counters: discovery clients gather
/// answers for about a second, and the delivery thread answering it serves PING and INFO too.
constexpr auto service_stats_timeout = std::chrono::milliseconds(250);

std::string host_name() {
  char buffer[256] = {0};
  if (gethostname(buffer, sizeof buffer - 1) != 0) return "unknown";
  return buffer;
}

}  // namespace

struct node::impl {
  node_config config;
  caf::actor_system_config caf_config;  // must outlive `system`
  caf::actor_system system{scheduler_config(caf_config)};
  std::unique_ptr<fault_door> door;      // null: faults off
  std::unique_ptr<nats_transport> transport;
  /// Core requests received and not decoded yet (the NATS callbacks admit, the router releases); shared with
  /// the callbacks, which may run until the transport is gone.
  std::shared_ptr<ingress_backlog> backlog;
  std::unique_ptr<health_gate> gate;
  std::unique_ptr<model_health> health;
  preprocess_actor preprocessors;
  std::vector<model_part> models;
  remote_step_actor remote;
  router_actor router;
  caf::actor reporter;
  std::unique_ptr<service_responder> service;
  // Model lifecycle (issue 11 §4): the parts' context (a reload builds groups with it), the LRU cache, the
  // model commands' setup, and each model's version now (a reload changes it; PING/INFO read it).
  std::optional<part_context> parts;
  std::optional<model_cache_actor> cache;
  model_control_setup control;
  mutable std::mutex versions_mutex;
  std::map<std::string, std::string> versions;
  const std::chrono::system_clock::time_point started = std::chrono::system_clock::now();
  bool stopped = false;

  // --- HTTP health and metrics (issue 11 §3; only with `http:`) ---
  std::unique_ptr<node_metrics> metrics;  // null: no `http:`, and no hook is installed
  std::unique_ptr<http_server> http;
  /// What the HTTP thread may read of the node, published by the start-up thread as start-up goes on.
  struct observed_state {
    nats_transport* transport = nullptr;
    model_health* health = nullptr;
    router_actor router;
    named_batchers batchers;
    std::set<std::string> loaded;  // models started (loaded and warmed up, or left to load on demand)
    std::map<std::string, slot_phase> slot_phases;  // batched models: where each slot is now
    bool subscribed = false;
    bool draining = false;
  };
  mutable std::mutex observed_mutex;
  observed_state observed;
  template <class F>
  void observe(F&& change) {
    std::lock_guard<std::mutex> guard(observed_mutex);
    change(observed);
  }
  std::optional<error> start_http();
  std::string live_now();
  readiness_inputs readiness_now() const;
  std::string scrape_now();

  explicit impl(node_config c) : config(std::move(c)), backlog(std::make_shared<ingress_backlog>(config.backlog)) {}

  ~impl() {
    if (!stopped) stop_actors();
  }

  named_batchers batchers() const {
    named_batchers out;
    for (const auto& m : models)
      if (m.batcher) out.emplace_back(m.name, *m.batcher);
    return out;
  }

  void stop_actors() {
    stopped = true;
    if (http) http->stop();  // it asks actors and reads the transport: not while they stop
    observe([](observed_state& o) { o = {}; });
    if (service) service->stop();  // its STATS asks actors: not while they stop
    if (door) door->shut_down();  // an injected slow-down ends now, or no model actor could stop
    std::vector<caf::actor> all{caf::actor_cast<caf::actor>(router), reporter, caf::actor_cast<caf::actor>(remote),
                                caf::actor_cast<caf::actor>(preprocessors)};
    if (cache) all.push_back(caf::actor_cast<caf::actor>(*cache));
    for (const auto& m : models) all.insert(all.end(), m.actors.begin(), m.actors.end());
    for (auto& a : all)
      if (a) caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
    system.await_all_actors_done();
    if (gate) gate->close();  // its thread uses the transport
    transport.reset();  // no actor can publish any more
  }

  router_stats ask_router() {
    caf::scoped_actor self{system};
    router_stats out;
    self->request(router, std::chrono::seconds(5), stats_atom::value)
        .receive([&](const router_stats& s) { out = s; }, [](const caf::error&) {});
    return out;
  }

  // The parts of start-up, in order; each returns the first error.
  std::optional<error> connect();
  std::optional<error> start_models(router_setup& setup);
  std::optional<error> start_remote_steps(router_setup& setup);
  void start_router(router_setup setup);
  std::optional<error> start_fault_control();
  std::optional<error> start_ingress(std::string& serving);
  std::optional<error> start_service_api();
  std::vector<model_figures> model_health_now() const;
  std::vector<endpoint_figures> collect_service_stats();
};

node::node(std::unique_ptr<impl> p) : impl_(std::move(p)) {}
node::~node() = default;

/// NATS first: the health gate needs it, and nothing is subscribed before every model serves.
std::optional<error> node::impl::connect() {
  auto options = config.nats;
  // `infermesh:<node>` in the servers' /connz: which server a node uses is visible (and `infermesh simulate`'s
  // `role: nats, of: NODE` finds it).
  if (options.client_name == wire::client_name) options.client_name = std::string(wire::client_name) + ":" + config.node_name;
  auto t = nats_transport::connect(options);
  if (!t) return t.err();
  transport = std::move(*t);
  gate = std::make_unique<health_gate>(*transport, ops_to_serve(config), [this](const std::string& op) {
    // A shed request's answer names no id (its payload is not decoded), so it is the same for every one: encoded
    // once per encoding, and a flood costs the callback a publish per message, nothing more.
    auto shed = reply::failed("", op, error_code::overloaded, backlog->shed_message(config.node_name));
    shed.node = config.node_name;
    return transport->subscribe(wire::op_subject(op), std::string(wire::queue_group),
                                [front = router, op, backlog = backlog, t = transport.get(), m = metrics.get(),
                                 shed_json = encode_reply(shed, encoding::json),
                                 shed_msgpack = encode_reply(shed, encoding::msgpack)](incoming_message&& in) {
      // nats.c delivery thread: decide from the message's size and reply subject alone (nothing is decoded
      // here), then hand off without blocking.
      const auto received = std::chrono::steady_clock::now();
      auto admitted = backlog->admit(in.payload.size(), !in.reply.empty(), received);
      switch (admitted.outcome) {
        case ingress_backlog::verdict::admitted:
          return caf::anon_send(front, incoming_atom::value, op, std::move(in.payload), std::move(in.reply), received,
                                std::move(admitted.ticket));
        case ingress_backlog::verdict::no_reply_subject:
          if (m) m->on_ingress_refused(op, "no_reply_subject");
          if (admitted.log_now)
            log(log_level::warn, {{"op", op}}, "dropped ", admitted.unlogged, " message(s) without a reply subject on ",
                in.subject, " since the last such line: nobody to answer, not decoded (", backlog->dropped_without_reply(),
                " so far)");
          return;
        case ingress_backlog::verdict::backlog_full: {
          // Answered here, in the request's encoding (its first bytes), with no id: the payload is not decoded.
          const bool json = detect_encoding(in.payload) == encoding::json;
          const auto e = t->publish(in.reply, json ? shed_json : shed_msgpack);
          if (e && admitted.log_now) log(log_level::warn, {{"subject", in.reply}}, "reply not sent: ", e->message);
          if (m) {
            m->on_ingress_refused(op, "backlog_full");
            m->on_reply(op, std::string(to_string(error_code::overloaded)), 0.0);
          }
          if (admitted.log_now)
            log(log_level::warn, {{"op", op}}, "shed ", admitted.unlogged, " request(s) as overloaded since the last such line: ",
                backlog->requests(), " requests (", backlog->bytes(), " bytes) received and not decoded yet, bound ",
                backlog->limits().max_requests, " requests (node.max_backlog_requests) or ", backlog->limits().max_bytes,
                " bytes (node.max_backlog_bytes)");
          return;
        }
      }
    });
  });
  health = std::make_unique<model_health>(*gate);
  observe([this](observed_state& o) { o.transport = transport.get(), o.health = health.get(); });
  return std::nullopt;
}

/// Every hosted model, by kind (model_parts.hpp). With `max_loaded_models`, the batched models past the
/// bound (config order) start evicted and load on their first request.
std::optional<error> node::impl::start_models(router_setup& setup) {
  preprocessor_setup pool;
  pool.workers = config.preprocess_workers;
  pool.supervision = config.router_supervision;
  pool.sandbox.child = render_child_next_to_this_executable();
  if (pool.sandbox.child.empty())
    return error{error_code::internal, "the page renderer 'infermesh-render' is not next to this binary: PDF and TIFF "
                                       "pages are rendered by it (install it beside infermesh)"};
  // Every op needs the pool (it splits documents and prepares every batched model's input), as it needs the
  // router: it reports under the router's name.
  pool.on_health = [h = health.get()](bool healthy) { h->report(router_name, "preprocessing", healthy); };
  preprocessors = spawn_preprocessor_pool(system, std::move(pool));
  part_context ctx{system, preprocessors, door.get(),
                   [h = health.get()](const std::string& model, const std::string& reporter, bool healthy) {
                     h->report(model, reporter, healthy);
                   },
                   {}, {}, {}, {}, {}};
  ctx.report_state = [this](const std::string& model, slot_phase phase) {
    observe([&](observed_state& o) { o.slot_phases[model] = phase; });
  };
  if (auto* m = metrics.get()) {
    ctx.on_restart = [m](const std::string& model) { m->on_model_restart(model); };
    ctx.on_batch = [m](const std::string& model, const batch_timing& t) {
      m->on_batch(model, t.size, t.queue_waits_s, t.compute_s);
    };
    ctx.on_load = [m](const std::string& model, double seconds) { m->on_model_load(model, seconds); };
  }
  std::set<std::string> load_now;
  {
    std::vector<std::string> batched;
    for (const auto& hosted : config.models)
      if (hosted.model.backend != model_config::backend_kind::tesseract) batched.push_back(hosted.model.name);
    const model_cache_policy policy(config.max_loaded_models);
    for (const auto& name : policy.loaded_at_start(batched)) load_now.insert(name);
  }
  if (config.max_loaded_models > 0) {
    // An op whose steps need more batched models than the bound keeps loaded: each of its requests loads one
    // and evicts another (a load per step). Allowed (it still answers), but worth a line at start.
    for (const auto& [op, steps] : config.pipelines) {
      std::vector<std::string> needed;
      for (const auto& hosted : config.models) {
        if (hosted.model.backend == model_config::backend_kind::tesseract) continue;
        for (const auto& served : hosted.model.serves)
          if (auto step = parse_step(served); step && std::find(steps.begin(), steps.end(), *step) != steps.end()) {
            needed.push_back(hosted.model.name);
            break;
          }
      }
      if (needed.size() > config.max_loaded_models) {
        std::string names;
        for (const auto& n : needed) names += (names.empty() ? "" : ", ") + n;
        log(log_level::warn, {{"op", op}}, "op '", op, "' needs ", needed.size(), " batched models (", names,
            ") but max_loaded_models is ", config.max_loaded_models, ": each of its requests loads and evicts models");
      }
    }
    cache = spawn_model_cache(system, config.max_loaded_models);
    ctx.cache = cache;
  }
  parts.emplace(ctx);
  for (const auto& hosted : config.models) {
    {
      std::lock_guard<std::mutex> lock(versions_mutex);
      versions[hosted.model.name] = hosted.model.version;
    }
    const auto loading = std::chrono::steady_clock::now();
    const bool now = hosted.model.backend == model_config::backend_kind::tesseract || load_now.count(hosted.model.name) > 0;
    auto part = start_model(ctx, hosted, now);
    if (!part) return part.err();
    if (metrics && now)  // the start-up load (later ones: ctx.on_load)
      metrics->on_model_load(part->name, std::chrono::duration<double>(std::chrono::steady_clock::now() - loading).count());
    observe([&](observed_state& o) {
      o.loaded.insert(part->name);
      if (part->batcher) o.batchers.emplace_back(part->name, *part->batcher);
    });
    for (const auto& [step, server] : part->steps) setup.local_steps[step] = server;
    models.push_back(std::move(*part));
  }
  return std::nullopt;
}

/// Steps this node does not host go over NATS; replies come back on one inbox subscription.
std::optional<error> node::impl::start_remote_steps(router_setup& setup) {
  nats_transport* t = transport.get();
  remote_step_setup remote_setup;
  remote_setup.node_name = config.node_name;
  remote_setup.inbox = t->new_inbox();
  remote_setup.publish = [t](const std::string& subject, std::string_view payload,
                             const std::string& reply) -> std::optional<std::string> {
    if (auto e = t->publish(subject, payload, reply)) return e->message;
    return std::nullopt;
  };
  const auto inbox_prefix = remote_setup.inbox + ".";
  remote = spawn_remote_step(system, std::move(remote_setup));
  setup.remote = remote;
  auto inbox = t->subscribe(inbox_prefix + "*", "", [to = remote, inbox_prefix](incoming_message&& in) {
    const auto ticket = std::strtoull(in.subject.c_str() + inbox_prefix.size(), nullptr, 10);
    caf::anon_send(to, reply_atom::value, static_cast<std::uint64_t>(ticket), std::move(in.payload), in.no_responders);
  });
  if (!inbox) return inbox.err();
  return std::nullopt;
}

/// The router, under its supervisor (the node's stable front door), and the stats reporter.
void node::impl::start_router(router_setup setup) {
  nats_transport* t = transport.get();
  setup.publish = [t](const std::string& subject, std::string_view payload) {
    if (subject.empty()) return;  // a publish without a reply inbox: nobody to answer
    if (auto e = t->publish(subject, payload)) log(log_level::warn, {{"subject", subject}}, "reply not sent: ", e->message);
  };
  // Only `internal` is logged: the node's own failure (a poison input, a model that died on it, a durable
  // request past max_deliver). The other codes are the client's or the load's, counted in the stats.
  setup.on_error_reply = [](const reply& rep) {
    if (rep.failure && rep.failure->code == error_code::internal)
      log(log_level::warn, {{"id", rep.id}, {"op", rep.op}, {"code", std::string(to_string(rep.failure->code))}},
          "request failed: ", rep.failure->message);
  };
  router_supervisor_setup front{std::move(setup), config.router_supervision, 10000, {}, {}, {}};
  front.on_health = [h = health.get()](bool healthy) { h->report(router_name, "router", healthy); };
  front.on_ready = [](const lifecycle& life) {
    if (life.restarts() > 0) log(log_level::warn, "router restarted");
  };
  if (door) front.on_spawned = door->spawned_hook("", fault_target::router);
  router = spawn_router_supervisor(system, std::move(front));
  observe([this](observed_state& o) { o.router = router; });
  reporter = spawn_stats_reporter(system, config.stats_interval, batchers(), router);
}

/// The control subject (with `node.faults` or `node.control`): a message with a `command` key is a model
/// command (model_control.hpp, only with `node.control`), any other a fault (only with `node.faults`).
std::optional<error> node::impl::start_fault_control() {
  if (!door && !config.control) return std::nullopt;
  control.node_name = config.node_name;
  control.system = &system;
  control.transport = transport.get();
  for (const auto& m : models)
    if (m.slot) control.slots.emplace(m.name, *m.slot);
  control.hosted = config.models;
  control.reread = [source = config.source, node = config.selected_node]() -> outcome<node_config> {
    if (source.rfind("<embedded", 0) == 0) return load_embedded_default_config();  // cannot change: the same files
    return load_config_file(source, node);
  };
  control.builder = [ctx = *parts](const hosted_model& hosted) { return batched_group_builder(ctx, hosted); };
  control.healthy = [h = health.get()](const std::string& model) { return h->healthy(model); };
  control.on_version = [this](const std::string& model, const std::string& version) {
    std::lock_guard<std::mutex> lock(versions_mutex);
    versions[model] = version;
  };
  const auto subject = wire::control_subject(config.node_name);
  auto subscribed = transport->subscribe(subject, "", [this](incoming_message&& in) {
    auto answer_error = [&](const error& e) {
      if (in.reply.empty()) return;
      value_map out{{"ok", false}, {"code", std::string(to_string(e.code))}, {"error", e.message}};
      transport->publish(in.reply, encode_value(value{std::move(out)}, encoding::json));
    };
    auto v = decode_value(in.payload, encoding::json, decode_limits{});
    if (v && is_model_command(*v)) {
      if (!config.control) return answer_error({error_code::bad_request, "model commands are off on this node (node.control: false)"});
      return handle_model_command(control, *v, in.reply);
    }
    if (!door) return answer_error({error_code::bad_request, "fault injection is off on this node (node.faults: false)"});
    handle_fault_command(in, *door, *transport);
  });
  if (!subscribed) return subscribed.err();
  if (door) log(log_level::warn, "fault injection is on: control subject ", subject);
  if (config.control) log(log_level::info, "model control is on: control subject ", subject);
  return std::nullopt;
}

/// NATS ingress: the durable ops' pulls, then every op's subscription through the health gate (which starts
/// applying health reports then: a model that went unhealthy during start-up pauses its op's pull too).
std::optional<error> node::impl::start_ingress(std::string& serving) {
  std::string durable;
  if (!config.durable_ops.empty()) {
    if (auto e = transport->ensure_work_queue(config.work_queue)) return *e;
    const auto served = ops_to_serve(config);
    for (const auto& op : config.durable_ops) {
      if (!served.count(op)) continue;
      auto pulled = transport->pull(op, config.work_queue, [front = router, op, counted = metrics.get()](durable_message&& m) {
        if (counted && m.delivered > 1) counted->on_redelivery(op);
        caf::anon_send(front, durable_atom::value, op, std::move(m.payload), m.delivered,
                       acknowledger{std::move(m.ack), std::move(m.nak)}, std::chrono::steady_clock::now());
      });
      if (pulled) return *pulled;
      durable += ", " + op + " (durable: " + config.work_queue.op_subject(op).value_or("?") + ")";
    }
  }
  if (auto e = gate->open()) return *e;
  observe([](observed_state& o) { o.subscribed = true; });
  serving = gate->subscribed_ops() + durable;
  return std::nullopt;
}

/// Each hosted model's name, version and health as the gate sees it (no actor asked).
std::vector<model_figures> node::impl::model_health_now() const {
  std::vector<model_figures> out;
  for (const auto& hosted : config.models) {
    model_figures m;
    m.name = hosted.model.name;
    {
      std::lock_guard<std::mutex> lock(versions_mutex);
      m.version = versions.count(m.name) ? versions.at(m.name) : hosted.model.version;
    }
    m.healthy = health->healthy(m.name);
    m.state = m.healthy ? "serving" : "unhealthy";
    out.push_back(std::move(m));
  }
  return out;
}

/// Asks the router and every batcher at once (a scoped actor on the calling NATS thread), waiting at most
/// `service_stats_timeout`: an actor that does not answer in time leaves its figures at what health says.
std::vector<endpoint_figures> node::impl::collect_service_stats() {
  auto models = model_health_now();
  router_stats routed;
  {
    caf::scoped_actor self{system};
    auto from_router = self->request(router, service_stats_timeout, stats_atom::value);
    std::vector<std::pair<std::string, decltype(self->request(std::declval<batcher_actor>(), service_stats_timeout,
                                                              stats_atom::value))>>
        asked;
    for (const auto& [name, b] : batchers()) asked.emplace_back(name, self->request(b, service_stats_timeout, stats_atom::value));
    from_router.receive([&](const router_stats& s) { routed = s; }, [](const caf::error&) {});
    for (auto& [name, handle] : asked)
      handle.receive(
          [&, n = name](const batcher_stats& s) {
            for (auto& m : models) {
              if (m.name != n) continue;
              m.state = m.healthy ? std::string(state_name(s.model.state)) : "unhealthy";
              m.reason = s.model.state == life_state::serving ? "" : s.model.reason;
              m.restarts = s.model.restarts;
              m.queue_depth = s.queued;
              m.requests = s.requests;
              m.batches = s.batches;
              m.mean_batch = s.batches ? static_cast<double>(s.batched_items) / static_cast<double>(s.batches) : 0.0;
            }
          },
          [](const caf::error&) {});
    // The slots of batched models: loaded or not (unloaded, evicted), loads and evictions.
    for (const auto& part : this->models) {
      if (!part.slot) continue;
      self->request(*part.slot, service_stats_timeout, status_atom::value)
          .receive(
              [&](const slot_status& st) {
                for (auto& m : models) {
                  if (m.name != st.name) continue;
                  m.version = st.version;
                  m.loaded = st.loaded;
                  m.loads = st.loads;
                  m.evictions = st.evictions;
                  if (!st.loaded) m.state = st.state, m.reason = st.reason;
                }
              },
              [](const caf::error&) {});
    }
  }
  std::vector<endpoint_figures> out;
  for (const auto& [op, used] : ops_to_serve(config)) {
    endpoint_figures e;
    e.endpoint = {op, wire::op_subject(op), std::string(wire::queue_group), {}};
    if (auto found = routed.ops.find(op); found != routed.ops.end()) {
      e.num_requests = found->second.requests;
      e.num_errors = found->second.errors;
      e.last_error = found->second.last_error;
      e.processing_ns = found->second.processing_ns;
    }
    for (const auto& m : models)
      if (used.count(m.name)) e.models.push_back(m);
    out.push_back(std::move(e));
  }
  return out;
}

/// The NATS service API (`$SRV`, ADR-32): every node answers discovery, so `infermesh status` and NATS
/// tooling see it. Subscribed last: a node that answers discovery serves its ops.
std::optional<error> node::impl::start_service_api() {
  service_sources sources;
  sources.identity.name = std::string(wire::service_name);
  sources.identity.id = new_service_id();
  sources.identity.version = INFERMESH_VERSION;
  sources.identity.description = "infermesh inference node '" + config.node_name + "'";
  sources.identity.metadata = {{"node", config.node_name}, {"host", host_name()}};
  for (const auto& [op, used] : ops_to_serve(config))
    sources.endpoints.push_back({op, wire::op_subject(op), std::string(wire::queue_group), {}});
  sources.started = started;
  sources.health = [this] { return model_health_now(); };
  sources.collect = [this] { return collect_service_stats(); };
  auto responder = service_responder::start(*transport, std::move(sources));
  if (!responder) return responder.err();
  service = std::move(*responder);
  return std::nullopt;
}

// --- HTTP health and metrics (issue 11 §3) -------------------------------------------------------------------

/// Serves `/v2/health/*`, `/v2/models/{name}/ready` and `/metrics` (http_routes.hpp) from the start: while the
/// models load, live is 200 and ready 503 "loading model ...".
std::optional<error> node::impl::start_http() {
  if (config.http.listen.empty()) return std::nullopt;
  std::vector<std::string> ops, models;
  for (const auto& [op, used] : ops_to_serve(config)) ops.push_back(op);
  for (const auto& hosted : config.models) models.push_back(hosted.model.name);
  std::vector<std::string> durable(config.durable_ops.begin(), config.durable_ops.end());
  metrics = std::make_unique<node_metrics>(ops, models, durable);
  http_sources sources{[this] { return live_now(); }, [this] { return readiness_now(); }, [this] { return scrape_now(); }};
  auto server = http_server::start(config.http, [sources](const http_request_line& req) { return answer_http(sources, req); });
  if (!server) return server.err();
  http = std::move(*server);
  log(log_level::info, "http: health and metrics on ", config.http.listen);
  return std::nullopt;
}

/// HTTP thread: live while the router (its supervisor, the node's front door) answers a ping; before it exists
/// the node is starting, and the process answering is all there is to ask.
std::string node::impl::live_now() {
  router_actor front;
  observe([&](const observed_state& o) { front = o.router; });
  if (!front) return "";
  std::string problem;
  caf::scoped_actor self{system};
  self->request(front, std::chrono::seconds(1), ping_atom::value)
      .receive([](bool) {}, [&](const caf::error& e) { problem = "the router does not answer: " + system.render(e); });
  return problem;
}

/// HTTP thread: what readiness depends on (no actor asked: health as the gate sees it).
readiness_inputs node::impl::readiness_now() const {
  std::lock_guard<std::mutex> guard(observed_mutex);
  readiness_inputs in;
  in.connected = observed.transport && observed.transport->connected();
  in.subscribed = observed.subscribed;
  in.draining = observed.draining;
  in.router_healthy = !observed.health || observed.health->healthy(router_name);
  for (const auto& hosted : config.models) {
    const auto& name = hosted.model.name;
    model_phase phase = model_phase::loading;
    if (observed.loaded.count(name)) phase = observed.health->healthy(name) ? model_phase::serving : model_phase::unhealthy;
    if (auto slot = observed.slot_phases.find(name); slot != observed.slot_phases.end() && observed.loaded.count(name)) {
      switch (slot->second) {
        case slot_phase::serving: break;  // health says (a supervisor past its restart intensity: unhealthy)
        case slot_phase::unloaded: phase = model_phase::unloaded; break;
        // Not loaded because of max_loaded_models, or loading for a request: the node serves it on demand.
        case slot_phase::evicted: phase = model_phase::on_demand; break;
        case slot_phase::loading: phase = config.max_loaded_models > 0 ? model_phase::on_demand : model_phase::loading; break;
      }
    }
    in.models.push_back({name, phase});
  }
  return in;
}

/// HTTP thread: the gauges' figures, asking every batcher at once (at most `service_stats_timeout`; one that
/// does not answer keeps its last values), then the metrics text.
std::string node::impl::scrape_now() {
  scrape_figures figures;
  figures.backlog_requests = backlog->requests();
  figures.backlog_bytes = backlog->bytes();
  named_batchers asked_batchers;
  {
    std::lock_guard<std::mutex> guard(observed_mutex);
    asked_batchers = observed.batchers;
    if (observed.transport) {
      figures.nats_reconnects = observed.transport->reconnects();
      figures.nats_dropped = observed.transport->dropped();
      for (const auto& op : config.durable_ops) figures.ack_pending[op] = observed.transport->held(op);
    }
  }
  {
    caf::scoped_actor self{system};
    std::vector<std::pair<std::string, decltype(self->request(std::declval<batcher_actor>(), service_stats_timeout,
                                                              stats_atom::value))>>
        asked;
    for (const auto& [name, b] : asked_batchers) asked.emplace_back(name, self->request(b, service_stats_timeout, stats_atom::value));
    for (auto& [name, handle] : asked)
      handle.receive([&, n = name](const batcher_stats& s) { figures.models[n] = {s.queued, s.queued + s.in_batch}; },
                     [](const caf::error&) {});
  }
  return metrics->scrape(figures);
}

outcome<std::unique_ptr<node>> node::start(node_config config) {
  auto p = std::make_unique<impl>(std::move(config));
  const node_config& c = p->config;
  log(log_level::info, "starting from ", c.source);  // the log names the node
  if (c.faults) p->door = std::make_unique<fault_door>();
  if (auto e = p->start_http()) return *e;

  router_setup setup;
  setup.node_name = c.node_name;
  setup.limits = {c.max_payload_bytes, c.max_image_bytes};
  setup.default_deadline = c.default_deadline;
  setup.pipelines = c.pipelines;
  setup.documents = c.documents;
  setup.max_inflight_document_pixels = c.max_inflight_document_pixels;
  setup.max_pages = c.max_pages;
  setup.reply_cache_entries = c.reply_cache_entries;
  setup.reply_cache_ttl = c.reply_cache_ttl;
  setup.max_waiters_per_id = c.max_waiters_per_id;
  setup.max_deliver = c.max_deliver;
  if (auto* m = p->metrics.get())
    setup.on_reply = [m](const std::string& op, const reply& rep, double seconds) {
      m->on_reply(op, rep.ok ? "ok" : rep.failure ? std::string(to_string(rep.failure->code)) : "error", seconds);
    };

  if (auto e = p->connect()) return *e;
  if (auto e = p->start_models(setup)) return *e;
  setup.splitter = p->preprocessors;
  if (auto e = p->start_remote_steps(setup)) return *e;
  const auto placement = placement_of(c, setup.local_steps);
  p->start_router(std::move(setup));
  if (auto e = p->start_fault_control()) return *e;
  std::string serving;
  if (auto e = p->start_ingress(serving)) return *e;
  if (auto e = p->start_service_api()) return *e;
  if (auto e = p->transport->flush(std::chrono::seconds(5))) return *e;
  if (p->transport->max_payload() < c.max_payload_bytes)
    log(log_level::warn, "nats server max_payload is ", p->transport->max_payload(),
        " bytes, below node.max_payload_bytes ", c.max_payload_bytes, ": larger requests cannot reach this node");
  log(log_level::info, "pipelines: ", placement);
  log(log_level::info, "ready: serving ", serving.empty() ? "nothing" : serving, " via ",
      p->transport->connected_server());
  return std::unique_ptr<node>(new node(std::move(p)));
}

void node::drain_and_stop() {
  auto& p = *impl_;
  if (p.stopped) return;
  log(log_level::info, "draining: unsubscribing and finishing accepted requests");
  p.observe([](impl::observed_state& o) { o.draining = true; });
  if (p.service) p.service->stop();  // a draining node leaves discovery first
  p.transport->stop_pulling();  // no more work-queue requests; unacknowledged ones go to other nodes
  // Only the op subscriptions: replies from other nodes (remote steps) still come in while draining.
  // The gate stops changing subscriptions first, so the ones drained are all there are.
  p.transport->drain_subscriptions(p.gate->close(), p.config.drain_timeout);
  caf::anon_send(p.router, drain_atom::value);
  const auto until = std::chrono::steady_clock::now() + p.config.drain_timeout;
  router_stats s = p.ask_router();
  while (s.in_flight > 0 && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    s = p.ask_router();
  }
  if (s.in_flight > 0) log(log_level::warn, "drain timeout: ", s.in_flight, " request(s) still in flight");
  p.transport->flush(std::chrono::seconds(2));
  log_stats(p.system, p.batchers(), p.router);
  p.stop_actors();
  log(log_level::info, "stopped");
}

}  // namespace infermesh
