// Model lifecycle without restarts (issue 11 §4), through the public edge only: real nats-server, real node
// processes with the real TorchScript classifiers, model commands on the node's control subject
// (node.control: true) and `infermesh model`. A reload under load loses nothing and switches the replies'
// version; a reload that fails keeps the old version serving; unload and load; max_loaded_models keeps one
// of two models loaded while requests alternate between them.
#include <boost/test/unit_test.hpp>

#include <nlohmann/json.hpp>

#include <atomic>
#include <fstream>
#include <map>
#include <mutex>
#include <regex>
#include <thread>

#include "messages/subjects.hpp"
#include "support/child_process.hpp"
#include "support/client.hpp"
#include "support/nats_server.hpp"
#include "support/node_process.hpp"

using namespace infermesh;
using namespace std::chrono_literals;
using json = nlohmann::json;

namespace {

const std::string source_dir = INFERMESH_SOURCE_DIR;
const std::string classifier_dir = source_dir + "/model-repository/document-classifier";
const std::string orientation_dir = source_dir + "/model-repository/orientation-classifier";
const std::string invoice = source_dir + "/samples/invoice-upright.jpg";

/// A reload loads and warms a TorchScript model (a second or two here); the bound is for a loaded CI machine.
constexpr auto command_timeout = 120s;
/// Bounds of the polls below: the health gate unsubscribes and subscribes within milliseconds.
constexpr auto poll_bound = 30s;

/// The document classifier entry of version `version` at `path` (the real model by default).
std::string classifier_entry(const std::string& version, const std::string& path = classifier_dir + "/model.pt") {
  return "  - name: doc-classifier\n"
         "    version: \"" + version + "\"\n"
         "    serves: classify\n"
         "    path: " + path + "\n"
         "    labels_file: " + classifier_dir + "/labels.txt\n"
         "    input: {width: 160, height: 160, color: rgb, resize: linear,\n"
         "            mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225], decode: fast}\n"
         "    batching: {max_batch_size: 8, max_queue_delay_us: 2000, queue_capacity: 512}\n";
}

std::string orientation_entry() {
  return "  - name: doc-orientation\n"
         "    version: \"1\"\n"
         "    serves: orient\n"
         "    path: " + orientation_dir + "/model.pt\n"
         "    labels_file: " + orientation_dir + "/labels.txt\n"
         "    input: {width: 224, height: 224, color: rgb, resize: linear,\n"
         "            mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225]}\n"
         "    batching: {max_batch_size: 8, max_queue_delay_us: 2000, queue_capacity: 256}\n";
}

/// A classifier-only node with model commands on.
std::string classifier_node(const std::string& version, const std::string& path = classifier_dir + "/model.pt") {
  return "node:\n  name: node-t\n  stats_interval_ms: 0\n  control: true\n"
         "models:\n" + classifier_entry(version, path) + "pipelines: {classify: [classify]}\n";
}

/// Rewrites the node's config file in place (what an operator does before `infermesh model reload`).
void rewrite(const std::string& path, const std::string& yaml) { std::ofstream(path, std::ios::trunc) << yaml; }

/// One model command on the control subject; the node's JSON answer.
json command(test::client& c, const std::string& node, const json& cmd) {
  auto answer = c.transport().request(wire::control_subject(node), cmd.dump(), command_timeout);
  if (!answer) BOOST_FAIL("no answer to " << cmd.dump() << ": " << answer.err().message);
  return json::parse(std::string(answer->view()));
}

json model_of(const json& list, const std::string& name) {
  for (const auto& m : list.at("models"))
    if (m.at("name") == name) return m;
  BOOST_FAIL("model " << name << " not listed: " << list.dump());
  return {};
}

std::string version_of(const reply& r) { return r.model ? r.model->version : ""; }

/// Sends classify requests until `done(reply)` holds (bounded): waits out the health gate's changes.
reply classify_until(test::client& c, const std::function<bool(const reply&)>& done) {
  const auto until = std::chrono::steady_clock::now() + poll_bound;
  reply r;
  do {
    r = c.send("classify", test::image_request(invoice), encoding::msgpack, 10s);
    if (done(r)) return r;
    std::this_thread::sleep_for(20ms);  // a poll's pace, not a wait for a condition: the loop checks it
  } while (std::chrono::steady_clock::now() < until);
  return r;
}

struct run_result {
  int status = -1;
  std::string out;
};

run_result cli(const std::vector<std::string>& args) {
  std::vector<std::string> argv{INFERMESH_BINARY};
  argv.insert(argv.end(), args.begin(), args.end());
  test::child_process p("infermesh-model", argv);
  auto status = p.wait_exit(command_timeout);
  BOOST_REQUIRE_MESSAGE(status, "infermesh model did not exit");
  return {*status, p.output()};
}

}  // namespace

BOOST_AUTO_TEST_SUITE(model_lifecycle)

BOOST_AUTO_TEST_CASE(a_reload_under_load_loses_nothing_and_replies_switch_to_the_new_version) {
  test::nats_server nats;
  test::node_process node(classifier_node("1"), nats.url());
  test::client control(nats.url());

  // Closed-loop load from several threads, each with its own connection; every reply is recorded with
  // whether it was sent after the reload was answered.
  constexpr int threads = 4;
  std::atomic<bool> stop{false}, reloaded{false};
  std::mutex mutex;
  std::map<std::string, int> codes;                     // "ok" or the error code -> replies
  std::map<std::string, int> versions_before, versions_after;  // version -> ok replies (sent before/after)
  test::progress answered;
  std::atomic<std::uint64_t> total{0};
  std::vector<std::thread> load;
  for (int t = 0; t < threads; ++t)
    load.emplace_back([&] {
      test::client c(nats.url());
      while (!stop) {
        const bool after = reloaded;
        auto r = c.send("classify", test::image_request(invoice), encoding::msgpack, 60s);
        std::lock_guard<std::mutex> lock(mutex);
        ++codes[test::code_of(r)];
        if (r.ok) ++(after ? versions_after : versions_before)[version_of(r)];
        answered.set(++total);
      }
    });
  constexpr std::uint64_t before_reload = 40;   // requests flow on version 1 first
  BOOST_REQUIRE(answered.wait_for(before_reload, poll_bound));
  rewrite(node.config_path(), classifier_node("2"));
  auto answer = command(control, "node-t", {{"command", "reload"}, {"model", "doc-classifier"}});
  reloaded = true;
  BOOST_TEST(answer.value("ok", false), answer.dump());
  BOOST_TEST(answer["model"].value("version", "") == "2", answer.dump());
  const auto at_reload = total.load();
  constexpr std::uint64_t after_reload = 40;    // and then on version 2
  BOOST_REQUIRE(answered.wait_for(at_reload + after_reload, poll_bound));
  stop = true;
  for (auto& t : load) t.join();

  BOOST_TEST(codes.size() == 1u, "only ok replies");
  BOOST_TEST(codes["ok"] == static_cast<int>(total.load()), "0 lost, 0 errors");
  BOOST_TEST(versions_before["1"] > 0, "version 1 served before the reload");
  BOOST_TEST(versions_after.size() == 1u, "after the reload was answered, every reply is version 2");
  BOOST_TEST(versions_after["2"] > 0);
  const auto list = command(control, "node-t", {{"command", "list"}});
  BOOST_TEST(model_of(list, "doc-classifier").value("loads", 0) == 2);
  const auto stopped = node.stop_problem(30s);
  BOOST_TEST(stopped.empty(), stopped);
}

BOOST_AUTO_TEST_CASE(a_failed_reload_keeps_the_old_version_and_unload_and_load_change_what_the_op_answers) {
  test::nats_server nats;
  test::node_process node(classifier_node("1"), nats.url());
  test::client c(nats.url());

  // A path that does not exist: the config parser refuses it, naming the key.
  rewrite(node.config_path(), classifier_node("2", classifier_dir + "/missing.pt"));
  auto answer = command(c, "node-t", {{"command", "reload"}, {"model", "doc-classifier"}});
  BOOST_TEST(!answer.value("ok", true), answer.dump());
  BOOST_TEST(answer.value("code", "") == "bad_request", answer.dump());
  BOOST_TEST(answer.value("error", "").find("models[0].path") != std::string::npos, answer.dump());
  // A file that is not TorchScript: the load itself fails; the old version keeps serving.
  rewrite(node.config_path(), classifier_node("2", classifier_dir + "/labels.txt"));
  answer = command(c, "node-t", {{"command", "reload"}, {"model", "doc-classifier"}});
  BOOST_TEST(!answer.value("ok", true), answer.dump());
  BOOST_TEST(answer.value("error", "").find("did not load") != std::string::npos, answer.dump());
  auto r = c.send("classify", test::image_request(invoice));
  BOOST_TEST(r.ok, test::message_of(r));
  BOOST_TEST(version_of(r) == "1");
  auto list = command(c, "node-t", {{"command", "list"}});
  BOOST_TEST(model_of(list, "doc-classifier").value("state", "") == "serving", list.dump());
  BOOST_TEST(model_of(list, "doc-classifier").value("version", "") == "1", list.dump());

  // Bad commands are answered with a code.
  for (const auto& bad : {json{{"command", "explode"}}, json{{"command", "reload"}},
                          json{{"command", "unload"}, {"model", "nosuch"}},
                          json{{"command", "list"}, {"extra", 1}}}) {
    auto a = command(c, "node-t", bad);
    BOOST_TEST(!a.value("ok", true), bad.dump() << " -> " << a.dump());
    BOOST_TEST(!a.value("code", "").empty(), a.dump());
  }

  answer = command(c, "node-t", {{"command", "unload"}, {"model", "doc-classifier"}});
  BOOST_TEST(answer.value("ok", false), answer.dump());
  BOOST_TEST(answer["model"].value("state", "") == "unloaded", answer.dump());
  list = command(c, "node-t", {{"command", "list"}});
  BOOST_TEST(model_of(list, "doc-classifier").value("loaded", true) == false, list.dump());
  // The only node hosting it takes classify no more: no responders, answered unavailable.
  r = classify_until(c, [](const reply& x) { return test::code_of(x) == "unavailable"; });
  BOOST_TEST(test::code_of(r) == "unavailable", test::message_of(r));

  answer = command(c, "node-t", {{"command", "load"}, {"model", "doc-classifier"}});
  BOOST_TEST(answer.value("ok", false), answer.dump());
  BOOST_TEST(answer["model"].value("state", "") == "serving", answer.dump());
  r = classify_until(c, [](const reply& x) { return x.ok; });
  BOOST_TEST(r.ok, test::message_of(r));
  BOOST_TEST(version_of(r) == "1");
  const auto stopped = node.stop_problem(30s);
  BOOST_TEST(stopped.empty(), stopped);
}

BOOST_AUTO_TEST_CASE(max_loaded_models_keeps_one_of_two_models_loaded_while_requests_alternate) {
  test::nats_server nats;
  // classify uses only the document classifier; ocr only the orientation model (and Tesseract, which the
  // bound does not count).
  const std::string yaml = "node:\n  name: node-t\n  stats_interval_ms: 0\n  control: true\n  max_loaded_models: 1\n"
                           "models:\n" + classifier_entry("1") + orientation_entry() + test::ocr_model_yaml() +
                           "pipelines: {classify: [classify], ocr: [orient, ocr]}\n";
  // Tesseract serves only ocr here (its OSD orient would clash with the orientation model).
  const auto config = std::regex_replace(yaml, std::regex("serves: \\[ocr, orient\\]"), "serves: ocr");
  test::node_process node(config, nats.url());
  test::client c(nats.url());
  auto list = command(c, "node-t", {{"command", "list"}});
  BOOST_TEST(model_of(list, "doc-classifier").value("loaded", false), "the first in config order loads at start-up");
  BOOST_TEST(!model_of(list, "doc-orientation").value("loaded", true), list.dump());

  constexpr int rounds = 3;  // each round loads each model once
  int max_loaded = 0;
  for (int i = 0; i < rounds; ++i)
    for (const std::string op : {"ocr", "classify"}) {
      auto r = c.send(op, test::image_request(invoice), encoding::msgpack, command_timeout);
      BOOST_TEST(r.ok, op << ": " << test::message_of(r));
      list = command(c, "node-t", {{"command", "list"}});
      const int loaded = static_cast<int>(model_of(list, "doc-classifier").value("loaded", false)) +
                         static_cast<int>(model_of(list, "doc-orientation").value("loaded", false));
      max_loaded = std::max(max_loaded, loaded);
    }
  BOOST_TEST(max_loaded == 1, "at most one TorchScript model loaded at a time");
  const auto classifier = model_of(list, "doc-classifier"), orientation = model_of(list, "doc-orientation");
  BOOST_TEST(classifier.value("loads", 0) == 1 + rounds, list.dump());
  BOOST_TEST(orientation.value("loads", 0) == rounds, list.dump());
  BOOST_TEST(classifier.value("evictions", 0) == rounds, list.dump());
  BOOST_TEST(model_of(list, "tesseract-eng").value("loaded", false));
  const auto stopped = node.stop_problem(30s);
  BOOST_TEST(stopped.empty(), stopped);
}

BOOST_AUTO_TEST_CASE(infermesh_model_lists_reloads_and_names_a_missing_node) {
  test::nats_server nats;
  test::node_process node(classifier_node("1"), nats.url());
  auto r = cli({"model", "list", "node-t", "--nats", nats.url()});
  BOOST_TEST(r.status == 0, r.out);
  BOOST_TEST(std::regex_search(r.out, std::regex(R"(doc-classifier\s+1\s+torchscript\s+serving\s+yes)")), r.out);
  rewrite(node.config_path(), classifier_node("2"));
  r = cli({"model", "reload", "node-t", "doc-classifier", "--nats", nats.url()});
  BOOST_TEST(r.status == 0, r.out);
  BOOST_TEST(r.out.find("model 'doc-classifier' on node 'node-t': v2 serving") != std::string::npos, r.out);
  r = cli({"model", "list", "node-t", "--json", "--nats", nats.url()});
  BOOST_TEST(r.status == 0, r.out);
  BOOST_TEST(r.out.find("\"version\":\"2\"") != std::string::npos, r.out);
  r = cli({"model", "unload", "node-t", "nosuch", "--nats", nats.url()});
  BOOST_TEST(r.status == 1, r.out);
  BOOST_TEST(r.out.find("not_found") != std::string::npos, r.out);
  r = cli({"model", "list", "no-such-node", "--nats", nats.url()});
  BOOST_TEST(r.status == 3, r.out);
  BOOST_TEST(r.out.find("no node 'no-such-node' answers") != std::string::npos, r.out);
  r = cli({"model", "reload", "node-t"});
  BOOST_TEST(r.status == 2, "MODEL missing: a usage error");
  const auto stopped = node.stop_problem(30s);
  BOOST_TEST(stopped.empty(), stopped);
}

BOOST_AUTO_TEST_CASE(a_node_stopped_while_a_model_reloads_exits_once_the_load_ends) {
  // The reload's load takes reload_load_ms (the synthetic model's load_ms); the node is stopped while it is
  // under way. It may wait for that load (its helper thread sleeps), but not for the command's own timeout
  // (minutes): the slot answers its waiting command when it stops.
  constexpr int reload_load_ms = 3000;
  constexpr auto exit_bound = 15s;  // the load's remaining time, with room for a loaded CI machine
  test::nats_server nats;
  const auto config = [](int load_ms, const std::string& version) {
    return std::regex_replace(test::synthetic_config(100, "max_batch_size: 4", "  control: true\n",
                                                     {", load_ms: " + std::to_string(load_ms)}),
                              std::regex("    serves: classify"), "    version: \"" + version + "\"\n    serves: classify");
  };
  test::node_process node(config(0, "1"), nats.url());
  test::client c(nats.url());
  rewrite(node.config_path(), config(reload_load_ms, "2"));
  // No reply subject: nothing here waits for the answer.
  BOOST_REQUIRE(!c.transport().publish(wire::control_subject("node-t"), json{{"command", "reload"}, {"model", "synthetic"}}.dump()));
  const auto until = std::chrono::steady_clock::now() + poll_bound;
  std::string state;
  do {
    state = model_of(command(c, "node-t", {{"command", "list"}}), "synthetic").value("state", "");
    if (state == "reloading") break;
    std::this_thread::sleep_for(20ms);  // a poll's pace; the loop checks the state
  } while (std::chrono::steady_clock::now() < until);
  BOOST_REQUIRE_MESSAGE(state == "reloading", "the reload did not start: " << state);
  const auto stopping = std::chrono::steady_clock::now();
  const auto stopped = node.stop_problem(exit_bound);
  BOOST_TEST(stopped.empty(), stopped);
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - stopping);
  BOOST_TEST(took.count() < std::chrono::milliseconds(exit_bound).count(), "exited after " << took.count() << " ms");
}

BOOST_AUTO_TEST_SUITE_END()
