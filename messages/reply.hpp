#pragma once
/// A v1 reply (protocol.md "Reply"): exactly one per request, success or a coded error.

#include <optional>
#include <string>
#include <vector>

#include "messages/error_code.hpp"
#include "messages/model_ref.hpp"
#include "messages/value.hpp"

namespace infermesh {

/// Where the time of one request went, in milliseconds. `batch_size` is an optional extension field.
struct timing {
  double queue_ms = 0;    ///< accepted -> its batch started computing (includes decode and preprocessing)
  double compute_ms = 0;  ///< the forward pass of its batch
  double total_ms = 0;    ///< accepted -> reply published
  int batch_size = 0;     ///< size of the batch it ran in (0 when it never ran)
};

/// One reply: the op's result or a coded error, with where its time went and which models took part.
struct reply {
  std::string id;
  bool ok = false;
  std::string op;
  value result;                   ///< op-specific map, present when ok
  std::optional<error> failure;   ///< present when !ok
  timing time;
  std::string node;
  /// Wire `model` (always one map): the model that produced `result` — the classifier for `classify`, the OCR
  /// engine for `ocr`, `extract` and `process`. Absent on an error reply.
  std::optional<model_ref> model;
  /// Wire `models` (optional array): every model the request used, in pipeline order, each once.
  std::vector<model_ref> models;

  /// An error reply for `id` and `op`.
  static reply failed(std::string id, std::string op, error_code code, std::string message) {
    reply r;
    r.id = std::move(id);
    r.op = std::move(op);
    r.failure = error{code, std::move(message)};
    return r;
  }
};

}  // namespace infermesh
