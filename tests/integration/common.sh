# Shared helpers for the integration tests (sourced, not run).
set -euo pipefail
: "${HEPGNN:?set HEPGNN to the hepgnn binary}"
: "${HEPGNN_SOURCE_DIR:?set HEPGNN_SOURCE_DIR}"
MPIEXEC="${MPIEXEC:-mpirun}"
PYTHON="${PYTHON:-/usr/bin/python3}"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
WORK="$(mktemp -d -t hepgnn-it.XXXXXX)"
trap 'rm -rf "$WORK"' EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }

mpi() { local np="$1"; shift; "$MPIEXEC" --allow-run-as-root --oversubscribe --bind-to none -np "$np" "$@"; }

# expect_error "substring" command...: the command must fail with exit != 0,
# print the substring on stderr as one line, and no stack trace or abort.
expect_error() {
    local want="$1"; shift
    local err="$WORK/stderr.txt" rc=0
    "$@" >/dev/null 2>"$err" || rc=$?
    [[ $rc -ne 0 ]] || fail "expected failure of: $*"
    [[ $rc -lt 128 ]] || fail "crashed with signal (status $rc): $*"
    grep -qF -- "$want" "$err" || { cat "$err" >&2; fail "stderr lacks '$want' for: $*"; }
    local lines; lines=$(grep -c . "$err" || true)
    [[ $lines -eq 1 ]] || { cat "$err" >&2; fail "expected one error line, got $lines: $*"; }
}

# small_graphs OUT.h5 SEED [EVENTS]: a few small simulated events (pT > 1 GeV
# graphs) for tests that need training data, not quality.
small_graphs() {
    local out="$1" seed="$2" events="${3:-4}" dir
    dir="$(mktemp -d -p "$WORK")"
    "$HEPGNN" simulate --out "$dir" --events "$events" --particles 1500 --seed "$seed" >/dev/null 2>&1
    "$HEPGNN" prepare --input "$dir" --out "$out" --set pt_min=1 >/dev/null 2>&1
}
