#!/usr/bin/env bash
# simulate -> prepare (1 and 2 MPI ranks) -> inspect, end to end with the
# real binary, real HDF5 files and real MPI ranks.
source "$(dirname "$0")/common.sh"

"$HEPGNN" simulate --out "$WORK/events" --events 4 --particles 500 --seed 3 >/dev/null
ls "$WORK/events"/event00000100{0,1,2,3}-{hits,truth,particles}.csv >/dev/null ||
    fail "simulate did not write 4 events"

# Same events from 2 ranks are byte-identical to 1 rank.
mpi 2 "$HEPGNN" simulate --out "$WORK/events2" --events 4 --particles 500 --seed 3 >/dev/null
diff -r "$WORK/events" "$WORK/events2" >/dev/null || fail "2-rank simulate differs from 1-rank"

"$HEPGNN" prepare --input "$WORK/events" --out "$WORK/g1.h5" --set pt_min=0.5 >/dev/null
mkdir -p "$WORK/spill"
mpi 2 "$HEPGNN" prepare --input "$WORK/events" --out "$WORK/g2.h5" --set pt_min=0.5 \
    --spill-dir "$WORK/spill" >/dev/null
[[ -z "$(ls -A "$WORK/spill")" ]] || fail "spill files left behind: $(ls "$WORK/spill")"
ls "$WORK" | grep -q "g2.h5\.\(tmp\|spill\)" && fail "temporary files left beside g2.h5"
# 3 ranks: blocks of 1, 1 and 2 events, the same datasets again; into a folder that does not
# exist yet (prepare makes it, on any number of ranks).
mpi 3 "$HEPGNN" prepare --input "$WORK/events" --out "$WORK/new/g3.h5" --set pt_min=0.5 >/dev/null

"$HEPGNN" inspect "$WORK/g1.h5" --json >"$WORK/i1.json"
"$HEPGNN" inspect "$WORK/g2.h5" --json >"$WORK/i2.json"
"$PYTHON" - "$WORK" <<'PY'
import json, sys, h5py, numpy as np
w = sys.argv[1]
a, b = (json.load(open(f"{w}/i{k}.json")) for k in (1, 2))
assert a["n_graphs"] == 4 * 16, a["n_graphs"]          # 8 phi x 2 eta sections
assert a["n_events"] == 4
assert a["edges"]["total"] > 1000, a["edges"]
assert 0.02 < a["true_edge_fraction"] < 0.9, a["true_edge_fraction"]
for k in ("n_graphs", "true_edges", "raw_bytes"):
    assert a[k] == b[k], (k, a[k], b[k])
f1, f2 = h5py.File(f"{w}/g1.h5"), h5py.File(f"{w}/g2.h5")
assert f1.attrs["format"] == "hepgnn-graphs" and int(f1.attrs["version"]) == 1
f3 = h5py.File(f"{w}/new/g3.h5")
for name in ("node_offsets", "edge_offsets", "event_id", "section_id", "x", "senders",
             "receivers", "y", "hit_id", "particle_id", "pt", "volume_id", "layer_id"):
    assert np.array_equal(f1[name][:], f2[name][:]), name
    assert np.array_equal(f1[name][:], f3[name][:]), name
assert f1["x"].dtype == np.float32 and f1["senders"].dtype == np.int32 and f1["y"].dtype == np.uint8
# pT cut applied, no noise.
assert (f1["pt"][:] >= 0.5).all() and (f1["particle_id"][:] != 0).all()
PY
"$HEPGNN" inspect "$WORK/g1.h5" | grep -q "true edges:" || fail "inspect text output"

# Bad input: one clear line, non-zero exit, on 1 and 2 ranks.
expect_error "no such file" "$HEPGNN" inspect "$WORK/missing.h5"
echo "not hdf5" >"$WORK/bad.h5"
expect_error "not an HDF5 file" "$HEPGNN" inspect "$WORK/bad.h5"
expect_error "did you mean 'phi_slope_max'" "$HEPGNN" prepare --input "$WORK/events" --out "$WORK/x.h5" --set phi_slop_max=1
mkdir -p "$WORK/broken" && cp "$WORK/events"/event000001000-* "$WORK/broken/"
sed -i '5s/.*/oops,1,2/' "$WORK/broken/event000001000-hits.csv"
rc=0; mpi 2 "$HEPGNN" prepare --input "$WORK/broken" --out "$WORK/b.h5" >/dev/null 2>"$WORK/err.txt" || rc=$?
[[ $rc -ne 0 ]] || fail "prepare accepted a broken CSV"
grep -q "event000001000-hits.csv line 5" "$WORK/err.txt" || { cat "$WORK/err.txt"; fail "error does not name file and line"; }
[[ ! -e "$WORK/b.h5" ]] || fail "a half-written output was left behind"
echo "data_pipeline: ok"
