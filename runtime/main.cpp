// `infermesh`: the node process and the command-line client.
//
//   infermesh node [--config FILE [--node NAME]] [--nats URL]... [--name NAME]
//   infermesh cluster --config FILE [--nats URL]...
//   infermesh request OP FILE [--json] [--doc-type T] [--no-auto-rotate] [--timeout-ms N] [--deadline-ms N]
//                     [--priority N] [--id ID] [--nats URL]...
//   infermesh load OP FILE [--clients N] [--seconds N] [--timeout-ms N] [--nats URL]...

#include <algorithm>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <iterator>
#include <pthread.h>
#include <unistd.h>

#include "messages/codec.hpp"
#include "runtime/cluster.hpp"
#include "runtime/load_client.hpp"
#include "runtime/log.hpp"
#include "runtime/node.hpp"
#include "runtime/request_client.hpp"

namespace infermesh {
namespace {

constexpr int exit_ok = 0;
constexpr int exit_error_reply = 1;
constexpr int exit_usage = 2;

const char* usage_text =
    "usage:\n"
    "  infermesh node [--config FILE [--node NAME]] [--nats URL]... [--name NAME]\n"
    "      Serve the models of FILE (default: the embedded cluster-config/single-node.yaml) until SIGINT/SIGTERM.\n"
    "      --node picks a node of a cluster file; --nats replaces the config's server list; --name its node name.\n"
    "  infermesh cluster --config FILE [--nats URL]...\n"
    "      Run every node of a cluster file (e.g. cluster-config/two-node.yaml) as its own process here.\n"
    "  infermesh request OP FILE [--json] [--doc-type T] [--no-auto-rotate] [--timeout-ms N] [--deadline-ms N]\n"
    "                    [--priority N] [--id ID] [--max-pages N] [--attempts N] [--durable] [--nats URL]...\n"
    "      Send FILE (PNG/JPEG/TIFF/PDF) to op OP (classify, ocr, extract, process) and print the reply as JSON.\n"
    "      extract needs --doc-type (invoice, receipt, id_card, letter, form). --max-pages N reads at most N\n"
    "      pages of a PDF/TIFF (default 10). --json sends a JSON request\n"
    "      (default msgpack). NATS servers: --nats, else $INFERMESH_NATS_URL, else nats://127.0.0.1:4222.\n"
    "      Tries up to --attempts times (default 3, same id; nodes never compute an id twice) when no node\n"
    "      answers within --timeout-ms (default 30000) or one answers overloaded/unavailable.\n"
    "      --durable sends it through the JetStream work queue (ops a node configures `delivery: durable`).\n"
    "      Exit status: 0 ok, 1 error reply, 2 usage or transport error.\n"
    "  infermesh load OP FILE [--clients N] [--seconds N] [--timeout-ms N] [--attempts N] [--doc-type T]\n"
    "                 [--no-auto-rotate] [--nats URL]...\n"
    "      Closed-loop load (default 64 clients for 10 s): prints sent/answered/lost, latency percentiles and the\n"
    "      batch sizes the node reported. Exit status 1 if any request got no reply.\n";

int usage(const std::string& problem) {
  std::cerr << "infermesh: " << problem << "\n" << usage_text;
  return exit_usage;
}

struct args {
  std::vector<std::string> positional;
  std::vector<std::pair<std::string, std::string>> options;  // --key value
  std::vector<std::string> flags;                            // --key
};

std::optional<args> parse_args(int argc, char** argv, int first, const std::vector<std::string>& valued,
                               const std::vector<std::string>& flags, std::string& problem) {
  args a;
  for (int i = first; i < argc; ++i) {
    std::string s = argv[i];
    if (s.rfind("--", 0) != 0) {
      a.positional.push_back(s);
      continue;
    }
    auto eq = s.find('=');
    std::string key = s.substr(2, eq == std::string::npos ? std::string::npos : eq - 2);
    if (std::find(flags.begin(), flags.end(), key) != flags.end() && eq == std::string::npos) {
      a.flags.push_back(key);
    } else if (std::find(valued.begin(), valued.end(), key) != valued.end()) {
      if (eq != std::string::npos) a.options.emplace_back(key, s.substr(eq + 1));
      else if (i + 1 < argc) a.options.emplace_back(key, argv[++i]);
      else return problem = "--" + key + " needs a value", std::nullopt;
    } else {
      return problem = "unknown option " + s, std::nullopt;
    }
  }
  return a;
}

std::vector<std::string> all_of(const args& a, const std::string& key) {
  std::vector<std::string> out;
  for (const auto& [k, v] : a.options)
    if (k == key) out.push_back(v);
  return out;
}

bool has_flag(const args& a, const std::string& flag) {
  return std::find(a.flags.begin(), a.flags.end(), flag) != a.flags.end();
}

std::optional<long long> number_option(const args& a, const std::string& key, std::string& problem) {
  auto values = all_of(a, key);
  if (values.empty()) return std::nullopt;
  try {
    std::size_t used = 0;
    long long n = std::stoll(values.back(), &used);
    if (used == values.back().size()) return n;
  } catch (const std::exception&) {
  }
  problem = "--" + key + " must be an integer, got '" + values.back() + "'";
  return std::nullopt;
}

/// NATS options of the client commands: --nats, else $INFERMESH_NATS_URL, else the local default.
nats_options client_nats_options(const args& a) {
  nats_options opts;
  opts.log_events = false;
  opts.max_reconnect = 5;
  if (auto servers = all_of(a, "nats"); !servers.empty()) opts.servers = servers;
  else if (const char* env = std::getenv("INFERMESH_NATS_URL"); env != nullptr && *env) opts.servers = {env};
  return opts;
}

std::optional<std::string> read_whole_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

int run_node(int argc, char** argv) {
  std::string problem;
  auto a = parse_args(argc, argv, 2, {"config", "nats", "name", "node"}, {}, problem);
  if (!a) return usage(problem);
  if (!a->positional.empty()) return usage("unexpected argument '" + a->positional.front() + "'");
  auto files = all_of(*a, "config");
  auto nodes = all_of(*a, "node");
  if (files.empty() && !nodes.empty()) return usage("--node needs --config (a cluster file)");
  auto config = files.empty() ? load_embedded_default_config()
                              : load_config_file(files.back(), nodes.empty() ? "" : nodes.back());
  if (!config) {
    log(log_level::error, config.err().message);
    return exit_usage;
  }
  if (auto servers = all_of(*a, "nats"); !servers.empty()) config->nats.servers = servers;
  if (auto names = all_of(*a, "name"); !names.empty()) config->node_name = names.back();

  // Block the stop signals in every thread (threads inherit the mask), then wait for them here.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  int status = exit_ok;
  {
    auto running = node::start(std::move(*config));
    if (!running) {
      log(log_level::error, "cannot start: ", running.err().message);
      status = exit_error_reply;
    } else {
      int signal_number = 0;
      sigwait(&stop_signals, &signal_number);
      log(log_level::info, "received ", signal_number == SIGINT ? "SIGINT" : "SIGTERM");
      (*running)->drain_and_stop();
    }
  }
  nats_transport::close_library();
  return status;
}

int run_cluster_command(int argc, char** argv) {
  std::string problem;
  auto a = parse_args(argc, argv, 2, {"config", "nats"}, {}, problem);
  if (!a) return usage(problem);
  auto files = all_of(*a, "config");
  if (files.empty()) return usage("cluster needs --config FILE (a cluster file with a `nodes:` list)");
  char self[4096] = {0};
  if (readlink("/proc/self/exe", self, sizeof self - 1) <= 0) return usage("cannot find the infermesh binary");
  return run_cluster(self, files.back(), all_of(*a, "nats"));
}

int run_request(int argc, char** argv) {
  std::string problem;
  auto a = parse_args(argc, argv, 2,
                      {"timeout-ms", "deadline-ms", "priority", "id", "nats", "doc-type", "max-pages", "attempts"},
                      {"json", "no-auto-rotate", "durable"}, problem);
  if (!a) return usage(problem);
  if (a->positional.size() != 2) return usage("request needs OP and FILE");
  const auto& op = a->positional[0];
  const auto& file = a->positional[1];
  auto timeout = number_option(*a, "timeout-ms", problem);
  auto deadline = number_option(*a, "deadline-ms", problem);
  auto priority = number_option(*a, "priority", problem);
  auto max_pages = number_option(*a, "max-pages", problem);
  auto attempts = number_option(*a, "attempts", problem);
  if (!problem.empty()) return usage(problem);

  auto bytes = read_whole_file(file);
  if (!bytes) return usage("cannot read '" + file + "'");

  request req;
  if (auto ids = all_of(*a, "id"); !ids.empty()) req.id = ids.back();
  req.image = shared_bytes::copy_of(*bytes);
  req.deadline_ms = deadline;
  if (priority) req.priority = *priority;
  if (max_pages) req.max_pages = *max_pages;
  if (auto types = all_of(*a, "doc-type"); !types.empty()) req.doc_type = types.back();
  req.auto_rotate = !has_flag(*a, "no-auto-rotate");
  const bool json = has_flag(*a, "json");

  int status = exit_usage;
  {
    auto transport = nats_transport::connect(client_nats_options(*a));
    if (!transport) {
      std::cerr << "infermesh: " << transport.err().message << "\n";
    } else {
      retry_policy retry;
      retry.attempts = static_cast<int>(std::clamp(attempts.value_or(3), 1LL, 100LL));
      retry.attempt_timeout = std::chrono::milliseconds(timeout.value_or(30000));
      const auto enc = json ? encoding::json : encoding::msgpack;
      auto rep = has_flag(*a, "durable") ? send_durable(**transport, op, req, enc, retry.attempt_timeout)
                                         : send_with_retries(**transport, op, req, enc, retry);
      // The reply as one line of JSON, whatever the request's encoding.
      std::cout << encode_reply(rep, encoding::json) << "\n";
      status = rep.ok ? exit_ok : exit_error_reply;
    }
  }
  nats_transport::close_library();
  return status;
}

int run_load_command(int argc, char** argv) {
  std::string problem;
  auto a = parse_args(argc, argv, 2, {"clients", "seconds", "timeout-ms", "nats", "doc-type", "attempts"},
                      {"no-auto-rotate"}, problem);
  if (!a) return usage(problem);
  if (a->positional.size() != 2) return usage("load needs OP and FILE");
  load_options options;
  options.op = a->positional[0];
  options.image_path = a->positional[1];
  auto clients = number_option(*a, "clients", problem);
  auto seconds = number_option(*a, "seconds", problem);
  auto timeout = number_option(*a, "timeout-ms", problem);
  auto attempts = number_option(*a, "attempts", problem);
  if (!problem.empty()) return usage(problem);
  if (attempts) options.attempts = static_cast<int>(std::clamp(*attempts, 1LL, 100LL));
  if (clients) options.clients = static_cast<int>(std::clamp(*clients, 1LL, 4096LL));
  if (seconds) options.duration = std::chrono::seconds(std::clamp(*seconds, 1LL, 86400LL));
  if (timeout) options.timeout = std::chrono::milliseconds(*timeout);
  if (auto types = all_of(*a, "doc-type"); !types.empty()) options.doc_type = types.back();
  options.auto_rotate = !has_flag(*a, "no-auto-rotate");
  auto image = read_whole_file(options.image_path);
  if (!image) return usage("cannot read '" + options.image_path + "'");
  int status = exit_usage;
  {
    auto transport = nats_transport::connect(client_nats_options(*a));
    if (!transport) {
      std::cerr << "infermesh: " << transport.err().message << "\n";
    } else {
      std::cout << "load: " << options.clients << " clients, " << options.duration.count() / 1000 << " s, op "
                << options.op << ", " << options.image_path << std::endl;
      auto report = run_load(**transport, options, *image);
      std::cout << format_report(report);
      status = report.lost == 0 ? exit_ok : exit_error_reply;
    }
  }
  nats_transport::close_library();
  return status;
}

}  // namespace
}  // namespace infermesh

int main(int argc, char** argv) {
  using namespace infermesh;
  if (argc < 2) return usage("missing command");
  const std::string command = argv[1];
  if (command == "node") return run_node(argc, argv);
  if (command == "cluster") return run_cluster_command(argc, argv);
  if (command == "request") return run_request(argc, argv);
  if (command == "load") return run_load_command(argc, argv);
  if (command == "--help" || command == "help" || command == "-h") {
    std::cout << usage_text;
    return exit_ok;
  }
  return usage("unknown command '" + command + "'");
}
