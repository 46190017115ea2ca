#!/usr/bin/env bash
# The scaling tools on real (tiny) bench reports: strong/weak job series in
# --dry-run, scripts/scaling_report.py (table, JSON, plots) and
# scripts/scaling_model.py (fit, projection, alpha-beta fit of measured
# allreduce timings).
source "$(dirname "$0")/common.sh"
src="$HEPGNN_SOURCE_DIR"

# Dry runs print one sbatch command per rank count with the per-rank workload.
cat >"$WORK/dry.yaml" <<YAML
output_dir: $WORK/dry
data: {train: $WORK/none.h5, max_train_graphs: 8}
training: {batch_edges: 60000}
YAML
cmds=$(bash "$src/scripts/slurm/strong_scaling.sh" --dry-run --ranks "1 4" --out "$WORK/s" "$WORK/dry.yaml")
grep -q -- "--ntasks=4 .*training.batch_edges=15000" <<<"$cmds" || { echo "$cmds"; fail "strong: no 15000-edge steps at 4 ranks"; }
[[ ! -e $WORK/s ]] || fail "--dry-run created $WORK/s"
cmds=$(bash "$src/scripts/slurm/weak_scaling.sh" --dry-run --ranks "2" --out "$WORK/w" "$WORK/dry.yaml" --set training.epochs=2)
grep -q -- "--ntasks=2 .*training.epochs=2 .*data.max_train_graphs=16 .*training.batch_edges=60000" <<<"$cmds" ||
    { echo "$cmds"; fail "weak: want 16 graphs and 60000-edge steps at 2 ranks"; }
for s in strong_scaling.sh weak_scaling.sh local_cluster.sh train.sbatch bench.sbatch; do
    [[ $(bash "$src/scripts/slurm/$s" --help) == *Usage:* ]] || fail "$s --help"
done

# Real reports: 1 rank with two step sizes (for the compute fit), 2 ranks.
small_graphs "$WORK/g.h5" 1
cat >"$WORK/cfg.yaml" <<YAML
output_dir: $WORK/run
data: {train: $WORK/g.h5}
model: {hidden_dim: 16, n_graph_iters: 2}
training: {epochs: 2, threads: 1, batch_edges: 200}
YAML
mkdir -p "$WORK/r"
"$HEPGNN" bench --config "$WORK/cfg.yaml" --report "$WORK/r/np1_a.json" >/dev/null 2>&1
"$HEPGNN" bench --config "$WORK/cfg.yaml" --set training.batch_edges=800 --report "$WORK/r/np1_b.json" >/dev/null 2>&1
mpi 2 "$HEPGNN" bench --config "$WORK/cfg.yaml" --set training.batch_edges=100 \
    --set output_dir="$WORK/run2" --report "$WORK/r/np2.json" >/dev/null 2>&1

"$PYTHON" "$src/scripts/scaling_report.py" --mode strong --out "$WORK/rep" "$WORK/r/np1_a.json" "$WORK/r/np2.json" >"$WORK/rep.md" ||
    fail "scaling_report.py failed"
grep -q "^| 2 | 1 |" "$WORK/rep.md" || { cat "$WORK/rep.md"; fail "no row for 2 ranks"; }
for f in scaling.json throughput.png speedup.png efficiency.png; do [[ -s $WORK/rep/$f ]] || fail "no $f"; done

"$PYTHON" "$src/scripts/scaling_model.py" --out "$WORK/model" "$WORK/r" >"$WORK/model.md" || fail "scaling_model.py failed"
[[ -s $WORK/model/scaling_model.png ]] || fail "no scaling_model.png"
"$PYTHON" - "$WORK" "$src/scripts/scaling_model.py" <<'PY'
import json, subprocess, sys
work, model = sys.argv[1], sys.argv[2]
m = json.load(open(f"{work}/model/scaling_model.json"))
assert m["rate_edges_per_s"] > 0 and m["t0_s"] >= 0, m
assert len(m["fit_points"]) == 2, m["fit_points"]
assert [r["ranks"] for r in m["rows"]][-1] == 1024
for r in m["rows"]:
    for k in ("weak", "strong"):
        assert r[k]["dominant"] in ("compute", "latency", "bandwidth"), r
        assert 0 < r[k]["efficiency"] <= 1.0 + 1e-9, r
assert m["checks"] and m["checks"][0]["ranks"] == 2
# Measured allreduce timings: alpha and beta come back from exact alpha-beta data.
r = json.load(open(f"{work}/r/np2.json"))
alpha, beta, p = 3e-6, 2e-10, 2
nb = [1e3, 1e5, 1e6, 4e6]
r["wl-stats"]["allreduce"] = {"bytes": nb, "seconds": [2*(p-1)*alpha + 2*(p-1)/p*n*beta for n in nb]}
json.dump(r, open(f"{work}/r/np2.json", "w"))
subprocess.run([sys.executable, model, "--out", f"{work}/model2", f"{work}/r"], check=True, stdout=subprocess.DEVNULL)
m = json.load(open(f"{work}/model2/scaling_model.json"))
assert abs(m["alpha_s"] - alpha) < 1e-9 and abs(m["beta_s_per_byte"] - beta) < 1e-14, (m["alpha_s"], m["beta_s_per_byte"])
assert "measured" in m["alpha_source"]
PY
echo "scaling_scripts: ok"
