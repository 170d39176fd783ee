// `infermesh simulate`: a scenario runs against a cluster the simulator launches, every fault is undone, nothing
// is left behind, and the report's counts agree with an independent count (a separate subscriber on the reply
// inboxes, and JetStream's own delivery counter for durable requests). Each case runs the real binary on the
// synthetic cluster (simulations/clusters/), whose models answer in 5 ms so a run takes seconds.
#include <boost/test/unit_test.hpp>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "support/child_process.hpp"
#include "support/launched.hpp"
#include "support/nats_server.hpp"

using namespace infermesh;
using namespace std::chrono_literals;
using json = nlohmann::json;
namespace fs = std::filesystem;

namespace {

const std::string clusters = std::string(INFERMESH_SOURCE_DIR) + "/simulations/clusters/";
/// The synthetic scenarios' small images (simulations/inputs/README.md): decoding is not what a run measures.
const std::string inputs = std::string(INFERMESH_SOURCE_DIR) + "/simulations/inputs";

/// `text` with every INPUTS replaced by the inputs folder.
std::string with_inputs(std::string text) {
  for (auto at = text.find("INPUTS"); at != std::string::npos; at = text.find("INPUTS", at)) text.replace(at, 6, inputs);
  return text;
}

struct temp_dir {
  std::string path = test::make_temp_dir("infermesh-simulate");
  ~temp_dir() { fs::remove_all(path); }
};

/// A scenario file in `dir` over `cluster` (a file of simulations/clusters/) with `body` after `cluster:`.
std::string write_scenario(const temp_dir& dir, const std::string& cluster, const std::string& body) {
  const auto path = dir.path + "/scenario.yaml";
  std::ofstream(path) << "name: test\nseed: 5\ncluster: {file: " << clusters << cluster << "}\n" << with_inputs(body);
  return path;
}

json read_json(const std::string& path) {
  std::ifstream in(path);
  BOOST_REQUIRE_MESSAGE(in, "no " << path);
  return json::parse(in);
}

/// Processes whose command line mentions `needle` (what the simulator must not leave).
std::vector<std::string> processes_mentioning(const std::string& needle) {
  std::vector<std::string> out;
  for (const auto& entry : fs::directory_iterator("/proc")) {
    const auto name = entry.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream in(entry.path() / "cmdline", std::ios::binary);
    std::string cmd((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (cmd.find(needle) != std::string::npos) out.push_back(name);
  }
  return out;
}

/// Runs the simulator on `scenario` into `out`; returns its exit status (the test fails past `timeout`).
int run_simulate(const std::string& scenario, const std::string& out, std::chrono::seconds timeout,
             std::string* output = nullptr) {
  test::child_process sim("simulate", {INFERMESH_BINARY, "simulate", scenario, "--out", out});
  const auto status = sim.wait_exit(timeout);
  if (output) *output = sim.output();
  BOOST_REQUIRE_MESSAGE(status, "the simulation ended within " << timeout.count() << " s:\n" << sim.output());
  return *status;
}

/// What every run must show: every fault applied and undone, nothing left, counts that agree with the
/// independent subscriber's, and nothing of the run still running.
void expect_clean_agreeing_run(const json& r, const std::string& out) {
  for (const auto& f : r["faults"]) {
    BOOST_TEST(f["error"].get<std::string>().empty(), "fault " << f.dump());
    BOOST_TEST(f["applied"].get<bool>(), "fault " << f.dump());
  }
  for (const auto& c : r["cleanup"]["items"]) BOOST_TEST(c["gone"].get<bool>(), "left behind: " << c["what"]);
  BOOST_TEST(r["cleanup"]["ok"].get<bool>());
  BOOST_TEST(processes_mentioning(out).empty(), "no process of the run is left");
  BOOST_TEST(r["counts"]["checked"].get<bool>());
  BOOST_TEST(r["counts"]["agree"].get<bool>(), r["counts"]["detail"]);
  // The independent count, per request: `replies` is what the separate subscriber on the reply inboxes saw for
  // its id. Each request the report calls answered was seen there, none it calls lost was.
  std::size_t answered = 0;
  for (const auto& q : r["requests"]) {
    const bool replied = q["reply_ms"].get<double>() >= 0;
    answered += replied;
    if (replied) BOOST_TEST(q["replies"].get<int>() >= 1, "the subscriber saw the reply to " << q["id"]);
    if (q["code"] == "lost") BOOST_TEST(q["replies"].get<int>() == 0, "a lost request got no reply anywhere: " << q["id"]);
  }
  BOOST_TEST(answered == r["totals"]["answered"].get<std::size_t>());
  BOOST_TEST(r["counts"]["observed_replies"].get<std::size_t>() == answered);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(simulate)

BOOST_AUTO_TEST_CASE(a_mixed_run_of_process_actor_and_link_faults_loses_nothing_and_cleans_up) {
  const temp_dir dir;
  const auto scenario = write_scenario(dir, "synthetic-3node.yaml", R"(
workload: {arrivals: poisson, rate: 30, mix: {classify: 1}, inputs: INPUTS, attempts: 4, attempt_timeout_ms: 1500,
           timeout_ms: 20000, warmup: 2s, duration: 24s}
steady_state: {lost: 0, recovery: 15s}
faults:
  - {at: 2s, kind: kill, target: {role: node, choose: one}}
  - {at: 6s, kind: slow, target: {node: node-2}, model: classifier, ms: 200, duration: 3s}
  - {at: 10s, kind: pause, target: {node: node-3}, duration: 3s}
  - {at: 15s, kind: latency, target: {node: node-1}, ms: 80, jitter_ms: 20, duration: 3s}
  - {at: 19s, kind: crash, target: {node: node-2}, model: classifier, actor: batcher}
)");
  const auto out = dir.path + "/run";
  std::string output;
  const int status = run_simulate(scenario, out, 240s, &output);
  BOOST_TEST(status == 0, output);
  const auto r = read_json(out + "/report.json");
  BOOST_TEST(r["seed"].get<std::uint64_t>() == 5u);
  BOOST_TEST(r["totals"]["lost"].get<std::size_t>() == 0u);
  BOOST_TEST(r["totals"]["sent"].get<std::size_t>() > 500u, "30/s for 26 s");
  BOOST_TEST(r["faults"].size() == 5u);
  expect_clean_agreeing_run(r, out);
  BOOST_TEST(fs::exists(out + "/report.html"));
  BOOST_TEST(output.find("PASSED") != std::string::npos, output);
}

BOOST_AUTO_TEST_CASE(durable_requests_survive_leader_step_downs_and_jetstream_counts_them_too) {
  const temp_dir dir;
  const auto scenario = write_scenario(dir, "synthetic-3node-durable.yaml", R"(
workload: {arrivals: constant, rate: 20, mix: {classify: 1}, inputs: INPUTS, timeout_ms: 30000, warmup: 2s, duration: 16s}
steady_state: {lost: 0}
faults:
  - {at: 3s, kind: stepdown-stream}
  - {at: 8s, kind: stepdown-consumer, op: classify}
  - {at: 12s, kind: kill, target: {node: node-1}}
)");
  const auto out = dir.path + "/run";
  std::string output;
  BOOST_TEST(run_simulate(scenario, out, 240s, &output) == 0, output);
  const auto r = read_json(out + "/report.json");
  BOOST_TEST(r["totals"]["lost"].get<std::size_t>() == 0u);
  expect_clean_agreeing_run(r, out);
  // JetStream's own count: the consumer delivered at least every durable request the report says was answered.
  double delivered = -1;
  for (const auto& n : r["nodes"])
    if (n["node"] == "jetstream:classify")
      delivered = n["after"]["delivered"].get<double>() - n["before"].value("delivered", 0.0);
  BOOST_TEST(delivered >= r["totals"]["answered"].get<double>(), "delivered " << delivered);
}

BOOST_AUTO_TEST_CASE(sigint_mid_fault_undoes_it_stops_the_cluster_and_still_writes_the_report) {
  const temp_dir dir;
  const auto scenario = write_scenario(dir, "synthetic-3node.yaml", R"(
workload: {arrivals: poisson, rate: 20, mix: {classify: 1}, inputs: INPUTS, attempts: 4, attempt_timeout_ms: 1500, warmup: 1s,
           duration: 120s}
faults:
  - {at: 1s, kind: pause, target: {node: node-1}, duration: 100s}
)");
  const auto out = dir.path + "/run";
  test::child_process sim("simulate", {INFERMESH_BINARY, "simulate", scenario, "--out", out});
  BOOST_REQUIRE_MESSAGE(sim.wait_for_line("#0 pause node-1", 120s), sim.output());
  sim.signal(SIGINT);
  const auto status = sim.wait_exit(150s);
  BOOST_REQUIRE_MESSAGE(status, sim.output());
  const auto r = read_json(out + "/report.json");
  BOOST_TEST(r["interrupted"].get<bool>());
  BOOST_TEST(*status == 1, "an interrupted run is a partial answer");
  bool resumed = false;
  for (const auto& j : r["journal"]) resumed = resumed || j["detail"].get<std::string>().find("SIGCONT node-1") != std::string::npos;
  BOOST_TEST(resumed, "the pause was undone (SIGCONT) before the cluster stopped");
  for (const auto& c : r["cleanup"]["items"]) BOOST_TEST(c["gone"].get<bool>(), "left behind: " << c["what"]);
  BOOST_TEST(processes_mentioning(out).empty());
}

BOOST_AUTO_TEST_CASE(a_scenario_error_names_the_key_and_starts_nothing) {
  const temp_dir dir;
  const auto scenario = write_scenario(dir, "synthetic-3node.yaml", R"(
workload: {rate: -3}
)");
  std::string output;
  BOOST_TEST(run_simulate(scenario, dir.path + "/run", 30s, &output) == 2);
  BOOST_TEST(output.find("workload.rate") != std::string::npos, output);
  BOOST_TEST(processes_mentioning(dir.path).empty());
}

BOOST_AUTO_TEST_SUITE_END()

// The shipped CI scenario (real models) and hosts as network namespaces: minutes each, so the Release run only
// (CMakePresets.json's asan test preset excludes this suite).
BOOST_AUTO_TEST_SUITE(simulate_long_runs)

BOOST_AUTO_TEST_CASE(the_shipped_ci_scenario_over_local_3node_loses_nothing_core_or_durable) {
  const temp_dir dir;
  const auto out = dir.path + "/run";
  std::string output;
  BOOST_TEST(run_simulate(std::string(INFERMESH_SOURCE_DIR) + "/simulations/ci-mixed.yaml", out, 300s, &output) == 0, output);
  const auto r = read_json(out + "/report.json");
  BOOST_TEST(r["totals"]["lost"].get<std::size_t>() == 0u);
  bool core = false, durable = false;
  for (const auto& q : r["requests"]) (q["durable"].get<bool>() ? durable : core) = true;
  BOOST_TEST(core);
  BOOST_TEST(durable, "process is durable in local-3node.yaml");
  expect_clean_agreeing_run(r, out);
}

BOOST_AUTO_TEST_CASE(partitions_between_hosts_as_namespaces_are_healed_and_leave_no_rule_or_namespace) {
  const temp_dir dir;
  const auto path = dir.path + "/scenario.yaml";
  std::ofstream(path) << "name: partition\nseed: 9\ncluster: {file: " << clusters << "three-hosts.yaml, hosts: namespaces}\n" << with_inputs(R"(
workload: {arrivals: poisson, rate: 20, mix: {classify: 1}, inputs: INPUTS, attempts: 8, attempt_timeout_ms: 2000,
           warmup: 2s, duration: 34s}
steady_state: {lost: 0, recovery: 10s}
faults:
  - {at: 2s, kind: partition, target: {host: host-b}, duration: 4s}
  - {at: 13s, kind: partition, target: {host: host-c}, peers: host-a, one_way: true, duration: 4s}
  - {at: 24s, kind: link-down, target: {host: host-a}, duration: 3s}
)");
  const auto out = dir.path + "/run";
  std::string output;
  BOOST_TEST(run_simulate(path, out, 300s, &output) == 0, output);
  const auto r = read_json(out + "/report.json");
  expect_clean_agreeing_run(r, out);
  std::size_t namespaces = 0;
  for (const auto& c : r["cleanup"]["items"]) {
    const auto what = c["what"].get<std::string>();
    if (what.rfind("namespace ", 0) != 0) continue;
    ++namespaces;
    BOOST_TEST(!fs::exists("/run/netns/" + what.substr(10)), what << " is gone");
  }
  BOOST_TEST(namespaces == 5u, "three hosts, the client and the bridge");
}

BOOST_AUTO_TEST_SUITE_END()
