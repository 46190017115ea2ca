#!/usr/bin/env bash
# The main job end to end, hits in and tracks out, on an embedded default:
# install, build (Release), simulate TrackML-like events, learn the module
# map, build whole-detector graphs from every hit, inspect them, train the
# interaction network on 2 MPI ranks, evaluate it on unseen events (edge
# metrics and PNG plots), export it to TorchScript and ONNX, run `infer` on
# fresh events (hits only) and score its submissions with `hepgnn score`, the
# TrackML metric over every hit, beside the ceiling of the graphs (the score
# of perfect edge scores through the same track building).
# Outputs go to out/demo/. Env: DEMO_EVENTS (training events, default 32),
# DEMO_PARTICLES (per event, default 10000), DEMO_EPOCHS (default 8),
# DEMO_RANKS (default 2).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
"$here/scripts/install-deps.sh"
"$here/scripts/build.sh" >/dev/null
hepgnn="$here/build/bin/hepgnn"
out="$here/out/demo"
events="${DEMO_EVENTS:-32}"
particles="${DEMO_PARTICLES:-10000}"
epochs="${DEMO_EPOCHS:-8}"
ranks="${DEMO_RANKS:-2}"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
mpirun_np() { mpirun --oversubscribe --bind-to none -np "$@"; }
rm -rf "$out"
mkdir -p "$out"
start=$SECONDS

echo "== 1. simulate: TrackML-format events ($particles particles each)"
"$hepgnn" simulate --out "$out/events/train" --events "$events" --particles "$particles" --first-event 1000
"$hepgnn" simulate --out "$out/events/valid" --events 3 --particles "$particles" --first-event 2000
"$hepgnn" simulate --out "$out/events/test" --events 5 --particles "$particles" --first-event 3000

echo "== 2. modulemap: layer pairs and cut ranges from the training events' truth"
"$hepgnn" modulemap --input "$out/events/train" --out "$out/modulemap.json" --set geometry=trackml_like

echo "== 3. prepare: whole-detector graphs from every hit (HDF5), on $ranks MPI ranks"
full=(--config configs/prepare_full.yaml --set module_map="$out/modulemap.json")
for split in train valid; do
    mpirun_np "$ranks" "$hepgnn" prepare --input "$out/events/$split" --out "$out/$split.h5" "${full[@]}"
done

echo "== 4. inspect"
"$hepgnn" inspect "$out/train.h5" --bins 5

echo "== 5. train: configs/full.yaml on $ranks MPI ranks, $epochs epochs"
mpirun_np "$ranks" "$hepgnn" train --config configs/full.yaml --set output_dir="$out/train" \
    --set data.train="$out/train.h5" --set data.valid="$out/valid.h5" \
    --set training.epochs="$epochs" --set training.threads=1

echo "== 6. evaluate on unseen events: edges, and tracks over every hit"
mpirun_np "$ranks" "$hepgnn" evaluate --checkpoint "$out/train/checkpoints/best.ckpt" \
    --events "$out/events/test" "${full[@]}" --out "$out/eval" --threads 1
/usr/bin/python3 scripts/plot_evaluation.py "$out/eval/evaluation.json" --out "$out/eval"

echo "== 7. export: TorchScript and ONNX"
"$hepgnn" export --checkpoint "$out/train/checkpoints/best.ckpt" --format torchscript --out "$out/model.pt"
"$hepgnn" export --checkpoint "$out/train/checkpoints/best.ckpt" --format onnx --out "$out/model.onnx"

echo "== 8. infer: hits of fresh events -> track candidates (TrackML submissions), then score them"
mpirun_np "$ranks" "$hepgnn" infer --model "$out/model.pt" --input "$out/events/test" \
    --out "$out/submissions" "${full[@]}" --threads 1
"$hepgnn" score --input "$out/events/test" --submissions "$out/submissions" \
    --out "$out/score.json" --track-id-0 unassigned
echo "== 9. the graphs' ceiling: perfect edge scores through the same track building"
mpirun_np "$ranks" "$hepgnn" evaluate --perfect-edges --events "$out/events/test" "${full[@]}" \
    --out "$out/ceiling"

echo "== summary"
/usr/bin/python3 - "$out" "$((SECONDS - start))" <<'PY'
import json, sys
out, seconds = sys.argv[1], int(sys.argv[2])
e = json.load(open(f"{out}/eval/evaluation.json"))
s = json.load(open(f"{out}/score.json"))
c = json.load(open(f"{out}/ceiling/evaluation.json"))
lines = [json.loads(l) for l in open(f"{out}/train/metrics.jsonl")]
epochs = [l for l in lines if "epoch_time_s" in l]
print(f"trained {len(epochs)} epochs, {sum(l['epoch_time_s'] for l in epochs):.0f} s in total")
print(f"test edges: efficiency {e['edge_efficiency']:.4f}, purity {e['edge_purity']:.4f}, "
      f"AUC {e['auc']:.4f} at cut {e['cut']}")
print(f"infer + score on {s['n_events']} fresh events, over every hit and particle: "
      f"TrackML score {s['trackml_score']:.4f} (ceiling of these graphs: {c['trackml_score']:.4f}); "
      f"pT > 1 GeV: efficiency {s['track_efficiency']:.4f} (ceiling {c['track_efficiency']:.4f}), "
      f"fake rate {s['fake_rate']:.4f}, duplicate rate {s['duplicate_rate']:.4f}; "
      f"pT > 0.5 GeV: efficiency {s['pt_0.5']['track_efficiency']:.4f}")
print(f"demo: {seconds / 60:.1f} min; outputs in {out}/: train/, eval/ (evaluation.json, *.png), "
      "model.pt, model.onnx, submissions/, score.json, ceiling/")
PY
