#!/usr/bin/env bash
# Prints the document models' quality table on pages they never saw: rendered with held-out fonts and seeds,
# three quarters of the classifier set turned by 90/180/270 degrees (classified after orientation correction).
# The models and their preprocessing are those of a node config: the embedded default
# (cluster-config/single-node.yaml) unless --config names another (--node: a node of a cluster file).
#   scripts/evaluate.sh [--pages 1000] [--field-pages 250] [--config FILE [--node NAME]]
# Builds infermesh-evaluate (Release) if needed. Takes ~15 minutes for the defaults on 2 cores.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
pages=1000 field_pages=250 config=()
usage="usage: scripts/evaluate.sh [--pages N] [--field-pages N] [--config FILE [--node NAME]]"
while [ $# -gt 0 ]; do
  case $1 in
    --pages) pages=$2; shift 2 ;;
    --field-pages) field_pages=$2; shift 2 ;;
    --config|--node) config+=("$1" "$2"); shift 2 ;;
    -h|--help) echo "$usage"; exit 0 ;;
    *) echo "$usage" >&2; exit 2 ;;
  esac
done
build release infermesh-evaluate >/dev/null
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
python=/usr/bin/python3
$python "$repo/training/synthetic_documents.py" --out "$work/rotated" --count "$pages" --seed 4242 --fonts heldout --rotate
$python "$repo/training/synthetic_documents.py" --out "$work/clean" --count "$field_pages" --seed 4343 --fonts heldout --clean
tool="$repo/build/release/infermesh-evaluate"
echo; echo "Classifier and orientation: $pages pages, held-out fonts, seed 4242"
"$tool" --docs "$work/rotated" "${config[@]}"
echo; echo "Field extraction: $field_pages clean pages, held-out fonts, seed 4343"
"$tool" --docs "$work/clean" --fields "${config[@]}"
