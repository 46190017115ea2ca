#!/usr/bin/env bash
# A real one-node SLURM (munged + slurmctld + slurmd) owned by one folder, for
# tests and for trying the batch scripts on a workstation. Needs root (SlurmUser
# =root, as in CI) and the Debian packages slurmctld, slurmd, slurm-client,
# munge, libpmix2. No systemd: every socket, key, pid, log and state file lives
# under DIR, so several clusters can coexist and `stop` leaves nothing behind.
set -euo pipefail

usage() {
    cat <<'EOF'
Usage: scripts/slurm/local_cluster.sh start|stop|status|env DIR

  start   write DIR/slurm.conf, start munged, slurmctld and `slurmd -N localhost`,
          and wait (up to 30 s) until sinfo shows the node idle
  stop    stop the daemons started from DIR (by their pid files)
  status  print the daemons' state and sinfo; exit 1 when not running
  env     print `export SLURM_CONF=...` for eval in a shell

Slurm commands (sbatch, squeue, scontrol, srun) find this cluster through
SLURM_CONF=DIR/slurm.conf. Ports: LOCAL_SLURM_PORT (slurmctld; slurmd uses the
next one) or a free pair in 6817-7618. Node: NodeName=localhost with all
CPUs of this machine (nproc), partition `debug`, MpiDefault=pmix, no cgroups
(ProctrackType=proctrack/linuxproc, TaskPlugin=task/none: no CPU binding),
JobRequeue=1, MinJobAge=3600 (finished jobs stay visible to scontrol: there is
no slurmdbd, hence no sacct).
EOF
}

die() { echo "local_cluster: $*" >&2; exit 1; }

[[ $# -ge 1 && ( $1 == -h || $1 == --help ) ]] && { usage; exit 0; }
[[ $# -eq 2 && $1 =~ ^(start|stop|status|env)$ ]] || { usage >&2; exit 2; }
action="$1"
mkdir -p "$2"
dir="$(cd "$2" && pwd)"
conf="$dir/slurm.conf"
export SLURM_CONF="$conf"

# shellcheck source=scripts/slurm/cluster_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/cluster_lib.sh"

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

write_conf() {
    local port="${LOCAL_SLURM_PORT:-}"
    if [[ -z $port ]]; then
        # Start at a pid-dependent place so that clusters started at the same
        # moment (ctest -j) rarely race for one pair.
        local tries
        port=$((6817 + 2 * ($$ % 400)))
        for ((tries = 0; tries < 400; tries++)); do
            port_free "$port" && port_free $((port + 1)) && break
            port=$((port + 2 > 7617 ? 6817 : port + 2))
        done
        ((tries < 400)) || die "no free port pair in 6817-7618; set LOCAL_SLURM_PORT"
    fi
    local mem_mb
    mem_mb=$(awk '/^MemTotal:/ {print int($2 / 1024 * 0.9)}' /proc/meminfo)
    {
        echo "# Written by scripts/slurm/local_cluster.sh; one node, everything under $dir."
        slurm_conf_common "$dir" hepgnn-local "$(uname -n)(127.0.0.1)" "$port"
        cat <<EOF
NodeName=localhost NodeHostname=$(uname -n) NodeAddr=127.0.0.1 CPUs=$(nproc) RealMemory=$mem_mb State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
EOF
    } >"$conf"
}

wait_idle() {
    local i state
    for ((i = 0; i < 60; i++)); do
        state=$(sinfo -h -N -n localhost -o '%T' 2>/dev/null || true)
        [[ $state == idle ]] && return 0
        if [[ $state == down* || $state == drain* ]]; then
            scontrol update NodeName=localhost State=RESUME >/dev/null 2>&1 || true
        fi
        sleep 0.5
    done
    echo "local_cluster: node not idle after 30 s (state '${state:-unknown}'); logs:" >&2
    tail -n 20 "$dir"/log/*.log >&2 || true
    return 1
}

start() {
    [[ $(id -u) -eq 0 ]] || die "needs root (SlurmUser=root, munged key owned by root)"
    local bin
    for bin in munged slurmctld slurmd sinfo scontrol sbatch; do
        command -v "$bin" >/dev/null 2>&1 || PATH="$PATH:/usr/sbin" command -v "$bin" >/dev/null 2>&1 ||
            die "$bin not found; install slurmctld slurmd slurm-client munge (scripts/install-deps.sh)"
    done
    export PATH="$PATH:/usr/sbin"
    if [[ ! -f $conf ]] || ! pid_alive "$dir/run/slurmctld.pid"; then write_conf; fi
    start_munged "$dir"
    # -i: state files left by a killed run in DIR must not stop the start.
    pid_alive "$dir/run/slurmctld.pid" || slurmctld -i ||
        die "slurmctld failed to start; see $dir/log/slurmctld.log"
    pid_alive "$dir/run/slurmd-localhost.pid" || slurmd -N localhost ||
        die "slurmd failed to start; see $dir/log/slurmd-localhost.log"
    wait_idle
    echo "local_cluster: running; export SLURM_CONF=$conf"
}

stop() {
    # Jobs first, so that no step outlives its slurmd.
    if pid_alive "$dir/run/slurmctld.pid"; then
        scancel --full --quiet --partition=debug 2>/dev/null || true
        sleep 0.5
    fi
    stop_pidfile "$dir/run/slurmd-localhost.pid"
    stop_pidfile "$dir/run/slurmctld.pid"
    stop_pidfile "$dir/run/munged.pid"
    # Steps that slurmd left behind (slurmstepd keeps running without slurmd).
    kill_stray_steps "$conf"
    echo "local_cluster: stopped"
}

status() {
    local ok=0 name file
    for name in munged slurmctld slurmd-localhost; do
        file="$dir/run/$name.pid"
        if pid_alive "$file"; then echo "$name: running (pid $(cat "$file"))"; else echo "$name: stopped"; ok=1; fi
    done
    ((ok == 0)) && sinfo -N -l
    return $ok
}

case "$action" in
    start) start ;;
    stop) stop ;;
    status) status ;;
    env) echo "export SLURM_CONF=$conf" ;;
esac
