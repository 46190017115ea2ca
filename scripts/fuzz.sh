#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan + UBSan, fuzz/) and runs each one
# for SECONDS_PER_TARGET seconds (default 60), corpora growing across runs in
# $FUZZ_BUILD_DIR/corpus. Exits non-zero on any finding: a crash, a hang
# (-timeout), a sanitizer report, an exception other than hepgnn::Error, or an
# error message of more than one line. Findings land in
# $FUZZ_BUILD_DIR/findings/<target>/; fix the bug, then keep the input in
# fuzz/regressions/<target>/ so ctest fuzz_replay replays it for good.
# Every run appends its figures to $FUZZ_BUILD_DIR/fuzz_log.jsonl; the table
# printed at the end sums them per target (README's fuzzing table).
# Usage: scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
seconds="${1:-60}"
shift || true
targets=("$@")  # default: every target fuzz/CMakeLists.txt builds (after the build below)
build="$(realpath -m "${FUZZ_BUILD_DIR:-$here/build-fuzz}")"

if [[ $seconds == -h || $seconds == --help ]]; then
    sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'
    exit 0
fi
[[ $seconds =~ ^[0-9]+$ && $seconds -gt 0 ]] || { echo "fuzz.sh: SECONDS_PER_TARGET must be a positive integer, not '$seconds'" >&2; exit 2; }

mkdir -p "$build"
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
cmake -S "$here" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ "${launcher[@]}" \
    -DHEPGNN_FUZZ=ON -DHEPGNN_SANITIZE=address,undefined \
    -DHEPGNN_BUILD_TESTS=OFF -DHEPGNN_BUILD_BENCH=OFF -DHEPGNN_HEADER_CHECK=OFF \
    -DHEPGNN_WITH_CUDA=OFF -DHEPGNN_WITH_ONNX=OFF >"$build/configure.log" 2>&1 ||
    { cat "$build/configure.log" >&2; echo "fuzz.sh: cmake configure failed" >&2; exit 1; }
cmake --build "$build" --target hepgnn_fuzz_targets -j2 >"$build/build.log" 2>&1 ||
    { tail -n 40 "$build/build.log" >&2; echo "fuzz.sh: building the fuzz targets failed" >&2; exit 1; }
if ((${#targets[@]} == 0)); then
    for bin in "$build"/fuzz/hepgnn_fuzz_*; do
        [[ -x $bin && ! -d $bin ]] && targets+=("${bin##*/hepgnn_fuzz_}")
    done
fi
((${#targets[@]})) || { echo "fuzz.sh: no fuzz targets were built in $build/fuzz" >&2; exit 1; }

# Seeds from a regular build's hepgnn (scripts/test.sh and .ci/run make one).
hepgnn="${HEPGNN:-$here/build/bin/hepgnn}"
[[ -x $hepgnn ]] || "$here/scripts/build.sh" >/dev/null
rm -rf "$build/seeds"
HEPGNN="$hepgnn" bash "$here/fuzz/make_seeds.sh" "$build/seeds" >/dev/null

# libtorch and yaml-cpp are not instrumented: allocations they free across
# their own new/delete pairs are not ours to judge, and LeakSanitizer would
# report torch's lifetime caches on every input.
export ASAN_OPTIONS="alloc_dealloc_mismatch=0:detect_leaks=0:abort_on_error=1:symbolize=1"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
status=0
for t in "${targets[@]}"; do
    bin="$build/fuzz/hepgnn_fuzz_$t"
    [[ -x $bin ]] || { echo "fuzz.sh: no target '$t'" >&2; exit 2; }
    mkdir -p "$build/corpus/$t" "$build/findings/$t"
    log="$build/findings/$t.log"
    inputs=("$build/corpus/$t" "$build/seeds/$t")
    [[ -d $here/fuzz/regressions/$t ]] && inputs+=("$here/fuzz/regressions/$t")
    rc=0
    (cd "$build/findings/$t" && "$bin" -max_total_time="$seconds" -timeout=20 -rss_limit_mb=4096 \
        -max_len=262144 -print_final_stats=1 -artifact_prefix="$build/findings/$t/" \
        "${inputs[@]}") >"$log" 2>&1 || rc=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    last=$(grep -E '^#[0-9]+' "$log" | tail -n 1)
    cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
    ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
    corp=$(find "$build/corpus/$t" -type f | wc -l)
    findings=$(find "$build/findings/$t" -maxdepth 1 -type f \( -name 'crash-*' -o -name 'timeout-*' -o -name 'oom-*' -o -name 'leak-*' \) | wc -l)
    printf '{"target":"%s","seconds":%d,"execs":%d,"cov":%d,"ft":%d,"corpus":%d,"findings":%d,"rc":%d,"date":"%s"}\n' \
        "$t" "$seconds" "${execs:-0}" "${cov:-0}" "${ft:-0}" "$corp" "$findings" "$rc" "$(date -u +%FT%TZ)" \
        >>"$build/fuzz_log.jsonl"
    if ((rc != 0 || findings > 0)); then
        status=1
        echo "fuzz.sh: $t: FINDING (exit $rc); input in $build/findings/$t/, log $log" >&2
        grep -E "ERROR|SUMMARY|runtime error|terminate|uncaught|not one line" "$log" | head -n 5 >&2 || true
    else
        echo "fuzz.sh: $t: ${execs:-0} executions in ${seconds} s, cov ${cov:-0}, ft ${ft:-0}, corpus $corp, no finding"
    fi
done

python3 - "$build/fuzz_log.jsonl" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
print(f"{'target':<12} {'hours':>6} {'executions':>12} {'cov':>6} {'ft':>7} {'corpus':>7}  runs with findings")
for t in sorted({r["target"] for r in rows}):
    rs = [r for r in rows if r["target"] == t]
    last = rs[-1]
    bad = sum(1 for r in rs if r["rc"] or r["findings"])
    print(f"{t:<12} {sum(r['seconds'] for r in rs) / 3600:6.2f} {sum(r['execs'] for r in rs):12d} "
          f"{max(r['cov'] for r in rs):6d} {max(r['ft'] for r in rs):7d} {last['corpus']:7d}  {bad}")
PY
exit $status
