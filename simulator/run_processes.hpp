#pragma once
/// The processes a simulation starts (its launchers) and the checks on them: started detached from the
/// terminal's process group, with nothing of the simulator's but stdout/stderr to a log file, killed by the kernel
/// if the simulator dies; and, at the end, which processes still mention the run. Main thread only.

#include <sys/types.h>

#include <string>
#include <vector>

namespace infermesh::sim {

/// Starts `argv` with its output appended to `log_path`; it gets SIGTERM if the simulator dies. -1 on failure.
pid_t spawn(const std::vector<std::string>& argv, const std::string& log_path);
/// Whether `pid` names a process now (it may be another one than before: pids are reused).
bool alive(pid_t pid);
/// Reaps `pid` if it exited; true when it is gone.
bool reaped(pid_t pid);
/// The last `lines` lines of a log file, indented (for an error message).
std::string tail_of(const std::string& path, std::size_t lines);
/// Processes whose command line mentions `needle` (the run directory), but for this process and its ancestors:
/// what a clean stop must leave none of.
std::vector<std::string> processes_mentioning(const std::string& needle);

}  // namespace infermesh::sim
