#!/usr/bin/env bash
# Reproduces README's training-rank memory figure (issue #17): the peak RSS of one training
# rank on a shard of several GB raw against (its compressed shard + one step's working set).
#  1. A big graph file: the graphs of TRAIN (out/demo/train.h5, scripts/demo.sh makes it)
#     repeated COPIES times (default 12: 4.5 GB raw for the demo's 32 events).
#  2. `hepgnn train` (configs/full.yaml, 1 rank) on 64 of its graphs, one epoch: the peak RSS
#     of the process with a negligible shard, i.e. libraries + model + one step's working set.
#  3. The same on the whole file, stopped by SIGUSR1 after SECONDS (default 240) of training:
#     its peak RSS, beside the compressed shard it reports.
# Peak RSS from /usr/bin/time -v. Output in OUT (out/big_shard).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [[ ${1:-} == -h || ${1:-} == --help ]]; then sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0; fi
train="${TRAIN:-$here/out/demo/train.h5}"
out="${OUT:-$here/out/big_shard}"
copies="${COPIES:-12}"
seconds="${SECONDS_OF_TRAINING:-240}"
hepgnn="$here/build/bin/hepgnn"
[[ -f $train && -x $hepgnn ]] || { echo "bench_memory.sh: need $train (scripts/demo.sh) and $hepgnn (scripts/build.sh)" >&2; exit 1; }
mkdir -p "$out"
/usr/bin/python3 "$here/scripts/replicate_graphs.py" "$train" "$out/train.h5" "$copies"
for run in small:64 big:0; do
    IFS=: read -r name graphs <<<"$run"
    rm -rf "${out:?}/$name"
    rc=0  # 124: timeout sent SIGUSR1 (the run checkpoints and stops)
    /usr/bin/time -v -o "$out/$name.time" timeout -s USR1 "$seconds" "$hepgnn" train \
        --config "$here/configs/full.yaml" --set output_dir="$out/$name" \
        --set data.train="$out/train.h5" --set data.valid= --set data.max_train_graphs="$graphs" \
        --set training.epochs=1 >"$out/$name.log" 2>&1 || rc=$?
    ((rc == 0 || rc == 124)) || { tail -n 5 "$out/$name.log" >&2; echo "bench_memory.sh: train ($name) failed" >&2; exit 1; }
done
/usr/bin/python3 - "$out" <<'PY'
import json, re, sys
out = sys.argv[1]
def peak_mb(name):
    text = open(f"{out}/{name}.time").read()
    return int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", text).group(1)) * 1024 / 1e6  # KiB to MB (the store reports MB)
def store(name):
    m = re.search(r"store \w+: ([\d.]+) MB raw, ([\d.]+) MB compressed", open(f"{out}/{name}.log").read())
    return float(m.group(1)), float(m.group(2))
raw, compressed = store("big")
small, big = peak_mb("small"), peak_mb("big")
report = {"shard_raw_mb": raw, "shard_compressed_mb": compressed, "small_shard_peak_rss_mb": small,
          "big_shard_peak_rss_mb": big, "peak_over_compressed_plus_step": big / (compressed + small)}
json.dump(report, open(f"{out}/bench_memory.json", "w"), indent=2)
print(f"shard {raw:.0f} MB raw, {compressed:.0f} MB compressed; peak RSS {big:.0f} MB against "
      f"{compressed:.0f} + {small:.0f} MB (64-graph run) = {compressed + small:.0f} MB: "
      f"{report['peak_over_compressed_plus_step']:.2f}x")
PY
