#!/usr/bin/env bash
# Runs one libFuzzer target of fuzz/ with the node's limits (fuzz/README.md). Build first:
#   cmake --preset fuzz && cmake --build --preset fuzz -j2
# Usage: scripts/fuzz.sh TARGET [SECONDS]   (TARGET: decode_request parse_config probe_image preprocess_image split_pages)
# New inputs go to build/fuzz/corpus/TARGET (the committed seeds in fuzz/corpus/TARGET are only read), failing
# inputs to build/fuzz/artifacts/TARGET/, the log to build/fuzz/logs/TARGET.log. The run lasts SECONDS (600) on one
# core: -fork=1 with crashes, OOMs and timeouts counted and saved, not ending the run.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
target=${1:?usage: scripts/fuzz.sh TARGET [SECONDS]}
seconds=${2:-600}
build=$root/build/fuzz
binary=$build/fuzz/fuzz_$target
[ -x "$binary" ] || { echo "fuzz.sh: $binary is not built (cmake --build --preset fuzz)" >&2; exit 2; }

# -max_len: what a decoder is sensibly fuzzed with (the node accepts up to 8 MiB, but a bigger input mostly runs
# slower, not deeper). -rss_limit_mb / -malloc_limit_mb: 2 GiB, over the node's 1.5 GB budget for all its
# requests together, so one input reaching it is a finding. -timeout: 10 s, the default request deadline.
case $target in
  decode_request)   max_len=65536; dict=decode_request ;;
  parse_config)     max_len=16384; dict=parse_config ;;
  probe_image)      max_len=4096;  dict=preprocess_image ;;
  preprocess_image) max_len=65536; dict=preprocess_image ;;
  split_pages)      max_len=65536; dict=split_pages ;;
  *) echo "fuzz.sh: unknown target '$target'" >&2; exit 2 ;;
esac

mkdir -p "$build/corpus/$target" "$build/artifacts/$target" "$build/logs"
export LSAN_OPTIONS=suppressions=$root/tests/lsan.supp:print_suppressions=0  # fontconfig, under poppler
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
"$binary" -fork=1 -ignore_crashes=1 -ignore_ooms=1 -ignore_timeouts=1 \
  -max_total_time="$seconds" -rss_limit_mb=2048 -malloc_limit_mb=2048 -timeout=10 -max_len=$max_len \
  -dict="$root/fuzz/dict/$dict.dict" -artifact_prefix="$build/artifacts/$target/" \
  "$build/corpus/$target" "$root/fuzz/corpus/$target" >"$build/logs/$target.log" 2>&1 || true
grep -E '^#[0-9]+: cov' "$build/logs/$target.log" | tail -1
echo "artifacts: $(ls "$build/artifacts/$target" | wc -l) in $build/artifacts/$target"
