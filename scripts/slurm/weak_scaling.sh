#!/usr/bin/env bash
# Weak scaling of hepgnn training: the same data and work per rank at every
# rank count, so the ideal epoch time stays constant.
set -euo pipefail
# shellcheck disable=SC2034  # read by scaling_lib.sh
MODE=weak
# shellcheck source=scaling_lib.sh disable=SC2154  # parse_args sets ranks and the rest
source "$(dirname "${BASH_SOURCE[0]}")/scaling_lib.sh"

usage() {
    cat <<'EOF'
Usage: scripts/slurm/weak_scaling.sh [OPTIONS] CONFIG [--set section.key=value]...

Submits one scripts/slurm/bench.sbatch job (hepgnn bench) per rank count P.
Weak scaling: every rank trains on G graphs with steps of E edges, whatever P:
data.max_train_graphs = G * P and training.batch_edges = E. The ideal epoch time
is T(1); the graph file must hold at least G * max(P) graphs (or give a file
per rank count with --data-template).

Weak-scaling options:
  --graphs-per-rank G     graphs per rank [the config's data.max_train_graphs, else 32]
  --batch-edges E         edges of one rank's step [the config's training.batch_edges,
                          else 200000]
  --data-template PATH    training file per rank count, {ranks} replaced by P
                          (e.g. data/graphs_{ranks}x.h5); sets data.train

EOF
    common_usage
    cat <<'EOF'

Example (2 cores, local cluster from scripts/slurm/local_cluster.sh):
  scripts/slurm/weak_scaling.sh --ranks "1 2" --ranks-per-node 2 --cpus-per-task 1 \
      --graphs-per-rank 16 --out /tmp/weak configs/bench.yaml --set training.epochs=3
EOF
}

graphs_per_rank=""
batch_edges=""
data_template=""
mode_option() {
    case "$1" in
        --graphs-per-rank) graphs_per_rank="$2"; return 2 ;;
        --graphs-per-rank=*) graphs_per_rank="${1#*=}"; return 1 ;;
        --batch-edges) batch_edges="$2"; return 2 ;;
        --batch-edges=*) batch_edges="${1#*=}"; return 1 ;;
        --data-template) data_template="$2"; return 2 ;;
        --data-template=*) data_template="${1#*=}"; return 1 ;;
    esac
    return 0
}

mode_sets() {
    echo "data.max_train_graphs=$((graphs_per_rank * $1))"
    echo "training.batch_edges=$batch_edges"
    [[ -z $data_template ]] || echo "data.train=${data_template//\{ranks\}/$1}"
}

parse_args "$@"
[[ -n $graphs_per_rank ]] || graphs_per_rank=$(config_value max_train_graphs 32)
[[ -n $batch_edges ]] || batch_edges=$(config_value batch_edges 200000)
[[ $graphs_per_rank =~ ^[1-9][0-9]*$ ]] || die "--graphs-per-rank must be a positive integer"
[[ $batch_edges =~ ^[1-9][0-9]*$ ]] || die "--batch-edges must be a positive integer"
echo "weak_scaling: $graphs_per_rank graphs and $batch_edges-edge steps per rank; ranks: $ranks"
submit_all
