#include "actors/remote_step.hpp"

#include <algorithm>
#include <map>

#include "actors/document.hpp"
#include "messages/codec.hpp"
#include "messages/subjects.hpp"

namespace infermesh {

request forwarded_request(const step_request& req, std::chrono::milliseconds remaining) {
  request out;
  out.id = req.id;
  out.image = req.input;
  out.max_pages = req.max_pages;
  out.priority = req.priority;
  out.deadline_ms = std::max<std::int64_t>(1, remaining.count());
  out.hops = req.hops + 1;
  // What the other node should do before the step: orient when asked to (`orient` is asked as `classify`,
  // which orients first), else turn the pages by the rotations already known here — `rotation` for a single
  // page, `page_rotations` for a document — (with `auto_rotate` as the client sent it, so the OCR there may
  // still settle a half turn by reading).
  out.auto_rotate = req.auto_rotate;
  const bool all_known = !req.rotations.empty() &&
                         std::all_of(req.rotations.begin(), req.rotations.end(), [](const auto& r) { return r.has_value(); });
  if (req.step == step_kind::orient) {
    out.max_pages = 1;
  } else if (all_known && req.rotations.size() == 1) {
    out.rotation = req.rotations[0]->degrees;
  } else if (all_known) {
    for (const auto& r : req.rotations) out.page_rotations.push_back(r->degrees);
  }
  if (req.step == step_kind::classify) out.max_pages = 1;
  return out;
}

namespace {

using clock = std::chrono::steady_clock;

/// A request is forwarded at most once: a node that receives a forwarded request runs what it hosts (the
/// router skips an `orient` step it cannot run locally), so nodes that each lack a step cannot loop.
constexpr int max_forwards = 1;

struct waiting {
  caf::typed_response_promise<step_reply> promise;
  std::string subject;
};

struct remote_state {
  remote_step_setup setup;
  std::map<std::uint64_t, waiting> waiting_for;
  std::uint64_t next_ticket = 0;
  static inline const char* name = "remote_step";
};

/// The wait for a remote reply ends this long before the request's deadline, so that an `unavailable` (the
/// remote node is gone) still reaches the client in time: a tenth of the budget left, at most 200 ms.
std::chrono::milliseconds reply_margin(std::chrono::milliseconds remaining) {
  return std::min(remaining / 10, std::chrono::milliseconds(200));
}

using remote_impl = remote_step_actor::extend<caf::reacts_to<expire_atom, std::uint64_t>>;

remote_impl::behavior_type remote_behavior(remote_impl::stateful_pointer<remote_state> self, remote_step_setup setup) {
  self->state.setup = std::move(setup);
  return {
      [=](step_atom, const step_request& req) -> caf::result<step_reply> {
        auto& st = self->state;
        const std::string subject = wire::op_subject(remote_op_of(req.step));
        if (req.hops >= max_forwards)
          return step_reply::failed({error_code::unavailable,
                                     "node '" + st.setup.node_name + "' does not host the '" +
                                         std::string(step_name(req.step)) + "' step and the request was already "
                                         "forwarded " + std::to_string(req.hops) + " times (no routing loops)"});
        const auto remaining = std::chrono::duration_cast<std::chrono::milliseconds>(req.deadline - clock::now());
        if (remaining <= std::chrono::milliseconds(0))
          return step_reply::failed({error_code::deadline_exceeded, "the deadline passed before the step started"});
        const auto margin = reply_margin(remaining);
        const auto ticket = st.next_ticket++;
        const auto payload = encode_request(forwarded_request(req, remaining - margin), encoding::msgpack);
        if (auto problem = st.setup.publish(subject, payload, st.setup.inbox + "." + std::to_string(ticket)))
          return step_reply::failed({error_code::unavailable, "could not forward to '" + subject + "': " + *problem});
        auto promise = self->make_response_promise<step_reply>();
        st.waiting_for.emplace(ticket, waiting{promise, subject});
        self->delayed_send(self, remaining - margin, expire_atom::value, ticket);
        return promise;
      },
      [=](ping_atom) { return true; },
      [=](reply_atom, std::uint64_t ticket, const shared_bytes& payload, bool no_responders) {
        auto found = self->state.waiting_for.find(ticket);
        if (found == self->state.waiting_for.end()) return;  // expired already: a late reply is dropped
        auto w = std::move(found->second);
        self->state.waiting_for.erase(found);
        if (no_responders) {
          w.promise.deliver(step_reply::failed({error_code::unavailable, "no node serves '" + w.subject + "'"}));
          return;
        }
        auto rep = decode_reply(payload);
        if (!rep)
          w.promise.deliver(step_reply::failed(
              {error_code::internal, "unreadable reply from '" + w.subject + "': " + rep.err().message}));
        else
          w.promise.deliver(findings_from_reply(*rep));
      },
      [=](expire_atom, std::uint64_t ticket) {
        auto found = self->state.waiting_for.find(ticket);
        if (found == self->state.waiting_for.end()) return;
        auto w = std::move(found->second);
        self->state.waiting_for.erase(found);
        w.promise.deliver(step_reply::failed(
            {error_code::unavailable, "no reply from '" + w.subject + "' in time (the node serving it may be gone)"}));
      },
  };
}

}  // namespace

remote_step_actor spawn_remote_step(caf::actor_system& sys, remote_step_setup setup) {
  return sys.spawn(remote_behavior, std::move(setup));
}

}  // namespace infermesh
