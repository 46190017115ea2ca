#!/usr/bin/env bash
# A virtual multi-node SLURM cluster on this one machine, for the multi-node
# tests: N hosts, each a Linux network namespace (its own interface, address
# and hostname) joined to the others by a bridge, with its own slurmd; one
# slurmctld and one munged in the root namespace. Open MPI ranks on different
# hosts talk TCP over the bridge, never shared memory. Needs root and `ip`.
set -euo pipefail

usage() {
    cat <<'EOF'
Usage: scripts/slurm/virtual_cluster.sh start DIR [NODES]
       scripts/slurm/virtual_cluster.sh stop|status|env DIR
       scripts/slurm/virtual_cluster.sh cut|heal DIR NODE

  start   NODES hosts (default 2) named vc1..vcN: network namespaces with
          addresses 10.77.K.11.. (K from VC_SUBNET, default 77) on a bridge
          whose root-side address 10.77.K.1 runs slurmctld; munged, slurmctld
          and one `slurmd -N vcI` per host; waits until every node is idle
  stop    stops the daemons and removes the namespaces, links and bridge
  cut     takes NODE's link down (its packets vanish, as with a failed switch
          port: no connection is reset); heal brings it back
  status  the daemons and sinfo; exit 1 when not running
  env     `export SLURM_CONF=...` and the Open MPI settings for TCP over the
          bridge, for eval in a shell

Jobs see OMPI_MCA_btl_tcp_if_include and OMPI_MCA_oob_tcp_if_include set to
the bridge's subnet (sbatch and srun pass the environment on).
EOF
}

die() { echo "virtual_cluster: $*" >&2; exit 1; }

[[ $# -ge 1 && ($1 == -h || $1 == --help) ]] && { usage; exit 0; }
[[ $# -ge 2 && $1 =~ ^(start|stop|status|env|cut|heal)$ ]] || { usage >&2; exit 2; }
action="$1"
mkdir -p "$2"
dir="$(cd "$2" && pwd)"
conf="$dir/slurm.conf"
export SLURM_CONF="$conf" PATH="$PATH:/usr/sbin"
# The subnet a started cluster was given is kept in DIR, so stop, cut and heal
# find its namespaces whatever VC_SUBNET says then.
if [[ $action != start && -s $dir/subnet ]]; then
    subnet_id=$(cat "$dir/subnet")
else
    subnet_id="${VC_SUBNET:-77}"
fi
[[ $subnet_id =~ ^[0-9]+$ && $subnet_id -ge 1 && $subnet_id -le 254 ]] || die "VC_SUBNET must be 1..254"
net="10.77.$subnet_id"
# Interface names are at most 15 characters.
prefix="hgv$subnet_id"
bridge="${prefix}br"

node_count() { cat "$dir/nodes" 2>/dev/null || echo 0; }
ns_of() { echo "${prefix}n$1"; }
veth_of() { echo "${prefix}v$1"; }

# shellcheck source=scripts/slurm/cluster_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/cluster_lib.sh"

make_network() {
    local n="$1" i ns veth
    ip link show "$bridge" >/dev/null 2>&1 || {
        ip link add "$bridge" type bridge
        ip addr add "$net.1/24" dev "$bridge"
    }
    ip link set "$bridge" up
    for ((i = 1; i <= n; i++)); do
        ns=$(ns_of "$i")
        veth=$(veth_of "$i")
        ip netns list | grep -qw "$ns" || ip netns add "$ns"
        if ! ip link show "$veth" >/dev/null 2>&1; then
            ip link add "$veth" type veth peer name eth0 netns "$ns"
            ip link set "$veth" master "$bridge"
            ip netns exec "$ns" ip addr add "$net.$((10 + i))/24" dev eth0
        fi
        ip link set "$veth" up
        ip netns exec "$ns" ip link set lo up
        ip netns exec "$ns" ip link set eth0 up
        ip netns exec "$ns" ip route replace default via "$net.1"
    done
}

remove_network() {
    local n i
    n=$(node_count)
    for ((i = 1; i <= n; i++)); do
        ip link del "$(veth_of "$i")" 2>/dev/null || true
        ip netns del "$(ns_of "$i")" 2>/dev/null || true
    done
    ip link del "$bridge" 2>/dev/null || true
}

write_conf() {
    local n="$1" port=$((7620 + 2 * subnet_id)) i mem_mb nodes=""
    mem_mb=$(awk -v n="$n" '/^MemTotal:/ {print int($2 / 1024 * 0.9 / n)}' /proc/meminfo)
    {
        echo "# Written by scripts/slurm/virtual_cluster.sh: $n hosts in network namespaces."
        slurm_conf_common "$dir" hepgnn-virtual "$(uname -n)($net.1)" "$port"
        for ((i = 1; i <= n; i++)); do
            echo "NodeName=vc$i NodeHostname=vc$i NodeAddr=$net.$((10 + i)) CPUs=$(nproc) RealMemory=$mem_mb State=UNKNOWN"
            nodes+="${nodes:+,}vc$i"
        done
        echo "PartitionName=debug Nodes=$nodes Default=YES MaxTime=INFINITE State=UP"
    } >"$conf"
    echo "$n" >"$dir/nodes"
    echo "$subnet_id" >"$dir/subnet"
}

wait_idle() {
    local n="$1" i idle
    for ((i = 0; i < 120; i++)); do
        idle=$(sinfo -h -N -o '%N %T' 2>/dev/null | awk '$2 == "idle"' | wc -l)
        ((idle == n)) && return 0
        sinfo -h -N -o '%N %T' 2>/dev/null | awk '$2 ~ /^(down|drain)/ {print $1}' |
            while read -r node; do scontrol update NodeName="$node" State=RESUME >/dev/null 2>&1 || true; done
        sleep 0.5
    done
    echo "virtual_cluster: only $idle of $n nodes idle after 60 s; logs:" >&2
    sinfo -N >&2 || true
    tail -n 20 "$dir"/log/*.log >&2 || true
    return 1
}

mpi_env() {
    echo "export SLURM_CONF=$conf"
    echo "export OMPI_MCA_btl_tcp_if_include=$net.0/24 OMPI_MCA_oob_tcp_if_include=$net.0/24"
}

start() {
    [[ $(id -u) -eq 0 ]] || die "needs root (network namespaces, SlurmUser=root)"
    local n="${1:-2}" i bin
    [[ $n =~ ^[1-9][0-9]*$ && $n -le 16 ]] || die "NODES must be 1..16"
    for bin in ip munged slurmctld slurmd sinfo scontrol unshare; do
        command -v "$bin" >/dev/null 2>&1 || die "$bin not found (scripts/install-deps.sh installs it)"
    done
    write_conf "$n"
    make_network "$n"
    start_munged "$dir"
    pid_alive "$dir/run/slurmctld.pid" || slurmctld -i || die "slurmctld failed; see $dir/log/slurmctld.log"
    for ((i = 1; i <= n; i++)); do
        pid_alive "$dir/run/slurmd-vc$i.pid" && continue
        mkdir -p "$dir/spool/slurmd-vc$i"
        # Each host's slurmd reads its own copy of slurm.conf, beside an
        # mpi.conf of its own: PMIx's per-step folders would otherwise collide
        # in the /tmp the hosts share.
        local etc="$dir/etc/vc$i"
        mkdir -p "$etc" "$dir/tmp/vc$i"
        cp "$conf" "$etc/slurm.conf"
        echo "PMIxCliTmpDirBase=$dir/tmp/vc$i" >"$etc/mpi.conf"
        # Its own hostname too (UTS namespace), so that MPI sees N hosts.
        # nsenter, not `ip netns exec`: that remounts /sys, hiding the cgroup
        # file system slurmd reads.
        nsenter --net="/run/netns/$(ns_of "$i")" unshare --uts \
            sh -c "hostname vc$i && exec slurmd -f $etc/slurm.conf -N vc$i" ||
            die "slurmd vc$i failed; see $dir/log/slurmd-vc$i.log"
    done
    wait_idle "$n"
    echo "virtual_cluster: $n nodes running; eval \"\$(scripts/slurm/virtual_cluster.sh env $dir)\""
}

stop() {
    local n i
    n=$(node_count)
    if pid_alive "$dir/run/slurmctld.pid"; then
        scancel --full --quiet --partition=debug 2>/dev/null || true
        sleep 0.5
    fi
    for ((i = 1; i <= n; i++)); do stop_pidfile "$dir/run/slurmd-vc$i.pid"; done
    stop_pidfile "$dir/run/slurmctld.pid"
    stop_pidfile "$dir/run/munged.pid"
    kill_stray_steps "$conf"
    remove_network
    echo "virtual_cluster: stopped"
}

link() {
    local node="$2" i
    [[ $node =~ ^vc([0-9]+)$ ]] || die "NODE is vc1..vc$(node_count), not '$node'"
    i="${BASH_REMATCH[1]}"
    ((i >= 1 && i <= $(node_count))) || die "no node $node"
    ip link set "$(veth_of "$i")" "$1"
    echo "virtual_cluster: $node link $1"
}

case "$action" in
    start) start "${3:-}" ;;
    stop) stop ;;
    status)
        pid_alive "$dir/run/slurmctld.pid" || { echo "slurmctld: stopped"; exit 1; }
        sinfo -N -l
        ;;
    env) mpi_env ;;
    cut) [[ $# -eq 3 ]] || die "cut DIR NODE"; link down "$3" ;;
    heal) [[ $# -eq 3 ]] || die "heal DIR NODE"; link up "$3" ;;
esac
