#pragma once
/// The resolved timeline of a scenario: every fault group and `every`/`repeat` unrolled into single faults
/// with absolute start and end times, all random choices drawn from the seed. Plain code: the same scenario
/// and seed give the same schedule (the report prints it, and `--seed` reproduces it).
///
/// Times are offsets from the start of the measured part (after warm-up). A `serial` group starts each member
/// when the previous one ended (its own `at` is then a delay after that end); `parallel` members start at the
/// group's start plus their own `at`. Targets chosen by `choose` are drawn at run time from the candidates
/// sorted by name, with a generator seeded by (seed, fault index): same candidates, same choice.

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "simulator/scenario.hpp"

namespace infermesh::sim {

struct planned_fault {
  int index = 0;                 ///< 0.. in start order
  std::string kind;
  millis start{0};
  millis end{0};                 ///< == start for instantaneous faults
  target_spec target;
  std::map<std::string, std::string> params;
  std::uint64_t seed = 0;        ///< for this fault's own choices (target draw, jitter)
};

/// Unrolls `s.faults`; errors name the key (a fault past the workload's duration, an `every` of 0).
outcome<std::vector<planned_fault>> resolve_schedule(const scenario& s);

/// Picks targets among `candidates` (sorted by the caller or not: they are sorted here) per `t.choose`.
std::vector<std::string> choose_targets(const target_spec& t, std::vector<std::string> candidates,
                                        std::uint64_t seed);

/// The open-loop arrival offsets (from the start of warm-up) for a workload, drawn from `seed`: Poisson
/// (exponential gaps) or constant at `rate`, over warm-up + duration. Empty for closed loop.
/// Microsecond resolution: at high rates arrivals are < 1 ms apart.
std::vector<std::chrono::microseconds> arrival_times(const workload_spec& w, std::uint64_t seed);

/// For each arrival, the op to send (weighted by `w.mix`) and the input index in [0, inputs), from `seed`.
struct arrival_choice {
  std::string op;
  std::size_t input = 0;
};
std::vector<arrival_choice> arrival_choices(const workload_spec& w, std::size_t arrivals, std::size_t inputs,
                                            std::uint64_t seed);

}  // namespace infermesh::sim
