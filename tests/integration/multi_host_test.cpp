// Real multi-host on one machine: three hosts as network namespaces on a bridge of their own
// (support/network_hosts.hpp), one `infermesh cluster --config F --host hN` in each, from one cluster file.
// `process` is answered from every host; durable requests survive killing every process of one host (0 lost);
// the cluster forms again when that host's launcher is restarted, and `infermesh status` lists every host's
// node. Needs root (tests and CI run as root): without it the case says why and checks nothing.
#include <boost/test/unit_test.hpp>

#include <poll.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <memory>
#include <regex>

#include "support/child_process.hpp"
#include "support/launched.hpp"
#include "support/nats_server.hpp"
#include "support/network_hosts.hpp"

using namespace infermesh;
using infermesh::test::ends_within;
using infermesh::test::newest_pid;
using namespace std::chrono_literals;

namespace {

const std::string source = std::string(INFERMESH_SOURCE_DIR);
const std::string sample = source + "/samples/receipt-upright.jpg";
constexpr int hosts = 3;

/// The cluster file: host hN at its namespace's address with NATS server sN (JetStream) and node nN, each
/// node hosting every model; `process` durable, replicated on all three servers.
std::string cluster_file(const test::network_hosts& net) {
  std::string f = "hosts:\n";
  for (int i = 0; i < hosts; ++i) f += "  - {name: h" + std::to_string(i + 1) + ", address: " + net.address(i) + "}\n";
  f += "nats:\n  cluster:\n    servers:\n";
  for (int i = 0; i < hosts; ++i) f += "      - {name: s" + std::to_string(i + 1) + ", host: h" + std::to_string(i + 1) + "}\n";
  f += "  max_reconnect: -1\n  reconnect_wait_ms: 250\n"
       "delivery: {process: durable}\n"
       "jetstream: {replicas: 3, ack_wait_ms: 10000, max_deliver: 10}\n"
       "supervision: {max_restarts: 20, period_ms: 60000, backoff_ms: 500, max_backoff_ms: 2000}\n"
       "nodes:\n";
  const std::string repo = source + "/model-repository";
  for (int i = 0; i < hosts; ++i) {
    f += "  - host: h" + std::to_string(i + 1) + "\n"
         "    node: {name: n" + std::to_string(i + 1) + ", default_deadline_ms: 30000, preprocess_workers: 1, stats_interval_ms: 0}\n"
         "    models:\n"
         "      - {name: doc-orientation, serves: orient, path: " + repo + "/orientation-classifier/model.pt,\n"
         "         labels_file: " + repo + "/orientation-classifier/labels.txt,\n"
         "         input: {width: 224, height: 224, color: rgb, resize: linear, decode: fast, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225]}}\n"
         "      - {name: doc-classifier, serves: classify, path: " + repo + "/document-classifier/model.pt,\n"
         "         labels_file: " + repo + "/document-classifier/labels.txt,\n"
         "         input: {width: 160, height: 160, color: rgb, resize: linear, decode: fast, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225]}}\n"
         "      - {name: tesseract-eng, version: \"5.3\", serves: ocr, workers: 1}\n";
  }
  return f;
}

/// Three namespace hosts, the file, and a launcher per host; everything stopped by PID at the end.
struct three_hosts {
  test::network_hosts net{hosts};
  std::string dir = test::make_temp_dir("infermesh-multi-host");
  std::string file = dir + "/cluster.yaml";
  std::unique_ptr<test::child_process> launchers[hosts];

  three_hosts() {
    std::ofstream(file) << cluster_file(net);
    for (int i = 0; i < hosts; ++i) launch(i);
    for (int i = 0; i < hosts; ++i)
      if (!launchers[i]->wait_for_line(": ready", 240s))
        throw std::runtime_error("host h" + std::to_string(i + 1) + " did not become ready:\n" + launchers[i]->output());
  }

  ~three_hosts() {
    for (auto& l : launchers) {
      if (!l) continue;
      std::vector<pid_t> children;
      for (int i = 0; i < hosts; ++i)
        for (const auto& name : {"s" + std::to_string(i + 1), "n" + std::to_string(i + 1)}) children.push_back(newest_pid(*l, name));
      l->signal(SIGKILL);  // its children get SIGTERM from the kernel; wait for them, then make sure
      for (pid_t pid : children)
        if (pid > 0 && !ends_within(pid, 30s)) ::kill(pid, SIGKILL);
      l.reset();
    }
    std::filesystem::remove_all(dir);
  }

  void launch(int i) {
    const auto host = "h" + std::to_string(i + 1);
    launchers[i] = std::make_unique<test::child_process>(
        "cluster-" + host, net.in(i, {INFERMESH_BINARY, "cluster", "--config", file, "--host", host, "--run-dir", dir + "/" + host}));
  }

  std::string url(int i) const { return "nats://" + net.address(i) + ":4222"; }

  /// `infermesh ARGS...` run on host i; its exit status, and its output in `out`.
  int run_on(int i, const std::vector<std::string>& args, std::string& out, std::chrono::milliseconds timeout = 120s) {
    std::vector<std::string> argv{INFERMESH_BINARY};
    argv.insert(argv.end(), args.begin(), args.end());
    test::child_process p("client-h" + std::to_string(i + 1), net.in(i, argv));
    const int status = p.wait_exit(timeout).value_or(-1);
    out = p.output();
    return status;
  }
};

bool can_run(std::string& why) { return test::network_hosts::available(why); }

}  // namespace

BOOST_AUTO_TEST_SUITE(multi_host)

BOOST_AUTO_TEST_CASE(three_hosts_from_one_file_serve_every_host_and_lose_nothing_when_one_host_dies) {
  std::string why;
  if (!can_run(why)) {
    BOOST_TEST_MESSAGE("skipped: " << why);
    return;
  }
  three_hosts cluster;
  std::string out;
  for (int i = 0; i < hosts; ++i) {  // `process` answered from every host, through its own server
    const int status = cluster.run_on(i, {"request", "process", sample, "--doc-type", "receipt", "--nats", cluster.url(i)}, out);
    BOOST_TEST(status == 0, "h" << i + 1 << ": " << out);
    BOOST_TEST(out.find("\"ok\":true") != std::string::npos, out);
  }

  // Durable load from host 1 while every process of host 3 is killed: nothing accepted is lost.
  test::child_process load("load-h1", cluster.net.in(0, {INFERMESH_BINARY, "load", "process", sample, "--durable", "--doc-type",
                                                          "receipt", "--clients", "8", "--seconds", "25", "--timeout-ms",
                                                          "90000", "--nats", cluster.url(0)}));
  BOOST_REQUIRE_MESSAGE(load.wait_for_line("load: 2 s", 30s), load.output());
  auto& h3 = *cluster.launchers[2];
  const pid_t s3 = newest_pid(h3, "s3"), n3 = newest_pid(h3, "n3");
  BOOST_REQUIRE(s3 > 0 && n3 > 0);
  for (pid_t pid : {n3, s3, h3.pid()}) ::kill(pid, SIGKILL);
  for (pid_t pid : {n3, s3}) BOOST_TEST(ends_within(pid, 10s));
  const int load_status = load.wait_exit(240s).value_or(-1);
  BOOST_TEST_MESSAGE("durable load across host 3's death:\n" << load.output());
  BOOST_TEST(load_status == 0, "every durable request was answered:\n" << load.output());
  BOOST_TEST(std::regex_search(load.output(), std::regex("lost +0\\b|lost: 0\\b|0 lost")), load.output());

  // Host 3's launcher again: its server rejoins the cluster, its node serves, every host's node is listed.
  cluster.launch(2);
  BOOST_REQUIRE_MESSAGE(cluster.launchers[2]->wait_for_line(": ready", 240s), cluster.launchers[2]->output());
  const int again = cluster.run_on(2, {"request", "process", sample, "--doc-type", "receipt", "--durable", "--nats", cluster.url(2)}, out);
  BOOST_TEST(again == 0, out);
  const int status = cluster.run_on(0, {"status", "--nats", cluster.url(0)}, out, 30s);
  BOOST_TEST(status == 0, out);
  for (const char* node : {"n1", "n2", "n3"})
    BOOST_TEST(std::regex_search(out, std::regex(std::string("\\n") + node + " ")), node << " in\n" << out);
  for (int i = 0; i < hosts; ++i) cluster.launchers[i]->signal(SIGINT);
  for (int i = 0; i < hosts; ++i)
    BOOST_TEST(cluster.launchers[i]->wait_exit(120s).value_or(-1) == 0, "h" << i + 1 << " stops cleanly:\n"
                                                                           << cluster.launchers[i]->output());
}

BOOST_AUTO_TEST_SUITE_END()
