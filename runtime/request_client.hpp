#pragma once
/// Client side of the wire contract: send one request for an op and wait for its reply. Used by the CLI and
/// the integration tests (which therefore exercise exactly what a user runs).

#include <chrono>
#include <string>

#include "messages/codec.hpp"
#include "runtime/nats_transport.hpp"

namespace infermesh {

/// Encodes `req` in `enc`, requests `infermesh.v1.<op>`, and decodes the reply. Transport failures become
/// error replies too (`unavailable` when no node serves the op, `deadline_exceeded` on timeout), so callers
/// handle one shape.
reply send_request(nats_transport& transport, const std::string& op, const request& req, encoding enc,
                   std::chrono::milliseconds timeout);

}  // namespace infermesh
