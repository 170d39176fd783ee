#!/usr/bin/env bash
# Leave-one-renderer-out for the document classifier or the orientation model (issue 15): for each renderer R
# of pil, reportlab, groff, train on the other two renderers' pages (plus a few of synthetic_documents.py's,
# starting from the bundled model's weights) and measure R's held-out pages through infermesh-evaluate on the
# embedded default config with only that model replaced. Everything runs under nice -n 15 (a shared machine).
#   training/leave_one_renderer_out.sh WORK [--model classifier|orientation] [--train-count 600]
#                                           [--eval-count 1000] [--epochs 5] [--generator-per-class 40]
#                                           [--init model.pt] [--only R]
# --model orientation trains training/train_orientation_classifier.py on every page in all four turns (with
# 5 x --generator-per-class synthetic_documents.py pages) and writes models/orientation-without-R/.
# WORK gets train-R/ and eval-R/ (render_documents.py, seeds 7001-7002 and 9001-9004, one process each), models/without-R/ and
# results/without-R.md. Renders the sets it does not find. A run renders synthetic_documents.py pages itself
# (--generator-per-class per type, plus 20 per type in held-out fonts); on 2 cores shared with three builds a run
# took over 20 min niced.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
work=$1; shift
train_count=600 eval_count=1000 epochs=5 generator_per_class=40 only="" init="" model=classifier
while [ $# -gt 0 ]; do
  case $1 in
    --train-count) train_count=$2; shift 2 ;;
    --eval-count) eval_count=$2; shift 2 ;;
    --epochs) epochs=$2; shift 2 ;;
    --generator-per-class) generator_per_class=$2; shift 2 ;;
    --only) only=$2; shift 2 ;;
    --init) init=$2; shift 2 ;;
    --model) model=$2; shift 2 ;;
    *) echo "usage: $0 WORK [--model classifier|orientation] [--train-count N] [--eval-count N] [--epochs N] [--generator-per-class N] [--init FILE] [--only RENDERER]" >&2; exit 2 ;;
  esac
done
case $model in
  classifier) folder=document-classifier ;;
  orientation) folder=orientation-classifier ;;
  *) echo "$0: --model is classifier or orientation, not '$model'" >&2; exit 2 ;;
esac
init=${init:-$repo/model-repository/$folder/model.pt}
renderers=(pil reportlab groff)
python="nice -n 15 /usr/bin/python3"
mkdir -p "$work/models" "$work/results"
# render RENDERER OUT COUNT SEED SHARDS [--rotate]: SHARDS processes at once (a niced process gets little of a
# busy machine; several get more), seeds SEED..SEED+SHARDS-1 into OUT/sK/, one OUT/truth.jsonl naming sK/....
render() {
  local r=$1 out=$2 count=$3 seed=$4 shards=$5; shift 5
  local per=$(( (count + shards - 1) / shards )) pids=() k
  for k in $(seq 0 $((shards - 1))); do
    $python "$repo/training/render_documents.py" --renderer "$r" --out "$out/s$k" --count "$per" --seed $((seed + k)) "$@" >/dev/null &
    pids+=($!)
  done
  for k in "${pids[@]}"; do wait "$k"; done
  : > "$out/truth.jsonl.part"
  for k in $(seq 0 $((shards - 1))); do sed "s|\"file\": \"|\"file\": \"s$k/|" "$out/s$k/truth.jsonl" >> "$out/truth.jsonl.part"; done
  mv "$out/truth.jsonl.part" "$out/truth.jsonl"
}
# the sets the chosen runs need: every renderer's training pages but the only one held out, the held-out eval pages
for r in "${renderers[@]}"; do
  [ -n "$only" ] && [ "$only" = "$r" ] || [ -f "$work/train-$r/truth.jsonl" ] || render "$r" "$work/train-$r" "$train_count" 7001 2
  [ -z "$only" ] || [ "$only" = "$r" ] || continue
  [ -f "$work/eval-$r/truth.jsonl" ] || render "$r" "$work/eval-$r" "$eval_count" 9001 4 --rotate
done
[ -x "$repo/build/release/infermesh-evaluate" ] || (cd "$repo" && nice -n 15 cmake --build --preset release -j1 --target infermesh-evaluate)
for held in "${renderers[@]}"; do
  [ -z "$only" ] || [ "$only" = "$held" ] || continue
  docs=()
  for r in "${renderers[@]}"; do [ "$r" = "$held" ] || docs+=("$work/train-$r"); done
  if [ "$model" = classifier ]; then
    out="$work/models/without-$held"
    $python "$repo/training/train_document_classifier.py" --out "$out" --docs "${docs[@]}" --heldout-docs "$work/eval-$held" \
      --init "$init" --per-class "$generator_per_class" --heldout-per-class 20 --epochs "$epochs"
  else
    out="$work/models/orientation-without-$held"
    $python "$repo/training/train_orientation_classifier.py" --out "$out" --docs "${docs[@]}" --heldout-docs "$work/eval-$held" \
      --init "$init" --pages $((5 * generator_per_class)) --heldout-pages 100 --epochs "$epochs"
  fi
  # the embedded default config with only that model replaced
  sed -e "s|\.\./model-repository/$folder/|$out/|" -e "s|\.\./model-repository/|$repo/model-repository/|" \
    "$repo/cluster-config/single-node.yaml" > "$out/node.yaml"
  nice -n 15 "$repo/build/release/infermesh-evaluate" --docs "$work/eval-$held" --config "$out/node.yaml" | tee "$work/results/$(basename "$out").md"
done
