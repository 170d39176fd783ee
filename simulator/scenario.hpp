#pragma once
/// A fault-injection scenario (`infermesh simulate SCENARIO.yaml`), as read from its file; the format is
/// simulations/README.md's. Plain data: parse_scenario validates once and names the bad key
/// (`faults[2].target.choose: must be one, all or percent`), the schedule (schedule.hpp) resolves it.

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "messages/outcome.hpp"

namespace infermesh::sim {

using millis = std::chrono::milliseconds;

/// `cluster:` — what the simulation runs against.
struct cluster_spec {
  std::string file;                  ///< a cluster file, launched by the simulator (relative: to the scenario's folder)
  std::vector<std::string> attach;   ///< or NATS URLs of a running cluster (then process faults need `pids:`... see README)
  bool free_ports = true;            ///< `ports: free` (default) moves every launched server and HTTP port to a free one
  bool namespaces = false;           ///< `hosts: namespaces`: each `hosts:` entry of the file becomes a network namespace
  millis ready_timeout{180000};      ///< `ready_timeout_ms`: how long the cluster may take to serve
};

struct op_weight {
  std::string op;      ///< classify, ocr, extract, process
  double weight = 1;
};

/// `workload:`.
struct workload_spec {
  enum class arrivals { poisson, constant, closed };
  arrivals kind = arrivals::poisson;
  double rate = 20;                  ///< requests/s (open loop)
  int clients = 8;                   ///< closed loop: concurrent clients; open loop: at most this many in flight... see README
  int max_in_flight = 256;           ///< open loop: requests waiting for a reply at most (more: counted `shed` by the client)
  std::vector<op_weight> mix{{"classify", 1}};
  std::string inputs;                ///< a folder of images/documents; "" = the bundled samples/
  std::map<std::string, bool> durable;  ///< op -> through JetStream (`delivery: {process: durable}`); default: the cluster file's
  int attempts = 3;                  ///< core: tries per request (same id)
  millis attempt_timeout{10000};
  millis backoff{100};
  millis timeout{30000};             ///< a request with no reply by then is lost
  millis duration{60000};            ///< of the measured part (after warm-up)
  millis warmup{5000};
};

/// `steady_state:` — tolerances, each checked before the first fault, during faults, and after the last one.
struct steady_state_spec {
  std::optional<double> p99_ms;          ///< p99 latency under this
  std::optional<double> error_rate;      ///< errors / answered under this (0.01 = 1%)
  std::optional<double> throughput_rps;  ///< answered per second above this
  bool zero_lost = true;                 ///< `lost: 0` (always checked; cannot be turned off... see README)
  std::optional<double> during_p99_ms;   ///< during faults, when set (else p99 is not judged during faults)
  std::optional<double> during_error_rate;
  millis recovery{30000};                ///< after each fault ends, back within the tolerances within this
  millis window{2000};                   ///< the sliding window the tolerances are judged over
};

/// Which targets a fault hits: exactly one of name / role selects candidates, `choose` picks among them.
struct target_spec {
  std::string node;       ///< `node: NAME`
  std::string nats;       ///< `nats: NAME` (a launched server)
  std::string host;       ///< `host: NAME` (network faults)
  /// `role:` node (optionally `serves: OP`), nats (optionally `of: NODE`: the server that node is connected to),
  /// host, consumer-leader / stream-leader (the NATS server leading `op`'s consumer or the work-queue stream).
  std::string role;
  std::string serves;
  std::string of;
  std::string op;         ///< for consumer-leader and stepdown-consumer
  enum class choice { one, all, percent };
  choice choose = choice::one;
  double percent = 0;     ///< choose: percent, `percent: 50`
};

/// One fault of the timeline, or a group of them.
struct fault_spec {
  std::string kind;                  ///< see README: kill, term, pause, restart, crash, slow, fail, fail-load, ...
  millis at{0};                      ///< after the start of the measured part (or of its group)
  millis duration{0};                ///< 0: instantaneous (kill, crash, stepdown) — still undone at its end
  target_spec target;
  std::map<std::string, std::string> params;  ///< kind-specific (`model`, `actor`, `ms`, `count`, `jitter_ms`, ...)
  /// A group (`serial:` or `parallel:` list) instead of a single fault.
  enum class group_kind { none, serial, parallel };
  group_kind group = group_kind::none;
  std::vector<fault_spec> members;
  std::optional<millis> every;       ///< repeat the fault (or group) this often...
  int repeat = 1;                    ///< ...this many times in all
};

struct scenario {
  std::string name;                  ///< `name:` (default: the file's stem)
  std::string description;
  std::uint64_t seed = 1;
  cluster_spec cluster;
  workload_spec workload;
  steady_state_spec steady_state;
  std::vector<fault_spec> faults;
  std::string source_dir;            ///< the scenario file's folder (relative paths resolve against it)
};

/// Parses a scenario. Errors are `bad_request` naming the key (`workload.rate: must be > 0`).
outcome<scenario> parse_scenario(const std::string& yaml, const std::string& source_dir);
outcome<scenario> load_scenario_file(const std::string& path);

/// Every fault kind the simulator knows, with its one-line description (for `--help` and validation).
const std::vector<std::pair<std::string, std::string>>& fault_kinds();

}  // namespace infermesh::sim
