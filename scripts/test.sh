#!/usr/bin/env bash
# The whole test suite: installs dependencies, builds the Release tree and runs every test, then builds with
# AddressSanitizer + UndefinedBehaviorSanitizer and runs every test again. Tests start their own nats-server
# and node processes on free 127.0.0.1 ports and stop them by PID.
#   scripts/test.sh            both builds
#   scripts/test.sh release    Release only (faster while developing)
set -euo pipefail
source "$(dirname "$0")/lib.sh"

presets=("${@:-release asan}")
"$repo/scripts/install-deps.sh"
status=0
for preset in ${presets[@]}; do
  echo "=== $preset: build"
  build "$preset"
  echo "=== $preset: test"
  # Tests write logs of the processes they start under the build tree (test-logs/).
  logs="$repo/build/$preset/tests/test-logs"
  rm -rf "$logs"
  (cd "$repo" && ctest --preset "$preset") || status=1
  # A started process (node, nats-server) that a sanitizer stopped: its report, which ctest does not show.
  echo "=== $preset: sanitizer reports from started processes"
  grep -l -a -E "ERROR: (Address|Leak|Thread)Sanitizer|runtime error:" "$logs"/*.log 2>/dev/null |
    while read -r f; do echo "--- $f"; tail -n 80 "$f"; done || true
  # What each injected failure cost (sent / answered / lost / duplicated / p99), from the tests' own logs.
  echo "=== $preset: failure reports"
  grep -a "/ answered .* / lost" "$repo/build/$preset/Testing/Temporary/LastTest.log" || true
done
exit $status
