#include <boost/test/unit_test.hpp>

#include <cmath>
#include <map>
#include <set>

#include "simulator/schedule.hpp"

using namespace infermesh;
using namespace infermesh::sim;

namespace {

/// A scenario with a 60 s measured part and `faults` (a YAML list); the cluster file is never read.
scenario with_faults(const std::string& faults, const std::string& seed = "1") {
  auto s = parse_scenario("seed: " + seed + "\ncluster: {file: c.yaml}\nworkload: {duration: 60s}\nfaults: " + faults,
                          "/scenarios");
  BOOST_REQUIRE_MESSAGE(s, (s ? "" : s.err().message));
  return *s;
}

std::vector<planned_fault> resolved(const scenario& s) {
  auto plan = resolve_schedule(s);
  BOOST_REQUIRE_MESSAGE(plan, (plan ? "" : plan.err().message));
  return *plan;
}

/// Requires resolve_schedule to fail with a message starting with `key` and holding `words`.
void expect_error_naming(const scenario& s, const std::string& key, const std::string& words) {
  const auto plan = resolve_schedule(s);
  BOOST_REQUIRE_MESSAGE(!plan, "expected an error naming " << key);
  BOOST_TEST((plan.err().code == error_code::bad_request));
  BOOST_TEST(plan.err().message.rfind(key + ": ", 0) == 0, "'" << plan.err().message << "' starts with " << key);
  BOOST_TEST(plan.err().message.find(words) != std::string::npos, "'" << plan.err().message << "' says " << words);
}

/// Starts and ends of a plan in ms, in plan order: {{start, end}, ...}.
std::vector<std::pair<long long, long long>> times(const std::vector<planned_fault>& plan) {
  std::vector<std::pair<long long, long long>> out;
  for (const auto& f : plan) out.emplace_back(f.start.count(), f.end.count());
  return out;
}

using spans = std::vector<std::pair<long long, long long>>;

const std::vector<std::string> five_nodes{"node-3", "node-1", "node-5", "node-2", "node-4"};

target_spec choosing(target_spec::choice c, double percent = 0) {
  target_spec t;
  t.role = "node";
  t.choose = c;
  t.percent = percent;
  return t;
}

workload_spec open_loop(workload_spec::arrivals kind, double rate, long long seconds) {
  workload_spec w;
  w.kind = kind;
  w.rate = rate;
  w.warmup = millis(0);
  w.duration = millis(seconds * 1000);
  return w;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(schedule)

BOOST_AUTO_TEST_CASE(a_single_fault_starts_at_its_at_and_ends_after_its_duration) {
  const auto plan = resolved(with_faults("[{at: 10s, kind: pause, target: {node: n}, duration: 5s}]"));
  BOOST_TEST((times(plan) == spans{{10000, 15000}}));
  BOOST_TEST(plan[0].kind == "pause");
  BOOST_TEST(plan[0].target.node == "n");
  BOOST_TEST(plan[0].index == 0);
  BOOST_TEST(plan[0].source == "faults[0]");
}

BOOST_AUTO_TEST_CASE(an_instantaneous_fault_ends_where_it_starts) {
  const auto plan = resolved(with_faults("[{at: 3s, kind: kill, target: {node: n}}]"));
  BOOST_TEST((times(plan) == spans{{3000, 3000}}));
}

BOOST_AUTO_TEST_CASE(serial_members_start_when_the_previous_ends_and_their_at_is_a_delay_after_it) {
  const auto plan = resolved(with_faults(R"(
  - at: 10s
    serial:
      - {kind: pause, target: {node: a}, duration: 5s}
      - {at: 2s, kind: pause, target: {node: b}, duration: 3s}
      - {kind: kill, target: {node: c}})"));
  BOOST_TEST((times(plan) == spans{{10000, 15000}, {17000, 20000}, {20000, 20000}}));
  BOOST_TEST(plan[1].target.node == "b");
  BOOST_TEST(plan[1].source == "faults[0].serial[1]");
}

BOOST_AUTO_TEST_CASE(parallel_members_start_at_the_group_start_plus_their_own_at) {
  const auto plan = resolved(with_faults(R"(
  - at: 10s
    parallel:
      - {kind: pause, target: {node: a}, duration: 5s}
      - {at: 3s, kind: pause, target: {node: b}, duration: 1s})"));
  BOOST_TEST((times(plan) == spans{{10000, 15000}, {13000, 14000}}));
}

BOOST_AUTO_TEST_CASE(the_kth_repetition_starts_k_times_every_after_the_first) {
  const auto plan = resolved(with_faults("[{at: 5s, kind: pause, target: {node: n}, duration: 2s, every: 10s, repeat: 3}]"));
  BOOST_TEST((times(plan) == spans{{5000, 7000}, {15000, 17000}, {25000, 27000}}));
  BOOST_TEST(plan[0].source == "faults[0]#1");
  BOOST_TEST(plan[2].source == "faults[0]#3");
}

BOOST_AUTO_TEST_CASE(every_without_repeat_repeats_while_repetitions_start_before_the_end) {
  const auto plan = resolved(with_faults("[{at: 5s, kind: kill, target: {node: n}, every: 20s}]"));
  BOOST_TEST((times(plan) == spans{{5000, 5000}, {25000, 25000}, {45000, 45000}}));
}

BOOST_AUTO_TEST_CASE(a_repeated_serial_group_unrolls_each_repetition_whole) {
  const auto plan = resolved(with_faults(R"(
  - at: 10s
    every: 15s
    repeat: 2
    serial:
      - {kind: pause, target: {node: a}, duration: 4s}
      - {at: 1s, kind: kill, target: {node: b}})"));
  BOOST_TEST((times(plan) == spans{{10000, 14000}, {15000, 15000}, {25000, 29000}, {30000, 30000}}));
  BOOST_TEST(plan[3].source == "faults[0]#2.serial[1]");
}

BOOST_AUTO_TEST_CASE(a_repeated_member_of_a_serial_group_delays_the_next_member_until_its_last_repetition_ends) {
  const auto plan = resolved(with_faults(R"(
  - serial:
      - {kind: pause, target: {node: a}, duration: 1s, every: 5s, repeat: 2}
      - {kind: kill, target: {node: b}})"));
  BOOST_TEST((times(plan) == spans{{0, 1000}, {5000, 6000}, {6000, 6000}}));
}

BOOST_AUTO_TEST_CASE(faults_are_sorted_by_start_with_ties_in_the_order_written_and_indexed_in_that_order) {
  const auto plan = resolved(with_faults(R"(
  - {at: 30s, kind: kill, target: {node: late}}
  - {at: 10s, kind: kill, target: {node: tie-first}}
  - {at: 10s, kind: kill, target: {node: tie-second}}
  - {at: 1s, kind: kill, target: {node: early}})"));
  std::vector<std::string> order;
  for (const auto& f : plan) order.push_back(f.target.node);
  BOOST_TEST((order == std::vector<std::string>{"early", "tie-first", "tie-second", "late"}));
  for (std::size_t i = 0; i < plan.size(); ++i) BOOST_TEST(plan[i].index == static_cast<int>(i));
}

BOOST_AUTO_TEST_CASE(each_fault_keeps_its_params_and_gets_a_seed_derived_from_the_scenario_seed_and_its_index) {
  auto s = with_faults("[{kind: slow, target: {node: n}, model: m, ms: 40, duration: 1s}, {at: 2s, kind: kill, "
                       "target: {node: n}}]",
                       "77");
  const auto plan = resolved(s);
  BOOST_TEST(plan[0].params.at("ms") == "40");
  BOOST_TEST(plan[0].seed == derive_seed(77, 0));
  BOOST_TEST(plan[1].seed == derive_seed(77, 1));
  BOOST_TEST(plan[0].seed != plan[1].seed);
}

BOOST_AUTO_TEST_CASE(the_same_seed_gives_the_same_schedule_and_another_seed_other_fault_seeds) {
  const std::string faults = "[{kind: kill, target: {role: node}, every: 10s}]";
  const auto a = resolved(with_faults(faults, "5")), b = resolved(with_faults(faults, "5"));
  const auto c = resolved(with_faults(faults, "6"));
  BOOST_REQUIRE(a.size() == b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    BOOST_TEST(a[i].seed == b[i].seed);
    BOOST_TEST(a[i].start.count() == b[i].start.count());
    BOOST_TEST(a[i].seed != c[i].seed);
  }
}

BOOST_AUTO_TEST_CASE(derive_seed_is_the_reference_splitmix64_stream) {
  // The first output of splitmix64 seeded with 0 (Vigna's reference implementation).
  BOOST_TEST(derive_seed(0, 0) == 0xE220A8397B1DCDAFULL);
  BOOST_TEST(derive_seed(1, 0) != derive_seed(0, 1));
}

BOOST_AUTO_TEST_CASE(a_fault_starting_at_or_after_the_end_of_the_workload_is_refused_by_its_key) {
  expect_error_naming(with_faults("[{at: 60s, kind: kill, target: {node: n}}]"), "faults[0].at",
                      "starts at 60000 ms, not before the end of workload.duration (60000 ms)");
  expect_error_naming(with_faults("[{kind: kill, target: {node: n}}, {at: 50s, serial: [{kind: pause, target: {node: "
                                  "n}, duration: 20s}, {kind: kill, target: {node: n}}]}]"),
                      "faults[1].serial[1].at", "starts at 70000 ms");
  expect_error_naming(with_faults("[{at: 70s, kind: kill, target: {node: n}, every: 10s}]"), "faults[0]#1.at",
                      "starts at 70000 ms");
  // The third repetition would start at 70 s.
  expect_error_naming(with_faults("[{at: 30s, kind: kill, target: {node: n}, every: 20s, repeat: 3}]"),
                      "faults[0]#3.at", "starts at 70000 ms");
}

BOOST_AUTO_TEST_CASE(repetitions_that_would_overlap_are_refused) {
  expect_error_naming(with_faults("[{kind: pause, target: {node: n}, duration: 8s, every: 5s, repeat: 2}]"),
                      "faults[0].every", "5000 ms is shorter than one repetition (8000 ms): repetitions would overlap");
  expect_error_naming(with_faults(R"(
  - every: 5s
    repeat: 2
    serial:
      - {kind: pause, target: {node: a}, duration: 4s}
      - {at: 2s, kind: pause, target: {node: b}, duration: 6s})"),
                      "faults[0].every", "shorter than one repetition (12000 ms)");
}

BOOST_AUTO_TEST_CASE(a_span_equal_to_every_is_back_to_back_not_overlapping) {
  const auto plan = resolved(with_faults("[{kind: pause, target: {node: n}, duration: 5s, every: 5s, repeat: 2}]"));
  BOOST_TEST((times(plan) == spans{{0, 5000}, {5000, 10000}}));
}

BOOST_AUTO_TEST_CASE(a_schedule_built_in_code_is_checked_too) {
  auto s = with_faults("[{kind: kill, target: {node: n}}]");
  s.faults[0].every = millis(0);
  expect_error_naming(s, "faults[0].every", "must be > 0");
  s.faults[0].every = millis(1000);
  s.faults[0].repeat = 0;
  expect_error_naming(s, "faults[0].repeat", "must be at least 1");
  s.faults[0] = fault_spec{};
  s.faults[0].group = fault_spec::group_kind::parallel;
  expect_error_naming(s, "faults[0].parallel", "is empty");
  s.faults[0] = fault_spec{};
  expect_error_naming(s, "faults[0].kind", "is required");
}

BOOST_AUTO_TEST_CASE(no_faults_resolve_to_an_empty_schedule) {
  BOOST_TEST(resolved(with_faults("[]")).empty());
}

BOOST_AUTO_TEST_CASE(choose_all_returns_every_candidate_sorted_once) {
  auto names = five_nodes;
  names.push_back("node-1");
  const auto chosen = choose_targets(choosing(target_spec::choice::all), names, 1);
  BOOST_TEST((chosen == std::vector<std::string>{"node-1", "node-2", "node-3", "node-4", "node-5"}));
}

BOOST_AUTO_TEST_CASE(choose_one_is_the_same_for_the_same_seed_whatever_the_candidates_order) {
  auto reversed = five_nodes;
  std::reverse(reversed.begin(), reversed.end());
  for (std::uint64_t seed = 0; seed < 20; ++seed) {
    const auto a = choose_targets(choosing(target_spec::choice::one), five_nodes, seed);
    BOOST_REQUIRE(a.size() == 1u);
    BOOST_TEST(a == choose_targets(choosing(target_spec::choice::one), reversed, seed));
  }
}

BOOST_AUTO_TEST_CASE(choose_one_reaches_every_candidate_across_seeds) {
  // 200 draws over 5 candidates: each is missed with probability (4/5)^200, about 4e-20.
  std::set<std::string> seen;
  for (std::uint64_t seed = 0; seed < 200; ++seed)
    seen.insert(choose_targets(choosing(target_spec::choice::one), five_nodes, derive_seed(seed, 0)).at(0));
  BOOST_TEST(seen.size() == five_nodes.size());
}

BOOST_AUTO_TEST_CASE(choose_percent_picks_ceil_of_n_times_p_distinct_names_sorted) {
  std::vector<std::string> ten;
  for (int i = 0; i < 10; ++i) ten.push_back("n" + std::to_string(i));
  const std::map<double, std::size_t> expected{{30, 3}, {25, 3}, {50, 5}, {1, 1}, {99, 10}, {100, 10}, {33.3, 4}};
  for (const auto& [percent, count] : expected) {
    BOOST_TEST_CONTEXT("percent " << percent) {
      const auto chosen = choose_targets(choosing(target_spec::choice::percent, percent), ten, 9);
      BOOST_TEST(chosen.size() == count);
      BOOST_TEST(std::is_sorted(chosen.begin(), chosen.end()));
      BOOST_TEST(std::set<std::string>(chosen.begin(), chosen.end()).size() == count);
    }
  }
}

BOOST_AUTO_TEST_CASE(choose_percent_samples_differently_for_other_seeds_and_the_same_for_the_same) {
  const auto t = choosing(target_spec::choice::percent, 40);
  std::set<std::vector<std::string>> samples;
  for (std::uint64_t seed = 0; seed < 30; ++seed) {
    samples.insert(choose_targets(t, five_nodes, seed));
    BOOST_TEST(choose_targets(t, five_nodes, seed) == choose_targets(t, five_nodes, seed));
  }
  BOOST_TEST(samples.size() > 1u);
}

BOOST_AUTO_TEST_CASE(a_percent_below_one_candidate_still_picks_one_and_above_all_picks_all) {
  BOOST_TEST(choose_targets(choosing(target_spec::choice::percent, 0), five_nodes, 1).size() == 1u);
  BOOST_TEST(choose_targets(choosing(target_spec::choice::percent, -5), five_nodes, 1).size() == 1u);
  BOOST_TEST(choose_targets(choosing(target_spec::choice::percent, 250), five_nodes, 1).size() == 5u);
}

BOOST_AUTO_TEST_CASE(no_candidates_choose_nothing) {
  BOOST_TEST(choose_targets(choosing(target_spec::choice::one), {}, 1).empty());
  BOOST_TEST(choose_targets(choosing(target_spec::choice::percent, 50), {}, 1).empty());
}

BOOST_AUTO_TEST_CASE(the_same_seed_gives_the_same_arrivals_and_another_seed_other_ones) {
  const auto w = open_loop(workload_spec::arrivals::poisson, 50, 10);
  const auto a = arrival_times(w, 3), b = arrival_times(w, 3), c = arrival_times(w, 4);
  BOOST_TEST(a == b);
  BOOST_TEST(a != c);
}

BOOST_AUTO_TEST_CASE(poisson_arrivals_keep_the_mean_rate_within_two_percent_and_exponential_gaps) {
  // 1000/s for 100 s: about 100000 arrivals, so the count's standard deviation is ~0.3% of it.
  constexpr double rate = 1000;
  const auto t = arrival_times(open_loop(workload_spec::arrivals::poisson, rate, 100), derive_seed(11, arrivals_stream));
  BOOST_TEST(std::abs(static_cast<double>(t.size()) - 100000.0) / 100000.0 < 0.02, "arrivals: " << t.size());
  BOOST_TEST(std::is_sorted(t.begin(), t.end()));
  BOOST_TEST(t.front().count() >= 0);
  BOOST_TEST(t.back().count() < 100000000);
  // An exponential's standard deviation equals its mean: gaps of a constant or bursty process would not.
  double sum = 0, squares = 0;
  for (std::size_t i = 1; i < t.size(); ++i) {
    const double gap = static_cast<double>((t[i] - t[i - 1]).count());
    sum += gap;
    squares += gap * gap;
  }
  const double n = static_cast<double>(t.size() - 1), mean = sum / n;
  const double deviation = std::sqrt(squares / n - mean * mean);
  BOOST_TEST(std::abs(mean - 1e6 / rate) / (1e6 / rate) < 0.02, "mean gap " << mean);
  BOOST_TEST(std::abs(deviation / mean - 1) < 0.05, "deviation / mean " << deviation / mean);
}

BOOST_AUTO_TEST_CASE(constant_arrivals_are_evenly_spaced_from_zero_over_warmup_and_duration) {
  auto w = open_loop(workload_spec::arrivals::constant, 4, 2);
  w.warmup = millis(1000);
  const auto t = arrival_times(w, 1);
  BOOST_REQUIRE(t.size() == 12u);  // 4/s over 1 s of warm-up and 2 s measured
  for (std::size_t i = 0; i < t.size(); ++i) BOOST_TEST(t[i].count() == static_cast<long long>(i) * 250000);
}

BOOST_AUTO_TEST_CASE(constant_arrivals_at_high_rates_are_under_a_millisecond_apart) {
  const auto t = arrival_times(open_loop(workload_spec::arrivals::constant, 4000, 1), 1);
  BOOST_REQUIRE(t.size() == 4000u);
  BOOST_TEST(t[1].count() == 250);
  BOOST_TEST(t.back().count() == 999750);
}

BOOST_AUTO_TEST_CASE(a_closed_loop_has_no_arrival_times) {
  BOOST_TEST(arrival_times(open_loop(workload_spec::arrivals::closed, 10, 10), 1).empty());
}

BOOST_AUTO_TEST_CASE(arrival_choices_follow_the_mix_weights) {
  workload_spec w;
  w.mix = {{"classify", 3}, {"process", 1}, {"ocr", 0}};
  const auto choices = arrival_choices(w, 40000, 7, 21);
  BOOST_REQUIRE(choices.size() == 40000u);
  std::map<std::string, double> share;
  for (const auto& c : choices) share[c.op] += 1.0 / 40000;
  // The share's standard deviation is ~0.2%: 2% is ten of them.
  BOOST_TEST(std::abs(share["classify"] - 0.75) < 0.02, "classify " << share["classify"]);
  BOOST_TEST(std::abs(share["process"] - 0.25) < 0.02, "process " << share["process"]);
  BOOST_TEST(share.count("ocr") == 0u, "a weight of 0 is never drawn");
}

BOOST_AUTO_TEST_CASE(arrival_choices_pick_every_input_index_in_range) {
  workload_spec w;
  const auto choices = arrival_choices(w, 1000, 7, 5);
  std::set<std::size_t> inputs;
  for (const auto& c : choices) inputs.insert(c.input);
  BOOST_TEST(inputs.size() == 7u);
  BOOST_TEST(*inputs.rbegin() == 6u);
  for (const auto& c : arrival_choices(w, 10, 0, 5)) BOOST_TEST(c.input == 0u);
}

BOOST_AUTO_TEST_CASE(arrival_choices_are_the_same_for_the_same_seed_and_ops_do_not_depend_on_the_inputs) {
  workload_spec w;
  w.mix = {{"classify", 1}, {"extract", 1}, {"ocr", 1}};
  const auto a = arrival_choices(w, 500, 3, 8), b = arrival_choices(w, 500, 3, 8), c = arrival_choices(w, 500, 9, 8);
  const auto other = arrival_choices(w, 500, 3, 9);
  bool same = true, same_ops_with_more_inputs = true, same_for_other_seed = true;
  for (std::size_t i = 0; i < a.size(); ++i) {
    same = same && a[i].op == b[i].op && a[i].input == b[i].input;
    same_ops_with_more_inputs = same_ops_with_more_inputs && a[i].op == c[i].op;
    same_for_other_seed = same_for_other_seed && a[i].op == other[i].op && a[i].input == other[i].input;
  }
  BOOST_TEST(same);
  BOOST_TEST(same_ops_with_more_inputs);
  BOOST_TEST(!same_for_other_seed);
}

BOOST_AUTO_TEST_SUITE_END()
