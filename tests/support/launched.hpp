#pragma once
/// Reading `infermesh cluster`'s children from a test: the newest pid the launcher logged for a process, and
/// waiting for a process that is not the test's child (the launcher's) to end.

#include <sys/types.h>

#include <chrono>
#include <string>

#include "support/child_process.hpp"

namespace infermesh::test {

/// The pid of `name`'s newest process in `launcher`'s output ("... 'name' started, pid N" or "restarted"); -1.
pid_t newest_pid(const child_process& launcher, const std::string& name);

/// Waits until process `pid` has ended, through a pidfd (readable at its exit, whoever reaps it).
bool ends_within(pid_t pid, std::chrono::milliseconds timeout);

}  // namespace infermesh::test
