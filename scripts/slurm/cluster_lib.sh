# Shared by local_cluster.sh and virtual_cluster.sh (sourced): daemons owned
# by one folder DIR, found by their pid files, and the slurm.conf settings
# both clusters use. The caller defines die().

pid_alive() { [[ -s $1 ]] && kill -0 "$(cat "$1")" 2>/dev/null; }

# stop_pidfile FILE: TERM, then KILL after 5 s, the daemon whose pid FILE holds.
stop_pidfile() {
    local file="$1" pid i
    [[ -s $file ]] || return 0
    pid=$(cat "$file")
    if kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid" 2>/dev/null || true
        for ((i = 0; i < 50; i++)); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        if kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null || true; fi
    fi
    rm -f "$file"
}

# start_munged DIR: one munged with its key and socket under DIR/run.
start_munged() {
    local dir="$1" key="$1/run/munge.key"
    if [[ ! -s $key ]]; then
        (umask 077 && dd if=/dev/urandom of="$key" bs=1024 count=1 status=none)
    fi
    chown root:root "$key"
    chmod 600 "$key"
    chmod 700 "$dir/run"
    pid_alive "$dir/run/munged.pid" && return 0
    munged --force --socket="$dir/run/munge.socket" --key-file="$key" \
        --pid-file="$dir/run/munged.pid" --log-file="$dir/log/munged.log" \
        --seed-file="$dir/run/munged.seed" ||
        die "munged failed to start; see $dir/log/munged.log"
}

# kill_stray_steps CONF: slurmstepd processes of the cluster of CONF that
# outlived their slurmd.
kill_stray_steps() {
    local p
    for p in /proc/[0-9]*; do
        [[ $(cat "$p/comm" 2>/dev/null) == slurmstepd ]] || continue
        if tr '\0' '\n' <"$p/environ" 2>/dev/null | grep -qx "SLURM_CONF=$1"; then
            kill -KILL "${p#/proc/}" 2>/dev/null || true
        fi
    done
}

# slurm_conf_common DIR CLUSTER CONTROLLER PORT: the slurm.conf lines both
# clusters share (everything but the nodes and the partition); CONTROLLER is
# "host(address)", PORT slurmctld's (slurmd takes the next one).
slurm_conf_common() {
    local dir="$1"
    mkdir -p "$dir/state" "$dir/spool" "$dir/log" "$dir/run"
    cat <<EOF
ClusterName=$2
SlurmctldHost=$3
SlurmctldPort=$4
SlurmdPort=$(($4 + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$dir/run/munge.socket
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool/slurmd-%n
SlurmctldPidFile=$dir/run/slurmctld.pid
SlurmdPidFile=$dir/run/slurmd-%n.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd-%n.log
SlurmctldDebug=info
SlurmdDebug=info
# No cgroups here (containers, no systemd): plain /proc tracking, no binding.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=pmix
SwitchType=switch/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SchedulerType=sched/backfill
JobRequeue=1
ReturnToService=2
# Keep finished jobs in slurmctld for an hour: without slurmdbd, scontrol is
# the only way to read a job's final state.
MinJobAge=3600
# Short timeouts: a test should not wait for a dead daemon.
MessageTimeout=10
SlurmctldTimeout=30
SlurmdTimeout=30
KillWait=10
InactiveLimit=0
Waittime=0
# Accept whatever the node really has (a VM may report sockets differently).
SlurmdParameters=config_overrides
EOF
}
