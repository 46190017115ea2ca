#!/usr/bin/env bash
# The main job end to end on an embedded default: install, build (Release),
# simulate TrackML-like events, build graphs, inspect them, train the
# interaction network on 2 MPI ranks, evaluate edges and tracks on unseen
# events (with PNG plots), export the model to TorchScript and ONNX, and run
# inference (hits -> tracks) on a freshly simulated event.
# Outputs go to out/demo/. Env: DEMO_EVENTS (training events, default 90),
# DEMO_PARTICLES (per event, default 10000), DEMO_RANKS (default 2).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
"$here/scripts/install-deps.sh"
"$here/scripts/build.sh" >/dev/null
hepgnn="$here/build/bin/hepgnn"
out="$here/out/demo"
events="${DEMO_EVENTS:-90}"
particles="${DEMO_PARTICLES:-10000}"
ranks="${DEMO_RANKS:-2}"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
mpirun_np() { mpirun --oversubscribe --bind-to none -np "$@"; }
mkdir -p "$out"

echo "== 1. simulate: TrackML-format events ($particles particles each)"
"$hepgnn" simulate --out "$out/events/train" --events "$events" --particles "$particles" --first-event 1000
"$hepgnn" simulate --out "$out/events/valid" --events 10 --particles "$particles" --first-event 2000
"$hepgnn" simulate --out "$out/events/test" --events 10 --particles "$particles" --first-event 3000

echo "== 2. prepare: event graphs (HDF5), on $ranks MPI ranks"
for split in train valid test; do
    mpirun_np "$ranks" "$hepgnn" prepare --input "$out/events/$split" --out "$out/$split.h5" \
        --config configs/prepare_demo.yaml
done

echo "== 3. inspect"
"$hepgnn" inspect "$out/train.h5"

echo "== 4. train: configs/demo.yaml on $ranks MPI ranks"
rm -rf "$out/train"
mpirun_np "$ranks" "$hepgnn" train --config configs/demo.yaml --set training.threads=1

echo "== 5. evaluate edges and tracks on unseen events"
"$hepgnn" evaluate --checkpoint "$out/train/checkpoints/best.ckpt" --data "$out/test.h5" --out "$out/eval"
/usr/bin/python3 scripts/plot_evaluation.py "$out/eval/evaluation.json" --out "$out/eval"

echo "== 6. export: TorchScript and ONNX"
"$hepgnn" export --checkpoint "$out/train/checkpoints/best.ckpt" --format torchscript --out "$out/model.pt"
"$hepgnn" export --checkpoint "$out/train/checkpoints/best.ckpt" --format onnx --out "$out/model.onnx"

echo "== 7. infer: hits of a fresh event -> track candidates (TrackML submission)"
rm -rf "$out/events/fresh" "$out/infer"
"$hepgnn" simulate --out "$out/events/fresh" --events 1 --particles "$particles" --first-event 9000
"$hepgnn" infer --model "$out/model.pt" --input "$out/events/fresh" --out "$out/infer" \
    --config configs/prepare_demo.yaml

echo "== summary"
/usr/bin/python3 - "$out" <<'PY'
import json, sys
out = sys.argv[1]
e = json.load(open(f"{out}/eval/evaluation.json"))
lines = [json.loads(l) for l in open(f"{out}/train/metrics.jsonl")]
epochs = [l for l in lines if "epoch_time_s" in l]
print(f"trained {len(epochs)} epochs, {sum(l['epoch_time_s'] for l in epochs):.0f} s in total")
print(f"test: {e['n_graphs']} graphs, edge efficiency {e['edge_efficiency']:.4f}, "
      f"purity {e['edge_purity']:.4f}, AUC {e['auc']:.4f} at cut {e['cut']}")
print(f"tracks (pT > {e['track_pt_min']} GeV, {e['track_method']}): efficiency {e['track_efficiency']:.4f}, "
      f"fake rate {e['fake_rate']:.4f}, duplicate rate {e['duplicate_rate']:.4f}, TrackML score {e['trackml_score']:.4f}")
print(f"outputs in {out}/: train/ (metrics.jsonl, checkpoints/), eval/ (evaluation.json, *.png), "
      "model.pt, model.onnx, infer/ (submission CSV, timing.json)")
PY
