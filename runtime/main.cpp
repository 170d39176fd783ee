// `infermesh`: the node process and the command-line client.
//
//   infermesh node [--config FILE [--node NAME]] [--nats URL]... [--name NAME]
//   infermesh cluster --config FILE [--host NAME] [--run-dir DIR] [--nats URL]...
//   infermesh cluster render --target systemd|kubernetes --out DIR FILE [--binary PATH] [--files-dir DIR] ...
//   infermesh request OP FILE [--json] [--doc-type T] [--no-auto-rotate] [--timeout-ms N] [--deadline-ms N]
//                     [--priority N] [--id ID] [--nats URL]...
//   infermesh status [--watch] [--json] [--wait-ms N] [--nats URL]...
//   infermesh load OP FILE [--clients N] [--seconds N] [--timeout-ms N] [--nats URL]...
//   infermesh model list NODE | model reload|unload|load NODE MODEL [--json] [--timeout-ms N] [--nats URL]...
//   every command: [--log-format text|json]   (how it logs to stderr; `cluster` passes it to its nodes)
//   infermesh --help | infermesh COMMAND --help   (also -h): the commands, or one command's options

#include <algorithm>
#include <charconv>
#include <atomic>
#include <thread>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <iterator>
#include <pthread.h>
#include <unistd.h>

#include "messages/codec.hpp"
#include "runtime/cluster.hpp"
#include "runtime/deploy_kubernetes.hpp"
#include "runtime/deploy_systemd.hpp"
#include "runtime/load_client.hpp"
#include "runtime/log.hpp"
#include "runtime/memory_return.hpp"
#include "runtime/model_client.hpp"
#include "runtime/node.hpp"
#include "runtime/request_client.hpp"
#include "runtime/status_command.hpp"
#include "simulator/simulation.hpp"  // `simulate`: the one command above runtime/

namespace infermesh {
namespace {

constexpr int exit_ok = 0;
constexpr int exit_error_reply = 1;
constexpr int exit_usage = 2;

/// One option of a command: `--name VALUE` (value names it), or a flag (value empty).
struct option_spec {
  const char* name;
  const char* value;
  const char* help;
};

/// A command: what `infermesh COMMAND --help` prints, and the options its parser accepts (one list for both).
struct command_spec {
  const char* name;
  const char* operands;  ///< after the command name, before the options
  const char* summary;   ///< one line in `infermesh --help`
  std::vector<option_spec> options;
  const char* details;   ///< after the option list
};

const std::vector<command_spec>& commands() {
  // The client commands' common options.
  const option_spec client_nats{"nats", "URL",
                                "NATS server, repeatable (default $INFERMESH_NATS_URL, else nats://127.0.0.1:4222)"};
  const option_spec no_auto_rotate{"no-auto-rotate", "", "do not turn the pages upright first"};
  const option_spec timeout_ms{"timeout-ms", "N", "wait at most N ms per try (default 30000)"};
  const option_spec log_format_option{"log-format", "F", "log lines on stderr as text (default) or json (one object a line)"};
  static const std::vector<command_spec> all{
      {"node", "", "serve the models of a config file until SIGINT/SIGTERM",
       {{"config", "FILE", "node or cluster file (default: the embedded cluster-config/single-node.yaml)"},
        {"node", "NAME", "the node of a cluster file to run (needs --config)"},
        {"nats", "URL", "NATS server, repeatable: replaces the config's nats.servers"},
        {"name", "NAME", "replaces the config's node.name"},
        log_format_option},
       "SIGINT/SIGTERM drain the node: it unsubscribes, answers what it accepted, then exits 0.\n"},
      {"cluster", "", "run what a cluster file places on this host (NATS servers, then nodes), restarted if they crash",
       {{"config", "FILE", "the cluster file (a `nodes:` list, e.g. cluster-config/local-3node.yaml); required"},
        {"host", "NAME", "only what the file places on this host (default: everything)"},
        {"run-dir", "DIR", "logs, derived NATS configs and JetStream stores (default ./infermesh-run/<file>[-<host>])"},
        {"nats", "URL", "NATS server, repeatable: replaces the nodes' nats.servers (files without nats.cluster)"},
        {"log-format", "F", "text (default) or json, for the launcher and every node it starts"}},
       "Waits for each NATS server's /healthz and each node's $SRV answer, then prints the status table (again\n"
       "on SIGUSR1). SIGINT/SIGTERM: nodes drain, then NATS servers leave in lame-duck mode; a second signal\n"
       "kills. Exits 0 if every process's last exit was clean.\n"
       "infermesh cluster render --help: systemd units or Kubernetes objects from the same file.\n"},
      {"request", "OP FILE", "send FILE to op OP and print the reply as JSON",
       {{"json", "", "send a JSON request (default msgpack)"},
        {"doc-type", "T", "the document type (extract needs it: invoice, receipt, id_card, letter, form)"},
        no_auto_rotate,
        timeout_ms,
        {"deadline-ms", "N", "the request's deadline"},
        {"priority", "N", "the request's priority (higher first)"},
        {"id", "ID", "the request id (default: a random one)"},
        {"max-pages", "N", "read at most N pages of a PDF/TIFF (default 10)"},
        {"attempts", "N", "tries, same id, when no node answers or one answers overloaded/unavailable (default 3)"},
        {"durable", "", "send it through the JetStream work queue (ops a node configures `delivery: durable`)"},
        client_nats,
        log_format_option},
       "OP is classify, ocr, extract or process; FILE a PNG, JPEG, TIFF or PDF. Nodes never compute an id twice.\n"
       "Exit status: 0 ok, 1 error reply, 2 usage or transport error.\n"},
      {"load", "OP FILE", "closed-loop load: sent/answered/lost, latency percentiles, batch sizes",
       {{"clients", "N", "concurrent clients (default 64)"},
        {"seconds", "N", "how long (default 10)"},
        timeout_ms,
        {"attempts", "N", "tries per request, same id (default 1)"},
        {"durable", "", "send through the JetStream work queue (ops with `delivery: durable`)"},
        {"doc-type", "T", "the document type (extract)"},
        no_auto_rotate,
        client_nats,
        log_format_option},
       "Exit status 1 if any request got no reply.\n"},
      {"status", "", "list every node of the mesh: ops, models and their health, queues, requests, errors, uptime",
       {{"watch", "", "refresh every 2 s until SIGINT"},
        {"json", "", "print what the nodes answered as one JSON object per refresh"},
        {"wait-ms", "N", "gather answers for N ms (default 1000): a node silent that long is not listed"},
        client_nats,
        log_format_option},
       "Asks $SRV.PING/INFO/STATS.infermesh (the NATS service API, ADR-32): every node answers.\n"
       "Exit status: 0 when at least one node answered, 1 when none did, 2 usage or transport error.\n"},
      {"simulate", "SCENARIO", "fault-injection run: launch a cluster, send load, inject the scenario's faults, report",
       {{"out", "DIR", "where the run's files and report go (default ./infermesh-sim/<scenario>-<UTC time>)"},
        {"seed", "N", "replaces the scenario's seed (the same seed gives the same schedule)"},
        log_format_option},
       "SCENARIO is a YAML file (simulations/README.md: workload, steady_state, faults). The run directory gets the\n"
       "derived cluster file, every process's log, report.json and report.html. Every fault is undone at its end\n"
       "and at exit, also on SIGINT. Exit status: 0 nothing lost and every tolerance held, 1 otherwise, 2 the\n"
       "scenario or its cluster file is invalid (naming the key) or the cluster did not become ready.\n"},
      {"model", "list NODE | reload|unload|load NODE MODEL",
       "list a node's models, or reload one from its config file, unload it, load it (no restart)",
       {{"json", "", "print the node's answer as JSON"},
        {"timeout-ms", "N", "wait at most N ms for the answer (default 120000: a reload answers once the new version serves)"},
        client_nats,
        log_format_option},
       "Needs `node.control: true` on the node (its control subject infermesh.v1.control.NODE).\n"
       "reload: the node re-reads its config file and loads MODEL's entry beside the running version; requests in\n"
       "flight finish on the old one, new ones go to the new one, then the old one is released. A load that fails\n"
       "leaves the old version serving. unload: its ops answer unavailable (the node stops taking them) until load.\n"
       "Exit status: 0 ok, 1 the node answered an error, 2 usage or transport error, 3 no such node answered.\n"},
  };
  return all;
}

/// `infermesh cluster render`: a subcommand of `cluster`, with options of its own.
const command_spec& render_command() {
  static const command_spec spec{
      "cluster render", "FILE", "deployment files from a cluster file: systemd units per host, or Kubernetes objects",
      {{"target", "T", "systemd or kubernetes; required"},
       {"out", "DIR", "write the files here (created if missing); required"},
       {"binary", "PATH", "the infermesh binary on the hosts / in the image (default /usr/local/bin/infermesh)"},
       {"files-dir", "DIR", "where the file's relative model paths resolve on the target (systemd default: the\n"
                            "                      file's folder here; kubernetes: /opt/infermesh/cluster-config)"},
       {"config-dir", "DIR", "systemd: where the cluster file and NATS configs are installed (default /etc/infermesh)"},
       {"state-dir", "DIR", "systemd: relative JetStream store dirs, nodes' working dir (default /var/lib/infermesh)"},
       {"nats-binary", "PATH", "systemd: nats-server on the hosts (default /usr/sbin/nats-server)"},
       {"unit-dir", "DIR", "systemd: where install.sh puts the units (default /etc/systemd/system)"},
       {"image", "IMAGE", "kubernetes: the nodes' image (default infermesh:latest)"},
       {"nats-image", "IMAGE", "kubernetes: the NATS servers' image (default nats:2.9.10-alpine)"},
       {"namespace", "NS", "kubernetes: the objects' namespace, in the NATS routes' DNS names (default default)"},
       {"storage", "SIZE", "kubernetes: each NATS pod's JetStream volume (default 10Gi)"}},
      "systemd: DIR/<host>/ holds infermesh-nats-<server>.service, infermesh-node@.service, nats/<server>.conf,\n"
      "the cluster file as installed and install.sh (systemctl enable --now ... for what the host runs).\n"
      "kubernetes: DIR/nats.yaml (NATS StatefulSet, Services, ConfigMap, PodDisruptionBudget) and DIR/nodes.yaml\n"
      "(node configs, a Deployment and a PodDisruptionBudget per node): kubectl apply -f DIR.\n"
      "Exit status: 0 written, 2 usage error, invalid file (naming the key) or unwritable DIR.\n"};
  return spec;
}

const command_spec* find_command(const std::string& name) {
  for (const auto& c : commands())
    if (name == c.name) return &c;
  return nullptr;
}

/// `infermesh COMMAND --help`: its synopsis, every option, the details.
std::string command_help(const command_spec& c) {
  std::string out = std::string("usage: infermesh ") + c.name + (*c.operands ? " " : "") + c.operands + " [options]\n" +
                    "  " + c.summary + "\noptions:\n";
  for (const auto& o : c.options) {
    std::string left = std::string("--") + o.name + (*o.value ? std::string(" ") + o.value : "");
    left.resize(std::max<std::size_t>(left.size() + 1, 20), ' ');
    out += "  " + left + o.help + "\n";
  }
  out += "  -h, --help          this help\n";
  return out + c.details;
}

/// `infermesh --help`: every command with its summary.
std::string general_help() {
  std::string out = "usage: infermesh COMMAND [options]\ncommands:\n";
  for (const auto& c : commands()) {
    std::string left = std::string(c.name) + (*c.operands ? " " : "") + c.operands;
    left.resize(std::max<std::size_t>(left.size() + 1, 18), ' ');
    out += "  " + left + c.summary + "\n";
  }
  return out + "infermesh COMMAND --help lists a command's options.\n";
}

int usage(const std::string& problem, const command_spec* command = nullptr) {
  std::cerr << "infermesh: " << problem << "\n" << (command ? command_help(*command) : general_help());
  return exit_usage;
}

struct args {
  std::vector<std::string> positional;
  std::vector<std::pair<std::string, std::string>> options;  // --key value
  std::vector<std::string> flags;                            // --key
};

/// The arguments after the command name, by `command`'s options.
std::optional<args> parse_args(int argc, char** argv, const command_spec& command, std::string& problem,
                               int first = 2) {
  args a;
  for (int i = first; i < argc; ++i) {
    std::string s = argv[i];
    if (s.rfind("--", 0) != 0) {
      a.positional.push_back(s);
      continue;
    }
    auto eq = s.find('=');
    std::string key = s.substr(2, eq == std::string::npos ? std::string::npos : eq - 2);
    const auto spec = std::find_if(command.options.begin(), command.options.end(),
                                   [&](const option_spec& o) { return key == o.name; });
    if (spec == command.options.end()) return problem = "unknown option " + s, std::nullopt;
    if (!*spec->value && eq == std::string::npos) {
      a.flags.push_back(key);
    } else if (*spec->value) {
      if (eq != std::string::npos) a.options.emplace_back(key, s.substr(eq + 1));
      else if (i + 1 < argc) a.options.emplace_back(key, argv[++i]);
      else return problem = "--" + key + " needs a value", std::nullopt;
    } else {
      return problem = "--" + key + " takes no value", std::nullopt;
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

/// The last value of `--key`, or "".
std::string last_of(const args& a, const std::string& key) {
  auto values = all_of(a, key);
  return values.empty() ? std::string() : values.back();
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
  opts.credentials = with_environment({});  // INFERMESH_NATS_USER, _PASSWORD, _TOKEN, _CREDS, _TLS_*: never flags
  return opts;
}

/// `--log-format` (last one wins): configures the log sink naming `node` (empty: not a node); false if unknown.
bool apply_log_format(const args& a, const std::string& node, std::string& problem) {
  auto names = all_of(a, "log-format");
  log_format format = log_format::text;
  if (!names.empty() && !parse_log_format(names.back(), format))
    return problem = "--log-format must be text or json, got '" + names.back() + "'", false;
  configure_log(format, node);
  return true;
}

std::optional<std::string> read_whole_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

int run_node(int argc, char** argv) {
  std::string problem;
  const auto* command = find_command("node");
  auto a = parse_args(argc, argv, *command, problem);
  if (!a) return usage(problem, command);
  if (!a->positional.empty()) return usage("unexpected argument '" + a->positional.front() + "'", command);
  if (!apply_log_format(*a, "", problem)) return usage(problem, command);
  auto files = all_of(*a, "config");
  auto nodes = all_of(*a, "node");
  if (files.empty() && !nodes.empty()) return usage("--node needs --config (a cluster file)", command);
  auto config = files.empty() ? load_embedded_default_config()
                              : load_config_file(files.back(), nodes.empty() ? "" : nodes.back());
  if (!config) {
    log(log_level::error, config.err().message);
    return exit_usage;
  }
  if (auto servers = all_of(*a, "nats"); !servers.empty()) config->nats.servers = servers;
  if (auto names = all_of(*a, "name"); !names.empty()) config->node_name = names.back();
  apply_log_format(*a, config->node_name, problem);  // every line from here on names the node

  // Block the stop signals in every thread (threads inherit the mask), then wait for them here.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  int status = exit_ok;
  {
    const memory_return give_back;  // freed memory back to the system after big requests
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
  const auto* command = find_command("cluster");
  auto a = parse_args(argc, argv, *command, problem);
  if (!a) return usage(problem, command);
  if (!apply_log_format(*a, "", problem)) return usage(problem, command);
  auto files = all_of(*a, "config");
  if (files.empty()) return usage("cluster needs --config FILE (a cluster file with a `nodes:` list)", command);
  char self[4096] = {0};
  if (readlink("/proc/self/exe", self, sizeof self - 1) <= 0) return usage("cannot find the infermesh binary");
  std::vector<std::string> node_args;
  for (const auto& f : all_of(*a, "log-format")) node_args.insert(node_args.end(), {"--log-format", f});
  cluster_launch launch{self, files.back(), last_of(*a, "host"), last_of(*a, "run-dir"), all_of(*a, "nats"), node_args};
  return run_cluster(launch);
}

int run_simulate_command(int argc, char** argv) {
  std::string problem;
  const auto* command = find_command("simulate");
  auto a = parse_args(argc, argv, *command, problem);
  if (!a) return usage(problem, command);
  if (a->positional.size() != 1) return usage("simulate needs one SCENARIO file", command);
  if (!apply_log_format(*a, "", problem)) return usage(problem, command);
  sim::simulate_options o;
  o.scenario_path = a->positional.front();
  o.out_dir = last_of(*a, "out");
  if (const auto seed = last_of(*a, "seed"); !seed.empty()) {  // the whole uint64 range a report prints
    std::uint64_t n = 0;
    const auto [end, ec] = std::from_chars(seed.data(), seed.data() + seed.size(), n);
    if (ec != std::errc() || end != seed.data() + seed.size())
      return usage("--seed must be an integer in 0.." + std::to_string(UINT64_MAX) + ", got '" + seed + "'", command);
    o.seed = n;
  }
  char self[4096] = {0};
  if (readlink("/proc/self/exe", self, sizeof self - 1) <= 0) return usage("cannot find the infermesh binary");
  o.self_binary = self;
  const int status = sim::run_simulation(o);
  nats_transport::close_library();
  return status;
}

int run_cluster_render(int argc, char** argv) {
  std::string problem;
  const auto* command = &render_command();
  auto a = parse_args(argc, argv, *command, problem, 3);
  if (!a) return usage(problem, command);
  if (a->positional.size() != 1) return usage("cluster render needs one cluster FILE", command);
  const auto target = last_of(*a, "target");
  const auto out = last_of(*a, "out");
  if (target != "systemd" && target != "kubernetes")
    return usage("--target must be systemd or kubernetes, got '" + target + "'", command);
  if (out.empty()) return usage("cluster render needs --out DIR", command);
  auto source = load_deployment_source(a->positional.front());
  if (!source) {
    log(log_level::error, source.err().message);
    return exit_usage;
  }
  const auto set = [&](const char* key, std::string& field) {
    if (auto v = last_of(*a, key); !v.empty()) field = v;
  };
  std::vector<rendered_file> files;
  if (target == "systemd") {
    systemd_options o;
    set("binary", o.binary), set("files-dir", o.files_dir), set("config-dir", o.config_dir);
    set("state-dir", o.state_dir), set("nats-binary", o.nats_binary), set("unit-dir", o.unit_dir);
    files = render_systemd(*source, o);
  } else {
    kubernetes_options o;
    set("binary", o.binary), set("files-dir", o.files_dir), set("image", o.image), set("nats-image", o.nats_image);
    set("namespace", o.kube_namespace), set("storage", o.storage);
    files = render_kubernetes(*source, o);
  }
  if (auto failed = write_rendered_files(out, files)) {
    log(log_level::error, "cluster render: ", failed->message);
    return exit_usage;
  }
  for (const auto& f : files) std::cout << out << "/" << f.path << "\n";
  return exit_ok;
}

int run_request(int argc, char** argv) {
  std::string problem;
  const auto* command = find_command("request");
  auto a = parse_args(argc, argv, *command, problem);
  if (!a) return usage(problem, command);
  if (a->positional.size() != 2) return usage("request needs OP and FILE", command);
  if (!apply_log_format(*a, "", problem)) return usage(problem, command);
  const auto& op = a->positional[0];
  const auto& file = a->positional[1];
  auto timeout = number_option(*a, "timeout-ms", problem);
  auto deadline = number_option(*a, "deadline-ms", problem);
  auto priority = number_option(*a, "priority", problem);
  auto max_pages = number_option(*a, "max-pages", problem);
  auto attempts = number_option(*a, "attempts", problem);
  if (!problem.empty()) return usage(problem, command);

  auto bytes = read_whole_file(file);
  if (!bytes) return usage("cannot read '" + file + "'", command);

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
  const auto* command = find_command("load");
  auto a = parse_args(argc, argv, *command, problem);
  if (!a) return usage(problem, command);
  if (a->positional.size() != 2) return usage("load needs OP and FILE", command);
  if (!apply_log_format(*a, "", problem)) return usage(problem, command);
  load_options options;
  options.op = a->positional[0];
  options.image_path = a->positional[1];
  auto clients = number_option(*a, "clients", problem);
  auto seconds = number_option(*a, "seconds", problem);
  auto timeout = number_option(*a, "timeout-ms", problem);
  auto attempts = number_option(*a, "attempts", problem);
  if (!problem.empty()) return usage(problem, command);
  if (attempts) options.attempts = static_cast<int>(std::clamp(*attempts, 1LL, 100LL));
  if (clients) options.clients = static_cast<int>(std::clamp(*clients, 1LL, 4096LL));
  if (seconds) options.duration = std::chrono::seconds(std::clamp(*seconds, 1LL, 86400LL));
  if (timeout) options.timeout = std::chrono::milliseconds(*timeout);
  if (auto types = all_of(*a, "doc-type"); !types.empty()) options.doc_type = types.back();
  options.auto_rotate = !has_flag(*a, "no-auto-rotate");
  options.durable = has_flag(*a, "durable");
  auto image = read_whole_file(options.image_path);
  if (!image) return usage("cannot read '" + options.image_path + "'", command);
  int status = exit_usage;
  {
    auto transport = nats_transport::connect(client_nats_options(*a));
    if (!transport) {
      std::cerr << "infermesh: " << transport.err().message << "\n";
    } else {
      std::cout << "load: " << options.clients << " clients, " << options.duration.count() / 1000 << " s, op "
                << options.op << ", " << options.image_path << std::endl;
      // Progress on stderr once a second (the report comes at the end, on stdout).
      std::atomic<std::uint64_t> answered{0};
      std::atomic<bool> done{false};
      options.on_answer = [&answered](std::uint64_t n) { answered = n; };
      std::thread progress([&] {
        const auto start = std::chrono::steady_clock::now();
        while (!done) {
          for (int i = 0; i < 10 && !done; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
          if (done) break;
          const auto s = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - start).count();
          std::cerr << "load: " << s << " s, " << answered.load() << " answered" << std::endl;
        }
      });
      auto report = run_load(**transport, options, *image);
      done = true;
      progress.join();
      std::cout << format_report(report);
      status = report.lost == 0 ? exit_ok : exit_error_reply;
    }
  }
  nats_transport::close_library();
  return status;
}

std::atomic<bool> stop_watching{false};
extern "C" void on_watch_signal(int) { stop_watching = true; }

int run_status_command(int argc, char** argv) {
  std::string problem;
  const auto* command = find_command("status");
  auto a = parse_args(argc, argv, *command, problem);
  if (!a) return usage(problem, command);
  if (!a->positional.empty()) return usage("unexpected argument '" + a->positional.front() + "'", command);
  if (!apply_log_format(*a, "", problem)) return usage(problem, command);
  auto wait_ms = number_option(*a, "wait-ms", problem);
  if (!problem.empty()) return usage(problem, command);
  const auto wait = std::chrono::milliseconds(std::clamp(wait_ms.value_or(1000), 50LL, 60000LL));
  const bool json = has_flag(*a, "json"), watch = has_flag(*a, "watch");
  constexpr auto refresh = std::chrono::seconds(2);
  int status = exit_usage;
  {
    auto transport = nats_transport::connect(client_nats_options(*a));
    if (!transport) {
      std::cerr << "infermesh: " << transport.err().message << "\n";
    } else {
      std::signal(SIGINT, on_watch_signal);
      std::signal(SIGTERM, on_watch_signal);
      const bool terminal = isatty(STDOUT_FILENO) != 0;
      do {
        const auto began = std::chrono::steady_clock::now();
        auto nodes = discover_nodes(**transport, wait);
        if (watch && terminal && !json) std::cout << "\x1b[H\x1b[2J";  // redraw in place
        std::cout << (json ? format_status_json(nodes) + "\n" : format_status_table(nodes)) << std::flush;
        status = nodes.empty() ? exit_error_reply : exit_ok;
        while (watch && !stop_watching && std::chrono::steady_clock::now() - began < refresh)
          std::this_thread::sleep_for(std::chrono::milliseconds(50));
      } while (watch && !stop_watching);
      if (watch) status = exit_ok;  // stopped by the operator
    }
  }
  nats_transport::close_library();
  return status;
}

int run_model_command(int argc, char** argv) {
  std::string problem;
  const auto* command = find_command("model");
  auto a = parse_args(argc, argv, *command, problem);
  if (!a) return usage(problem, command);
  if (!apply_log_format(*a, "", problem)) return usage(problem, command);
  const auto& p = a->positional;
  if (p.empty()) return usage("model needs a subcommand: list, reload, unload or load", command);
  const auto& verb = p[0];
  if (verb != "list" && verb != "reload" && verb != "unload" && verb != "load")
    return usage("unknown model subcommand '" + verb + "' (list, reload, unload, load)", command);
  const std::size_t wanted = verb == "list" ? 2 : 3;
  if (p.size() != wanted)
    return usage(verb == "list" ? "model list needs NODE" : "model " + verb + " needs NODE and MODEL", command);
  auto timeout = number_option(*a, "timeout-ms", problem);
  if (!problem.empty()) return usage(problem, command);
  int status = exit_usage;
  {
    auto transport = nats_transport::connect(client_nats_options(*a));
    if (!transport) {
      std::cerr << "infermesh: " << transport.err().message << "\n";
    } else {
      auto r = run_model_client(**transport, verb, p[1], wanted == 3 ? p[2] : "",
                                std::chrono::milliseconds(std::clamp(timeout.value_or(120000), 1LL, 3'600'000LL)),
                                has_flag(*a, "json"));
      std::cout << r.out << std::flush;
      std::cerr << r.err;
      status = r.status;
    }
  }
  nats_transport::close_library();
  return status;
}

}  // namespace
}  // namespace infermesh

/// Whether `arg` asks for help.
static bool is_help(const std::string& arg) { return arg == "--help" || arg == "-h"; }

int main(int argc, char** argv) {
  using namespace infermesh;
  if (argc < 2) return usage("missing command");
  const std::string name = argv[1];
  if (is_help(name) || name == "help") {
    const auto* command = argc > 2 ? find_command(argv[2]) : nullptr;  // `infermesh help load`
    std::cout << (command ? command_help(*command) : general_help());
    return exit_ok;
  }
  const auto* command = find_command(name);
  if (!command) return usage("unknown command '" + name + "'");
  if (name == "cluster" && argc > 2 && std::string(argv[2]) == "render") command = &render_command();
  for (int i = 2; i < argc; ++i)
    if (is_help(argv[i])) {
      std::cout << command_help(*command);
      return exit_ok;
    }
  if (name == "node") return run_node(argc, argv);
  if (command == &render_command()) return run_cluster_render(argc, argv);
  if (name == "cluster") return run_cluster_command(argc, argv);
  if (name == "request") return run_request(argc, argv);
  if (name == "status") return run_status_command(argc, argv);
  if (name == "model") return run_model_command(argc, argv);
  if (name == "simulate") return run_simulate_command(argc, argv);
  return run_load_command(argc, argv);
}
