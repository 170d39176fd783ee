#include "runtime/node.hpp"

#include <caf/all.hpp>

#include <atomic>
#include <set>
#include <thread>

#include "actors/batcher.hpp"
#include "actors/batcher_supervisor.hpp"
#include "actors/model_actor.hpp"
#include "actors/model_step.hpp"
#include "actors/ocr_pool.hpp"
#include "actors/preprocessor.hpp"
#include "actors/remote_step.hpp"
#include "actors/router.hpp"
#include "actors/router_supervisor.hpp"
#include "actors/step_supervisor.hpp"
#include "messages/codec.hpp"
#include "messages/subjects.hpp"
#include "runtime/health_gate.hpp"
#include "runtime/log.hpp"
#include "runtime/stats_reporter.hpp"

namespace infermesh {

namespace {

caf::actor_system_config& scheduler_config(caf::actor_system_config& cfg) {
  // Router, batchers and the stats reporter are cheap event-based actors; heavy work runs on detached threads.
  cfg.set("scheduler.max-threads", std::max(2u, std::thread::hardware_concurrency()));
  cfg.set("scheduler.policy", caf::atom("sharing"));
  return cfg;
}

}  // namespace

struct node::impl {
  node_config config;
  caf::actor_system_config caf_config;  // must outlive `system`
  caf::actor_system system{scheduler_config(caf_config)};
  std::unique_ptr<nats_transport> transport;
  caf::actor preprocessors;
  std::vector<caf::actor> steps;  // step servers: model steps and OCR pools
  caf::actor remote;
  std::unique_ptr<health_gate> gate;
  std::vector<std::pair<std::string, caf::actor>> fault_targets;  // model name -> its supervisor (batcher, pool)
  std::shared_ptr<std::atomic<health_gate*>> gate_slot = std::make_shared<std::atomic<health_gate*>>(nullptr);
  std::vector<model_actor> models;
  std::vector<std::pair<std::string, batcher_actor>> batchers;  // model name -> batcher
  caf::actor router;
  caf::actor reporter;
  bool stopped = false;

  explicit impl(node_config c) : config(std::move(c)) {}

  ~impl() {
    if (!stopped) stop_actors();
  }

  void stop_actors() {
    stopped = true;
    gate_slot->store(nullptr);
    auto all = std::vector<caf::actor>{router, reporter, remote, preprocessors};
    all.insert(all.end(), steps.begin(), steps.end());
    for (auto& m : models) all.push_back(caf::actor_cast<caf::actor>(m));
    for (auto& [name, b] : batchers) all.push_back(caf::actor_cast<caf::actor>(b));
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
};

node::node(std::unique_ptr<impl> p) : impl_(std::move(p)) {}
node::~node() = default;

namespace {

/// The router's name in health reports (health_gate): past its restart intensity the node takes no op.
const std::string router_name = "router";

/// A supervisor's health reports for `name`, to the node's gate (once it exists).
std::function<void(bool)> health_reporter(std::shared_ptr<std::atomic<health_gate*>> slot, std::string name) {
  return [slot = std::move(slot), name = std::move(name)](bool healthy) {
    if (auto* gate = slot->load()) gate->report(name, healthy);
  };
}

/// The ops this node subscribes to, each with the local models its pipeline uses: those whose pipeline has a
/// step, other than `orient`, that a model here serves. (A node hosting only the classifier takes classify
/// and process, not ocr: it would only forward it.)
std::map<std::string, std::set<std::string>> ops_to_serve(const node_config& c,
                                                          const std::map<step_kind, std::string>& local_models) {
  std::map<std::string, std::set<std::string>> ops;
  for (const auto& [op, steps] : c.pipelines) {
    bool takes = false;
    std::set<std::string> models;
    for (auto step : steps) {
      auto found = local_models.find(step);
      if (found == local_models.end()) continue;
      models.insert(found->second);
      takes = takes || step != step_kind::orient;
    }
    models.insert(router_name);  // every op needs the router too
    if (takes) ops[op] = std::move(models);
  }
  return ops;
}

/// The fault-injection control subject (node.faults): {"model": NAME, "action": crash|crash-batcher|crash-step|
/// crash-pool|slow|fail|heal, "value": N} goes to every supervisor of that model (batcher_supervisor.hpp,
/// step_supervisor.hpp), each acting on its own actions; {"actor": "router", "action": "crash"} to the router's.
/// The reply (when asked) is {"ok": true} or {"ok": false, "error"}.
void handle_fault(const incoming_message& in, const std::vector<std::pair<std::string, caf::actor>>& targets,
                  const caf::actor& router, nats_transport& transport) {
  auto answer = [&](bool ok, const std::string& problem) {
    if (in.reply.empty()) return;
    value_map out{{"ok", ok}};
    if (!ok) out.emplace_back("error", problem);
    transport.publish(in.reply, encode_value(value{std::move(out)}, encoding::json));
  };
  auto v = decode_value(in.payload, encoding::json, decode_limits{});
  if (v && v->find("actor") && v->find("action")) {  // {"actor": "router", "action": "crash"}
    const auto* actor = v->find("actor")->get_if<std::string>();
    const auto* action = v->find("action")->get_if<std::string>();
    if (!actor || !action || *actor != "router" || *action != "crash")
      return answer(false, "the only actor fault is {\"actor\": \"router\", \"action\": \"crash\"}");
    caf::anon_send(router, fault_atom::value, *action, std::int64_t{0});
    log(log_level::warn, "fault injected: crash on the router");
    return answer(true, "");
  }
  if (!v || !v->find("model") || !v->find("action")) return answer(false, "expected {model, action, value}");
  const auto* model = v->find("model")->get_if<std::string>();
  const auto* action = v->find("action")->get_if<std::string>();
  if (!model || !action) return answer(false, "model and action must be strings");
  std::int64_t value = 0;
  if (const auto* n = v->find("value"); n && n->get_if<std::int64_t>()) value = *n->get_if<std::int64_t>();
  static const std::set<std::string> actions{"crash", "crash-batcher", "crash-step", "crash-pool", "slow", "fail", "heal"};
  if (!actions.count(*action))
    return answer(false, "unknown action '" + *action + "' (crash, crash-batcher, crash-step, crash-pool, slow, fail, heal)");
  bool found = false;
  for (const auto& [name, target] : targets)  // a model's supervisors each take the faults meant for them
    if (name == *model) {
      caf::anon_send(target, fault_atom::value, *action, value);
      found = true;
    }
  if (!found) return answer(false, "no model named '" + *model + "' on this node");
  log(log_level::warn, "fault injected: ", *action, " ", value, " on model '", *model, "'");
  answer(true, "");
}

}  // namespace

outcome<std::unique_ptr<node>> node::start(node_config config) {
  auto p = std::make_unique<impl>(std::move(config));
  const node_config& c = p->config;
  log(log_level::info, "node '", c.node_name, "' starting from ", c.source);

  p->preprocessors = spawn_preprocessor_pool(p->system, c.preprocess_workers);
  router_setup setup;
  setup.node_name = c.node_name;
  setup.limits = {c.max_payload_bytes, c.max_image_bytes};
  setup.default_deadline = c.default_deadline;
  setup.pipelines = c.pipelines;
  setup.splitter = p->preprocessors;
  setup.documents = c.documents;
  setup.max_pages = c.max_pages;
  setup.reply_cache_entries = c.reply_cache_entries;
  setup.reply_cache_ttl = c.reply_cache_ttl;
  setup.max_deliver = c.max_deliver;
  std::map<step_kind, std::string> local_models;  // step -> the local model serving it
  for (const auto& hosted : c.models) {
    const auto& m = hosted.model;
    const auto started = std::chrono::steady_clock::now();
    if (m.backend == model_config::backend_kind::tesseract) {
      std::vector<std::shared_ptr<tesseract_ocr>> engines;
      for (int i = 0; i < m.workers; ++i) {
        auto engine = tesseract_ocr::create(m.ocr);
        if (!engine) return error{engine.err().code, "model '" + m.name + "': " + engine.err().message};
        engines.push_back(std::move(*engine));
      }
      log(log_level::info, "model '", m.name, "' v", m.version, ": ", m.workers, " Tesseract engine(s), language '",
          m.ocr.language, "'");
      ocr_pool_setup pool_setup{m.name, m.version, hosted.batching.queue_capacity, {}};
      pool_setup.make_engine = [config = m.ocr] { return tesseract_ocr::create(config); };
      auto first = spawn_ocr_pool(p->system, pool_setup, std::move(engines));
      step_supervisor_setup group{m.name, "pool", true, hosted.supervision, first, {}, {}, {}};
      caf::actor_system* sys = &p->system;
      group.respawn = [sys, pool_setup, workers = m.workers] {  // one_for_all: fresh engines, loading themselves
        return spawn_ocr_pool(*sys, pool_setup, std::vector<std::shared_ptr<tesseract_ocr>>(workers));
      };
      group.on_health = health_reporter(p->gate_slot, m.name);
      group.on_restarted = [name = m.name] { log(log_level::warn, "model '", name, "': OCR pool restarted"); };
      auto pool = spawn_step_supervisor(p->system, std::move(group));
      p->fault_targets.emplace_back(m.name, pool);
      p->steps.push_back(pool);
      for (const auto& step : m.serves) setup.local_steps[*parse_step(step)] = pool, local_models[*parse_step(step)] = m.name;
      continue;
    }
    auto loaded = load_model(m);
    if (!loaded) return error{loaded.err().code, "model '" + m.name + "': " + loaded.err().message};
    const std::chrono::duration<double, std::milli> took = std::chrono::steady_clock::now() - started;
    log(log_level::info, "model '", m.name, "' v", m.version, " loaded and warmed up on ", m.device, " in ",
        static_cast<int>(took.count()), " ms (", m.labels.size(), " labels, ", m.threads, " thread(s))");
    auto actor = spawn_model_actor(p->system, std::shared_ptr<model>(std::move(*loaded)));
    p->models.push_back(actor);
    batcher_setup bs{m.name, hosted.batching, m.input, actor, p->preprocessors, hosted.supervision, {}, {}, {}};
    bs.on_restarted = [name = m.name](double ms) {
      log(log_level::warn, "model '", name, "' restarted: ready ", static_cast<int>(ms), " ms after its crash");
    };
    caf::actor_system* sys = &p->system;
    bs.respawn = [sys, m] { return spawn_model_actor(*sys, nullptr, [m] { return load_model(m); }); };
    bs.on_health = health_reporter(p->gate_slot, m.name);
    batcher_supervisor_setup group{m.name, hosted.supervision, spawn_batcher(p->system, bs), {}, bs.on_health, {}};
    group.respawn = [sys, bs, m]() mutable {  // one_for_all: a fresh batcher with a fresh model actor
      bs.model = spawn_model_actor(*sys, nullptr, [m] { return load_model(m); });
      return spawn_batcher(*sys, bs);
    };
    group.on_restarted = [name = m.name] { log(log_level::warn, "model '", name, "': batcher restarted"); };
    auto batcher = spawn_batcher_supervisor(p->system, std::move(group));
    p->fault_targets.emplace_back(m.name, caf::actor_cast<caf::actor>(batcher));
    p->batchers.emplace_back(m.name, batcher);
    const step_kind step = *parse_step(m.serves.front());
    const model_step_setup step_setup{step, batcher, m.name, m.version, m.labels};
    step_supervisor_setup guard{m.name, "step", false, hosted.supervision, spawn_model_step(p->system, step_setup),
                                [sys, step_setup] { return spawn_model_step(*sys, step_setup); }, bs.on_health, {}};
    guard.on_restarted = [name = m.name] { log(log_level::warn, "model '", name, "': step actor restarted"); };
    auto server = spawn_step_supervisor(p->system, std::move(guard));
    p->fault_targets.emplace_back(m.name, server);  // "crash-step"
    p->steps.push_back(server);
    setup.local_steps[step] = server;
    local_models[step] = m.name;
  }

  auto transport = nats_transport::connect(p->config.nats);
  if (!transport) return transport.err();
  p->transport = std::move(*transport);
  nats_transport* t = p->transport.get();
  setup.publish = [t](const std::string& subject, std::string_view payload) {
    if (subject.empty()) return;  // a publish without a reply inbox: nobody to answer
    if (auto e = t->publish(subject, payload)) log(log_level::warn, "reply not sent: ", e->message);
  };

  // Steps this node does not host go over NATS; replies come back on one inbox subscription.
  remote_step_setup remote;
  remote.node_name = c.node_name;
  remote.subject_prefix = std::string(wire::subject_prefix);
  remote.inbox = t->new_inbox();
  remote.publish = [t](const std::string& subject, std::string_view payload,
                       const std::string& reply) -> std::optional<std::string> {
    if (auto e = t->publish(subject, payload, reply)) return e->message;
    return std::nullopt;
  };
  const auto inbox_prefix = remote.inbox + ".";
  p->remote = spawn_remote_step(p->system, std::move(remote));
  setup.remote = p->remote;
  auto remote_actor = p->remote;
  auto inbox = p->transport->subscribe(inbox_prefix + "*", "", [remote_actor, inbox_prefix](incoming_message&& in) {
    const auto ticket = std::strtoull(in.subject.c_str() + inbox_prefix.size(), nullptr, 10);
    caf::anon_send(remote_actor, reply_atom::value, static_cast<std::uint64_t>(ticket), std::move(in.payload),
                   in.no_responders);
  });
  if (!inbox) return inbox.err();

  std::string placement;
  for (const auto& [op, steps] : c.pipelines) {
    placement += (placement.empty() ? "" : "; ") + op + ":";
    for (auto step : steps)
      placement += std::string(" ") + std::string(step_name(step)) +
                   (step == step_kind::extract || setup.local_steps.count(step) ? "" : "(remote)");
  }
  router_supervisor_setup front{std::move(setup), c.router_supervision, 10000, {}, {}};
  front.on_health = health_reporter(p->gate_slot, router_name);
  front.on_restarted = [] { log(log_level::warn, "router restarted"); };
  p->router = spawn_router_supervisor(p->system, std::move(front));
  p->reporter = spawn_stats_reporter(p->system, c.stats_interval, p->batchers, p->router);

  if (c.faults) {
    const auto subject = wire::control_subject(c.node_name);
    auto control = p->transport->subscribe(subject, "", [targets = p->fault_targets, router = p->router, t](incoming_message&& in) {
      handle_fault(in, targets, router, *t);
    });
    if (!control) return control.err();
    log(log_level::warn, "fault injection is on: control subject ", subject);
  }
  auto router = p->router;
  p->gate = std::make_unique<health_gate>(*t, ops_to_serve(c, local_models), [t, router](const std::string& op) {
    return t->subscribe(wire::op_subject(op), std::string(wire::queue_group), [router, op](incoming_message&& in) {
      // nats.c delivery thread: hand off without blocking.
      caf::anon_send(router, incoming_atom::value, op, std::move(in.payload), std::move(in.reply),
                     std::chrono::steady_clock::now());
    });
  });
  p->gate_slot->store(p->gate.get());
  if (auto e = p->gate->open()) return *e;
  std::string ops = p->gate->subscribed_ops();
  if (!c.durable_ops.empty()) {
    if (auto e = t->ensure_work_queue(c.work_queue)) return *e;
    const auto served = ops_to_serve(c, local_models);
    for (const auto& op : c.durable_ops) {
      if (!served.count(op)) continue;
      auto pulled = t->pull(op, c.work_queue, [router, op](durable_message&& m) {
        caf::anon_send(router, durable_atom::value, op, std::move(m.payload), m.delivered,
                       acknowledger{std::move(m.ack), std::move(m.nak)}, std::chrono::steady_clock::now());
      });
      if (pulled) return *pulled;
      ops += ", " + op + " (durable: " + c.work_queue.op_subject(op).value_or("?") + ")";
    }
  }
  if (auto e = p->transport->flush(std::chrono::seconds(5))) return *e;
  if (p->transport->max_payload() < c.max_payload_bytes)
    log(log_level::warn, "nats server max_payload is ", p->transport->max_payload(),
        " bytes, below node.max_payload_bytes ", c.max_payload_bytes, ": larger requests cannot reach this node");
  log(log_level::info, "pipelines: ", placement);
  log(log_level::info, "node '", c.node_name, "' ready: serving ", ops.empty() ? "nothing" : ops, " via ",
      p->transport->connected_server());
  return std::unique_ptr<node>(new node(std::move(p)));
}

void node::drain_and_stop() {
  auto& p = *impl_;
  if (p.stopped) return;
  log(log_level::info, "draining: unsubscribing and finishing accepted requests");
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
  log_stats(p.system, p.batchers, p.router);
  p.stop_actors();
  log(log_level::info, "node '", p.config.node_name, "' stopped");
}

}  // namespace infermesh
