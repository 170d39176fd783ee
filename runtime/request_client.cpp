#include "runtime/request_client.hpp"

#include <algorithm>
#include <iterator>

#include "runtime/node.hpp"

namespace infermesh {

reply send_request(nats_transport& transport, const std::string& op, const request& req, encoding enc,
                   std::chrono::milliseconds timeout) {
  static const char* const v1_ops[] = {"classify", "ocr", "extract", "process"};
  if (std::find(std::begin(v1_ops), std::end(v1_ops), op) == std::end(v1_ops))
    return reply::failed(req.id, op, error_code::not_found,
                         "unknown op '" + op + "' (v1 ops: classify, ocr, extract, process)");
  const auto payload = encode_request(req, enc);
  auto answer = transport.request(subject_of(op), payload, timeout);
  if (!answer) return reply::failed(req.id, op, answer.err().code, answer.err().message);
  auto decoded = decode_reply(*answer);
  if (!decoded) return reply::failed(req.id, op, error_code::internal, "unreadable reply: " + decoded.err().message);
  return std::move(*decoded);
}

}  // namespace infermesh
