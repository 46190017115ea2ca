#!/usr/bin/env bash
# The inference pipeline on whole-detector graphs (issue #15): infer builds
# exactly the graphs prepare builds for the same events (edge sets by hit-id
# pairs, on 1 and 2 ranks, via infer --save-graphs); `infer` + `score
# --track-id-0 unassigned` gives the figures `evaluate --events` gives on the
# same events; evaluate --data no longer calls its graph-hits figure a
# TrackML score; bad input gets one clear line.
source "$(dirname "$0")/common.sh"

CFG="$HEPGNN_SOURCE_DIR/configs/prepare_full.yaml"
"$HEPGNN" simulate --out "$WORK/map_ev" --events 3 --particles 2000 --seed 31 >/dev/null 2>&1 \
    || fail "simulate (map events) failed"
"$HEPGNN" modulemap --input "$WORK/map_ev" --out "$WORK/map.json" >/dev/null 2>&1 || fail "modulemap failed"
"$HEPGNN" simulate --out "$WORK/ev" --events 3 --particles 2000 --seed 32 --first-event 7000 >/dev/null 2>&1 \
    || fail "simulate (test events) failed"
FULL=(--config "$CFG" --set module_map="$WORK/map.json")
# The model below trains for a few steps, so few of its edge scores reach the
# default seed cut (Note [Seed cut]); the comparisons build tracks without it.
TRACKS=(--cut 0.5 --seed-cut 0)
"$HEPGNN" prepare --input "$WORK/ev" --out "$WORK/prepared.h5" "${FULL[@]}" >/dev/null 2>&1 || fail "prepare failed"

# A tiny model (2 s of training): the figures need not be good, only the
# same, and not all zero.
cat >"$WORK/train.yaml" <<YAML
output_dir: $WORK/run
data: {train: $WORK/prepared.h5}
model: {hidden_dim: 16, n_graph_iters: 2}
training: {epochs: 15, threads: 2, batch_edges: 10000}
YAML
"$HEPGNN" train --config "$WORK/train.yaml" >/dev/null 2>&1 || fail "train failed"
CKPT="$WORK/run/checkpoints/last.ckpt"

"$HEPGNN" infer --model "$CKPT" --input "$WORK/ev" --out "$WORK/sub" "${FULL[@]}" "${TRACKS[@]}" \
    --save-graphs "$WORK/infer.h5" >"$WORK/infer.txt" 2>&1 || { cat "$WORK/infer.txt"; fail "infer failed"; }
grep -q "walkthrough_doubles" "$WORK/infer.txt" || { cat "$WORK/infer.txt"; fail "infer's default track method"; }
mpi 2 "$HEPGNN" infer --model "$CKPT" --input "$WORK/ev" --out "$WORK/sub2" "${FULL[@]}" "${TRACKS[@]}" \
    --save-graphs "$WORK/infer2.h5" >"$WORK/infer2.txt" 2>&1 || { cat "$WORK/infer2.txt"; fail "2-rank infer failed"; }
ls "$WORK" | grep -q '\.\(part\|spill\|tmp\)' && fail "infer left temporary files behind"
# timing.json: each event's GNN seconds (on 2 ranks, each rank's events too), whose mean is the
# per-event figure of the stage table, and their median.
"$PYTHON" - "$WORK/sub/timing.json" "$WORK/sub2/timing.json" <<'PY' || fail "infer's per-event GNN times"
import json, statistics, sys
for path in sys.argv[1:]:
    t = json.load(open(path))
    by_event = t["gnn_s_by_event"]
    assert len(by_event) == t["events"] == 3 and all(s > 0 for s in by_event), (path, by_event)
    mean = t["seconds_per_event"]["gnn_s"]
    assert abs(sum(by_event) / 3 - mean) <= 1e-9 + 1e-6 * mean, (path, by_event, mean)
    assert t["gnn_s_median"] == statistics.median(by_event), (path, t["gnn_s_median"])
PY
# With the defaults: a note when the seed cut leaves no candidate, none otherwise.
"$HEPGNN" infer --model "$CKPT" --input "$WORK/ev" --out "$WORK/sub_default" "${FULL[@]}" \
    >"$WORK/infer_default.txt" 2>&1 || { cat "$WORK/infer_default.txt"; fail "infer with the default cuts failed"; }
n_candidates=$(sed -n 's/.*edges -> \([0-9]*\) track candidates.*/\1/p' "$WORK/infer_default.txt")
[[ -n $n_candidates ]] || { cat "$WORK/infer_default.txt"; fail "infer prints no candidate count"; }
if ((n_candidates == 0)); then
    grep -q "infer: note: no track candidate holds an edge scored above --seed-cut 0.9" "$WORK/infer_default.txt" \
        || { cat "$WORK/infer_default.txt"; fail "no note on a seed cut that left no candidate"; }
else
    grep -q "note: no track candidate" "$WORK/infer_default.txt" && fail "a seed-cut note with $n_candidates candidates"
fi
for e in 7000 7001 7002; do
    cmp "$WORK/sub/event00000$e-submission.csv" "$WORK/sub2/event00000$e-submission.csv" \
        || fail "1 and 2 ranks gave different tracks for event $e"
done

# Same events, same edges: prepare (with truth) and infer (hits alone).
"$PYTHON" - "$WORK/prepared.h5" "$WORK/infer.h5" "$WORK/infer2.h5" <<'PY' || fail "infer's graphs differ from prepare's"
import sys, h5py, numpy as np
def edges(path):
    f = h5py.File(path)
    no, eo, ev = f["node_offsets"][:], f["edge_offsets"][:], f["event_id"][:]
    hid, s, r, y = f["hit_id"][:], f["senders"][:], f["receivers"][:], f["y"][:]
    out, hits = {}, {}
    for g in range(len(ev)):
        h = hid[no[g]:no[g + 1]]
        pairs = np.stack([h[s[eo[g]:eo[g + 1]]], h[r[eo[g]:eo[g + 1]]]], axis=1)
        out.setdefault(int(ev[g]), []).append(pairs)
        hits.setdefault(int(ev[g]), set()).update(h.tolist())
    labels = int(y.sum())
    return {e: np.concatenate(p) for e, p in out.items()}, hits, labels, f.attrs["feature_scale"][:]
want, want_hits, n_true, scale = edges(sys.argv[1])
one, two = h5py.File(sys.argv[2]), h5py.File(sys.argv[3])  # 1 and 2 ranks: the same file
assert sorted(one.keys()) == sorted(two.keys())
for name in one.keys():
    assert np.array_equal(one[name][()], two[name][()]), f"infer --save-graphs on 2 ranks: {name} differs"
assert n_true > 0 and sorted(want) == [7000, 7001, 7002], sorted(want)
for path in sys.argv[2:]:
    got, got_hits, got_true, got_scale = edges(path)
    assert sorted(got) == sorted(want), (path, sorted(got))
    assert got_true == 0, "infer's graphs carry no labels"
    assert np.allclose(got_scale, scale)
    for e in want:
        a = {tuple(p) for p in want[e].tolist()}
        b = {tuple(p) for p in got[e].tolist()}
        assert len(a) == len(want[e]) and len(b) == len(got[e]), "an edge twice"
        assert a == b, (path, e, len(a - b), len(b - a))
        assert got_hits[e] == want_hits[e], (path, e)
    print(f"{path}: {sum(len(v) for v in got.values())} edges in {len(got)} events, as prepare's")
PY

# infer + score gives what evaluate --events gives.
"$HEPGNN" score --input "$WORK/ev" --submissions "$WORK/sub" --track-id-0 unassigned \
    --out "$WORK/score.json" >/dev/null || fail "score failed"
"$HEPGNN" evaluate --checkpoint "$CKPT" --events "$WORK/ev" "${FULL[@]}" "${TRACKS[@]}" --out "$WORK/eval" \
    >"$WORK/eval.txt" 2>&1 || { cat "$WORK/eval.txt"; fail "evaluate --events failed"; }
mpi 2 "$HEPGNN" evaluate --checkpoint "$CKPT" --events "$WORK/ev" "${FULL[@]}" "${TRACKS[@]}" --out "$WORK/eval2" \
    --submissions "$WORK/eval2_sub" >"$WORK/eval2.txt" 2>&1 || { cat "$WORK/eval2.txt"; fail "2-rank evaluate --events failed"; }
# evaluate's own submissions are infer's tracks.
"$HEPGNN" score --input "$WORK/ev" --submissions "$WORK/eval2_sub" --track-id-0 unassigned \
    --out "$WORK/score_eval2.json" >/dev/null || fail "score of evaluate --submissions failed"
cmp <(sed 's/eval2_sub/sub/' "$WORK/score_eval2.json") "$WORK/score.json" \
    || fail "evaluate --submissions differ from infer's submissions"
"$PYTHON" - "$WORK/score.json" "$WORK/eval/evaluation.json" "$WORK/eval2/evaluation.json" <<'PY' || fail "evaluate --events and infer + score disagree"
import json, sys
s = json.load(open(sys.argv[1]))
rates = ("track_efficiency", "fake_rate", "duplicate_rate", "n_reconstructable_particles",
         "n_reconstructed_particles", "n_counted_tracks", "n_fake_tracks", "n_duplicate_tracks")
for path in sys.argv[2:]:
    e = json.load(open(path))
    for k in ("n_graphs", "cut", "edge_efficiency", "edge_purity", "auc", "track_efficiency",
              "fake_rate", "duplicate_rate", "trackml_score", "pt_0.5", "events",
              "track_efficiency_vs_pt", "track_efficiency_vs_eta", "roc", "edge_labels"):
        assert k in e, (path, k)
    assert e["n_events"] == s["n_events"] == 3
    assert s["trackml_score"] > 0.02 and s["track_efficiency"] > 0.05, s["trackml_score"]
    assert e["trackml_score"] == s["trackml_score"], (e["trackml_score"], s["trackml_score"])
    for k in rates:
        assert e[k] == s[k], (path, k, e[k], s[k])
        assert e["pt_0.5"][k] == s["pt_0.5"][k], (path, "pt_0.5", k)
    assert e["track_efficiency_vs_eta"] == s["track_efficiency_vs_eta"]
    assert e["track_efficiency_vs_pt"] == s["track_efficiency_vs_pt"]
    # Note [Score breakdown]: the same in both; the parts add up to the weight,
    # and the matched parts to the score (each event's weights sum to 1).
    assert e["weight_by_pt"] == s["weight_by_pt"], path
    bins = s["weight_by_pt"]["bins"]
    for b in bins:
        parts = sum(b[k] for k in ("matched", "incomplete", "unassigned", "merged", "split"))
        assert abs(parts - b["weight"]) < 1e-9, b
    total = sum(b["weight"] for b in bins) + s["weight_by_pt"]["noise"]
    assert abs(total - 1) < 1e-5, total
    assert abs(sum(b["matched"] for b in bins) - s["trackml_score"]) < 1e-9
    for a, b in zip(e["events"], s["events"]):
        for k in ("event_id", "trackml_score", "matched_weight", "total_weight", "n_hits", "n_tracks"):
            assert a[k] == b[k], (path, k, a[k], b[k])
    # Labelled from truth: true edges exist and the figures are rates.
    assert e["n_true_edges"] > 0 and 0 <= e["edge_efficiency"] <= 1 and 0 < e["auc"] <= 1
    assert e["track_method"] == "walkthrough_doubles"
print(f"evaluate --events = infer + score: TrackML score {s['trackml_score']:.6f}, "
      f"efficiency {s['track_efficiency']:.4f}, fake rate {s['fake_rate']:.4f}")
PY
grep -q "TrackML score" "$WORK/eval.txt" || { cat "$WORK/eval.txt"; fail "evaluate prints no TrackML score"; }
# Note [Score breakdown] in the log: one row per pT bin (0, 0.2, 0.3, 0.5, 1, 3, inf).
rows=$(grep -cE '^  (> 3|[0-9.]+-[0-9.]+) +[0-9]\.[0-9]{4}( +[0-9]\.[0-9]{4}){5}$' "$WORK/eval.txt")
[[ $rows -eq 6 ]] || { cat "$WORK/eval.txt"; fail "evaluate's weight table has $rows pT rows, not 6"; }

# evaluate --data: its score over graph hits has its own name.
"$HEPGNN" evaluate --checkpoint "$CKPT" --data "$WORK/prepared.h5" --out "$WORK/eval_data" >/dev/null \
    || fail "evaluate --data failed"
"$PYTHON" - "$WORK/eval_data/evaluation.json" <<'PY' || fail "evaluate --data report"
import json, sys
e = json.load(open(sys.argv[1]))
assert "trackml_score" not in e and 0 <= e["graph_hits_score"] <= 1, sorted(e)
assert e["n_graphs"] > 0 and "edge_efficiency" in e
PY

# Bad input: one clear line each.
expect_error "evaluate needs --data FILE.h5 (graphs from prepare) or --events DIR" "$HEPGNN" evaluate --checkpoint "$CKPT"
rc=0; "$HEPGNN" evaluate --checkpoint "$CKPT" --data "$WORK/prepared.h5" --events "$WORK/ev" \
    >/dev/null 2>"$WORK/err.txt" || rc=$?
[[ $rc -ne 0 ]] && grep -q "excludes" "$WORK/err.txt" || { cat "$WORK/err.txt"; fail "--data with --events"; }
mkdir -p "$WORK/no_truth"
cp "$WORK/ev"/event000007000-{hits,particles}.csv "$WORK/no_truth/"
expect_error "event000007000-truth.csv is missing: evaluate --events" \
    "$HEPGNN" evaluate --checkpoint "$CKPT" --events "$WORK/no_truth" "${FULL[@]}" --out "$WORK/bad"
expect_error "module map" "$HEPGNN" evaluate --checkpoint "$CKPT" --events "$WORK/ev" --config "$CFG" \
    --set module_map="$WORK/nowhere.json" --out "$WORK/bad"
echo "infer_evaluate_full: OK"
