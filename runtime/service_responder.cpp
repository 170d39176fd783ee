#include "runtime/service_responder.hpp"

#include "messages/subjects.hpp"
#include "runtime/log.hpp"

namespace infermesh {
namespace {

/// The answer to one `$SRV` request on `subject` (payload ignored, as ADR-32 says).
std::string answer(const service_sources& s, const std::string& subject) {
  auto id = s.identity;
  const auto models = s.health();
  id.metadata["models"] = model_metadata(models);
  const auto verb = parse_service_subject(subject, id.name, id.id);
  if (!verb) return error_response(id, "unknown service request '" + subject + "': the verbs are PING, INFO, STATS");
  switch (*verb) {
    case service_verb::ping: return ping_response(id);
    case service_verb::info: return info_response(id, s.endpoints);
    case service_verb::stats: return stats_response(id, s.started, s.collect());
  }
  return error_response(id, "unreachable");
}

}  // namespace

service_responder::service_responder(nats_transport& transport, std::shared_ptr<const service_sources> sources)
    : transport_(transport), sources_(std::move(sources)) {}

service_responder::~service_responder() { stop(); }

void service_responder::stop() {
  for (int id : subscriptions_) transport_.unsubscribe(id);
  subscriptions_.clear();
}

outcome<std::unique_ptr<service_responder>> service_responder::start(nats_transport& transport,
                                                                     service_sources sources) {
  auto shared = std::make_shared<const service_sources>(std::move(sources));
  std::unique_ptr<service_responder> r(new service_responder(transport, shared));
  for (const auto& subject : wire::service_subscriptions(shared->identity.name, shared->identity.id)) {
    // nats.c delivery thread: `shared` outlives the subscription (the handler holds it).
    auto sub = transport.subscribe(subject, "", [shared, t = &transport](incoming_message&& in) {
      if (in.reply.empty()) return;  // a plain publish: nobody to answer
      std::string body;
      try {
        body = answer(*shared, in.subject);
      } catch (const std::exception& e) {  // never let a discovery request take the node down
        body = error_response(shared->identity, std::string("internal: ") + e.what());
      }
      if (auto e = t->publish(in.reply, body)) log(log_level::warn, "service reply not sent: ", e->message);
    });
    if (!sub) return sub.err();
    r->subscriptions_.push_back(*sub);
  }
  return r;
}

}  // namespace infermesh
