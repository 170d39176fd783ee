#pragma once
/// `infermesh simulate SCENARIO.yaml`: one fault-injection run from start to report.
///
/// 1. Reads the scenario and resolves its schedule (the seed: the file's, or `--seed`).
/// 2. Writes the derived cluster file into the run directory and starts `infermesh cluster` on it (one launcher
///    per host inside network namespaces with `hosts: namespaces`), then waits until every node serves.
/// 3. Runs the workload; meanwhile applies each fault at its time and undoes it at its end, printing a progress
///    line each second (elapsed, sent, answered, errors, p99 of the last second, the faults in force).
/// 4. Undoes whatever is still in force, stops the cluster (nodes drain, servers leave), and checks that nothing
///    is left (processes, namespaces, rules, proxies).
/// 5. Writes report.json and report.html into the run directory and prints the summary.
/// SIGINT/SIGTERM end the run early and still go through 4 and 5. Main thread only.

#include <cstdint>
#include <optional>
#include <string>

namespace infermesh::sim {

/// The command line of `infermesh simulate`.
struct simulate_options {
  std::string scenario_path;           ///< the scenario file
  std::string out_dir;                 ///< "" = ./infermesh-sim/<scenario>-<UTC time>
  std::optional<std::uint64_t> seed;   ///< replaces the file's
  std::string self_binary;             ///< this infermesh binary (the launcher runs it)
};

/// 0: nothing accepted was lost, every tolerance held, nothing was left behind, counts agree; 1: otherwise;
/// 2: the scenario (or its cluster file) is invalid, naming the key, or the cluster never became ready.
int run_simulation(const simulate_options& options);

}  // namespace infermesh::sim
