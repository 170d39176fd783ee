#pragma once
/// The one error vocabulary of infermesh: the wire's error codes (protocol v1). Internal failures map onto
/// these at one place each; a failed request is answered with one of them, never thrown across an actor.

#include <optional>
#include <string>
#include <string_view>

namespace infermesh {

enum class error_code {
  bad_request,        ///< malformed payload, missing or wrongly typed field, invalid value
  unsupported_media,  ///< `image` is not a decodable PNG/JPEG (or a format the op does not read)
  too_large,          ///< payload, image bytes or image pixels over the node's configured limits
  not_found,          ///< unknown op, model or doc_type
  overloaded,         ///< a queue is full (a model's, the node's undecoded backlog, an id's waiting repeats): retry later
  deadline_exceeded,  ///< the request's deadline passed before it could be answered
  unavailable,        ///< model not ready, unhealthy, draining, or no node serves the op
  internal,           ///< a bug or an unexpected failure inside the node (model forward threw, ...)
};

/// The wire spelling of `code` ("bad_request", ...).
std::string_view to_string(error_code code);

/// The code whose wire spelling is `name`, if any.
std::optional<error_code> error_code_from_string(std::string_view name);

/// An error as it travels to the client: a code and a human-readable message naming the problem.
struct error {
  error_code code = error_code::internal;
  std::string message;
};

}  // namespace infermesh
