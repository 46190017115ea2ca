#!/usr/bin/env bash
# Multi-node for real (issue #16): a virtual cluster of 2 hosts (network
# namespaces with their own addresses and hostnames, one slurmd each; Open MPI
# over TCP between them), then through srun:
#  * the MPI test binaries with 4 ranks on 2 nodes (collectives, the gradient
#    reducer, and data-parallel training equal to one process to 1e-5 after
#    20 steps);
#  * a SIGSTOPped rank on the second node ends the job within
#    distributed.timeout_s (30 s) + 10 s, naming it; last.ckpt loads;
#  * the second node's link cut ends the job within 60 s;
#  * bench's allreduce sweep over TCP, elastic resume (4 ranks on 2 hosts, then
#    2) and a preempted, requeued 2-host batch job (bit-identical).
source "$(dirname "$0")/common.sh"
require_slurm
[[ $(id -u) -eq 0 ]] || fail "network namespaces need root (CI runs as root)"
start_virtual_cluster 2
SRUN=(srun --mpi=pmix --kill-on-bad-exit=0)

hosts=$(timeout 60 "${SRUN[@]}" -N 2 -n 4 hostname | sort | uniq -c | awk '{print $2 "x" $1}' | tr '\n' ' ')
[[ $hosts == "vc1x2 vc2x2 " ]] || fail "4 tasks on 2 hosts expected, got '$hosts'"

for bin in hepgnn_mpi_tests hepgnn_mpi_model_tests; do
    timeout 300 "${SRUN[@]}" -N 2 -n 4 "$(dirname "$HEPGNN")/../tests/$bin" >"$WORK/$bin.txt" 2>&1 ||
        { tail -n 40 "$WORK/$bin.txt"; fail "$bin failed over 2 nodes"; }
    grep -q "PASSED" "$WORK/$bin.txt" || { tail -n 20 "$WORK/$bin.txt"; fail "$bin: no PASSED line"; }
done
echo "MPI tests: passed with 4 ranks on 2 nodes"

small_graphs "$WORK/train.h5" 3
cat >"$WORK/cfg.yaml" <<YAML
output_dir: $WORK/run
data: {train: $WORK/train.h5}
model: {hidden_dim: 16, n_graph_iters: 2}
training: {epochs: 100000, threads: 1, batch_edges: 300}
distributed: {timeout_s: 30, stall_warning_s: 5}
YAML

# run_until_epoch N LOG: 2 ranks, one per node, in the background ($launcher).
run_until_epoch() {
    rm -rf "$WORK/run"
    "${SRUN[@]}" -N 2 -n 2 "$HEPGNN" train --config "$WORK/cfg.yaml" >"$2" 2>&1 &
    launcher=$!
    wait_for_line "^epoch $1/" "$2" 90
}

# --- a stopped rank on vc2
run_until_epoch 3 "$WORK/stop.txt"
victim=$(rank_pid 1 "$WORK/cfg.yaml")
[[ -n $victim ]] || fail "could not find rank 1"
kill -STOP "$victim"
wait_launcher 150 "$launcher" "$victim"
kill -9 "$victim" 2>/dev/null || true
[[ $RC -ne 0 ]] || fail "the job exited 0 with a stopped rank"
grep -q "absent rank(s): 1 " "$WORK/stop.txt" || { cat "$WORK/stop.txt"; fail "no error line naming rank 1"; }
((ELAPSED <= 40)) || { cat "$WORK/stop.txt"; fail "the job took $ELAPSED s to end (deadline 30 s + 10 s)"; }
echo "stopped rank on vc2: job ended in $ELAPSED s: $(grep -m1 'absent rank' "$WORK/stop.txt")"
expect_checkpoint_loads "$WORK/run/checkpoints/last.ckpt" "$WORK/train.h5" "the hang"

# --- vc2's link cut
wait_nodes_free  # before the next job
run_until_epoch 3 "$WORK/cut.txt"
bash "$HEPGNN_SOURCE_DIR/scripts/slurm/virtual_cluster.sh" cut "$WORK/vc" vc2 >/dev/null
wait_launcher 150 "$launcher"
bash "$HEPGNN_SOURCE_DIR/scripts/slurm/virtual_cluster.sh" heal "$WORK/vc" vc2 >/dev/null
[[ $RC -ne 0 ]] || fail "the job exited 0 with a cut link"
((ELAPSED <= 60)) || { cat "$WORK/cut.txt"; fail "the job took $ELAPSED s to end after the cut (limit 60 s)"; }
grep -q "absent rank(s): 1 " "$WORK/cut.txt" || { cat "$WORK/cut.txt"; fail "no error line naming rank 1"; }
echo "cut link to vc2: job ended in $ELAPSED s: $(grep -m1 'absent rank' "$WORK/cut.txt")"
expect_checkpoint_loads "$WORK/run/checkpoints/last.ckpt" "$WORK/train.h5" "the cut"

# --- bench's allreduce sweep over TCP (2 hosts) against shared memory (1
# host), and the scaling model fitted to it.
wait_nodes_free
cat >"$WORK/bench.yaml" <<YAML
output_dir: $WORK/bench
data: {train: $WORK/train.h5}
model: {hidden_dim: 16, n_graph_iters: 2}
training: {epochs: 2, threads: 1, batch_edges: 300}
YAML
timeout 120 "${SRUN[@]}" -N 2 -n 2 "$HEPGNN" bench --config "$WORK/bench.yaml" --report "$WORK/tcp.json" \
    >"$WORK/bench_tcp.txt" 2>&1 || { cat "$WORK/bench_tcp.txt"; fail "bench over 2 hosts failed"; }
mpi 2 "$HEPGNN" bench --config "$WORK/bench.yaml" --set output_dir="$WORK/bench1" \
    --report "$WORK/shm.json" >"$WORK/bench_shm.txt" 2>&1 || { cat "$WORK/bench_shm.txt"; fail "bench on 1 host failed"; }
"$PYTHON" - "$HEPGNN_SOURCE_DIR/scripts" "$WORK/tcp.json" "$WORK/shm.json" <<'PY' || fail "alpha-beta over TCP"
import json, sys
sys.path.insert(0, sys.argv[1])
from scaling_model import fit_allreduce
small = {}
for name, path in (("tcp", sys.argv[2]), ("shm", sys.argv[3])):
    report = json.load(open(path))
    sweep = report["wl-stats"]["allreduce"]
    alpha, beta, calls = fit_allreduce([report])
    # The 1 MB message: bandwidth tells TCP from shared memory (~20x here)
    # even on a loaded machine, where scheduling delays blur the latencies.
    mb = sweep["bytes"].index(1 << 20)
    small[name] = sweep["seconds"][mb]
    print(f"{name}: 8 B allreduce {sweep['seconds'][0] * 1e6:.1f} us, 1 MB {small[name] * 1e6:.0f} us; "
          f"fit alpha {alpha * 1e6:.1f} us, {1e-9 / beta:.2f} GB/s over {calls} sizes")
assert small["tcp"] > 2 * small["shm"], f"1 MB over TCP {small['tcp']} s, not 2x shared memory's {small['shm']} s"
PY
"$PYTHON" "$HEPGNN_SOURCE_DIR/scripts/scaling_model.py" "$WORK/tcp.json" --rate 100000 >"$WORK/model.txt" 2>&1 ||
    { cat "$WORK/model.txt"; fail "scaling_model.py on the TCP report failed"; }
grep -q "fitted to .* measured allreduce calls" "$WORK/model.txt" || { cat "$WORK/model.txt"; fail "the model did not use the sweep"; }
grep -m2 "alpha\|fitted" "$WORK/model.txt"

# --- elastic resume across hosts: 4 ranks on 2 hosts stopped mid-epoch, then 2.
HEPGNN_LAUNCH="${SRUN[*]} -N 2 -n" bash "$TESTS_DIR/elastic_resume.sh" >"$WORK/elastic.txt" 2>&1 ||
    { cat "$WORK/elastic.txt"; fail "elastic resume over the virtual cluster"; }
grep "each once" "$WORK/elastic.txt"

# --- preemption and requeue of a 2-host batch job, on a second virtual cluster.
HEPGNN_CLUSTER=virtual bash "$TESTS_DIR/slurm_requeue.sh" >"$WORK/requeue.txt" 2>&1 ||
    { cat "$WORK/requeue.txt"; fail "preemption and requeue over 2 hosts"; }
tail -n 2 "$WORK/requeue.txt"
echo "multinode: OK"
