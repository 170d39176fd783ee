#include <boost/test/unit_test.hpp>

#include <nlohmann/json.hpp>

#include "simulator/report.hpp"

using namespace infermesh::sim;

namespace {

// A synthetic history, small enough to check every number by hand:
// - one request every 100 ms from the run's start (ids r0..r219), each answered "ok" 10 ms after it was meant to
//   be sent; warm-up is the first 2 s, the measured part the next 20 s (run time 2000..22000 ms);
// - fault 0 ("slow" on node-a) from 8000 to 10000 ms: r80..r89 take 200 ms, r90..r94 are answered
//   `overloaded` after 5 ms, r95 is lost, r96 is answered twice; after it, r101..r105 still take 150 ms;
// - fault 1 ("kill" on node-b), instantaneous at 15000 ms: r152 and r154 are answered `unavailable` after 3 ms,
//   r153 needed a second try and took 50 ms;
// - r5 (warm-up) was answered `internal`; one more request, meant for 9000 ms, was shed by the client.
constexpr double warmup_start = 0, measure_start = 2000, run_end = 22000;
constexpr int requests_made = 220;         // one per 100 ms over 22 s
constexpr double steady_latency = 10;      // ms, every request not named above
constexpr double slow_latency = 200;       // r80..r89, inside fault 0
constexpr double slow_after_latency = 150; // r101..r105: still slow after fault 0 was undone
const std::string evil_node = "<script>alert(1)</script>";

request_record answered(int i, double latency, const std::string& code = "ok", int replies = 1) {
  request_record q;
  q.id = "r" + std::to_string(i);
  q.op = "classify";
  q.intended_ms = 100.0 * i;
  q.sent_ms = q.intended_ms;
  q.reply_ms = q.intended_ms + latency;
  q.code = code;
  q.node = i % 2 ? "node-a" : "node-b";
  q.replies = replies;
  return q;
}

planned_fault plan(int index, const std::string& kind, long start_ms, long end_ms, const std::string& node) {
  planned_fault p;
  p.index = index;
  p.kind = kind;
  p.start = millis{start_ms};
  p.end = millis{end_ms};
  p.target.node = node;
  p.params["ms"] = "200";
  return p;
}

run_record synthetic_run() {
  run_record run;
  run.scenario_name = "synthetic";
  run.scenario_file = "simulations/synthetic.yaml";
  run.seed = 42;
  run.cluster_file = "cluster.yaml";
  run.warmup_start_ms = warmup_start;
  run.measure_start_ms = measure_start;
  run.end_ms = run_end;
  for (int i = 0; i < requests_made; ++i) {
    request_record q = answered(i, steady_latency);
    if (i == 5) q = answered(i, 2, "internal");
    if (i >= 80 && i <= 89) q = answered(i, slow_latency);
    if (i >= 90 && i <= 94) q = answered(i, 5, "overloaded");
    if (i == 95) {
      q.reply_ms = -1;
      q.code = "lost";
      q.replies = 0;
    }
    if (i == 96) q = answered(i, steady_latency, "ok", 2);
    if (i >= 101 && i <= 105) q = answered(i, slow_after_latency);
    if (i == 152 || i == 154) q = answered(i, 3, "unavailable");
    if (i == 153) {
      q = answered(i, 50);
      q.tries = 2;
    }
    run.requests.push_back(q);
  }
  request_record shed;
  shed.id = "shed-1";
  shed.op = "classify";
  shed.intended_ms = 9000;
  shed.code = "shed";
  run.requests.push_back(shed);

  // Plans are relative to the measured part's start; records are run time.
  run.schedule = {plan(0, "slow", 6000, 8000, "node-a"), plan(1, "kill", 13000, 13000, evil_node)};
  fault_record slow{run.schedule[0], {"node-a"}, "slow doc-classifier 200 ms", 8000, 10000, true, ""};
  fault_record kill{run.schedule[1], {evil_node}, "SIGKILL pid 1234", 15000, 15000, true, ""};
  run.faults = {slow, kill};
  run.journal = {{0, "launch", "cluster.yaml"}, {8000, "apply", "slow node-a"}, {10000, "undo", "slow node-a"}};
  run.nodes = {{"node-a", {{"restarts", 0}}, {{"restarts", 1}}}};
  run.cleanup = {{"process nats-1 (pid 99)", true}, {"proxy node-a", true}};
  for (const auto& q : run.requests)
    if (q.reply_ms >= 0) run.observed_replies[q.id] = q.replies;
  return run;
}

steady_state_spec tolerances() {
  steady_state_spec t;
  t.p99_ms = 100;
  t.error_rate = 0.05;        // one error in a 2 s window of 20 requests is still within it
  t.throughput_rps = 8;       // the workload sends 10/s
  t.during_p99_ms = 250;      // fault 0's slow requests (200 ms) are accepted while it lasts
  t.recovery = millis{5000};
  t.window = millis{2000};
  return t;
}

const verdict* find_verdict(const report& r, const std::string& phase, const std::string& check_prefix) {
  for (const auto& v : r.verdicts)
    if (v.phase == phase && v.check.rfind(check_prefix, 0) == 0) return &v;
  return nullptr;
}

std::size_t occurrences(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + what.size())) ++n;
  return n;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(report)

BOOST_AUTO_TEST_CASE(nearest_rank_percentiles_pick_a_value_that_was_observed) {
  std::vector<double> ms;
  for (int i = 1; i <= 100; ++i) ms.push_back(i);
  std::reverse(ms.begin(), ms.end());  // any order
  auto s = summarize_latencies(ms);
  BOOST_TEST(s.count == 100u);
  BOOST_TEST(s.p50 == 50);
  BOOST_TEST(s.p95 == 95);
  BOOST_TEST(s.p99 == 99);
  BOOST_TEST(s.max == 100);
  auto one = summarize_latencies({7});
  BOOST_TEST(one.p50 == 7);
  BOOST_TEST(one.p99 == 7);
  BOOST_TEST(summarize_latencies({}).count == 0u);
}

BOOST_AUTO_TEST_CASE(totals_count_every_record_by_its_code_and_replies) {
  auto r = compute_report(synthetic_run(), tolerances());
  BOOST_TEST(r.scenario == "synthetic");
  BOOST_TEST(r.seed == 42u);
  BOOST_TEST(r.sent == 220u);      // the shed one was never sent
  BOOST_TEST(r.answered == 219u);  // all but r95
  BOOST_TEST(r.ok == 211u);        // minus 5 overloaded, 2 unavailable, 1 internal, 1 lost
  BOOST_TEST(r.lost == 1u);
  BOOST_TEST(r.duplicated == 1u);
  BOOST_TEST(r.shed == 1u);
  BOOST_TEST(r.retried == 1u);
  BOOST_TEST(r.errors.size() == 3u);
  BOOST_TEST(r.errors.at("overloaded") == 5u);
  BOOST_TEST(r.errors.at("unavailable") == 2u);
  BOOST_TEST(r.errors.at("internal") == 1u);  // in warm-up, still counted
}

BOOST_AUTO_TEST_CASE(throughput_counts_replies_that_arrived_in_the_measured_part) {
  auto r = compute_report(synthetic_run(), tolerances());
  // r20..r219 replied within 2000..22000 ms, less the lost r95: 199 over 20 s.
  BOOST_TEST(r.throughput_rps == 199.0 / 20, boost::test_tools::tolerance(1e-9));
  BOOST_TEST(r.overall.count == 199u);
}

BOOST_AUTO_TEST_CASE(phases_split_the_measured_part_at_the_faults) {
  auto r = compute_report(synthetic_run(), tolerances());
  // before: r20..r79, all steady.
  BOOST_TEST(r.before.count == 60u);
  BOOST_TEST(r.before.p50 == steady_latency);
  BOOST_TEST(r.before.p99 == steady_latency);
  // during: r80..r100 and r150..r170 (the kill's window is its start + 2 s), r95 without a reply: 41 latencies,
  // sorted 3,3, 5 x5, 10 x23, 50, 200 x10.
  BOOST_TEST(r.during.count == 41u);
  BOOST_TEST(r.during.p50 == steady_latency);   // rank 21
  BOOST_TEST(r.during.p95 == slow_latency);     // rank 39
  BOOST_TEST(r.during.p99 == slow_latency);
  BOOST_TEST(r.during.max == slow_latency);
  // after: r171..r219, steady again; r101..r105 lie between the faults, in no phase.
  BOOST_TEST(r.after.count == 49u);
  BOOST_TEST(r.after.p99 == steady_latency);
}

BOOST_AUTO_TEST_CASE(a_fault_counts_what_happened_to_requests_intended_in_its_window) {
  auto r = compute_report(synthetic_run(), tolerances());
  BOOST_TEST_REQUIRE(r.faults.size() == 2u);
  const auto& slow = r.faults[0];
  BOOST_TEST(slow.index == 0);
  BOOST_TEST(slow.kind == "slow");
  BOOST_TEST(slow.targets == "node-a");
  BOOST_TEST(slow.start_ms == 6000);  // relative to the measured part
  BOOST_TEST(slow.end_ms == 8000);
  BOOST_TEST(!slow.instantaneous);
  BOOST_TEST(slow.requests == 21u);   // r80..r100, both ends included
  BOOST_TEST(slow.shed == 1u);
  BOOST_TEST(slow.ok == 15u);
  BOOST_TEST(slow.lost == 1u);
  BOOST_TEST(slow.duplicated == 1u);
  BOOST_TEST(slow.errors.size() == 1u);
  BOOST_TEST(slow.errors.at("overloaded") == 5u);
  BOOST_TEST(slow.before.count == 20u);  // r60..r79: the 2 s window before it
  BOOST_TEST(slow.before.p99 == steady_latency);
  BOOST_TEST(slow.during.count == 20u);
  BOOST_TEST(slow.during.p50 == steady_latency);
  BOOST_TEST(slow.during.p99 == slow_latency);
  BOOST_TEST(slow.after.count == 49u);  // r101..r149, up to the next fault
  BOOST_TEST(slow.after.p50 == steady_latency);
  BOOST_TEST(slow.after.p99 == slow_after_latency);
}

BOOST_AUTO_TEST_CASE(an_instantaneous_fault_is_judged_over_one_window_from_its_start) {
  auto r = compute_report(synthetic_run(), tolerances());
  const auto& kill = r.faults[1];
  BOOST_TEST(kill.kind == "kill");
  BOOST_TEST(kill.instantaneous);
  BOOST_TEST(kill.start_ms == 13000);
  BOOST_TEST(kill.end_ms == 15000);  // start + window
  BOOST_TEST(kill.requests == 21u);  // r150..r170
  BOOST_TEST(kill.lost == 0u);
  BOOST_TEST(kill.errors.at("unavailable") == 2u);
  BOOST_TEST(kill.before.p99 == steady_latency);
  BOOST_TEST(kill.during.p99 == 50);  // r153, 21 values: rank 21
  BOOST_TEST(kill.after.count == 49u);
}

BOOST_AUTO_TEST_CASE(time_to_detect_is_the_first_error_or_latency_over_the_tolerance_as_the_client_sees_it) {
  auto r = compute_report(synthetic_run(), tolerances());
  // r80, meant for 8000 ms, was known to be over 100 ms at 8100 ms.
  BOOST_TEST(r.faults[0].detect_ms == 100);
  // r152's error arrived at 15203 ms.
  BOOST_TEST(r.faults[1].detect_ms == 203);
}

BOOST_AUTO_TEST_CASE(time_to_detect_falls_back_to_three_times_the_p99_before_faults) {
  auto t = tolerances();
  t.p99_ms.reset();  // then "slow" is over 3 x 10 ms: r80 at 8000 + 30 ms
  auto r = compute_report(synthetic_run(), t);
  BOOST_TEST(r.faults[0].detect_ms == 30);
}

BOOST_AUTO_TEST_CASE(time_to_detect_is_minus_one_when_nothing_showed) {
  auto run = synthetic_run();
  for (auto& q : run.requests)
    if (q.intended_ms >= 14000 && q.code != "shed") q = answered(static_cast<int>(q.intended_ms / 100), steady_latency);
  auto r = compute_report(run, tolerances());
  BOOST_TEST(r.faults[1].detect_ms == -1);
  BOOST_TEST(r.faults[1].recover_ms == 0);  // the first window after it is already clean
}

BOOST_AUTO_TEST_CASE(time_to_recover_is_when_a_whole_window_is_back_within_the_tolerances) {
  auto r = compute_report(synthetic_run(), tolerances());
  // Fault 0 was undone at 10000 ms; r101..r105 (150 ms) spoil every window starting before r106 at 10600 ms.
  BOOST_TEST(r.faults[0].recover_ms == 600);
  // The kill at 15000 ms: windows holding both r152 and r154 have 2 errors in 20 (over 5%); from r153 on,
  // one in 20 is within it.
  BOOST_TEST(r.faults[1].recover_ms == 300);
}

BOOST_AUTO_TEST_CASE(time_to_recover_counts_any_error_when_no_error_rate_is_set) {
  auto t = tolerances();
  t.error_rate.reset();
  auto r = compute_report(synthetic_run(), t);
  BOOST_TEST(r.faults[1].recover_ms == 500);  // from r155, after the last error
}

BOOST_AUTO_TEST_CASE(time_to_recover_is_minus_one_when_the_run_ends_first) {
  auto run = synthetic_run();
  for (auto& q : run.requests)
    if (q.intended_ms >= 15000 && q.code != "shed") q = answered(static_cast<int>(q.intended_ms / 100), 500);
  auto r = compute_report(run, tolerances());
  BOOST_TEST(r.faults[1].recover_ms == -1);
  auto v = find_verdict(r, "recovery", "fault 1 (kill) recovery");
  BOOST_TEST_REQUIRE(v);
  BOOST_TEST(!v->passed);
}

BOOST_AUTO_TEST_CASE(parallel_faults_starting_together_each_look_for_signs_until_a_later_fault_starts) {
  auto run = synthetic_run();
  fault_record twin = run.faults[0];  // a second member of a parallel group, with fault 0
  twin.plan.index = 2;
  twin.plan.kind = "pause";
  run.faults.push_back(twin);
  auto r = compute_report(run, tolerances());
  BOOST_TEST_REQUIRE(r.faults.size() == 3u);
  BOOST_TEST(r.faults[0].index == 0);
  BOOST_TEST(r.faults[1].index == 2);  // in start order; ties keep the record's order
  BOOST_TEST(r.faults[1].detect_ms == 100);
  BOOST_TEST(r.faults[1].after.count == 49u);  // up to the kill, not empty
  BOOST_TEST(r.faults[1].recover_ms == 600);
}

BOOST_AUTO_TEST_CASE(a_long_run_that_never_recovers_is_reported_in_one_pass) {
  // 1000 requests/s for 200 s, every one slow after the fault: a window search that rescanned the run per
  // candidate would take minutes here.
  constexpr int per_second = 1000, seconds = 200;
  run_record run;
  run.measure_start_ms = 0;
  run.end_ms = seconds * 1000.0;
  for (int i = 0; i < per_second * seconds; ++i) {
    request_record q;
    q.id = "q" + std::to_string(i);
    q.intended_ms = q.sent_ms = i * 1000.0 / per_second;
    q.reply_ms = q.intended_ms + (q.intended_ms >= 10000 ? 500 : steady_latency);
    q.code = "ok";
    q.replies = 1;
    run.requests.push_back(q);
  }
  run.faults = {{plan(0, "slow", 10000, 12000, "node-a"), {"node-a"}, "", 10000, 12000, true, ""}};
  auto r = compute_report(run, tolerances());
  BOOST_TEST(r.faults[0].detect_ms == 100);
  BOOST_TEST(r.faults[0].recover_ms == -1);
}

BOOST_AUTO_TEST_CASE(the_series_has_one_point_per_second_from_warm_up_on) {
  auto r = compute_report(synthetic_run(), tolerances());
  BOOST_TEST_REQUIRE(r.series.size() == 22u);
  BOOST_TEST(r.series.front().t_s == -2);  // warm-up: before the measured part
  BOOST_TEST(r.series.back().t_s == 19);
  const auto& first_measured = r.series[2];  // run time 2000..3000 ms
  BOOST_TEST(first_measured.t_s == 0);
  BOOST_TEST(first_measured.answered == 10);
  BOOST_TEST(first_measured.ok == 10);
  BOOST_TEST(first_measured.p50 == steady_latency);
  // 9000..10000 ms: replies of r88 (9000), r89 (9100), r90..r94 (errors), r96..r99; r95 was lost.
  const auto& faulty = r.series[9];
  BOOST_TEST(faulty.t_s == 7);
  BOOST_TEST(faulty.answered == 11);
  BOOST_TEST(faulty.errors == 5);
  BOOST_TEST(faulty.ok == 6);
  BOOST_TEST(faulty.lost == 1);
  BOOST_TEST(faulty.latencies == 9u);  // r90..r99 were meant for this second; r95 has no latency
  BOOST_TEST(r.series[8].p99 == slow_latency);  // r80..r89 were meant for 8000..9000 ms
}

BOOST_AUTO_TEST_CASE(verdicts_judge_each_set_tolerance_before_during_and_after) {
  auto r = compute_report(synthetic_run(), tolerances());
  auto before_p99 = find_verdict(r, "before", "p99_ms");
  BOOST_TEST_REQUIRE(before_p99);
  BOOST_TEST(before_p99->check == "p99_ms <= 100");
  BOOST_TEST(before_p99->observed == steady_latency);
  BOOST_TEST(before_p99->passed);
  auto before_tp = find_verdict(r, "before", "throughput_rps");
  BOOST_TEST_REQUIRE(before_tp);
  BOOST_TEST(before_tp->observed == 10);  // 60 answered over 6 s
  BOOST_TEST(before_tp->passed);
  auto during_p99 = find_verdict(r, "during", "p99_ms");
  BOOST_TEST_REQUIRE(during_p99);
  BOOST_TEST(during_p99->check == "p99_ms <= 250");
  BOOST_TEST(during_p99->passed);
  BOOST_TEST(!find_verdict(r, "during", "error_rate"));      // during_error_rate is not set
  BOOST_TEST(!find_verdict(r, "during", "throughput_rps"));  // never judged during faults
  auto after_tp = find_verdict(r, "after", "throughput_rps");
  BOOST_TEST_REQUIRE(after_tp);
  BOOST_TEST(after_tp->observed == 49.0 / 5, boost::test_tools::tolerance(1e-9));
  BOOST_TEST(find_verdict(r, "after", "error_rate")->passed);
  BOOST_TEST(find_verdict(r, "recovery", "fault 0 (slow) recovery <= 5000 ms")->passed);
  BOOST_TEST(find_verdict(r, "recovery", "fault 1 (kill) recovery <= 5000 ms")->passed);
}

BOOST_AUTO_TEST_CASE(a_lost_request_fails_the_run_even_when_every_tolerance_holds) {
  auto r = compute_report(synthetic_run(), tolerances());
  auto lost = find_verdict(r, "run", "lost == 0");
  BOOST_TEST_REQUIRE(lost);
  BOOST_TEST(lost->observed == 1);
  BOOST_TEST(!lost->passed);
  BOOST_TEST(r.cleanup_ok);
  BOOST_TEST(r.counts_agree);
  BOOST_TEST(!r.passed);
}

BOOST_AUTO_TEST_CASE(a_run_without_loss_within_its_tolerances_passes) {
  auto run = synthetic_run();
  run.requests[95] = answered(95, steady_latency);
  run.observed_replies["r95"] = 1;
  auto r = compute_report(run, tolerances());
  BOOST_TEST(r.lost == 0u);
  for (const auto& v : r.verdicts) BOOST_TEST(v.passed, v.phase << ": " << v.check << " observed " << v.observed);
  BOOST_TEST(r.passed);
}

BOOST_AUTO_TEST_CASE(a_tolerance_broken_during_faults_fails_its_verdict) {
  auto t = tolerances();
  t.during_p99_ms = 150;
  auto r = compute_report(synthetic_run(), t);
  auto v = find_verdict(r, "during", "p99_ms");
  BOOST_TEST_REQUIRE(v);
  BOOST_TEST(v->observed == slow_latency);
  BOOST_TEST(!v->passed);
}

BOOST_AUTO_TEST_CASE(a_fault_that_could_not_be_applied_is_a_failed_verdict) {
  auto run = synthetic_run();
  run.requests[95] = answered(95, steady_latency);
  run.observed_replies["r95"] = 1;
  run.faults[1].error = "no such process";
  auto r = compute_report(run, tolerances());
  auto v = find_verdict(r, "fault", "fault 1 (kill) applied");
  BOOST_TEST_REQUIRE(v);
  BOOST_TEST(!v->passed);
  BOOST_TEST(!r.passed);
}

BOOST_AUTO_TEST_CASE(something_left_behind_fails_the_cleanup_check_and_the_run) {
  auto run = synthetic_run();
  run.requests[95] = answered(95, steady_latency);
  run.observed_replies["r95"] = 1;
  run.cleanup.push_back({"nft table inet im-part", false});
  auto r = compute_report(run, tolerances());
  BOOST_TEST(!r.cleanup_ok);
  BOOST_TEST(!r.passed);
}

BOOST_AUTO_TEST_CASE(counts_agree_when_the_subscriber_saw_exactly_the_answered_requests) {
  auto r = compute_report(synthetic_run(), tolerances());
  BOOST_TEST(r.counts_checked);
  BOOST_TEST(r.counts_agree);
  BOOST_TEST(r.observed_replies == 219u);
  BOOST_TEST(r.counts_detail.empty());
}

BOOST_AUTO_TEST_CASE(counts_disagree_when_a_reply_was_observed_for_a_lost_request) {
  auto run = synthetic_run();
  run.observed_replies["r95"] = 1;
  auto r = compute_report(run, tolerances());
  BOOST_TEST(!r.counts_agree);
  BOOST_TEST(r.counts_detail.find("1 lost but observed (e.g. r95)") != std::string::npos, r.counts_detail);
  BOOST_TEST(r.counts_detail.find("observed 220 ids, answered 219") != std::string::npos, r.counts_detail);
}

BOOST_AUTO_TEST_CASE(counts_disagree_when_an_answered_request_was_not_observed) {
  auto run = synthetic_run();
  run.observed_replies.erase("r30");
  auto r = compute_report(run, tolerances());
  BOOST_TEST(!r.counts_agree);
  BOOST_TEST(r.counts_detail.find("1 answered but not observed (e.g. r30)") != std::string::npos, r.counts_detail);
}

BOOST_AUTO_TEST_CASE(counts_disagreement_names_at_most_five_examples) {
  auto run = synthetic_run();
  for (int i = 30; i < 40; ++i) run.observed_replies.erase("r" + std::to_string(i));
  auto r = compute_report(run, tolerances());
  BOOST_TEST(r.counts_detail.find("10 answered but not observed (e.g. r30, r31, r32, r33, r34)") != std::string::npos,
             r.counts_detail);
}

BOOST_AUTO_TEST_CASE(answers_the_independent_count_never_saw_make_the_run_fail) {
  auto run = synthetic_run();
  run.observed_replies.clear();  // a subscriber that saw nothing (cut off, wrong prefix) cannot vouch for the counts
  auto r = compute_report(run, tolerances());
  BOOST_TEST(!r.counts_checked);
  BOOST_TEST(!r.counts_agree);
  BOOST_TEST(!r.passed);
  BOOST_TEST(r.counts_detail.find("not checked") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(counts_agree_trivially_when_nothing_was_answered_or_observed) {
  run_record run;
  run.end_ms = 1000;
  auto r = compute_report(run, steady_state_spec{});  // no tolerance but "lost == 0" to fail an empty run
  BOOST_TEST(r.counts_checked);
  BOOST_TEST(r.counts_agree);
  BOOST_TEST(r.passed);
}

BOOST_AUTO_TEST_CASE(counts_disagree_when_replies_were_observed_but_none_answered) {
  run_record run;
  run.end_ms = 1000;
  run.observed_replies["ghost"] = 1;
  auto r = compute_report(run, tolerances());
  BOOST_TEST(!r.counts_agree);
  BOOST_TEST(!r.passed);
}

BOOST_AUTO_TEST_CASE(json_parses_back_with_the_schedule_faults_records_and_verdicts) {
  auto run = synthetic_run();
  auto r = compute_report(run, tolerances());
  auto j = nlohmann::json::parse(report_json(run, r));
  BOOST_TEST(j["seed"].get<std::uint64_t>() == 42u);
  BOOST_TEST(j["scenario"] == "synthetic");
  BOOST_TEST(j["passed"] == false);
  BOOST_TEST_REQUIRE(j["schedule"].size() == 2u);
  BOOST_TEST(j["schedule"][0]["kind"] == "slow");
  BOOST_TEST(j["schedule"][0]["start_ms"] == 6000);
  BOOST_TEST(j["schedule"][0]["end_ms"] == 8000);
  BOOST_TEST(j["schedule"][0]["target"]["node"] == "node-a");
  BOOST_TEST(j["schedule"][0]["target"]["choose"] == "one");
  BOOST_TEST(j["schedule"][0]["params"]["ms"] == "200");
  BOOST_TEST(j["faults"][1]["targets"][0] == evil_node);
  BOOST_TEST(j["faults"][1]["detail"] == "SIGKILL pid 1234");
  BOOST_TEST(j["faults"][1]["start_ms"] == 15000);
  BOOST_TEST(j["requests"].size() == 221u);
  BOOST_TEST(j["requests"][95]["code"] == "lost");
  BOOST_TEST(j["requests"][95]["reply_ms"] == -1);
  BOOST_TEST(j["requests"][153]["tries"] == 2);
  BOOST_TEST(j["impacts"][0]["detect_ms"] == 100);
  BOOST_TEST(j["impacts"][0]["recover_ms"] == 600);
  BOOST_TEST(j["impacts"][0]["errors"]["overloaded"] == 5);
  BOOST_TEST(j["impacts"][0]["during"]["p99"] == slow_latency);
  BOOST_TEST(j["totals"]["lost"] == 1);
  BOOST_TEST(j["totals"]["answered"] == 219);
  BOOST_TEST(j["totals"]["errors"] == 8);
  BOOST_TEST(j["phases"]["before"]["p99"] == steady_latency);
  BOOST_TEST(j["phases"]["during"]["count"] == 41);
  BOOST_TEST(j["totals"]["latency"]["count"] == 199);
  BOOST_TEST(j["series"].size() == 22u);
  BOOST_TEST(j["verdicts"].size() == r.verdicts.size());
  BOOST_TEST(j["nodes"][0]["after"]["restarts"] == 1);
  BOOST_TEST(j["journal"].size() == 3u);
  BOOST_TEST(j["cleanup"]["ok"] == true);
  BOOST_TEST(j["cleanup"]["items"].size() == 2u);
  BOOST_TEST(j["counts"]["agree"] == true);
  BOOST_TEST(j["counts"]["observed_replies"] == 219);
}

BOOST_AUTO_TEST_CASE(json_stays_valid_with_quotes_control_characters_and_bytes_that_are_not_utf8) {
  auto run = synthetic_run();
  run.faults[0].detail = "say \"hi\"\n\t\\ \x01";
  run.journal.push_back({1, "probe", std::string("bad byte \xff here")});
  auto r = compute_report(run, tolerances());
  auto j = nlohmann::json::parse(report_json(run, r));
  BOOST_TEST(j["faults"][0]["detail"] == "say \"hi\"\n\t\\ \x01");
  BOOST_TEST(j["journal"][3]["action"] == "probe");
}

BOOST_AUTO_TEST_CASE(html_has_both_charts_and_one_band_per_fault_in_each) {
  auto run = synthetic_run();
  auto r = compute_report(run, tolerances());
  auto html = report_html(run, r);
  BOOST_TEST(occurrences(html, "<svg id=\"latency-chart\"") == 1u);
  BOOST_TEST(occurrences(html, "<svg id=\"throughput-chart\"") == 1u);
  BOOST_TEST(occurrences(html, "class=\"fault-band\"") == 2 * r.faults.size());
  BOOST_TEST(html.find("FAILED") != std::string::npos);
  BOOST_TEST(html.find("class=\"warmup\"") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(html_breaks_the_latency_lines_in_a_second_without_replies_rather_than_drawing_zero) {
  auto run = synthetic_run();
  for (auto& q : run.requests)
    if (q.intended_ms >= 12000 && q.intended_ms < 13000) {
      q.reply_ms = -1;
      q.code = "lost";
      q.replies = 0;
      run.observed_replies.erase(q.id);
    }
  auto r = compute_report(run, tolerances());
  BOOST_TEST(r.series[12].latencies == 0u);
  auto html = report_html(run, r);
  auto chart = html.substr(html.find("id=\"latency-chart\""));
  chart = chart.substr(0, chart.find("</svg>"));
  BOOST_TEST(occurrences(chart, "<polyline") == 4u);  // p50 and p99, each in two pieces
}

BOOST_AUTO_TEST_CASE(html_has_no_script_and_escapes_every_text_from_the_run) {
  auto run = synthetic_run();
  run.journal.push_back({1, "probe", "a & b \"quoted\" 'single'"});
  auto r = compute_report(run, tolerances());
  auto html = report_html(run, r);
  BOOST_TEST(html.find("<script") == std::string::npos);
  BOOST_TEST(html.find("&lt;script&gt;alert(1)&lt;/script&gt;") != std::string::npos);
  BOOST_TEST(html.find("a &amp; b &quot;quoted&quot; &#39;single&#39;") != std::string::npos);
  BOOST_TEST(html.find("http://") == html.find("http://www.w3.org/2000/svg"));  // the SVG namespace, not a fetch
  BOOST_TEST(occurrences(html, "http") == 2u);  // one xmlns per chart, nothing to load
}

BOOST_AUTO_TEST_CASE(summary_names_the_run_the_numbers_each_fault_and_the_failed_checks) {
  auto r = compute_report(synthetic_run(), tolerances());
  auto s = report_summary(r);
  BOOST_TEST(s.find("scenario synthetic, seed 42") != std::string::npos, s);
  BOOST_TEST(s.find("sent 220, answered 219, ok 211, lost 1, duplicated 1, shed 1, errors 8") != std::string::npos, s);
  BOOST_TEST(s.find("before: p50 10.0 ms, p99 10.0 ms") != std::string::npos, s);
  BOOST_TEST(s.find("fault 0 slow node-a: lost 1, errors 5, detect 100.0 ms, recover 600.0 ms") != std::string::npos, s);
  BOOST_TEST(s.find("fault 1 kill") != std::string::npos, s);
  BOOST_TEST(s.find("FAILED: run: lost == 0 (observed 1)") != std::string::npos, s);
}

BOOST_AUTO_TEST_SUITE_END()
