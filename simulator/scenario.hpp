#pragma once
/// A fault-injection scenario (`infermesh simulate SCENARIO.yaml`), as read from its file; the format is
/// simulations/README.md's. Plain data: parse_scenario validates once and names the bad key
/// (`faults[2].target.choose: must be one of one, all, percent, got 'some'`); the schedule (schedule.hpp)
/// resolves it.

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
  std::string file;                  ///< a cluster file, launched by the simulator (the parser resolves it against source_dir)
  /// Or NATS URLs of a running cluster: then only actor and stepdown faults apply (the simulator started no
  /// process, proxy or namespace it could act on), and the parser refuses the others.
  std::vector<std::string> attach;
  bool free_ports = true;            ///< `ports: free` (default) moves every launched server and HTTP port to a free one
  bool namespaces = false;           ///< `hosts: namespaces`: each `hosts:` entry of the file becomes a network namespace
  millis ready_timeout{180000};      ///< `ready_timeout_ms`: how long the cluster may take to serve
};

/// One op of `workload.mix` and its share (weights need not sum to 1).
struct op_weight {
  std::string op;      ///< classify, ocr, extract, process
  double weight = 1;   ///< >= 0; the mix has at least one > 0
};

/// `workload:`.
struct workload_spec {
  /// Open loop (poisson: exponential gaps; constant: evenly spaced) at `rate`, or closed loop with `clients`.
  enum class arrivals { poisson, constant, closed };
  arrivals kind = arrivals::poisson;  ///< `arrivals:`
  double rate = 20;                  ///< requests/s (open loop only)
  int clients = 8;                   ///< closed loop only: clients, each sending its next request once answered
  int max_in_flight = 256;           ///< open loop: requests waiting for a reply at most (more: counted `shed` by the client)
  std::vector<op_weight> mix{{"classify", 1}};  ///< sorted by op (the order written does not change a run)
  std::string inputs;                ///< a folder of images/documents (resolved against source_dir); "" = samples/
  /// op -> through JetStream (true) or core request-reply (false); an op not listed: as the cluster file's
  /// `delivery:` says. Written `durable: [process]` or `durable: {process: true, classify: false}`.
  std::map<std::string, bool> durable;
  int attempts = 3;                  ///< core: tries per request (same id)
  millis attempt_timeout{10000};     ///< `attempt_timeout_ms`: core: one try's wait for a reply before the next
  millis backoff{100};               ///< `backoff_ms`: core: the pause between tries
  millis timeout{30000};             ///< `timeout_ms`: a request with no reply by then (from intended send) is lost
  millis duration{60000};            ///< of the measured part (after warm-up)
  millis warmup{5000};               ///< before the measured part: load runs, no fault, no verdict
};

/// `steady_state:` — tolerances, each checked before the first fault, during faults, and after the last one.
struct steady_state_spec {
  std::optional<double> p99_ms;          ///< p99 latency under this
  std::optional<double> error_rate;      ///< errors / answered under this (0.01 = 1%)
  std::optional<double> throughput_rps;  ///< answered per second above this
  /// Always true: `lost:` may be written only as 0, because a lost request fails every run (the exit status).
  bool zero_lost = true;
  std::optional<double> during_p99_ms;   ///< during faults, when set (else p99 is not judged during faults)
  std::optional<double> during_error_rate;  ///< during faults, when set (else not judged during faults)
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
  std::string serves;     ///< with role node: only nodes serving this op
  std::string of;         ///< with role nats: the server(s) this node is connected to
  std::string op;         ///< with role consumer-leader (required there): the op whose durable consumer it leads
  /// How many candidates are hit: one (drawn from the fault's seed), all, or a percent of them.
  enum class choice { one, all, percent };
  choice choose = choice::one;  ///< `choose:` (only with role; a name is one candidate)
  double percent = 0;     ///< with choose: percent, in (0, 100]: ceil(percent% of the candidates), at least 1
};

/// One fault of the timeline, or a group of them.
struct fault_spec {
  std::string kind;                  ///< one of fault_kinds() ("" for a group)
  /// When it starts: after the start of the measured part; in a parallel group, after the group's start; in
  /// a serial group, after the previous member's end (the first: after the group's start).
  millis at{0};
  /// How long it holds; 0: instantaneous (kill, restart, crash, fail, stepdown, reset) — still checked at its
  /// end. Kinds that are a state (term, pause, slow, lame-duck, network and most link faults) need one > 0.
  millis duration{0};
  target_spec target;
  /// Kind-specific, validated, as strings: integers in decimal, flags "true"/"false", `peers` a comma list
  /// (`model`, `actor`, `ms`, `count`, `jitter_ms`, `kbps`, `bytes`, `delay_us`, `peers`, `one_way`, `op`,
  /// `stream`, `consumer`); an optional param not written is absent.
  std::map<std::string, std::string> params;
  /// A group (`serial:` or `parallel:` list) instead of a single fault.
  enum class group_kind { none, serial, parallel };
  group_kind group = group_kind::none;
  std::vector<fault_spec> members;   ///< the group's faults (or groups), in the order written
  std::optional<millis> every;       ///< repeat the fault (or group) this often (start to start)...
  int repeat = 1;                    ///< ...this many times in all
  /// `every:` written without `repeat:`: repetitions keep starting while they start before the workload ends.
  bool repeat_to_end = false;
};

/// A whole scenario file.
struct scenario {
  std::string name;                  ///< `name:` (default: the file's stem, set by load_scenario_file)
  std::string description;           ///< free text, printed in the report
  std::uint64_t seed = 1;            ///< every random choice derives from it; `--seed` overrides it
  cluster_spec cluster;              ///< required
  workload_spec workload;
  steady_state_spec steady_state;
  std::vector<fault_spec> faults;    ///< in the order written; resolve_schedule orders them by start
  std::string source_dir;            ///< the scenario file's folder; the parser resolved cluster.file and inputs against it
};

/// Parses a scenario; unknown keys are errors. Errors are `bad_request` naming the key as written
/// (`workload.rate: must be a number > 0 and <= 1000000, got '0'`; a param written flat: `faults[2].ms: ...`,
/// under params: `faults[2].params.ms: ...`).
outcome<scenario> parse_scenario(const std::string& yaml, const std::string& source_dir);
/// Reads and parses a file (source_dir: its folder; name: its stem when the file gives none); errors start
/// with the path. A file that cannot be read is `not_found`.
outcome<scenario> load_scenario_file(const std::string& path);

/// A duration as scenarios write it: "90s", "500ms", "2m", "1h", "1.5s", or a bare number of milliseconds;
/// nullopt for anything else (negative, unknown unit, a fraction of a millisecond).
std::optional<millis> parse_duration(const std::string& text);

/// Every fault kind the simulator knows, with its one-line description (for `--help` and validation).
const std::vector<std::pair<std::string, std::string>>& fault_kinds();

}  // namespace infermesh::sim
