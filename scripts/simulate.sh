#!/usr/bin/env bash
# A fault-injection run: installs dependencies, builds, and runs `infermesh simulate` on a scenario (default:
# simulations/game-day.yaml, the mixed game day over cluster-config/local-3node.yaml). The simulator launches the
# cluster on free ports, sends the workload, injects and undoes every fault, stops the cluster, checks nothing
# is left, and writes report.json and report.html into the run directory it prints (here: ./infermesh-sim/...).
# Exit status: the simulator's (0: nothing lost, every tolerance held).
#   scripts/simulate.sh [SCENARIO.yaml] [--seed N] [--out DIR]
set -euo pipefail
source "$(dirname "$0")/lib.sh"

"$repo/scripts/install-deps.sh"
build release infermesh
scenario="${1:-$repo/simulations/game-day.yaml}"
[ $# -gt 0 ] && shift
exec "$repo/build/release/infermesh" simulate "$scenario" "$@"
