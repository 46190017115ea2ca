#!/usr/bin/env bash
# Strong scaling of hepgnn training: the same data and the same global work
# per step at every rank count, so the ideal epoch time falls as 1/P.
set -euo pipefail
# shellcheck disable=SC2034  # read by scaling_lib.sh
MODE=strong
# shellcheck source=scaling_lib.sh disable=SC2154  # parse_args sets ranks and the rest
source "$(dirname "${BASH_SOURCE[0]}")/scaling_lib.sh"

usage() {
    cat <<'EOF'
Usage: scripts/slurm/strong_scaling.sh [OPTIONS] CONFIG [--set section.key=value]...

Submits one scripts/slurm/bench.sbatch job (hepgnn bench) per rank count P.
Strong scaling: every job trains on the same graphs (the config's data.train and
data.max_train_graphs) with the same global step of B edges, split over the
ranks: training.batch_edges = ceil(B / P) per rank. Steps per epoch, and so the
optimisation, stay the same; the ideal epoch time is T(1) / P.
Caveats: a step never splits a graph, so once B / P is below the mean graph size
(edges / graphs, see 'hepgnn inspect') the work per rank stops shrinking; and
each rank needs at least (steps per epoch) graphs.

Strong-scaling options:
  --global-batch-edges B  edges of one step over all ranks [the config's
                          training.batch_edges, else 200000]

EOF
    common_usage
    cat <<'EOF'

Example (2 cores, local cluster from scripts/slurm/local_cluster.sh):
  scripts/slurm/strong_scaling.sh --ranks "1 2" --ranks-per-node 2 --cpus-per-task 1 \
      --out /tmp/strong configs/bench.yaml --set training.epochs=3
EOF
}

global_batch=""
mode_option() {
    case "$1" in
        --global-batch-edges) global_batch="$2"; return 2 ;;
        --global-batch-edges=*) global_batch="${1#*=}"; return 1 ;;
    esac
    return 0
}

mode_sets() {
    echo "training.batch_edges=$(((global_batch + $1 - 1) / $1))"
}

parse_args "$@"
[[ -n $global_batch ]] || global_batch=$(config_value batch_edges 200000)
[[ $global_batch =~ ^[1-9][0-9]*$ ]] || die "--global-batch-edges must be a positive integer"
echo "strong_scaling: global step of $global_batch edges; ranks: $ranks"
submit_all
