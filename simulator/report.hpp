#pragma once
/// The report of a run: numbers computed from a run_record (plain code, no I/O but the writers at the end),
/// `report.json` and the self-contained `report.html` (inline SVG: latency quantiles and throughput over time,
/// one coloured band per fault; the per-fault table; the verdict).
///
/// Definitions (simulations/README.md repeats them):
/// - lost: a request sent (or accepted) with no reply by the workload's timeout; `shed` requests are not lost.
/// - duplicated: a request whose id got more than one reply.
/// - a fault's window: [start, end]; "before" is the measured part before the first fault starts; "after" is
///   from the last fault's end to the end of the run. Per fault, "before"/"during"/"after" are the
///   `steady_state.window` before its start, its own window, and from its end to the next fault's start.
/// - an instantaneous fault (end == start) has the window [start, start + steady_state.window].
/// - latency: `request_record::latency_ms()` (from the intended send time) of every request with a reply, error
///   replies included; percentiles are nearest-rank.
/// - time to detect: from the fault's start to the first error or the first request whose latency exceeds the
///   steady-state p99 tolerance (or 3x the p99 before faults, when no tolerance is set); -1 when none. An error
///   is seen at its reply, a slow or lost request at intended + that threshold; only what is seen from the
///   fault's start until the next fault's start (or the run's end) counts.
/// - time to recover: from the fault's end until a whole `window` of requests is back within the tolerances;
///   -1 when it never was before the run ended. The window starts at the end or at a later request's intended
///   time and must end by the run's end; within it nothing is lost, p99 is under the detect threshold, the error
///   rate under `error_rate` (no error at all when unset) and, when set, throughput above `throughput_rps`.
/// - phases ("before", "during" = the union of the fault windows, "after") hold requests by intended time.

#include <map>
#include <string>
#include <vector>

#include "simulator/run_record.hpp"
#include "simulator/scenario.hpp"

namespace infermesh::sim {

/// Nearest-rank percentiles of a set of latencies (ms).
struct latency_summary {
  std::size_t count = 0;
  double p50 = 0, p95 = 0, p99 = 0, max = 0;
};

/// What one fault cost (its row in the per-fault table).
struct fault_impact {
  int index = 0;
  std::string kind;
  std::string targets;                 ///< comma-separated
  double start_ms = 0, end_ms = 0;     ///< relative to the measured part's start (the window: see above)
  bool instantaneous = false;          ///< its record's end == start (then end_ms = start_ms + window)
  std::size_t requests = 0;            ///< intended to be sent in its window, and sent (not `shed`)
  std::size_t ok = 0;                  ///< of those, answered "ok"
  std::size_t shed = 0;                ///< intended in its window but shed by the client (not in `requests`)
  std::size_t lost = 0;                ///< of those
  std::size_t duplicated = 0;
  std::map<std::string, std::size_t> errors;  ///< wire error code -> count, in its window (not ok, lost, shed)
  latency_summary before, during, after;
  double detect_ms = -1;
  double recover_ms = -1;
};

/// One steady-state tolerance's verdict in one phase (before / during / after / recovery).
struct verdict {
  std::string phase;
  std::string check;                   ///< "p99_ms <= 500", "lost == 0", "fault 0 (kill) recovery <= 30000 ms"
  double observed = 0;
  bool passed = false;
};

/// One point of the time series (per second of the run).
struct series_point {
  double t_s = 0;                      ///< seconds since the measured part's start (negative: warm-up)
  double p50 = 0, p99 = 0;             ///< latency of requests intended in this second (ms)
  std::size_t latencies = 0;           ///< how many of those had a reply (0: p50 and p99 mean nothing)
  double answered = 0;                 ///< replies in this second (error replies included)
  double errors = 0;                   ///< error replies in this second
  double ok = 0;                       ///< "ok" replies in this second
  double lost = 0;                     ///< lost requests intended in this second
};

/// Everything computed from a run: totals, phases, per-fault impacts, series, verdicts, checks.
struct report {
  std::string scenario;
  std::uint64_t seed = 0;
  bool interrupted = false;                     ///< the run was cut short (SIGINT): its numbers cover less
  std::size_t sent = 0, answered = 0, ok = 0, lost = 0, duplicated = 0, shed = 0, retried = 0;
  std::map<std::string, std::size_t> errors;   ///< wire error code -> count (measured part and warm-up)
  latency_summary overall, before, during, after;  ///< overall: the measured part
  double throughput_rps = 0;                    ///< answered per second over the measured part
  double before_rps = 0;                        ///< answered per second before the first fault
  double ideal_rps = 0;                         ///< run_record::ideal_rps (0: unknown)
  std::vector<fault_impact> faults;
  std::vector<verdict> verdicts;
  std::vector<series_point> series;
  /// The independent count: replies seen by the separate subscriber, and whether they agree with ours
  /// (every answered request was seen, no reply was seen for a request we call lost).
  std::size_t observed_replies = 0;             ///< request ids the subscriber saw at least one reply for
  bool counts_checked = false;                  ///< false: no independent count to check (nothing observed, some answered)
  bool counts_agree = false;                    ///< true when unchecked: nothing disagreed
  std::string counts_detail;                    ///< what disagreed, when anything did
  bool cleanup_ok = false;
  bool passed = false;                          ///< 0 lost, every verdict passed, cleanup clean, counts agree
};

/// Nearest-rank p50/p95/p99 and max of `ms` (any order); all zero when empty.
latency_summary summarize_latencies(std::vector<double> ms);

/// Every number of the report from the run's plain data; `tolerances` are the scenario's steady state.
report compute_report(const run_record& run, const steady_state_spec& tolerances);

/// report.json: the seed and resolved schedule, every fault's start and end, every request record, the
/// per-fault impacts, node counters, journal, cleanup check, verdicts (the whole run_record plus `report`).
std::string report_json(const run_record& run, const report& r);
/// report.html: self-contained (no script, no network), inline SVG charts.
std::string report_html(const run_record& run, const report& r);
/// The few lines printed at the end of a run (and quoted in the README).
std::string report_summary(const report& r);

}  // namespace infermesh::sim
