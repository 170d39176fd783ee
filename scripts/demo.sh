#!/usr/bin/env bash
# The main job on the embedded default: installs dependencies, builds, starts a local nats-server and one
# infermesh node (cluster-config/single-node.yaml, embedded in the binary), classifies the bundled sample
# invoice, reads a rotated ID card (ocr) and extracts its fields, processes a two-page PDF (orient, classify,
# OCR, extract in one round trip), then stops both. With --load, also runs 64
# concurrent classify clients for 10 s and prints what they saw.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

load=false
[ "${1:-}" = "--load" ] && load=true

"$repo/scripts/install-deps.sh"
build release infermesh
bin="$repo/build/release/infermesh"

start_nats

# The node runs the embedded default; only its server list is pointed at this demo's nats-server.
"$bin" node --nats "$url" > "$work/node.log" 2>&1 &
node_pid=$!
pids+=("$node_pid")
wait_for_line "$work/node.log" "ready: serving" 60
cat "$work/node.log"

echo
echo "\$ infermesh request classify samples/invoice-upright.jpg"
"$bin" request classify "$repo/samples/invoice-upright.jpg" --nats "$url"

echo
echo "\$ infermesh request ocr samples/id-card-rotated-90.jpg"
"$bin" request ocr "$repo/samples/id-card-rotated-90.jpg" --nats "$url"

echo
echo "\$ infermesh request extract samples/id-card-rotated-90.jpg --doc-type id_card"
"$bin" request extract "$repo/samples/id-card-rotated-90.jpg" --doc-type id_card --nats "$url"

echo
echo "\$ infermesh request process samples/invoice-and-letter.pdf"
"$bin" request process "$repo/samples/invoice-and-letter.pdf" --nats "$url"

if $load; then
  # Without orientation detection (a Tesseract pass per page), this measures the batched classifier path.
  echo
  echo "\$ infermesh load classify samples/receipt-upright.jpg --clients 64 --seconds 10 --no-auto-rotate"
  "$bin" load classify "$repo/samples/receipt-upright.jpg" --clients 64 --seconds 10 \
    --no-auto-rotate --nats "$url"
fi

kill -TERM "$node_pid"
wait "$node_pid"
echo
tail -n 4 "$work/node.log"
