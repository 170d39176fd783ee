#!/usr/bin/env bash
# The main job on the embedded default: installs dependencies, builds, starts a local nats-server and one
# infermesh node (cluster-config/single-node.yaml, embedded in the binary), classifies the bundled sample
# invoice, reads a rotated ID card (ocr) and extracts its fields, then stops both. With --load, also runs 64
# concurrent classify clients for 10 s and prints what they saw.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

load=false
[ "${1:-}" = "--load" ] && load=true

"$repo/scripts/install-deps.sh"
build release infermesh
bin="$repo/build/release/infermesh"

work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

port=$(free_port)
url="nats://127.0.0.1:$port"
printf 'listen: 127.0.0.1:%s\nmax_payload: 8MB\n' "$port" > "$work/nats.conf"
"$nats_server" -c "$work/nats.conf" > "$work/nats.log" 2>&1 &
pids+=($!)
wait_for_line "$work/nats.log" "Server is ready" 10

# The node runs the embedded default; only its server list is pointed at this demo's nats-server.
"$bin" node --nats "$url" > "$work/node.log" 2>&1 &
node_pid=$!
pids=("$node_pid" "${pids[@]}")
wait_for_line "$work/node.log" "ready: serving" 60
cat "$work/node.log"

echo
echo "\$ infermesh request classify models/samples/invoice-upright.jpg"
"$bin" request classify "$repo/models/samples/invoice-upright.jpg" --nats "$url"

echo
echo "\$ infermesh request ocr models/samples/id-card-rotated-90.jpg"
"$bin" request ocr "$repo/models/samples/id-card-rotated-90.jpg" --nats "$url"

echo
echo "\$ infermesh request extract models/samples/id-card-rotated-90.jpg --doc-type id_card"
"$bin" request extract "$repo/models/samples/id-card-rotated-90.jpg" --doc-type id_card --nats "$url"

if $load; then
  # Without orientation detection (a Tesseract pass per page), this measures the batched classifier path.
  echo
  echo "\$ infermesh load classify models/samples/receipt-upright.jpg --clients 64 --seconds 10 --no-auto-rotate"
  "$bin" load classify "$repo/models/samples/receipt-upright.jpg" --clients 64 --seconds 10 \
    --no-auto-rotate --nats "$url"
fi

kill -TERM "$node_pid"
wait "$node_pid"
echo
tail -n 4 "$work/node.log"
