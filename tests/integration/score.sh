#!/usr/bin/env bash
# hepgnn score (issue #15): on simulated events, a submission made from the
# truth scores 1 with efficiency 1; everything in track 0 or every hit alone
# scores 0; a perturbed submission gets the score of an independent Python
# transcription of the TrackML definition; the JSON has the keys of DESIGN
# §3.5; each bad input is one error line naming the file, and exit != 0.
source "$(dirname "$0")/common.sh"

EV="$WORK/events"
"$HEPGNN" simulate --out "$EV" --events 2 --particles 300 --seed 5 >/dev/null 2>&1 || fail "simulate failed"

# make_submissions MODE OUT: one submission per event of $EV.
#   perfect: a track per particle, noise hits alone; zero: every hit in track
#   0; singletons: every hit alone; perturbed: perfect, then hits moved
#   between tracks (merges, noise mixed in) and some particles split, seeded.
make_submissions() {
    "$PYTHON" - "$EV" "$2" "$1" <<'PY'
import collections, csv, glob, os, random, sys
events, out, mode = sys.argv[1:]
os.makedirs(out, exist_ok=True)
rng = random.Random(11)
for truth in sorted(glob.glob(os.path.join(events, "event*-truth.csv"))):
    event = os.path.basename(truth)[len("event"):len("event") + 9]
    rows = list(csv.DictReader(open(truth)))
    track, ids = [], {}
    for i, r in enumerate(rows):
        pid = int(r["particle_id"])
        if mode == "zero":
            track.append(0)
        elif mode == "singletons" or pid == 0:
            track.append(len(rows) + 1 + i)
        else:
            track.append(ids.setdefault(pid, len(ids) + 1))
    if mode == "perturbed":
        seen = collections.Counter()
        for i, r in enumerate(rows):  # every 5th particle split after its 3rd hit
            pid = int(r["particle_id"])
            seen[pid] += 1
            if pid and ids[pid] % 5 == 0 and seen[pid] > 3:
                track[i] = 3 * len(rows) + ids[pid]
        for _ in range(len(rows) // 4):
            track[rng.randrange(len(rows))] = track[rng.randrange(len(rows))]
    order = list(range(len(rows)))
    rng.shuffle(order)  # row order is free
    with open(os.path.join(out, f"event{event}-submission.csv"), "w") as f:
        f.write("event_id,hit_id,track_id\n")
        for i in order:
            f.write(f"{int(event)},{rows[i]['hit_id']},{track[i]}\n")
PY
}

# reference_scores SUBMISSIONS: "event score" lines from the definition
# (Note [TrackML score]) written out directly: per track, its plurality
# particle; a match needs more than half of the track and of the particle.
reference_scores() {
    "$PYTHON" - "$EV" "$1" <<'PY'
import collections, csv, glob, os, sys
events, subs = sys.argv[1:]
for truth_file in sorted(glob.glob(os.path.join(events, "event*-truth.csv"))):
    event = os.path.basename(truth_file)[5:14]
    truth = {int(r["hit_id"]): (int(r["particle_id"]), float(r["weight"]))
             for r in csv.DictReader(open(truth_file))}
    track = {int(r["hit_id"]): int(r["track_id"])
             for r in csv.DictReader(open(os.path.join(subs, f"event{event}-submission.csv")))}
    n_particle = collections.Counter(p for p, _ in truth.values())
    cells = collections.defaultdict(lambda: collections.defaultdict(lambda: [0, 0.0]))
    for h, (p, w) in truth.items():
        c = cells[track[h]][p]
        c[0] += 1
        c[1] += w
    score = 0.0
    for t, parts in cells.items():
        n_track = sum(n for n, _ in parts.values())
        p, (n, w) = max(parts.items(), key=lambda kv: kv[1][0])
        if p != 0 and 2 * n > n_track and 2 * n > n_particle[p]:
            score += w
    print(int(event), score / sum(w for _, w in truth.values()))
PY
}

# check_json FILE PYTHON-ASSERTS: runs the asserts with `r` the report.
check_json() {
    "$PYTHON" - "$1" "$2" <<'PY' || fail "$1: $2"
import json, sys
r = json.load(open(sys.argv[1]))
exec(sys.argv[2])
PY
}

# --- a perfect submission: score 1, efficiency 1, no fakes, no duplicates.
make_submissions perfect "$WORK/perfect"
"$HEPGNN" score --input "$EV" --submissions "$WORK/perfect" --out "$WORK/perfect.json" \
    >"$WORK/perfect.txt" 2>"$WORK/perfect.err" || { cat "$WORK/perfect.err"; fail "score of the perfect submission failed"; }
[[ ! -s "$WORK/perfect.err" ]] || { cat "$WORK/perfect.err"; fail "score wrote to stderr"; }
grep -q "^score: TrackML score 1.000000" "$WORK/perfect.txt" || { cat "$WORK/perfect.txt"; fail "summary lacks the score"; }
ls "$WORK" | grep -q '\.tmp' && fail "a temporary file was left behind"
check_json "$WORK/perfect.json" '
keys = {"n_events", "trackml_score", "track_efficiency", "fake_rate", "duplicate_rate", "pt_0.5",
        "events", "track_efficiency_vs_pt", "track_efficiency_vs_eta", "min_hits", "track_id_0"}
assert keys <= set(r), keys - set(r)
assert {"track_efficiency", "fake_rate", "duplicate_rate", "track_efficiency_vs_eta"} <= set(r["pt_0.5"])
assert r["n_events"] == 2 and len(r["events"]) == 2, r["n_events"]
assert abs(r["trackml_score"] - 1) < 1e-6, r["trackml_score"]
assert r["track_efficiency"] == 1 and r["pt_0.5"]["track_efficiency"] == 1
assert r["n_reconstructable_particles"] > 10 and r["pt_0.5"]["n_reconstructable_particles"] > r["n_reconstructable_particles"]
assert r["fake_rate"] == 0 and r["duplicate_rate"] == 0
assert r["min_hits"] == 3 and r["track_id_0"] == "track"
eta = r["track_efficiency_vs_eta"]
assert len(eta) == 16 and eta[0]["low"] == -4 and eta[-1]["high"] == 4, eta
assert sum(b["reconstructable"] for b in eta) == r["n_reconstructable_particles"]
assert all(b["efficiency"] == 1 for b in eta if b["reconstructable"])
assert len(r["track_efficiency_vs_pt"]) >= 4 and r["track_efficiency_vs_pt"][-1]["high"] is None
for e in r["events"]:
    for k in ("event_id", "trackml_score", "total_weight", "matched_weight", "n_hits", "n_tracks",
              "track_efficiency", "fake_rate", "duplicate_rate", "pt_0.5"):
        assert k in e, k
    assert abs(e["total_weight"] - 1) < 1e-5 and abs(e["trackml_score"] - 1) < 1e-6, e
assert [e["event_id"] for e in r["events"]] == [1000, 1001]
'

# --- everything in track 0, or every hit alone: score 0.
make_submissions zero "$WORK/zero"
"$HEPGNN" score --input "$EV" --submissions "$WORK/zero" --out "$WORK/zero.json" >/dev/null || fail "score of track 0 failed"
check_json "$WORK/zero.json" '
assert r["trackml_score"] == 0 and r["track_efficiency"] == 0, r["trackml_score"]
assert all(e["n_tracks"] == 1 for e in r["events"]) and r["fake_rate"] == 1'
"$HEPGNN" score --input "$EV" --submissions "$WORK/zero" --track-id-0 unassigned --out "$WORK/zero_u.json" >/dev/null \
    || fail "score with --track-id-0 unassigned failed"
check_json "$WORK/zero_u.json" '
assert r["trackml_score"] == 0 and r["track_id_0"] == "unassigned"
assert all(e["n_tracks"] == 0 for e in r["events"]) and r["fake_rate"] == 0 and r["n_counted_tracks"] == 0'
make_submissions singletons "$WORK/single"
"$HEPGNN" score --input "$EV" --submissions "$WORK/single" --out "$WORK/single.json" >/dev/null || fail "score of singletons failed"
check_json "$WORK/single.json" '
assert r["trackml_score"] < 1e-9 and r["track_efficiency"] == 0 and r["n_counted_tracks"] == 0, r["trackml_score"]'

# --- a perturbed submission: the score of the Python transcription.
make_submissions perturbed "$WORK/perturbed"
"$HEPGNN" score --input "$EV" --submissions "$WORK/perturbed" --out "$WORK/perturbed.json" >/dev/null \
    || fail "score of the perturbed submission failed"
reference_scores "$WORK/perturbed" >"$WORK/reference.txt"
check_json "$WORK/perturbed.json" "
ref = {int(a): float(b) for a, b in (l.split() for l in open('$WORK/reference.txt'))}
got = {e['event_id']: e['trackml_score'] for e in r['events']}
assert got.keys() == ref.keys(), (got, ref)
assert all(abs(got[k] - ref[k]) < 1e-9 for k in ref), (got, ref)
assert all(0.2 < v < 0.98 for v in ref.values()), ref  # a real test: neither 0 nor 1
assert abs(r['trackml_score'] - sum(ref.values()) / len(ref)) < 1e-9
assert 0 < r['duplicate_rate'] and 0 < r['fake_rate'] and r['track_efficiency'] < 1"

# --- bad input: one line naming the file, exit != 0.
# expect_error_naming FILE "substring" command...
expect_error_naming() {
    local file="$1"; shift
    expect_error "$@"
    grep -qF -- "$file" "$WORK/stderr.txt" || { cat "$WORK/stderr.txt" >&2; fail "the error does not name $file"; }
}
bad_copy() {  # a fresh copy of the perfect submissions in $WORK/bad/$1
    rm -rf "$WORK/bad/$1"; mkdir -p "$WORK/bad"; cp -r "$WORK/perfect" "$WORK/bad/$1"; echo "$WORK/bad/$1"
}
SUB=event000001000-submission.csv
last_hit=$(tail -n 1 "$EV/event000001000-hits.csv" | cut -d, -f1)

d=$(bad_copy unknown); echo "1000,$((last_hit + 7)),3" >>"$d/$SUB"
expect_error_naming "$d/$SUB" "hit_id $((last_hit + 7)) is not a hit of event 1000" \
    "$HEPGNN" score --input "$EV" --submissions "$d"
d=$(bad_copy twice); sed -n 2p "$d/$SUB" >>"$d/$SUB"
expect_error_naming "$d/$SUB" "is listed again (first on line 2)" "$HEPGNN" score --input "$EV" --submissions "$d"
d=$(bad_copy missing); sed -i 3d "$d/$SUB"
expect_error_naming "$d/$SUB" "1 missing, the first is hit_id" \
    "$HEPGNN" score --input "$EV" --submissions "$d"
d=$(bad_copy other_event); sed -i '5s/^1000,/1001,/' "$d/$SUB"
expect_error_naming "$d/$SUB" "line 5: event_id 1001 but the file is the submission of event 1000" \
    "$HEPGNN" score --input "$EV" --submissions "$d"
d=$(bad_copy no_event); mv "$d/$SUB" "$d/event000009999-submission.csv"
expect_error_naming "$d/event000009999-submission.csv" "has no event000009999-hits.csv" \
    "$HEPGNN" score --input "$EV" --submissions "$d"
d=$(bad_copy malformed); sed -i '4s/.*/1000,17/' "$d/$SUB"
expect_error_naming "$d/$SUB" "line 4: has 2 fields but the header has 3 columns" \
    "$HEPGNN" score --input "$EV" --submissions "$d"
d=$(bad_copy not_a_number); sed -i '6s/,[^,]*$/,seven/' "$d/$SUB"
expect_error_naming "$d/$SUB" "line 6: track_id 'seven' is not an integer" \
    "$HEPGNN" score --input "$EV" --submissions "$d"
mkdir -p "$WORK/no_truth"; cp "$EV"/event000001000-{hits,particles}.csv "$WORK/no_truth/"
d=$(bad_copy truth_check); rm "$d/event000001001-submission.csv"
expect_error_naming "$WORK/no_truth/event000001000-truth.csv" "is missing: scoring submission" \
    "$HEPGNN" score --input "$WORK/no_truth" --submissions "$d"
mkdir -p "$WORK/empty"; touch "$WORK/empty/notes.txt"
expect_error_naming "$WORK/empty" "holds no submissions" "$HEPGNN" score --input "$EV" --submissions "$WORK/empty"
expect_error_naming "$WORK/nowhere" "does not exist" "$HEPGNN" score --input "$EV" --submissions "$WORK/nowhere"
# Nothing was written for a failed run.
expect_error "is missing" "$HEPGNN" score --input "$WORK/no_truth" --submissions "$d" --out "$WORK/failed.json"
[[ ! -e "$WORK/failed.json" ]] || fail "a failed score wrote its JSON"

# Events without a submission are named, not scored.
d=$(bad_copy one_event); rm "$d/event000001001-submission.csv"
"$HEPGNN" score --input "$EV" --submissions "$d" --out "$WORK/one.json" >"$WORK/one.txt" || fail "score of one event failed"
grep -q "1 events of .* have no submission" "$WORK/one.txt" || { cat "$WORK/one.txt"; fail "no note on the unscored event"; }
check_json "$WORK/one.json" 'assert r["n_events"] == 1 and r["events_without_submission"] == [1001]'
echo "score: OK"
