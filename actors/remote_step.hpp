#pragma once
/// The remote step actor: runs a step on another node by asking the step's op over NATS (see
/// pipeline.hpp `remote_op_of`), with the request's id, bytes, priority and remaining deadline, and turns the
/// reply back into the step's findings. It is the same kind of step server as a local model's, so the router
/// has one code path for "run a step".
///
/// Interface: remote_step_actor (interfaces.hpp). Replies come back on one inbox subscription per node
/// (`<inbox>.<ticket>`), delivered to this actor as (reply_atom, ticket, payload, no_responders). No node serving the op answers `unavailable` at once; no
/// reply a little before the deadline (the node serving it may have died) also answers `unavailable`, early
/// enough for the router to pass it on within the client's deadline.

#include <functional>
#include <string>
#include <string_view>

#include "actors/interfaces.hpp"
#include "messages/request.hpp"

namespace infermesh {

struct remote_step_setup {
  std::string node_name;
  std::string inbox;  ///< replies arrive on `<inbox>.<ticket>`
  /// Publishes `payload` to `subject` with reply subject `reply`; an error message when it could not.
  std::function<std::optional<std::string>(const std::string& subject, std::string_view payload,
                                           const std::string& reply)>
      publish;
};

remote_step_actor spawn_remote_step(caf::actor_system& sys, remote_step_setup setup);

/// The request a node sends to run `step` of `req` elsewhere (pure; unit-tested).
request forwarded_request(const step_request& req, std::chrono::milliseconds remaining);

}  // namespace infermesh
