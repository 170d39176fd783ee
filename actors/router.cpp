#include "actors/router.hpp"

#include "actors/classify_result.hpp"
#include "actors/ocr_result.hpp"
#include "messages/codec.hpp"

namespace infermesh {
namespace {

using clock = std::chrono::steady_clock;

struct router_state {
  router_setup setup;
  router_stats stats;
  std::map<std::string, std::size_t> in_flight_by_op;
  bool draining = false;
  std::uint64_t next_id = 0;
  static inline const char* name = "router";
};

double ms_since(steady_time t) { return std::chrono::duration<double, std::milli>(clock::now() - t).count(); }

void send_reply(caf::stateful_actor<router_state>* self, const std::string& subject, encoding enc, reply& rep,
                steady_time accepted) {
  auto& st = self->state;
  rep.node = st.setup.node_name;
  rep.time.total_ms = ms_since(accepted);
  (rep.ok ? st.stats.replied_ok : st.stats.replied_error) += 1;
  st.setup.publish(subject, encode_reply(rep, enc));
}

void handle(caf::stateful_actor<router_state>* self, const std::string& op, const shared_bytes& payload,
            const std::string& reply_subject) {
  auto& st = self->state;
  const auto accepted = clock::now();
  ++st.stats.received;
  if (reply_subject.empty()) {  // a plain publish: nobody to answer, so nothing to compute
    ++st.stats.no_reply_subject;
    return;
  }
  const auto enc = detect_encoding(payload);
  auto fail = [&](std::string id, error_code code, std::string message) {
    auto rep = reply::failed(std::move(id), op, code, std::move(message));
    send_reply(self, reply_subject, enc, rep, accepted);
  };
  auto decoded = decode_request(payload, st.setup.limits);
  if (!decoded) return fail("", decoded.err().code, decoded.err().message);
  request& req = *decoded;
  if (req.id.empty()) req.id = st.setup.node_name + "-" + std::to_string(st.next_id++);
  auto found = st.setup.routes.find(op);
  if (found == st.setup.routes.end()) return fail(req.id, error_code::not_found, "no model serves op '" + op + "'");
  if (st.draining) return fail(req.id, error_code::unavailable, "node '" + st.setup.node_name + "' is draining");
  if (req.image_path)
    return fail(req.id, error_code::bad_request, "'image_path' is not enabled on this node: send 'image' bytes");

  const route& r = found->second;
  const auto budget =
      req.deadline_ms ? std::chrono::milliseconds(*req.deadline_ms) : st.setup.default_deadline;
  auto& op_in_flight = st.in_flight_by_op[op];
  if (r.what == route::kind::ocr && op_in_flight >= r.capacity)
    return fail(req.id, error_code::overloaded,
                "op '" + op + "' has " + std::to_string(op_in_flight) + " requests in flight (capacity " +
                    std::to_string(r.capacity) + ")");
  ++st.stats.in_flight;
  ++op_in_flight;
  auto finish = [=](reply& rep) {
    --self->state.stats.in_flight;
    --self->state.in_flight_by_op[op];
    rep.models = {{r.model_name, r.model_version}};
    send_reply(self, reply_subject, enc, rep, accepted);
  };
  auto on_error = [=](caf::error& e) {
    auto rep = e == caf::sec::request_timeout
                   ? reply::failed(req.id, op, error_code::deadline_exceeded,
                                   "no answer within the deadline of " + std::to_string(budget.count()) + " ms")
                   : reply::failed(req.id, op, error_code::unavailable,
                                   "model '" + r.model_name + "' is not running: " + self->system().render(e));
    finish(rep);
  };
  if (r.what == route::kind::ocr) {
    self->request(r.ocr_pool, budget, ocr_atom::value, req.image, req.auto_rotate)
        .then(
            [=](ocr_result& res) {
              reply rep;
              rep.id = req.id;
              rep.op = op;
              rep.time.compute_ms = res.compute_ms;
              if (res.failure) {
                rep.failure = std::move(res.failure);
              } else {
                rep.ok = true;
                rep.result = ocr_pages_result({res.page});
              }
              finish(rep);
            },
            on_error);
    return;
  }
  infer_job job{req.image, req.priority, accepted, accepted + budget};
  self->request(r.batcher, budget, infer_atom::value, std::move(job))
      .then(
          [=](item_result& res) {
            reply rep;
            rep.id = req.id;
            rep.op = op;
            rep.time = {res.queue_ms, res.compute_ms, 0, res.batch_size};
            if (res.failure) {
              rep.failure = std::move(res.failure);
            } else {
              rep.ok = true;
              rep.result = classify_result(r.labels, res.scores);
            }
            finish(rep);
          },
          on_error);
}

caf::behavior router_behavior(caf::stateful_actor<router_state>* self, router_setup setup) {
  self->state.setup = std::move(setup);
  return {
      [=](incoming_atom, const std::string& op, const shared_bytes& payload, const std::string& reply_subject) {
        handle(self, op, payload, reply_subject);
      },
      [=](drain_atom) { self->state.draining = true; },
      [=](stats_atom) { return self->state.stats; },
  };
}

}  // namespace

caf::actor spawn_router(caf::actor_system& sys, router_setup setup) {
  return sys.spawn(router_behavior, std::move(setup));
}

}  // namespace infermesh
