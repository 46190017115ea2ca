#!/usr/bin/env bash
# Seed inputs for every fuzz target, made the way the tests make their files:
# a small simulated event, its graphs, its module map, a one-epoch checkpoint,
# and the shipped configs. Each seed starts with the target's mode byte (see
# the fuzz_*.cpp headers).
# Usage: HEPGNN=build/bin/hepgnn fuzz/make_seeds.sh OUT_DIR
set -euo pipefail
: "${HEPGNN:?set HEPGNN to the hepgnn binary}"
src="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="$1"
work="$(mktemp -d -t hepgnn-seeds.XXXXXX)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$out"/{trackml_csv,graph_file,config,module_map,checkpoint}

# with_mode BYTE FILE OUT: OUT is BYTE followed by FILE.
with_mode() { { printf "\\x$1"; cat "$2"; } >"$3"; }

"$HEPGNN" simulate --out "$work/ev" --events 1 --particles 40 --seed 3 >/dev/null 2>&1
ev="$work/ev/event000001000"
# Short tables keep the seeds small (the fuzzer mutates every byte); the
# truth keeps the same rows as the hits.
head -n 40 "$ev-hits.csv" >"$work/hits.csv"
head -n 40 "$ev-truth.csv" >"$work/truth.csv"
head -n 20 "$ev-particles.csv" >"$work/particles.csv"
with_mode 00 "$work/hits.csv" "$out/trackml_csv/hits"
with_mode 01 "$work/particles.csv" "$out/trackml_csv/particles"
{ printf '\x02'; cat "$work/hits.csv"; printf '\n====\n'; cat "$work/truth.csv"; } >"$out/trackml_csv/truth"

"$HEPGNN" prepare --input "$work/ev" --out "$work/graphs.h5" --set n_phi_sections=1 \
    --set n_eta_sections=1 >/dev/null 2>&1
with_mode 00 "$work/graphs.h5" "$out/graph_file/raw"
# Edits (7 bytes each: kind, target, position x4, value) for the mutated mode.
printf '\x01\x00\x01\x00\x00\x00\x00\x40' >"$out/graph_file/flip_x"
printf '\x01\x01\x03\x00\x00\x00\x00\x01\x01\x0a\x00\x00\x00\x00\x80' >"$out/graph_file/resize_offsets"
printf '\x01\x03\x01\x00\x00\x00\x00\x02' >"$out/graph_file/flip_version"

"$HEPGNN" modulemap --input "$work/ev" --out "$work/map.json" >/dev/null 2>&1
cp "$work/map.json" "$out/module_map/map.json"

for f in "$src"/configs/*.yaml; do
    case "$(basename "$f")" in
        prepare_*) mode=01 ;;
        *) mode=00 ;;
    esac
    with_mode "$mode" "$f" "$out/config/$(basename "$f")"
done
printf '\x02pt_min: 0.5\ncoverage: 0.999\n' >"$out/config/modulemap"

cat >"$work/train.yaml" <<YAML
output_dir: $work/run
data: {train: $work/graphs.h5}
model: {hidden_dim: 4, n_graph_iters: 1}
training: {epochs: 1, threads: 1}
YAML
"$HEPGNN" train --config "$work/train.yaml" >/dev/null 2>&1
ckpt="$work/run/checkpoints/last.ckpt"
with_mode 00 "$ckpt" "$out/checkpoint/file"
# The metadata record of that checkpoint, as the metadata mode's input.
python3 - "$ckpt" "$out/checkpoint/metadata" <<'PY'
import io, sys, zipfile
archive = zipfile.ZipFile(io.BytesIO(open(sys.argv[1], "rb").read()[24:]))
data = b"".join(archive.read(n) for n in archive.namelist() if n.endswith("data.pkl"))
start = data.index(b'{"best_valid_loss"')  # a pickled string: its 4-byte length before it
n = int.from_bytes(data[start - 4:start], "little")
open(sys.argv[2], "wb").write(b"\x01" + data[start:start + n])
PY
echo "seeds in $out: $(find "$out" -type f | wc -l) files"
