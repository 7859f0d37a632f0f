#!/usr/bin/env bash
# Latchkey benchmark: a release server on a random loopback port with a fresh database,
# driven by wrk (Debian's `wrk` package) with the Lua scenarios in bench/lua.
#
#   bench/run.sh [--duration 15s] [--connections 16] [--database-url postgres://...]
#                [--cargo-profile release] [--only REGEX] [--session-cache on|off]
#
# --cargo-profile profiling runs the build that perf and callgrind can read
# (bench/profile.sh); --only runs just the scenarios whose names match REGEX;
# --session-cache off starts the server with LATCHKEY_SESSION_CACHE_SIZE=0, so every
# token check reads the database (default: on, with the server's default size, or
# whatever LATCHKEY_SESSION_CACHE_SIZE / _TTL the environment sets).
#
# Prints one Markdown table: requests/s, p50, p99, errors and the server's peak RSS for
# each scenario, then the argon2 limit for login. wrk's latencies are per request from
# send to response on a connection, so they include the server's queueing; with the
# load generator on the same machine, the two share the cores (numbers are for
# comparison on one machine, not absolute).
set -euo pipefail

DURATION=15s
CONNECTIONS=16
LOGIN_CONNECTIONS=8
DATABASE_URL_ARG=""
CARGO_PROFILE=release
ONLY=""
SESSION_CACHE=on
while [ $# -gt 0 ]; do
  case "$1" in
    --duration) DURATION="$2"; shift 2 ;;
    --connections) CONNECTIONS="$2"; shift 2 ;;
    --database-url) DATABASE_URL_ARG="$2"; shift 2 ;;
    --cargo-profile) CARGO_PROFILE="$2"; shift 2 ;;
    --only) ONLY="$2"; shift 2 ;;
    --session-cache) SESSION_CACHE="$2"; shift 2 ;;
    -h|--help) sed -n '2,19p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
LUA="$ROOT/bench/lua"
# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"
need wrk
build "$CARGO_PROFILE"

DB="${DATABASE_URL_ARG:-sqlite://$WORK/bench.db?mode=rwc}"
DB_KIND="SQLite"; case "$DB" in postgres*) DB_KIND="PostgreSQL" ;; esac
case "$SESSION_CACHE" in
  on) DB_KIND="$DB_KIND, session cache on (size ${LATCHKEY_SESSION_CACHE_SIZE:-default}, ttl ${LATCHKEY_SESSION_CACHE_TTL:-default})" ;;
  off) export LATCHKEY_SESSION_CACHE_SIZE=0; DB_KIND="$DB_KIND, session cache off" ;;
  *) echo "--session-cache takes on or off" >&2; exit 2 ;;
esac

cd "$WORK"
# All load comes from one address: lift the per-address budgets (they guard against
# guessing, which this is not), or seeding and logins would be throttled after 30.
LATCHKEY_BIND="127.0.0.1:$PORT" DATABASE_URL="$DB" LATCHKEY_IP_FAILURES_PER_MINUTE=100000000 \
  "$BIN" serve >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
wait_healthy 10

gql() { # gql QUERY [extra curl args...]: POST a GraphQL body, print the answer
  local body="$1"; shift
  curl -fs "$URL/graphql" -H 'content-type: application/json' -d "$body" "$@"
}
field() { python3 -c "import sys,json; d=json.load(sys.stdin); print(d$1)"; }

# Seed accounts (one hash each), two at a time.
PASSWORD="bench passphrase 42"
SEED_USERS=64
seq 1 "$SEED_USERS" | sed 's/^/bench_user_/' >"$WORK/users.txt"
xargs -P 2 -I{} curl -fs "$URL/graphql" -H 'content-type: application/json' \
  -d "{\"query\":\"mutation(\$u:String!,\$p:String!){ register(input:{username:\$u,password:\$p}){ id } }\",\"variables\":{\"u\":\"{}\",\"p\":\"$PASSWORD\"}}" \
  -o /dev/null <"$WORK/users.txt"

login_json() { # login_json USER MODE: the AuthPayload as JSON
  gql "{\"query\":\"mutation(\$u:String!,\$p:String!){ login(input:{username:\$u,password:\$p,mode:$2}){ accessToken refreshToken } }\",\"variables\":{\"u\":\"$1\",\"p\":\"$PASSWORD\"}}"
}
ACCESS="$(login_json bench_user_1 JSON | field '["data"]["login"]["accessToken"]')"
PERSONAL="$(gql '{"query":"mutation { addAuthHeader(name: \"bench\") { token } }"}' \
  -H "authorization: Bearer $ACCESS" | field '["data"]["addAuthHeader"]["token"]')"
COOKIE="$(curl -fs -D - -o /dev/null "$URL/graphql" -H 'content-type: application/json' \
  -d "{\"query\":\"mutation(\$u:String!,\$p:String!){ login(input:{username:\$u,password:\$p,mode:SESSION}){ expiresAt } }\",\"variables\":{\"u\":\"bench_user_2\",\"p\":\"$PASSWORD\"}}" \
  | tr -d '\r' | sed -n 's/^set-cookie: \([^;]*latchkey_access=[^;]*\);.*/\1/Ip')"
# One refresh token per connection, and a few spare: wrk builds a request or two before
# the first is sent and throws them away, which costs their tokens.
REFRESH_TOKENS=$(( CONNECTIONS + 4 ))
: >"$WORK/refresh.txt"
for i in $(seq 1 "$REFRESH_TOKENS"); do
  login_json "bench_user_$(( (i % SEED_USERS) + 1 ))" JSON | field '["data"]["login"]["refreshToken"]' >>"$WORK/refresh.txt"
done

# Peak resident memory of the server while a scenario runs.
sample_rss() {
  local peak=0 kib
  while kill -0 "$SERVER_PID" 2>/dev/null; do
    kib="$(awk '/^VmRSS:/ {print $2}' "/proc/$SERVER_PID/status" 2>/dev/null || echo 0)"
    [ "${kib:-0}" -gt "$peak" ] && peak="$kib" && echo "$peak" >"$WORK/rss"
    sleep 0.1
  done
}
SAMPLER_PID=""
start_rss() { echo 0 >"$WORK/rss"; sample_rss & SAMPLER_PID=$!; BACKGROUND_PIDS+=("$SAMPLER_PID"); }
stop_rss() { kill "$SAMPLER_PID" 2>/dev/null || true; wait "$SAMPLER_PID" 2>/dev/null || true; SAMPLER_PID=""; cat "$WORK/rss"; }

# run_wrk NAME SCRIPT CONNECTIONS [ENV=VALUE ...]: one scenario, one JSON result line
run_wrk() {
  local name="$1" script="$2" connections="$3"; shift 3
  env LK_LUA_DIR="$LUA" "$@" wrk -t1 -c"$connections" -d"$DURATION" --timeout 30s \
    -s "$LUA/$script" "$URL/graphql" | tail -n 1 >"$WORK/$name.json"
}

RESULTS=()
selected() { [ -z "$ONLY" ] || [[ "$1" =~ $ONLY ]]; }
measure() { # measure NAME SCRIPT CONNECTIONS [ENV...]
  local name="$1"
  selected "$name" || return 0
  start_rss
  run_wrk "$@"
  local rss; rss="$(stop_rss)"
  RESULTS+=("$name|$(cat "$WORK/$name.json")|$rss")
}

measure "{ __typename } (no auth)" query.lua "$CONNECTIONS" LK_QUERY='{ __typename }'
measure "me, access token in header" query.lua "$CONNECTIONS" LK_AUTH="Bearer $ACCESS"
measure "me, personal lk_ token" query.lua "$CONNECTIONS" LK_AUTH="Bearer $PERSONAL"
measure "me, access token in cookie" query.lua "$CONNECTIONS" LK_COOKIE="$COOKIE"
measure "refresh (rotation)" refresh.lua "$CONNECTIONS" LK_TOKENS="$WORK/refresh.txt" LK_PER_THREAD="$REFRESH_TOKENS"
# One hash at a time on an otherwise idle machine, just before and just after the login
# scenario: the limit is computed from the mean of the two medians. On a shared virtual
# machine the speed of a hash drifts by 10-20% from one minute to the next; timing it on
# both sides of the scenario keeps that drift out of the login/limit ratio.
hash_timing() { DATABASE_URL="$DB" "$BIN" hash-timing --count 30 2>/dev/null; }
HASH_BEFORE="$(hash_timing)"
# The machine's CPU time while logins run, from /proc/stat (proc(5)): on a virtual
# machine `steal` is time the vCPUs wanted and the hypervisor gave to someone else,
# which no hash can use and which the idle-machine hash timing mostly does not see.
CPU_BEFORE="$(head -n 1 /proc/stat)"
measure "login" login.lua "$LOGIN_CONNECTIONS" LK_USERS="$WORK/users.txt" LK_PASSWORD="$PASSWORD"
CPU_AFTER="$(head -n 1 /proc/stat)"
HASH_AFTER="$(hash_timing)"
# `me` while logins saturate the hashing pool from other connections.
if selected "me while logins saturate hashing"; then
  start_rss
  run_wrk "flood" login.lua "$LOGIN_CONNECTIONS" LK_USERS="$WORK/users.txt" LK_PASSWORD="$PASSWORD" &
  FLOOD=$!
  sleep 1
  run_wrk "me_under_flood" query.lua "$CONNECTIONS" LK_AUTH="Bearer $ACCESS"
  wait "$FLOOD"
  RESULTS+=("me while logins saturate hashing|$(cat "$WORK/me_under_flood.json")|$(stop_rss)")
fi

# `me` while other connections send hostile documents: the most expensive ones still
# admitted (the standard introspection query with every option, and 250 fields), and
# ones refused before any work (a fragment bomb of 2^40 fields, a fragment cycle).
if selected "me while hostile documents run"; then
  python3 - "$WORK" "$ROOT/tests/api/introspection/graphql-js-16-all-options.graphql" <<'PY'
import json, sys
work, introspection = sys.argv[1], open(sys.argv[2]).read()
bomb = "{ ...F40 } fragment F0 on Query { __typename }" + "".join(
    f" fragment F{n} on Query {{ ...F{n - 1} ...F{n - 1} }}" for n in range(1, 41))
bodies = {
    "admitted-introspection": introspection,
    # 250 fields, 128 of them aliased: at both limits.
    "admitted-wide": "{ " + " ".join(f"a{i}: __typename" for i in range(128)) + " __typename" * 122 + " }",
    "refused-bomb": bomb,
    "refused-cycle": "{ ...A } fragment A on Query { __typename ...B } fragment B on Query { ...A ...A }",
}
for name, query in bodies.items():
    with open(f"{work}/{name}.json", "w") as f:
        json.dump({"query": query}, f)
PY
  start_rss
  ATTACKERS=()
  for body in admitted-introspection admitted-wide refused-bomb refused-cycle; do
    run_wrk "attack-$body" document.lua 2 LK_BODY_FILE="$WORK/$body.json" &
    ATTACKERS+=($!)
  done
  sleep 1
  run_wrk "me_under_attack" query.lua "$CONNECTIONS" LK_AUTH="Bearer $ACCESS"
  wait "${ATTACKERS[@]}"
  RSS_PEAK="$(stop_rss)"
  RESULTS+=("me while hostile documents run|$(cat "$WORK/me_under_attack.json")|$RSS_PEAK")
  for body in admitted-introspection admitted-wide refused-bomb refused-cycle; do
    RESULTS+=("  attacker: $body (2 connections)|$(cat "$WORK/attack-$body.json")|$RSS_PEAK")
  done
fi

median_ms() { echo "$1" | sed -n 's/.*median \([0-9.]*\) ms.*/\1/p'; }
HASH_MS="$(python3 -c "print(($(median_ms "$HASH_BEFORE") + $(median_ms "$HASH_AFTER")) / 2)")"
delivered() { echo "$1" | sed -n 's/.*deliver \([0-9.]*\) hashes.*/\1/p'; }
THREADS_RATE="$(python3 -c "print(($(delivered "$HASH_BEFORE") + $(delivered "$HASH_AFTER")) / 2)")"
HASH_LINES="$(echo "$HASH_BEFORE" | sed 's/^/before login: /'; echo "$HASH_AFTER" | sed 's/^/after login: /')"
CORES="$(nproc)"

python3 - "$DB_KIND" "$CORES" "$HASH_MS" "$THREADS_RATE" "$HASH_LINES" "$CPU_BEFORE" "$CPU_AFTER" "${RESULTS[@]}" <<'EOF'
import json, sys
db, cores, hash_ms, threads_rate, hash_lines, cpu_before, cpu_after, rows = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]), sys.argv[5], sys.argv[6], sys.argv[7], sys.argv[8:]
print(f"\n{db}, {cores} cores, wrk -t1, {rows and ''}duration per scenario as given\n")
print("| scenario | requests/s | p50 ms | p99 ms | errors | server RSS peak MiB |")
print("| --- | ---: | ---: | ---: | ---: | ---: |")
login_rps = None
for row in rows:
    name, result, rss = row.split("|")
    r = json.loads(result)
    rps = r["requests"] / r["seconds"]
    if name == "login":
        login_rps = rps
    print(f"| {name} | {rps:,.0f} | {r['p50_us']/1000:.2f} | {r['p99_us']/1000:.2f} | {r['errors']} | {int(rss)/1024:.1f} |")
limit = cores * 1000.0 / hash_ms
print(f"\nargon2 limit: {cores} cores / {hash_ms:.2f} ms per hash (mean of the medians before and after login) = {limit:.1f} logins/s")
for line in hash_lines.splitlines():
    print(f"  latchkey hash-timing: {line}")
if login_rps is not None:
    print(f"login throughput: {login_rps:.1f}/s = {100 * login_rps / limit:.0f}% of the limit")
    # How much of what the hardware delivers when every core hashes the server turns
    # into logins: the server's own overhead, apart from how well the cores share memory.
    print(f"  = {100 * login_rps / threads_rate:.0f}% of the {threads_rate:.1f} hashes/s the hashing threads alone deliver")
    # cpu user nice system idle iowait irq softirq steal ... (clock ticks since boot)
    spent = [b - a for a, b in zip(map(int, cpu_before.split()[1:9]), map(int, cpu_after.split()[1:9]))]
    if sum(spent) > 0:
        steal, idle = spent[7] / sum(spent), (spent[3] + spent[4]) / sum(spent)
        print(f"while logins ran: {100 * steal:.1f}% of the CPU time went to the hypervisor (steal), {100 * idle:.1f}% idle;")
        print(f"  against the CPU time this machine got, login is {100 * login_rps / (limit * (1 - steal)):.0f}% of the limit")
EOF
