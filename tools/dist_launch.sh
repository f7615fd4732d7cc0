#!/usr/bin/env bash
# The torch.distributed.run call shared by dist_train.sh and dist_test.sh:
#   [NNODES=1] [NODE_RANK=0] [MASTER_ADDR=127.0.0.1] [PORT=29500] \
#   tools/dist_launch.sh TOOL NUM_PROCS [TOOL arguments]
# runs tools/TOOL in NUM_PROCS processes per node; PYTHON selects the
# interpreter (default: python).
# The launcher replaces this shell (exec), so a signal sent to the job reaches
# torchrun, which forwards SIGTERM, SIGINT, SIGHUP, SIGQUIT and (set here
# unless TORCHELASTIC_SIGNALS_TO_HANDLE says otherwise) SIGUSR1 to the
# training processes: PreemptionCheckpointHook then writes a checkpoint.
set -euo pipefail
USAGE="usage: $0 TOOL NUM_PROCS [TOOL arguments]"
TOOL=${1:?$USAGE}
NPROC=${2:?$USAGE}
PORT=${PORT:-29500}
PYTHON=${PYTHON:-python}
export TORCHELASTIC_SIGNALS_TO_HANDLE=${TORCHELASTIC_SIGNALS_TO_HANDLE:-SIGTERM,SIGINT,SIGHUP,SIGQUIT,SIGUSR1}
exec "$PYTHON" -m torch.distributed.run --nnodes="${NNODES:-1}" \
  --node_rank="${NODE_RANK:-0}" --master_addr="${MASTER_ADDR:-127.0.0.1}" \
  --nproc_per_node="$NPROC" --master_port="$PORT" \
  "$(dirname "$0")/$TOOL" "${@:3}"
