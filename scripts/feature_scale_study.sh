#!/usr/bin/env bash
# Reproduces the feature-scale tables in README: the demo's events prepared
# with several `feature_scale` settings (and any other prepare keys), each
# trained for EPOCHS epochs on 2 ranks and evaluated on the unseen test
# events. Needs the events of scripts/demo.sh (out/demo/events).
#
# Usage: scripts/feature_scale_study.sh ["prepare overrides" ...]
#   each argument is one variant: space-separated key=value prepare overrides;
#   "" is configs/prepare_demo.yaml as it is. Without arguments: HEP.TrkX's
#   scales against the demo's.
# Env: EPOCHS (default 12), OUT (default out/feature_scale_study), RANKS (2),
#   PREPARE_CONFIG (configs/prepare_demo.yaml), TRAIN_CONFIG (configs/demo.yaml),
#   TRAIN_SETS (more train overrides, space-separated key=value),
#   MAX_EVENTS (events per split, 0 = all).
# Example: scripts/feature_scale_study.sh "feature_scale=[1000,0.3926991,1000]" \
#              "feature_scale=[1000,0.0392699,100]"
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
hepgnn="$here/build/bin/hepgnn"
events="$here/out/demo/events"
out="${OUT:-$here/out/feature_scale_study}"
epochs="${EPOCHS:-12}"
ranks="${RANKS:-2}"
prepare_config="${PREPARE_CONFIG:-configs/prepare_demo.yaml}"
train_config="${TRAIN_CONFIG:-configs/demo.yaml}"
max_events="${MAX_EVENTS:-0}"
train_sets=()
for kv in ${TRAIN_SETS:-}; do train_sets+=(--set "$kv"); done
[[ -x $hepgnn ]] || { echo "feature_scale_study: build first (scripts/build.sh)" >&2; exit 1; }
[[ -d $events/train && -d $events/valid && -d $events/test ]] ||
    { echo "feature_scale_study: no events in $events; run scripts/demo.sh first" >&2; exit 1; }
(($# > 0)) || set -- "feature_scale=[1000,0.3926991,1000]" "feature_scale=[1000,0.0392699,100]"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
mpirun_np() { mpirun --oversubscribe --bind-to none -np "$ranks" "$@"; }
mkdir -p "$out"

k=0
for variant in "$@"; do
    k=$((k + 1))
    dir="$out/variant$k"
    rm -rf "$dir"
    mkdir -p "$dir"
    sets=()
    for kv in $variant; do sets+=(--set "$kv"); done
    echo "== variant $k: ${variant:-$prepare_config as is}"
    for split in train valid test; do
        mpirun_np "$hepgnn" prepare --input "$events/$split" --out "$dir/$split.h5" \
            --config "$prepare_config" --max-events "$max_events" "${sets[@]}" >>"$dir/prepare.log" 2>&1
    done
    mpirun_np "$hepgnn" train --config "$train_config" --set training.threads=1 \
        --set output_dir="$dir/train" --set data.train="$dir/train.h5" \
        --set data.valid="$dir/valid.h5" --set training.epochs="$epochs" "${train_sets[@]}" \
        >"$dir/train.log" 2>&1
    "$hepgnn" evaluate --checkpoint "$dir/train/checkpoints/best.ckpt" --data "$dir/test.h5" \
        --out "$dir/eval" >"$dir/eval.log" 2>&1
    echo "$variant" >"$dir/variant.txt"
done

/usr/bin/python3 - "$out" "$k" <<'PY'
import json, sys
out, n = sys.argv[1], int(sys.argv[2])
print(f"| variant | prepare overrides | best valid loss | test edge efficiency | test edge purity | innermost pair (eff / pur) |")
print("|---|---|---|---|---|---|")
for k in range(1, n + 1):
    d = f"{out}/variant{k}"
    v = [json.loads(l) for l in open(f"{d}/train/metrics.jsonl") if "valid_loss" in l]
    e = json.load(open(f"{d}/eval/evaluation.json"))
    inner = e["edge_metrics_vs_inner_r"][0]
    name = open(f"{d}/variant.txt").read().strip() or "(as configured)"
    print(f"| {k} | {name} | {min(x['valid_loss'] for x in v):.4f} | {e['edge_efficiency']:.4f} | "
          f"{e['edge_purity']:.4f} | {inner['edge_efficiency']:.3f} / {inner['edge_purity']:.3f} |")
PY
