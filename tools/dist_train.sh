#!/usr/bin/env bash
# Usage: tools/dist_train.sh CONFIG NUM_PROCS [train.py options]
# On a CPU-only machine the processes communicate with gloo (CheckedRunner
# switches the backend), so this also runs multi-process training on CPU.
# NNODES, NODE_RANK, MASTER_ADDR, PORT, PYTHON: see tools/dist_launch.sh.
set -euo pipefail
exec bash "$(dirname "$0")/dist_launch.sh" train.py "$2" "$1" \
  --launcher pytorch "${@:3}"
