#!/usr/bin/env bash
# train -> evaluate end to end: reproducibility (bit-identical losses for the
# same config), resume, and clear errors for bad configs, data and checkpoints.
source "$(dirname "$0")/common.sh"

"$HEPGNN" simulate --out "$WORK/ev" --events 6 --particles 1500 --seed 5 >/dev/null 2>&1
"$HEPGNN" prepare --input "$WORK/ev" --out "$WORK/train.h5" --set pt_min=1 --max-events 4 >/dev/null 2>&1
"$HEPGNN" simulate --out "$WORK/ev_valid" --events 2 --particles 1500 --first-event 5000 >/dev/null 2>&1
"$HEPGNN" prepare --input "$WORK/ev_valid" --out "$WORK/valid.h5" --set pt_min=1 >/dev/null 2>&1

cat >"$WORK/cfg.yaml" <<YAML
output_dir: $WORK/run1
data: {train: $WORK/train.h5, valid: $WORK/valid.h5}
model: {hidden_dim: 16, n_graph_iters: 2}
training: {epochs: 2, threads: 2, batch_edges: 2000, log_every: 1}
YAML
"$HEPGNN" train --config "$WORK/cfg.yaml" >/dev/null 2>&1
"$HEPGNN" train --config "$WORK/cfg.yaml" --set output_dir="$WORK/run2" >/dev/null 2>&1
for f in metrics.jsonl checkpoints/last.ckpt checkpoints/best.ckpt config.yaml; do
    [[ -s "$WORK/run1/$f" ]] || fail "missing $f"
done
"$PYTHON" - "$WORK" <<'PY'
import json, sys
w = sys.argv[1]
def lines(run): return [json.loads(l) for l in open(f"{w}/{run}/metrics.jsonl")]
a, b = lines("run1"), lines("run2")
train = [l for l in a if "loss" in l]
assert len(train) >= 4, train
for l in train:
    for k in ("epoch", "step", "loss", "lr", "graphs", "edges", "time_s"):
        assert k in l, (k, l)
valid = [l for l in a if "valid_loss" in l]
assert len(valid) == 2, valid
for k in ("epoch", "valid_loss", "edge_efficiency", "edge_purity", "auc"):
    assert k in valid[0], k
# Same config, same seed: bit-identical losses.
la = [l["loss"] for l in a if "loss" in l]
lb = [l["loss"] for l in b if "loss" in l]
assert la == lb, (la, lb)
assert [l["valid_loss"] for l in valid] == [l["valid_loss"] for l in b if "valid_loss" in l]
PY

# Activation checkpointing recomputes the same function (its backward adds the
# shared weights' gradients in another order: equal to 1e-6, not bit for bit),
# and it sends torch's large blocks to the caching allocator (Note [CPU caching
# allocator]): the losses match run1's, also when graphs are large enough for
# the cache (hidden_dim 64 and one step of all graphs).
"$HEPGNN" train --config "$WORK/cfg.yaml" --set output_dir="$WORK/run_ckpt" \
    --set model.checkpointing=true >"$WORK/ckpt.txt" 2>&1 || { cat "$WORK/ckpt.txt"; fail "checkpointed run"; }
grep -q "train: caching allocator: " "$WORK/ckpt.txt" || { cat "$WORK/ckpt.txt"; fail "no caching allocator"; }
for ck in false true; do
    "$HEPGNN" train --config "$WORK/cfg.yaml" --set output_dir="$WORK/run_big_$ck" --set model.hidden_dim=64 \
        --set training.batch_edges=1000000 --set training.epochs=1 --set model.checkpointing=$ck \
        >"$WORK/big_$ck.txt" 2>&1 || { cat "$WORK/big_$ck.txt"; fail "hidden_dim 64 run, checkpointing $ck"; }
done
grep -Eq "caching allocator: [1-9][0-9]* of [0-9]+ large blocks reused" "$WORK/big_true.txt" ||
    { cat "$WORK/big_true.txt"; fail "the cache reused no block"; }
"$PYTHON" - "$WORK" <<'PY' || fail "checkpointed losses differ"
import json, sys
w = sys.argv[1]
def losses(run):
    return [v for l in map(json.loads, open(f"{w}/{run}/metrics.jsonl"))
            for v in (l.get("loss"), l.get("valid_loss")) if v is not None]
for plain, checkpointed in (("run1", "run_ckpt"), ("run_big_false", "run_big_true")):
    a, b = losses(plain), losses(checkpointed)
    assert len(a) == len(b) > 0 and all(abs(x - y) <= 1e-6 * abs(x) for x, y in zip(a, b)), (a, b)
PY

# Resume: a finished run asked for more epochs continues from last.ckpt.
"$HEPGNN" train --config "$WORK/cfg.yaml" --set training.epochs=3 >"$WORK/resume.txt" 2>&1
grep -q "resumed after epoch 2" "$WORK/resume.txt" || { cat "$WORK/resume.txt"; fail "no resume"; }
[[ $(grep -c '"valid_loss"' "$WORK/run1/metrics.jsonl") -eq 3 ]] || fail "resume did not append epoch 3"

"$HEPGNN" evaluate --checkpoint "$WORK/run1/checkpoints/best.ckpt" --data "$WORK/valid.h5" --out "$WORK/eval" >/dev/null
"$PYTHON" - "$WORK/eval/evaluation.json" <<'PY'
import json, sys
e = json.load(open(sys.argv[1]))
for k in ("n_graphs", "cut", "edge_efficiency", "edge_purity", "auc", "roc", "edge_efficiency_vs_pt"):
    assert k in e, k
assert e["n_graphs"] > 0 and 0 <= e["edge_efficiency"] <= 1 and 0.5 < e["auc"] <= 1, e["auc"]
# The radius bins partition the edges, and their counts add up to the overall figures.
rb = e["edge_metrics_vs_inner_r"]
assert sum(b["edges"] for b in rb) == e["n_edges"], rb
assert sum(b["true_edges"] for b in rb) == e["n_true_edges"], rb
found = sum(round(b["edge_efficiency"] * b["true_edges"]) for b in rb)
assert abs(found / e["n_true_edges"] - e["edge_efficiency"]) < 1e-9, (found, e["edge_efficiency"])
assert abs(found / sum(b["passing_edges"] for b in rb) - e["edge_purity"]) < 1e-9, rb
assert all(b["r_low_mm"] < (b["r_high_mm"] or 1e9) for b in rb), rb
PY
# DESIGN's `evaluate --cut C` sets the edge figures' cut (and track building's);
# without it they stay at 0.5 whatever track building's default cut.
"$HEPGNN" evaluate --checkpoint "$WORK/run1/checkpoints/best.ckpt" --data "$WORK/valid.h5" --out "$WORK/eval_cut" \
    --cut 0.3 >/dev/null || fail "evaluate --cut failed"
"$HEPGNN" evaluate --checkpoint "$WORK/run1/checkpoints/best.ckpt" --data "$WORK/valid.h5" --out "$WORK/eval_edge_cut" \
    --cut 0.3 --edge-cut 0.7 >/dev/null || fail "evaluate --edge-cut failed"
"$PYTHON" - "$WORK/eval/evaluation.json" "$WORK/eval_cut/evaluation.json" "$WORK/eval_edge_cut/evaluation.json" <<'PY' || fail "evaluate's cuts"
import json, sys
default, cut, edge_cut = (json.load(open(p)) for p in sys.argv[1:])
assert (default["cut"], default["track_cut"], default["track_seed_cut"]) == (0.5, 0.2, 0.9), default["cut"]
assert (cut["cut"], cut["track_cut"]) == (0.3, 0.3), (cut["cut"], cut["track_cut"])
assert (edge_cut["cut"], edge_cut["track_cut"]) == (0.7, 0.3), edge_cut["cut"]
assert cut["edge_efficiency"] >= default["edge_efficiency"] >= edge_cut["edge_efficiency"]
assert cut["auc"] == default["auc"]
PY
/usr/bin/python3 "$HEPGNN_SOURCE_DIR/scripts/plot_evaluation.py" "$WORK/eval/evaluation.json" >/dev/null
[[ -s $WORK/eval/edge_metrics_vs_inner_r.png ]] || fail "no edge_metrics_vs_inner_r.png"

# Bad input: one clear line and a non-zero status each.
expect_error "unknown key 'training.epoch'" "$HEPGNN" train --config "$WORK/cfg.yaml" --set training.epoch=3
expect_error "key 'model.hidden_dim' must be an integer" "$HEPGNN" train --config "$WORK/cfg.yaml" --set model.hidden_dim=big
expect_error "is not one of" "$HEPGNN" train --config "$WORK/cfg.yaml" --set model.name=gcn
expect_error "training.precision: bfloat16 needs training.device: cuda" "$HEPGNN" train --config "$WORK/cfg.yaml" --set training.precision=bfloat16 --set output_dir="$WORK/run5"
expect_error "holds a different model (model.hidden_dim 16 vs 32" "$HEPGNN" train --config "$WORK/cfg.yaml" --set model.hidden_dim=32 --set training.epochs=4
echo "garbage" >"$WORK/fake.ckpt"
expect_error "is not a hepgnn checkpoint" "$HEPGNN" evaluate --checkpoint "$WORK/fake.ckpt" --data "$WORK/valid.h5"
expect_error "not an HDF5 file" "$HEPGNN" train --config "$WORK/cfg.yaml" --set data.train="$WORK/fake.ckpt" --set output_dir="$WORK/run3"
# Graphs scaled unlike the training data: validation data and evaluation refuse them.
"$HEPGNN" prepare --input "$WORK/ev_valid" --out "$WORK/valid_scaled.h5" --set pt_min=1 \
    --set "feature_scale=[1000, 0.03927, 100]" >/dev/null 2>&1
expect_error "valid_scaled.h5 holds features r/1000, phi/0.03927, z/100 but the training data" \
    "$HEPGNN" train --config "$WORK/cfg.yaml" --set data.valid="$WORK/valid_scaled.h5" --set output_dir="$WORK/run7"
expect_error "last.ckpt' was trained on features r/1000, phi/0.3926" "$HEPGNN" train --config "$WORK/cfg.yaml" \
    --set data.train="$WORK/valid_scaled.h5" --set data.valid="$WORK/valid_scaled.h5" --set training.epochs=4
expect_error "best.ckpt' was trained on features r/1000, phi/0.3926" \
    "$HEPGNN" evaluate --checkpoint "$WORK/run1/checkpoints/best.ckpt" --data "$WORK/valid_scaled.h5" --out "$WORK/eval_bad"
# A data error on one rank stops both ranks with that rank's message.
rc=0; mpi 2 "$HEPGNN" train --config "$WORK/cfg.yaml" --set data.valid="$WORK/fake.ckpt" --set output_dir="$WORK/run4" >/dev/null 2>"$WORK/err.txt" || rc=$?
[[ $rc -ne 0 ]] || fail "2-rank train accepted a bad validation file"
grep -q "not an HDF5 file" "$WORK/err.txt" || { cat "$WORK/err.txt"; fail "2-rank error message"; }
# One rank failing alone (a corrupt graph in its shard only) stops both ranks
# with that rank's message, quickly and without a hang.
cp "$WORK/train.h5" "$WORK/corrupt.h5"
"$PYTHON" - "$WORK/corrupt.h5" <<'PY'
import sys, h5py
with h5py.File(sys.argv[1], "r+") as f:
    e0 = int(f["edge_offsets"][5]); n = int(f["node_offsets"][6] - f["node_offsets"][5])
    f["receivers"][e0] = n + 3   # graph 5: a node index outside the graph
PY
rc=0; timeout 120 "$MPIEXEC" --allow-run-as-root --oversubscribe --bind-to none -np 2 "$HEPGNN" train --config "$WORK/cfg.yaml" \
    --set data.train="$WORK/corrupt.h5" --set output_dir="$WORK/run5" >/dev/null 2>"$WORK/err.txt" || rc=$?
[[ $rc -ne 0 && $rc -ne 124 ]] || { cat "$WORK/err.txt"; fail "corrupt shard: status $rc (124 = hang)"; }
grep -q "rank [01]: .*dataset 'receivers', graph 5" "$WORK/err.txt" || { cat "$WORK/err.txt"; fail "corrupt shard message"; }
# NCCL without a GPU: a clear error, not a crash.
expect_error "need a GPU" "$HEPGNN" train --config "$WORK/cfg.yaml" --set distributed.backend=nccl --set output_dir="$WORK/run6"
echo "train_evaluate: ok"
