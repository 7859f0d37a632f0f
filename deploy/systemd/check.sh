#!/usr/bin/env bash
# Checks deploy/systemd/latchkey.service: `systemd-analyze verify` when that tool exists,
# and, only where systemd is the running init (and we are root), starts the unit for
# real on a scratch SQLite database, waits for /ready, checks the hardening took
# effect, and removes it again. Where systemd is not running it says so and exits 0:
# there is nothing to start the unit with, and a faked run would prove nothing.
#
#   deploy/systemd/check.sh [path/to/latchkey]    (default: target/debug/latchkey)
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
bin="${1:-$root/target/debug/latchkey}"
unit="$here/latchkey.service"
port="${LATCHKEY_CHECK_PORT:-18290}"
name="latchkey-check"

scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT

# The unit as shipped, pointed at the binary under test.
sed -e "s|^ExecStart=/usr/local/bin/latchkey |ExecStart=$scratch/latchkey |" "$unit" >"$scratch/$name.service"
[ -x "$bin" ] && cp "$bin" "$scratch/latchkey"

if command -v systemd-analyze >/dev/null 2>&1; then
    if [ -x "$scratch/latchkey" ]; then
        echo "systemd-analyze verify:"
        # `verify` also checks that ExecStart names an executable. It only warns about an
        # unknown or misspelt key (and exits 0), so any output about the unit fails too.
        if ! out="$(systemd-analyze verify "$scratch/$name.service" 2>&1)"; then
            echo "$out" >&2; echo "FAIL: systemd-analyze verify" >&2; exit 1
        fi
        if grep -F "$name.service" <<<"$out" >&2; then
            echo "FAIL: systemd-analyze verify warned about the unit" >&2; exit 1
        fi
        echo "systemd-analyze verify: ok"
    else
        echo "systemd-analyze verify skipped: no binary at $bin (build it first)"
    fi
else
    echo "systemd-analyze not installed: unit file not verified"
fi

if [ ! -d /run/systemd/system ]; then
    echo "systemd is not running on this machine (no /run/systemd/system): the unit was not started"
    exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "systemd is running but this is not root: the unit was not started"
    exit 0
fi
if [ ! -x "$scratch/latchkey" ]; then
    echo "no binary at $bin: build it first" >&2
    exit 1
fi

echo "starting $name.service on 127.0.0.1:$port"
install -d -m 0755 /run/$name
install -m 0755 "$scratch/latchkey" /run/$name/latchkey
printf 'sqlite://latchkey.db?mode=rwc\n' >/run/$name/database_url
chmod 0600 /run/$name/database_url
sed -e "s|^ExecStart=[^ ]* |ExecStart=/run/$name/latchkey |" \
    -e "s|^ExecStart=\(.*\) --config /etc/latchkey/latchkey.toml|ExecStart=\1|" \
    -e "s|^LoadCredential=database_url:.*|LoadCredential=database_url:/run/$name/database_url|" \
    -e "s|^StateDirectory=latchkey|StateDirectory=$name|" \
    -e "s|^WorkingDirectory=%S/latchkey|WorkingDirectory=%S/$name|" \
    -e "s|^ConfigurationDirectory=latchkey|ConfigurationDirectory=$name|" \
    "$unit" >/run/systemd/system/$name.service
mkdir -p /run/systemd/system/$name.service.d
cat >/run/systemd/system/$name.service.d/check.conf <<CONF
[Service]
Environment=LATCHKEY_BIND=127.0.0.1:$port
Environment=LATCHKEY_COOKIE_SECURE=false
CONF
cleanup() {
    systemctl stop "$name.service" >/dev/null 2>&1 || true
    rm -rf "/run/systemd/system/$name.service" "/run/systemd/system/$name.service.d" "/run/$name"
    systemctl daemon-reload || true
    rm -rf "$scratch"
}
trap cleanup EXIT
systemctl daemon-reload
systemctl start "$name.service"

ready=""
for _ in $(seq 1 60); do
    if curl -fsS "http://127.0.0.1:$port/ready" >/dev/null 2>&1; then ready=yes; break; fi
    sleep 0.5
done
if [ -z "$ready" ]; then
    systemctl status "$name.service" --no-pager || true
    journalctl -u "$name.service" --no-pager -n 50 || true
    echo "FAIL: $name.service never became ready" >&2
    exit 1
fi
for property in NoNewPrivileges=yes ProtectSystem=strict ProtectHome=yes PrivateTmp=yes DynamicUser=yes; do
    got="$(systemctl show -p "${property%%=*}" "$name.service")"
    [ "$got" = "$property" ] || { echo "FAIL: expected $property, got $got" >&2; exit 1; }
done
pid="$(systemctl show -p MainPID --value "$name.service")"
grep -q '^NoNewPrivs:[[:space:]]*1' "/proc/$pid/status" || { echo "FAIL: no_new_privs not set" >&2; exit 1; }
systemctl stop "$name.service"
echo "ok: $name.service started, answered /ready with its hardening in place, and stopped"
