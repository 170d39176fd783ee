#include "runtime/node.hpp"

#include <caf/all.hpp>

#include <thread>

#include "actors/batcher.hpp"
#include "actors/model_actor.hpp"
#include "actors/model_step.hpp"
#include "actors/ocr_pool.hpp"
#include "actors/preprocessor.hpp"
#include "actors/remote_step.hpp"
#include "actors/router.hpp"
#include "runtime/log.hpp"
#include "runtime/stats_reporter.hpp"

namespace infermesh {

std::string subject_of(const std::string& op) { return "infermesh.v1." + op; }

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
  std::vector<int> op_subscriptions;
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
    auto all = std::vector<caf::actor>{router, reporter, remote, preprocessors};
    all.insert(all.end(), steps.begin(), steps.end());
    for (auto& m : models) all.push_back(caf::actor_cast<caf::actor>(m));
    for (auto& [name, b] : batchers) all.push_back(caf::actor_cast<caf::actor>(b));
    for (auto& a : all)
      if (a) caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
    system.await_all_actors_done();
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

/// The ops this node subscribes to: those whose pipeline has a step, other than `orient`, that a model here
/// serves. (A node hosting only the classifier takes classify and process, not ocr: it would only forward it.)
std::vector<std::string> ops_to_serve(const node_config& c, const std::map<step_kind, step_server>& local) {
  std::vector<std::string> ops;
  for (const auto& [op, steps] : c.pipelines)
    for (auto step : steps)
      if (step != step_kind::orient && step != step_kind::extract && local.count(step)) {
        ops.push_back(op);
        break;
      }
  return ops;
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
      auto pool = spawn_ocr_pool(p->system, {m.name, m.version, hosted.batching.queue_capacity}, std::move(engines));
      p->steps.push_back(pool);
      for (const auto& step : m.serves) setup.local_steps[*parse_step(step)] = pool;
      continue;
    }
    auto loaded = load_model(m);
    if (!loaded) return error{loaded.err().code, "model '" + m.name + "': " + loaded.err().message};
    const std::chrono::duration<double, std::milli> took = std::chrono::steady_clock::now() - started;
    log(log_level::info, "model '", m.name, "' v", m.version, " loaded and warmed up on ", m.device, " in ",
        static_cast<int>(took.count()), " ms (", m.labels.size(), " labels, ", m.threads, " thread(s))");
    auto actor = spawn_model_actor(p->system, std::shared_ptr<model>(std::move(*loaded)));
    p->models.push_back(actor);
    auto batcher = spawn_batcher(p->system, {m.name, hosted.batching, m.input, actor, p->preprocessors});
    p->batchers.emplace_back(m.name, batcher);
    const step_kind step = *parse_step(m.serves.front());
    auto server = spawn_model_step(p->system, {step, batcher, m.name, m.version, m.labels});
    p->steps.push_back(server);
    setup.local_steps[step] = server;
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
  remote.subject_prefix = subject_of("");
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
  const auto served = ops_to_serve(c, setup.local_steps);
  p->router = spawn_router(p->system, std::move(setup));
  p->reporter = spawn_stats_reporter(p->system, c.stats_interval, p->batchers, p->router);

  std::string ops;
  for (const auto& op : served) {
    auto router = p->router;
    auto sub = p->transport->subscribe(subject_of(op), "infermesh", [router, op](incoming_message&& in) {
      // nats.c delivery thread: hand off without blocking.
      caf::anon_send(router, incoming_atom::value, op, std::move(in.payload), std::move(in.reply));
    });
    if (!sub) return sub.err();
    p->op_subscriptions.push_back(*sub);
    ops += (ops.empty() ? "" : ", ") + op;
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
  p.transport->drain_subscriptions(p.op_subscriptions, p.config.drain_timeout);  // replies from other nodes still come
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
