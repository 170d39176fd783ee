#include "runtime/stats_reporter.hpp"

#include "runtime/log.hpp"

namespace infermesh {
namespace {

void log_batcher(const std::string& name, const batcher_stats& s) {
  const double mean = s.batches ? static_cast<double>(s.batched_items) / static_cast<double>(s.batches) : 0.0;
  char mean_text[32];
  std::snprintf(mean_text, sizeof mean_text, "%.2f", mean);
  log(log_level::info, {{"model", name}}, "stats model '", name, "': ", s.requests, " requests in ", s.batches, " batches, mean batch ",
      mean_text, ", max batch ", s.max_batch, ", ", s.overloaded, " overloaded, ", s.expired, " expired, ", s.failed,
      " failed, ", s.model.restarts, " restarts (longest recovery ", static_cast<int>(s.model.max_recovery_ms), " ms), ",
      s.requeued, " requeued, model ", state_name(s.model.state), s.model.healthy ? "" : ", UNHEALTHY: " + s.model.reason);
}

void log_router(const router_stats& s) {
  log(log_level::info, "stats router: ", s.received, " received, ", s.replied_ok, " ok, ", s.replied_error,
      " errors, ", s.in_flight, " in flight, ", s.no_reply_subject, " without reply subject, ", s.repeats,
      " repeated ids answered from the reply cache, ", s.handed_back,
      " durable requests handed back to the work queue");
}

caf::behavior reporter_behavior(caf::event_based_actor* self, std::chrono::milliseconds interval,
                                named_batchers batchers, router_actor router) {
  if (interval.count() > 0) self->delayed_send(self, interval, caf::tick_atom::value);
  return {
      [=](caf::tick_atom) {
        for (const auto& [name, b] : batchers)
          self->request(b, std::chrono::seconds(5), stats_atom::value).then([name = name](const batcher_stats& s) {
            log_batcher(name, s);
          });
        self->request(router, std::chrono::seconds(5), stats_atom::value).then([](const router_stats& s) {
          log_router(s);
        });
        self->delayed_send(self, interval, caf::tick_atom::value);
      },
  };
}

}  // namespace

caf::actor spawn_stats_reporter(caf::actor_system& sys, std::chrono::milliseconds interval, named_batchers batchers,
                                router_actor router) {
  return sys.spawn(reporter_behavior, interval, std::move(batchers), std::move(router));
}

void log_stats(caf::actor_system& sys, const named_batchers& batchers, const router_actor& router) {
  caf::scoped_actor self{sys};
  for (const auto& [name, b] : batchers)
    self->request(b, std::chrono::seconds(5), stats_atom::value)
        .receive([&, n = name](const batcher_stats& s) { log_batcher(n, s); }, [](const caf::error&) {});
  self->request(router, std::chrono::seconds(5), stats_atom::value)
      .receive([](const router_stats& s) { log_router(s); }, [](const caf::error&) {});
}

}  // namespace infermesh
