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

/// One fault of the resolved timeline: a leaf of `scenario::faults` at one repetition.
struct planned_fault {
  int index = 0;                 ///< 0.. in start order
  std::string kind;              ///< as in fault_spec
  millis start{0};               ///< from the start of the measured part
  millis end{0};                 ///< == start for instantaneous faults
  target_spec target;            ///< as written: choose_targets resolves it at run time
  std::map<std::string, std::string> params;  ///< as in fault_spec
  std::uint64_t seed = 0;        ///< for this fault's own choices (target draw, jitter): derive_seed(seed, index)
  /// Where the scenario wrote it, as a key path: `faults[1].serial[0]`; `#k` marks the k-th (from 1)
  /// repetition of a repeated fault or group (`faults[0]#3`, `faults[2]#1.parallel[1]`).
  std::string source;
};

/// splitmix64's finaliser: a good 64-bit mixer (every input bit reaches every output bit).
std::uint64_t splitmix64(std::uint64_t x);

/// The seed of stream `stream` of a run seeded `seed` (splitmix64 of seed + (stream + 1) * golden ratio):
/// nearby seeds and streams give unrelated values. Fault i uses stream i; the others, below.
std::uint64_t derive_seed(std::uint64_t seed, std::uint64_t stream);
/// The streams beside the faults' (a schedule has far fewer than 2^32 faults).
inline constexpr std::uint64_t arrivals_stream = 1ULL << 32;        ///< arrival_times
inline constexpr std::uint64_t arrival_choices_stream = (1ULL << 32) + 1;  ///< arrival_choices

/// Unrolls `s.faults` into faults sorted by start (ties: the order written), indexed 0..n-1. Errors are
/// `bad_request` naming the key: a fault starting at or after the end of `workload.duration`, an `every` of 0,
/// a `repeat` < 1, an `every` shorter than one repetition's span (repetitions would overlap), a group without
/// members, more than 100000 faults in all.
outcome<std::vector<planned_fault>> resolve_schedule(const scenario& s);

/// Picks targets among `candidates` (sorted by the caller or not: they are sorted and deduplicated here) per
/// `t.choose`: one (uniform, from `seed`), all, or percent (ceil(percent% of n), at least 1, a sample drawn
/// from `seed`). Returned sorted; empty when there are no candidates.
std::vector<std::string> choose_targets(const target_spec& t, std::vector<std::string> candidates,
                                        std::uint64_t seed);

/// The open-loop arrival offsets (from the start of warm-up) for a workload, drawn from `seed`: Poisson
/// (exponential gaps) or constant at `rate`, over warm-up + duration. Empty for closed loop.
/// Microsecond resolution: at high rates arrivals are < 1 ms apart. Constant: k / rate for k = 0, 1, ...;
/// Poisson: the first arrival one gap after 0. Drawn with std::mt19937_64 and this file's own uniform and
/// exponential draws, so the list does not depend on the standard library. Pass derive_seed(seed, arrivals_stream).
std::vector<std::chrono::microseconds> arrival_times(const workload_spec& w, std::uint64_t seed);

/// For each arrival, the op to send (weighted by `w.mix`) and the input index in [0, inputs) (0 when
/// `inputs` is 0), from `seed`. Ops and inputs come from separate streams: the ops drawn do not change with
/// the number of inputs. Pass derive_seed(seed, arrival_choices_stream).
struct arrival_choice {
  std::string op;          ///< one of the mix's ops
  std::size_t input = 0;   ///< index into the caller's list of inputs (sort it: same seed, same inputs)
};
std::vector<arrival_choice> arrival_choices(const workload_spec& w, std::size_t arrivals, std::size_t inputs,
                                            std::uint64_t seed);

}  // namespace infermesh::sim
