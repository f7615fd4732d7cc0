#!/usr/bin/env bash
# Usage: tools/dist_train.sh CONFIG NUM_PROCS [train.py options]
# On a CPU-only machine the processes communicate with gloo (CheckedRunner
# switches the backend), so this also runs multi-process training on CPU.
set -euo pipefail
CONFIG=$1
NPROC=$2
PORT=${PORT:-29500}
PYTHON=${PYTHON:-python}
"$PYTHON" -m torch.distributed.run --nnodes="${NNODES:-1}" \
  --node_rank="${NODE_RANK:-0}" --master_addr="${MASTER_ADDR:-127.0.0.1}" \
  --nproc_per_node="$NPROC" --master_port="$PORT" \
  "$(dirname "$0")/train.py" "$CONFIG" --launcher pytorch "${@:3}"
