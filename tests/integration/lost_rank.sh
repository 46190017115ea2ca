#!/usr/bin/env bash
# A lost rank (issue #6): kill -9 of one rank of a 2-rank training run ends
# the job within 60 s with a non-zero status and a message naming the lost
# rank, never a hang; the last checkpoint stays loadable.
source "$(dirname "$0")/common.sh"

small_graphs "$WORK/train.h5" 3
cat >"$WORK/cfg.yaml" <<YAML
output_dir: $WORK/run
data: {train: $WORK/train.h5}
model: {hidden_dim: 16, n_graph_iters: 2}
training: {epochs: 100000, threads: 1, batch_edges: 300}
YAML
mpi 2 "$HEPGNN" train --config "$WORK/cfg.yaml" >"$WORK/log.txt" 2>&1 &
launcher=$!
wait_for_line "^epoch 2/" "$WORK/log.txt" 60
victim=$(rank_pid 1 "$WORK/cfg.yaml")
[[ -n "$victim" ]] || fail "could not find rank 1"
kill -9 "$victim"
wait_launcher 90 "$launcher"
[[ $RC -ne 0 ]] || fail "the job exited 0 after losing a rank"
[[ $ELAPSED -le 60 ]] || fail "the job took ${ELAPSED}s to end after losing a rank"
grep -qi "rank 1" "$WORK/log.txt" || { cat "$WORK/log.txt"; fail "no message names the lost rank 1"; }
echo "lost rank: job ended in ${ELAPSED}s with status $RC: $(grep -i 'rank 1' "$WORK/log.txt" | head -1)"

# The last checkpoint (written atomically at the end of an epoch) still loads.
expect_checkpoint_loads "$WORK/run/checkpoints/last.ckpt" "$WORK/train.h5" "the crash"
echo "lost_rank: OK"
