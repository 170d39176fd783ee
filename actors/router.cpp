#include "actors/router.hpp"

#include <algorithm>

#include "actors/document.hpp"
#include "actors/reply_cache.hpp"
#include "messages/codec.hpp"
#include "messages/request_fingerprint.hpp"

namespace infermesh {
namespace {

using clock = std::chrono::steady_clock;

struct router_state {
  router_setup setup;
  std::optional<reply_cache> cache;
  router_stats stats;
  bool draining = false;
  std::uint64_t next_id = 0;
  std::uint64_t held_pixels = 0;  ///< of the split pages every pending request holds now
  static inline const char* name = "router";
};

using router_ptr = router_actor::stateful_pointer<router_state>;

double ms_since(steady_time t) { return std::chrono::duration<double, std::milli>(clock::now() - t).count(); }

/// Where the reply cache files `req` of `op`: a node's forward of a step never shares a client's entry (it
/// carries other fields, e.g. the `rotation` found where it came from, and must never be refused for that).
reply_cache::key cache_key_of(const std::string& op, const request& req) { return {op, req.id, req.hops > 0}; }

/// One accepted request on its way through its pipeline. Only the router's thread touches it.
struct pending {
  std::string op;
  const pipeline* steps = nullptr;
  request req;
  std::string reply_subject;
  encoding enc = encoding::msgpack;
  steady_time accepted{};
  std::chrono::milliseconds budget{};
  bool cached = false;     ///< the id came from the client and the reply cache holds its entry
  acknowledger ack;        ///< durable delivery: acknowledged after the reply is published
  document doc;
  std::uint64_t pixels = 0;  ///< of the split pages `doc` holds (counted in router_state::held_pixels)

  steady_time deadline() const { return accepted + budget; }
  reply_cache::key cache_key() const { return cache_key_of(op, req); }
  std::chrono::milliseconds remaining() const {
    return std::max(std::chrono::duration_cast<std::chrono::milliseconds>(deadline() - clock::now()),
                    std::chrono::milliseconds(1));
  }
};
using pending_ptr = std::shared_ptr<pending>;

/// Publishes `rep` to an `op` request, counting it (by op too: the node's `$SRV.STATS` endpoints).
void send_reply(router_ptr self, const std::string& op, const std::string& subject, encoding enc, reply& rep,
                steady_time accepted) {
  auto& st = self->state;
  rep.node = st.setup.node_name;
  rep.time.total_ms = ms_since(accepted);
  (rep.ok ? st.stats.replied_ok : st.stats.replied_error) += 1;
  auto& counters = st.stats.ops[op];
  ++counters.requests;
  const auto took = clock::now() - accepted;
  counters.processing_ns += static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(took).count());
  if (!rep.ok) {
    ++counters.errors;
    counters.last_error = rep.failure ? std::string(to_string(rep.failure->code)) + ": " + rep.failure->message
                                      : "error";
  }
  st.setup.publish(subject, encode_reply(rep, enc));
  if (st.setup.on_reply) st.setup.on_reply(op, rep, std::chrono::duration<double>(took).count());
  if (!rep.ok && st.setup.on_error_reply) st.setup.on_error_reply(rep);
}

/// The request's split pages are no longer needed (its last step that looks at pages is done, or it is
/// answered): released now, not when the answer goes.
void release_pages(router_ptr self, pending& p) {
  p.doc.pages = {};
  self->state.held_pixels -= p.pixels;
  p.pixels = 0;
}

/// Answers an accepted request (exactly once: every path of a pipeline ends here or in `fail`).
void finish(router_ptr self, const pending_ptr& p, reply& rep) {
  release_pages(self, *p);
  --self->state.stats.in_flight;
  // A durable request this node cannot take now (a full queue, an unhealthy model) goes back to the work
  // queue unanswered: another node (or this one, later) takes it. Its client is waiting for a real answer.
  if (p->ack.durable() && rep.failure &&
      (rep.failure->code == error_code::overloaded || rep.failure->code == error_code::unavailable)) {
    ++self->state.stats.handed_back;
    // Repeats of it waiting here are deliveries of the same queued message: handing it back covers them.
    if (p->cached) self->state.cache->complete(p->cache_key(), rep, clock::now(), false);
    return p->ack.nak();
  }
  rep.id = p->req.id;
  rep.op = p->op;
  if (rep.ok) rep.model = result_model(p->op, p->doc);
  rep.models = p->doc.models;
  const double total = rep.time.total_ms;
  rep.time = p->doc.time;
  rep.time.total_ms = total;
  send_reply(self, p->op, p->reply_subject, p->enc, rep, p->accepted);
  if (!p->cached) return p->ack();
  const bool transient = rep.failure && (rep.failure->code == error_code::overloaded ||
                                         rep.failure->code == error_code::unavailable ||
                                         rep.failure->code == error_code::deadline_exceeded);
  for (const auto& other : self->state.cache->complete(p->cache_key(), rep, clock::now(), !transient)) {
    self->state.setup.publish(other.reply_subject, encode_reply(rep, other.enc));
    if (other.ack) other.ack();
  }
  p->ack();
}

void fail(router_ptr self, const pending_ptr& p, error_code code, std::string message) {
  auto rep = reply::failed(p->req.id, p->op, code, std::move(message));
  finish(self, p, rep);
}

/// The error handler of a step: CAF's timeout is the request's deadline; anything else means the actor died.
auto on_step_error(router_ptr self, pending_ptr p, step_kind step) {
  return [self, p, step](caf::error& e) {
    if (e == caf::sec::request_timeout)
      fail(self, p, error_code::deadline_exceeded,
           "no answer within the deadline of " + std::to_string(p->budget.count()) + " ms (step '" +
               std::string(step_name(step)) + "')");
    else
      fail(self, p, error_code::unavailable,
           "step '" + std::string(step_name(step)) + "' is not running: " + self->system().render(e));
  };
}

step_request step_request_for(const pending& p, step_kind step) {
  step_request s;
  s.step = step;
  s.id = p.req.id;
  s.input = p.req.image;
  s.pages = p.doc.pages;
  s.rotations = p.doc.rotations;
  s.auto_rotate = p.req.auto_rotate;
  s.max_pages = static_cast<int>(p.req.max_pages);
  s.priority = p.req.priority;
  s.hops = p.req.hops;
  s.accepted = p.accepted;
  s.deadline = p.deadline();
  return s;
}

/// Field extraction: plain code on the text the pipeline has, run here (every node can).
void extract(pending& p) {
  std::string text;
  for (const auto& page : *p.doc.text) text += page.text + "\f";
  p.doc.weigh_type_by_text(text);  // the image model's type, weighed by the type words the pages print
  const auto doc_type = p.doc.doc_type_for_fields();
  auto found = doc_type ? extract_fields(*doc_type, text) : std::nullopt;
  p.doc.fields = found ? std::move(*found) : extracted_fields{};
}

/// Caps a step's reported queue wait and compute at `wall_ms`, the time the step took as seen here.
void within(step_reply& r, double wall_ms) {
  r.compute_ms = std::min(r.compute_ms, wall_ms);
  r.queue_ms = std::min(r.queue_ms, wall_ms - r.compute_ms);
}

/// Runs the pipeline from step `i` on: skips steps whose findings are in, runs the next one where it is
/// served, and answers when the last step is done.
void walk(router_ptr self, pending_ptr p, std::size_t i) {
  const pipeline& steps = *p->steps;
  while (i < steps.size() && p->doc.has(steps[i], p->req.auto_rotate)) ++i;
  if (std::none_of(steps.begin() + static_cast<std::ptrdiff_t>(i), steps.end(), needs_pages)) release_pages(self, *p);
  if (i == steps.size()) {
    reply rep;
    rep.ok = true;
    rep.result = result_of(p->op, p->doc);
    return finish(self, p, rep);
  }
  const step_kind step = steps[i];
  if (step == step_kind::extract) {
    extract(*p);
    return walk(self, std::move(p), i + 1);
  }
  const auto& local = self->state.setup.local_steps;
  const auto found = local.find(step);
  if (step == step_kind::orient && found == local.end() && p->req.hops > 0)
    return walk(self, std::move(p), i + 1);  // forwarded here: not again; the OCR engine orients pages itself
  const step_actor& server = found != local.end() ? found->second : self->state.setup.remote;
  if (!server)
    return fail(self, p, error_code::unavailable,
                "node '" + self->state.setup.node_name + "' cannot run step '" + std::string(step_name(step)) + "'");
  const bool remote = found == local.end();
  const auto asked = clock::now();
  self->request(server, p->remaining(), step_atom::value, step_request_for(*p, step))
      .then(
          [self, p, i, step, remote, asked](step_reply& found) {
            // Orientation from another node is best effort: when no node can give it, the OCR engine orients
            // each page itself and the classifier sees the page as sent (its result then has no `rotation`).
            if (found.failure && step == step_kind::orient && remote && found.failure->code == error_code::unavailable)
              return walk(self, p, i + 1);
            if (found.failure) return fail(self, p, found.failure->code, std::move(found.failure->message));
            // A remote node's times are its own (from its reply cache, they are the first answer's): within
            // this step they are at most the time it took here, so the steps never add up to more than total.
            if (remote) within(found, std::chrono::duration<double, std::milli>(clock::now() - asked).count());
            p->doc.absorb(found);
            walk(self, p, i + 1);
          },
          on_step_error(self, p, step));
}

/// Splits a PDF or TIFF into pages (off the router's thread), then walks the pipeline.
void start(router_ptr self, pending_ptr p) {
  const auto& st = self->state;
  if (clock::now() >= p->deadline())
    return fail(self, p, error_code::deadline_exceeded,
                "the deadline of " + std::to_string(p->budget.count()) + " ms passed while the request waited on node '" +
                    st.setup.node_name + "' (" + std::to_string(static_cast<long long>(ms_since(p->accepted))) + " ms)");
  auto begin = [self](const pending_ptr& p, std::vector<shared_bytes> pages, int total) {
    p->doc.pages = std::move(pages);
    p->doc.total_pages = total;
    p->doc.rotations.assign(p->doc.pages.size(), std::nullopt);
    if (p->req.rotation)
      for (auto& r : p->doc.rotations) r = page_rotation{static_cast<int>(*p->req.rotation), 1.0, false};
    const auto& known = p->req.page_rotations;  // a forwarded document's pages, oriented where it came from
    for (std::size_t i = 0; i < std::min(known.size(), p->doc.rotations.size()); ++i)
      p->doc.rotations[i] = page_rotation{static_cast<int>(known[i]), 1.0, false};
    walk(self, p, 0);
  };
  if (!is_multi_page_format(p->req.image)) return begin(p, {p->req.image}, 1);
  const auto busy = [self] {
    return "node '" + self->state.setup.node_name + "' holds " + std::to_string(self->state.held_pixels) +
           " pixels of other documents' pages (node.max_inflight_document_pixels " +
           std::to_string(self->state.setup.max_inflight_document_pixels) + "): retry later or elsewhere";
  };
  if (st.held_pixels >= st.setup.max_inflight_document_pixels) return fail(self, p, error_code::overloaded, busy());
  // Only the pages the pipeline looks at are split: `classify` reads page 1 alone.
  const int max_pages = reads_every_page(*p->steps)
                            ? static_cast<int>(std::min<std::int64_t>(p->req.max_pages, st.setup.max_pages))
                            : 1;
  self->request(st.setup.splitter, p->remaining(), split_atom::value,
                p->req.image, max_pages, st.setup.documents, p->deadline())
      .then(
          [self, p, begin, busy](split_result& split) {
            if (split.failure) return fail(self, p, split.failure->code, std::move(split.failure->message));
            auto& st = self->state;
            if (st.held_pixels + split.pixels > st.setup.max_inflight_document_pixels)
              return fail(self, p, error_code::overloaded, busy());
            st.held_pixels += split.pixels;
            p->pixels = split.pixels;
            begin(p, std::move(split.pages), split.total_pages);
          },
          [self, p](caf::error& e) {
            if (e == caf::sec::request_timeout)
              fail(self, p, error_code::deadline_exceeded, "the deadline passed while the document was split");
            else
              fail(self, p, error_code::internal, "document splitting failed: " + self->system().render(e));
          });
}

/// One request, from a core subscription (`reply_subject` set) or the work queue (`durable`: the reply goes to
/// the request's `reply_to`, and `ack` follows it).
/// `accepted` is when the node took it from NATS: its deadline and `total_ms` count from there, the time it
/// waited in the router's mailbox (or, while the router restarted, in its supervisor's) included.
void handle(router_ptr self, steady_time accepted, const std::string& op, const shared_bytes& payload,
            std::string reply_subject, backlog_ticket ticket, bool durable = false, std::uint64_t delivered = 1,
            acknowledger ack = {}) {
  auto& st = self->state;
  ++st.stats.received;
  const auto enc = detect_encoding(payload);
  auto decoded = decode_request(payload, st.setup.limits);
  ticket.release();  // decoded: no longer part of the ingress backlog (the NATS callback admits the next)
  if (durable && decoded && decoded->reply_to) reply_subject = *decoded->reply_to;
  if (reply_subject.empty()) {  // nobody to answer (a plain publish, or a queued request without reply_to)
    ++st.stats.no_reply_subject;
    return ack();
  }
  auto refuse = [&](std::string id, error_code code, std::string message) {
    auto rep = reply::failed(std::move(id), op, code, std::move(message));
    send_reply(self, op, reply_subject, enc, rep, accepted);
    ack();
  };
  if (!decoded) return refuse("", decoded.err().code, decoded.err().message);
  request& req = *decoded;
  if (durable && delivered > st.setup.max_deliver)
    return refuse(req.id, error_code::internal,
                  "delivered " + std::to_string(delivered) + " times without an answer (max_deliver " +
                      std::to_string(st.setup.max_deliver) + "): removed from the work queue");
  const bool generated_id = req.id.empty();
  if (generated_id) req.id = st.setup.node_name + "-" + std::to_string(st.next_id++);
  auto found = st.setup.pipelines.find(op);
  if (found == st.setup.pipelines.end()) return refuse(req.id, error_code::not_found, "no model serves op '" + op + "'");
  if (st.draining) return refuse(req.id, error_code::unavailable, "node '" + st.setup.node_name + "' is draining");
  if (req.image_path)
    return refuse(req.id, error_code::bad_request, "'image_path' is not enabled on this node: send 'image' bytes");
  if (!is_wire_format(req.image))  // refused before any decoder sees it, whatever the decoders could read
    return refuse(req.id, error_code::unsupported_media, "field 'image' is not a PNG, JPEG, TIFF or PDF file");
  if (op == "extract" && !req.doc_type) return refuse(req.id, error_code::bad_request, "'extract' needs the field 'doc_type'");
  if (req.doc_type) {
    const auto& known = extractable_doc_types();
    if (std::find(known.begin(), known.end(), *req.doc_type) == known.end())
      return refuse(req.id, error_code::not_found, "unknown doc_type '" + *req.doc_type + "'");
  }
  if (req.max_pages > st.setup.max_pages)
    return refuse(req.id, error_code::too_large, "'max_pages' is " + std::to_string(req.max_pages) +
                                                     ", over this node's limit of " + std::to_string(st.setup.max_pages));
  bool cached = !generated_id;
  if (cached) {  // a retry of a request this node has seen: never computed twice
    auto seen = st.cache->admit(cache_key_of(op, req), fingerprint_of(req), {reply_subject, enc, ack.ack}, accepted);
    switch (seen.verdict) {
      case reply_cache::seen::in_flight: ++st.stats.repeats; return;  // answered (and acked) with the first
      case reply_cache::seen::too_many_waiters:
        // Held repeats cost memory until the first is answered: past the bound a repeat is refused at once
        // (a later retry gets the remembered answer). A durable one is a delivery of the same queued message:
        // handed back, it comes again later.
        ++st.stats.repeats_refused;
        if (ack.durable()) {
          ++st.stats.handed_back;
          return ack.nak();
        }
        return refuse(req.id, error_code::overloaded,
                      "'id' \"" + req.id + "\" is in flight on node '" + st.setup.node_name + "' with " +
                          std::to_string(st.cache->max_waiters()) +
                          " repeats already waiting for its answer (node.max_waiters_per_id): retry later for the first answer");
      case reply_cache::seen::answered:
        ++st.stats.repeats;
        st.setup.publish(reply_subject, encode_reply(seen.answer, enc));
        return ack();
      case reply_cache::seen::other_request:
        // A node's forward is computed afresh, uncached: behind two forwards with one id may be two requests
        // its sender took as different (two ops there), each owed its own answer. Refusing a reused id is the
        // job of the node the client asked.
        if (req.hops > 0) {
          cached = false;
          break;
        }
        return refuse(req.id, error_code::bad_request,
                      "'id' \"" + req.id + "\" already names another '" + op + "' request on node '" +
                          st.setup.node_name + "' (its '" + seen.differs_in +
                          "' differs): a retry must resend the same request; a new request needs a new 'id'");
      case reply_cache::seen::new_request: break;
    }
  }
  ++st.stats.in_flight;
  const auto budget = req.deadline_ms ? std::chrono::milliseconds(*req.deadline_ms) : st.setup.default_deadline;
  auto p = std::make_shared<pending>();
  p->op = op;
  p->steps = &found->second;
  p->reply_subject = reply_subject;
  p->enc = enc;
  p->accepted = accepted;
  p->budget = budget;
  p->cached = cached;
  p->ack = std::move(ack);
  if (req.doc_type) p->doc.doc_type_asked = *req.doc_type;
  p->req = std::move(req);
  start(self, std::move(p));
}

router_actor::behavior_type router_behavior(router_ptr self, router_setup setup) {
  self->state.cache.emplace(setup.reply_cache_entries, setup.reply_cache_ttl, setup.max_waiters_per_id);
  self->state.setup = std::move(setup);
  return {
      [=](incoming_atom, const std::string& op, const shared_bytes& payload, const std::string& reply_subject,
          steady_time received, backlog_ticket& ticket) {
        handle(self, received, op, payload, reply_subject, std::move(ticket));
      },
      [=](durable_atom, const std::string& op, const shared_bytes& payload, std::uint64_t delivered,
          const acknowledger& ack, steady_time received) {
        handle(self, received, op, payload, "", {}, true, delivered, ack);
      },
      [=](drain_atom) { self->state.draining = true; },
      [=](stats_atom) { return self->state.stats; },
      [=](ping_atom) { return true; },
  };
}

}  // namespace

router_actor spawn_router(caf::actor_system& sys, router_setup setup) {
  return sys.spawn(router_behavior, std::move(setup));
}

}  // namespace infermesh
