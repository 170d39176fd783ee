#include "actors/router.hpp"

#include <algorithm>

#include "actors/classify_result.hpp"
#include "actors/ocr_result.hpp"
#include "messages/codec.hpp"
#include "models/field_extraction.hpp"

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

using router_ptr = caf::stateful_actor<router_state>*;

double ms_since(steady_time t) { return std::chrono::duration<double, std::milli>(clock::now() - t).count(); }

/// One accepted request on its way through a route: everything its continuations need.
struct pending {
  std::string op;
  request req;
  std::string reply_subject;
  encoding enc = encoding::msgpack;
  steady_time accepted{};
  std::chrono::milliseconds budget{};
  route r;

  steady_time deadline() const { return accepted + budget; }
  std::chrono::milliseconds remaining() const {
    return std::max(std::chrono::duration_cast<std::chrono::milliseconds>(deadline() - clock::now()),
                    std::chrono::milliseconds(1));
  }
};
using pending_ptr = std::shared_ptr<const pending>;

void send_reply(router_ptr self, const std::string& subject, encoding enc, reply& rep, steady_time accepted) {
  auto& st = self->state;
  rep.node = st.setup.node_name;
  rep.time.total_ms = ms_since(accepted);
  (rep.ok ? st.stats.replied_ok : st.stats.replied_error) += 1;
  st.setup.publish(subject, encode_reply(rep, enc));
}

/// Answers an accepted request (exactly once: every path of a route ends here).
void finish(router_ptr self, const pending_ptr& p, reply& rep) {
  --self->state.stats.in_flight;
  --self->state.in_flight_by_op[p->op];
  rep.id = p->req.id;
  rep.op = p->op;
  rep.models = {{p->r.model_name, p->r.model_version}};
  send_reply(self, p->reply_subject, p->enc, rep, p->accepted);
}

void fail(router_ptr self, const pending_ptr& p, error_code code, std::string message) {
  auto rep = reply::failed(p->req.id, p->op, code, std::move(message));
  finish(self, p, rep);
}

/// The error handler of a step: CAF's timeout is the request's deadline; anything else means the actor died.
auto on_step_error(router_ptr self, pending_ptr p) {
  return [self, p](caf::error& e) {
    if (e == caf::sec::request_timeout)
      fail(self, p, error_code::deadline_exceeded,
           "no answer within the deadline of " + std::to_string(p->budget.count()) + " ms");
    else
      fail(self, p, error_code::unavailable,
           "model '" + p->r.model_name + "' is not running: " + self->system().render(e));
  };
}

void run_classifier(router_ptr self, pending_ptr p, std::optional<page_rotation> rotation) {
  infer_job job{p->req.image, p->req.priority, p->accepted, p->deadline(), rotation ? rotation->degrees : 0};
  self->request(p->r.batcher, p->remaining(), infer_atom::value, std::move(job))
      .then(
          [self, p, rotation](item_result& res) {
            reply rep;
            rep.time = {res.queue_ms, res.compute_ms, 0, res.batch_size};
            if (res.failure) {
              rep.failure = std::move(res.failure);
            } else {
              rep.ok = true;
              rep.result = classify_result(p->r.labels, res.scores);
              if (rotation) rep.result.get_if<value_map>()->emplace_back("rotation", rotation_value(*rotation));
            }
            finish(self, p, rep);
          },
          on_step_error(self, p));
}

void classify(router_ptr self, pending_ptr p) {
  const auto& orienter = self->state.setup.orienter;
  if (!p->req.auto_rotate || !orienter) return run_classifier(self, std::move(p), std::nullopt);
  self->request(orienter, p->remaining(), orient_atom::value, p->req.image)
      .then(
          [self, p](orient_result& res) {
            if (res.failure) return fail(self, p, res.failure->code, res.failure->message);
            if (res.rotation.degrees != 0) res.rotation.corrected = true;
            run_classifier(self, p, res.rotation);
          },
          on_step_error(self, p));
}

void read_text(router_ptr self, pending_ptr p) {
  self->request(p->r.ocr_pool, p->remaining(), ocr_atom::value, p->req.image, p->req.auto_rotate)
      .then(
          [self, p](ocr_result& res) {
            reply rep;
            rep.time.compute_ms = res.compute_ms;
            if (res.failure) {
              rep.failure = std::move(res.failure);
            } else if (p->r.what == route::kind::ocr) {
              rep.ok = true;
              rep.result = ocr_pages_result({res.page});
            } else {
              auto fields = extract_fields(*p->req.doc_type, res.page.text);
              value_map found, valid;
              for (const auto& [name, v] : fields->fields) found.emplace_back(name, v);
              for (const auto& [name, ok] : fields->valid) valid.emplace_back(name, ok);
              rep.ok = true;
              rep.result = value_map{{"doc_type", *p->req.doc_type}, {"fields", std::move(found)},
                                     {"valid", std::move(valid)}};
            }
            finish(self, p, rep);
          },
          on_step_error(self, p));
}

void handle(router_ptr self, const std::string& op, const shared_bytes& payload, const std::string& reply_subject) {
  auto& st = self->state;
  const auto accepted = clock::now();
  ++st.stats.received;
  if (reply_subject.empty()) {  // a plain publish: nobody to answer, so nothing to compute
    ++st.stats.no_reply_subject;
    return;
  }
  const auto enc = detect_encoding(payload);
  auto refuse = [&](std::string id, error_code code, std::string message) {
    auto rep = reply::failed(std::move(id), op, code, std::move(message));
    send_reply(self, reply_subject, enc, rep, accepted);
  };
  auto decoded = decode_request(payload, st.setup.limits);
  if (!decoded) return refuse("", decoded.err().code, decoded.err().message);
  request& req = *decoded;
  if (req.id.empty()) req.id = st.setup.node_name + "-" + std::to_string(st.next_id++);
  auto found = st.setup.routes.find(op);
  if (found == st.setup.routes.end()) return refuse(req.id, error_code::not_found, "no model serves op '" + op + "'");
  if (st.draining) return refuse(req.id, error_code::unavailable, "node '" + st.setup.node_name + "' is draining");
  if (req.image_path)
    return refuse(req.id, error_code::bad_request, "'image_path' is not enabled on this node: send 'image' bytes");
  const route& r = found->second;
  if (r.what == route::kind::extract) {
    if (!req.doc_type) return refuse(req.id, error_code::bad_request, "'extract' needs the field 'doc_type'");
    const auto& known = extractable_doc_types();
    if (std::find(known.begin(), known.end(), *req.doc_type) == known.end())
      return refuse(req.id, error_code::not_found, "unknown doc_type '" + *req.doc_type + "'");
  }
  auto& op_in_flight = st.in_flight_by_op[op];
  if (r.what != route::kind::classify && op_in_flight >= r.capacity)
    return refuse(req.id, error_code::overloaded,
                  "op '" + op + "' has " + std::to_string(op_in_flight) + " requests in flight (capacity " +
                      std::to_string(r.capacity) + ")");
  ++st.stats.in_flight;
  ++op_in_flight;
  const auto budget = req.deadline_ms ? std::chrono::milliseconds(*req.deadline_ms) : st.setup.default_deadline;
  auto p = std::make_shared<const pending>(pending{op, std::move(req), reply_subject, enc, accepted, budget, r});
  if (r.what == route::kind::classify) classify(self, std::move(p));
  else read_text(self, std::move(p));
}

caf::behavior router_behavior(router_ptr self, router_setup setup) {
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
