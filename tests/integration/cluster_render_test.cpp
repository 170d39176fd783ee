// `infermesh cluster render`, run as the real CLI on cluster-config/local-3node.yaml and a two-host file
// (tests/support/two-host-cluster.yaml), and its output checked by the tools that will read it:
// - systemd: `systemd-analyze verify` on every unit of every host (the node template as one instance per node
//   the host runs), rendered with --binary and --nats-binary pointing at the real binaries, since verify checks
//   that ExecStart exists; `nats-server -t` on every rendered NATS config;
// - kubernetes: every document of every file parsed and validated against the Kubernetes API schemas of its
//   kind by tests/support/validate_kubernetes.js (npm `kubernetes-models` 4.5.1 and `js-yaml` 4.1.0, installed
//   by this test into its own temp folder: a missing npm or registry fails the test, saying so); the
//   ConfigMap's nats config through `nats-server -t` with POD_NAME set as the pod would have it.
// Usage errors (unknown target, unwritable --out, an invalid file) exit 2 naming what is wrong.
#include <boost/test/unit_test.hpp>

#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "support/child_process.hpp"
#include "support/nats_server.hpp"

using namespace infermesh;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

const std::string source_dir = INFERMESH_SOURCE_DIR;
const std::string local_3node = source_dir + "/cluster-config/local-3node.yaml";
const std::string two_hosts = source_dir + "/tests/support/two-host-cluster.yaml";
const std::string validator = source_dir + "/tests/support/validate_kubernetes.js";

/// Rendering and checking take seconds; an npm install from the registry took ~5 s here, allow for a slow one.
constexpr auto render_bound = 60s;
constexpr auto check_bound = 60s;
constexpr auto npm_bound = 300s;

/// The npm packages the validator loads, pinned: the schemas are those of this kubernetes-models release.
const std::vector<std::string> npm_packages{"kubernetes-models@4.5.1", "js-yaml@4.1.0"};

/// A temp folder, removed when the test ends, however it ends.
struct temp_dir {
  std::string path = test::make_temp_dir("infermesh-render");
  ~temp_dir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

struct run_result {
  int status = -1;
  std::string output;
};

run_result run(const std::string& name, const std::vector<std::string>& argv, std::chrono::milliseconds bound) {
  test::child_process p(name, argv);
  run_result r;
  auto status = p.wait_exit(bound);
  r.output = p.output();
  BOOST_REQUIRE_MESSAGE(status, argv.front() << " did not exit within the bound:\n" << r.output);
  r.status = *status;
  return r;
}

run_result render(const std::string& target, const std::string& out, const std::string& file,
                  std::vector<std::string> more = {}) {
  std::vector<std::string> argv{INFERMESH_BINARY, "cluster", "render", "--target", target, "--out", out, file};
  argv.insert(argv.end(), more.begin(), more.end());
  return run("cluster-render", argv, render_bound);
}

std::string read(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

/// The nodes an install script enables (`systemctl enable --now infermesh-node@<node>.service`).
std::vector<std::string> enabled_nodes(const std::string& script) {
  std::vector<std::string> out;
  const std::regex line(R"(enable --now infermesh-node@([^ ]+)\.service)");
  for (std::sregex_iterator it(script.begin(), script.end(), line), end; it != end; ++it) out.push_back((*it)[1]);
  return out;
}

/// Renders `file` for systemd and checks every host's units and NATS configs; returns the hosts seen.
std::set<std::string> render_and_verify_systemd(const std::string& file) {
  const temp_dir dir;
  const auto out = dir.path + "/systemd";
  const auto r = render("systemd", out, file, {"--binary", INFERMESH_BINARY, "--nats-binary", NATS_SERVER_BINARY,
                                               "--config-dir", dir.path + "/etc", "--state-dir", dir.path + "/state"});
  BOOST_REQUIRE_MESSAGE(r.status == 0, r.output);
  std::set<std::string> hosts;
  for (const auto& host : fs::directory_iterator(out)) {
    hosts.insert(host.path().filename().string());
    // verify loads the units by path; the host's NATS units sit beside the node instances so After/Wants resolve.
    const auto units = dir.path + "/verify-" + host.path().filename().string();
    fs::create_directories(units);
    std::vector<std::string> argv{"/usr/bin/systemd-analyze", "verify"};
    for (const auto& f : fs::directory_iterator(host.path()))
      if (f.path().extension() == ".service" && f.path().filename() != "infermesh-node@.service") {
        fs::copy_file(f.path(), units + "/" + f.path().filename().string());
        argv.push_back(units + "/" + f.path().filename().string());
      }
    const auto nodes = enabled_nodes(read(host.path() / "install.sh"));
    for (const auto& node : nodes) {
      const auto instance = units + "/infermesh-node@" + node + ".service";
      fs::copy_file(host.path() / "infermesh-node@.service", instance);
      argv.push_back(instance);
    }
    BOOST_TEST(argv.size() > 2u, host.path() << " has units");
    const auto verified = run("systemd-analyze", argv, check_bound);
    BOOST_TEST(verified.status == 0, "systemd-analyze verify on " << host.path() << ":\n" << verified.output);
    BOOST_TEST(verified.output.find("nfermesh") == std::string::npos,
               "systemd-analyze said nothing about our units:\n" << verified.output);
    for (const auto& conf : fs::directory_iterator(host.path() / "nats")) {
      const auto checked = run("nats-server-t", {NATS_SERVER_BINARY, "-t", "-c", conf.path().string()}, check_bound);
      BOOST_TEST(checked.status == 0, "nats-server -t " << conf.path() << ":\n" << checked.output);
    }
  }
  return hosts;
}

/// npm installs the validator's packages under `dir`; the test fails, saying why, when it cannot.
void install_validator_packages(const std::string& dir) {
  std::vector<std::string> argv{"/usr/bin/env", "npm", "install", "--prefix", dir, "--no-audit", "--no-fund",
                                "--no-save", "--loglevel=error"};
  argv.insert(argv.end(), npm_packages.begin(), npm_packages.end());
  const auto r = run("npm-install", argv, npm_bound);
  BOOST_REQUIRE_MESSAGE(r.status == 0,
                        "cannot install the Kubernetes schema packages from the npm registry (npm and network to "
                        "registry.npmjs.org are needed; scripts/install-deps.sh installs nodejs and npm):\n" << r.output);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(cluster_render)

BOOST_AUTO_TEST_CASE(systemd_units_of_the_local_file_pass_systemd_analyze_verify_and_nats_server_t) {
  BOOST_TEST(render_and_verify_systemd(local_3node) == std::set<std::string>{"local"});
}

BOOST_AUTO_TEST_CASE(systemd_units_of_each_host_of_a_two_host_file_pass_verify_and_nats_server_t) {
  BOOST_TEST((render_and_verify_systemd(two_hosts) == std::set<std::string>{"alpha", "beta"}));
}

BOOST_AUTO_TEST_CASE(kubernetes_documents_validate_against_the_api_schemas_and_the_nats_config_passes_t) {
  const temp_dir dir;
  install_validator_packages(dir.path + "/npm");
  for (const auto& [file, first_pod] : std::vector<std::pair<std::string, std::string>>{
           {local_3node, "infermesh-nats-0"}, {two_hosts, "mesh-nats-0"}}) {
    const auto out = dir.path + "/k8s-" + fs::path(file).stem().string();
    const auto r = render("kubernetes", out, file, {"--image", "registry.example/infermesh:test"});
    BOOST_REQUIRE_MESSAGE(r.status == 0, r.output);
    const auto validated = run("validate-kubernetes",
                               {"/usr/bin/env", "node", validator, dir.path + "/npm", out + "/nats.yaml", out + "/nodes.yaml"},
                               check_bound);
    BOOST_TEST(validated.status == 0, "validation of " << out << ":\n" << validated.output);
    BOOST_TEST(validated.output.find(" 0 invalid") != std::string::npos, validated.output);
    // The ConfigMap's nats.conf, as the pod mounts it, with POD_NAME as the pod's env would set it.
    std::string conf_text;
    for (const auto& doc : YAML::LoadAll(read(out + "/nats.yaml")))
      if (doc.IsMap() && doc["kind"].as<std::string>() == "ConfigMap") conf_text = doc["data"]["nats.conf"].as<std::string>();
    BOOST_REQUIRE(!conf_text.empty());
    const auto conf = out + "/nats.conf";
    std::ofstream(conf) << conf_text;
    const auto checked = run("nats-server-t", {"/usr/bin/env", "POD_NAME=" + first_pod, NATS_SERVER_BINARY, "-t", "-c", conf},
                             check_bound);
    BOOST_TEST(checked.status == 0, "nats-server -t " << conf << ":\n" << checked.output);
  }
}

BOOST_AUTO_TEST_CASE(an_unknown_target_is_a_usage_error_naming_the_targets) {
  const temp_dir dir;
  const auto r = render("docker", dir.path + "/out", local_3node);
  BOOST_TEST(r.status == 2);
  BOOST_TEST(r.output.find("--target must be systemd or kubernetes, got 'docker'") != std::string::npos, r.output);
}

BOOST_AUTO_TEST_CASE(an_unwritable_out_folder_is_an_error_naming_it) {
  const temp_dir dir;
  const auto blocker = dir.path + "/a-file";
  std::ofstream(blocker) << "not a folder\n";
  const auto r = render("systemd", blocker + "/out", local_3node);
  BOOST_TEST(r.status == 2);
  BOOST_TEST(r.output.find("cannot create '" + blocker) != std::string::npos, r.output);
}

BOOST_AUTO_TEST_CASE(an_invalid_file_is_an_error_naming_the_key) {
  const temp_dir dir;
  const auto file = dir.path + "/bad.yaml";
  std::string text = read(local_3node);
  text.replace(text.find("client_port: 4223"), 17, "client_port: 99999");
  std::ofstream(file) << text;
  const auto r = render("kubernetes", dir.path + "/out", file);
  BOOST_TEST(r.status == 2);
  BOOST_TEST(r.output.find("nats.cluster.servers[1].client_port: must be an integer") != std::string::npos, r.output);
  BOOST_TEST(!fs::exists(dir.path + "/out"), "nothing is written for an invalid file");
}

BOOST_AUTO_TEST_SUITE_END()
