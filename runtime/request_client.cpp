#include "runtime/request_client.hpp"

#include <algorithm>
#include <cstdio>
#include <iterator>
#include <random>
#include <thread>

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

std::string random_request_id() {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  char out[32];
  std::snprintf(out, sizeof out, "req-%016llx", static_cast<unsigned long long>(rng()));
  return out;
}

reply send_with_retries(nats_transport& transport, const std::string& op, request req, encoding enc,
                        const retry_policy& policy, int* tries) {
  if (req.id.empty()) req.id = random_request_id();
  reply rep;
  for (int attempt = 1; attempt <= std::max(1, policy.attempts); ++attempt) {
    if (tries) *tries = attempt;
    rep = send_request(transport, op, req, enc, policy.attempt_timeout);
    const bool unanswered = !rep.ok && rep.node.empty();  // timeout or no responders: nobody took it
    const bool retry_elsewhere =
        rep.failure && (rep.failure->code == error_code::overloaded || rep.failure->code == error_code::unavailable);
    if (rep.ok || !(unanswered || retry_elsewhere) || rep.failure->code == error_code::not_found) return rep;
    if (attempt < policy.attempts) std::this_thread::sleep_for(policy.backoff);
  }
  return rep;
}

}  // namespace infermesh
