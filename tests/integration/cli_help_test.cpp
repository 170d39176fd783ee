// `infermesh --help` and `infermesh COMMAND --help` (and -h), run as the real binary: help goes to stdout and
// exits 0, each command's help lists every option its parser takes; a wrong option is still a usage error.
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "support/child_process.hpp"

using namespace infermesh;
using namespace std::chrono_literals;

namespace {

/// Printing help takes milliseconds: no NATS, no model is touched.
constexpr auto exit_bound = 30s;

/// Each command with the options a user may give it (README "Using it"), as its help must list them.
const std::map<std::string, std::vector<std::string>> options_of{
    {"node", {"--config", "--node", "--nats", "--name", "--log-format"}},
    {"cluster", {"--config", "--nats", "--log-format"}},
    {"request", {"--json", "--doc-type", "--no-auto-rotate", "--timeout-ms", "--deadline-ms", "--priority", "--id",
                 "--max-pages", "--attempts", "--durable", "--nats", "--log-format"}},
    {"load", {"--clients", "--seconds", "--timeout-ms", "--attempts", "--doc-type", "--no-auto-rotate", "--nats",
              "--log-format"}},
    {"status", {"--watch", "--json", "--wait-ms", "--nats", "--log-format"}},
    {"model", {"--json", "--timeout-ms", "--nats", "--log-format"}},
};

struct run_result {
  int status = -1;
  std::string output;
};

run_result run(const std::vector<std::string>& args) {
  std::vector<std::string> argv{INFERMESH_BINARY};
  argv.insert(argv.end(), args.begin(), args.end());
  test::child_process cli("cli-help", argv);
  run_result r;
  auto status = cli.wait_exit(exit_bound);
  BOOST_REQUIRE_MESSAGE(status, "infermesh did not exit");
  r.status = *status;
  r.output = cli.output();
  return r;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(cli_help)

BOOST_AUTO_TEST_CASE(help_lists_every_command_and_exits_0) {
  for (const std::string flag : {"--help", "-h", "help"}) {
    const auto r = run({flag});
    BOOST_TEST(r.status == 0, flag << ": exit " << r.status);
    for (const auto& [command, options] : options_of)
      BOOST_TEST(r.output.find("  " + command + " ") != std::string::npos, flag << " lists " << command << ":\n" << r.output);
  }
}

BOOST_AUTO_TEST_CASE(each_commands_help_lists_its_options_and_exits_0) {
  for (const auto& [command, options] : options_of)
    for (const std::string flag : {"--help", "-h"}) {
      const auto r = run({command, flag});
      BOOST_TEST(r.status == 0, command << " " << flag << ": exit " << r.status << "\n" << r.output);
      BOOST_TEST(r.output.find("usage: infermesh " + command) != std::string::npos, r.output);
      for (const auto& option : options)
        BOOST_TEST(r.output.find("  " + option + " ") != std::string::npos, command << " help lists " << option << ":\n" << r.output);
    }
}

BOOST_AUTO_TEST_CASE(cluster_render_has_a_help_of_its_own_listing_its_options) {
  for (const std::string flag : {"--help", "-h"}) {
    const auto r = run({"cluster", "render", flag});
    BOOST_TEST(r.status == 0, r.output);
    BOOST_TEST(r.output.find("usage: infermesh cluster render FILE") != std::string::npos, r.output);
    for (const char* option : {"--target", "--out", "--binary", "--files-dir", "--config-dir", "--state-dir",
                               "--nats-binary", "--unit-dir", "--image", "--nats-image", "--namespace", "--storage"})
      BOOST_TEST(r.output.find(std::string("  ") + option + " ") != std::string::npos, option << ":\n" << r.output);
  }
  BOOST_TEST(run({"cluster", "--help"}).output.find("cluster render --help") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(help_after_other_arguments_still_prints_help) {
  const auto r = run({"load", "classify", "scan.jpg", "--clients", "4", "--help"});
  BOOST_TEST(r.status == 0, r.output);
  BOOST_TEST(r.output.find("--clients") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(an_unknown_option_is_a_usage_error_that_shows_the_commands_help) {
  const auto r = run({"load", "--bogus"});
  BOOST_TEST(r.status == 2);
  BOOST_TEST(r.output.find("unknown option --bogus") != std::string::npos, r.output);
  BOOST_TEST(r.output.find("usage: infermesh load") != std::string::npos, r.output);
}

BOOST_AUTO_TEST_SUITE_END()
