#!/usr/bin/env bash
# A private, single-node Slurm cluster for tests and local trials.
#
#   cluster.sh up     [DIR]   install what is missing, start munged, slurmctld and slurmd, wait
#                             until the node is idle; print `export SLURM_CONF=...` on stdout
#   cluster.sh status [DIR]   say whether the daemons are alive and show sinfo; exit 1 if not up
#   cluster.sh down   [DIR]   cancel the jobs, stop exactly the daemons `up` started (by the PIDs
#                             it recorded) and remove DIR
#
# DIR holds everything: slurm.conf, the munge key and socket, spool and state folders, logs and
# PID files. Default: $TILECAST_SLURM_DIR, else ${TMPDIR:-/tmp}/tilecast-slurm. Nothing is
# written under /etc: clients find the cluster through SLURM_CONF, so use it as
#
#   eval "$(scripts/slurm/cluster.sh up)"   # exports SLURM_CONF
#   sbatch --array=0-3 --wait job.sh
#   scripts/slurm/cluster.sh down
#
# Needs root (SlurmUser=root; apt-get for the install). munged runs as the `munge` user with its
# own key and socket, slurmctld and slurmd as root; TCP ports are picked free on 127.0.0.1 so it
# runs beside a system Slurm or another private cluster. Debian/Ubuntu packages: slurmctld slurmd
# slurm-client munge. `up` is idempotent: on a DIR whose daemons are all alive it only prints the
# exports; on one left half-started it stops what is left and starts afresh.
set -euo pipefail

MARK=.tilecast-slurm
PACKAGES=(slurmctld slurmd slurm-client munge)
COMMANDS=(slurmctld slurmd sbatch sinfo squeue scontrol scancel munged mungekey)
UP_TIMEOUT=${TILECAST_SLURM_UP_TIMEOUT:-60}

say() { echo "cluster.sh: $*" >&2; }
die() { echo "cluster.sh: error: $*" >&2; exit 1; }

usage() {
  sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

state_dir() {
  local d=${1:-${TILECAST_SLURM_DIR:-${TMPDIR:-/tmp}/tilecast-slurm}}
  case $d in /*) ;; *) d="$PWD/$d" ;; esac
  echo "${d%/}"
}

need_root() { [ "$(id -u)" = 0 ] || die "$1 needs root (SlurmUser=root, apt-get)"; }

# ---------------------------------------------------------------- install

missing_commands() {
  local c out=()
  for c in "${COMMANDS[@]}"; do command -v "$c" >/dev/null 2>&1 || [ -x "/usr/sbin/$c" ] || out+=("$c"); done
  echo "${out[*]:-}"
}

install_missing() {
  PATH=$PATH:/usr/sbin:/sbin
  local missing
  missing=$(missing_commands)
  [ -z "$missing" ] && return 0
  command -v apt-get >/dev/null 2>&1 || die "missing: $missing, and no apt-get to install ${PACKAGES[*]}"
  say "installing ${PACKAGES[*]} (missing: $missing)"
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-get install -y -qq --no-install-recommends "${PACKAGES[@]}" >/dev/null 2>&1; then
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${PACKAGES[@]}" >/dev/null
  fi
  missing=$(missing_commands)
  [ -z "$missing" ] || die "still missing after installing ${PACKAGES[*]}: $missing"
}

# ---------------------------------------------------------------- processes

# pid_of DIR NAME: the recorded PID of daemon NAME if that process is alive and is ours (its
# command line names DIR, so a reused PID is never taken for ours); empty otherwise.
pid_of() {
  local f="$1/run/$2.pid" pid
  [ -s "$f" ] || return 0
  pid=$(cat "$f")
  [[ $pid =~ ^[0-9]+$ ]] || return 0
  [ -r "/proc/$pid/cmdline" ] || return 0
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$1/" || return 0
  echo "$pid"
}

alive() { [ -n "$(pid_of "$1" "$2")" ]; }

# stop_pid PID NAME: TERM, wait up to 10 s, then KILL.
stop_pid() {
  local pid=$1 i
  kill -TERM "$pid" 2>/dev/null || return 0
  for i in $(seq 1 100); do
    [ -d "/proc/$pid" ] || return 0
    # a zombie that its parent has not reaped yet is gone for our purpose
    [ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" = Z ] && return 0
    sleep 0.1
  done
  say "$2 (pid $pid) did not stop on SIGTERM; sending SIGKILL"
  kill -KILL "$pid" 2>/dev/null || true
  sleep 0.2
}

# Job step daemons (slurmstepd) detach from slurmd; they inherit TILECAST_SLURM_STATE from the
# slurmd we started, which is how we find ours and only ours.
stray_stepds() {
  local d=$1 p
  for p in /proc/[0-9]*; do
    [ "$(cat "$p/comm" 2>/dev/null)" = slurmstepd ] || continue
    tr '\0' '\n' <"$p/environ" 2>/dev/null | grep -qxF "TILECAST_SLURM_STATE=$d" && echo "${p#/proc/}"
  done
  return 0
}

stop_all() {
  local d=$1 name pid
  if alive "$d" slurmctld; then
    # cancel what is still queued or running so that no job step outlives the cluster
    if [ -n "$(SLURM_CONF="$d/slurm.conf" squeue -h -o %i 2>/dev/null)" ]; then
      say "cancelling the jobs still in the queue"
      SLURM_CONF="$d/slurm.conf" scancel --full --quiet --user=root 2>/dev/null || true
      for _ in $(seq 1 50); do
        [ -z "$(SLURM_CONF="$d/slurm.conf" squeue -h -o %i 2>/dev/null)" ] && break
        sleep 0.2
      done
    fi
  fi
  for name in slurmd slurmctld munged; do
    pid=$(pid_of "$d" "$name")
    if [ -n "$pid" ]; then
      say "stopping $name (pid $pid)"
      stop_pid "$pid" "$name"
    fi
    rm -f "$d/run/$name.pid"
  done
  for pid in $(stray_stepds "$d"); do
    say "killing leftover slurmstepd (pid $pid)"
    kill -KILL "$pid" 2>/dev/null || true
  done
}

# start NAME DIR CMD...: start a daemon in the foreground mode of its own, detached from our
# terminal and session, and record its PID.
start() {
  local name=$1 d=$2
  shift 2
  TILECAST_SLURM_STATE=$d setsid "$@" </dev/null >>"$d/log/$name.out" 2>&1 &
  echo $! >"$d/run/$name.pid"
}

# The daemons' logs: slurmctld and slurmd keep a timestamped one (SlurmctldLogFile, SlurmdLogFile);
# what they said before opening it, and all of munged's, is in NAME.out (their stderr). The lines
# every start prints (no PMIx library, no state file yet) are left out.
show_logs() {
  local d=$1 name f
  for name in munged slurmctld slurmd; do
    f="$d/log/$name.log"
    [ -s "$f" ] || f="$d/log/$name.out"
    [ -s "$f" ] || continue
    echo "----- $f (last 40 lines)" >&2
    grep -vE 'pmix|MPI: Cannot create context|state file|NOTE: Trying backup' "$f" | tail -n 40 >&2 || true
  done
}

# ---------------------------------------------------------------- config

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

pick_ports() {
  local base i
  for i in $(seq 1 50); do
    base=$((10000 + (RANDOM % 10000) * 2))
    if port_free "$base" && port_free $((base + 1)); then
      echo "$base $((base + 1))"
      return 0
    fi
  done
  die "found no two free TCP ports"
}

# node_spec: "CPUs=N [Boards=.. SocketsPerBoard=.. CoresPerSocket=.. ThreadsPerCore=..] RealMemory=M".
# CPUs is nproc; the topology slurmd detects is added when it has that many CPUs (so slurmd does
# not log a socket/core mismatch); the memory is what slurmd detects, else MemTotal.
node_spec() {
  local hw cpus mem topo=''
  hw=$(slurmd -C 2>/dev/null | head -n1 || true)
  cpus=$(nproc)
  mem=$(sed -n 's/.*RealMemory=\([0-9]*\).*/\1/p' <<<"$hw")
  [ -n "$mem" ] || mem=$(($(awk '/^MemTotal:/ {print $2}' /proc/meminfo) / 1024))
  if [[ $hw =~ CPUs=$cpus\ (Boards=[0-9]+\ SocketsPerBoard=[0-9]+\ CoresPerSocket=[0-9]+\ ThreadsPerCore=[0-9]+) ]]; then
    topo=" ${BASH_REMATCH[1]}"
  fi
  echo "CPUs=$cpus$topo RealMemory=$mem"
}

write_config() {
  local d=$1 node spec ctl_port d_port
  node=$(hostname -s)
  spec=$(node_spec)
  read -r ctl_port d_port < <(pick_ports)
  cat >"$d/slurm.conf" <<EOF
# written by cluster.sh up; removed by cluster.sh down
ClusterName=tilecast
SlurmctldHost=$node(127.0.0.1)
SlurmctldPort=$ctl_port
SlurmdPort=$d_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$d/munge/munge.socket
StateSaveLocation=$d/state
SlurmdSpoolDir=$d/spool/slurmd-%n
SlurmctldPidFile=$d/run/slurmctld.daemon.pid
SlurmdPidFile=$d/run/slurmd.daemon.pid
SlurmctldLogFile=$d/log/slurmctld.log
SlurmdLogFile=$d/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
PlugStackConfig=$d/plugstack.conf
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc=$d/jobcomp.log
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/backfill
# start batch jobs (array tasks too) at once, not up to 3 s later
SchedulerParameters=batch_sched_delay=0
MpiDefault=none
MailProg=/bin/true
ReturnToService=2
SlurmctldTimeout=30
SlurmdTimeout=30
InactiveLimit=0
KillWait=5
MinJobAge=5
Waittime=0
NodeName=$node NodeAddr=127.0.0.1 NodeHostname=$node $spec State=UNKNOWN
PartitionName=tilecast Nodes=$node Default=YES MaxTime=INFINITE State=UP OverSubscribe=NO
EOF
  : >"$d/plugstack.conf"
  say "node $node: $spec; slurmctld on 127.0.0.1:$ctl_port, slurmd on :$d_port"
}

# ---------------------------------------------------------------- commands

node_state() { SLURM_CONF="$1/slurm.conf" sinfo -h -N -o %t 2>/dev/null | head -n1; }

exports() {
  echo "export SLURM_CONF='$1/slurm.conf'"
  echo "export TILECAST_SLURM_DIR='$1'"
}

cmd_up() {
  local d=$1 t0 state=''
  need_root up
  install_missing
  PATH=$PATH:/usr/sbin:/sbin
  if [ -e "$d" ] && [ ! -e "$d/$MARK" ] && [ -n "$(ls -A "$d")" ]; then
    die "$d exists and is not a cluster.sh folder; give an empty or new folder"
  fi
  if [ -e "$d/$MARK" ]; then
    if alive "$d" munged && alive "$d" slurmctld && alive "$d" slurmd; then
      state=$(node_state "$d")
      case $state in
        idle* | mix* | alloc*)
          say "already up in $d (node $state)"
          exports "$d"
          return 0
          ;;
      esac
    fi
    say "restarting the half-started cluster in $d"
    stop_all "$d"
    find "$d" -mindepth 1 -maxdepth 1 ! -name "$MARK" -exec rm -rf {} +
  fi
  t0=$(date +%s.%N)
  mkdir -p "$d"
  chmod 0755 "$d"
  touch "$d/$MARK"
  mkdir -p "$d/run" "$d/log" "$d/state" "$d/spool/slurmd-$(hostname -s)" "$d/munge"
  chmod 0700 "$d/state" "$d/spool"

  # munge: its own key, socket, log and seed, all in a folder the munge user owns
  mungekey --create --keyfile="$d/munge/munge.key" 2>/dev/null ||
    dd if=/dev/urandom of="$d/munge/munge.key" bs=1024 count=1 status=none
  chmod 0711 "$d/munge"
  chmod 0400 "$d/munge/munge.key"
  chown -R munge:munge "$d/munge"
  setpriv --reuid=munge --regid=munge --init-groups test -x "$d/munge" ||
    die "the munge user cannot reach $d/munge (a parent folder is private); use a folder under /tmp"
  : >"$d/log/munged.out"
  start munged "$d" setpriv --reuid=munge --regid=munge --init-groups \
    munged --foreground --socket="$d/munge/munge.socket" --key-file="$d/munge/munge.key" \
    --log-file="$d/munge/munged.log" --pid-file="$d/munge/munged.pid" --seed-file="$d/munge/munged.seed"
  for _ in $(seq 1 100); do [ -S "$d/munge/munge.socket" ] && break; alive "$d" munged || break; sleep 0.05; done
  if [ ! -S "$d/munge/munge.socket" ]; then
    show_logs "$d"
    stop_all "$d"
    die "munged did not start (state left in $d; 'cluster.sh down $d' removes it)"
  fi

  write_config "$d"
  start slurmctld "$d" slurmctld -D -i -f "$d/slurm.conf"
  start slurmd "$d" slurmd -D -N "$(hostname -s)" -f "$d/slurm.conf"

  local deadline=$(($(date +%s) + UP_TIMEOUT))
  while [ "$(date +%s)" -lt "$deadline" ]; do
    state=$(node_state "$d")
    case $state in idle*) break ;; esac
    alive "$d" munged && alive "$d" slurmctld && alive "$d" slurmd || break
    sleep 0.2
  done
  case $state in
    idle*) ;;
    *)
      say "the node did not come up (state '${state:-none}'; munged $(alive "$d" munged && echo alive || echo dead)," \
        "slurmctld $(alive "$d" slurmctld && echo alive || echo dead), slurmd $(alive "$d" slurmd && echo alive || echo dead))"
      SLURM_CONF="$d/slurm.conf" sinfo -N -l >&2 2>&1 || true
      show_logs "$d"
      stop_all "$d"
      die "cluster.sh up failed (logs left in $d/log; 'cluster.sh down $d' removes them)"
      ;;
  esac
  say "up in $d in $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN {printf "%.1f", b - a}') s: node $(hostname -s) idle"
  exports "$d"
}

cmd_status() {
  local d=$1 name pid ok=0
  PATH=$PATH:/usr/sbin:/sbin
  if [ ! -e "$d/$MARK" ]; then
    echo "no cluster in $d"
    return 1
  fi
  for name in munged slurmctld slurmd; do
    pid=$(pid_of "$d" "$name")
    if [ -n "$pid" ]; then echo "$name: running (pid $pid)"; else echo "$name: not running"; ok=1; fi
  done
  if alive "$d" slurmctld; then
    SLURM_CONF="$d/slurm.conf" sinfo -N -l || ok=1
    SLURM_CONF="$d/slurm.conf" squeue || true
  fi
  [ "$ok" = 0 ] && exports "$d"
  return $ok
}

cmd_down() {
  local d=$1
  PATH=$PATH:/usr/sbin:/sbin
  if [ ! -e "$d" ]; then
    say "nothing to stop in $d"
    return 0
  fi
  [ -e "$d/$MARK" ] || die "$d is not a cluster.sh folder; not touching it"
  local pids n p left=''
  pids=$(for n in munged slurmctld slurmd; do pid_of "$d" "$n"; done)
  stop_all "$d"
  for p in $pids $(stray_stepds "$d"); do
    [ -d "/proc/$p" ] && [ "$(awk '{print $3}' "/proc/$p/stat" 2>/dev/null)" != Z ] && left="$left $p"
  done
  [ -z "$left" ] || die "still running after down: pid(s)$left; state kept in $d"
  rm -rf "$d"
  say "down: stopped and removed $d"
}

main() {
  [ $# -ge 1 ] || usage
  local cmd=$1
  shift
  [ $# -le 1 ] || usage
  local d
  d=$(state_dir "${1:-}")
  case $cmd in
    up) cmd_up "$d" ;;
    status) cmd_status "$d" ;;
    down) cmd_down "$d" ;;
    -h | --help | help) usage ;;
    *) usage ;;
  esac
}

main "$@"
