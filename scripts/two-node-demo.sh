#!/usr/bin/env bash
# The two-node example: installs dependencies, builds, starts a local nats-server and the cluster of
# cluster-config/two-node.yaml (node-a: orientation + classifier; node-b: OCR) with `infermesh cluster`, then
# sends `process` requests — each answered in one round trip by whichever node took it, the other node's steps
# forwarded over NATS — and stops everything.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

"$repo/scripts/install-deps.sh"
build release infermesh
bin="$repo/build/release/infermesh"

start_nats

"$bin" cluster --config "$repo/cluster-config/two-node.yaml" --nats "$url" > "$work/cluster.log" 2>&1 &
cluster_pid=$!
pids+=("$cluster_pid")
wait_for_line "$work/cluster.log" "node 'node-a' ready" 60
wait_for_line "$work/cluster.log" "node 'node-b' ready" 60
cat "$work/cluster.log"

for file in invoice-and-letter.pdf id-card-rotated-90.jpg receipt-upright.jpg; do
  echo
  echo "\$ infermesh request process samples/$file"
  "$bin" request process "$repo/samples/$file" --nats "$url"
done

kill -TERM "$cluster_pid"
wait "$cluster_pid"
echo
grep "cluster:" "$work/cluster.log" | tail -n 3
