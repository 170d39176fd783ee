#include <boost/test/unit_test.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <unistd.h>

#include "simulator/scenario.hpp"

using namespace infermesh;
using namespace infermesh::sim;

namespace {

/// Where relative paths resolve in these tests; any absolute folder works, none is read.
const std::string scenario_dir = "/scenarios";

/// Every key of the format, once: simulations/README.md's example (a case below checks they are the same).
const std::string full_example = R"(
name: game-day
description: kill a node, slow a model, partition a host
seed: 42
cluster:
  file: my-cluster.yaml   # nodes node-1..3 on hosts host-a..c, serving doc-classifier
  ports: free
  hosts: namespaces
  ready_timeout_ms: 2m
workload:
  arrivals: poisson
  rate: 50
  max_in_flight: 128
  mix: {process: 1, classify: 3}
  inputs: inputs/
  durable: [process]
  attempts: 2
  attempt_timeout_ms: 5s
  backoff_ms: 250
  timeout_ms: 20s
  duration: 90s
  warmup: 10s
steady_state:
  p99_ms: 800
  error_rate: 0.01
  throughput_rps: 40
  lost: 0
  during: {p99_ms: 3000, error_rate: 0.2}
  recovery: 20s
  window: 3s
faults:
  - {at: 10s, kind: slow, target: {node: node-1}, model: doc-classifier, ms: 300, duration: 10s}
  - at: 30s
    kind: kill
    target: {role: node, serves: ocr, choose: percent, percent: 50}
  - serial:
      - {kind: crash, target: {node: node-2}, params: {model: doc-classifier, actor: batcher}}
      - {at: 2s, kind: partition, target: {host: host-b}, peers: "host-a, host-c", one_way: yes, duration: 5s}
    at: 40s
    every: 20s
    repeat: 2
  - {at: 45s, kind: stepdown-consumer, op: process}
  - parallel:
      - {kind: latency, target: {role: node, choose: all}, ms: 50, jitter_ms: 10, duration: 4s}
      - {at: 1s, kind: lame-duck, target: {role: nats, of: node-1}, duration: 3s}
    at: 80s
)";

/// A minimal valid scenario with `faults:` set to the one fault `fault` (a flow map), on a namespaced cluster.
std::string with_fault(const std::string& fault) {
  return "cluster: {file: c.yaml, hosts: namespaces}\nfaults:\n  - " + fault + "\n";
}

/// Parses `yaml` and requires an error whose message starts with `key` followed by ": ", and holds `words`.
void expect_error_naming(const std::string& yaml, const std::string& key, const std::string& words = "") {
  BOOST_TEST_CONTEXT("scenario:\n" << yaml) {
    const auto s = parse_scenario(yaml, scenario_dir);
    BOOST_REQUIRE_MESSAGE(!s, "expected an error naming " << key);
    BOOST_TEST((s.err().code == error_code::bad_request));
    BOOST_TEST(s.err().message.rfind(key + ": ", 0) == 0, "'" << s.err().message << "' starts with '" << key << ": '");
    BOOST_TEST(s.err().message.find(words) != std::string::npos, "'" << s.err().message << "' says '" << words << "'");
  }
}

#ifndef INFERMESH_SOURCE_DIR
#define INFERMESH_SOURCE_DIR "."  // the dev loop compiles from the worktree's root without CMake
#endif

std::string readme() {
  std::ifstream in(std::string(INFERMESH_SOURCE_DIR) + "/simulations/README.md");
  BOOST_REQUIRE_MESSAGE(in, "simulations/README.md is readable");
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

scenario parsed(const std::string& yaml) {
  auto s = parse_scenario(yaml, scenario_dir);
  BOOST_REQUIRE_MESSAGE(s, (s ? "" : s.err().message));
  return *s;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(scenario)

BOOST_AUTO_TEST_CASE(the_full_example_parses_with_every_key_read) {
  const auto s = parsed(full_example);
  BOOST_TEST(s.name == "game-day");
  BOOST_TEST(s.seed == 42u);
  BOOST_TEST(s.source_dir == scenario_dir);
  BOOST_TEST(s.cluster.file == "/scenarios/my-cluster.yaml");
  BOOST_TEST(s.cluster.free_ports);
  BOOST_TEST(s.cluster.namespaces);
  BOOST_TEST(s.cluster.ready_timeout.count() == 120000);
  BOOST_TEST(s.workload.rate == 50);
  BOOST_TEST(s.workload.max_in_flight == 128);
  BOOST_REQUIRE(s.workload.mix.size() == 2u);
  BOOST_TEST(s.workload.mix[0].op == "classify");  // sorted by op, not as written
  BOOST_TEST(s.workload.mix[0].weight == 3);
  BOOST_TEST(s.workload.inputs == "/scenarios/inputs");
  BOOST_TEST(s.workload.durable.at("process"));
  BOOST_TEST(s.workload.attempts == 2);
  BOOST_TEST(s.workload.attempt_timeout.count() == 5000);
  BOOST_TEST(s.workload.backoff.count() == 250);
  BOOST_TEST(s.workload.timeout.count() == 20000);
  BOOST_TEST(s.workload.duration.count() == 90000);
  BOOST_TEST(s.workload.warmup.count() == 10000);
  BOOST_TEST(*s.steady_state.p99_ms == 800);
  BOOST_TEST(*s.steady_state.error_rate == 0.01);
  BOOST_TEST(*s.steady_state.throughput_rps == 40);
  BOOST_TEST(*s.steady_state.during_p99_ms == 3000);
  BOOST_TEST(*s.steady_state.during_error_rate == 0.2);
  BOOST_TEST(s.steady_state.recovery.count() == 20000);
  BOOST_TEST(s.steady_state.window.count() == 3000);
  BOOST_REQUIRE(s.faults.size() == 5u);
}

BOOST_AUTO_TEST_CASE(the_readme_example_is_the_full_example) {
  const auto text = readme();
  const auto begin = text.find("```yaml\n");
  BOOST_REQUIRE(begin != std::string::npos);
  const auto end = text.find("```", begin + 8);
  BOOST_TEST(text.substr(begin + 8, end - begin - 8) == full_example.substr(1));  // the literal opens with a newline
}

BOOST_AUTO_TEST_CASE(the_readme_documents_every_fault_kind) {
  const auto text = readme();
  for (const auto& [kind, description] : fault_kinds())
    BOOST_TEST(text.find("| `" + kind + "` |") != std::string::npos, "README's fault table has a row for " << kind);
}

BOOST_AUTO_TEST_CASE(flat_params_and_params_under_params_are_stored_alike_as_strings) {
  const auto s = parsed(full_example);
  const auto& slow = s.faults[0];
  BOOST_TEST(slow.kind == "slow");
  BOOST_TEST(slow.at.count() == 10000);
  BOOST_TEST(slow.duration.count() == 10000);
  BOOST_TEST(slow.target.node == "node-1");
  BOOST_TEST(slow.params.at("model") == "doc-classifier");
  BOOST_TEST(slow.params.at("ms") == "300");
  const auto& crash = s.faults[2].members[0];
  BOOST_TEST(crash.params.at("model") == "doc-classifier");
  BOOST_TEST(crash.params.at("actor") == "batcher");
}

BOOST_AUTO_TEST_CASE(flags_are_stored_as_true_or_false_and_peers_as_a_comma_list) {
  const auto partition = parsed(full_example).faults[2].members[1];
  BOOST_TEST(partition.params.at("one_way") == "true");  // written `yes`
  BOOST_TEST(partition.params.at("peers") == "host-a,host-c");
  const auto listed = parsed(with_fault("{kind: partition, target: {host: h}, peers: [a, b], duration: 1s}"));
  BOOST_TEST(listed.faults[0].params.at("peers") == "a,b");
}

BOOST_AUTO_TEST_CASE(groups_keep_their_members_at_and_repetition) {
  const auto s = parsed(full_example);
  const auto& serial = s.faults[2];
  BOOST_TEST((serial.group == fault_spec::group_kind::serial));
  BOOST_TEST(serial.kind.empty());
  BOOST_TEST(serial.members.size() == 2u);
  BOOST_TEST(serial.at.count() == 40000);
  BOOST_TEST(serial.every->count() == 20000);
  BOOST_TEST(serial.repeat == 2);
  BOOST_TEST(!serial.repeat_to_end);
  BOOST_TEST(serial.members[1].at.count() == 2000);
  const auto& parallel = s.faults[4];
  BOOST_TEST((parallel.group == fault_spec::group_kind::parallel));
  BOOST_TEST((parallel.members[0].target.choose == target_spec::choice::all));
  BOOST_TEST(parallel.members[1].target.of == "node-1");
}

BOOST_AUTO_TEST_CASE(role_targets_keep_their_refinements_and_choice) {
  const auto kill = parsed(full_example).faults[1];
  BOOST_TEST(kill.target.role == "node");
  BOOST_TEST(kill.target.serves == "ocr");
  BOOST_TEST((kill.target.choose == target_spec::choice::percent));
  BOOST_TEST(kill.target.percent == 50);
  const auto leader = parsed(with_fault("{kind: kill, target: {role: consumer-leader, op: process}}"));
  BOOST_TEST(leader.faults[0].target.op == "process");
}

BOOST_AUTO_TEST_CASE(a_scenario_of_only_a_cluster_takes_every_default) {
  const auto s = parsed("cluster: {file: c.yaml}");
  BOOST_TEST(s.name.empty());
  BOOST_TEST(s.seed == 1u);
  BOOST_TEST(s.cluster.free_ports);
  BOOST_TEST(!s.cluster.namespaces);
  BOOST_TEST(s.cluster.ready_timeout.count() == 180000);
  BOOST_TEST((s.workload.kind == workload_spec::arrivals::poisson));
  BOOST_TEST(s.workload.rate == 20);
  BOOST_TEST(s.workload.max_in_flight == 256);
  BOOST_REQUIRE(s.workload.mix.size() == 1u);
  BOOST_TEST(s.workload.mix[0].op == "classify");
  BOOST_TEST(s.workload.inputs.empty());
  BOOST_TEST(s.workload.durable.empty());
  BOOST_TEST(s.workload.attempts == 3);
  BOOST_TEST(s.workload.attempt_timeout.count() == 10000);
  BOOST_TEST(s.workload.backoff.count() == 100);
  BOOST_TEST(s.workload.timeout.count() == 30000);
  BOOST_TEST(s.workload.duration.count() == 60000);
  BOOST_TEST(s.workload.warmup.count() == 5000);
  BOOST_TEST(!s.steady_state.p99_ms);
  BOOST_TEST(!s.steady_state.error_rate);
  BOOST_TEST(!s.steady_state.throughput_rps);
  BOOST_TEST(s.steady_state.zero_lost);
  BOOST_TEST(!s.steady_state.during_p99_ms);
  BOOST_TEST(s.steady_state.recovery.count() == 30000);
  BOOST_TEST(s.steady_state.window.count() == 2000);
  BOOST_TEST(s.faults.empty());
}

BOOST_AUTO_TEST_CASE(a_seed_takes_the_whole_64_bit_range_and_nothing_else) {
  BOOST_TEST(parsed("cluster: {file: c.yaml}\nseed: 0").seed == 0u);
  BOOST_TEST(parsed("cluster: {file: c.yaml}\nseed: 18446744073709551615").seed == 18446744073709551615ULL);
  expect_error_naming("cluster: {file: c.yaml}\nseed: 18446744073709551616", "seed");
  expect_error_naming("cluster: {file: c.yaml}\nseed: 1.5", "seed");
}

BOOST_AUTO_TEST_CASE(a_fault_takes_at_zero_duration_zero_one_repetition_and_choose_one_by_default) {
  const auto f = parsed(with_fault("{kind: kill, target: {role: nats}}")).faults[0];
  BOOST_TEST(f.at.count() == 0);
  BOOST_TEST(f.duration.count() == 0);
  BOOST_TEST(!f.every);
  BOOST_TEST(f.repeat == 1);
  BOOST_TEST((f.target.choose == target_spec::choice::one));
  BOOST_TEST(f.params.empty());
}

BOOST_AUTO_TEST_CASE(every_without_repeat_repeats_to_the_end) {
  const auto f = parsed(with_fault("{kind: kill, target: {node: n}, every: 10s}")).faults[0];
  BOOST_TEST(f.repeat_to_end);
  BOOST_TEST(f.every->count() == 10000);
}

BOOST_AUTO_TEST_CASE(closed_loop_reads_clients_and_attach_reads_urls) {
  const auto s = parsed("cluster: {attach: [nats://a:4222, nats://b:4222]}\n"
                        "workload: {arrivals: closed, clients: 4, durable: {process: true, classify: false}}");
  BOOST_TEST(s.cluster.attach.size() == 2u);
  BOOST_TEST(s.cluster.file.empty());
  BOOST_TEST((s.workload.kind == workload_spec::arrivals::closed));
  BOOST_TEST(s.workload.clients == 4);
  BOOST_TEST(s.workload.durable.at("process"));
  BOOST_TEST(!s.workload.durable.at("classify"));
}

BOOST_AUTO_TEST_CASE(durations_read_units_and_bare_milliseconds) {
  BOOST_TEST(parse_duration("90s")->count() == 90000);
  BOOST_TEST(parse_duration("500ms")->count() == 500);
  BOOST_TEST(parse_duration("2m")->count() == 120000);
  BOOST_TEST(parse_duration("1h")->count() == 3600000);
  BOOST_TEST(parse_duration("1.5s")->count() == 1500);
  BOOST_TEST(parse_duration("250")->count() == 250);
  BOOST_TEST(parse_duration(" 3 s ")->count() == 3000);
  BOOST_TEST(parse_duration("0")->count() == 0);
}

BOOST_AUTO_TEST_CASE(durations_refuse_negatives_unknown_units_and_fractions_of_a_millisecond) {
  for (const char* bad : {"", "-1s", "10x", "s", "1.2.3s", "0.5ms", "1e3", ".5s", "10 sec", "NaN"})
    BOOST_TEST(!parse_duration(bad), "'" << bad << "' is refused");
}

BOOST_AUTO_TEST_CASE(top_level_and_cluster_errors_name_their_key) {
  expect_error_naming("cluster: {file: c.yaml}\nfault: []", "fault", "unknown key");
  expect_error_naming("name: x", "cluster", "is required");
  expect_error_naming("cluster: {file: c.yaml}\nseed: -1", "seed", "integer");
  expect_error_naming("cluster: {file: c.yaml}\nseed: twelve", "seed");
  expect_error_naming("cluster: {file: c.yaml}\nname: [a]", "name");
  expect_error_naming("cluster: {}", "cluster", "exactly one of file or attach");
  expect_error_naming("cluster: {file: c.yaml, attach: [nats://a]}", "cluster", "exactly one");
  expect_error_naming("cluster: {file: c.yaml, port: free}", "cluster.port", "unknown key");
  expect_error_naming("cluster: {file: c.yaml, ports: some}", "cluster.ports", "free, as_is");
  expect_error_naming("cluster: {file: c.yaml, hosts: vms}", "cluster.hosts", "local, namespaces");
  expect_error_naming("cluster: {file: c.yaml, ready_timeout_ms: soon}", "cluster.ready_timeout_ms", "duration");
  expect_error_naming("cluster: {attach: []}", "cluster.attach", "non-empty list");
  expect_error_naming("cluster: {attach: ['']}", "cluster.attach[0]");
  expect_error_naming("cluster: {attach: [nats://a], ports: free}", "cluster.ports", "not attach");
  expect_error_naming("cluster: {file: c.yaml}\nfaults: {kind: kill}", "faults", "list");
  expect_error_naming("cluster: [file]", "cluster", "must be a map");
  expect_error_naming("- a\n- b", "(top level)", "must be a map");
}

BOOST_AUTO_TEST_CASE(workload_errors_name_their_key) {
  const std::string c = "cluster: {file: c.yaml}\nworkload: ";
  expect_error_naming(c + "{arrivals: bursty}", "workload.arrivals", "poisson, constant, closed");
  expect_error_naming(c + "{rate: 0}", "workload.rate", "> 0");
  expect_error_naming(c + "{rate: fast}", "workload.rate");
  expect_error_naming(c + "{rate: 100000, duration: 1h}", "workload.rate", "360500000 arrivals");
  expect_error_naming(c + "{arrivals: closed, rate: 5}", "workload.rate", "not closed");
  expect_error_naming(c + "{arrivals: closed, max_in_flight: 5}", "workload.max_in_flight", "not closed");
  expect_error_naming(c + "{clients: 4}", "workload.clients", "closed only");
  expect_error_naming(c + "{arrivals: closed, clients: 0}", "workload.clients", "1..100000");
  expect_error_naming(c + "{max_in_flight: -3}", "workload.max_in_flight");
  expect_error_naming(c + "{mix: {}}", "workload.mix", "map of op to weight");
  expect_error_naming(c + "{mix: [classify]}", "workload.mix", "map of op to weight");
  expect_error_naming(c + "{mix: {translate: 1}}", "workload.mix.translate", "unknown op 'translate'");
  expect_error_naming(c + "{mix: {ocr: -1}}", "workload.mix.ocr", "weight >= 0");
  expect_error_naming(c + "{mix: {ocr: 0}}", "workload.mix", "at least one weight > 0");
  expect_error_naming(c + "{inputs: ''}", "workload.inputs");
  expect_error_naming(c + "{durable: [process, print]}", "workload.durable[1]", "unknown op 'print'");
  expect_error_naming(c + "{durable: {process: maybe}}", "workload.durable.process", "true or false");
  expect_error_naming(c + "{durable: process}", "workload.durable", "list of ops");
  expect_error_naming(c + "{attempts: 0}", "workload.attempts", "1..100");
  expect_error_naming(c + "{attempt_timeout_ms: 0}", "workload.attempt_timeout_ms", "at least 1 ms");
  expect_error_naming(c + "{backoff_ms: -5}", "workload.backoff_ms", "duration");
  expect_error_naming(c + "{timeout_ms: 10y}", "workload.timeout_ms", "duration");
  expect_error_naming(c + "{duration: 0s}", "workload.duration", "at least 1 ms");
  expect_error_naming(c + "{duration: 40d}", "workload.duration", "duration");
  expect_error_naming(c + "{warmup: [1]}", "workload.warmup", "duration");
  expect_error_naming(c + "{rates: 5}", "workload.rates", "unknown key (known here: arrivals, rate");
}

BOOST_AUTO_TEST_CASE(steady_state_errors_name_their_key) {
  const std::string c = "cluster: {file: c.yaml}\nsteady_state: ";
  expect_error_naming(c + "{p99_ms: 0}", "steady_state.p99_ms", "> 0");
  expect_error_naming(c + "{error_rate: 1.5}", "steady_state.error_rate", "<= 1");
  expect_error_naming(c + "{throughput_rps: -1}", "steady_state.throughput_rps");
  expect_error_naming(c + "{lost: 1}", "steady_state.lost", "must be 0");
  expect_error_naming(c + "{lost: any}", "steady_state.lost", "must be 0");
  expect_error_naming(c + "{during: {p99_ms: 0}}", "steady_state.during.p99_ms");
  expect_error_naming(c + "{during: {throughput_rps: 5}}", "steady_state.during.throughput_rps", "unknown key");
  expect_error_naming(c + "{recovery: later}", "steady_state.recovery", "duration");
  expect_error_naming(c + "{window: 0}", "steady_state.window", "at least 1 ms");
  expect_error_naming(c + "{p95_ms: 3}", "steady_state.p95_ms", "unknown key");
}

BOOST_AUTO_TEST_CASE(an_unknown_fault_kind_is_named_with_the_known_ones) {
  expect_error_naming(with_fault("{kind: kil, target: {node: n}}"), "faults[0].kind",
                      "unknown fault kind 'kil' (known: kill, term, pause, restart, crash, slow");
  expect_error_naming(with_fault("{serial: [{kind: kill, target: {node: n}}, {kind: kil}]}"),
                      "faults[0].serial[1].kind", "unknown fault kind 'kil'");
  expect_error_naming(with_fault("{target: {node: n}}"), "faults[0].kind", "is required");
}

BOOST_AUTO_TEST_CASE(fault_params_are_required_typed_and_in_range) {
  expect_error_naming(with_fault("{kind: slow, target: {node: n}, model: m, duration: 1s}"), "faults[0].params.ms",
                      "is required for kind 'slow'");
  expect_error_naming(with_fault("{kind: slow, target: {node: n}, model: m, ms: 0, duration: 1s}"), "faults[0].ms",
                      "must be an integer in 1..600000");
  expect_error_naming(with_fault("{kind: slow, target: {node: n}, params: {model: m, ms: 700000}, duration: 1s}"),
                      "faults[0].params.ms", "must be an integer in 1..600000");
  expect_error_naming(with_fault("{kind: slow, target: {node: n}, ms: 5, duration: 1s}"), "faults[0].params.model",
                      "is required");
  expect_error_naming(with_fault("{kind: fail, target: {node: n}, model: m, count: many}"), "faults[0].count",
                      "integer in 1..1000000");
  expect_error_naming(with_fault("{kind: fail-load, target: {node: n}, model: m}"), "faults[0].params.count");
  expect_error_naming(with_fault("{kind: crash, target: {node: n}}"), "faults[0].params.model", "unless actor: router");
  expect_error_naming(with_fault("{kind: crash, target: {node: n}, actor: router, model: m}"), "faults[0].params.model",
                      "does not apply to actor: router");
  expect_error_naming(with_fault("{kind: crash, target: {node: n}, model: m, actor: scheduler}"), "faults[0].actor",
                      "model, batcher, step, pool, engine, router");
  expect_error_naming(with_fault("{kind: latency, target: {node: n}, ms: 5, jitter_ms: -1, duration: 1s}"),
                      "faults[0].jitter_ms", "0..60000");
  expect_error_naming(with_fault("{kind: latency, target: {node: n}, ms: 5, jitter_ms: 6, duration: 1s}"),
                      "faults[0].params.jitter_ms", "at most ms (5)");
  expect_error_naming(with_fault("{kind: bandwidth, target: {node: n}, duration: 1s}"), "faults[0].params.kbps");
  expect_error_naming(with_fault("{kind: slice, target: {node: n}, bytes: 2000000, duration: 1s}"), "faults[0].bytes",
                      "1..65536");
  expect_error_naming(with_fault("{kind: slice, target: {node: n}, bytes: 10, delay_us: x, duration: 1s}"),
                      "faults[0].delay_us");
  expect_error_naming(with_fault("{kind: partition, target: {host: h}, one_way: sometimes, duration: 1s}"),
                      "faults[0].one_way", "true or false");
  expect_error_naming(with_fault("{kind: partition, target: {host: h}, peers: 'a,,b', duration: 1s}"),
                      "faults[0].peers", "comma list");
  expect_error_naming(with_fault("{kind: stepdown-consumer}"), "faults[0].params.op", "exactly one of op or consumer");
  expect_error_naming(with_fault("{kind: stepdown-consumer, op: process, consumer: c}"), "faults[0].params.op");
  expect_error_naming(with_fault("{kind: stepdown-consumer, op: print}"), "faults[0].op", "unknown op");
  expect_error_naming(with_fault("{kind: stepdown-stream, stream: ''}"), "faults[0].stream", "non-empty");
}

BOOST_AUTO_TEST_CASE(unknown_params_and_params_given_twice_are_refused) {
  expect_error_naming(with_fault("{kind: kill, target: {node: n}, ms: 5}"), "faults[0].ms",
                      "unknown key (known here: at, kind, target, duration, params, every, repeat)");
  expect_error_naming(with_fault("{kind: slow, target: {node: n}, model: m, ms: 5, jitter_ms: 1, duration: 1s}"),
                      "faults[0].jitter_ms", "unknown key (known here: at, kind, target, duration, params, every, "
                                             "repeat, model, ms)");
  expect_error_naming(with_fault("{kind: slow, target: {node: n}, params: {model: m, ms: 5, mss: 1}, duration: 1s}"),
                      "faults[0].params.mss", "unknown key (known here: model, ms)");
  expect_error_naming(with_fault("{kind: kill, target: {node: n}, params: {ms: 5}}"), "faults[0].params.ms",
                      "takes no params");
  expect_error_naming(with_fault("{kind: slow, target: {node: n}, model: m, ms: 5, params: {ms: 6}, duration: 1s}"),
                      "faults[0].ms", "given twice");
}

BOOST_AUTO_TEST_CASE(fault_timing_errors_name_their_key) {
  expect_error_naming(with_fault("{kind: kill, target: {node: n}, at: soon}"), "faults[0].at", "duration");
  expect_error_naming(with_fault("{kind: kill, target: {node: n}, at: -1s}"), "faults[0].at");
  expect_error_naming(with_fault("{kind: pause, target: {node: n}}"), "faults[0].duration",
                      "kind 'pause' lasts until its end");
  expect_error_naming(with_fault("{kind: slow, target: {node: n}, model: m, ms: 5, duration: 0}"),
                      "faults[0].duration", "a duration > 0");
  expect_error_naming(with_fault("{kind: kill, target: {node: n}, every: 0}"), "faults[0].every", "at least 1 ms");
  expect_error_naming(with_fault("{kind: kill, target: {node: n}, repeat: 3}"), "faults[0].repeat", "needs every");
  expect_error_naming(with_fault("{kind: kill, target: {node: n}, every: 5s, repeat: 0}"), "faults[0].repeat",
                      "1..100000");
}

BOOST_AUTO_TEST_CASE(group_errors_name_their_key) {
  expect_error_naming(with_fault("{serial: []}"), "faults[0].serial", "non-empty list");
  expect_error_naming(with_fault("{serial: }"), "faults[0].serial", "non-empty list");
  expect_error_naming(with_fault("{parallel: {kind: kill}}"), "faults[0].parallel", "non-empty list");
  expect_error_naming(with_fault("{serial: [{kind: kill, target: {node: n}}], parallel: [{kind: kill}]}"),
                      "faults[0]", "not both");
  expect_error_naming(with_fault("{serial: [{kind: kill, target: {node: n}}], kind: kill}"), "faults[0].kind",
                      "unknown key (known here: serial, parallel, at, every, repeat)");
  expect_error_naming(with_fault("{serial: [{kind: kill, target: {node: n}}], every: 0s}"), "faults[0].every");
  expect_error_naming(with_fault("{parallel: [{serial: [{kind: kill, target: {nats: x}, at: 1 sec}]}]}"),
                      "faults[0].parallel[0].serial[0].at", "duration");
  expect_error_naming(with_fault("{serial: [kill]}"), "faults[0].serial[0]", "must be a map");
}

BOOST_AUTO_TEST_CASE(target_errors_name_their_key) {
  expect_error_naming(with_fault("{kind: kill}"), "faults[0].target", "is required: kind 'kill' needs a node or NATS");
  expect_error_naming(with_fault("{kind: kill, target: node-1}"), "faults[0].target", "must be a map");
  expect_error_naming(with_fault("{kind: kill, target: {}}"), "faults[0].target", "exactly one of node, nats, host");
  expect_error_naming(with_fault("{kind: kill, target: {node: a, nats: b}}"), "faults[0].target", "exactly one");
  expect_error_naming(with_fault("{kind: kill, target: {name: a}}"), "faults[0].target.name", "unknown key");
  expect_error_naming(with_fault("{kind: kill, target: {role: leader}}"), "faults[0].target.role",
                      "node, nats, host, consumer-leader, stream-leader");
  expect_error_naming(with_fault("{kind: kill, target: {role: nats, serves: ocr}}"), "faults[0].target.serves",
                      "role: node only");
  expect_error_naming(with_fault("{kind: kill, target: {role: node, serves: print}}"), "faults[0].target.serves",
                      "unknown op");
  expect_error_naming(with_fault("{kind: kill, target: {role: node, of: n}}"), "faults[0].target.of", "role: nats only");
  expect_error_naming(with_fault("{kind: kill, target: {role: node, op: ocr}}"), "faults[0].target.op",
                      "role: consumer-leader only");
  expect_error_naming(with_fault("{kind: kill, target: {role: consumer-leader}}"), "faults[0].target.op", "is required");
  expect_error_naming(with_fault("{kind: kill, target: {node: n, choose: all}}"), "faults[0].target.choose",
                      "role: targets");
  expect_error_naming(with_fault("{kind: kill, target: {role: node, choose: some}}"), "faults[0].target.choose",
                      "must be one of one, all, percent");
  expect_error_naming(with_fault("{kind: kill, target: {role: node, choose: percent}}"), "faults[0].target.percent",
                      "is required");
  expect_error_naming(with_fault("{kind: kill, target: {role: node, choose: percent, percent: 0}}"),
                      "faults[0].target.percent", "> 0 and <= 100");
  expect_error_naming(with_fault("{kind: kill, target: {role: node, choose: percent, percent: 150}}"),
                      "faults[0].target.percent");
  expect_error_naming(with_fault("{kind: kill, target: {role: node, percent: 20}}"), "faults[0].target.percent",
                      "choose: percent only");
}

BOOST_AUTO_TEST_CASE(a_target_that_does_not_fit_the_fault_kind_is_refused) {
  expect_error_naming(with_fault("{kind: kill, target: {host: h}}"), "faults[0].target",
                      "kind 'kill' needs a node or NATS server target");
  expect_error_naming(with_fault("{kind: crash, target: {nats: s}, model: m}"), "faults[0].target",
                      "kind 'crash' needs a node target ({node: NAME} or {role: node}), not {nats: s}");
  expect_error_naming(with_fault("{kind: latency, target: {role: nats}, ms: 5, duration: 1s}"), "faults[0].target",
                      "needs a node target");
  expect_error_naming(with_fault("{kind: partition, target: {node: n}, duration: 1s}"), "faults[0].target",
                      "needs a host target");
  expect_error_naming(with_fault("{kind: link-down, target: {role: node}, duration: 1s}"), "faults[0].target",
                      "needs a host target");
  expect_error_naming(with_fault("{kind: lame-duck, target: {node: n}, duration: 1s}"), "faults[0].target",
                      "needs a NATS server target");
  expect_error_naming(with_fault("{kind: stepdown-stream, target: {role: consumer-leader, op: ocr}}"),
                      "faults[0].target", "no target, or {role: stream-leader}");
  expect_error_naming(with_fault("{kind: stepdown-consumer, op: ocr, target: {nats: s}}"), "faults[0].target",
                      "no target, or {role: consumer-leader}");
}

BOOST_AUTO_TEST_CASE(targets_that_fit_are_accepted_for_every_family) {
  parsed(with_fault("{kind: kill, target: {role: stream-leader}}"));
  parsed(with_fault("{kind: term, target: {nats: s}, duration: 1s}"));
  parsed(with_fault("{kind: lame-duck, target: {role: consumer-leader, op: ocr}, duration: 1s}"));
  parsed(with_fault("{kind: crash, target: {role: node, serves: classify}, actor: router}"));
  parsed(with_fault("{kind: link-down, target: {role: host, choose: one}, duration: 1s}"));
  parsed(with_fault("{kind: stepdown-stream}"));
  parsed(with_fault("{kind: stepdown-stream, target: {role: stream-leader}, stream: OTHER}"));
  parsed(with_fault("{kind: stepdown-consumer, consumer: infermesh-ocr}"));
  parsed(with_fault("{kind: reset, target: {node: n}}"));
  parsed(with_fault("{kind: blackhole, target: {node: n}, duration: 2s}"));
  parsed(with_fault("{kind: slice, target: {node: n}, bytes: 16, delay_us: 100, duration: 2s}"));
  parsed(with_fault("{kind: bandwidth, target: {node: n}, kbps: 64, duration: 2s}"));
}

BOOST_AUTO_TEST_CASE(network_faults_need_namespaced_hosts_and_an_attached_cluster_takes_only_actor_and_stepdown) {
  expect_error_naming("cluster: {file: c.yaml}\nfaults: [{kind: partition, target: {host: h}, duration: 1s}]",
                      "faults[0].kind", "needs cluster.hosts: namespaces");
  const std::string attached = "cluster: {attach: [nats://a:4222]}\nfaults:\n  - ";
  expect_error_naming(attached + "{kind: kill, target: {node: n}}", "faults[0].kind", "needs a launched cluster");
  expect_error_naming(attached + "{kind: latency, target: {node: n}, ms: 3, duration: 1s}", "faults[0].kind",
                      "needs a launched cluster");
  expect_error_naming(attached + "{kind: lame-duck, target: {nats: s}, duration: 1s}", "faults[0].kind",
                      "needs a launched cluster");
  parsed(attached + "{kind: slow, target: {node: n}, model: m, ms: 5, duration: 1s}");
  parsed(attached + "{kind: stepdown-consumer, op: process}");
}

BOOST_AUTO_TEST_CASE(invalid_yaml_is_a_bad_request_that_says_so) {
  const auto s = parse_scenario("cluster: {file: [", scenario_dir);
  BOOST_REQUIRE(!s);
  BOOST_TEST((s.err().code == error_code::bad_request));
  BOOST_TEST(s.err().message.find("invalid YAML") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(every_fault_kind_has_a_one_line_description) {
  const auto& kinds = fault_kinds();
  BOOST_TEST(kinds.size() == 18u);
  for (const auto& [kind, description] : kinds) {
    BOOST_TEST(!description.empty(), kind);
    BOOST_TEST(description.find('\n') == std::string::npos, kind);
  }
  BOOST_TEST(kinds.front().first == "kill");
}

BOOST_AUTO_TEST_CASE(a_file_is_named_after_its_stem_and_resolves_paths_against_its_folder) {
  const auto dir = std::filesystem::temp_directory_path() / ("scenario_test_" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  const auto file = dir / "smoke.yaml";
  std::ofstream(file) << "cluster: {file: ../c.yaml}\n";
  const auto s = load_scenario_file(file.string());
  std::filesystem::remove_all(dir);
  BOOST_REQUIRE_MESSAGE(s, (s ? "" : s.err().message));
  BOOST_TEST(s->name == "smoke");
  BOOST_TEST(s->source_dir == dir.string());
  BOOST_TEST(s->cluster.file == (dir.parent_path() / "c.yaml").string());
}

BOOST_AUTO_TEST_CASE(a_file_with_an_error_is_named_in_the_message_and_a_missing_one_is_not_found) {
  const auto dir = std::filesystem::temp_directory_path() / ("scenario_test_bad_" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  const auto file = dir / "bad.yaml";
  std::ofstream(file) << "cluster: {file: c.yaml}\nworkload: {rate: 0}\n";
  const auto s = load_scenario_file(file.string());
  std::filesystem::remove_all(dir);
  BOOST_REQUIRE(!s);
  BOOST_TEST(s.err().message == file.string() + ": workload.rate: must be a number > 0 and <= 1000000, got '0'");
  const auto missing = load_scenario_file((dir / "absent.yaml").string());
  BOOST_REQUIRE(!missing);
  BOOST_TEST((missing.err().code == error_code::not_found));
}

BOOST_AUTO_TEST_SUITE_END()
