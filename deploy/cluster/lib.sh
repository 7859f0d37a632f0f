# Shared by start.sh, stop.sh and check.sh (sourced, not run): where the cluster lives,
# and starting or stopping one instance of it.
#
# Everything can be moved with environment variables:
#   CLUSTER_DIR   state: config, logs, pids (default deploy/cluster/run)
#   CLUSTER_PORT  the balancer's port; instances listen on the next three, HAProxy's
#                 stats page on CLUSTER_PORT+9 (default 18300)
#   PG_HOST, PG_PORT, PG_USER   the local PostgreSQL (default 127.0.0.1, 5432, postgres)
#   PG_CLUSTER    its Debian cluster name, for pg_ctlcluster (default main)
#   LATCHKEY_BIN  the server binary (default target/release/latchkey, built if missing)

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
CLUSTER_DIR="${CLUSTER_DIR:-$HERE/run}"
CLUSTER_PORT="${CLUSTER_PORT:-18300}"
PG_HOST="${PG_HOST:-127.0.0.1}"
PG_PORT="${PG_PORT:-5432}"
PG_USER="${PG_USER:-postgres}"
PG_CLUSTER="${PG_CLUSTER:-main}"
LATCHKEY_BIN="${LATCHKEY_BIN:-$ROOT/target/release/latchkey}"
# Latchkey reads every LATCHKEY_ variable as a setting and refuses unknown ones: the
# binary's path must not reach the instances' environment.
export -n LATCHKEY_BIN
INSTANCES=(1 2 3)
FRONT="http://127.0.0.1:$CLUSTER_PORT"

say() { printf 'cluster: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

instance_port() { echo $(( CLUSTER_PORT + $1 )); }
instance_url() { echo "http://127.0.0.1:$(instance_port "$1")"; }
instance_pid() { cat "$CLUSTER_DIR/node-$1.pid" 2>/dev/null || true; }

# The database the cluster runs on (written by start.sh).
database_url() { cat "$CLUSTER_DIR/database_url"; }

psql_admin() {
  psql -v ON_ERROR_STOP=1 -X -q -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER" -d postgres "$@"
}

pg_cluster_version() { ls /etc/postgresql | head -n 1; }

# Starts the machine's PostgreSQL if it does not answer, and waits for it.
ensure_postgres() {
  if ! pg_isready -q -h "$PG_HOST" -p "$PG_PORT"; then
    say "PostgreSQL is not running: starting it"
    pg_ctlcluster --skip-systemctl-redirect "$(pg_cluster_version)" "$PG_CLUSTER" start
  fi
  wait_postgres 30 || die "PostgreSQL did not come up"
}

wait_postgres() {
  local tries=$(( $1 * 10 ))
  for _ in $(seq 1 "$tries"); do
    pg_isready -q -h "$PG_HOST" -p "$PG_PORT" && return 0
    sleep 0.1
  done
  return 1
}

# start_instance N: starts node-N in the background (its settings are the environment
# below plus $CLUSTER_DIR/latchkey.toml) and records its pid.
start_instance() {
  local n="$1"
  (
    cd "$CLUSTER_DIR"
    DATABASE_URL="$(database_url)" \
    LATCHKEY_CONFIG="$CLUSTER_DIR/latchkey.toml" \
    LATCHKEY_BIND="127.0.0.1:$(instance_port "$n")" \
    LATCHKEY_INSTANCE_NAME="node-$n" \
      exec "$LATCHKEY_BIN" serve >>"$CLUSTER_DIR/node-$n.log" 2>&1
  ) &
  echo $! >"$CLUSTER_DIR/node-$n.pid"
}

# wait_ready N SECONDS: until node-N answers /ready with 200.
wait_ready() {
  local tries=$(( $2 * 10 ))
  for _ in $(seq 1 "$tries"); do
    curl -fs -o /dev/null "$(instance_url "$1")/ready" && return 0
    sleep 0.1
  done
  say "node-$1 is not ready after $2 s; the end of its log:"
  tail -n 20 "$CLUSTER_DIR/node-$1.log" >&2
  return 1
}

# stop_instance N: SIGTERM, then waits for the process to end, and sets STOP_STATUS to
# its exit status. Call it directly, not in `$(...)`: a subshell cannot wait for this
# shell's children. A process still running after 40 s is killed (status 137). For an
# instance another shell started, the status is read from its log ("stopped": 0).
STOP_STATUS=""
stop_instance() {
  local n="$1" pid
  pid="$(instance_pid "$n")"
  STOP_STATUS=0
  [ -n "$pid" ] || return 0
  rm -f "$CLUSTER_DIR/node-$n.pid"
  kill -TERM "$pid" 2>/dev/null || return 0
  for _ in $(seq 1 400); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    kill -KILL "$pid" 2>/dev/null || true
    STOP_STATUS=137
    return 0
  fi
  set +e
  wait "$pid" 2>/dev/null
  STOP_STATUS=$?
  set -e
  if [ "$STOP_STATUS" = 127 ]; then
    if tail -n 3 "$CLUSTER_DIR/node-$n.log" | grep -q 'stopped$'; then STOP_STATUS=0; else STOP_STATUS=unknown; fi
  fi
}

haproxy_running() {
  [ -f "$CLUSTER_DIR/haproxy.pid" ] && kill -0 "$(cat "$CLUSTER_DIR/haproxy.pid")" 2>/dev/null
}

# The settings every instance shares. Instances never migrate on their own here: the
# release job (`latchkey migrate`, in cluster_up) does, once, before they start.
write_config() {
  cat >"$CLUSTER_DIR/latchkey.toml" <<TOML
auto_migrate = false
# Plain HTTP on loopback: no Secure cookies (behind TLS termination, leave the default).
cookie_secure = false
shutdown_grace = "30s"
database_acquire_timeout = "3s"
mail_dir = "$CLUSTER_DIR/mail"
TOML
  chmod 600 "$CLUSTER_DIR/latchkey.toml"
}

write_haproxy_config() {
  local servers="" backups="" n
  for n in "${INSTANCES[@]}"; do
    servers+="    server node-$n 127.0.0.1:$(instance_port "$n") check"$'\n'
    backups+="    server node-$n-degraded 127.0.0.1:$(instance_port "$n") backup"$'\n'
  done
  cat >"$CLUSTER_DIR/haproxy.cfg" <<CFG
# Generated by deploy/cluster/lib.sh; deploy/cluster/README.md says why each line is here.
global
    pidfile $CLUSTER_DIR/haproxy.pid
    stats socket $CLUSTER_DIR/haproxy.sock mode 600 level admin

defaults
    mode http
    timeout connect 2s
    timeout client 60s
    timeout server 60s
    timeout queue 10s
    timeout check 2s
    # A refused connection (an instance that has stopped listening), or one closed
    # before any answer (an idle kept-alive connection the instance closed as it
    # stopped), is tried again on another instance: the request reached no application,
    # so the retry cannot repeat it.
    retries 3
    option redispatch 1
    retry-on conn-failure empty-response
    default-server inter 1s fall 1 rise 2

frontend latchkey
    bind 127.0.0.1:$CLUSTER_PORT
    default_backend instances

backend instances
    balance roundrobin
    # Ready instances take the traffic; /ready is 503 while an instance is stopping or
    # while its database does not answer.
    option httpchk GET /ready
    http-check expect status 200
    # When no instance is ready (the database is down) the same processes, unchecked,
    # still answer: GraphQL's SERVICE_UNAVAILABLE, and what needs no database, rather
    # than HAProxy's own page. A stopped one refuses, and the retry goes elsewhere.
    option allbackups
$servers$backups
listen stats
    bind 127.0.0.1:$(( CLUSTER_PORT + 9 ))
    stats enable
    stats uri /
    stats refresh 2s
CFG
}

# cluster_up: PostgreSQL, a fresh database, migrations (once, as a release job would),
# three instances, HAProxy. Idempotent only after cluster_down.
cluster_up() {
  command -v haproxy >/dev/null || {
    say "installing Debian's haproxy"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q haproxy >/dev/null 2>&1 || {
      apt-get update -q >/dev/null
      DEBIAN_FRONTEND=noninteractive apt-get install -y -q haproxy >/dev/null
    }
  }
  if [ ! -x "$LATCHKEY_BIN" ]; then
    say "no $LATCHKEY_BIN: building it"
    (cd "$ROOT" && cargo build --release --locked --bin latchkey)
  fi
  mkdir -p "$CLUSTER_DIR"
  chmod 700 "$CLUSTER_DIR"
  ensure_postgres
  local db="${CLUSTER_DB:-latchkey_cluster_$(date +%s)_$$}"
  psql_admin -c "CREATE DATABASE \"$db\""
  echo "$db" >"$CLUSTER_DIR/database_name"
  echo "postgres://$PG_USER@$PG_HOST:$PG_PORT/$db" >"$CLUSTER_DIR/database_url"
  write_config
  say "migrating $db (latchkey migrate, the release job)"
  (cd "$CLUSTER_DIR" && DATABASE_URL="$(database_url)" LATCHKEY_CONFIG="$CLUSTER_DIR/latchkey.toml" \
    "$LATCHKEY_BIN" migrate >>"$CLUSTER_DIR/migrate.log" 2>&1) \
    || { cat "$CLUSTER_DIR/migrate.log" >&2; die "migrations failed"; }
  # The first instance creates the first signing key; the others then find it.
  start_instance 1
  wait_ready 1 30 || return 1
  for n in "${INSTANCES[@]:1}"; do start_instance "$n"; done
  for n in "${INSTANCES[@]:1}"; do wait_ready "$n" 30 || return 1; done
  write_haproxy_config
  haproxy -c -q -f "$CLUSTER_DIR/haproxy.cfg" || die "haproxy refuses its configuration"
  haproxy -D -f "$CLUSTER_DIR/haproxy.cfg"
  # Every instance checked healthy (rise 2 at 1 s) before the cluster is called up.
  local up=""
  for _ in $(seq 1 100); do
    up="$(haproxy_up_count)"
    [ "$up" = "${#INSTANCES[@]}" ] && break
    sleep 0.1
  done
  [ "$up" = "${#INSTANCES[@]}" ] || die "HAProxy sees $up of ${#INSTANCES[@]} instances up"
  say "up: $FRONT -> nodes on ports $(instance_port 1)-$(instance_port "${#INSTANCES[@]}"), stats on http://127.0.0.1:$(( CLUSTER_PORT + 9 ))/, database $db"
}

# How many primary servers HAProxy has marked UP (from its admin socket).
haproxy_up_count() {
  python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.sendall(b"show stat\n")
data = b""
while chunk := s.recv(65536): data += chunk
rows = [r.split(",") for r in data.decode().splitlines() if r and not r.startswith("#")]
print(sum(1 for r in rows if r[0] == "instances" and r[1].startswith("node-") and not r[1].endswith("-degraded") and r[17] == "UP"))
' "$CLUSTER_DIR/haproxy.sock" 2>/dev/null || echo 0
}

# cluster_down: HAProxy, the instances (gracefully), and the database.
cluster_down() {
  local n
  if haproxy_running; then kill "$(cat "$CLUSTER_DIR/haproxy.pid")" 2>/dev/null || true; fi
  rm -f "$CLUSTER_DIR/haproxy.pid"
  for n in "${INSTANCES[@]}"; do
    if [ -n "$(instance_pid "$n")" ]; then
      stop_instance "$n"
      say "node-$n stopped with status $STOP_STATUS"
    fi
  done
  if [ -f "$CLUSTER_DIR/database_name" ] && [ -z "${CLUSTER_KEEP_DB:-}" ]; then
    psql_admin -c "DROP DATABASE IF EXISTS \"$(cat "$CLUSTER_DIR/database_name")\" WITH (FORCE)" >/dev/null 2>&1 || true
    rm -f "$CLUSTER_DIR/database_name" "$CLUSTER_DIR/database_url"
  fi
}
