#!/usr/bin/env bash
# Preemption under a real SLURM: SIGUSR1 to the batch shell of a running
# scripts/slurm/train.sbatch job (what --signal=B:USR1@120 does before the
# time limit) must make hepgnn checkpoint and exit 75, the script requeue the
# job, and the second run resume from last.ckpt, finish COMPLETED, and end with
# parameters bit-identical to an uninterrupted job's.
# On the one-node cluster, 2 tasks on it; with HEPGNN_CLUSTER=virtual
# (multinode.sh), on 2 hosts of a virtual cluster, one task each.
source "$(dirname "$0")/common.sh"
require_slurm
if [[ ${HEPGNN_CLUSTER:-local} == virtual ]]; then
    export VC_SUBNET="${VC_SUBNET:-78}"  # beside multinode.sh's own cluster
    start_virtual_cluster 2
    shape=(-N 2 -n 2)
else
    start_slurm
    shape=(-n 2 --ntasks-per-node=2 -c 1)
fi
small_graphs "$WORK/g.h5" 1
epochs=40  # ~0.4 s each on 2 ranks here: mid-run when the signal comes
cat >"$WORK/cfg.yaml" <<YAML
output_dir: $WORK/run
data: {train: $WORK/g.h5, valid: $WORK/g.h5}
model: {hidden_dim: 32, n_graph_iters: 4}
training: {epochs: $epochs, batch_edges: 100, log_every: 5, resume: auto}
YAML
cd "$WORK"
# The reference: the same job, never interrupted.
ref=$(HEPGNN="$HEPGNN" sbatch --parsable "${shape[@]}" --time=5 -o "$WORK/ref.out" \
    "$HEPGNN_SOURCE_DIR/scripts/slurm/train.sbatch" "$WORK/cfg.yaml" --set output_dir="$WORK/ref") ||
    fail "sbatch refused the reference job"
state=$(wait_job "$ref" "$WORK/ref.out" 150)
[[ $state == COMPLETED ]] || { dump_job "$ref" "$WORK/ref.out"; fail "reference job ended $state"; }
wait_nodes_free  # COMPLETING can take a moment

out="$WORK/job.out"
job=$(HEPGNN="$HEPGNN" sbatch --parsable "${shape[@]}" --time=5 -o "$out" \
    "$HEPGNN_SOURCE_DIR/scripts/slurm/train.sbatch" "$WORK/cfg.yaml") || fail "sbatch refused the job"

# Signal once the first epoch is done (the run is under way, not starting up).
# (Generous: on a loaded 2-core machine two clusters and their jobs share the cores.)
deadline=$((SECONDS + 180))
until grep -q "^epoch 1/$epochs: loss" "$out" 2>/dev/null; do
    ((SECONDS < deadline)) || { dump_job "$job" "$out"; fail "no epoch finished within 180 s"; }
    [[ $(job_field "$job" JobState) =~ ^(PENDING|RUNNING|CONFIGURING)$ ]] ||
        { dump_job "$job" "$out"; fail "job ended before the first epoch"; }
    sleep 0.2
done
scancel --signal=USR1 --batch "$job" || fail "scancel --signal=USR1 --batch $job failed"

state=$(wait_job "$job" "$out" 150)
[[ $state == COMPLETED ]] || { dump_job "$job" "$out"; fail "job $job ended $state, not COMPLETED"; }
restarts=$(job_field "$job" Restarts)
[[ $restarts == 1 ]] || { dump_job "$job" "$out"; fail "Restarts=$restarts, want 1"; }
grep -q "train: preempted by" "$out" || { dump_job "$job" "$out"; fail "no 'train: preempted by' line"; }
grep -q "status 75); requeueing job $job" "$out" || { dump_job "$job" "$out"; fail "train.sbatch did not requeue"; }
[[ $(grep -c "^train.sbatch: job $job (restart" "$out") == 2 ]] || { dump_job "$job" "$out"; fail "want two starts in the log"; }
grep -q "(restart 1)" "$out" || { dump_job "$job" "$out"; fail "no restart 1 in the log"; }
grep -qi "resum" "$out" || { dump_job "$job" "$out"; fail "second run did not say it resumed"; }
grep -q "^epoch $epochs/$epochs: loss" "$out" || { dump_job "$job" "$out"; fail "final epoch missing from the log"; }
"$PYTHON" - "$WORK/run/metrics.jsonl" "$epochs" <<'PY' || { dump_job "$job" "$out"; fail "metrics.jsonl check"; }
import json, sys
n = int(sys.argv[2])
lines = [json.loads(l) for l in open(sys.argv[1])]
epochs = [l["epoch"] for l in lines if "train_loss" in l]
# Every epoch once, in order: the resumed run continues, it does not restart.
assert epochs == list(range(1, n + 1)), f"epoch summaries {epochs}"
steps = [l["step"] for l in lines if "loss" in l]
assert steps == sorted(steps), f"training steps not increasing: {steps}"
PY
"$PYTHON" "$TESTS_DIR/compare_checkpoints.py" "$WORK/ref/checkpoints/last.ckpt" \
    "$WORK/run/checkpoints/last.ckpt" || fail "the requeued job differs from the uninterrupted one"
echo "slurm_requeue: ok (job $job, ${shape[*]})"
