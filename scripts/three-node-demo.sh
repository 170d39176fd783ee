#!/usr/bin/env bash
# The mesh of cluster-config/local-3node.yaml on this machine: installs dependencies, builds, runs
# `infermesh cluster` on the file (three NATS servers with JetStream, then three nodes; it waits for each and
# prints the status table), sends `process` through each of the three servers — core request-reply and durable
# through the work queue — then stops it all with SIGINT (nodes drain, then servers leave in lame-duck mode).
# The file's ports (4222-4224, 6222-6224, 8222-8224) must be free.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

"$repo/scripts/install-deps.sh"
build release infermesh
bin="$repo/build/release/infermesh"

work=$(mktemp -d)
pids=()
trap stop_all EXIT
for port in 4222 4223 4224 6222 6223 6224 8222 8223 8224; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    echo "port $port on 127.0.0.1 is taken: local-3node.yaml needs 4222-4224, 6222-6224 and 8222-8224" >&2
    exit 1
  fi
done

"$bin" cluster --config "$repo/cluster-config/local-3node.yaml" --run-dir "$work/run" > "$work/cluster.out" 2> "$work/cluster.log" &
cluster_pid=$!
pids+=("$cluster_pid")
wait_for_line "$work/cluster.out" "^NODE " 180
grep -v " | " "$work/cluster.out"

for port in 4222 4223 4224; do
  for mode in core durable; do
    echo
    echo "\$ infermesh request process samples/receipt-upright.jpg --nats nats://127.0.0.1:$port$([ $mode = durable ] && echo ' --durable')"
    "$bin" request process "$repo/samples/receipt-upright.jpg" --doc-type receipt --nats "nats://127.0.0.1:$port" \
      $([ $mode = durable ] && echo --durable) | cut -c 1-200
  done
done

kill -INT "$cluster_pid"
wait "$cluster_pid"
echo
grep "cluster:" "$work/cluster.log" | tail -n 8
