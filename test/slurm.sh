#!/usr/bin/env bash
# deploy/slurm on a real Slurm: a one-node cluster on this machine, torn down at the end.
#
#   bash test/slurm.sh                          # the whole check (about 35 s on 2 cores, apt-get included)
#   SLURM_SH_CLUSTER_ONLY=1 bash test/slurm.sh  # only the cluster (a `sbatch --wrap hostname` job)
#   SLURM_SH_KEEP=1 bash test/slurm.sh          # keep the temp dir (configs, logs, db) afterwards
#   AIMC_SWEEP_CMD='node /path/dist/src/cli/main.js' bash test/slurm.sh   # test another build
#
# 1. Installs Debian's slurm-wlm and munge with apt-get when missing (root; services are not
#    started by the packages: policy-rc.d). No apt-get: prints a "SKIP: ..." line and exits 0.
# 2. Writes a minimal slurm.conf (one node, localhost, no cgroups, no accounting, state in a
#    temp dir, free ports), starts munged, slurmctld and slurmd in the background, waits for the
#    node to be idle and runs a `sbatch --wrap hostname` job.
# 3. Starts `aimc-sweep serve` on 127.0.0.1 (temp db, token file), submits
#    deploy/slurm/aimc-sweep-workers.sbatch as a 2-task array (1 thread each), runs
#    `aimc-sweep submit <8-run least-squares sweep> --wait`, checks with `aimc-sweep query` that
#    every run is done exactly once, by the Slurm workers, with the same weights as an embedded
#    `aimc-sweep run`; then `scancel --signal=TERM --batch` and checks that both workers drained
#    and exited 0 (state COMPLETED: the script's SIGTERM path at the end of a time limit).
# 4. deploy/slurm/aimc-sweep-coordinator.sbatch as a job, a worker job (--dependency=after)
#    reading its address file (@FILE), the sweep again into that job's db; SIGTERM stops both
#    with exit 0.
# 5. On exit (any exit): cancels the jobs, stops the coordinator, slurmd, slurmctld and munged
#    it started, kills any process still tagged with this run's temp dir, removes the temp dir.
# Every wait is bounded by `timeout`. Exit 0: passed (or SKIP); 1: failed (logs are printed).
# shellcheck disable=SC2317,SC2016 # functions run from traps and `bash -c` strings
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
T0=$(date +%s)
log() { printf '[slurm.sh %3ds] %s\n' "$(($(date +%s) - T0))" "$*"; }
fail() {
  log "FAIL: $*"
  exit 1
}
export PATH="$PATH:/usr/sbin:/sbin"

# --- 1. packages --------------------------------------------------------------------------
missing=()
for c in munged munge unmunge slurmctld slurmd sbatch squeue sinfo scontrol scancel; do
  command -v "$c" >/dev/null 2>&1 || missing+=("$c")
done
if ((${#missing[@]} > 0)) && ! command -v apt-get >/dev/null 2>&1; then
  echo "SKIP: Slurm is not installed (missing: ${missing[*]}) and apt-get is not available to install it"
  exit 0
fi
[[ $(id -u) == 0 ]] || fail "must run as root (installs packages, runs slurmd as SlurmUser=root)"
command -v node >/dev/null 2>&1 || fail "node is not on PATH"

TMP=$(mktemp -d /tmp/aimc-slurm.XXXXXX)
TAG="AIMC_SLURM_TEST_TAG=$TMP" # in the environment of everything this script starts (not of itself)
CREATED_POLICY=0
MUNGED_PID='' SLURMCTLD_PID='' SLURMD_PID='' COORD_PID=''
JOBS=()

stop_pid() { # stop_pid NAME PID: TERM (the process group where it leads one), 10 s, then KILL
  local name=$1 pid=$2 target=$2 i
  [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null || return 0
  [[ $(ps -o pgid= -p "$pid" 2>/dev/null | tr -d ' ') == "$pid" ]] && target="-$pid"
  kill -TERM -- "$target" 2>/dev/null
  for ((i = 0; i < 100; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    log "$name ($pid) ignored SIGTERM for 10 s: SIGKILL"
    kill -KILL -- "$target" 2>/dev/null
  fi
  wait "$pid" 2>/dev/null
  return 0
}

tagged_pids() { # processes whose environment carries this run's tag (never this shell)
  local p
  for p in /proc/[0-9]*; do
    p=${p#/proc/}
    [[ $p == "$$" ]] && continue
    tr '\0' '\n' 2>/dev/null <"/proc/$p/environ" | grep -qxF "$TAG" && echo "$p"
  done
  return 0
}

cleanup() {
  local rc=$? p left i
  set +e
  trap - EXIT INT TERM
  if [[ -n $SLURMCTLD_PID ]] && kill -0 "$SLURMCTLD_PID" 2>/dev/null; then
    if ((${#JOBS[@]} > 0)); then
      timeout 10 scancel "${JOBS[@]}" 2>/dev/null
      for ((i = 0; i < 300; i++)); do # KillWait=5 in our slurm.conf
        [[ -z $(timeout 5 squeue -h -o %i 2>/dev/null) ]] && break
        sleep 0.1
      done
    fi
  fi
  stop_pid coordinator "$COORD_PID"
  stop_pid slurmd "$SLURMD_PID"
  stop_pid slurmctld "$SLURMCTLD_PID"
  stop_pid munged "$MUNGED_PID"
  left=$(tagged_pids | tr '\n' ' ')
  if [[ -n ${left// /} ]]; then
    log "left-over processes from this run, killed: $left"
    for p in $left; do ps -o pid=,args= -p "$p"; done
    # shellcheck disable=SC2086
    kill -KILL $left 2>/dev/null
    ((rc == 0)) && rc=1
  fi
  ((CREATED_POLICY)) && rm -f /usr/sbin/policy-rc.d
  if ((rc != 0)); then
    for f in "$TMP"/*.log "$TMP"/*.out; do
      [[ -s $f ]] || continue
      echo "----- $f (last 40 lines)"
      tail -n 40 "$f"
    done
  fi
  if [[ -n ${SLURM_SH_KEEP:-} ]]; then log "kept $TMP"; else rm -rf "$TMP"; fi
  log "$([[ $rc == 0 ]] && echo PASS || echo "FAIL (exit $rc)") in $(($(date +%s) - T0)) s"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if ((${#missing[@]} > 0)); then
  log "installing slurm-wlm munge (missing: ${missing[*]})"
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then # the packages must not start their system services
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod 755 /usr/sbin/policy-rc.d
    CREATED_POLICY=1
  fi
  t=$(date +%s)
  export DEBIAN_FRONTEND=noninteractive
  apt_install() { timeout 150 apt-get install -y -q --no-install-recommends slurm-wlm munge >>"$TMP/apt.log" 2>&1; }
  if ! apt_install; then
    log "apt-get install failed; apt-get update and again"
    timeout 90 apt-get update -q >>"$TMP/apt.log" 2>&1 || fail "apt-get update failed"
    apt_install || fail "apt-get install slurm-wlm munge failed"
  fi
  ((CREATED_POLICY)) && rm -f /usr/sbin/policy-rc.d && CREATED_POLICY=0
  log "apt-get install slurm-wlm munge: $(($(date +%s) - t)) s"
  for c in "${missing[@]}"; do command -v "$c" >/dev/null 2>&1 || fail "$c still missing after apt-get install"; done
fi
log "$(slurmctld -V), $(munged --version 2>&1 | awk '{print $1; exit}')"

free_port() {
  timeout 10 node -e 'const s = require("net").createServer().listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); });'
}
wait_until() { # wait_until SECONDS WHAT COMMAND...: poll every 0.2 s
  local secs=$1 what=$2
  shift 2
  timeout "$secs" bash -c 'until "$@" >/dev/null 2>&1; do sleep 0.2; done' _ "$@" || fail "timed out after ${secs} s waiting for $what"
}

# --- 2. the cluster -----------------------------------------------------------------------
HOST=$(hostname -s)
CPUS=$(nproc)
((CPUS >= 2)) || CPUS=2 # two 1-CPU jobs at once (oversubscribing a 1-CPU machine is harmless here)
CTLD_PORT=$(free_port)
SLURMD_PORT=$(free_port)
[[ $CTLD_PORT != "$SLURMD_PORT" ]] || SLURMD_PORT=$(free_port)
mkdir -p "$TMP/munge" "$TMP/state" "$TMP/spool"
chmod 700 "$TMP/munge"

# munged with its own key and socket: nothing of /etc/munge is used or changed
dd if=/dev/urandom of="$TMP/munge/munge.key" bs=1024 count=1 status=none
chmod 400 "$TMP/munge/munge.key"
MUNGE_SOCKET=$TMP/munge/munge.socket
env "$TAG" munged --foreground --force --key-file="$TMP/munge/munge.key" --socket="$MUNGE_SOCKET" \
  --pid-file="$TMP/munge/munged.pid" --seed-file="$TMP/munge/munged.seed" \
  --log-file="$TMP/munged.log" >>"$TMP/munged.out" 2>&1 &
MUNGED_PID=$!
wait_until 10 "munged's socket" test -S "$MUNGE_SOCKET"
timeout 10 munge -n -S "$MUNGE_SOCKET" | timeout 10 unmunge -S "$MUNGE_SOCKET" >/dev/null || fail "munge credential round trip failed"

export SLURM_CONF=$TMP/slurm.conf
cat >"$SLURM_CONF" <<EOF
# written by test/slurm.sh: one node on localhost, no cgroups, no accounting
ClusterName=aimctest
SlurmctldHost=$HOST(127.0.0.1)
SlurmctldPort=$CTLD_PORT
SlurmdPort=$SLURMD_PORT
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$MUNGE_SOCKET
StateSaveLocation=$TMP/state
SlurmdSpoolDir=$TMP/spool
SlurmctldPidFile=$TMP/slurmctld.pid
SlurmdPidFile=$TMP/slurmd.pid
SlurmctldLogFile=$TMP/slurmctld.log
SlurmdLogFile=$TMP/slurmd.log
SlurmdParameters=config_overrides
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SwitchType=switch/none
MpiDefault=none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
KillWait=5
MinJobAge=600
InactiveLimit=0
NodeName=$HOST NodeHostname=$HOST NodeAddr=127.0.0.1 CPUs=$CPUS State=UNKNOWN
PartitionName=test Nodes=$HOST Default=YES MaxTime=INFINITE State=UP
EOF

env "$TAG" slurmctld -D -c -f "$SLURM_CONF" >>"$TMP/slurmctld.log" 2>&1 &
SLURMCTLD_PID=$!
wait_until 30 "slurmctld to answer" scontrol ping
env "$TAG" slurmd -D -N "$HOST" -f "$SLURM_CONF" >>"$TMP/slurmd.log" 2>&1 &
SLURMD_PID=$!
node_idle() { [[ $(sinfo -h -n "$HOST" -o %T 2>/dev/null) == idle ]]; }
timeout 60 bash -c "$(declare -f node_idle); HOST=$HOST; until node_idle; do sleep 0.3; done" ||
  fail "node $HOST not idle after 60 s: $(timeout 10 sinfo -h -N -o '%N %T %E' 2>&1)"
log "node $HOST idle ($CPUS CPUs; slurmctld :$CTLD_PORT, slurmd :$SLURMD_PORT)"

job_state() { timeout 10 scontrol show job "$1" 2>/dev/null | grep -o 'JobState=[A-Z_]*' | head -n 1 | cut -d= -f2; }
wait_job_gone() { # wait_job_gone SECONDS JOBID: no task of the job pending or running
  timeout "$1" bash -c 'until [[ -z $(squeue -h -j "$0" -o %i 2>/dev/null) ]]; do sleep 0.3; done' "$2" ||
    fail "job $2 still queued after $1 s: $(timeout 10 squeue -j "$2" 2>&1)"
}

jid=$(timeout 30 env "$TAG" sbatch --parsable --job-name=hello --output="$TMP/hello-%j.out" --wrap 'hostname -s')
JOBS+=("$jid")
wait_job_gone 60 "$jid"
[[ $(job_state "$jid") == COMPLETED ]] || fail "sbatch --wrap hostname: job $jid ended $(job_state "$jid")"
[[ $(cat "$TMP/hello-$jid.out") == "$HOST" ]] || fail "job $jid printed '$(cat "$TMP/hello-$jid.out")', not $HOST"
log "sbatch --wrap hostname: job $jid COMPLETED on $HOST"

if [[ -n ${SLURM_SH_CLUSTER_ONLY:-} ]]; then
  log "SLURM_SH_CLUSTER_ONLY: the cluster works; stopping before aimc-sweep"
  exit 0
fi

# --- 3. aimc-sweep on it ------------------------------------------------------------------
cd "$REPO"
# the CLI from source through tsx (as the rest of the test suite runs it: no build needed)
read -r -a AIMC <<<"${AIMC_SWEEP_CMD:-node --import tsx $REPO/src/cli/main.ts}"
for c in serve worker submit; do
  timeout 60 "${AIMC[@]}" "$c" --help >/dev/null 2>&1 || fail "'${AIMC[*]} $c' does not exist (yet?)"
done

COORD_PORT=$(free_port)
COORD=127.0.0.1:$COORD_PORT
DB=$TMP/results.db
head -c 24 /dev/urandom | base64 >"$TMP/token"
chmod 600 "$TMP/token"
cat >"$TMP/slurm-smoke.yaml" <<'EOF'
name: slurm-smoke
description: test/slurm.sh - 8 small least-squares runs computed by Slurm workers
base:
  task: { kind: least-squares, in_size: 20, out_size: 10, n_samples: 1000 }
  device: { kind: softbounds, n_states: 100 }
  epochs: 5
grid:
  seed: [1, 2, 3, 4]
cases:
  - { algorithm: analog-sgd }
  - { algorithm: tiki-taka }
EOF

env "$TAG" setsid "${AIMC[@]}" serve --db "$DB" --listen "$COORD" --token-file "$TMP/token" \
  >"$TMP/coordinator.log" 2>&1 &
COORD_PID=$!
tcp_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
timeout 30 bash -c "$(declare -f tcp_open); until tcp_open $COORD_PORT; do kill -0 $COORD_PID || exit 1; sleep 0.2; done" ||
  fail "the coordinator exited, or is not listening on $COORD after 30 s"
log "coordinator listening on $COORD (pid $COORD_PID)"

wjob=$(timeout 30 env "$TAG" AIMC_SWEEP_CMD="${AIMC[*]}" AIMC_SWEEP_TOKEN_FILE="$TMP/token" \
  sbatch --parsable --array=0-1 --cpus-per-task=1 --time=10 --chdir="$REPO" \
  --output="$TMP/worker-%A_%a.out" "$REPO/deploy/slurm/aimc-sweep-workers.sbatch" "$COORD")
JOBS+=("$wjob")
running_tasks() { [[ $(squeue -h -j "$1" -t RUNNING -o %i 2>/dev/null | wc -l) == 2 ]]; }
timeout 60 bash -c "$(declare -f running_tasks); until running_tasks $wjob; do sleep 0.3; done" ||
  fail "worker array $wjob: not 2 tasks running after 60 s: $(timeout 10 squeue -j "$wjob" 2>&1)"
connected_workers() { # Slurm workers the coordinator reports connected (aimc-sweep status --coordinator)
  timeout 20 "${AIMC[@]}" status --coordinator "$COORD" --token-file "$TMP/token" --json 2>/dev/null |
    node -e 'let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => {
      const names = JSON.parse(s).workers.filter((w) => w.connected).map((w) => w.name);
      console.log(names.filter((n) => n.startsWith(process.argv[1])).length); });' "slurm-${wjob}_"
}
timeout 60 bash -c "$(declare -p AIMC COORD TMP wjob); $(declare -f connected_workers); until [[ \$(connected_workers) == 2 ]]; do sleep 0.5; done" ||
  fail "the coordinator does not see the 2 workers of job $wjob after 60 s: $(connected_workers) connected"
log "worker array job $wjob: 2 tasks running, both connected (aimc-sweep status --coordinator)"

t=$(date +%s)
timeout 120 "${AIMC[@]}" submit "$TMP/slurm-smoke.yaml" --coordinator "$COORD" --token-file "$TMP/token" --wait \
  >"$TMP/submit.log" 2>&1 || fail "aimc-sweep submit --wait failed or timed out (exit $?): $(tail -n 20 "$TMP/submit.log")"
log "submit --wait: sweep finished in $(($(date +%s) - t)) s"

q() { timeout 60 "${AIMC[@]}" query "$1" --db "$DB" --format csv | tail -n +2 | tr -d '\r'; }
check() { # check WHAT EXPECTED ACTUAL
  [[ $3 == "$2" ]] || fail "$1: expected $2, got $3"
  log "ok: $1 = $3"
}
check "runs of the sweep" 8 "$(q "SELECT count(*) FROM sweep_runs sr JOIN sweeps s ON s.id = sr.sweep_id WHERE s.name = 'slurm-smoke'")"
check "runs done" 8 "$(q "SELECT count(*) FROM runs WHERE status = 'done'")"
check "runs not done" 0 "$(q "SELECT count(*) FROM runs WHERE status <> 'done'")"
check "results (one per run, for the run's current attempt)" 8 \
  "$(q "SELECT count(DISTINCT r.run_hash) FROM results r JOIN runs u ON u.hash = r.run_hash WHERE r.attempt = u.attempt")"
check "epoch rows (5 epochs + the initial one per run, one attempt each)" 48 \
  "$(q "SELECT count(*) FROM epoch_metrics e JOIN runs u ON u.hash = e.run_hash AND u.attempt = e.attempt")"
check "results from workers outside the Slurm array" 0 \
  "$(q "SELECT count(*) FROM results r LEFT JOIN workers w ON w.id = r.worker WHERE w.name IS NULL OR w.name NOT IN ('slurm-${wjob}_0', 'slurm-${wjob}_1')")"
log "runs per worker: $(q "SELECT w.name || '=' || count(*) FROM results r JOIN workers w ON w.id = r.worker GROUP BY w.name ORDER BY w.name" | tr '\n' ' ')"

# the same sweep embedded, into another db: identical weights
timeout 60 "${AIMC[@]}" run "$TMP/slurm-smoke.yaml" --db "$TMP/embedded.db" --threads 2 >"$TMP/embedded.log" 2>&1 ||
  fail "embedded aimc-sweep run failed"
digests() { timeout 60 "${AIMC[@]}" query "SELECT run_hash, weights_digest FROM results ORDER BY run_hash" --db "$1" --format csv; }
[[ $(digests "$DB") == "$(digests "$TMP/embedded.db")" ]] || fail "Slurm results differ from the embedded run's"
log "ok: weights digests identical to an embedded 'aimc-sweep run'"

# SIGTERM to the batch step (what --signal=B:TERM@120 does before the time limit): drain, exit 0
timeout 10 scancel --signal=TERM --batch "$wjob"
wait_job_gone 60 "$wjob"
for task in 0 1; do
  st=$(job_state "${wjob}_$task")
  ec=$(timeout 10 scontrol show job "${wjob}_$task" | grep -o ' ExitCode=[0-9:]*' | head -n 1 | cut -d= -f2)
  [[ $st == COMPLETED && $ec == 0:0 ]] || fail "worker ${wjob}_$task after SIGTERM: $st, exit $ec (expected COMPLETED 0:0)"
done
log "ok: SIGTERM to the batch steps: both workers drained and exited 0"

# --- 4. the coordinator as a Slurm job too: its address file, a worker reading it (@FILE) ----
ADDR_FILE=$TMP/coordinator.addr
advertise=()
getent hosts "$HOST" >/dev/null 2>&1 || advertise=(AIMC_SWEEP_ADVERTISE=127.0.0.1)
cjob=$(timeout 30 env "$TAG" "${advertise[@]}" AIMC_SWEEP_CMD="${AIMC[*]}" AIMC_SWEEP_TOKEN_FILE="$TMP/token" \
  AIMC_SWEEP_DB="$TMP/coordinator-job.db" AIMC_SWEEP_PORT="$(free_port)" AIMC_SWEEP_ADDR_FILE="$ADDR_FILE" \
  sbatch --parsable --cpus-per-task=1 --time=10 --chdir="$REPO" --output="$TMP/coordinator-%j.out" \
  "$REPO/deploy/slurm/aimc-sweep-coordinator.sbatch")
JOBS+=("$cjob")
w2=$(timeout 30 env "$TAG" AIMC_SWEEP_CMD="${AIMC[*]}" AIMC_SWEEP_TOKEN_FILE="$TMP/token" \
  sbatch --parsable --dependency="after:$cjob" --array=0 --cpus-per-task=1 --time=10 --chdir="$REPO" \
  --output="$TMP/worker-%A_%a.out" "$REPO/deploy/slurm/aimc-sweep-workers.sbatch" "@$ADDR_FILE")
JOBS+=("$w2")
wait_until 60 "the coordinator job $cjob to write $ADDR_FILE" test -s "$ADDR_FILE"
COORD2=$(cat "$ADDR_FILE")
# the job writes its address before `serve` listens: submit waits for it (--connect-timeout)
t=$(date +%s)
timeout 120 "${AIMC[@]}" submit "$TMP/slurm-smoke.yaml" --coordinator "$COORD2" --token-file "$TMP/token" --wait --connect-timeout 60 \
  >"$TMP/submit2.log" 2>&1 || fail "submit --wait to the coordinator job at $COORD2 failed (exit $?): $(tail -n 20 "$TMP/submit2.log")"
log "coordinator job $cjob at $COORD2 + worker job ${w2}_0 (address from @FILE): sweep finished in $(($(date +%s) - t)) s"
check "runs done in the coordinator job's db, by worker ${w2}_0" 8 \
  "$(timeout 60 "${AIMC[@]}" query "SELECT count(*) FROM runs u JOIN workers w ON w.id = u.worker WHERE u.status = 'done' AND w.name = 'slurm-${w2}_0'" \
    --db "$TMP/coordinator-job.db" --format csv | tail -n +2 | tr -d '\r')"
timeout 10 scancel --signal=TERM --batch "${w2}_0" "$cjob"
wait_job_gone 60 "$w2"
wait_job_gone 60 "$cjob"
for j in "${w2}_0" "$cjob"; do
  st=$(job_state "$j")
  ec=$(timeout 10 scontrol show job "$j" | grep -o ' ExitCode=[0-9:]*' | head -n 1 | cut -d= -f2)
  [[ $st == COMPLETED && $ec == 0:0 ]] || fail "job $j after SIGTERM: $st, exit $ec (expected COMPLETED 0:0)"
done
log "ok: SIGTERM: the coordinator job and its worker stopped cleanly (exit 0)"
exit 0
