# Shared by bench/run.sh and bench/profile.sh (sourced, not run): setting up a server
# on a random loopback port in a scratch directory, and tearing it down on exit.
# Expects ROOT (the repository) to be set by the script that sources it.

# need COMMAND: installs Debian's package of that name if the command is missing.
need() {
  command -v "$1" >/dev/null && return 0
  echo "bench: installing $1 (Debian package)" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$1" >/dev/null
}

# build PROFILE: builds latchkey with that cargo profile; sets BIN to the binary.
build() {
  (cd "$ROOT" && cargo build --profile "$1" --locked -q)
  # Cargo keeps the `dev` profile's build in target/debug.
  local dir="$1"; [ "$1" = dev ] && dir=debug
  BIN="$ROOT/target/$dir/latchkey"
}

# A scratch directory and a free port; the server, and anything else whose pid is in
# BACKGROUND_PIDS, is stopped and the directory removed on exit.
WORK="$(mktemp -d)"
SERVER_PID=""
BACKGROUND_PIDS=()
cleanup() {
  for pid in "${BACKGROUND_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
URL="http://127.0.0.1:$PORT"

# wait_healthy SECONDS: waits until the server answers /health, failing after SECONDS.
wait_healthy() {
  local tries=$(( $1 * 10 ))
  for _ in $(seq 1 "$tries"); do
    curl -fs "$URL/health" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "bench: the server did not start; its log:" >&2
  cat "$WORK/server.log" >&2
  return 1
}
