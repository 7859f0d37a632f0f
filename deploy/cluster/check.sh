#!/usr/bin/env bash
# The cluster check (CI runs it after the test suites): a three-instance cluster behind
# HAProxy must behave as one server, restart one instance at a time under load without a
# failed request or a lost session, and ride out 15 s without its database.
#
# The outage is real (pg_ctlcluster stop), so by default this script runs its own
# throw-away PostgreSQL cluster (Debian's pg_createcluster, on CLUSTER_PORT+8), never the
# machine's main one that other work may be using. CHECK_PG=main uses the main cluster.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
if [ "${CHECK_PG:-own}" = own ]; then
  export PG_CLUSTER="${PG_CLUSTER:-lkcheck}"
  export PG_PORT="${PG_PORT:-$(( ${CLUSTER_PORT:-18300} + 8 ))}"
fi
export CLUSTER_DIR="${CLUSTER_DIR:-$(mktemp -d /tmp/latchkey-cluster-check.XXXXXX)}"
source "$HERE/lib.sh"
OUTAGE_SECONDS="${OUTAGE_SECONDS:-15}"
LOAD_WORKERS="${LOAD_WORKERS:-8}"

own_pg_cluster() {
  local version
  version="$(pg_cluster_version)"
  if ! pg_lsclusters -h | awk '{print $2}' | grep -qx "$PG_CLUSTER"; then
    say "creating a throw-away PostgreSQL cluster $version/$PG_CLUSTER on port $PG_PORT"
    pg_createcluster -p "$PG_PORT" "$version" "$PG_CLUSTER" -- --auth=trust >/dev/null
  fi
  pg_ctlcluster --skip-systemctl-redirect "$version" "$PG_CLUSTER" start 2>/dev/null || true
}

finish() {
  local status=$?
  pkill_load
  cluster_down || true
  if [ "${CHECK_PG:-own}" = own ] && [ -z "${CHECK_KEEP_PG:-}" ]; then
    pg_dropcluster --stop "$(pg_cluster_version)" "$PG_CLUSTER" 2>/dev/null || true
  fi
  if [ "$status" -ne 0 ]; then
    say "FAILED; the instances' and HAProxy's logs are in $CLUSTER_DIR"
  else
    rm -rf "$CLUSTER_DIR"
  fi
}
LOAD_PID=""
pkill_load() { [ -n "$LOAD_PID" ] && kill "$LOAD_PID" 2>/dev/null || true; }
trap finish EXIT

# The metrics scrape: each instance's /metrics, before and after logins, refreshes and a
# wrong password through the balancer; the counters summed over the instances must move.
check_metrics() {
  step "metrics"
  local nodes=()
  for n in "${INSTANCES[@]}"; do nodes+=("http://127.0.0.1:$(instance_port "$n")"); done
  python3 "$HERE/check.py" metrics "$FRONT" "${nodes[@]}"
}

# start_load NAME: the load driver in the background, until stop_load.
start_load() {
  rm -f "$CLUSTER_DIR/$1.stop" "$CLUSTER_DIR/$1.ready"
  python3 "$HERE/load.py" "$FRONT" --workers "$LOAD_WORKERS" \
    --stop-file "$CLUSTER_DIR/$1.stop" --ready-file "$CLUSTER_DIR/$1.ready" \
    --report "$CLUSTER_DIR/$1.json" &
  LOAD_PID=$!
  for _ in $(seq 1 300); do
    [ -f "$CLUSTER_DIR/$1.ready" ] && return 0
    kill -0 "$LOAD_PID" 2>/dev/null || die "the load driver ended early"
    sleep 0.1
  done
  die "the load driver did not get going"
}

stop_load() {
  touch "$CLUSTER_DIR/$1.stop"
  wait "$LOAD_PID" || die "the load driver failed"
  LOAD_PID=""
}

# field NAME KEY: a value from a load report.
field() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$CLUSTER_DIR/$1.json" "$2"; }

wait_haproxy_up() {
  for _ in $(seq 1 100); do
    [ "$(haproxy_up_count)" = "${#INSTANCES[@]}" ] && return 0
    sleep 0.1
  done
  die "HAProxy does not see every instance up"
}

[ "${CHECK_PG:-own}" = own ] && own_pg_cluster
cluster_up
NODES=()
for n in "${INSTANCES[@]}"; do NODES+=("$(instance_url "$n")"); done

step() { printf '\n== cluster: %s (%s)\n' "$1" "$(date -u +%H:%M:%S)"; }

step "behaviour across instances"
python3 "$HERE/check.py" cluster "$FRONT" "${NODES[@]}"

step "rolling restart under load"
start_load restart
sleep 2
for n in "${INSTANCES[@]}"; do
  stop_instance "$n"
  [ "$STOP_STATUS" = 0 ] || die "node-$n exited with status $STOP_STATUS after SIGTERM"
  say "node-$n stopped (exit 0); starting it again"
  start_instance "$n"
  wait_ready "$n" 30 || die "node-$n did not come back"
  wait_haproxy_up
  sleep 2
done
stop_load restart
RESTART_SENT="$(field restart sent)"
RESTART_FAILED="$(field restart failed)"
RESTART_LOST="$(field restart lost_sessions)"
say "rolling restart: $RESTART_SENT requests, $RESTART_FAILED failed, $RESTART_LOST sessions lost; by instance $(field restart instances)"
if [ "$RESTART_FAILED" != 0 ] || [ "$RESTART_LOST" != 0 ]; then
  cat "$CLUSTER_DIR/restart.json" >&2
  die "the rolling restart lost requests or sessions"
fi

step "database outage (${OUTAGE_SECONDS} s) under load"
python3 "$HERE/check.py" snapshot "$FRONT" "$CLUSTER_DIR/snapshot.json"
start_load outage
sleep 3
PG_VERSION="$(pg_cluster_version)"
# Each instance logs this when its connection listening for other instances' changes is
# (re)established; after the outage every instance must log it once more.
listening_lines() { grep -c "listening for other instances' changes" "$CLUSTER_DIR/node-$1.log" || true; }
declare -A LISTENING_BEFORE
for n in "${INSTANCES[@]}"; do LISTENING_BEFORE[$n]="$(listening_lines "$n")"; done
pg_ctlcluster --skip-systemctl-redirect "$PG_VERSION" "$PG_CLUSTER" stop -m fast
say "PostgreSQL stopped"
sleep "$OUTAGE_SECONDS"
pg_ctlcluster --skip-systemctl-redirect "$PG_VERSION" "$PG_CLUSTER" start
wait_postgres 30 || die "PostgreSQL did not come back"
DB_BACK="$(date +%s.%N)"
say "PostgreSQL is back"
for n in "${INSTANCES[@]}"; do wait_ready "$n" 30 || die "node-$n is not ready again"; done
READY_BACK="$(date +%s.%N)"
sleep 5
stop_load outage
python3 "$HERE/check.py" verify "$FRONT" "$CLUSTER_DIR/snapshot.json"
for n in "${INSTANCES[@]}"; do
  for _ in $(seq 1 100); do
    [ "$(listening_lines "$n")" -gt "${LISTENING_BEFORE[$n]}" ] && break
    sleep 0.1
  done
  [ "$(listening_lines "$n")" -gt "${LISTENING_BEFORE[$n]}" ] \
    || die "node-$n does not listen for other instances' changes again after the outage"
done
say "every instance listens for other instances' changes again"
python3 "$HERE/check.py" heard "$FRONT" "${NODES[@]}"
OUTAGE_SENT="$(field outage sent)"
OUTAGE_FAILED="$(field outage failed)"
OUTAGE_OTHER="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["failed_by_kind"]["other"])' "$CLUSTER_DIR/outage.json")"
OUTAGE_LOST="$(field outage lost_sessions)"
SLOWEST="$(field outage slowest_failure_seconds)"
RECOVERY="$(python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
last = r["last_failure_at"] or 0
print(f"{max(0.0, last - float(sys.argv[2])):.1f}")' "$CLUSTER_DIR/outage.json" "$DB_BACK")"
READY_AFTER="$(python3 -c 'import sys; print(f"{float(sys.argv[2]) - float(sys.argv[1]):.1f}")' "$DB_BACK" "$READY_BACK")"
say "outage: $OUTAGE_SENT requests, $OUTAGE_FAILED failed ($OUTAGE_OTHER not SERVICE_UNAVAILABLE), slowest failure ${SLOWEST} s, $OUTAGE_LOST sessions lost; last failure ${RECOVERY} s after the database was back, all instances ready ${READY_AFTER} s after"
say "outage failures by operation: $(field outage failed_by_op)"
if [ "$OUTAGE_OTHER" != 0 ] || [ "$OUTAGE_LOST" != 0 ]; then
  cat "$CLUSTER_DIR/outage.json" >&2
  die "the outage produced failures other than SERVICE_UNAVAILABLE, or lost sessions"
fi
python3 -c 'import sys; sys.exit(0 if float(sys.argv[1]) <= 10 else 1)' "$RECOVERY" \
  || die "requests still failed ${RECOVERY} s after the database was back"

check_metrics

step "done"
echo "cluster check: rolling restart $RESTART_SENT sent / $RESTART_FAILED failed; outage $OUTAGE_SENT sent / $OUTAGE_FAILED failed (all SERVICE_UNAVAILABLE, slowest ${SLOWEST} s), recovery ${RECOVERY} s"
