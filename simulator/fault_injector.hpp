#pragma once
/// Applies and undoes the faults of a simulation (the nemesis). Every kind goes through the door the runtime
/// already has: process faults signal the pids the launcher writes (`<run dir>/pids/<name>.pid`) and SIGHUP the
/// launcher to start a stopped process again; actor faults are fault-door commands on the node's control
/// subject; NATS faults are SIGUSR2 (lame duck) and JetStream's leader step-down API; network faults go to
/// host_network; link faults to the node's link proxies. Targets chosen by role are resolved when the fault
/// starts (service discovery, the servers' /connz, JetStream stream and consumer info), then drawn from the
/// fault's seed.
///
/// Undo: at a fault's end (`undo`), and for everything still in force at exit (`undo` of each fault in force, then `release_all`) — even when the run
/// was interrupted. What cannot be undone at once (a drained node or a lame-duck server still exiting) is
/// finished by `tick` (once it stopped: `<run dir>/start/<name>` and SIGHUP, so the launcher starts that one only).
/// Not thread-safe: the simulator's main thread only (the NATS transport it shares with the workload is).

#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "runtime/nats_transport.hpp"
#include "simulator/derived_cluster.hpp"
#include "simulator/host_network.hpp"
#include "simulator/run_record.hpp"

namespace infermesh::sim {

/// One launcher of the simulation (one per host with namespaces, else one).
struct launcher_ref {
  std::string host;      ///< "" = every host
  std::string run_dir;   ///< its --run-dir (pid files in `pids/`)
  pid_t pid = -1;
};

/// The nemesis: applies each planned fault to its resolved targets and undoes it.
class fault_injector {
 public:
  fault_injector(nats_transport& transport, derived_cluster& cluster, std::vector<launcher_ref> launchers,
                 host_network* network, std::function<double()> now_ms,
                 std::function<void(const std::string&, const std::string&)> journal);

  /// Resolves the targets of `f` and applies it; the record says what was done (or why it was not).
  fault_record apply(const planned_fault& f);
  /// Ends `r` (the fault's end): heal, SIGCONT, start again, clear the link...
  void undo(fault_record& r);
  /// Finishes pending restarts (a stopped process gets its launcher's SIGHUP). Call often.
  void tick();
  /// After the faults still in force were undone (exit, interruption): resumes anything still paused and clears
  /// every link proxy, whatever the records say.
  void release_all();
  /// Whether anything is still pending (a restart not done yet).
  bool pending() const { return !restart_when_stopped_.empty(); }
  /// Every pid of the cluster this injector saw (for the cleanup check).
  const std::set<pid_t>& seen_pids() const { return seen_; }

  /// The pid the launcher wrote for process `name` (a node or a NATS server), -1 when it does not run.
  pid_t pid_of(const std::string& name);

 private:
  std::optional<std::string> resolve(const planned_fault& f, std::vector<std::string>& targets);
  std::optional<std::string> apply_to(const planned_fault& f, const std::string& target, std::string& detail);
  std::optional<std::string> control(const std::string& node, const std::string& json);
  std::optional<std::string> js_api(const std::string& subject, std::string* response = nullptr);
  const launcher_ref* launcher_of(const std::string& name) const;
  double patience_ms() const;  ///< how long a stopping process may take (lame duck + a margin)
  std::string host_of(const std::string& name) const;

  nats_transport& transport_;
  derived_cluster& cluster_;
  std::vector<launcher_ref> launchers_;
  host_network* network_;
  std::function<double()> now_ms_;
  std::function<void(const std::string&, const std::string&)> journal_;
  std::map<std::string, pid_t> paused_;               ///< name -> pid under SIGSTOP
  std::map<std::string, double> restart_when_stopped_;  ///< name -> give up at (ms)
  std::set<pid_t> seen_;
};

}  // namespace infermesh::sim
