# shellcheck shell=bash
# Shared by strong_scaling.sh and weak_scaling.sh (sourced, not run): option
# parsing, one bench.sbatch job per rank count, --dry-run and --wait.
# The caller sets MODE (strong|weak), defines mode_usage, mode_option (returns
# the number of arguments it consumed, 0 if the option is not its own) and
# mode_sets P (prints one --set override per line for P ranks).

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"

die() { echo "${MODE}_scaling: $*" >&2; exit 2; }

common_usage() {
    cat <<EOF
Common options:
  --ranks "1 2 4 ..."     rank counts, one job each [\$RANKS or "1 2 4 8 16 32 64"]
  --ranks-per-node N      MPI ranks per node [\$RANKS_PER_NODE or 4]
  --cpus-per-task C       cores (threads) per rank [\$CPUS_PER_TASK or 8]
  --repeat R              jobs per rank count, reports npP_rI.json [1]
  --out DIR               results folder: npP_rI.json, logs/, run/ [out/scaling/$MODE]
  --sbatch-arg ARG        extra sbatch option, repeatable (e.g. --sbatch-arg=--partition=cpu;
                          SBATCH_PARTITION/SBATCH_ACCOUNT in the environment work too)
  --parallel              let the jobs run at the same time (default: one after another,
                          sbatch --dependency=singleton, so they never share nodes or file systems)
  --dry-run               print the sbatch commands, submit nothing
  --wait                  wait for the jobs, then run scripts/scaling_report.py on DIR
  -h, --help              this help
Arguments after CONFIG are passed to hepgnn bench (--set section.key=value ...);
the scaling overrides above come after them and win.
Then: /usr/bin/python3 scripts/scaling_report.py DIR   (table, JSON, plots)
      /usr/bin/python3 scripts/scaling_model.py --help  (projection to many ranks)
EOF
}

parse_args() {
    ranks="${RANKS:-1 2 4 8 16 32 64}"
    ranks_per_node="${RANKS_PER_NODE:-4}"
    cpus="${CPUS_PER_TASK:-8}"
    repeat=1
    out="out/scaling/$MODE"
    dry_run=0
    wait_jobs=0
    parallel=0
    sbatch_extra=()
    config=""
    bench_args=()
    local n
    while [[ $# -gt 0 ]]; do
        if [[ -z $config ]]; then
            case "$1" in
                -h | --help) usage; exit 0 ;;
                --ranks) ranks="$2"; shift 2; continue ;;
                --ranks=*) ranks="${1#*=}"; shift; continue ;;
                --ranks-per-node) ranks_per_node="$2"; shift 2; continue ;;
                --ranks-per-node=*) ranks_per_node="${1#*=}"; shift; continue ;;
                --cpus-per-task) cpus="$2"; shift 2; continue ;;
                --cpus-per-task=*) cpus="${1#*=}"; shift; continue ;;
                --repeat) repeat="$2"; shift 2; continue ;;
                --repeat=*) repeat="${1#*=}"; shift; continue ;;
                --out) out="$2"; shift 2; continue ;;
                --out=*) out="${1#*=}"; shift; continue ;;
                --sbatch-arg) sbatch_extra+=("$2"); shift 2; continue ;;
                --sbatch-arg=*) sbatch_extra+=("${1#*=}"); shift; continue ;;
                --parallel) parallel=1; shift; continue ;;
                --dry-run) dry_run=1; shift; continue ;;
                --wait) wait_jobs=1; shift; continue ;;
                -*)
                    n=0
                    mode_option "$@" || n=$?
                    ((n > 0)) || die "unknown option '$1' (see --help)"
                    shift "$n"
                    continue
                    ;;
                *) config="$1"; shift; continue ;;
            esac
        fi
        bench_args+=("$1")
        shift
    done
    [[ -n $config ]] || { usage >&2; exit 2; }
    [[ -f $config ]] || die "config '$config' not found"
    config="$(cd "$(dirname "$config")" && pwd)/$(basename "$config")"
    out="$(realpath -m "$out")"
    local p
    for p in $ranks; do [[ $p =~ ^[1-9][0-9]*$ ]] || die "--ranks: '$p' is not a positive integer"; done
    [[ $ranks_per_node =~ ^[1-9][0-9]*$ ]] || die "--ranks-per-node must be a positive integer"
    [[ $cpus =~ ^[1-9][0-9]*$ ]] || die "--cpus-per-task must be a positive integer"
    [[ $repeat =~ ^[1-9][0-9]*$ ]] || die "--repeat must be a positive integer"
}

# config_value KEY DEFAULT: a number from the config's YAML (block or flow
# style, first match), good enough for training.batch_edges and friends.
config_value() {
    local v
    v=$(grep -oE "(^|[ {,])$1: *[0-9]+" "$config" | head -n 1 | grep -oE '[0-9]+$' || true)
    echo "${v:-$2}"
}

submit_all() {
    local p r nodes per_node report name cmd jobid
    local -a sets ids=()
    ((dry_run)) || mkdir -p "$out/logs"
    name="hepgnn-$MODE"
    for r in $(seq 1 "$repeat"); do
        for p in $ranks; do
            nodes=$(((p + ranks_per_node - 1) / ranks_per_node))
            per_node=$((p < ranks_per_node ? p : ranks_per_node))
            report="$out/np${p}_r${r}.json"
            sets=(--set "output_dir=$out/run/np${p}_r${r}")
            while IFS= read -r line; do [[ -n $line ]] && sets+=(--set "$line"); done < <(mode_sets "$p")
            cmd=(sbatch --parsable --job-name="$name" --nodes="$nodes" --ntasks="$p"
                --ntasks-per-node="$per_node" --cpus-per-task="$cpus"
                --output="$out/logs/${MODE}_np${p}_r${r}-%j.out")
            ((parallel)) || cmd+=(--dependency=singleton)
            cmd+=("${sbatch_extra[@]}" "$here/bench.sbatch" "$config" "$report" "${bench_args[@]}" "${sets[@]}")
            if ((dry_run)); then
                printf '%q ' "${cmd[@]}"
                echo
                continue
            fi
            jobid=$(HEPGNN_HOME="${HEPGNN_HOME:-$repo}" "${cmd[@]}") || die "sbatch failed for $p ranks"
            jobid="${jobid%%;*}"
            ids+=("$jobid")
            echo "$jobid $p $r $report" >>"$out/jobs.txt"
            echo "${MODE}_scaling: job $jobid: $p rank(s) x $cpus cpu(s) on $nodes node(s) -> $report"
        done
    done
    ((dry_run)) && return 0
    if ((wait_jobs)); then
        echo "${MODE}_scaling: waiting for ${#ids[@]} job(s)"
        local joined
        joined=$(IFS=,; echo "${ids[*]}")
        while [[ -n $(squeue -h -j "$joined" -o %i 2>/dev/null) ]]; do sleep 2; done
        /usr/bin/python3 "$repo/scripts/scaling_report.py" --mode "$MODE" --out "$out" "$out"
    else
        echo "${MODE}_scaling: when the jobs are done: /usr/bin/python3 $repo/scripts/scaling_report.py --mode $MODE --out $out $out"
    fi
}
