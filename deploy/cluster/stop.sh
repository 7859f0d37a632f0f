#!/usr/bin/env bash
# Stops what start.sh started: HAProxy, the instances (SIGTERM: they finish the requests
# in flight), and drops the cluster's database (set CLUSTER_KEEP_DB=1 to keep it).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cluster_down
say "stopped"
