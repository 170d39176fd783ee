#include <boost/test/unit_test.hpp>

#include "runtime/config.hpp"

using namespace infermesh;

namespace {

const std::string base = std::string(INFERMESH_SOURCE_DIR) + "/cluster-config";

const std::string valid = R"(
node: {name: n1}
models:
  - name: m
    serves: classify
    path: ../model-repository/sample-classifier/model.pt
    labels_file: ../model-repository/sample-classifier/labels.txt
)";

/// Parses `yaml` and requires an error whose message names `key`.
void expect_error_naming(const std::string& yaml, const std::string& key) {
  auto c = parse_config(yaml, base, "test.yaml");
  BOOST_REQUIRE_MESSAGE(!c, "expected an error naming " << key);
  BOOST_TEST(c.err().message.find(key) != std::string::npos, "'" << c.err().message << "' names '" << key << "'");
  BOOST_TEST(c.err().message.find("test.yaml") != std::string::npos);
}

std::string with(const std::string& extra_model_lines) { return valid + extra_model_lines; }

}  // namespace

BOOST_AUTO_TEST_SUITE(config)

BOOST_AUTO_TEST_CASE(the_embedded_default_is_valid_and_serves_classify_on_cpu) {
  auto c = load_embedded_default_config();
  BOOST_REQUIRE_MESSAGE(c, (c ? "" : c.err().message));
  BOOST_TEST(c->models.size() == 3u);
  BOOST_TEST(c->models[0].model.serves.front() == "orient");
  BOOST_TEST(c->models[2].model.serves.front() == "ocr");
  BOOST_TEST(c->models[1].model.serves.front() == "classify");
  BOOST_TEST(c->models[0].model.device == "cpu");
  BOOST_TEST(c->models[0].model.labels.size() == 4u);  // 0, 90, 180, 270
  BOOST_TEST(c->models[1].model.labels.size() == 5u);
  BOOST_TEST(c->nats.servers.at(0) == "nats://127.0.0.1:4222");
}

BOOST_AUTO_TEST_CASE(the_shipped_file_equals_the_embedded_default) {
  auto file = load_config_file(base + "/single-node.yaml");
  auto embedded = load_embedded_default_config();
  BOOST_REQUIRE(file);
  BOOST_REQUIRE(embedded);
  BOOST_TEST(file->models[0].model.path == embedded->models[0].model.path);
  BOOST_TEST(file->models[0].batching.max_batch_size == embedded->models[0].batching.max_batch_size);
}

BOOST_AUTO_TEST_CASE(resolves_relative_paths_against_the_config_folder_and_applies_defaults) {
  auto c = parse_config(valid, base, "test.yaml");
  BOOST_REQUIRE(c);
  const auto& m = c->models[0];
  BOOST_TEST(m.model.path == std::string(INFERMESH_SOURCE_DIR) + "/model-repository/sample-classifier/model.pt");
  BOOST_TEST(m.batching.max_batch_size == 8u);
  BOOST_TEST(m.batching.queue_capacity == 256u);
  BOOST_TEST(m.model.threads == 1);
  BOOST_TEST(c->default_deadline.count() == 10000);
}

BOOST_AUTO_TEST_CASE(unknown_keys_are_errors_that_name_the_key) {
  expect_error_naming(valid + "bogus: 1\n", "bogus");
  expect_error_naming(with("    batching: {max_batch: 4}\n"), "models[0].batching.max_batch");
  expect_error_naming("node: {nmae: x}\n" + valid.substr(valid.find("models")), "node.nmae");
}

BOOST_AUTO_TEST_CASE(bad_values_are_errors_that_name_the_key) {
  expect_error_naming(with("    batching: {max_batch_size: 0}\n"), "models[0].batching.max_batch_size");
  expect_error_naming(with("    batching: {max_batch_size: lots}\n"), "max_batch_size");
  expect_error_naming(with("    batching: {max_batch_size: 16, queue_capacity: 4}\n"), "queue_capacity");
  expect_error_naming(with("    device: tpu\n"), "models[0].device");
  expect_error_naming(with("    input: {color: cmyk}\n"), "models[0].input.color");
  expect_error_naming(with("    input: {decode: quick}\n"), "models[0].input.decode");
  expect_error_naming(with("    input: {std: [1, 0, 1]}\n"), "models[0].input.std[1]");
  expect_error_naming(with("    input: {mean: [1, 2]}\n"), "models[0].input.mean");
  expect_error_naming(with("    threads: -2\n"), "models[0].threads");
  expect_error_naming("node: {name: n1, supervision: {max_restarts: -1}}\n" + valid.substr(valid.find("models")),
                      "node.supervision.max_restarts");
  expect_error_naming(with("    supervision: {backoff_ms: 50, max_backoff_ms: 10}\n"), "models[0].supervision.max_backoff_ms");
}

BOOST_AUTO_TEST_CASE(durable_delivery_takes_its_work_queue_settings_and_names_bad_ones) {
  auto c = parse_config(valid + "delivery: {classify: durable}\njetstream: {replicas: 3, ack_wait_ms: 2000, max_deliver: 4, "
                                "max_in_flight: 16}\n", base, "test.yaml");
  BOOST_REQUIRE(c);
  BOOST_TEST(c->durable_ops.count("classify") == 1u);
  BOOST_TEST(c->work_queue.replicas == 3);
  BOOST_TEST(c->work_queue.ack_wait.count() == 2000);
  BOOST_TEST(c->max_deliver == 4u);
  BOOST_TEST(c->work_queue.max_in_flight == 16);
  expect_error_naming(valid + "delivery: {classify: eventually}\n", "delivery.classify");
  expect_error_naming(valid + "jetstream: {max_in_flight: 0}\n", "jetstream.max_in_flight");
  expect_error_naming(valid + "jetstream: {ack_wait: 5}\n", "jetstream.ack_wait");
}

BOOST_AUTO_TEST_CASE(ingress_bounds_are_read_from_node_and_nats_and_bad_ones_are_named) {
  const std::string models = valid.substr(valid.find("models"));
  auto c = parse_config("node: {name: n1, max_backlog_requests: 64, max_backlog_bytes: 33554432, max_waiters_per_id: 2}\n"
                        "nats: {max_pending_messages: 100, max_pending_bytes: 16777216}\n" + models,
                        base, "test.yaml");
  BOOST_REQUIRE(c);
  BOOST_TEST(c->backlog.max_requests == 64u);
  BOOST_TEST(c->backlog.max_bytes == 33554432u);
  BOOST_TEST(c->max_waiters_per_id == 2u);
  BOOST_TEST(c->nats.max_pending_messages == 100);
  BOOST_TEST(c->nats.max_pending_bytes == 16777216);
  expect_error_naming("node: {name: n1, max_backlog_requests: 0}\n" + models, "node.max_backlog_requests");
  expect_error_naming("node: {name: n1, max_backlog_bytes: 1000}\n" + models, "node.max_backlog_bytes");
  expect_error_naming("node: {name: n1, max_waiters_per_id: -1}\n" + models, "node.max_waiters_per_id");
  expect_error_naming("nats: {max_pending_messages: 0}\n" + models, "nats.max_pending_messages");
  // Below one request of max_payload_bytes (8 MiB by default): nats.c would drop every such request.
  expect_error_naming("nats: {max_pending_bytes: 4194304}\n" + models, "nats.max_pending_bytes");
}

BOOST_AUTO_TEST_CASE(missing_required_keys_and_files_are_named) {
  expect_error_naming("node: {name: x}\n", "models");
  expect_error_naming("models:\n  - name: m\n    path: x.pt\n    labels: [a]\n", "models[0].serves");
  expect_error_naming("models:\n  - name: m\n    serves: classify\n    path: missing.pt\n    labels: [a]\n",
                      "models[0].path");
  expect_error_naming("models:\n  - name: m\n    serves: classify\n    backend: synthetic\n", "models[0].labels");
  expect_error_naming(
      "models:\n  - name: m\n    serves: classify\n    backend: synthetic\n    labels_file: nowhere.txt\n",
      "models[0].labels_file");
}

BOOST_AUTO_TEST_CASE(a_node_name_that_is_not_one_nats_subject_token_is_refused_naming_the_key) {
  const std::string models = valid.substr(valid.find("models"));
  // A space, a dot (two tokens), the wildcards, a control character, nothing, and one byte over 64.
  for (const std::string& name : std::vector<std::string>{"'a b'", "a.b", "'a.>'", "'a*'", "'>'", "\"a\\tb\"", "''", std::string(65, 'n')})
    expect_error_naming("node: {name: " + name + "}\n" + models, "node.name");
  const std::string cluster_node = "  - node: {name: 'x.>'}\n    models: [{name: m, serves: classify, backend: synthetic, "
                                   "labels: [a]}]\n";
  auto plan = parse_cluster_plan("nodes:\n" + cluster_node, "c.yaml");
  BOOST_REQUIRE(!plan);
  BOOST_TEST(plan.err().message.find("nodes[0].node.name") != std::string::npos, plan.err().message);
  auto selected = parse_config("nodes:\n" + cluster_node, base, "c.yaml", "x.>");
  BOOST_REQUIRE(!selected);
  BOOST_TEST(selected.err().message.find("nodes[0].node.name") != std::string::npos, selected.err().message);
  BOOST_TEST(static_cast<bool>(parse_config("node: {name: " + std::string(64, 'n') + "}\n" + models, base, "test.yaml")));
  BOOST_TEST(static_cast<bool>(parse_config("node: {name: edge-1_A}\n" + models, base, "test.yaml")));
}

BOOST_AUTO_TEST_CASE(two_models_for_one_op_or_with_one_name_are_refused) {
  const std::string two = valid + "  - name: m2\n    serves: classify\n    backend: synthetic\n    labels: [a]\n";
  expect_error_naming(two, "models[1].serves");
}

BOOST_AUTO_TEST_CASE(an_op_no_model_can_serve_yet_is_refused) {
  expect_error_naming("models:\n  - name: m\n    serves: extract\n    backend: synthetic\n    labels: [a]\n",
                      "models[0].serves");
}

BOOST_AUTO_TEST_CASE(a_step_and_a_backend_that_do_not_fit_are_refused) {
  expect_error_naming("models:\n  - name: m\n    serves: ocr\n    backend: synthetic\n    labels: [a]\n",
                      "models[0].serves");
  expect_error_naming("models:\n  - name: m\n    serves: classify\n    backend: tesseract\n", "models[0].serves");
  expect_error_naming("models:\n  - name: m\n    serves: [classify, orient]\n    backend: synthetic\n    labels: [a]\n",
                      "models[0].serves");
}

BOOST_AUTO_TEST_CASE(pipelines_default_to_the_protocol_and_can_be_declared) {
  auto c = parse_config(valid, base, "t.yaml");
  BOOST_REQUIRE_MESSAGE(c, (c ? "" : c.err().message));
  BOOST_TEST(c->pipelines.at("process").size() == 4u);
  auto declared = parse_config(valid + "pipelines:\n  classify: [classify]\n", base, "t.yaml");
  BOOST_REQUIRE_MESSAGE(declared, (declared ? "" : declared.err().message));
  BOOST_TEST((declared->pipelines.at("classify") == pipeline{step_kind::classify}));
  BOOST_TEST(declared->pipelines.at("ocr").size() == 2u);  // the others keep their defaults
}

BOOST_AUTO_TEST_CASE(pipelines_that_cannot_work_are_refused_naming_the_op) {
  expect_error_naming(valid + "pipelines:\n  translate: [ocr]\n", "pipelines.translate");
  expect_error_naming(valid + "pipelines:\n  ocr: [ocr, teleport]\n", "pipelines.ocr");
  expect_error_naming(valid + "pipelines:\n  extract: [orient, extract, ocr]\n", "pipelines.extract");
  expect_error_naming(valid + "pipelines:\n  classify: [classify, orient]\n", "pipelines.classify");
  expect_error_naming(valid + "pipelines:\n  process: [orient, ocr, extract]\n", "pipelines.process");
  std::string zero_pages = valid;
  zero_pages.replace(zero_pages.find("node: {name: n1}"), 16, "node: {name: n1, max_pages: 0}");
  expect_error_naming(zero_pages, "node.max_pages");
}

BOOST_AUTO_TEST_CASE(keys_a_backend_does_not_read_are_errors_naming_the_key) {
  expect_error_naming("models:\n  - name: r\n    serves: ocr\n    input: {width: 10}\n", "models[0].input");
  expect_error_naming("models:\n  - name: r\n    serves: ocr\n    batching: {max_batch_size: 4}\n",
                      "models[0].batching.max_batch_size");
  expect_error_naming(with("    workers: 4\n"), "models[0].workers");
  expect_error_naming(with("    synthetic: {latency_us: 5}\n"), "models[0].synthetic");
}

BOOST_AUTO_TEST_CASE(an_ocr_model_needs_no_labels_and_takes_its_engine_settings) {
  auto c = parse_config("models:\n  - name: reader\n    serves: ocr\n    workers: 3\n    language: eng\n", base, "t.yaml");
  BOOST_REQUIRE_MESSAGE(c, (c ? "" : c.err().message));
  BOOST_TEST((c->models[0].model.backend == model_config::backend_kind::tesseract));
  BOOST_TEST(c->models[0].model.workers == 3);
}

BOOST_AUTO_TEST_CASE(a_cluster_file_gives_each_node_the_shared_keys_and_its_launcher_a_restart_policy) {
  const std::string cluster = R"(
nats: {servers: [nats://127.0.0.1:4333]}
supervision: {max_restarts: 2, backoff_ms: 500}
nodes:
  - node: {name: left}
    models:
      - {name: m, serves: classify, path: ../model-repository/sample-classifier/model.pt,
         labels_file: ../model-repository/sample-classifier/labels.txt}
  - node: {name: right}
    models:
      - {name: ocr, serves: ocr, backend: tesseract}
)";
  auto plan = parse_cluster_plan(cluster, "c.yaml");
  BOOST_REQUIRE_MESSAGE(plan, (plan ? "" : plan.err().message));
  BOOST_TEST((plan->nodes == std::vector<std::string>{"left", "right"}));
  BOOST_TEST(plan->node_restarts.max_restarts == 2);
  BOOST_TEST(plan->node_restarts.backoff.count() == 500);
  BOOST_TEST(plan->node_restarts.max_backoff.count() == 30000);  // the launcher's default, not an actor's
  BOOST_TEST(plan->node_restarts.period.count() == 300000);
  auto right = parse_config(cluster, base, "c.yaml", "right");
  BOOST_REQUIRE_MESSAGE(right, (right ? "" : right.err().message));
  BOOST_TEST(right->node_name == "right");
  BOOST_TEST(right->nats.servers.at(0) == "nats://127.0.0.1:4333");
  BOOST_TEST(!parse_config(cluster, base, "c.yaml", "middle"));
  auto defaults = parse_cluster_plan("nodes: [{node: {name: a}}]", "d.yaml");
  BOOST_REQUIRE(defaults);
  BOOST_TEST(defaults->node_restarts.backoff.count() == 1000);
}

BOOST_AUTO_TEST_CASE(a_cluster_files_restart_policy_errors_name_the_key) {
  const std::string nodes = "nodes: [{node: {name: a}}]\n";
  for (const auto& [yaml, key] : std::vector<std::pair<std::string, std::string>>{
           {nodes + "supervision: {max_attempts: 3}", "supervision"},  // an actor's key: not the launcher's
           {nodes + "supervision: {backoff_ms: 5000, max_backoff_ms: 100}", "supervision.max_backoff_ms"},
           {nodes + "supervision: {period_ms: soon}", "supervision.period_ms"},
           {nodes + "supervision: 3", "supervision"},
           {"supervision: {}", "nodes"}}) {
    auto plan = parse_cluster_plan(yaml, "c.yaml");
    BOOST_REQUIRE_MESSAGE(!plan, yaml);
    BOOST_TEST(plan.err().message.find(key) != std::string::npos, "'" << plan.err().message << "' names '" << key << "'");
    BOOST_TEST(plan.err().message.find("c.yaml") != std::string::npos);
  }
}

BOOST_AUTO_TEST_CASE(http_is_off_unless_configured_and_its_listen_address_is_checked_at_load) {
  auto off = parse_config(valid, base, "test.yaml");
  BOOST_REQUIRE(off);
  BOOST_TEST(off->http.listen.empty());
  auto on = parse_config(valid + "http: {listen: \"127.0.0.1:9464\"}\n", base, "test.yaml");
  BOOST_REQUIRE_MESSAGE(on, (on ? "" : on.err().message));
  BOOST_TEST(on->http.listen == "127.0.0.1:9464");
  expect_error_naming(valid + "http: {listen: \"127.0.0.1\"}\n", "http.listen");
  expect_error_naming(valid + "http: {listen: \"my-host:9464\"}\n", "http.listen");
  expect_error_naming(valid + "http: {listen: \"127.0.0.1:99999\"}\n", "http.listen");
  expect_error_naming(valid + "http: {}\n", "http.listen");
  expect_error_naming(valid + "http: {listen: \"127.0.0.1:9464\", port: 9464}\n", "http.port");
}

BOOST_AUTO_TEST_CASE(each_node_of_a_cluster_file_has_its_own_http_address) {
  const std::string cluster = R"(
nodes:
  - node: {name: left}
    http: {listen: "127.0.0.1:9464"}
    models:
      - {name: m, serves: classify, path: ../model-repository/sample-classifier/model.pt,
         labels_file: ../model-repository/sample-classifier/labels.txt}
  - node: {name: right}
    models:
      - {name: ocr, serves: ocr, backend: tesseract}
)";
  auto left = parse_config(cluster, base, "c.yaml", "left");
  BOOST_REQUIRE_MESSAGE(left, (left ? "" : left.err().message));
  BOOST_TEST(left->http.listen == "127.0.0.1:9464");
  auto right = parse_config(cluster, base, "c.yaml", "right");
  BOOST_REQUIRE(right);
  BOOST_TEST(right->http.listen.empty());
}

BOOST_AUTO_TEST_CASE(invalid_yaml_is_reported_with_its_position) {
  auto c = parse_config("models: [\n  - {", base, "broken.yaml");
  BOOST_REQUIRE(!c);
  BOOST_TEST(c.err().message.find("broken.yaml") != std::string::npos);
  BOOST_TEST(c.err().message.find("line") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_missing_config_file_is_reported) {
  auto c = load_config_file("/nonexistent/node.yaml");
  BOOST_REQUIRE(!c);
  BOOST_TEST(c.err().message.find("/nonexistent/node.yaml") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
