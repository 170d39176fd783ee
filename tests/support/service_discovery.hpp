#pragma once
/// Test helpers for the NATS service API (`$SRV`, ADR-32): gather every answer to one request for a bounded
/// time (several nodes answer), and validate answers against the JSON Schemas in tests/schemas/ with
/// python3-jsonschema.

#include <chrono>
#include <string>
#include <vector>

#include "runtime/nats_transport.hpp"

namespace infermesh::test {

/// Publishes `payload` to `subject` with a fresh reply inbox and returns every answer that arrived within `wait`
/// (the server's no-responders status is not one).
std::vector<std::string> gather_answers(nats_transport& transport, const std::string& subject,
                                        std::chrono::milliseconds wait, const std::string& payload = "");

/// "" when every one of `documents` is valid against tests/schemas/<schema>.json; else python's report.
std::string schema_problems(const std::string& schema, const std::vector<std::string>& documents);

}  // namespace infermesh::test
