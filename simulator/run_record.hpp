#pragma once
/// What one simulation run observed, as plain data: the input of the report (report.hpp). The runner fills it;
/// nothing here knows NATS or processes. Times are milliseconds since the start of the run (warm-up begins at
/// `warmup_start_ms`, the measured part at `measure_start_ms`).

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "simulator/schedule.hpp"

namespace infermesh::sim {

/// One request of the workload.
struct request_record {
  std::string id;
  std::string op;
  bool durable = false;
  double intended_ms = 0;   ///< when the arrival process meant to send it (open loop; closed loop: = sent)
  double sent_ms = 0;       ///< when it was actually sent (later than intended when the client fell behind)
  double reply_ms = -1;     ///< first reply; -1: none (lost, or `shed` by the client before it was sent)
  /// "ok", a wire error code the node answered (`overloaded`, `internal`, ...), "lost" (accepted or sent, and no
  /// reply by the timeout), or "shed" (never sent: the client's in-flight bound was full; not a loss).
  std::string code;
  std::string node;         ///< the node that answered
  int tries = 1;            ///< core delivery: tries made (same id)
  int replies = 0;          ///< replies seen for its id (> 1: duplicated)
  /// latency as the user sees it: reply - intended (coordinated omission is not hidden); -1 without a reply.
  double latency_ms() const { return reply_ms < 0 ? -1 : reply_ms - intended_ms; }
};

/// One fault as it happened.
struct fault_record {
  planned_fault plan;
  std::vector<std::string> targets;  ///< what it hit (node / server / host names)
  std::string detail;                ///< what was done ("SIGKILL pid 1234", "slow doc-classifier 200 ms")
  double start_ms = 0;               ///< when it was applied
  double end_ms = 0;                 ///< when it was undone (== start for instantaneous faults once checked)
  bool applied = false;
  std::string error;                 ///< why it could not be applied or undone ("" = fine)
};

/// One action of the journal (Chaos Toolkit's): everything the simulator did, in order.
struct journal_entry {
  double at_ms = 0;
  std::string action;                ///< "launch", "ready", "apply", "undo", "probe", "cleanup", ...
  std::string detail;
};

/// Counters read from the nodes (`$SRV.STATS` of the infermesh service) before the first fault and at the end.
struct node_counters {
  std::string node;
  std::map<std::string, double> before;  ///< e.g. restarts, redeliveries, requests, errors
  std::map<std::string, double> after;
};

/// The cleanup check: each thing the simulator made or changed, and whether it is gone.
struct cleanup_item {
  std::string what;                  ///< "process nats-1 (pid 1234)", "namespace im-sim-1", "nft table ..."
  bool gone = false;
};

/// A whole run as observed: the report's only input.
struct run_record {
  std::string scenario_name;
  std::string scenario_file;
  std::uint64_t seed = 0;
  std::string cluster_file;          ///< the (derived) cluster file the simulator launched, or "attach"
  std::vector<planned_fault> schedule;
  double warmup_start_ms = 0;
  double measure_start_ms = 0;
  double end_ms = 0;
  std::vector<request_record> requests;
  std::vector<fault_record> faults;
  std::vector<journal_entry> journal;
  std::vector<node_counters> nodes;
  std::vector<cleanup_item> cleanup;
  bool interrupted = false;          ///< SIGINT ended the run early
  /// The cluster's ideal throughput for the workload's ops, when its models are synthetic: the sum over nodes of
  /// max_batch_size / (latency + per_item_latency x max_batch_size); 0 when it cannot be known (real models).
  double ideal_rps = 0;
  /// An independent count of the replies, from a separate subscriber on the reply inboxes (`_INBOX.>` seen by
  /// another connection): replies per request id. The report checks its own counts against it.
  std::map<std::string, int> observed_replies;
};

}  // namespace infermesh::sim
