# Shared helpers for the integration tests (sourced, not run).
set -euo pipefail
: "${HEPGNN:?set HEPGNN to the hepgnn binary}"
: "${HEPGNN_SOURCE_DIR:?set HEPGNN_SOURCE_DIR}"
MPIEXEC="${MPIEXEC:-mpirun}"
# This folder, absolute (tests cd elsewhere and call each other and helpers).
TESTS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PYTHON="${PYTHON:-/usr/bin/python3}"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
WORK="$(mktemp -d -t hepgnn-it.XXXXXX)"
trap 'rm -rf "$WORK"' EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }

mpi() { local np="$1"; shift; "$MPIEXEC" --allow-run-as-root --oversubscribe --bind-to none -np "$np" "$@"; }

# launch NP command...: NP ranks through $HEPGNN_LAUNCH when set (e.g.
# "srun --mpi=pmix -N 2 -n", for the virtual cluster), else mpirun.
launch() {
    local np="$1"; shift
    if [[ -n ${HEPGNN_LAUNCH:-} ]]; then
        # shellcheck disable=SC2086  # word splitting wanted
        $HEPGNN_LAUNCH "$np" "$@"
    else
        mpi "$np" "$@"
    fi
}

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

# rank_pid RANK PATTERN: the pid of MPI rank RANK (mpirun's or srun's) among
# processes whose command line matches PATTERN (empty when there is none).
rank_pid() {
    local pid
    for pid in $(pgrep -f "$2" || true); do
        [[ -r /proc/$pid/environ ]] || continue
        # hepgnn, or hepgnn-torch that it execs (Note [Torch-free front end]); not srun, mpirun
        case $(readlink "/proc/$pid/exe" 2>/dev/null) in */hepgnn | */hepgnn-torch) ;; *) continue ;; esac
        tr '\0' '\n' <"/proc/$pid/environ" | grep -qxE "(OMPI_COMM_WORLD_RANK|SLURM_PROCID)=$1" &&
            { echo "$pid"; return; }
    done
}

# start_watchdog SECONDS PID...: kills the PIDs after SECONDS, so that a test
# never hangs; stop_watchdog ends it (and its sleep, which would otherwise
# hold the test's output open).
start_watchdog() {
    local seconds="$1"; shift
    ( sleep "$seconds"; kill -9 "$@" ) >/dev/null 2>&1 &
    WATCHDOG=$!
}
stop_watchdog() {
    pkill -P "$WATCHDOG" 2>/dev/null || true
    kill "$WATCHDOG" 2>/dev/null || true
}

# wait_launcher SECONDS LAUNCHER [PID...]: waits for LAUNCHER (mpirun, srun)
# to end, under a watchdog that kills it and the PIDs after SECONDS; sets RC
# to its exit status and ELAPSED to the seconds waited.
wait_launcher() {
    local start=$SECONDS
    start_watchdog "$@"
    RC=0
    wait "$2" || RC=$?
    ELAPSED=$((SECONDS - start))
    stop_watchdog
}

# expect_checkpoint_loads CKPT DATA.h5 AFTER: `evaluate` still loads CKPT.
expect_checkpoint_loads() {
    "$HEPGNN" evaluate --checkpoint "$1" --data "$2" --out "$(mktemp -d -p "$WORK")" >/dev/null 2>&1 ||
        fail "$(basename "$1") is not loadable after $3"
}

# wait_nodes_free: until no SLURM node is allocated or completing (at most 60 s).
wait_nodes_free() {
    for _ in $(seq 120); do
        [[ -z $(sinfo -h -t completing,allocated,mixed -o '%D') ]] && return 0
        sleep 0.5
    done
}

# wait_for_line PATTERN FILE SECONDS: waits until FILE has a line matching PATTERN.
wait_for_line() {
    local deadline=$((SECONDS + $3))
    while ((SECONDS < deadline)); do
        grep -q "$1" "$2" 2>/dev/null && return 0
        sleep 0.05
    done
    cat "$2" >&2
    fail "no line '$1' in $2 after $3 s"
}

# small_graphs OUT.h5 SEED [EVENTS]: a few small simulated events (pT > 1 GeV
# graphs) for tests that need training data, not quality.
small_graphs() {
    local out="$1" seed="$2" events="${3:-4}" dir
    dir="$(mktemp -d -p "$WORK")"
    "$HEPGNN" simulate --out "$dir" --events "$events" --particles 1500 --seed "$seed" >/dev/null 2>&1
    "$HEPGNN" prepare --input "$dir" --out "$out" --set pt_min=1 >/dev/null 2>&1
}

# --- SLURM tests: a real one-node cluster under $WORK (scripts/slurm/local_cluster.sh).

# require_slurm: fails when the SLURM daemons or commands are missing.
# scripts/install-deps.sh installs them, so a missing one is a broken set-up,
# never a pass (ctest would count an exit 0 "skip" as passed).
require_slurm() {
    local b
    for b in munged slurmctld slurmd sbatch scontrol sinfo srun; do
        if ! command -v "$b" >/dev/null 2>&1 && [[ ! -x /usr/sbin/$b ]]; then
            fail "$b not installed (scripts/install-deps.sh installs slurm-wlm, munge, libpmix2)"
        fi
    done
}

# start_slurm: starts the cluster in $WORK/slurm, exports SLURM_CONF, and stops
# it on exit (before $WORK goes).
start_slurm() {
    local lc="$HEPGNN_SOURCE_DIR/scripts/slurm/local_cluster.sh"
    trap 'bash "$HEPGNN_SOURCE_DIR/scripts/slurm/local_cluster.sh" stop "$WORK/slurm" >/dev/null 2>&1 || true; rm -rf "$WORK"' EXIT
    bash "$lc" start "$WORK/slurm" >/dev/null || fail "local SLURM cluster did not start"
    export SLURM_CONF="$WORK/slurm/slurm.conf"
}

# --- Multi-node tests: a virtual cluster of network-namespace hosts under
# $WORK (scripts/slurm/virtual_cluster.sh), stopped on exit.
start_virtual_cluster() {
    local vc="$HEPGNN_SOURCE_DIR/scripts/slurm/virtual_cluster.sh"
    trap 'bash "$HEPGNN_SOURCE_DIR/scripts/slurm/virtual_cluster.sh" stop "$WORK/vc" >/dev/null 2>&1 || true; rm -rf "$WORK"' EXIT
    bash "$vc" start "$WORK/vc" "${1:-2}" >"$WORK/vc-start.txt" 2>&1 ||
        { cat "$WORK/vc-start.txt" >&2; fail "virtual cluster did not start"; }
    eval "$(bash "$vc" env "$WORK/vc")"
}

job_field() { scontrol show job -o "$1" 2>/dev/null | tr ' ' '\n' | sed -n "s/^$2=//p" | head -n 1; }

# dump_job JOBID OUTFILE: what a failing SLURM test prints.
dump_job() {
    scontrol show job "$1" >&2 || true
    echo "---- job output $2 ----" >&2
    cat "$2" >&2 || true
    echo "---- slurmd/slurmctld logs ----" >&2
    tail -n 30 "$WORK"/{slurm,vc}/log/slurmd-*.log "$WORK"/{slurm,vc}/log/slurmctld.log 2>/dev/null >&2 || true
}

# wait_job JOBID OUTFILE TIMEOUT_S: waits until the job ends (any final state)
# and echoes that state. Slurm holds a requeued batch job for 120 s (its
# BeginTime) so that the node can clean up; here, release it as soon as the
# old step's files are gone from slurmd's spool (a step started earlier fails
# to bind its PMIx socket, and srun then exits 0 without running anything),
# and not within 2 s of the requeue: slurmd compares the revoked credential's
# time with the new start in whole seconds, and refuses a launch in the same
# second ("Job credential revoked").
wait_job() {
    local id="$1" out="$2" deadline=$((SECONDS + $3)) state reason held_since=""
    local spool="$WORK/slurm/spool/slurmd-localhost"
    while ((SECONDS < deadline)); do
        state=$(job_field "$id" JobState)
        case "$state" in
            COMPLETED | FAILED | CANCELLED | TIMEOUT | NODE_FAIL | OUT_OF_MEMORY | BOOT_FAIL | DEADLINE | PREEMPTED)
                echo "$state"
                return 0
                ;;
            PENDING)
                reason=$(job_field "$id" Reason)
                if [[ $reason == BeginTime && $(job_field "$id" Restarts) != 0 ]]; then
                    held_since="${held_since:-$SECONDS}"
                else
                    held_since=""
                fi
                if [[ -n $held_since ]] && ((SECONDS - held_since >= 2)) &&
                    ! compgen -G "$spool/*[._]$id.*" >/dev/null; then
                    scontrol update JobId="$id" StartTime=now >/dev/null 2>&1 || true
                fi
                ;;
        esac
        sleep 0.5
    done
    dump_job "$id" "$out"
    fail "job $id still ${state:-unknown} after $3 s"
}
