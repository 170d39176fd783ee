#pragma once
/// The wire's names (PROTOCOL.md), in one place: the ops, their NATS subjects and queue group, the durable
/// work queue's stream, subjects and consumers, and a node's control subject. Every user — nodes, the client
/// library, the CLI, tests — goes through these; no other file spells a subject. Plain code, no CAF or NATS
/// include; constexpr names and pure functions, callable from any thread.

#include <array>
#include <string>
#include <string_view>

namespace infermesh::wire {

/// Version prefix of every subject; a breaking change of the contract gets `infermesh.v2.`.
inline constexpr std::string_view subject_prefix = "infermesh.v1.";

/// The ops of the contract, in the order PROTOCOL.md lists them.
inline constexpr std::array<std::string_view, 4> ops{"classify", "ocr", "extract", "process"};

/// Whether `op` is one of `ops`.
constexpr bool is_op(std::string_view op) {
  for (auto known : ops)
    if (known == op) return true;
  return false;
}

/// The core request-reply subject of `op`: `infermesh.v1.<op>`.
inline std::string op_subject(std::string_view op) { return std::string(subject_prefix) + std::string(op); }

/// The queue group every node subscribes an op's subject in: NATS gives each request to one of them.
inline constexpr std::string_view queue_group = "infermesh";

/// Durable delivery: the JetStream work-queue stream, the subjects it captures, one per op, and the durable
/// pull consumer of each op.
inline constexpr std::string_view work_queue_stream = "INFERMESH";
inline constexpr std::string_view work_queue_subjects = "infermesh.v1.jobs.>";
inline std::string durable_subject(std::string_view op) { return std::string(subject_prefix) + "jobs." + std::string(op); }
inline std::string durable_consumer(std::string_view op) { return "infermesh-" + std::string(op); }

/// A node's control subject (fault injection; later model lifecycle): `infermesh.v1.control.<node>`.
inline std::string control_subject(std::string_view node_name) {
  return std::string(subject_prefix) + "control." + std::string(node_name);
}

/// NATS service discovery (ADR-32, the `micro` protocol): every node answers `$SRV.<verb>`,
/// `$SRV.<verb>.<name>` and `$SRV.<verb>.<name>.<id>` for the verbs below, on plain subscriptions (no queue
/// group: every node answers). `service_name` is the `<name>` every infermesh node shares.
inline constexpr std::string_view service_prefix = "$SRV.";
inline constexpr std::string_view service_name = "infermesh";
inline constexpr std::array<std::string_view, 3> service_verbs{"PING", "INFO", "STATS"};

/// `$SRV.<verb>`, `$SRV.<verb>.<name>` (name empty: the first) and `$SRV.<verb>.<name>.<id>` (id empty: the second).
inline std::string service_subject(std::string_view verb, std::string_view name = "", std::string_view id = "") {
  std::string out = std::string(service_prefix) + std::string(verb);
  if (!name.empty()) out += "." + std::string(name);
  if (!name.empty() && !id.empty()) out += "." + std::string(id);
  return out;
}

/// The subscriptions one service instance answers on, one per form, any verb (`*`): the verb is read from the
/// subject (an unknown one gets an error reply).
inline std::array<std::string, 3> service_subscriptions(std::string_view name, std::string_view id) {
  return {service_subject("*"), service_subject("*", name), service_subject("*", name, id)};
}

/// The NATS client name nodes and clients connect with (shows in the server's monitoring).
inline constexpr std::string_view client_name = "infermesh";

}  // namespace infermesh::wire
