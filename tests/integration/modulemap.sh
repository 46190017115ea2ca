#!/usr/bin/env bash
# Whole-detector graphs from the command line (issue #14): hepgnn modulemap
# learns a map from events with truth; prepare with detector: full builds
# graphs of every hit with it; inspect reports per-volume and per-layer counts
# and edges per hit. A map from another geometry or version, hits on layers
# the map does not know, an empty map and a map cut short each give one error
# line naming the file, and exit != 0, in prepare and in infer.
source "$(dirname "$0")/common.sh"

"$HEPGNN" simulate --out "$WORK/train" --events 3 --particles 1500 --seed 3 >/dev/null 2>&1 ||
    fail "simulate failed"
"$HEPGNN" simulate --out "$WORK/test" --events 1 --particles 1500 --seed 4 --first-event 7000 \
    >/dev/null 2>&1 || fail "simulate failed"
"$HEPGNN" modulemap --input "$WORK/train" --out "$WORK/map.json" --set geometry=toy \
    >"$WORK/mm.txt" 2>&1 || { cat "$WORK/mm.txt"; fail "modulemap failed"; }
grep -q "geometry 'toy'" "$WORK/mm.txt" || fail "modulemap did not report the geometry"

full=(--config "$HEPGNN_SOURCE_DIR/configs/prepare_full.yaml")
"$HEPGNN" prepare --input "$WORK/test" --out "$WORK/test.h5" "${full[@]}" \
    --set module_map="$WORK/map.json" >/dev/null 2>&1 || fail "prepare (full) failed"

# Every hit is a node; edges join layers across barrel and endcaps.
"$HEPGNN" inspect "$WORK/test.h5" --json >"$WORK/inspect.json" || fail "inspect failed"
"$PYTHON" - "$WORK/inspect.json" "$WORK/test" <<'PY' || fail "inspect figures"
import glob, json, sys
j = json.load(open(sys.argv[1]))
hits = sum(1 for f in glob.glob(sys.argv[2] + "/*-hits.csv") for _ in open(f)) - 1
assert j["hits"] == hits, (j["hits"], hits)
assert abs(j["edges_per_hit"] - j["edges"]["total"] / hits) < 1e-9
vols = {v["volume_id"] for v in j["volumes"]}
assert {7, 8, 9, 12, 13, 14, 16, 17, 18} <= vols, vols
assert sum(v["hits"] for v in j["volumes"]) == hits
assert sum(l["edges_out"] for l in j["layers"]) == j["edges"]["total"]
assert sum(l["edges_in"] for l in j["layers"]) == j["edges"]["total"]
endcap_true = sum(l["true_edges_out"] for l in j["layers"] if l["volume_id"] not in (8, 13, 17))
assert endcap_true > 0, "no true edge in the endcaps"
PY
"$HEPGNN" inspect "$WORK/test.h5" >"$WORK/inspect.txt" || fail "inspect failed"
grep -q "edges per hit" "$WORK/inspect.txt" || fail "inspect text lacks edges per hit"
grep -q "^  8/2 " "$WORK/inspect.txt" || fail "inspect text lacks the per-layer table"

# bad_map NAME PYTHON-EDIT: a copy of the map edited by a Python statement on `m`.
bad_map() {
    "$PYTHON" - "$WORK/map.json" "$WORK/$1" "$2" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
exec(sys.argv[3])
json.dump(m, open(sys.argv[2], "w"))
PY
}
prepare_with() {
    "$HEPGNN" prepare --input "$1" --out "$WORK/bad.h5" "${full[@]}" --set module_map="$2"
}

# Another geometry: the innermost barrel layer 30 mm further out.
bad_map other.json '
for l in m["geometry"]["layers"]:
    if (l["volume_id"], l["layer_id"]) == (8, 2): l["r"] = [l["r"][0] + 30, l["r"][1] + 30]'
expect_error "learned on another detector geometry ('toy')" prepare_with "$WORK/test" "$WORK/other.json"
bad_map v2.json 'm["version"] = 2'
expect_error "module map version 2, but this hepgnn reads version 1" \
    prepare_with "$WORK/test" "$WORK/v2.json"
bad_map empty.json 'm["pairs"] = []'
expect_error "has no layer pairs" prepare_with "$WORK/test" "$WORK/empty.json"
head -c 2000 "$WORK/map.json" >"$WORK/cut.json"
expect_error "module map '$WORK/cut.json': not a complete module map" \
    prepare_with "$WORK/test" "$WORK/cut.json"
expect_error "cannot open it" prepare_with "$WORK/test" "$WORK/missing.json"
expect_error "detector: full needs key 'module_map'" \
    "$HEPGNN" prepare --input "$WORK/test" --out "$WORK/bad.h5" "${full[@]}" --set module_map=
[[ ! -e "$WORK/bad.h5" ]] || fail "a failed prepare left a graph file"

# Hits on a layer the map does not know (volume 8, layer 2 renamed 77).
cp -r "$WORK/test" "$WORK/unknown"
"$PYTHON" - "$WORK/unknown" <<'PY'
import glob, sys
f = glob.glob(sys.argv[1] + "/*-hits.csv")[0]
lines = open(f).read().splitlines()
head = lines[0].split(","); v, l = head.index("volume_id"), head.index("layer_id")
out = [lines[0]]
for line in lines[1:]:
    c = line.split(",")
    if c[v] == "8" and c[l] == "2": c[l] = "77"
    out.append(",".join(c))
open(f, "w").write("\n".join(out) + "\n")
PY
expect_error "is on volume 8 layer 77, which module map '$WORK/map.json' (geometry 'toy') does not know" \
    prepare_with "$WORK/unknown" "$WORK/map.json"

# The same checks guard infer, which builds its graphs with the same code.
small_graphs "$WORK/small.h5" 5 2
cat >"$WORK/train.yaml" <<EOC
output_dir: $WORK/run
data: {train: $WORK/small.h5}
model: {hidden_dim: 8, n_graph_iters: 1}
training: {epochs: 1}
EOC
"$HEPGNN" train --config "$WORK/train.yaml" >/dev/null 2>&1 || fail "train failed"
infer_with() {
    "$HEPGNN" infer --model "$WORK/run/checkpoints/last.ckpt" --input "$WORK/test" \
        --out "$WORK/sub" --set module_map="$1" --set detector=full
}
expect_error "learned on another detector geometry" infer_with "$WORK/other.json"
expect_error "has no layer pairs" infer_with "$WORK/empty.json"
echo "PASS"
