#!/usr/bin/env bash
# Preemption (issue #6): SIGUSR1 to ONE rank of a 2-rank run stops both at the
# same step with exit status 75 and a mid-epoch checkpoint; resuming it ends
# with parameters, RNG state and losses bit-identical to an uninterrupted run.
source "$(dirname "$0")/common.sh"

small_graphs "$WORK/train.h5" 9
# Long enough (~240 steps) that the signal lands before the end: 6 epochs took
# 0.4 s and sometimes finished between the check below and the kill.
epochs=40
cat >"$WORK/cfg.yaml" <<YAML
output_dir: $WORK/reference
data: {train: $WORK/train.h5}
model: {hidden_dim: 16, n_graph_iters: 2}
training: {epochs: $epochs, threads: 1, batch_edges: 300, log_every: 1}
YAML
mpi 2 "$HEPGNN" train --config "$WORK/cfg.yaml" >"$WORK/reference.txt" 2>&1 \
    || { cat "$WORK/reference.txt"; fail "uninterrupted run failed"; }

# The interrupted run: signal rank 1 only, once it has taken a few steps.
out="$WORK/interrupted"
mpi 2 "$HEPGNN" train --config "$WORK/cfg.yaml" --set output_dir="$out" >"$WORK/first.txt" 2>&1 &
launcher=$!
for _ in $(seq 600); do
    [[ -f "$out/metrics.jsonl" && $(grep -c '"loss"' "$out/metrics.jsonl") -ge 3 ]] && break
    sleep 0.05
done
rank1=""
for pid in $(pgrep -P "$launcher" -f "hepgnn train" || true) $(pgrep -f "output_dir=$out" || true); do
    [[ -r /proc/$pid/environ ]] || continue
    if tr '\0' '\n' <"/proc/$pid/environ" | grep -qx OMPI_COMM_WORLD_RANK=1; then rank1=$pid; fi
done
[[ -n "$rank1" ]] || { cat "$WORK/first.txt"; fail "could not find rank 1 (finished too early?)"; }
kill -USR1 "$rank1"
rc=0
wait "$launcher" || rc=$?
[[ $rc -eq 75 ]] || { cat "$WORK/first.txt"; fail "preempted run exited with $rc, expected 75"; }
grep -q "preempted by SIGUSR1 at epoch" "$WORK/first.txt" || { cat "$WORK/first.txt"; fail "no preemption line"; }
[[ $(grep -c '"valid_loss"\|"train_loss"' "$out/metrics.jsonl") -lt $epochs ]] || fail "the run was not interrupted"

mpi 2 "$HEPGNN" train --config "$WORK/cfg.yaml" --set output_dir="$out" >"$WORK/second.txt" 2>&1 \
    || { cat "$WORK/second.txt"; fail "resumed run failed"; }
grep -q "resumed" "$WORK/second.txt" || { cat "$WORK/second.txt"; fail "did not resume"; }

# Bit for bit: every model parameter and the RNG state of the final checkpoints
# (Adam's moments are keyed by address in the archive; the loss lines below
# show they matched too).
"$PYTHON" "$TESTS_DIR/compare_checkpoints.py" --min-tensors 30 \
    "$WORK/reference/checkpoints/last.ckpt" "$out/checkpoints/last.ckpt" || fail "resumed run differs"
# The loss lines agree too (the resumed run continues the running sums).
"$PYTHON" - "$WORK/reference/metrics.jsonl" "$out/metrics.jsonl" <<'PY'
import json, sys
a, b = ([json.loads(l) for l in open(p)] for p in sys.argv[1:3])
pick = lambda ls: [(l["step"], l["loss"]) for l in ls if "loss" in l] + [l["train_loss"] for l in ls if "train_loss" in l]
assert pick(a) == pick(b), (pick(a), pick(b))
PY
echo "preempt_resume: OK"
