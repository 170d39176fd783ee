#pragma once
/// `infermesh model list|reload|unload|load NODE [MODEL]`: the client side of the model commands
/// (model_control.hpp), as plain code over a transport so tests and the CLI share it.
/// Exit status: 0 ok, 1 the node answered an error, 3 no node answered (no responders: not running, or
/// without `node.control`; or the timeout passed).

#include <chrono>
#include <string>

#include "runtime/nats_transport.hpp"

namespace infermesh {

/// What the command prints and returns.
struct model_client_result {
  int status = 0;
  std::string out;  ///< stdout
  std::string err;  ///< stderr
};

/// Sends `verb` ("list", "reload", "unload", "load") for `model` ("" for list) to `node` and formats the answer:
/// as the node's JSON (`json`) or a table / one line.
model_client_result run_model_client(nats_transport& transport, const std::string& verb, const std::string& node,
                                     const std::string& model, std::chrono::milliseconds timeout, bool json);

}  // namespace infermesh
