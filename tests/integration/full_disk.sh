#!/usr/bin/env bash
# Every writer on a full file system (issue #18): a small tmpfs that holds a
# previous good file, then filled until the new file cannot fit. Each of
# prepare (graph file), train (checkpoint), modulemap (map) and infer
# (submissions) must fail with one line naming the file, leave the previous
# file byte-identical and loadable, and leave no temporary file behind.
# Mounting needs root, which CI has; without it the test fails (never a pass).
source "$(dirname "$0")/common.sh"

[[ $(id -u) -eq 0 ]] || fail "mounting the test tmpfs needs root (CI runs as root)"
MNT="$WORK/full"
mkdir -p "$MNT"
mount -t tmpfs -o size=4m tmpfs "$MNT" || fail "cannot mount a tmpfs at $MNT"
trap 'umount "$MNT" 2>/dev/null || true; rm -rf "$WORK"' EXIT

# fill_leaving BYTES: takes all free space on the tmpfs but BYTES.
fill_leaving() {
    rm -f "$MNT/filler"
    local avail
    avail=$(df --output=avail -B1 "$MNT" | tail -n 1)
    ((avail > $1)) || fail "tmpfs has only $avail bytes free, need more than $1"
    head -c $((avail - $1)) /dev/zero >"$MNT/filler" || fail "cannot fill the tmpfs"
}
unfill() { rm -f "$MNT/filler"; }

# expect_error_line "substring" command...: as expect_error, but the command's
# progress lines may share stderr; exactly one error line, holding the substring.
expect_error_line() {
    local want="$1" rc=0; shift
    "$@" >/dev/null 2>"$WORK/stderr.txt" || rc=$?
    [[ $rc -ne 0 && $rc -lt 128 ]] || fail "exit status $rc from: $*"
    [[ $(grep -c ": error: " "$WORK/stderr.txt") -eq 1 ]] && grep -qF -- "$want" "$WORK/stderr.txt" ||
        { cat "$WORK/stderr.txt" >&2; fail "not one error line with '$want' from: $*"; }
}

# expect_unchanged COPY FILE: the previous file is byte-identical, and no
# temporary file of any writer is left on the tmpfs.
expect_unchanged() {
    cmp -s "$1" "$2" || fail "$2 changed after a failed write"
    local left
    left=$(find "$MNT" -name '*.tmp*' | head -n 3)
    [[ -z $left ]] || fail "temporary files left behind: $left"
}

"$HEPGNN" simulate --out "$WORK/ev" --events 2 --particles 1500 --seed 5 >/dev/null 2>&1 \
    || fail "simulate failed"
"$HEPGNN" simulate --out "$WORK/big" --events 6 --particles 3000 --seed 6 >/dev/null 2>&1 \
    || fail "simulate (bigger input) failed"

# --- graph file (HDF5): the old file stays, the bigger new one does not fit.
"$HEPGNN" prepare --input "$WORK/ev" --out "$MNT/graphs.h5" --set pt_min=1 >/dev/null 2>&1 \
    || fail "prepare onto the tmpfs failed"
cp "$MNT/graphs.h5" "$WORK/graphs.copy"
fill_leaving 65536
expect_error_line "graph file '$MNT/graphs.h5'" \
    "$HEPGNN" prepare --input "$WORK/big" --out "$MNT/graphs.h5"
grep -q "No space\|disk full" "$WORK/stderr.txt" || fail "graph file error does not say the disk is full"
expect_unchanged "$WORK/graphs.copy" "$MNT/graphs.h5"
mpi 2 "$HEPGNN" prepare --input "$WORK/big" --out "$MNT/graphs.h5" >/dev/null 2>&1 \
    && fail "2-rank prepare onto a full disk succeeded"
expect_unchanged "$WORK/graphs.copy" "$MNT/graphs.h5"
unfill
"$HEPGNN" inspect "$MNT/graphs.h5" >/dev/null || fail "the previous graph file no longer loads"

# --- checkpoint: one epoch written, then the disk fills before the next save.
cat >"$WORK/train.yaml" <<YAML
output_dir: $MNT/run
data: {train: $MNT/graphs.h5}
model: {hidden_dim: 16, n_graph_iters: 2}
training: {epochs: 1, threads: 1, batch_edges: 5000}
YAML
"$HEPGNN" train --config "$WORK/train.yaml" >/dev/null 2>&1 || fail "train onto the tmpfs failed"
CKPT="$MNT/run/checkpoints/last.ckpt"
cp "$CKPT" "$WORK/ckpt.copy"
ckpt_bytes=$(stat -c %s "$CKPT")
fill_leaving $((ckpt_bytes / 2))
expect_error_line "cannot write checkpoint '$CKPT': No space left on device" \
    "$HEPGNN" train --config "$WORK/train.yaml" --set training.epochs=2
expect_unchanged "$WORK/ckpt.copy" "$CKPT"
# Two ranks: the root's failure ends both, with the same line, and no hang.
timeout 120 "$MPIEXEC" --allow-run-as-root --oversubscribe --bind-to none -np 2 \
    "$HEPGNN" train --config "$WORK/train.yaml" --set training.epochs=2 >"$WORK/np2.txt" 2>&1 \
    && fail "2-rank train onto a full disk succeeded"
[[ $? -ne 124 ]] || fail "2-rank train hung on a full disk"
grep -q "cannot write checkpoint" "$WORK/np2.txt" || { cat "$WORK/np2.txt"; fail "2-rank train: no error line"; }
expect_unchanged "$WORK/ckpt.copy" "$CKPT"
unfill
expect_checkpoint_loads "$CKPT" "$MNT/graphs.h5" "a failed write on a full disk"

# --- module map (JSON).
"$HEPGNN" modulemap --input "$WORK/ev" --out "$MNT/map.json" >/dev/null 2>&1 || fail "modulemap failed"
cp "$MNT/map.json" "$WORK/map.copy"
fill_leaving 4096
expect_error_line "cannot write module map '$MNT/map.json': No space left on device" \
    "$HEPGNN" modulemap --input "$WORK/big" --out "$MNT/map.json"
expect_unchanged "$WORK/map.copy" "$MNT/map.json"
unfill
"$HEPGNN" prepare --input "$WORK/ev" --out "$WORK/full.h5" \
    --config "$HEPGNN_SOURCE_DIR/configs/prepare_full.yaml" --set module_map="$MNT/map.json" \
    >/dev/null 2>&1 || fail "the previous module map no longer loads"

# --- submissions (CSV), one per event.
"$HEPGNN" infer --model "$CKPT" --input "$WORK/ev" --out "$MNT/sub" >/dev/null 2>&1 \
    || fail "infer onto the tmpfs failed"
cp -r "$MNT/sub" "$WORK/sub.copy"
fill_leaving 4096
expect_error_line "cannot write submission '$MNT/sub/event000001000-submission.csv': No space left on device" \
    "$HEPGNN" infer --model "$CKPT" --input "$WORK/ev" --out "$MNT/sub"
for f in "$WORK"/sub.copy/*.csv; do expect_unchanged "$f" "$MNT/sub/$(basename "$f")"; done
unfill
"$HEPGNN" score --input "$WORK/ev" --submissions "$MNT/sub" >/dev/null \
    || fail "the previous submissions no longer score"
echo "full disk: every writer failed cleanly and kept the previous file"
