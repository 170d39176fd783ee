// Model commands as plain code: strict parsing (each error names the key) and what a reload may change of a
// model's config entry (not its name, backend or serves).
#include <boost/test/unit_test.hpp>

#include "messages/codec.hpp"
#include "runtime/model_control.hpp"

using namespace infermesh;

namespace {

value json_of(const std::string& text) {
  auto v = decode_value(shared_bytes::copy_of(text), encoding::json, decode_limits{});
  BOOST_REQUIRE(v);
  return *v;
}

std::string problem_of(const std::string& text) {
  auto c = parse_model_command(json_of(text));
  return c ? "" : c.err().message;
}

/// A node config with one synthetic classifier `name` (version `version`, serving `serves`).
node_config config_with(const std::string& version, const std::string& serves = "classify",
                        const std::string& backend = "synthetic") {
  node_config c;
  c.source = "node.yaml";
  hosted_model h;
  h.model.name = "m";
  h.model.version = version;
  h.model.serves = {serves};
  h.model.backend = backend == "synthetic" ? model_config::backend_kind::synthetic : model_config::backend_kind::torchscript;
  c.models.push_back(h);
  return c;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(model_commands)

BOOST_AUTO_TEST_CASE(a_command_key_makes_a_model_command_and_a_fault_has_none) {
  BOOST_TEST(is_model_command(json_of(R"({"command": "list"})")));
  BOOST_TEST(!is_model_command(json_of(R"({"model": "m", "action": "crash"})")));
}

BOOST_AUTO_TEST_CASE(each_verb_parses_with_its_keys) {
  auto list = parse_model_command(json_of(R"({"command": "list"})"));
  BOOST_REQUIRE(list);
  BOOST_TEST((list->what == model_command::verb::list));
  auto reload = parse_model_command(json_of(R"({"command": "reload", "model": "m", "version": "2", "path": "/x/m.pt"})"));
  BOOST_REQUIRE(reload);
  BOOST_TEST((reload->what == model_command::verb::reload));
  BOOST_TEST(reload->model == "m");
  BOOST_TEST(reload->version.value_or("") == "2");
  BOOST_TEST(reload->path.value_or("") == "/x/m.pt");
  BOOST_TEST(problem_of(R"({"command": "unload", "model": "m"})").empty());
  BOOST_TEST(problem_of(R"({"command": "load", "model": "m"})").empty());
}

BOOST_AUTO_TEST_CASE(bad_commands_are_refused_naming_the_key) {
  BOOST_TEST(problem_of(R"({"command": "explode"})").find("command: must be one of") == 0u);
  BOOST_TEST(problem_of(R"({"command": "reload"})") == "model: is required");
  BOOST_TEST(problem_of(R"({"command": "unload", "model": "m", "version": "2"})").find("version: unknown key") == 0u);
  BOOST_TEST(problem_of(R"({"command": "list", "model": 3})").find("model: unknown key") == 0u);
  BOOST_TEST(problem_of(R"({"command": "load", "model": 3})").find("model: must be a non-empty string") == 0u);
  BOOST_TEST(problem_of(R"({"command": "reload", "model": "m", "path": "m.pt"})").find("path: must be an absolute path") == 0u);
  BOOST_TEST(problem_of(R"(["list"])") == "a model command is a JSON object");
}

BOOST_AUTO_TEST_CASE(a_reload_takes_the_new_entry_with_its_overrides) {
  const auto running = config_with("1").models.front();
  model_command c;
  c.what = model_command::verb::reload;
  c.model = "m";
  auto entry = reloaded_entry(config_with("2"), running, c);
  BOOST_REQUIRE(entry);
  BOOST_TEST(entry->model.version == "2");
  c.version = "3";
  entry = reloaded_entry(config_with("2"), running, c);
  BOOST_REQUIRE(entry);
  BOOST_TEST(entry->model.version == "3", "the command's version overrides the file's");
}

BOOST_AUTO_TEST_CASE(a_reload_cannot_change_backend_or_serves_or_lose_the_model) {
  const auto running = config_with("1").models.front();
  model_command c;
  c.what = model_command::verb::reload;
  c.model = "m";
  auto other_step = reloaded_entry(config_with("2", "orient"), running, c);
  BOOST_REQUIRE(!other_step);
  BOOST_TEST(other_step.err().message.find("serves: cannot change by reload") != std::string::npos);
  auto other_backend = reloaded_entry(config_with("2", "classify", "torchscript"), running, c);
  BOOST_REQUIRE(!other_backend);
  BOOST_TEST(other_backend.err().message.find("backend: cannot change by reload") != std::string::npos);
  auto renamed = config_with("2");
  renamed.models.front().model.name = "n";
  auto gone = reloaded_entry(renamed, running, c);
  BOOST_REQUIRE(!gone);
  BOOST_TEST(gone.err().message.find("has no model named 'm'") != std::string::npos);
  c.path = "/x/m.pt";
  auto path_of_synthetic = reloaded_entry(config_with("2"), running, c);
  BOOST_REQUIRE(!path_of_synthetic);
  BOOST_TEST(path_of_synthetic.err().message.find("path: applies to torchscript models only") == 0u);
}

BOOST_AUTO_TEST_SUITE_END()
