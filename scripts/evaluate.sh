#!/usr/bin/env bash
# Prints the document models' quality table on pages they never saw: rendered with held-out fonts and seeds,
# a quarter of the classifier set rotated by 90/180/270 degrees (classified after orientation correction).
#   scripts/evaluate.sh [--pages 1000] [--field-pages 250]
# Builds infermesh-evaluate (Release) if needed. Takes ~15 minutes for the defaults on 2 cores.
set -euo pipefail
source "$(dirname "$0")/../scripts/lib.sh"
pages=1000 field_pages=250
while [ $# -gt 0 ]; do
  case $1 in
    --pages) pages=$2; shift 2 ;;
    --field-pages) field_pages=$2; shift 2 ;;
    *) echo "usage: scripts/evaluate.sh [--pages N] [--field-pages N]" >&2; exit 2 ;;
  esac
done
build release infermesh-evaluate >/dev/null
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
python=/usr/bin/python3
$python "$repo/training/synthetic_documents.py" --out "$work/rotated" --count "$pages" --seed 4242 --fonts heldout --rotate
$python "$repo/training/synthetic_documents.py" --out "$work/clean" --count "$field_pages" --seed 4343 --fonts heldout --clean
tool="$repo/build/release/infermesh-evaluate"
echo; echo "Classifier and orientation: $pages pages, held-out fonts, seed 4242"
orientation=(--orientation-model "$repo/model-repository/orientation-classifier/model.pt"
  --orientation-labels "$repo/model-repository/orientation-classifier/labels.txt" --orientation-size 224)
"$tool" --docs "$work/rotated" --model "$repo/model-repository/document-classifier/model.pt" \
  --labels "$repo/model-repository/document-classifier/labels.txt" --size 160 "${orientation[@]}" 2>/dev/null
echo; echo "Field extraction: $field_pages clean pages, held-out fonts, seed 4343"
"$tool" --docs "$work/clean" --fields "${orientation[@]}" 2>/dev/null
