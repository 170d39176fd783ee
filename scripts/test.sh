#!/usr/bin/env bash
# The whole test suite: installs dependencies, builds the Release tree and runs every test, then builds with
# AddressSanitizer + UndefinedBehaviorSanitizer and runs the tests again (all but the Release-only suites the
# asan test preset names). Tests start their own nats-server and node processes on free 127.0.0.1 ports and
# stop them by PID. A sanitizer report in the log of a process a test started fails the run.
#   scripts/test.sh            both builds (what CI runs)
#   scripts/test.sh release    Release only (faster while developing)
#   scripts/test.sh tsan       the ThreadSanitizer sweep (tests/tsan.supp; not part of CI: README "Sanitizers")
set -euo pipefail
source "$(dirname "$0")/lib.sh"

presets=("${@:-release asan}")
started=$SECONDS
# phase NAME: prints NAME with the minutes and seconds since the script started (CI has a time budget).
phase() { local t=$((SECONDS - started)); printf '=== %s (at %dm%02ds)\n' "$1" $((t / 60)) $((t % 60)); }
phase "install dependencies"
"$repo/scripts/install-deps.sh"
status=0
for preset in ${presets[@]}; do
  phase "$preset: build"
  build "$preset"
  phase "$preset: test"
  # Tests write logs of the processes they start under the build tree (test-logs/).
  logs="$repo/build/$preset/tests/test-logs"
  rm -rf "$logs"
  (cd "$repo" && ctest --preset "$preset") || status=1
  # A started process (node, nats-server) that a sanitizer stopped: its report, which ctest does not show.
  echo "=== $preset: sanitizer reports from started processes"
  # Any such report fails the run, as it would have failed a test had it been the test's own process.
  reported=$(grep -l -a -E "ERROR: (Address|Leak)Sanitizer|WARNING: ThreadSanitizer|runtime error:" "$logs"/*.log 2>/dev/null || true)
  for f in $reported; do echo "--- $f"; tail -n 80 "$f"; status=1; done
  # What each injected failure cost (sent / answered / lost / duplicated / p99), from the tests' own logs.
  echo "=== $preset: failure reports"
  grep -a "/ answered .* / lost" "$repo/build/$preset/Testing/Temporary/LastTest.log" || true
done
phase "done"
exit $status
