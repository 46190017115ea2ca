#!/usr/bin/env bash
# A hung rank (issue #16, Note [Collective deadlines]): rank 1 of a 2-rank
# training run is SIGSTOPped.
#  * Stopped for good: the stall report names rank 1 after
#    distributed.stall_warning_s, and the job ends non-zero within
#    distributed.timeout_s (30 s here) + 10 s, with one line naming rank 1;
#    last.ckpt still loads.
#  * Stopped for a while, then continued: the stall report names rank 1, and
#    the run finishes normally.
source "$(dirname "$0")/common.sh"

small_graphs "$WORK/train.h5" 3
cat >"$WORK/cfg.yaml" <<YAML
output_dir: $WORK/run
data: {train: $WORK/train.h5}
model: {hidden_dim: 16, n_graph_iters: 2}
training: {epochs: 100000, threads: 1, batch_edges: 300}
distributed: {timeout_s: 30, stall_warning_s: 5}
YAML

# --- stopped for good
mpi 2 "$HEPGNN" train --config "$WORK/cfg.yaml" >"$WORK/log.txt" 2>&1 &
launcher=$!
wait_for_line "^epoch 3/" "$WORK/log.txt" 60
victim=$(rank_pid 1 "$WORK/cfg.yaml")
[[ -n "$victim" ]] || fail "could not find rank 1"
kill -STOP "$victim"
wait_launcher 120 "$launcher" "$victim"
kill -9 "$victim" 2>/dev/null || true
[[ $RC -ne 0 ]] || fail "the job exited 0 with a stopped rank"
[[ $ELAPSED -le 40 ]] || { cat "$WORK/log.txt"; fail "the job took ${ELAPSED} s to end (deadline 30 s + 10 s)"; }
grep -q "rank 0: collective #[0-9]* (.*) has waited [0-9.]* s for rank(s) 1 " "$WORK/log.txt" ||
    { cat "$WORK/log.txt"; fail "no stall report naming rank 1"; }
grep -q "hepgnn: error: rank 0: .*distributed.timeout_s = 30 s; absent rank(s): 1 " "$WORK/log.txt" ||
    { cat "$WORK/log.txt"; fail "no error line naming rank 1"; }
echo "stopped rank: job ended in ${ELAPSED} s with status $RC"
echo "  $(grep -m1 'warning: rank 0' "$WORK/log.txt")"
echo "  $(grep -m1 'error: rank 0' "$WORK/log.txt")"
expect_checkpoint_loads "$WORK/run/checkpoints/last.ckpt" "$WORK/train.h5" "the hang"

# --- stopped for 8 s, then continued: a stall report, then a normal end.
rm -rf "$WORK/run"
mpi 2 "$HEPGNN" train --config "$WORK/cfg.yaml" --set training.epochs=40 >"$WORK/log2.txt" 2>&1 &
launcher=$!
wait_for_line "^epoch 3/" "$WORK/log2.txt" 60
victim=$(rank_pid 1 "$WORK/cfg.yaml")
[[ -n "$victim" ]] || fail "could not find rank 1"
kill -STOP "$victim"
sleep 8
kill -CONT "$victim"
wait_launcher 120 "$launcher"
[[ $RC -eq 0 ]] || { cat "$WORK/log2.txt"; fail "the run failed after its rank continued"; }
grep -q "has waited [0-9.]* s for rank(s) 1 " "$WORK/log2.txt" ||
    { cat "$WORK/log2.txt"; fail "no stall report while rank 1 was stopped"; }
echo "hung_rank: OK"
