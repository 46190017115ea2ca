#!/usr/bin/env bash
# The main job end to end on an embedded default: install, build (Release),
# simulate TrackML-like events, build graphs, inspect them, train the
# interaction network on 2 MPI ranks, and evaluate it on unseen events.
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

echo "== 5. evaluate on unseen events"
"$hepgnn" evaluate --checkpoint "$out/train/checkpoints/best.ckpt" --data "$out/test.h5" --out "$out/eval"

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
print(f"outputs in {out}/: train/metrics.jsonl, train/checkpoints/, eval/evaluation.json")
PY
