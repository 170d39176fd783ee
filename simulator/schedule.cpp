#include "simulator/schedule.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace infermesh::sim {
namespace {

constexpr std::uint64_t golden_gamma = 0x9E3779B97F4A7C15ULL;
constexpr std::size_t max_planned_faults = 100000;

/// Thrown inside this file only; resolve_schedule turns it into a `bad_request` naming the key.
struct schedule_error {
  std::string key;
  std::string message;
};

std::string ms_text(millis m) { return std::to_string(m.count()) + " ms"; }

/// Walks the fault tree, appending leaves with absolute times; not thread-safe (one per resolve_schedule).
class unroller {
 public:
  explicit unroller(millis horizon) : horizon_(horizon) {}

  /// Every repetition of `f`, the first starting at `start`; returns the end of the last one.
  millis repeated(const fault_spec& f, millis start, const std::string& path) {
    if (f.every && f.every->count() <= 0) throw schedule_error{path + ".every", "must be > 0, got " + ms_text(*f.every)};
    if (!f.every && (f.repeat_to_end || f.repeat != 1))
      throw schedule_error{path + ".repeat", "needs every (how far apart the repetitions start)"};
    if (f.repeat < 1) throw schedule_error{path + ".repeat", "must be at least 1, got " + std::to_string(f.repeat)};
    if (!f.every) return once(f, start, path);
    const bool numbered = f.repeat_to_end || f.repeat > 1;
    millis end = start;
    // The first repetition always unrolls, so one starting past the end is reported rather than dropped.
    for (long long k = 0; k == 0 || (f.repeat_to_end ? start + *f.every * k < horizon_ : k < f.repeat); ++k) {
      const millis begin = start + *f.every * k;
      end = once(f, begin, numbered ? path + "#" + std::to_string(k + 1) : path);
      // The span is the same for every repetition: checking the first is checking all.
      if (k == 0 && (end - begin) > *f.every)
        throw schedule_error{path + ".every", ms_text(*f.every) + " is shorter than one repetition (" +
                                                  ms_text(end - begin) + "): repetitions would overlap"};
    }
    return end;
  }

  std::vector<planned_fault> take() { return std::move(out_); }

 private:
  /// One repetition of `f` starting at `start`; returns its end.
  millis once(const fault_spec& f, millis start, const std::string& path) {
    using G = fault_spec::group_kind;
    if (f.group == G::none) return leaf(f, start, path);
    if (f.members.empty()) throw schedule_error{path + (f.group == G::serial ? ".serial" : ".parallel"), "is empty"};
    const std::string list = path + (f.group == G::serial ? ".serial" : ".parallel");
    millis end = start;
    for (std::size_t i = 0; i < f.members.size(); ++i) {
      const auto& m = f.members[i];
      const auto member = list + "[" + std::to_string(i) + "]";
      if (f.group == G::serial) end = repeated(m, end + m.at, member);
      else end = std::max(end, repeated(m, start + m.at, member));
    }
    return end;
  }

  millis leaf(const fault_spec& f, millis start, const std::string& path) {
    if (f.kind.empty()) throw schedule_error{path + ".kind", "is required"};
    if (f.duration.count() < 0) throw schedule_error{path + ".duration", "must be >= 0"};
    if (start.count() < 0) throw schedule_error{path + ".at", "must be >= 0"};
    if (start >= horizon_)
      throw schedule_error{path + ".at", "starts at " + ms_text(start) + ", not before the end of workload.duration (" +
                                             ms_text(horizon_) + ")"};
    if (out_.size() >= max_planned_faults)
      throw schedule_error{path, "unrolls to more than " + std::to_string(max_planned_faults) + " faults"};
    planned_fault p;
    p.kind = f.kind;
    p.start = start;
    p.end = start + f.duration;
    p.target = f.target;
    p.params = f.params;
    p.source = path;
    const millis end = p.end;
    out_.push_back(std::move(p));
    return end;
  }

  millis horizon_;
  std::vector<planned_fault> out_;
};

/// A uniform double in [0, 1) from the top 53 bits: the same on every standard library.
double uniform01(std::mt19937_64& rng) { return static_cast<double>(rng() >> 11) * 0x1.0p-53; }

/// A uniform index in [0, n), n > 0, without modulo bias (rejection), the same on every standard library.
std::uint64_t uniform_index(std::mt19937_64& rng, std::uint64_t n) {
  const std::uint64_t limit = std::numeric_limits<std::uint64_t>::max() - std::numeric_limits<std::uint64_t>::max() % n;
  for (;;) {
    const std::uint64_t x = rng();
    if (x < limit) return x % n;
  }
}

}  // namespace

std::uint64_t splitmix64(std::uint64_t x) {
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

std::uint64_t derive_seed(std::uint64_t seed, std::uint64_t stream) {
  return splitmix64(seed + (stream + 1) * golden_gamma);
}

outcome<std::vector<planned_fault>> resolve_schedule(const scenario& s) {
  try {
    unroller u(s.workload.duration);
    for (std::size_t i = 0; i < s.faults.size(); ++i)
      u.repeated(s.faults[i], s.faults[i].at, "faults[" + std::to_string(i) + "]");
    auto plan = u.take();
    std::stable_sort(plan.begin(), plan.end(),
                     [](const planned_fault& a, const planned_fault& b) { return a.start < b.start; });
    for (std::size_t i = 0; i < plan.size(); ++i) {
      plan[i].index = static_cast<int>(i);
      plan[i].seed = derive_seed(s.seed, i);
    }
    return plan;
  } catch (const schedule_error& e) {
    return error{error_code::bad_request, e.key + ": " + e.message};
  }
}

std::vector<std::string> choose_targets(const target_spec& t, std::vector<std::string> candidates,
                                        std::uint64_t seed) {
  std::sort(candidates.begin(), candidates.end());
  candidates.erase(std::unique(candidates.begin(), candidates.end()), candidates.end());
  const std::size_t n = candidates.size();
  if (n == 0 || t.choose == target_spec::choice::all) return candidates;
  std::mt19937_64 rng(seed);
  std::size_t k = 1;
  if (t.choose == target_spec::choice::percent) {
    // percent * n first, then / 100: 30% of 10 is 3, not the 3.0000000000000004 that 0.3 * 10 gives.
    const double exact = std::ceil(t.percent * static_cast<double>(n) / 100.0 - 1e-9);
    k = exact >= static_cast<double>(n) ? n : exact <= 1 ? 1 : static_cast<std::size_t>(exact);  // NaN: 1
  }
  // A partial Fisher-Yates shuffle: the first k are a uniform sample.
  for (std::size_t i = 0; i < k; ++i) std::swap(candidates[i], candidates[i + uniform_index(rng, n - i)]);
  candidates.resize(k);
  std::sort(candidates.begin(), candidates.end());
  return candidates;
}

std::vector<std::chrono::microseconds> arrival_times(const workload_spec& w, std::uint64_t seed) {
  std::vector<std::chrono::microseconds> out;
  if (w.kind == workload_spec::arrivals::closed || !(w.rate > 0)) return out;  // !(>): NaN too
  const double horizon_us = static_cast<double>((w.warmup + w.duration).count()) * 1000.0;
  out.reserve(static_cast<std::size_t>(std::min(w.rate * horizon_us / 1e6 * 1.05, 50e6)) + 16);
  if (w.kind == workload_spec::arrivals::constant) {
    // k * 1e6 / rate from k, not a running sum: no drift over millions of arrivals.
    for (std::uint64_t k = 0;; ++k) {
      const double t = static_cast<double>(k) * 1e6 / w.rate;
      if (t >= horizon_us) break;
      out.emplace_back(static_cast<long long>(t));
    }
    return out;
  }
  std::mt19937_64 rng(seed);
  const double mean_gap_us = 1e6 / w.rate;
  for (double t = 0;;) {
    // Inverse transform: -ln(1 - u) is exponential with mean 1 (u < 1, so the log is finite).
    t += -std::log1p(-uniform01(rng)) * mean_gap_us;
    if (t >= horizon_us) break;
    out.emplace_back(static_cast<long long>(t));
  }
  return out;
}

std::vector<arrival_choice> arrival_choices(const workload_spec& w, std::size_t arrivals, std::size_t inputs,
                                            std::uint64_t seed) {
  std::vector<arrival_choice> out;
  double total = 0;
  for (const auto& m : w.mix) total += std::max(0.0, m.weight);
  if (w.mix.empty() || total <= 0) return out;
  out.reserve(arrivals);
  std::mt19937_64 ops(derive_seed(seed, 0));
  std::mt19937_64 picks(derive_seed(seed, 1));
  for (std::size_t i = 0; i < arrivals; ++i) {
    const double u = uniform01(ops) * total;
    double cumulative = 0;
    const std::string* op = nullptr;
    for (const auto& m : w.mix) {
      if (m.weight <= 0) continue;
      op = &m.op;  // the last positive weight catches u's rounding at the very top
      cumulative += m.weight;
      if (u < cumulative) break;
    }
    out.push_back({*op, inputs == 0 ? 0 : static_cast<std::size_t>(uniform_index(picks, inputs))});
  }
  return out;
}

}  // namespace infermesh::sim
