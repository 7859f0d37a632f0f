#!/usr/bin/env bash
# Starts a Latchkey cluster on this machine: the local PostgreSQL, a fresh database,
# three instances on loopback ports and HAProxy in front. README.md is the guide;
# stop.sh takes it all down again.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
if haproxy_running || [ -n "$(instance_pid 1)" ]; then
  die "already running (state in $CLUSTER_DIR): run stop.sh first"
fi
cluster_up
