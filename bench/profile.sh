#!/usr/bin/env bash
# What one request costs, by function: the server (cargo profile `profiling`: release
# with line tables) runs under valgrind's callgrind on a fresh SQLite database, takes
# WARMUP requests unmeasured, then REQUESTS measured ones, one at a time, for each query.
#
#   bench/profile.sh [--requests 200] [--warmup 50] [--top 25] [--only REGEX]
#
# Prints, per query, the instructions per request and the functions (inclusive, that is
# with what they call) that take the largest share of them; `--only` profiles just the
# queries whose names (typename, me, me_personal_token, login) match REGEX. Instruction
# counts are exact and repeatable, unlike timings on a shared machine; the files stay in
# bench/out/ for `callgrind_annotate` or KCachegrind.
set -euo pipefail

REQUESTS=200
WARMUP=50
TOP=25
ONLY=""
while [ $# -gt 0 ]; do
  case "$1" in
    --requests) REQUESTS="$2"; shift 2 ;;
    --warmup) WARMUP="$2"; shift 2 ;;
    --top) TOP="$2"; shift 2 ;;
    --only) ONLY="$2"; shift 2 ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
OUT="$ROOT/bench/out"
# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"
need valgrind
build profiling
mkdir -p "$OUT"

rm -f "$OUT"/callgrind.*
cd "$WORK"
# Cheap hashing: seeding is not what is measured, and argon2 under valgrind takes minutes.
LATCHKEY_BIND="127.0.0.1:$PORT" DATABASE_URL="sqlite://$WORK/profile.db?mode=rwc" \
  LATCHKEY_HASH_MEMORY_KIB=1024 LATCHKEY_HASH_ITERATIONS=1 \
  valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$OUT/callgrind.%p" \
  "$BIN" serve >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
wait_healthy 120

gql() { curl -fs "$URL/graphql" -H 'content-type: application/json' "$@"; }
USER_VARS='"variables":{"u":"profile_user","p":"profile passphrase 42"}'
gql -o /dev/null -d "{\"query\":\"mutation(\$u:String!,\$p:String!){ register(input:{username:\$u,password:\$p}){ id } }\",$USER_VARS}"
ACCESS="$(gql -d "{\"query\":\"mutation(\$u:String!,\$p:String!){ login(input:{username:\$u,password:\$p}){ accessToken } }\",$USER_VARS}" \
  | python3 -c 'import sys,json; print(json.load(sys.stdin)["data"]["login"]["accessToken"])')"

# send N BODY [curl args...]: N requests over one keep-alive connection, as a client would.
send() {
  local n="$1" body="$2"; shift 2
  local args=()
  for _ in $(seq 1 "$n"); do args+=(--next -s -o /dev/null "$URL/graphql" -H 'content-type: application/json' -d "$body" "$@"); done
  curl "${args[@]:1}"
}

# profile NAME BODY [curl args...]
profile() {
  local name="$1" body="$2"; shift 2
  if [ -n "$ONLY" ] && ! [[ "$name" =~ $ONLY ]]; then return 0; fi
  callgrind_control -i on "$SERVER_PID" >/dev/null 2>&1
  send "$WARMUP" "$body" "$@"
  callgrind_control -z "$SERVER_PID" >/dev/null 2>&1
  send "$REQUESTS" "$body" "$@"
  callgrind_control -d "$name" "$SERVER_PID" >/dev/null 2>&1
  callgrind_control -i off "$SERVER_PID" >/dev/null 2>&1
  local file; file="$(ls -t "$OUT"/callgrind.* | head -n 1)"
  mv "$file" "$OUT/callgrind.$name"
  python3 "$ROOT/bench/callgrind_top.py" "$OUT/callgrind.$name" "$REQUESTS" "$TOP" "$name"
}

PERSONAL="$(gql -H "authorization: Bearer $ACCESS" -d '{"query":"mutation { addAuthHeader(name: \"profile\") { token } }"}' \
  | python3 -c 'import sys,json; print(json.load(sys.stdin)["data"]["addAuthHeader"]["token"])')"

profile typename '{"query":"{ __typename }"}'
profile me '{"query":"{ me { id username } }"}' -H "authorization: Bearer $ACCESS"
profile me_personal_token '{"query":"{ me { id username } }"}' -H "authorization: Bearer $PERSONAL"
# Logins with the cheap hashing above: what a login costs besides the hash.
profile login "{\"query\":\"mutation(\$u:String!,\$p:String!){ login(input:{username:\$u,password:\$p}){ expiresAt } }\",$USER_VARS}"
