#!/usr/bin/env bash
# scripts/slurm/train.sbatch on a real one-node SLURM started by this test:
# `sbatch -n 2` and nothing else (2 tasks x 1 cpu), srun --mpi=pmix, a tiny
# model for 2 epochs; the job must
# end COMPLETED with both epochs in metrics.jsonl and a world of 2 ranks.
source "$(dirname "$0")/common.sh"
require_slurm
start_slurm
small_graphs "$WORK/g.h5" 1
cat >"$WORK/cfg.yaml" <<YAML
output_dir: $WORK/run
data: {train: $WORK/g.h5, valid: $WORK/g.h5}
model: {hidden_dim: 32, n_graph_iters: 2}
training: {epochs: 3, batch_edges: 200, log_every: 2}
YAML
out="$WORK/job.out"
cd "$WORK"
# Just -n 2, as a new user types it: the script's own defaults must fit any node.
job=$(HEPGNN="$HEPGNN" sbatch --parsable -n 2 -o "$out" \
    "$HEPGNN_SOURCE_DIR/scripts/slurm/train.sbatch" "$WORK/cfg.yaml" \
    --set model.hidden_dim=16 --set training.epochs=2) || fail "sbatch refused the job"
state=$(wait_job "$job" "$out" 150)
[[ $state == COMPLETED ]] || { dump_job "$job" "$out"; fail "job $job ended $state, not COMPLETED"; }
grep -q "over 2 rank(s)" "$out" || { dump_job "$job" "$out"; fail "log does not show a world of 2 ranks"; }
grep -q "2 task(s) x 1 cpu(s), device cpu" "$out" || { dump_job "$job" "$out"; fail "train.sbatch header missing"; }
"$PYTHON" - "$WORK/run/metrics.jsonl" <<'PY' || { dump_job "$job" "$out"; fail "metrics.jsonl check"; }
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
epochs = sorted(l["epoch"] for l in lines if "train_loss" in l)
assert epochs == [1, 2], f"epoch summaries {epochs}, want [1, 2] (--set after CONFIG must reach hepgnn)"
assert sum("valid_loss" in l for l in lines) == 2, "want 2 validation lines"
PY
[[ -f $WORK/run/checkpoints/last.ckpt ]] || fail "no last.ckpt"
echo "slurm_train: ok (job $job)"
