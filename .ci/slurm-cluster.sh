#!/usr/bin/env bash
# Runs a command against a throwaway one-node Slurm cluster on localhost:
#
#   sudo bash .ci/slurm-cluster.sh go test -count=1 -run Slurm ./shard
#
# It starts slurmctld and slurmd (Debian's slurm-wlm; as root, without
# systemd, munge or cgroups), waits until the node is idle, runs the
# command with SLURM_CONF exported, and stops the daemons by PID. Exit 77
# means Slurm could not start here (not installed, not root, ports busy,
# a daemon died, node never idle): callers treat it as "skipped". The
# recipe and its pitfalls are in ../shared/docs/slurm-test-cluster.md;
# SLURM_TEST_PORT (default 16817, and the next port) must be free.
set -u
export PATH=$PATH:/usr/sbin:/sbin
say() { echo "slurm-cluster: $*" >&2; }
skip() { say "SKIP: $*"; exit 77; }

for tool in slurmctld slurmd sbatch sinfo; do
  command -v "$tool" >/dev/null 2>&1 || skip "$tool is not installed (apt-get install slurm-wlm)"
done
[ "$(id -u)" -eq 0 ] || skip "slurmd must run as root to start jobs"
port=${SLURM_TEST_PORT:-16817}
for p in "$port" $((port + 1)); do
  # A daemon already listening there would answer for another cluster.
  if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then skip "port $p is in use"; fi
done

dir=$(mktemp -d /tmp/qbench-slurm.XXXXXX)
chmod 755 "$dir"
mkdir -p "$dir/state" "$dir/spool"
export SLURM_CONF=$dir/slurm.conf
mem=$(awk '/^MemTotal/ { print int($2 / 2048) }' /proc/meminfo)
# proctrack/linuxproc and task/none: the cgroup plugins drain the node in
# containers; auth/none needs no munged.
cat > "$SLURM_CONF" <<CONF
ClusterName=qbenchci
SlurmctldHost=localhost
SlurmUser=root
SlurmdUser=root
SlurmctldPort=$port
SlurmdPort=$((port + 1))
AuthType=auth/none
CredType=cred/none
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
ReturnToService=2
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
NodeName=localhost CPUs=$(nproc) RealMemory=$mem
PartitionName=ci Nodes=localhost Default=YES MaxTime=INFINITE State=UP
CONF

pids=()
cleanup() {
  local p
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${pids[@]}"; do
    for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$p" 2>/dev/null
  done
}
trap cleanup EXIT

slurmctld -D -i > "$dir/slurmctld.out" 2>&1 &
pids+=($!)
slurmd -D -N localhost > "$dir/slurmd.out" 2>&1 &
pids+=($!)
state=
for _ in $(seq 60); do
  state=$(sinfo -h -n localhost -o %t 2>/dev/null)
  [ "$state" = idle ] && break
  kill -0 "${pids[0]}" 2>/dev/null && kill -0 "${pids[1]}" 2>/dev/null || break
  sleep 0.5
done
if [ "$state" != idle ]; then
  tail -n 5 "$dir"/*.out "$dir"/*.log >&2 2>/dev/null
  skip "the node did not become idle (state '$state'); logs in $dir"
fi
say "cluster up (SLURM_CONF=$SLURM_CONF)"

rc=0
if [ $# -gt 0 ]; then "$@"; rc=$?; fi
cleanup
trap - EXIT
if [ $rc -eq 0 ]; then rm -rf "$dir"; else say "command failed (exit $rc); logs in $dir"; fi
exit $rc
