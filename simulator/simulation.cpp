#include "simulator/simulation.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "runtime/log.hpp"
#include "runtime/status_command.hpp"
#include "simulator/derived_cluster.hpp"
#include "simulator/fault_injector.hpp"
#include "simulator/host_network.hpp"
#include "simulator/reply_counter.hpp"
#include "simulator/run_processes.hpp"
#include "simulator/report.hpp"
#include "simulator/workload.hpp"

namespace infermesh::sim {
namespace {

namespace fs = std::filesystem;
using clock = std::chrono::steady_clock;

/// How long the launchers may take to stop the cluster (nodes drain, servers leave) before they are killed.
constexpr auto stop_patience = std::chrono::seconds(90);
/// Replies still on their way when the workload ended get this long to reach the independent counter.
constexpr auto late_replies = std::chrono::milliseconds(1000);

std::atomic<bool> stop_requested{false};

std::string utc_stamp() {
  const auto t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char b[32];
  std::strftime(b, sizeof b, "%Y%m%d-%H%M%S", &tm);
  return b;
}

/// The counters of every node (and of the durable consumers) now.
std::map<std::string, std::map<std::string, double>> read_counters(nats_transport& t, const derived_cluster& c) {
  std::map<std::string, std::map<std::string, double>> out;
  for (const auto& n : discover_nodes(t, std::chrono::milliseconds(1500))) {
    auto& m = out[n.node];
    m["requests"] = static_cast<double>(n.requests);
    m["errors"] = static_cast<double>(n.errors);
    double restarts = 0;
    for (const auto& model : n.models) restarts += static_cast<double>(model.restarts);
    m["model_restarts"] = restarts;
    m["uptime_s"] = n.uptime_s;
  }
  for (const auto& [op, durable] : c.durable) {
    if (!durable) continue;
    auto info = t.request("$JS.API.CONSUMER.INFO." + std::string(wire::work_queue_stream) + "." + wire::durable_consumer(op),
                          "", std::chrono::milliseconds(2000));
    if (!info) continue;
    const auto j = nlohmann::json::parse(std::string(info->view()), nullptr, false);
    if (!j.is_object() || j.contains("error")) continue;
    auto& m = out["jetstream:" + op];
    m["redelivered"] = j.value("num_redelivered", 0.0);
    m["ack_pending"] = j.value("num_ack_pending", 0.0);
    m["pending"] = j.value("num_pending", 0.0);
    m["delivered"] = j.contains("delivered") ? j["delivered"].value("consumer_seq", 0.0) : 0.0;
  }
  return out;
}

/// Whether every node of the plan answers discovery with every model healthy.
bool cluster_serves(nats_transport& t, const cluster_plan& plan, std::string& missing) {
  std::set<std::string> serving;
  for (const auto& n : discover_nodes(t, std::chrono::milliseconds(700))) {
    bool healthy = !n.models.empty();
    for (const auto& m : n.models) healthy = healthy && m.healthy && m.state == "serving";
    if (healthy) serving.insert(n.node);
  }
  missing.clear();
  for (const auto& n : plan.nodes)
    if (!serving.count(n)) missing += (missing.empty() ? "" : ", ") + n;
  return missing.empty();
}

class simulation {
 public:
  simulation(simulate_options o, scenario s) : options_(std::move(o)), scenario_(std::move(s)) {}
  int run();

 private:
  double now_ms() const { return std::chrono::duration<double, std::milli>(clock::now() - t0_).count(); }
  void journal(const std::string& action, const std::string& detail) {
    record_.journal.push_back({now_ms(), action, detail});
    log(log_level::info, "simulate: ", action, ": ", detail);
  }
  int fail(int code, const std::string& why) {
    log(log_level::error, "simulate: ", why);
    return code;
  }
  bool launch();
  bool wait_ready();
  /// `pid` runs and is a process of this run (its command line names the run directory): a pid seen earlier
  /// may have been reused by an unrelated process since.
  bool of_this_run(pid_t pid) const {
    if (!alive(pid)) return false;
    std::ifstream in("/proc/" + std::to_string(pid) + "/cmdline", std::ios::binary);
    const std::string cmd((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    return cmd.find(out_) != std::string::npos;
  }
  double ideal_throughput() const;
  /// The simulator's own NATS identity: the first node's (its file's, completed from INFERMESH_NATS_*), or
  /// the environment's alone when attached.
  nats_credentials credentials() const {
    if (cluster_ && !cluster_->plan.nodes.empty() && scenario_.cluster.attach.empty())
      if (auto c = load_config_file(cluster_->path, cluster_->plan.nodes.front())) return c->nats.credentials;
    return with_environment({});
  }
  void drive(workload& w, std::vector<request_record>& records);
  void stop_cluster();
  void check_cleanup();

  simulate_options options_;
  scenario scenario_;
  clock::time_point t0_ = clock::now();
  std::string out_;
  run_record record_;
  std::unique_ptr<host_network> network_;
  std::optional<derived_cluster> cluster_;
  std::vector<launcher_ref> launchers_;
  std::unique_ptr<nats_transport> client_;
  std::unique_ptr<fault_injector> injector_;
  std::vector<std::string> urls_;  ///< the NATS servers the simulator's own clients use
};

/// What the cluster could answer at most for a `classify`-only workload when its classifiers are synthetic (a
/// fixed time per batch): every node's full batches back to back. 0 otherwise (real models: unknown).
double simulation::ideal_throughput() const {
  for (const auto& m : scenario_.workload.mix)
    if (m.op != "classify") return 0;
  double total = 0;
  for (const auto& node : cluster_->plan.nodes) {
    auto c = load_config_file(cluster_->path, node);
    if (!c) return 0;
    double best = 0;
    for (const auto& h : c->models) {
      const auto& serves = h.model.serves;
      if (std::find(serves.begin(), serves.end(), "classify") == serves.end()) continue;
      if (h.model.backend != model_config::backend_kind::synthetic) return 0;
      const double batch = static_cast<double>(h.batching.max_batch_size);
      const double us = static_cast<double>(h.model.synthetic.latency.count()) +
                        static_cast<double>(h.model.synthetic.per_item_latency.count()) * batch;
      if (us > 0) best = std::max(best, batch * 1e6 / us);
    }
    total += best;
  }
  return total;
}

bool simulation::launch() {
  const auto& plan = cluster_->plan;
  std::vector<std::string> hosts{""};
  if (network_) {
    hosts.clear();
    for (const auto& h : plan.hosts) hosts.push_back(h.name);
  }
  fs::create_directories(fs::path(out_) / "logs");
  for (const auto& host : hosts) {
    launcher_ref l;
    l.host = host;
    l.run_dir = (fs::path(out_) / (host.empty() ? "cluster" : "cluster-" + host)).string();
    std::vector<std::string> argv{options_.self_binary, "cluster", "--config", cluster_->path, "--run-dir", l.run_dir};
    if (!host.empty()) argv.insert(argv.end(), {"--host", host});
    if (network_) argv = network_->in(host, argv);
    const auto log_path = (fs::path(out_) / "logs" / (host.empty() ? "launcher.log" : "launcher-" + host + ".log")).string();
    l.pid = spawn(argv, log_path);
    if (l.pid <= 0) return fail(2, "cannot start the launcher: " + std::string(std::strerror(errno))), false;
    journal("launch", "infermesh cluster" + std::string(host.empty() ? "" : " --host " + host) + " (pid " +
                          std::to_string(l.pid) + "), log " + log_path);
    launchers_.push_back(l);
  }
  return true;
}

bool simulation::wait_ready() {
  const auto deadline = clock::now() + scenario_.cluster.ready_timeout;
  std::string missing = "every node";
  auto next_note = clock::now() + std::chrono::seconds(10);
  while (clock::now() < deadline && !stop_requested) {
    for (const auto& l : launchers_)
      if (reaped(l.pid)) {
        const auto log_path = (fs::path(out_) / "logs" / (l.host.empty() ? "launcher.log" : "launcher-" + l.host + ".log")).string();
        fail(2, "the launcher exited before the cluster was ready; its log (" + log_path + ") ends:\n" + tail_of(log_path, 15));
        return false;
      }
    if (!client_) {
      nats_options o;
      o.servers = urls_;
      o.credentials = credentials();
      o.client_name = "infermesh-simulate";
      o.max_reconnect = -1;
      o.reconnect_wait = std::chrono::milliseconds(250);
      o.connect_timeout = std::chrono::milliseconds(1000);
      o.log_events = false;
      if (auto t = nats_transport::connect(o)) client_ = std::move(*t);
    }
    if (client_ && !scenario_.cluster.attach.empty() && cluster_->plan.nodes.empty())  // attached: who is there
      for (const auto& n : discover_nodes(*client_, std::chrono::milliseconds(1000))) cluster_->plan.nodes.push_back(n.node);
    if (client_ && !cluster_->plan.nodes.empty() && cluster_serves(*client_, cluster_->plan, missing)) {
      journal("ready", "every node serves (" + std::to_string(cluster_->plan.nodes.size()) + " nodes)");
      return true;
    }
    if (clock::now() > next_note) {
      std::cerr << "simulate: waiting for the cluster: " << (client_ ? "not serving yet: " + missing : "NATS not up yet")
                << "\n";
      next_note = clock::now() + std::chrono::seconds(10);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
  }
  fail(2, "the cluster was not ready within " + std::to_string(scenario_.cluster.ready_timeout.count()) +
              " ms (cluster.ready_timeout_ms); not serving: " + missing + " (logs in " + out_ + ")");
  return false;
}

void simulation::drive(workload& w, std::vector<request_record>& records) {
  std::thread sender([&] { records = w.run(stop_requested); });
  const double measure = record_.measure_start_ms;
  std::size_t next = 0;
  std::map<int, fault_record> in_force;  // by schedule index
  auto next_progress = clock::now();
  std::atomic<bool> sending{true};
  std::thread watch([&] {
    sender.join();
    sending = false;
  });
  while (sending) {
    const double rel = now_ms() - measure;
    while (next < record_.schedule.size() && rel >= static_cast<double>(record_.schedule[next].start.count()) &&
           !stop_requested) {
      auto r = injector_->apply(record_.schedule[next]);
      if (r.applied && record_.schedule[next].end > record_.schedule[next].start) in_force.emplace(r.plan.index, std::move(r));
      else {
        r.end_ms = r.start_ms;
        record_.faults.push_back(std::move(r));
      }
      ++next;
    }
    for (auto it = in_force.begin(); it != in_force.end();) {
      if (rel >= static_cast<double>(it->second.plan.end.count()) || stop_requested) {
        injector_->undo(it->second);
        record_.faults.push_back(std::move(it->second));
        it = in_force.erase(it);
      } else {
        ++it;
      }
    }
    injector_->tick();
    if (clock::now() >= next_progress) {
      next_progress += std::chrono::seconds(1);
      const auto p = w.progress();
      std::string faults;
      for (const auto& [i, r] : in_force) {
        std::string targets;
        for (const auto& t : r.targets) targets += (targets.empty() ? "" : ",") + t;
        faults += (faults.empty() ? "" : ", ") + ("#" + std::to_string(i) + " " + r.plan.kind + " " + targets);
      }
      char line[256];
      std::snprintf(line, sizeof line, "[%7.1fs%s] sent %llu  answered %llu  errors %llu  lost %llu  in flight %llu  p99(1s) %.0f ms",
                    rel / 1000.0, rel < 0 ? " warm-up" : "", static_cast<unsigned long long>(p.sent),
                    static_cast<unsigned long long>(p.answered), static_cast<unsigned long long>(p.errors),
                    static_cast<unsigned long long>(p.lost), static_cast<unsigned long long>(p.in_flight),
                    p.p99_last_second_ms);
      std::cerr << line << (faults.empty() ? "" : "  | " + faults) << "\n";
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  watch.join();
  for (auto& [i, r] : in_force) {  // the workload ended (or was interrupted) with faults still in force
    injector_->undo(r);
    record_.faults.push_back(std::move(r));
  }
  injector_->release_all();
  while (next < record_.schedule.size()) {  // never started: recorded as not applied
    fault_record r;
    r.plan = record_.schedule[next++];
    r.error = stop_requested ? "not started: the run was interrupted" : "not started: the workload had ended";
    record_.faults.push_back(std::move(r));
  }
  std::sort(record_.faults.begin(), record_.faults.end(),
            [](const auto& a, const auto& b) { return a.plan.index < b.plan.index; });
}

void simulation::stop_cluster() {
  for (const auto& l : launchers_)
    if (l.pid > 0) ::kill(l.pid, SIGINT);
  journal("stop", "SIGINT to the launchers: nodes drain, then the NATS servers leave");
  const auto deadline = clock::now() + stop_patience;
  std::set<pid_t> left;
  for (const auto& l : launchers_) left.insert(l.pid);
  while (!left.empty() && clock::now() < deadline) {
    for (auto it = left.begin(); it != left.end();) it = reaped(*it) ? left.erase(it) : std::next(it);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  for (pid_t pid : left) {
    journal("stop", "launcher pid " + std::to_string(pid) + " did not stop in time: SIGKILL");
    ::kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
  }
  // A killed launcher's children get SIGTERM (PR_SET_PDEATHSIG); anything of the cluster still there now is killed.
  if (injector_)
    for (pid_t pid : injector_->seen_pids())
      if (of_this_run(pid)) {
        ::kill(pid, SIGCONT);
        ::kill(pid, SIGKILL);
      }
}

void simulation::check_cleanup() {
  for (const auto& l : launchers_)
    record_.cleanup.push_back({"launcher (pid " + std::to_string(l.pid) + ")", !alive(l.pid)});
  if (injector_)
    for (pid_t pid : injector_->seen_pids())
      record_.cleanup.push_back({"cluster process pid " + std::to_string(pid), !of_this_run(pid)});
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  const auto abs_out = fs::absolute(out_).string();
  const auto stray = processes_mentioning(abs_out);
  record_.cleanup.push_back({"no process mentions " + abs_out + (stray.empty() ? "" : " (left: " + stray.front() + ")"),
                             stray.empty()});
  if (cluster_) {
    std::size_t open = 0;
    for (auto& [node, proxies] : cluster_->proxies) open += proxies.size();
    cluster_->proxies.clear();  // closes them
    if (open) record_.cleanup.push_back({"link proxies closed (" + std::to_string(open) + ")", true});
  }
  if (network_) {
    const auto made = network_->made();
    if (auto e = network_->tear_down()) journal("cleanup", "network: " + e->message);
    const auto left = network_->leftovers();
    for (const auto& m : made)
      record_.cleanup.push_back({m, std::find(left.begin(), left.end(), m) == left.end()});
    for (const auto& l : left)
      if (std::find(made.begin(), made.end(), l) == made.end()) record_.cleanup.push_back({l, false});
    network_.reset();
  }
  for (const auto& c : record_.cleanup)
    if (!c.gone) journal("cleanup", "LEFT BEHIND: " + c.what);
}

int simulation::run() {
  // Run directory.
  out_ = options_.out_dir.empty() ? (fs::path("infermesh-sim") / (scenario_.name + "-" + utc_stamp())).string() : options_.out_dir;
  std::error_code made;
  fs::create_directories(out_, made);
  if (made) return fail(2, "--out: cannot create " + out_ + ": " + made.message());
  out_ = fs::absolute(out_).lexically_normal().string();
  record_.scenario_name = scenario_.name;
  record_.scenario_file = fs::absolute(options_.scenario_path).string();
  record_.seed = scenario_.seed;
  auto schedule = resolve_schedule(scenario_);
  if (!schedule) return fail(2, options_.scenario_path + ": " + schedule.err().message);
  record_.schedule = *schedule;
  std::cerr << "simulate: scenario " << scenario_.name << ", seed " << scenario_.seed << ", " << record_.schedule.size()
            << " faults; run directory " << out_ << "\n";

  // Inputs.
  const std::string inputs_dir = scenario_.workload.inputs.empty()
                                     ? (fs::path(INFERMESH_SOURCE_DIR) / "samples").string()
                                     : scenario_.workload.inputs;
  auto inputs = load_inputs(inputs_dir);
  if (!inputs) return fail(2, options_.scenario_path + ": " + inputs.err().message);

  bool link_faults = false;
  for (const auto& f : record_.schedule)
    link_faults = link_faults || f.kind == "latency" || f.kind == "bandwidth" || f.kind == "blackhole" ||
                  f.kind == "reset" || f.kind == "slice";

  // Hosts as namespaces first: the simulator's own threads must all start inside the client namespace.
  if (scenario_.cluster.namespaces) {
    if (link_faults) return fail(2, options_.scenario_path + ": link faults need a cluster on this host's network (hosts: local)");
    std::string why;
    if (!host_network::available(why)) return fail(2, "cluster.hosts: namespaces: " + why);
    auto plan_text = std::ifstream(scenario_.cluster.file);
    std::stringstream text;
    text << plan_text.rdbuf();
    auto plan = parse_cluster_plan(text.str(), scenario_.cluster.file);
    if (!plan) return fail(2, plan.err().message);
    std::vector<network_host> hosts;
    for (const auto& h : plan->hosts) hosts.push_back({h.name, h.address});
    // A simulator that was killed (SIGKILL, a crash) could not delete its namespaces: `im<pid>-*` of a pid that
    // no longer runs is removed now.
    std::error_code e;
    for (const auto& entry : fs::directory_iterator("/run/netns", e)) {
      const auto name = entry.path().filename().string();
      if (name.size() < 6 || name.rfind("im", 0) != 0 || name.compare(name.size() - 3, 3, "-sw") != 0) continue;
      const auto tag = name.substr(2, name.size() - 5);
      if (tag.empty() || tag.size() > 9 || tag.find_first_not_of("0123456789") != std::string::npos) continue;
      const pid_t owner = static_cast<pid_t>(std::stol(tag));
      if (owner != getpid() && alive(owner)) continue;  // ours cannot exist yet: a killed run with our pid made it
      if (auto removed = host_network::remove_all(tag); removed && !removed->empty())
        journal("network", "removed " + std::to_string(removed->size()) + " namespaces a killed run (pid " + tag + ") left");
    }
    auto net = host_network::create(hosts, std::to_string(getpid()));
    if (!net) return fail(2, "cluster.hosts: namespaces: " + net.err().message);
    network_ = std::move(*net);
    if (auto e = network_->enter_client()) return fail(2, "cannot enter the client namespace: " + e->message);
    journal("network", "hosts as namespaces: " + std::to_string(hosts.size()) + " hosts, client at " + network_->client_address());
  }
  if (scenario_.cluster.attach.empty()) {
    auto derived = derive_cluster(scenario_, out_, link_faults);
    if (!derived) return fail(2, derived.err().message);
    cluster_ = std::move(*derived);
    record_.cluster_file = cluster_->path;
    urls_ = cluster_->plan.nats_urls();
    journal("derive", "cluster file " + cluster_->path);
    record_.ideal_rps = ideal_throughput();
  } else {  // a running cluster: nothing is launched; its nodes are whoever answers discovery
    cluster_.emplace();
    cluster_->plan.hosts.clear();
    urls_ = scenario_.cluster.attach;
    record_.cluster_file = "attach";
    journal("attach", "NATS servers: " + std::to_string(urls_.size()));
  }

  int code = 0;
  std::unique_ptr<reply_counter> counter;
  std::vector<request_record> records;
  try {
  if (scenario_.cluster.attach.empty() && !launch()) code = 2;
  if (code == 0 && !wait_ready()) code = stop_requested ? 1 : 2;
  if (code == 0 && !stop_requested) {
    injector_ = std::make_unique<fault_injector>(*client_, *cluster_, launchers_, network_.get(),
                                                 [this] { return now_ms(); },
                                                 [this](const std::string& a, const std::string& d) { journal(a, d); });
    for (const auto& n : cluster_->plan.nodes) injector_->pid_of(n);
    for (const auto& s : cluster_->plan.nats_servers) injector_->pid_of(s.name);
    workload w(*client_, scenario_.workload, std::move(*inputs), cluster_->durable, scenario_.seed, t0_);
    nats_options o;
    o.servers = urls_;
    o.credentials = credentials();
    o.client_name = "infermesh-simulate-counter";
    o.max_reconnect = -1;
    o.log_events = false;
    auto c = reply_counter::start(o, w.id_prefix());
    if (!c) code = fail(2, "the independent reply counter could not connect: " + c.err().message);
    else counter = std::move(*c);
    if (code == 0) {
      const auto before = read_counters(*client_, *cluster_);
      record_.warmup_start_ms = now_ms();
      record_.measure_start_ms = record_.warmup_start_ms + static_cast<double>(scenario_.workload.warmup.count());
      journal("workload", "started: warm-up " + std::to_string(scenario_.workload.warmup.count()) + " ms, then " +
                              std::to_string(scenario_.workload.duration.count()) + " ms measured");
      drive(w, records);
      // The measured part ends with the last arrival: the wait for replies still due is not throughput time.
      record_.end_ms = std::min(now_ms(), record_.measure_start_ms + static_cast<double>(scenario_.workload.duration.count()));
      journal("workload", "ended: " + std::to_string(records.size()) + " requests");
      for (int i = 0; i < 100 && injector_->pending(); ++i) {  // restarts due at the faults' ends
        injector_->tick();
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
      std::this_thread::sleep_for(late_replies);
      const auto after = read_counters(*client_, *cluster_);
      std::set<std::string> names;
      for (const auto& [n, m] : before) names.insert(n);
      for (const auto& [n, m] : after) names.insert(n);
      for (const auto& n : names)
        record_.nodes.push_back({n, before.count(n) ? before.at(n) : std::map<std::string, double>{},
                                 after.count(n) ? after.at(n) : std::map<std::string, double>{}});
    }
  }
  } catch (const std::exception& e) {  // whatever went wrong, the faults are undone and the cluster stopped below
    code = fail(1, std::string("the run failed: ") + e.what());
    if (injector_) injector_->release_all();
  }
  if (counter) {
    counter->stop();
    record_.observed_replies = counter->counts();
    for (auto& r : records)
      r.replies = record_.observed_replies.count(r.id) ? record_.observed_replies.at(r.id) : 0;
  }
  record_.requests = std::move(records);
  record_.interrupted = stop_requested;
  client_.reset();  // the servers' last clients go before they leave
  stop_cluster();
  check_cleanup();
  if (code != 0) return code;

  const auto rep = compute_report(record_, scenario_.steady_state);
  std::ofstream(fs::path(out_) / "report.json", std::ios::trunc) << report_json(record_, rep);
  std::ofstream(fs::path(out_) / "report.html", std::ios::trunc) << report_html(record_, rep);
  std::cout << report_summary(rep) << "report: " << (fs::path(out_) / "report.html").string() << "\n" << std::flush;
  return rep.passed && !record_.interrupted ? 0 : 1;  // an interrupted run is a partial answer
}

}  // namespace

int run_simulation(const simulate_options& options) {
  auto s = load_scenario_file(options.scenario_path);
  if (!s) return log(log_level::error, options.scenario_path, ": ", s.err().message), 2;
  if (options.seed) s->seed = *options.seed;
  // SIGINT/SIGTERM end the run through the same teardown; blocked here, before any thread starts, and waited
  // for by one thread of our own.
  sigset_t stops;
  sigemptyset(&stops);
  sigaddset(&stops, SIGINT);
  sigaddset(&stops, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stops, nullptr);
  simulation sim(options, std::move(*s));
  std::thread([stops] {
    int sig = 0;
    sigwait(&stops, &sig);
    stop_requested = true;
    std::cerr << "simulate: stopping (" << strsignal(sig) << "): undoing the faults, stopping the cluster\n";
    sigwait(&stops, &sig);
    std::cerr << "simulate: second signal: leaving now (the launchers stop their clusters when the simulator dies)\n";
    std::_Exit(1);
  }).detach();
  return sim.run();
}

}  // namespace infermesh::sim
