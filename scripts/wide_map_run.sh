#!/usr/bin/env bash
# README's "trained model on the wider graphs": the demo's events (run scripts/demo.sh first)
# with a module map learned down to pT MAP_PT_MIN (0.2) GeV with max_segment_loss MAP_LOSS
# (0.03: ~1.3M edges a 10k-particle event), graphs with the triplet filter when TRIPLETS=1
# (Note [Triplet filter]; e.g. MAP_PT_MIN=0.1 MAP_LOSS=0.06 TRIPLETS=1: ~1.0M edges),
# configs/full.yaml with true_low_pt LOW_PT_WEIGHT (0.5), EPOCHS (6) epochs on 2 ranks with
# training seed SEED (1), then infer + score on the demo's test events and the graphs' ceiling.
# Output in OUT (out/wide).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [[ ${1:-} == -h || ${1:-} == --help ]]; then sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'; exit 0; fi
cd "$here"
[[ -d out/demo/events/test ]] || { echo "wide_map_run.sh: run scripts/demo.sh first (it makes out/demo/events)" >&2; exit 1; }
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
W="${OUT:-out/wide}"; rm -rf "$W"; mkdir -p "$W"
h=build/bin/hepgnn
mp() { mpirun --oversubscribe --bind-to none -np "$@"; }
$h modulemap --input out/demo/events/train --out $W/modulemap.json --set geometry=trackml_like \
   --set pt_min="${MAP_PT_MIN:-0.2}" --set max_segment_loss="${MAP_LOSS:-0.03}"
full=(--config configs/prepare_full.yaml --set module_map=$W/modulemap.json)
[[ ${TRIPLETS:-0} == 1 ]] && full+=(--set triplet_filter=true)
for s in train valid; do mp 2 $h prepare --input out/demo/events/$s --out $W/$s.h5 "${full[@]}"; done
mp 2 $h train --config configs/full.yaml --set output_dir=$W/train --set data.train=$W/train.h5 --set data.valid=$W/valid.h5 \
   --set training.epochs="${EPOCHS:-6}" --set training.seed="${SEED:-1}" --set training.threads=1 --set training.edge_weights.true_low_pt="${LOW_PT_WEIGHT:-0.5}"
mp 2 $h infer --model $W/train/checkpoints/best.ckpt --input out/demo/events/test --out $W/submissions "${full[@]}" --threads 1
$h score --input out/demo/events/test --submissions $W/submissions --out $W/score.json --track-id-0 unassigned
mp 2 $h evaluate --perfect-edges --events out/demo/events/test "${full[@]}" --out $W/ceiling
